"""SIGTERM while PostgreSQL stalls: the server still exits within the grace period, and no
queued task is lost or completed twice (a task it could not return keeps a lease that lapses).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from app.db.tables.queue import QueueTask
from btai_ops.processes import stop_process
from tests.integration.test_trades_servers import enqueue, query, states, wait_for
from tests.support.server import run_server
from tests.support.services import PG_HOST, PG_PORT
from tests.support.tcp_proxy import TcpProxy, tcp_proxy
from tests.support.timing import scaled

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
GRACE = 3
TASKS = 4
ENV = {
    "RATE_LIMIT_ENABLED": "false",
    "QUEUE_POLL_INTERVAL": "0.1",
    "QUEUE_MAX_WORKERS": "2",
    "QUEUE_LEASE_SECONDS": "6",
    "GRACEFUL_TIMEOUT": str(GRACE),
    "HEALTH_MONITOR_INTERVAL": "0",
    "LOG_LEVEL": "INFO",
    # Longer than the grace on purpose: the stop must not wait for a statement to time out.
    "DB_STATEMENT_TIMEOUT": "120",
}


def through(proxy: TcpProxy, url: str) -> str:
    return url.replace(f"{PG_HOST}:{PG_PORT}/", f"{proxy.address}/")


@contextmanager
def table_locked(url: str, table: str) -> Iterator[None]:
    """Hold an ACCESS EXCLUSIVE lock on `table` from another session until the block ends."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    locked, release = threading.Event(), threading.Event()

    async def hold() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            async with conn.transaction():
                await conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
                locked.set()
                while not release.is_set():
                    await asyncio.sleep(0.05)
        finally:
            await conn.close()

    holder = threading.Thread(target=asyncio.run, args=(hold(),), daemon=True)
    holder.start()
    try:
        assert locked.wait(scaled(30)), "could not take the table lock"
        yield
    finally:
        release.set()
        holder.join(timeout=scaled(30))


def stalled_requests(base_url: str, count: int) -> list[threading.Thread]:
    """Requests that read the database and hang with it; their outcome does not matter."""

    def ask() -> None:
        with suppress(httpx.HTTPError):
            httpx.get(f"{base_url}/api/v1/teams/BOS", timeout=scaled(60))

    threads = [threading.Thread(target=ask, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads


def completed_exactly_once(url: str, tmp_path: Path) -> dict[str, int]:
    """Serve again on a healthy database until every task has finished; the final states."""
    env = {**ENV, "DATABASE_URL": url}
    with run_server(tmp_path / "after", env=env, args=["--no-migrate"]):
        wait_for(lambda: states(url).get("completed") == TASKS, timeout=90, what="all tasks")
    return states(url)


def sigterm_exits_in_time(server_process: object, base_url: str) -> int:
    import subprocess

    assert isinstance(server_process, subprocess.Popen)
    stalled_requests(base_url, 3)
    server_process.terminate()
    try:
        return server_process.wait(timeout=GRACE + scaled(5))
    except subprocess.TimeoutExpired:
        stop_process(server_process, timeout=1)
        raise AssertionError(f"no exit within GRACEFUL_TIMEOUT {GRACE}s + 5s") from None


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_with_a_table_locked_exits_within_the_grace(
    seeded_pg_url: str, tmp_path: Path, workers: str
) -> None:
    url = seeded_pg_url
    (tmp_path / "during").mkdir()
    (tmp_path / "after").mkdir()
    env = {**ENV, "DATABASE_URL": url, "API_WORKERS": workers}
    with run_server(tmp_path / "during", env=env, args=["--no-migrate"]) as server:
        enqueue(url, "queue.sleep", [{"seconds": 1.5}] * TASKS)
        wait_for(lambda: states(url).get("running", 0) >= 1, what="a task to run")
        with table_locked(url, "queue_tasks"), table_locked(url, "teams"):
            exit_code = sigterm_exits_in_time(server.process, server.base_url)
        log = server.log()
    assert exit_code == 0, log
    final = completed_exactly_once(url, tmp_path)
    assert final == {"completed": TASKS}
    results = query(url, select(QueueTask.id, QueueTask.result))
    assert len({task_id for task_id, _ in results}) == TASKS


def test_sigterm_with_the_database_black_holed_exits_within_the_grace(
    seeded_pg_url: str, tmp_path: Path
) -> None:
    url = seeded_pg_url
    (tmp_path / "during").mkdir()
    (tmp_path / "after").mkdir()
    with tcp_proxy((PG_HOST, PG_PORT)) as proxy:
        env = {**ENV, "DATABASE_URL": through(proxy, url), "API_WORKERS": "2"}
        with run_server(tmp_path / "during", env=env, args=["--no-migrate"]) as server:
            enqueue(url, "queue.sleep", [{"seconds": 1.5}] * TASKS)
            wait_for(lambda: states(url).get("running", 0) >= 1, what="a task to run")
            proxy.black_hole()
            exit_code = sigterm_exits_in_time(server.process, server.base_url)
            log = server.log()
    assert exit_code == 0, log
    assert completed_exactly_once(url, tmp_path) == {"completed": TASKS}
