"""Idle cost of `btai serve --workers N`: CPU while idle, and how soon an idle server starts a task.

Starts the server on a free loopback port, sends `--requests` mixed requests, lets it settle,
then reads the CPU seconds (utime + stime) of the supervisor and of every worker over
`--idle-seconds` of idleness. Then, still idle, it queues `--tasks` tasks one at a time, each
after `--gap` seconds of quiet, two ways: as a producer outside the service does (one
transaction that inserts a `queue.echo` task, and on PostgreSQL sends
`pg_notify('btai_queue', '')`), and through the API (`POST /api/v1/trades/analyze`). The delay
of each is the task's `started_at` minus its `enqueued_at`, both written by the database's
clients on this one machine.

    python -m benchmarks.idle --workers 2 --requests 200 --idle-seconds 60

runs on a fresh SQLite file (the embedded default); on PostgreSQL:

    createdb -h 127.0.0.1 -U postgres btai_idle
    DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/btai_idle \\
        python -m benchmarks.idle --workers 2 --requests 200 --idle-seconds 60

Either database is migrated and seeded by `btai serve` itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.memory import children, command_of, cpu_seconds, memory_kb, send_mixed
from benchmarks.sidebyside import Server, start, stop

ANALYSIS = {"team": "NYA", "request": "We need a left-handed starting pitcher.", "urgency": "low"}
PG_INSERT = """
INSERT INTO queue_tasks (queue, kind, priority, payload, state, attempts, max_retries,
                         enqueued_at, available_at)
VALUES ('system', 'queue.echo', 0, $1::json, 'pending', 0, 0, $2, $2)
RETURNING id
"""
SQLITE_INSERT = """
INSERT INTO queue_tasks (queue, kind, priority, payload, state, attempts, max_retries,
                         enqueued_at, available_at)
VALUES ('system', 'queue.echo', 0, ?, 'pending', 0, 0, ?, ?)
RETURNING id
"""


class PostgresTasks:
    """The queue table as an outside producer on PostgreSQL sees it (asyncpg)."""

    def __init__(self, db: Any) -> None:
        self.db = db

    @classmethod
    async def connect(cls, url: str) -> PostgresTasks:
        import asyncpg

        return cls(await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://")))

    async def insert(self, number: int) -> int:
        async with self.db.transaction():
            task_id: int = await self.db.fetchval(PG_INSERT, json.dumps({"n": number}), time.time())
            await self.db.execute("SELECT pg_notify('btai_queue', '')")
        return task_id

    async def times(self, task_id: int) -> tuple[float, float | None] | None:
        row = await self.db.fetchrow(
            "SELECT enqueued_at, started_at FROM queue_tasks WHERE id = $1", task_id
        )
        return None if row is None else (row["enqueued_at"], row["started_at"])

    async def by_dedupe_key(self, key: str) -> int | None:
        found = await self.db.fetchval("SELECT id FROM queue_tasks WHERE dedupe_key = $1", key)
        return None if found is None else int(found)

    async def close(self) -> None:
        await self.db.close()


class SqliteTasks:
    """The same on SQLite (the standard library's driver, in a thread), a process apart from
    the server as a second producer would be."""

    def __init__(self, url: str) -> None:
        self.path = url.split(":///", 1)[1]

    def _first_row(self, sql: str, *args: Any) -> tuple[Any, ...] | None:
        connection = sqlite3.connect(self.path, timeout=30)
        with contextlib.closing(connection), connection:  # one transaction, committed, closed
            row: tuple[Any, ...] | None = connection.execute(sql, args).fetchone()
        return row

    async def insert(self, number: int) -> int:
        now = time.time()
        payload = json.dumps({"n": number})
        row = await asyncio.to_thread(self._first_row, SQLITE_INSERT, payload, now, now)
        assert row is not None
        return int(row[0])

    async def times(self, task_id: int) -> tuple[float, float | None] | None:
        sql = "SELECT enqueued_at, started_at FROM queue_tasks WHERE id = ?"
        row = await asyncio.to_thread(self._first_row, sql, task_id)
        return (row[0], row[1]) if row is not None else None

    async def by_dedupe_key(self, key: str) -> int | None:
        sql = "SELECT id FROM queue_tasks WHERE dedupe_key = ?"
        row = await asyncio.to_thread(self._first_row, sql, key)
        return int(row[0]) if row is not None else None

    async def close(self) -> None:
        return None


Tasks = PostgresTasks | SqliteTasks


async def started_after(tasks: Tasks, task_id: int, patience: float = 30.0) -> float:
    """Milliseconds from enqueue to start of one task, polled until it has started."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        found = await tasks.times(task_id)
        if found is not None and found[1] is not None:
            return float(found[1] - found[0]) * 1000.0
        await asyncio.sleep(0.01)
    raise SystemExit(f"task {task_id} did not start within {patience:g} s")


async def through_the_api(tasks: Tasks, port: int) -> int:
    def post() -> str:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        body = json.dumps(ANALYSIS).encode()
        connection.request(
            "POST",
            "/api/v1/trades/analyze",
            body=body,
            headers={"Content-Type": "application/json"},
        )
        response = connection.getresponse()
        payload = json.loads(response.read())
        if response.status != 202:
            raise SystemExit(f"POST /api/v1/trades/analyze answered {response.status}: {payload}")
        return str(payload["analysis_id"])

    analysis_id = await asyncio.to_thread(post)
    key = f"analysis:{analysis_id}"
    for _ in range(100):
        task_id = await tasks.by_dedupe_key(key)
        if task_id is not None:
            return task_id
        await asyncio.sleep(0.01)
    raise SystemExit(f"no task queued for analysis {analysis_id}")


async def start_delays(url: str, port: int, count: int, gap: float) -> dict[str, list[float]]:
    tasks: Tasks = (
        await PostgresTasks.connect(url) if url.startswith("postgresql") else SqliteTasks(url)
    )
    delays: dict[str, list[float]] = {"outside producer": [], "API (trade analysis)": []}
    try:
        for number in range(count):
            await asyncio.sleep(gap)  # idle again: every dispatcher back to its long wait
            task_id = await tasks.insert(number)
            delays["outside producer"].append(await started_after(tasks, task_id))
            await asyncio.sleep(gap)
            task_id = await through_the_api(tasks, port)
            delays["API (trade analysis)"].append(await started_after(tasks, task_id))
    finally:
        await tasks.close()
    return delays


def idle_cpu(processes: list[int], seconds: float) -> dict[int, float]:
    before = {pid: cpu_seconds(pid) for pid in processes}
    time.sleep(seconds)
    return {pid: cpu_seconds(pid) - before[pid] for pid in processes}


def role_of(pid: int, supervisor: int, port: int) -> str:
    """supervisor, worker (holds the listening socket) or helper (anything else it started)."""
    import psutil

    if pid == supervisor:
        return "supervisor"
    listening = psutil.Process(pid).net_connections(kind="inet")
    held = any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in listening)
    return "worker" if held else "helper"


