"""Auth routes are limited by client IP and by account name whatever token is presented,
and the limits hold when the requests arrive at once (in memory and in real Redis, DB 2)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from app.security.accounts import create_user
from app.settings import Settings
from tests.support.security import CLIENT_IP, STRONG_PASSWORD, RunningApp, bearer, running_app
from tests.support.services import flush_redis, redis_url

REGISTER_LIMIT = 5
LOGIN_LIMIT = 10


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def api(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings]
) -> AsyncIterator[RunningApp]:
    overrides: dict[str, Any] = {
        "REDIS_URL": "",
        "RATE_LIMIT_ROUTES": f"POST /api/v1/auth/login={LOGIN_LIMIT}/60/0,"
        f"POST /api/v1/auth/register={REGISTER_LIMIT}/60/0",
        "MAX_LOGIN_ATTEMPTS": 1000,  # the lockout is not what is tested here
        # The test client's address is a trusted proxy, so X-Forwarded-For names clients.
        "TRUSTED_PROXIES": f"{CLIENT_IP},127.0.0.1",
    }
    if request.param == "redis":
        url = redis_url(2)
        flush_redis(url)
        overrides["REDIS_URL"] = url
    async with running_app(make_settings(**overrides)) as running:
        yield running


async def test_a_valid_token_does_not_move_register_out_of_the_ip_limit(
    api: RunningApp,
) -> None:
    await create_user(api.security, username="token.holder", password=STRONG_PASSWORD)
    token = (await api.login("token.holder")).json()["access_token"]
    codes = []
    for n in range(REGISTER_LIMIT + 5):
        response = await api.client.post(
            "/api/v1/auth/register",
            json={"username": f"sock.puppet{n}", "password": STRONG_PASSWORD},
            headers=bearer(token),
        )
        codes.append(response.status_code)
    assert codes.count(201) == REGISTER_LIMIT
    assert codes.count(429) == 5
    assert await api.users() == 1 + REGISTER_LIMIT


async def test_registrations_sent_at_once_from_one_ip_stay_within_the_limit(
    api: RunningApp,
) -> None:
    async def register(n: int) -> int:
        response = await api.client.post(
            "/api/v1/auth/register",
            json={"username": f"burst.{n}", "password": STRONG_PASSWORD},
            headers={"X-Forwarded-For": "198.51.100.77"},
        )
        return response.status_code

    codes = await asyncio.gather(*(register(n) for n in range(20)))
    assert codes.count(201) == REGISTER_LIMIT
    assert codes.count(429) == 20 - REGISTER_LIMIT
    assert await api.users() == REGISTER_LIMIT


async def test_one_account_from_many_ips_is_limited_by_its_name(api: RunningApp) -> None:
    await create_user(api.security, username="popular.target", password=STRONG_PASSWORD)

    async def login(n: int) -> int:
        response = await api.client.post(
            "/api/v1/auth/login",
            json={"username": "popular.target", "password": "wrong password!!"},
            headers={"X-Forwarded-For": f"192.0.2.{n}"},
        )
        return response.status_code

    codes = await asyncio.gather(*(login(n) for n in range(1, 2 * LOGIN_LIMIT + 1)))
    assert codes.count(401) == LOGIN_LIMIT
    assert codes.count(429) == LOGIN_LIMIT
    events = await api.audit_events()
    assert events.count("login_failure") == LOGIN_LIMIT
