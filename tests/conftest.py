"""Fixtures shared by every test: settings on a private SQLite file, real PostgreSQL and Redis."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.settings import Settings
from tests.support.services import create_pg_database, drop_pg_database
from tests.support.settings import settings_for

pytest_plugins = ["tests.support.data"]


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings that ignore `.env` and use a SQLite file under this test's tmp_path."""

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/btai.db"}
        values.update(overrides)
        return settings_for(**values)

    return build


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    name, url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(name)
