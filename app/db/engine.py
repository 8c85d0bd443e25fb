"""Async engines and session factories for SQLite (embedded) and PostgreSQL (pooled).

`Database` owns a primary engine and, when DATABASE_READ_URL is set, a read-replica engine;
`Database.open(settings)` is used as an async context manager by the app's lifespan.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.settings import Settings

SQLITE_BUSY_TIMEOUT_MS = 5000


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the one writer; busy_timeout rides out short write locks.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def ensure_sqlite_dir(url: str) -> None:
    """Create the folder of a file-backed SQLite URL (`./var/` by default)."""
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def create_engine(url: str, settings: Settings) -> AsyncEngine:
    """An async engine for `url`, pooled per the DB_POOL_* settings."""
    if is_sqlite(url):
        ensure_sqlite_dir(url)
        engine = create_async_engine(
            url,
            echo=settings.DB_ECHO,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        echo=settings.DB_ECHO,
        pool_size=settings.DB_POOL_SIZE,
        max_overflow=settings.DB_MAX_OVERFLOW,
        pool_timeout=settings.DB_POOL_TIMEOUT,
        pool_pre_ping=True,
        pool_recycle=1800,
    )


class Database:
    """The primary engine, an optional read replica, and their session factories."""

    def __init__(self, settings: Settings) -> None:
        self.url = settings.database_url
        self.engine = create_engine(self.url, settings)
        read_url = (
            settings.DATABASE_READ_URL.get_secret_value() if settings.DATABASE_READ_URL else None
        )
        self.read_engine = create_engine(read_url, settings) if read_url else self.engine
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = async_sessionmaker(self.read_engine, expire_on_commit=False)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    async def ping(self) -> None:
        """Run one real query; raises when the database cannot be reached."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    def pool_status(self) -> dict[str, int]:
        """Connections checked out and idle in the primary pool (0 where the pool has none)."""
        pool: Any = self.engine.pool
        checked_out = pool.checkedout() if hasattr(pool, "checkedout") else 0
        idle = pool.checkedin() if hasattr(pool, "checkedin") else 0
        return {"in_use": int(checked_out), "idle": int(idle)}

    async def dispose(self) -> None:
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()
        await self.engine.dispose()

    @classmethod
    @asynccontextmanager
    async def open(cls, settings: Settings) -> AsyncIterator[Database]:
        db = cls(settings)
        try:
            yield db
        finally:
            await db.dispose()


@asynccontextmanager
async def session_scope(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session that commits on success and rolls back on error."""
    async with sessions() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
