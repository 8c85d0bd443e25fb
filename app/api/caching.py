"""Cached JSON reads with validators: ETag, Cache-Control, and 304 for If-None-Match."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import Database
from app.monitoring.metrics import CACHE_REQUESTS
from app.services.cache import Cache

# Bound once: `labels()` takes a lock and a dict lookup on every call.
_CACHE_HIT = CACHE_REQUESTS.labels(result="hit")
_CACHE_MISS = CACHE_REQUESTS.labels(result="miss")


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


async def cached_json(
    request: Request,
    cache: Cache,
    key: str,
    produce: Callable[[], Awaitable[BaseModel]],
) -> Response:
    """The JSON of `produce()`, from the cache when present; 304 when the client has it."""
    body = await cache.get(key) if cache.enabled else None
    if body is None:
        if cache.enabled:
            _CACHE_MISS.inc()
        body = (await produce()).model_dump_json().encode()
        await cache.set(key, body)
        state = "miss"
    else:
        _CACHE_HIT.inc()
        state = "hit"
    etag = etag_of(body)
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={cache.ttl}",
        "X-Cache": state if cache.enabled else "off",
    }
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


async def cached_read(
    request: Request,
    key: str,
    produce: Callable[[AsyncSession], Awaitable[BaseModel]],
) -> Response:
    """`cached_json` for a read that needs the database: a read session is opened only on a
    miss, so a cache hit touches neither the pool nor the dependency machinery."""
    db: Database = request.app.state.db

    async def from_database() -> BaseModel:
        async with db.read_sessions() as session:
            return await produce(session)

    return await cached_json(request, request.app.state.cache, key, from_database)
