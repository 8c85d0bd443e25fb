"""Fixtures of the command-line tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(params=["sqlite", "postgresql"])
def accounts_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A DATABASE_URL for account commands: a SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/btai.db"
    return str(request.getfixturevalue("pg_url"))
