"""Health says which store the rate limiter counts in, and warns on its memory fallback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from app.db.migrate import upgrade
from app.main import create_app
from app.security.ratelimit import Limit, RateLimiter
from app.settings import Settings
from tests.support.services import flush_redis, free_port, redis_url

REDIS_DB = 2


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    await upgrade(app.state.parts.settings.database_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def readiness(settings: Settings) -> tuple[int, dict[str, Any]]:
    async with serving(create_app(settings)) as client:
        response = await client.get("/api/v1/health/readiness")
    return response.status_code, response.json()


def rate_limit_entry(body: dict[str, Any]) -> dict[str, Any]:
    (entry,) = body["checks"]["ratelimit:backend"]
    return entry  # type: ignore[no-any-return]


async def test_memory_fallback_warns_and_stays_ready(
    make_settings: Callable[..., Settings],
) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/{REDIS_DB}"
    status, body = await readiness(make_settings(REDIS_URL=closed, HEALTH_MONITOR_INTERVAL=0))
    assert status == 200
    entry = rate_limit_entry(body)
    assert entry["status"] == "warn"
    assert entry["observedValue"] == "memory"
    assert "REDIS_URL is set but limits are counted in process memory" in entry["output"]
    assert body["status"] == "warn"


async def test_memory_without_redis_url_passes(make_settings: Callable[..., Settings]) -> None:
    status, body = await readiness(make_settings(HEALTH_MONITOR_INTERVAL=0))
    assert status == 200
    entry = rate_limit_entry(body)
    assert entry["status"] == "pass"
    assert entry["observedValue"] == "memory"


async def test_redis_passes(make_settings: Callable[..., Settings]) -> None:
    url = redis_url()
    status, body = await readiness(make_settings(REDIS_URL=url, HEALTH_MONITOR_INTERVAL=0))
    flush_redis(url)
    assert status == 200
    entry = rate_limit_entry(body)
    assert entry["status"] == "pass"
    assert entry["observedValue"] == "redis"


async def test_backend_is_redis_while_it_answers_and_fallback_when_it_does_not() -> None:
    from redis.asyncio import Redis

    url = redis_url()
    closed = f"redis://127.0.0.1:{free_port()}/{REDIS_DB}"
    for target, expected in ((url, "redis"), (closed, "memory-fallback")):
        redis = Redis.from_url(target, socket_timeout=0.5, socket_connect_timeout=0.5)
        limiter = RateLimiter(redis, block_seconds=1, prefix="btai:test-health")
        try:
            decision = await limiter.hit("client", Limit(5, 60))
            assert decision.allowed
            where, reason = await limiter.backend()
            assert where == expected
            assert (reason is None) == (expected == "redis")
        finally:
            await redis.aclose()
    flush_redis(url)
