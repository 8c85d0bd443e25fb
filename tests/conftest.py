"""Fixtures shared by every test: settings on a private SQLite file, real PostgreSQL and Redis."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.settings import Settings
from tests.support.services import create_pg_database, drop_pg_database

pytest_plugins = ["tests.support.data"]


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C reaches the commands the tests start, as it does at a terminal.

    A run started in the background (`make test &`, `nohup`, some CI runners) inherits SIGINT
    ignored, and an ignored signal stays ignored across exec: every `btai` a test starts would
    then shrug off the Ctrl-C it sends. A handled signal is reset to the default in the child.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings that ignore `.env` and use a SQLite file under this test's tmp_path."""

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/btai.db"}
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return build


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    name, url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(name)
