"""`btai queue list|retry|purge` on dead-lettered tasks in a real SQLite queue table."""

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

from app.db.engine import Database
from app.db.migrate import upgrade
from app.db.tables.queue import QueueTask
from tests.support.settings import settings_for

BTAI = str(Path(sys.executable).with_name("btai"))


def _btai(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": url}
    return subprocess.run(
        [BTAI, "queue", *args], capture_output=True, text=True, env=env, timeout=120
    )


async def _seed(url: str) -> None:
    await upgrade(url)
    db = Database(settings_for(DATABASE_URL=url))
    now = time.time()
    async with db.sessions() as session, session.begin():
        for index, state in enumerate(("dead", "dead", "pending")):
            session.add(
                QueueTask(
                    queue="analyses",
                    kind="trade_analysis",
                    payload={"n": index},
                    state=state,
                    attempts=4,
                    max_retries=3,
                    enqueued_at=now,
                    available_at=now,
                    finished_at=now if state == "dead" else None,
                    last_error="TimeoutError: provider did not answer\nTraceback ...",
                )
            )
    await db.dispose()


def test_dead_tasks_are_listed_retried_and_purged(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/btai.db"
    asyncio.run(_seed(url))
    dead = json.loads(_btai(url, "list", "--json").stdout)
    assert [t["attempts"] for t in dead] == [4, 4]
    assert "TimeoutError" in _btai(url, "list").stdout

    retried = _btai(url, "retry", str(dead[0]["id"]))
    assert retried.returncode == 0, retried.stderr
    assert "retrying 1 task" in retried.stderr
    assert [t["id"] for t in json.loads(_btai(url, "list", "--json").stdout)] == [dead[1]["id"]]
    assert _btai(url, "retry", "99999").returncode == 1

    purged = _btai(url, "purge", "--yes")
    assert "purged 1 dead-lettered task" in purged.stderr
    assert json.loads(_btai(url, "list", "--json").stdout) == []
    stats = json.loads(_btai(url, "stats", "--json").stdout)
    assert stats["dead"] == 0


def test_retry_without_ids_is_a_usage_error(tmp_path: Path) -> None:
    done = _btai(f"sqlite+aiosqlite:///{tmp_path}/btai.db", "retry")
    assert done.returncode == 2
    assert done.stderr.startswith("Error: give task ids or --all")
