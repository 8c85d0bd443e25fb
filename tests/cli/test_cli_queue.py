"""`btai queue stats` against a real, migrated SQLite database."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.db.engine import Database
from app.db.migrate import upgrade_sync
from app.services.queue import TaskQueue
from app.settings import Settings
from btai_ops.cli import app

runner = CliRunner()


async def _enqueue(settings: Settings) -> None:
    db = Database(settings)
    try:
        queue = TaskQueue(db, settings)
        for priority in (0, 2, 2):
            await queue.enqueue("queue.echo", {}, queue="analyses", priority=priority)
    finally:
        await db.dispose()


def test_queue_stats_json_shows_depth_per_priority(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_settings: Callable[..., Settings]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/q.db"
    upgrade_sync(url)
    asyncio.run(_enqueue(make_settings(DATABASE_URL=url)))
    monkeypatch.setenv("DATABASE_URL", url)
    result = runner.invoke(app, ["queue", "stats", "--json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    assert stats["pending"] == 3
    assert stats["queues"]["analyses"]["by_priority"] == {"0": 1, "2": 2}
    table = runner.invoke(app, ["queue", "stats"])
    assert table.exit_code == 0
    assert "analyses" in table.stdout
    assert "3 pending" in table.stdout


def test_queue_stats_on_unmigrated_database_says_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/empty.db")
    result = runner.invoke(app, ["queue", "stats"])
    assert result.exit_code == 1
    assert "btai db upgrade" in result.output
