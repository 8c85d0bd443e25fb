"""GCRA limits and growing blocks, in memory and in real Redis (DB 2), and the middleware on
the full app: per IP, per user, per route, with RateLimit headers and 429 problem+json."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from pydantic import ValidationError
from redis.asyncio import Redis

from app.security.ratelimit import LEASE_MAX, Limit, RateLimiter, parse_route_limits
from app.settings import Settings
from tests.support.metrics import sample
from tests.support.security import (  # noqa: F401  (fixtures)
    bearer,
    fixture_migrated_sqlite_template,
    fixture_migrated_sqlite_url,
    running_app,
)
from tests.support.services import flush_redis, redis_url


@pytest.fixture(params=["memory", "redis"])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    if request.param == "memory":
        yield RateLimiter(None, block_seconds=60)
        return
    url = redis_url()
    flush_redis(url)
    client = Redis.from_url(url)
    try:
        yield RateLimiter(client, block_seconds=60)
    finally:
        await client.aclose()


async def test_exactly_capacity_passes_then_429_with_retry_after(limiter: RateLimiter) -> None:
    limit = Limit(requests=5, window=60, burst=2)
    decisions = [await limiter.hit("ip:1", limit) for _ in range(10)]
    allowed = [d for d in decisions if d.allowed]
    assert len(allowed) == 7
    assert [d.remaining for d in allowed] == [6, 5, 4, 3, 2, 1, 0]
    refused = decisions[7]
    assert not refused.allowed
    assert 11 <= refused.retry_after <= 12  # one emission interval: 60 s / 5
    assert refused.headers(limit.policy())["Retry-After"] == "12"
    # Another key is untouched.
    assert (await limiter.hit("ip:2", limit)).allowed


async def test_a_client_that_keeps_hitting_the_limit_is_blocked_longer_each_time(
    limiter: RateLimiter,
) -> None:
    limit = Limit(requests=2, window=1)
    first_block = None
    for _ in range(6):
        decision = await limiter.hit("ip:9", limit)
        if decision.newly_blocked:
            first_block = decision
            break
    assert first_block is not None
    assert first_block.blocked
    assert 59 <= first_block.retry_after <= 60
    # Still blocked although the 1-second window has long refilled.
    await asyncio.sleep(1.1)
    assert (await limiter.hit("ip:9", limit)).blocked
    # A second offence doubles the block.
    if limiter.redis is not None:
        await limiter.redis.hdel(f"{limiter.prefix}:ip:9", "block")
    else:
        limiter.memory._blocks.clear()
    second = None
    for _ in range(6):
        decision = await limiter.hit("ip:9", limit)
        if decision.newly_blocked:
            second = decision
            break
    assert second is not None
    assert 119 <= second.retry_after <= 120


async def test_redis_state_is_shared_between_limiters_as_between_workers() -> None:
    url = redis_url()
    flush_redis(url)
    one, two = Redis.from_url(url), Redis.from_url(url)
    try:
        a, b = RateLimiter(one, block_seconds=60), RateLimiter(two, block_seconds=60)
        limit = Limit(requests=10, window=60)
        results = await asyncio.gather(
            *[(a if i % 2 else b).hit("ip:shared", limit) for i in range(30)]
        )
        assert sum(d.allowed for d in results) == 10
    finally:
        await one.aclose()
        await two.aclose()


async def test_leases_far_from_the_limit_never_exceed_it() -> None:
    url = redis_url()
    flush_redis(url)
    one, two = Redis.from_url(url), Redis.from_url(url)
    try:
        a, b = RateLimiter(one, block_seconds=60), RateLimiter(two, block_seconds=60)
        big = Limit(requests=100_000, window=60)
        assert a._batcher is not None
        calls = 0
        real_run = a._batcher.run

        async def counting_run(key: str, args: list[bytes]) -> object:
            nonlocal calls
            calls += 1
            return await real_run(key, args)

        a._batcher.run = counting_run  # type: ignore[method-assign]
        decisions = [await a.hit("ip:lease", big) for _ in range(4 * LEASE_MAX)]
        await asyncio.sleep(0.05)  # let a background refill finish
        assert all(d.allowed for d in decisions)
        assert calls <= 10  # about one Redis call per lease, not one per request
        assert await one.hget("btai:rl:ip:lease", "tat") is not None
        # Two workers with leases: still exactly the limit, never more.
        limit = Limit(requests=100, window=60)
        results = await asyncio.gather(
            *[(a if i % 2 else b).hit("ip:leased", limit) for i in range(300)]
        )
        assert sum(d.allowed for d in results) == 100
    finally:
        await one.aclose()
        await two.aclose()


async def test_redis_down_falls_back_to_memory() -> None:
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    try:
        limiter = RateLimiter(dead, block_seconds=60)
        limit = Limit(requests=2, window=60)
        results = [await limiter.hit("ip:x", limit) for _ in range(3)]
        assert [d.allowed for d in results] == [True, True, False]
    finally:
        await dead.aclose()


def test_route_rules_parse_and_the_longest_prefix_wins(
    make_settings: Callable[..., Settings],
) -> None:
    rules = parse_route_limits(["/api/v1=50/60", "POST /api/v1/auth/login=3/60/1"])
    assert rules[0].name == "POST /api/v1/auth/login"
    assert rules[0].limit == Limit(3, 60, 1)
    assert rules[0].matches("POST", "/api/v1/auth/login")
    assert not rules[0].matches("GET", "/api/v1/auth/login")
    with pytest.raises(ValueError, match="RATE_LIMIT_ROUTES"):
        parse_route_limits(["login=5"])
    with pytest.raises(ValidationError, match="RATE_LIMIT_ROUTES"):
        make_settings(RATE_LIMIT_ROUTES="POST /api/v1/auth/login=ten/60")
    parsed = make_settings(RATE_LIMIT_ROUTES="/api/v1/trades=5/60, GET /x=1/1/2")
    assert parsed.RATE_LIMIT_ROUTES == ["/api/v1/trades=5/60", "GET /x=1/1/2"]


@pytest.fixture
def limited(make_settings: Callable[..., Settings], migrated_sqlite_url: str) -> Settings:
    url = redis_url()
    flush_redis(url)
    return make_settings(
        DATABASE_URL=migrated_sqlite_url,
        REDIS_URL=url,
        RATE_LIMIT_REQUESTS=3,
        RATE_LIMIT_WINDOW=60,
        RATE_LIMIT_BURST=0,
        RATE_LIMIT_ROUTES=["POST /api/v1/auth/login=2/60/0"],
    )


async def test_middleware_limits_per_ip_with_headers_and_problem_json(limited: Settings) -> None:
    before = sample("rate_limit_rejections_total", scope="default")
    async with running_app(limited, migrate=False) as api:
        responses = [await api.client.get("/api/v1/auth/me") for _ in range(5)]
        probes = [await api.client.get("/api/v1/health/liveness") for _ in range(5)]
    assert [r.status_code for r in responses] == [401, 401, 401, 429, 429]
    assert responses[0].headers["ratelimit-limit"] == "3"
    assert responses[0].headers["ratelimit-remaining"] == "2"
    refused = responses[3]
    assert refused.headers["ratelimit-policy"] == "3;w=60;burst=0"
    assert refused.headers["ratelimit-remaining"] == "0"
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["status"] == 429
    assert all(p.status_code == 200 for p in probes)  # probes are exempt
    assert sample("rate_limit_rejections_total", scope="default") == before + 2


async def test_middleware_keys_users_apart_from_their_ip(limited: Settings) -> None:
    async with running_app(limited, migrate=False) as api:
        alice = await api.tokens("alice.limit")  # register + login: two hits on the IP budget
        users = [
            await api.client.get("/api/v1/auth/me", headers=bearer(alice["access_token"]))
            for _ in range(4)
        ]
        anonymous = await api.client.get("/api/v1/auth/me")
    assert [r.status_code for r in users] == [200, 200, 200, 429]
    assert anonymous.status_code == 401  # the IP's own default budget is not spent by alice


async def test_per_route_override_and_block_is_audited(limited: Settings) -> None:
    async with running_app(limited, migrate=False) as api:
        codes = [(await api.login("nobody.here", "whatever pass")).status_code for _ in range(5)]
        assert codes[:2] == [401, 401]
        assert set(codes[2:]) == {429}
        assert "rate_limit_block" in await api.audit_events()
        # Other routes keep their own budget.
        assert (await api.client.get("/api/v1/auth/me")).status_code == 401
