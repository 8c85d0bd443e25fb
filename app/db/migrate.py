"""Run alembic migrations programmatically (`btai db upgrade`, `btai serve --migrate`).

Every area of the schema is its own alembic branch (baseball, security, queue, ...), so
`upgrade heads` brings all of them up to date.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from app.db.engine import ensure_sqlite_dir, is_sqlite

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # alembic's ini interpolation treats % specially; the URL may contain escaped characters.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def upgrade_sync(url: str, revision: str = "heads") -> None:
    """Apply migrations; call from a thread or process without a running event loop."""
    if is_sqlite(url):
        ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), revision)


async def upgrade(url: str, revision: str = "heads") -> None:
    """Apply migrations without blocking the running event loop."""
    await asyncio.to_thread(upgrade_sync, url, revision)


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


async def is_up_to_date(url: str) -> bool:
    return await current_revisions(url) == head_revisions()
