"""Run alembic migrations programmatically (`btai db upgrade`, `btai serve --migrate`).

Every area of the schema is its own alembic branch (baseball, security, queue, ...), so
`upgrade heads` brings all of them up to date.

Every upgrade holds the database's schema lock (a PostgreSQL advisory lock, a lock file beside
a SQLite database), so any number of processes starting together migrate one at a time: the
first applies the migrations, the others wait and then find nothing left to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import time
from collections.abc import AsyncIterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from app.db.engine import ensure_sqlite_dir, is_sqlite

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SCHEMA_LOCK_KEY = 0x6274_6169_0001
"""The advisory lock id (64-bit) every btai process takes before it migrates or seeds."""
SCHEMA_LOCK_TIMEOUT = 600.0
"""Seconds a process waits for another one's migration before it gives up, unless told
otherwise (the DB_SCHEMA_LOCK_TIMEOUT setting)."""
LOCK_POLL_SECONDS = 0.2
logger = logging.getLogger("app.db.migrate")
_held: ContextVar[frozenset[str]] = ContextVar("schema_locks_held", default=frozenset())


class SchemaLockTimeout(TimeoutError):
    """Another process held the schema lock for longer than the wait allowed."""


@contextlib.asynccontextmanager
async def schema_lock(url: str, *, wait: float = SCHEMA_LOCK_TIMEOUT) -> AsyncIterator[None]:
    """Hold the database's schema lock inside the block; a block nested in one that already
    holds it for `url` (prepare = migrate + seed) does not take it twice."""
    held = _held.get()
    if url in held:
        yield
        return
    token = _held.set(held | {url})
    try:
        locked = _sqlite_lock(url, wait) if is_sqlite(url) else _advisory_lock(url, wait)
        async with locked:
            yield
    finally:
        _held.reset(token)


@contextlib.asynccontextmanager
async def _advisory_lock(url: str, wait: float) -> AsyncIterator[None]:
    # A session-level advisory lock on a connection of its own: it lasts across the alembic
    # transactions and is freed by PostgreSQL even if this process dies holding it.
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await _poll(
                lambda: _try_advisory(conn),
                wait,
                what=f"advisory lock {SCHEMA_LOCK_KEY}",
            )
            try:
                yield
            finally:
                await conn.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": SCHEMA_LOCK_KEY}
                )
                await conn.commit()
    finally:
        await engine.dispose()


async def _try_advisory(conn: AsyncConnection) -> bool:
    result = await conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
    await conn.commit()
    return bool(result.scalar_one())


def _lock_file(url: str) -> str | None:
    """The lock file beside a SQLite database file, shared by every process using that file;
    None for a private in-memory database, which no other process can see."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    ensure_sqlite_dir(url)
    return str(Path(database).expanduser()) + ".migrate-lock"


@contextlib.asynccontextmanager
async def _sqlite_lock(url: str, wait: float) -> AsyncIterator[None]:
    lock_path = _lock_file(url)
    if lock_path is None:
        yield
        return
    with open(lock_path, "a") as handle:  # noqa: ASYNC230 (a local file, opened once)

        async def try_lock() -> bool:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        await _poll(try_lock, wait, what=f"lock file {handle.name}")
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


async def _poll(attempt: Any, wait: float, *, what: str) -> None:
    """Try `attempt()` until it succeeds; polled, not blocking, so a stop can cancel the wait."""
    deadline = time.monotonic() + wait
    waited = False
    while not await attempt():
        if time.monotonic() >= deadline:
            raise SchemaLockTimeout(f"schema lock ({what}) still held after {wait:.0f}s")
        if not waited:
            logger.info("waiting for another process to finish migrating (%s)", what)
            waited = True
        await asyncio.sleep(LOCK_POLL_SECONDS)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # alembic's ini interpolation treats % specially; the URL may contain escaped characters.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def _alembic_upgrade(url: str, revision: str) -> None:
    # alembic's env.py runs its own event loop: call from a thread without a running one.
    if is_sqlite(url):
        ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), revision)


def upgrade_sync(
    url: str, revision: str = "heads", *, lock_timeout: float = SCHEMA_LOCK_TIMEOUT
) -> None:
    """Apply migrations under the schema lock; call where no event loop is running."""
    asyncio.run(upgrade(url, revision, lock_timeout=lock_timeout))


async def upgrade(
    url: str, revision: str = "heads", *, lock_timeout: float = SCHEMA_LOCK_TIMEOUT
) -> None:
    """Apply migrations under the schema lock (waiting at most `lock_timeout` seconds for it)
    without blocking the running event loop."""
    async with schema_lock(url, wait=lock_timeout):
        await asyncio.to_thread(_alembic_upgrade, url, revision)


def head_revisions() -> set[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return set(script.get_heads())


async def current_revisions(url: str) -> set[str]:
    """Revisions applied to the database at `url` (empty for a new database)."""
    if is_sqlite(url):
        ensure_sqlite_dir(url)
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:

            def read(sync_conn: AsyncConnection) -> set[str]:
                context = MigrationContext.configure(sync_conn)  # type: ignore[arg-type]
                return set(context.get_current_heads())

            return await conn.run_sync(read)  # type: ignore[arg-type]
    finally:
        await engine.dispose()
