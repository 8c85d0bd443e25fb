"""Every SQLite connection of the pool is set up alike: WAL, foreign keys, the busy timeout,
and a page cache bounded to SQLITE_CACHE_KIB."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

from app.db.engine import SQLITE_CACHE_KIB, Database
from app.settings import Settings


async def test_a_sqlite_connection_has_the_pragmas_and_a_bounded_page_cache(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'pragmas.db'}"
    db = Database(make_settings(DATABASE_URL=url, DB_BUSY_TIMEOUT=3))
    try:
        async with db.engine.connect() as conn:
            found = {
                pragma: (await conn.execute(text(f"PRAGMA {pragma}"))).scalar_one()
                for pragma in ("journal_mode", "foreign_keys", "busy_timeout", "cache_size")
            }
    finally:
        await db.dispose()
    assert found == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": 3000,
        "cache_size": -SQLITE_CACHE_KIB,
    }