def report(supervisor: int, port: int, used: dict[int, float], seconds: float) -> None:
    print(f"idle for {seconds:g} s; CPU seconds per process")
    print(f"{'pid':>8} {'role':<11} {'RSS MB':>8} {'CPU s':>8} {'% of a core':>12} command")
    for pid, spent in used.items():
        role = role_of(pid, supervisor, port)
        rss = memory_kb(pid)["rss"] / 1024
        print(
            f"{pid:>8} {role:<11} {rss:8.1f} {spent:8.3f} {100 * spent / seconds:11.3f}% "
            f"{command_of(pid)}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--idle-seconds", type=float, default=60)
    parser.add_argument("--tasks", type=int, default=10, help="Tasks queued each way.")
    parser.add_argument("--gap", type=float, default=2.0, help="Seconds of quiet before each.")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    env.setdefault("RATE_LIMIT_REQUESTS", "100000000")
    server = Server("btai", f".venv/bin/btai serve --port {{port}} --workers {args.workers}")
    with tempfile.TemporaryDirectory(prefix="idle-") as tmp:
        url = env.setdefault("DATABASE_URL", f"sqlite+aiosqlite:///{tmp}/idle.db")
        if not url.startswith(("postgresql", "sqlite")) or url.endswith(":memory:"):
            raise SystemExit("DATABASE_URL must name PostgreSQL or a SQLite file")
        start(server, env, False, "/api/v1/health/liveness", Path(tmp))
        assert server.process is not None
        try:
            send_mixed(server.port, args.requests)
            time.sleep(2)
            supervisor = server.process.pid
            processes = [supervisor, *children(supervisor)]
            used = idle_cpu(processes, args.idle_seconds)
            report(supervisor, server.port, used, args.idle_seconds)
            delays = asyncio.run(start_delays(url, server.port, args.tasks, args.gap))
            print(f"\nenqueue to start on an idle server ({args.gap:g} s quiet before each), ms")
            for way, values in delays.items():
                print(
                    f"  {way:<22} median {statistics.median(values):7.1f}  "
                    f"max {max(values):7.1f}  ({len(values)} tasks)"
                )
        finally:
            stop(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
