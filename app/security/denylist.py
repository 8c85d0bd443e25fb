"""Revoked token ids (jti): in Redis with a TTL equal to the token's remaining life, so the
list never outgrows the tokens it names; in memory without Redis or while Redis is down."""

from __future__ import annotations

import logging
import math
import time

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger("app.security.denylist")


class Denylist:
    def __init__(self, redis: Redis | None, *, prefix: str = "btai:deny") -> None:
        self.redis = redis
        self.prefix = prefix
        self._memory: dict[str, float] = {}

    async def revoke(self, jti: str, *, expires_at: float) -> None:
        ttl = math.ceil(expires_at - time.time())
        if ttl <= 0:
            return
        self._remember(jti, expires_at)
        if self.redis is not None:
            try:
                await self.redis.set(f"{self.prefix}:{jti}", b"1", ex=ttl)
            except (RedisError, OSError) as exc:
                logger.warning("token denylist kept in memory only: Redis failed: %s", exc)

    async def is_revoked(self, jti: str) -> bool:
        if self._memory.get(jti, 0.0) > time.time():
            return True
        if self.redis is None:
            return False
        try:
            return bool(await self.redis.exists(f"{self.prefix}:{jti}"))
        except (RedisError, OSError) as exc:
            logger.warning("token denylist read from memory only: Redis failed: %s", exc)
            return False

    def _remember(self, jti: str, expires_at: float) -> None:
        now = time.time()
        if len(self._memory) > 10_000:
            self._memory = {k: v for k, v in self._memory.items() if v > now}
        self._memory[jti] = expires_at
