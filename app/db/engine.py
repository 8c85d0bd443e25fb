"""Async engines and session factories for SQLite (embedded) and PostgreSQL (pooled).

`Database` owns a primary engine and, when DATABASE_READ_URL is set, a read-replica engine;
`Database.open(settings)` is used as an async context manager by the app's lifespan.

Every wait on the database is bounded, so a database that stalls costs a request a timeout,
never a connection held for ever: connecting (DB_CONNECT_TIMEOUT), checking a connection out of
the pool (DB_POOL_TIMEOUT), and each statement (DB_STATEMENT_TIMEOUT: asyncpg's
`command_timeout` on the client, which also bounds a connection that no longer answers, and
`statement_timeout` on the server, which also ends a statement waiting for a lock; SQLite's
busy timeout, DB_BUSY_TIMEOUT, for its one write lock).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql.dml import Insert as PostgresInsert

logger = logging.getLogger("app.db")

POOL_RECYCLE_SECONDS = 1800
SQLITE_CACHE_KIB = 512
"""Each SQLite connection's page cache (SQLite's default is 2 MB). The hot reads (the season's
players, the league, cached teams) are held in memory above the database, and the file's
pages stay in the OS cache: a full-size cache per connection only added ~1 MB to a worker."""


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def postgres_insert() -> Callable[..., PostgresInsert]:
    """PostgreSQL's INSERT with ON CONFLICT, imported when first needed: a worker on SQLite
    never loads the PostgreSQL dialect (~2 MB)."""
    from sqlalchemy.dialects.postgresql import insert

    return insert


def _sqlite_pragmas(busy_timeout_ms: int) -> Any:
    def apply(dbapi_connection: Any, _record: Any) -> None:
        # WAL lets readers run beside the one writer; busy_timeout rides out short write locks.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()

    return apply


def postgres_connect_args(settings: Settings) -> dict[str, Any]:
    """asyncpg's connect timeout and the per-statement deadline, client and server side."""
    args: dict[str, Any] = {"timeout": settings.DB_CONNECT_TIMEOUT}
    statement = settings.DB_STATEMENT_TIMEOUT
    if statement > 0:
        # The client gives up a moment after the server would, so a live server reports its
        # own cancellation and only a silent connection is cut off by the client's deadline.
        args["command_timeout"] = statement + 1.0
        args["server_settings"] = {"statement_timeout": str(int(statement * 1000))}
    return args


def ensure_sqlite_dir(url: str) -> None:
    """Create the folder of a file-backed SQLite URL (`./var/` by default)."""
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def create_engine(url: str, settings: Settings) -> AsyncEngine:
    """An async engine for `url`, pooled per the DB_POOL_* settings."""
    if is_sqlite(url):
        ensure_sqlite_dir(url)
        busy_ms = int(settings.DB_BUSY_TIMEOUT * 1000)
        engine = create_async_engine(
            url,
            echo=settings.DB_ECHO,
            connect_args={"timeout": settings.DB_BUSY_TIMEOUT},
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(busy_ms))
        return engine
    return create_async_engine(
        url,
        echo=settings.DB_ECHO,
        pool_size=settings.DB_POOL_SIZE,
        max_overflow=settings.DB_MAX_OVERFLOW,
        pool_timeout=settings.DB_POOL_TIMEOUT,
        pool_pre_ping=True,
        pool_recycle=POOL_RECYCLE_SECONDS,
        connect_args=postgres_connect_args(settings),
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

    async def dispose(self, within: float | None = None) -> None:
        """Close the pools; connections that do not close within `within` s (a stalled
        database never answers the goodbye) are dropped, not waited for."""
        engines = (
            [self.engine] if self.read_engine is self.engine else [self.engine, self.read_engine]
        )
        try:
            async with asyncio.timeout(within):
                for engine in engines:
                    await engine.dispose()
        except TimeoutError:
            logger.warning("database connections did not close within %.1fs; dropped", within)
            for engine in engines:
                await engine.dispose(close=False)

    @classmethod
    @asynccontextmanager
    async def open(
        cls, settings: Settings, *, close_within: Callable[[], float] | None = None
    ) -> AsyncIterator[Database]:
        """The database for the block; `close_within()` gives, at the end, the seconds that
        closing the pools may take."""
        db = cls(settings)
        try:
            yield db
        finally:
            await db.dispose(within=close_within() if close_within else None)


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
