"""The auth API on real SQLite and PostgreSQL, with the token denylist in real Redis (DB 2)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import select

from app.db.tables.security import LoginAttempt, RefreshFamily, User
from app.settings import Settings
from tests.support.security import (  # noqa: F401  (fixtures)
    STRONG_PASSWORD,
    RunningApp,
    bearer,
    fixture_migrated_pg_template,
    fixture_migrated_pg_url,
    fixture_migrated_sqlite_template,
    fixture_migrated_sqlite_url,
    running_app,
)
from tests.support.services import flush_redis, redis_url

PROBLEM = "application/problem+json"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(
    backend: str, make_settings: Callable[..., Settings], request: pytest.FixtureRequest
) -> Settings:
    url = redis_url()
    flush_redis(url)
    overrides: dict[str, Any] = {
        "REDIS_URL": url,
        "RATE_LIMIT_ENABLED": False,
        "MAX_LOGIN_ATTEMPTS": 3,
        "LOCKOUT_DURATION": 600,
    }
    fixture = "migrated_pg_url" if backend == "postgres" else "migrated_sqlite_url"
    overrides["DATABASE_URL"] = request.getfixturevalue(fixture)
    return make_settings(**overrides)


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[RunningApp]:
    async with running_app(settings, migrate=False) as running:
        yield running


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def assert_unauthorized(response: Any) -> None:
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_register_login_me_with_json_and_oauth2_form(api: RunningApp) -> None:
    created = await api.register("Casey.Stengel")
    assert created.status_code == 201
    assert created.json()["username"] == "casey.stengel"
    assert created.json()["role"] == "user"
    as_json = await api.login("casey.stengel")
    as_form = await api.client.post(
        "/api/v1/auth/login",
        data={"grant_type": "password", "username": "casey.stengel", "password": STRONG_PASSWORD},
    )
    for response in (as_json, as_form):
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == 15 * 60
        me = await api.client.get("/api/v1/auth/me", headers=bearer(body["access_token"]))
        assert me.status_code == 200
        assert me.json()["username"] == "casey.stengel"
    assert await api.audit_events() == ["register", "login_success", "login_success"]


async def test_weak_password_gets_score_and_feedback_and_nothing_is_stored(api: RunningApp) -> None:
    response = await api.register("weakling", "password1234")
    body = assert_problem(response, 422)
    assert body["score"] < 3
    assert body["feedback"]["warning"] or body["feedback"]["suggestions"]
    assert await api.users() == 0


async def test_duplicate_username_is_conflict(api: RunningApp) -> None:
    assert (await api.register("rizzuto")).status_code == 201
    assert_problem(await api.register("Rizzuto"), 409)
    assert await api.users() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"username": "bad\x00name", "password": STRONG_PASSWORD}, "body.username"),
        ({"username": "bell\x07", "password": STRONG_PASSWORD}, "body.username"),
        ({"username": "<script>", "password": STRONG_PASSWORD}, "body.username"),
        ({"username": "longpassword", "password": "Zq9!" * 2500}, "body.password"),
    ],
)
async def test_bad_registrations_are_422_and_store_nothing(
    api: RunningApp, payload: dict[str, str], field: str
) -> None:
    body = assert_problem(await api.client.post("/api/v1/auth/register", json=payload), 422)
    assert field in [error["field"] for error in body["errors"]]
    assert STRONG_PASSWORD not in str(body)
    assert await api.users() == 0


async def test_ten_thousand_character_password_at_login_is_422(api: RunningApp) -> None:
    await api.register("gehrig")
    body = assert_problem(await api.login("gehrig", "x" * 10_000), 422)
    assert body["errors"][0]["field"] == "body.password"
    assert await api.count(LoginAttempt) == 0


async def test_a_login_form_missing_a_field_is_422_naming_it(api: RunningApp) -> None:
    await api.register("mantle")
    response = await api.client.post("/api/v1/auth/login", data={"username": "mantle"})
    body = assert_problem(response, 422)
    assert [e["field"] for e in body["errors"]] == ["body.password"]
    assert await api.count(LoginAttempt) == 0


@pytest.mark.parametrize(
    "body", [b'{"username": "a", "password": ', b"not json at all", b"[1, 2]", b"\xff\xfe"]
)
async def test_malformed_json_is_422_and_stores_nothing(api: RunningApp, body: bytes) -> None:
    for path in ("/api/v1/auth/login", "/api/v1/auth/register", "/api/v1/auth/refresh"):
        response = await api.client.post(
            path, content=body, headers={"Content-Type": "application/json"}
        )
        assert_problem(response, 422)
    assert await api.users() == 0
    assert await api.count(LoginAttempt) == 0


async def test_refresh_rotates_and_reuse_revokes_the_whole_family(api: RunningApp) -> None:
    first = await api.tokens("berra")
    second = await api.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    # The stolen (already used) token comes back: the whole family dies, the rotated one too.
    reuse = await api.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert_unauthorized(reuse)
    after = await api.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]}
    )
    assert_unauthorized(after)
    async with api.security.database().sessions() as session:
        family = (await session.scalars(select(RefreshFamily))).all()
    assert len(family) == 1
    assert "refresh_reuse" in await api.audit_events()
    assert await api.refresh_tokens() == 2  # nothing was issued for the reused token


async def test_token_types_are_not_interchangeable(api: RunningApp) -> None:
    tokens = await api.tokens("mantle")
    assert_unauthorized(
        await api.client.get("/api/v1/auth/me", headers=bearer(tokens["refresh_token"]))
    )
    reverse = await api.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["access_token"]}
    )
    assert_unauthorized(reverse)
    assert await api.refresh_tokens() == 1


async def test_logout_denies_the_access_token_and_ends_the_refresh_family(
    api: RunningApp,
) -> None:
    tokens = await api.tokens("ford")
    headers = bearer(tokens["access_token"])
    out = await api.client.post(
        "/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}, headers=headers
    )
    assert out.status_code == 204
    assert_unauthorized(await api.client.get("/api/v1/auth/me", headers=headers))
    refresh = await api.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert_unauthorized(refresh)
    # The denylist entry lives in Redis with the token's remaining life as its TTL.
    redis = api.security.redis
    assert redis is not None
    keys = await redis.keys("btai:deny:*")
    assert len(keys) == 1
    assert 0 < await redis.ttl(keys[0]) <= 15 * 60


async def test_logout_all_invalidates_every_earlier_token_but_not_later_ones(
    api: RunningApp,
) -> None:
    phone = await api.tokens("maris")
    laptop = (await api.login("maris")).json()
    out = await api.client.post("/api/v1/auth/logout-all", headers=bearer(laptop["access_token"]))
    assert out.status_code == 204
    for tokens in (phone, laptop):
        assert_unauthorized(
            await api.client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))
        )
        refresh = await api.client.post(
            "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert_unauthorized(refresh)
    fresh = (await api.login("maris")).json()
    me = await api.client.get("/api/v1/auth/me", headers=bearer(fresh["access_token"]))
    assert me.status_code == 200


async def test_failed_logins_lock_the_account_with_retry_after_and_audit(api: RunningApp) -> None:
    await api.register("dimaggio")
    for _ in range(3):
        assert_unauthorized(await api.login("dimaggio", "wrong password!!"))
    locked = await api.login("dimaggio")  # even the right password waits out the lockout
    body = assert_problem(locked, 429)
    assert 0 < int(locked.headers["retry-after"]) <= 600
    assert body["retry_after"] == int(locked.headers["retry-after"])
    events = await api.audit_events()
    assert events.count("login_failure") == 3
    assert "lockout" in events
    assert events[-1] == "login_locked"
    assert await api.refresh_tokens() == 0


async def test_unknown_users_fail_like_known_ones_and_lock_by_ip(api: RunningApp) -> None:
    await api.register("known.user")
    unknown = await api.login("nobody.here", "wrong password!!")
    known = await api.login("known.user", "wrong password!!")
    assert_unauthorized(unknown)
    assert_unauthorized(known)
    assert unknown.json()["detail"] == known.json()["detail"]
    # The third failure from the same IP, under yet another name, locks the IP.
    assert_unauthorized(await api.login("someone.else", "wrong password!!"))
    assert_problem(await api.login("known.user"), 429)


async def test_login_rehashes_when_the_hash_parameters_changed(api: RunningApp) -> None:
    await api.register("koufax")
    async with api.security.database().sessions() as session:
        before = (await session.scalars(select(User))).first()
    assert before is not None
    assert "m=8192" in before.password_hash
    from argon2 import PasswordHasher

    api.security.passwords.hasher = PasswordHasher(time_cost=2, memory_cost=16384, parallelism=1)
    assert (await api.login("koufax")).status_code == 200
    async with api.security.database().sessions() as session:
        after = (await session.scalars(select(User))).first()
    assert after is not None
    assert "m=16384" in after.password_hash
    assert (await api.login("koufax")).status_code == 200


async def test_admin_audit_pages_newest_first_and_refuses_users(api: RunningApp) -> None:
    admin = await api.tokens("commissioner", role="admin")
    user = await api.tokens("bleacher.fan")
    await api.login("bleacher.fan", "wrong password!!")
    forbidden = await api.client.get("/api/v1/admin/audit", headers=bearer(user["access_token"]))
    assert_problem(forbidden, 403)
    assert_unauthorized(await api.client.get("/api/v1/admin/audit"))
    page = await api.client.get(
        "/api/v1/admin/audit", params={"limit": 2}, headers=bearer(admin["access_token"])
    )
    assert page.status_code == 200
    body = page.json()
    assert [item["event"] for item in body["items"]] == ["login_failure", "login_success"]
    assert body["next_offset"] == 2
    rest = await api.client.get(
        "/api/v1/admin/audit",
        params={"limit": 50, "offset": 2},
        headers=bearer(admin["access_token"]),
    )
    assert [item["event"] for item in rest.json()["items"]] == [
        "login_success",
        "register",
        "login_success",
    ]
    assert rest.json()["next_offset"] is None
    assert (await api.audit_events())[-1] == "admin_audit_read"
