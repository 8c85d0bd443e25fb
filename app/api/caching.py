"""Cached JSON reads with validators: ETag, Cache-Control, and 304 for If-None-Match.

A cached read's hit is answered by its route (`CachedReadRoute`) before FastAPI handles the
request: the key comes straight from the path parameters and the stored bytes go out with
their ETag, so a hit builds no `Request`, solves no dependencies and encodes nothing. Every
other request (a miss, parameters that need FastAPI's validation) runs the endpoint, whose
`cached_read` answers exactly as a hit does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from fastapi import Request, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Receive, Scope, Send

from app.api import LiteralPrefixRoute, header
from app.deps import get_resources, resources_in
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


def _stored(scope: Scope, cache: Cache, key: str, body: bytes, state: str) -> StoredResponse:
    """The answer of `body` as stored under `key`: 304 when the client already has it."""
    entry = _entry(key, body)
    headers = [entry.etag_header, cache.cache_control_header, _STATE_HEADERS[state]]
    if _matches(header(scope, b"if-none-match"), entry.etag):
        return StoredResponse(304, headers, b"")
    headers += (entry.length_header, _JSON)
    return StoredResponse(200, headers, body)


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
    return _stored(request.scope, cache, key, body, state)


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


HitKey = Callable[[int, Mapping[str, Any]], "str | None"]
"""The cache key a cached read uses, from the served season and the request's path
parameters; None when the parameters are not plainly valid (FastAPI then validates them)."""

_HIT_KEY = "cached_read_key"
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def serves_hits(key: HitKey) -> Callable[[Endpoint], Endpoint]:
    """Mark a cached read whose hits its route (`CachedReadRoute`) answers itself, from the
    entry `key(season, path_params)` names: the key the endpoint's `cached_read` uses."""

    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, _HIT_KEY, key)
        return endpoint

    return mark


class CachedReadRoute(LiteralPrefixRoute):
    """A route that answers a hit of its endpoint (marked by `serves_hits`) before FastAPI.

    A GET whose entry this process holds (in memory, or its copy of Redis's) gets the stored
    answer, with the same status, headers and body as the endpoint gives a hit; any other
    request runs the endpoint. The endpoint may take path parameters and the app's resources,
    nothing more: a dependency such as auth would be skipped by a hit, so it is refused.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self.hit_key: HitKey | None = getattr(endpoint, _HIT_KEY, None)
        if self.hit_key is None:
            return
        dependant = self.dependant
        needs = [d.call for d in dependant.dependencies if d.call is not get_resources]
        params = [
            p.name
            for p in (
                *dependant.query_params,
                *dependant.header_params,
                *dependant.cookie_params,
                *dependant.body_params,
            )
        ]
        if needs or params:
            raise TypeError(
                f"{path}: a cached read answered before its dependencies takes path parameters "
                f"and the app's resources only, not {[*needs, *params]}"
            )

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        hit_key = self.hit_key
        if hit_key is not None and scope["method"] == "GET":
            resources = resources_in(scope)
            key = hit_key(resources.settings.DATA_SEASON, scope["path_params"])
            body = None if key is None else resources.cache.held(key)
            if body is not None:
                assert key is not None
                _CACHE_HIT.inc()
                await _stored(scope, resources.cache, key, body, "hit")(scope, receive, send)
                return
        await super().handle(scope, receive, send)
