"""Real `btai serve` processes for the adversarial suite, one per database backend and module."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.server import ServerProcess, run_server
from tests.support.services import create_pg_database, drop_pg_database

# A busy machine can take a while to migrate, seed and start two workers.
SERVER_START_SECONDS = 180


@dataclass
class LiveServer:
    """A running server and the database it writes, for asserting what was stored."""

    server: ServerProcess
    database_url: str

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def query(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        async def run() -> list[tuple[Any, ...]]:
            engine = create_async_engine(self.database_url)
            try:
                async with engine.connect() as conn:
                    result = await conn.execute(text(sql), params)
                    return [tuple(row) for row in result]
            finally:
                await engine.dispose()

        return asyncio.run(run())

    def scalar(self, sql: str, **params: Any) -> Any:
        return self.query(sql, **params)[0][0]


@contextmanager
def live_server(
    backend: str, tmp_path: Path, env: dict[str, str], args: list[str]
) -> Iterator[LiveServer]:
    """`btai serve` on SQLite (a file under tmp_path) or on a fresh PostgreSQL database."""
    pg_name = None
    if backend == "postgres":
        pg_name, url = create_pg_database(prefix="btai_secsuite")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path}/btai.db"
    try:
        with run_server(
            tmp_path, env={"DATABASE_URL": url, **env}, args=args, timeout=SERVER_START_SECONDS
        ) as server:
            yield LiveServer(server, url)
    finally:
        if pg_name is not None:
            drop_pg_database(pg_name)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)
