"""Cached JSON reads with validators: ETag, Cache-Control, and 304 for If-None-Match."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.api import header
from app.monitoring.metrics import CACHE_REQUESTS
from app.resources import Resources
from app.services.cache import Cache

# Bound once: `labels()` takes a lock and a dict lookup on every call.
_CACHE_HIT = CACHE_REQUESTS.labels(result="hit")
_CACHE_MISS = CACHE_REQUESTS.labels(result="miss")


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def _matches(if_none_match: bytes | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.decode("latin-1").split(",")}
    return "*" in tags or etag in tags


class StoredResponse(Response):
    """A response sent as built when its entry was stored: no rendering, no header encoding."""

    def __init__(self, status_code: int, raw_headers: list[tuple[bytes, bytes]], body: bytes):
        self.status_code = status_code
        self.background = None
        self.body = body
        self.raw_headers = raw_headers


class _Entry:
    """A cached body with what every response of it repeats, encoded once."""

    __slots__ = ("body", "etag", "etag_header", "length_header")

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.etag = etag_of(body)
        self.etag_header = (b"etag", self.etag.encode())
        self.length_header = (b"content-length", str(len(body)).encode())


# Entries by cache key. A hit hands back the very bytes object that was stored, so an entry
# whose `body` is that object is current; anything else (a miss, a copy fetched again from
# Redis) is encoded anew. Bounded: cleared when it outgrows the keys worth remembering.
_entries: dict[str, _Entry] = {}
_MAX_ENTRIES = 4096
_STATE_HEADERS = {state: (b"x-cache", state.encode()) for state in ("hit", "miss", "off")}
_JSON = (b"content-type", b"application/json")


def _entry(key: str, body: bytes) -> _Entry:
    entry = _entries.get(key)
    if entry is None or entry.body is not body:
        if len(_entries) >= _MAX_ENTRIES:
            _entries.clear()
        entry = _entries[key] = _Entry(body)
    return entry


async def cached_json(
    request: Request,
    cache: Cache,
    key: str,
    produce: Callable[[], Awaitable[BaseModel]],
) -> Response:
    """The JSON of `produce()`, from the cache when present; 304 when the client has it.

    A hit serves the stored bytes with their ETag, both as they were first encoded."""
    body = await cache.get(key) if cache.enabled else None
    if body is None:
        if cache.enabled:
            _CACHE_MISS.inc()
        body = (await produce()).model_dump_json().encode()
        await cache.set(key, body)
        state = "miss" if cache.enabled else "off"
    else:
        _CACHE_HIT.inc()
        state = "hit"
    entry = _entry(key, body)
    headers = [entry.etag_header, cache.cache_control_header, _STATE_HEADERS[state]]
    if _matches(header(request.scope, b"if-none-match"), entry.etag):
        return StoredResponse(304, headers, b"")
    headers += (entry.length_header, _JSON)
    return StoredResponse(200, headers, body)


async def cached_read(
    request: Request,
    resources: Resources,
    key: str,
    produce: Callable[[AsyncSession], Awaitable[BaseModel]],
) -> Response:
    """`cached_json` for a read that needs the database: a read session is opened only on a
    miss, so a cache hit touches neither the pool nor the dependency machinery."""
    db = resources.db

    async def from_database() -> BaseModel:
        async with db.read_sessions() as session:
            return await produce(session)

    return await cached_json(request, resources.cache, key, from_database)
