"""DB_SCHEMA_LOCK_TIMEOUT bounds the wait for another process's migration or seeding."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from app.db.migrate import SchemaLockTimeout
from app.db.seed import prepare_database
from app.settings import Settings

BTAI = str(Path(sys.executable).with_name("btai"))


def _hold_lock_file(database: Path) -> int:
    """Take the SQLite schema lock as another process's migration would; returns the fd."""
    fd = os.open(f"{database}.migrate-lock", os.O_CREAT | os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


async def test_prepare_gives_up_after_the_configured_lock_wait(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(DB_SCHEMA_LOCK_TIMEOUT=1.0)
    fd = _hold_lock_file(tmp_path / "btai.db")
    try:
        with pytest.raises(SchemaLockTimeout, match=r"still held after 1s"):
            await prepare_database(settings)
    finally:
        os.close(fd)


def test_db_upgrade_exits_3_when_the_schema_lock_stays_held(tmp_path: Path) -> None:
    database = tmp_path / "btai.db"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "DB_SCHEMA_LOCK_TIMEOUT": "1",
    }
    fd = _hold_lock_file(database)
    try:
        done = subprocess.run(
            [BTAI, "db", "upgrade"], capture_output=True, text=True, env=env, cwd=tmp_path
        )
    finally:
        os.close(fd)
    assert done.returncode == 3, done.stderr
    assert done.stderr.startswith("Error: schema lock"), done.stderr
    assert "still held after 1s" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
