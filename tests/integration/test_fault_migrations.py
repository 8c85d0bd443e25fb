"""Processes starting together against one empty database all come up; one migrates and seeds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from app.db.migrate import head_revisions, upgrade
from app.db.seed import prepare_database
from app.db.tables.baseball import Team
from app.settings import Settings
from btai_ops.processes import stop_process
from tests.support.server import ServerProcess, start_server, wait_until_ready

pytestmark = [pytest.mark.slow]
REPLICAS = 5
ENV = {"RATE_LIMIT_ENABLED": "false", "API_WORKERS": "1", "HEALTH_MONITOR_INTERVAL": "0"}


async def _schema_facts(url: str) -> tuple[list[str], int, int]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
            teams = (await conn.execute(select(func.count()).select_from(Team))).scalar_one()
            seasons = (
                await conn.execute(select(func.count(func.distinct(Team.season))))
            ).scalar_one()
    finally:
        await engine.dispose()
    return sorted(row[0] for row in versions), teams, seasons


@pytest.mark.postgres
def test_five_servers_started_together_on_an_empty_postgres_all_become_ready(
    pg_url: str, tmp_path: Path
) -> None:
    env = {**ENV, "DATABASE_URL": pg_url}
    folders = [tmp_path / f"replica-{n}" for n in range(REPLICAS)]
    for folder in folders:
        folder.mkdir()
    servers: list[ServerProcess] = []
    try:
        with ThreadPoolExecutor(REPLICAS) as pool:
            started = [pool.submit(start_server, folder, env) for folder in folders]
            for future in started:
                servers.append(future.result())
        for server in servers:
            wait_until_ready(server.base_url, server.process)
        versions, teams, seasons = asyncio.run(_schema_facts(pg_url))
        logs = [server.log() for server in servers]
    finally:
        for server in servers:
            stop_process(server.process)
    assert versions == sorted(head_revisions())
    assert seasons == 1
    assert teams == 30  # one season's teams, inserted once
    assert sum("seeded season" in log for log in logs) == 1
    assert not any("UniqueViolation" in log or "Traceback" in log for log in logs)


@pytest.mark.postgres
async def test_concurrent_prepares_on_postgres_migrate_and_seed_once(
    pg_url: str, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(DATABASE_URL=pg_url)
    await asyncio.gather(*(prepare_database(settings) for _ in range(4)))
    versions, teams, seasons = await _schema_facts(pg_url)
    assert versions == sorted(head_revisions())
    assert (teams, seasons) == (30, 1)


async def test_concurrent_upgrades_on_one_sqlite_file_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/shared.db"
    await asyncio.gather(*(upgrade(url) for _ in range(4)))
    versions, teams, _ = await _schema_facts(url)
    assert versions == sorted(head_revisions())
    assert teams == 0
