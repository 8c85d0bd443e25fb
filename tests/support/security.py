"""Security test helpers: migrated databases cloned from a per-session template, an app
running its lifespan, fast hashing, users and tokens."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy import func, select

from app.db.migrate import upgrade, upgrade_sync
from app.db.tables.security import AuditEntry, RefreshToken, User
from app.main import create_app
from app.security.services import SecurityServices
from app.settings import Settings
from tests.support.services import (
    PG_HOST,
    PG_PORT,
    create_pg_database,
    drop_pg_database,
    require,
)

STRONG_PASSWORD = "correct horse battery staple"
CLIENT_IP = "203.0.113.7"
# Cheap parameters keep the suite fast; the default (production) hasher is tested on its own.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


@pytest.fixture(scope="session", name="migrated_sqlite_template")
def fixture_migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("security-sqlite") / "template.db"
    upgrade_sync(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session", name="migrated_pg_template")
def fixture_migrated_pg_template() -> Iterator[str]:
    name, url = create_pg_database(prefix="btai_sec_tmpl")
    try:
        upgrade_sync(url)
        yield name
    finally:
        drop_pg_database(name)


@pytest.fixture(name="migrated_sqlite_url")
def fixture_migrated_sqlite_url(migrated_sqlite_template: Path, tmp_path: Path) -> str:
    """A private SQLite file with every migration applied (copied, not migrated again)."""
    target = tmp_path / "security.db"
    shutil.copyfile(migrated_sqlite_template, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture(name="migrated_pg_url")
def fixture_migrated_pg_url(migrated_pg_template: str) -> str:
    """The session's migrated PostgreSQL database, its security tables emptied for this test
    (cheaper than cloning a database per test on a loaded machine)."""
    require(PG_HOST, PG_PORT, "PostgreSQL")
    asyncio.run(_truncate(migrated_pg_template))
    return f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{migrated_pg_template}"


async def _truncate(database: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{database}")
    try:
        await conn.execute(
            "TRUNCATE users, refresh_families, refresh_tokens, login_attempts, revoked_tokens, "
            "audit_log "
            "RESTART IDENTITY CASCADE"
        )
    finally:
        await conn.close()


@dataclass
class RunningApp:
    app: FastAPI
    client: httpx.AsyncClient

    @property
    def security(self) -> SecurityServices:
        security: SecurityServices = self.app.state.parts.security
        return security

    async def count(self, table: Any) -> int:
        async with self.security.database().sessions() as session:
            return int(
                (await session.execute(select(func.count()).select_from(table))).scalar_one()
            )

    async def users(self) -> int:
        return await self.count(User)

    async def refresh_tokens(self) -> int:
        return await self.count(RefreshToken)

    async def audit_events(self) -> list[str]:
        async with self.security.database().sessions() as session:
            rows = await session.scalars(select(AuditEntry.event).order_by(AuditEntry.id))
            return list(rows)

    async def register(self, username: str, password: str = STRONG_PASSWORD) -> httpx.Response:
        return await self.client.post(
            "/api/v1/auth/register", json={"username": username, "password": password}
        )

    async def login(self, username: str, password: str = STRONG_PASSWORD) -> httpx.Response:
        return await self.client.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )

    async def tokens(self, username: str, *, role: str = "user") -> dict[str, Any]:
        """Register `username` (as `role`) and log in; returns the token response."""
        if role == "admin":
            from app.security.accounts import create_user

            await create_user(self.security, username=username, password=STRONG_PASSWORD, role=role)
        else:
            assert (await self.register(username)).status_code == 201
        response = await self.login(username)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def running_app(
    settings: Settings, *, client_ip: str = CLIENT_IP, migrate: bool = True
) -> AsyncIterator[RunningApp]:
    """Migrate the database, build the app, run its lifespan and give a client for it."""
    if migrate:
        await upgrade(settings.database_url)
    app = create_app(settings)
    app.state.parts.security.passwords.hasher = FAST_HASHER
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(client_ip, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield RunningApp(app, client)
