"""Tokens that must stop working: after logout on any worker of a two-worker server without
Redis, after their login family is revoked, and after their account is deleted (SQLite ids
are never handed to a new account)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete

from app.db.migrate import upgrade_sync
from app.db.tables.security import User
from app.settings import Settings
from tests.security.conftest import SERVER_START_SECONDS
from tests.support.security import STRONG_PASSWORD, RunningApp, bearer, running_app
from tests.support.server import run_server


@pytest.fixture
async def api(make_settings: Callable[..., Settings]) -> AsyncIterator[RunningApp]:
    settings = make_settings(REDIS_URL="", RATE_LIMIT_ENABLED=False)
    async with running_app(settings) as running:
        yield running


@pytest.mark.slow
def test_after_logout_no_worker_of_a_two_worker_server_without_redis_accepts_the_token(
    tmp_path: Path,
) -> None:
    env = {"REDIS_URL": "", "RATE_LIMIT_ENABLED": "false"}
    with run_server(
        tmp_path, env=env, args=["--workers", "2"], timeout=SERVER_START_SECONDS
    ) as server:
        base = server.base_url
        pids = {httpx.get(f"{base}/api/v1/health/liveness").json()["pid"] for _ in range(40)}
        assert len(pids) == 2  # both workers answer, each on its own connections
        credentials = {"username": "two.workers", "password": STRONG_PASSWORD}
        assert httpx.post(f"{base}/api/v1/auth/register", json=credentials).status_code == 201
        tokens = httpx.post(f"{base}/api/v1/auth/login", json=credentials).json()
        headers = bearer(tokens["access_token"])
        assert httpx.get(f"{base}/api/v1/auth/me", headers=headers).status_code == 200
        out = httpx.post(f"{base}/api/v1/auth/logout", headers=headers)
        assert out.status_code == 204

        def me(_: int) -> tuple[int, int]:
            # A new connection each time, so the kernel spreads them over both workers.
            with httpx.Client(base_url=base, timeout=60) as client:
                pid = client.get("/api/v1/health/liveness").json()["pid"]
                return pid, client.get("/api/v1/auth/me", headers=headers).status_code

        with ThreadPoolExecutor(max_workers=6) as pool:
            answers = list(pool.map(me, range(30)))
        refresh = httpx.post(
            f"{base}/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
    assert {status for _, status in answers} == {401}
    assert len({pid for pid, _ in answers}) == 2
    # Logging out ended the session's refresh family as well.
    assert refresh.status_code == 401


async def test_revoking_a_refresh_family_also_revokes_its_access_tokens(api: RunningApp) -> None:
    first = await api.tokens("family.man")
    rotated = await api.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert rotated.status_code == 200
    second = rotated.json()
    for tokens in (first, second):
        me = await api.client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))
        assert me.status_code == 200
    # The used refresh token comes back: the family is revoked, every access token with it.
    reuse = await api.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert reuse.status_code == 401
    for tokens in (first, second):
        me = await api.client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))
        assert me.status_code == 401
    # Another login of the same user is another family and keeps working.
    other = (await api.login("family.man")).json()
    me = await api.client.get("/api/v1/auth/me", headers=bearer(other["access_token"]))
    assert me.status_code == 200


async def test_a_deleted_accounts_id_and_tokens_never_pass_to_a_new_account(
    api: RunningApp,
) -> None:
    await api.tokens("first.account")
    doomed = await api.tokens("doomed.admin", role="admin")
    doomed_id = (
        await api.client.get("/api/v1/auth/me", headers=bearer(doomed["access_token"]))
    ).json()["id"]
    async with api.security.database().sessions() as session:
        await session.execute(delete(User).where(User.id == doomed_id))
        await session.commit()
    newcomer = await api.register("new.account")
    assert newcomer.status_code == 201
    assert newcomer.json()["id"] > doomed_id
    stale = await api.client.get("/api/v1/auth/me", headers=bearer(doomed["access_token"]))
    assert stale.status_code == 401
    audit = await api.client.get("/api/v1/admin/audit", headers=bearer(doomed["access_token"]))
    assert audit.status_code == 401


def test_the_migration_keeps_users_and_stops_sqlite_reusing_their_ids(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade_sync(url, "security_0001")
    with sqlite3.connect(path) as conn:
        rows: list[tuple[Any, ...]] = [
            (n, f"user{n}", "x", "user", "", 1, "2026-01-01 00:00:00") for n in (1, 2, 3)
        ]
        conn.executemany(
            "INSERT INTO users (id, username, password_hash, role, scopes, is_active, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    upgrade_sync(url)
    with sqlite3.connect(path) as conn:
        table_sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'users'").fetchone()[0]
        assert "AUTOINCREMENT" in table_sql
        assert [r[0] for r in conn.execute("SELECT username FROM users ORDER BY id")] == [
            "user1",
            "user2",
            "user3",
        ]
        conn.execute("DELETE FROM users WHERE id = 3")
        conn.execute(
            "INSERT INTO users (username, password_hash, role, scopes, is_active, created_at)"
            " VALUES ('user4', 'x', 'user', '', 1, '2026-01-02 00:00:00')"
        )
        new_id = conn.execute("SELECT id FROM users WHERE username = 'user4'").fetchone()[0]
    assert new_id == 4
