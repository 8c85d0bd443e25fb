"""The read cache: Redis when REDIS_URL is set (shared by every worker and replica), else an
in-process TTL-LRU.

With Redis, each process also keeps what it read in its TTL-LRU for a few seconds
(LOCAL_TTL), so a hot key costs one Redis round trip per process every few seconds, not one
per request; the data served is read-only, so a copy that lives seconds longer is harmless.

When Redis stops answering the cache falls back to memory, logs that once, reports itself
degraded, and tries Redis again after a cool-down, so a dead Redis costs a request at most
one short timeout per cool-down instead of one per request.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from app.settings import Settings, mask_url

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger("app.services.cache")

KEY_PREFIX = "btai:cache:v1:"
REDIS_TIMEOUT = 0.25  # seconds; a cache slower than this is worse than no cache
RETRY_AFTER = 10.0  # seconds before a failed Redis is tried again
LOCAL_TTL = 5.0  # seconds a process keeps its own copy of a Redis entry
REDIS_MAX_CONNECTIONS = 64  # per process; callers wait (up to REDIS_TIMEOUT) for one


class MemoryCache:
    """A TTL-LRU of bytes; the least recently used entry goes first when full."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def get(self, key: str) -> bytes | None:
        item = self._items.get(key)
        if item is None:
            return None
        expires, value = item
        if expires <= time.monotonic():
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return value

    def set(self, key: str, value: bytes, ttl: float) -> None:
        self._items[key] = (time.monotonic() + ttl, value)
        self._items.move_to_end(key)
        while len(self._items) > self.max_entries:
            self._items.popitem(last=False)

    def delete(self, key: str) -> None:
        self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


class Cache:
    """get/set of bytes with a TTL; Redis first when configured, memory otherwise."""

    def __init__(self, settings: Settings, redis: Redis | None = None) -> None:
        self.enabled = settings.ENABLE_CACHING
        self.ttl = settings.CACHE_TTL
        # what every cached response says about its freshness, encoded once
        self.cache_control_header = (b"cache-control", f"public, max-age={self.ttl}".encode())
        self.memory = MemoryCache(settings.CACHE_MAX_ENTRIES)
        self.redis = redis
        self.redis_url = mask_url(settings.redis_url) if settings.redis_url else None
        self._down_since: float | None = None
        self._last_error: str | None = None
        self._warned = False

    @property
    def backend(self) -> str:
        return "redis" if self.redis is not None else "memory"

    @property
    def degraded(self) -> bool:
        """Redis is configured but not answering, so reads come from this process only."""
        return self.redis is not None and self._down_since is not None

    def _redis_usable(self) -> bool:
        if self.redis is None:
            return False
        if self._down_since is None:
            return True
        return time.monotonic() - self._down_since >= RETRY_AFTER

    def _redis_failed(self, exc: Exception) -> None:
        self._down_since = time.monotonic()
        self._last_error = f"{type(exc).__name__}: {exc}"
        if not self._warned:
            self._warned = True
            logger.warning(
                "cache degraded: Redis at %s is unreachable (%s); using in-process memory",
                self.redis_url,
                self._last_error,
            )

    def _redis_ok(self) -> None:
        if self._down_since is not None:
            logger.info("cache recovered: Redis at %s answers again", self.redis_url)
            self._warned = False
        self._down_since = None

    def held(self, key: str) -> bytes | None:
        """The entry this process holds (its copy of a Redis entry included), without asking
        Redis; None when caching is off. `get` looks here first."""
        return self.memory.get(key) if self.enabled else None

    async def get(self, key: str) -> bytes | None:
        if not self.enabled:
            return None
        local = self.memory.get(key)
        if local is not None:
            return local
        if self._redis_usable():
            assert self.redis is not None
            try:
                value = await self.redis.get(KEY_PREFIX + key)
            except Exception as exc:
                self._redis_failed(exc)
            else:
                self._redis_ok()
                if value is None:
                    return None
                data = value.encode() if isinstance(value, str) else value
                self.memory.set(key, data, min(LOCAL_TTL, self.ttl))
                return data
        return None

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        if not self.enabled:
            return
        seconds = ttl or self.ttl
        if self._redis_usable():
            assert self.redis is not None
            try:
                await self.redis.set(KEY_PREFIX + key, value, px=int(seconds * 1000))
            except Exception as exc:
                self._redis_failed(exc)
            else:
                self._redis_ok()
                self.memory.set(key, value, min(LOCAL_TTL, seconds))
                return
        self.memory.set(key, value, seconds)

    async def clear(self) -> None:
        """Drop every entry this service cached (its key prefix only, never the whole DB)."""
        self.memory.clear()
        if self._redis_usable():
            assert self.redis is not None
            try:
                async for key in self.redis.scan_iter(match=KEY_PREFIX + "*", count=500):
                    await self.redis.delete(key)
            except Exception as exc:
                self._redis_failed(exc)

    async def ping(self) -> bool:
        """Check Redis now (for health checks); True when it answers or none is configured."""
        if self.redis is None:
            return True
        try:
            await self.redis.ping()
        except Exception as exc:
            self._redis_failed(exc)
            return False
        self._redis_ok()
        return True

    def status(self) -> dict[str, Any]:
        """The health view: `pass`, or `warn` with `degraded: true` when Redis is down."""
        return {
            "status": "warn" if self.degraded else "pass",
            "enabled": self.enabled,
            "backend": "memory (Redis unreachable)" if self.degraded else self.backend,
            "degraded": self.degraded,
            "redis_url": self.redis_url,
            "memory_entries": len(self.memory),
            "last_error": self._last_error if self.degraded else None,
        }

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose(close_connection_pool=True)

    @classmethod
    @asynccontextmanager
    async def open(cls, settings: Settings) -> AsyncIterator[Cache]:
        """The app's cache for its lifespan; checks Redis once at start."""
        redis = None
        if settings.redis_url:
            from redis.asyncio import BlockingConnectionPool, Redis

            pool = BlockingConnectionPool.from_url(
                settings.redis_url,
                max_connections=REDIS_MAX_CONNECTIONS,
                timeout=REDIS_TIMEOUT,
                socket_connect_timeout=REDIS_TIMEOUT,
                socket_timeout=REDIS_TIMEOUT,
            )
            redis = Redis(connection_pool=pool)
        cache = cls(settings, redis)
        await cache.ping()
        try:
            yield cache
        finally:
            await cache.close()
