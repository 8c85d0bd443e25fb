"""The queue across real server processes: kill -9, SIGTERM within grace, two servers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from app.db.tables.queue import QueueTask
from app.db.tables.trades import TradeAnalysis
from tests.support.ai_stub import AIStub
from tests.support.server import run_server
from tests.support.timing import scaled

pytestmark = pytest.mark.slow

BASE_ENV = {"RATE_LIMIT_ENABLED": "false", "QUEUE_POLL_INTERVAL": "0.1", "API_WORKERS": "1",
            "LOG_LEVEL": "WARNING"}  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """A seeded database (copied from a template), so servers start without seeding."""
    fixture = "seeded_sqlite_url" if request.param == "sqlite" else "seeded_pg_url"
    url: str = request.getfixturevalue(fixture)
    return url


def query(url: str, statement: Any) -> list[Any]:
    async def run() -> list[Any]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                return list((await conn.execute(statement)).all())
        finally:
            await engine.dispose()

    return asyncio.run(run())


def wait_for(check: Callable[[], bool], timeout: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + scaled(timeout)
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def enqueue(url: str, kind: str, payloads: list[dict[str, Any]]) -> None:
    """Insert tasks in one transaction, as a producer elsewhere would, and wake the workers
    (`NOTIFY btai_queue` on PostgreSQL, as the README asks of outside producers)."""

    async def run() -> None:
        engine = create_async_engine(url)
        now = time.time()
        rows = [{"queue": "system", "kind": kind, "priority": 0, "payload": p, "state": "pending",
                 "attempts": 0, "max_retries": 3, "enqueued_at": now, "available_at": now}
                for p in payloads]  # fmt: skip
        try:
            async with engine.begin() as conn:
                await conn.execute(QueueTask.__table__.insert(), rows)
                if conn.dialect.name == "postgresql":
                    await conn.execute(text("SELECT pg_notify('btai_queue', '')"))
        finally:
            await engine.dispose()

    asyncio.run(run())


def states(url: str) -> dict[str, int]:
    rows = query(url, select(QueueTask.state, func.count()).group_by(QueueTask.state))
    return {state: count for state, count in rows}


def test_kill_9_during_analyses_then_restart_completes_each_exactly_once(
    db_url: str, tmp_path: Path
) -> None:
    env = {**BASE_ENV, "DATABASE_URL": db_url, "QUEUE_LEASE_SECONDS": "2",
           "QUEUE_MAX_WORKERS": "3", "AI_PROVIDER": "openai", "AI_TIMEOUT": "60"}  # fmt: skip
    with AIStub("hang") as stub:
        env["AI_BASE_URL"] = stub.base_url
        with run_server(tmp_path, env=env) as server:
            ids = []
            for n in range(5):
                body = {"team": "NYA", "request": f"we need a shortstop, request {n} of 5"}
                response = httpx.post(f"{server.base_url}/api/v1/trades/analyze", json=body)
                assert response.status_code == 202
                ids.append(response.json()["analysis_id"])
            # three analyses hang in the provider call; two wait in the queue
            wait_for(lambda: stub.calls == 3, what="three analyses in the provider")
            server.process.kill()
            server.process.wait()
        running = query(db_url, select(func.count()).where(QueueTask.state == "running"))
        assert running[0][0] == 3
        stub.mode = "answer"
        with run_server(tmp_path, env=env) as server:

            def all_completed() -> bool:
                rows = query(db_url, select(TradeAnalysis.status))
                return [status for (status,) in rows] == ["completed"] * 5

            wait_for(all_completed, what="every analysis to complete after the restart")
            for analysis_id in ids:
                body = httpx.get(f"{server.base_url}/api/v1/trades/analyses/{analysis_id}").json()
                assert body["result"]["ai"]["provider"] == "openai"
    rows = query(db_url, select(TradeAnalysis.id, TradeAnalysis.completions))
    assert sorted(rows) == sorted((i, 1) for i in ids)  # none lost, none completed twice
    tasks = query(db_url, select(QueueTask.state, QueueTask.attempts))
    assert sorted(tasks) == [("completed", 1)] * 2 + [("completed", 2)] * 3


@pytest.mark.postgres
def test_two_servers_on_one_postgresql_drain_200_tasks_exactly_once(
    seeded_pg_url: str, tmp_path: Path
) -> None:
    pg_url = seeded_pg_url
    env = {**BASE_ENV, "DATABASE_URL": pg_url, "QUEUE_MAX_WORKERS": "4"}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with run_server(tmp_path / "a", env=env) as one, run_server(tmp_path / "b", env=env) as two:
        enqueue(pg_url, "queue.sleep", [{"seconds": 0.02, "n": n} for n in range(200)])
        wait_for(lambda: states(pg_url) == {"completed": 200}, what="200 tasks to complete")
        pids = {one.process.pid, two.process.pid}
    rows = query(pg_url, select(QueueTask.attempts, QueueTask.result))
    assert len(rows) == 200
    assert all(attempts == 1 for attempts, _ in rows)  # each claimed and run exactly once
    assert {result["pid"] for _, result in rows} == pids  # both servers took a share


def test_sigterm_finishes_running_tasks_within_grace_and_keeps_the_rest(
    seeded_sqlite_url: str, tmp_path: Path
) -> None:
    url = seeded_sqlite_url
    env = {**BASE_ENV, "DATABASE_URL": url, "QUEUE_MAX_WORKERS": "2", "GRACEFUL_TIMEOUT": "20"}
    with run_server(tmp_path, env=env) as server:
        enqueue(url, "queue.sleep", [{"seconds": 3, "n": n} for n in range(5)])
        wait_for(lambda: states(url).get("running") == 2, what="two running tasks")
        assert server.stop() == 0
    after = states(url)
    # the two running at SIGTERM finished; nothing new was claimed, nothing is left running
    assert after.get("completed", 0) >= 2
    assert after.get("pending", 0) == 5 - after["completed"] >= 1
    assert "running" not in after
    pending = query(url, select(QueueTask.attempts).where(QueueTask.state == "pending"))
    assert {attempts for (attempts,) in pending} == {0}
    with run_server(tmp_path, env=env):
        wait_for(lambda: states(url) == {"completed": 5}, what="the rest to run after restart")
