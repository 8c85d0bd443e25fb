"""Idle cost of `btai serve --workers N`: CPU while idle, and how soon an idle server starts a task.

Starts the server on a free loopback port, sends `--requests` mixed requests, lets it settle,
then reads the CPU seconds (utime + stime) of the supervisor and of every worker over
`--idle-seconds` of idleness. Then, still idle, it queues `--tasks` tasks one at a time, each
after `--gap` seconds of quiet, two ways: as a producer outside the service does (one
transaction that inserts a `queue.echo` task and sends `pg_notify('btai_queue', '')`), and
through the API (`POST /api/v1/trades/analyze`). The delay of each is the task's `started_at`
minus its `enqueued_at`, both written by the database's clients on this one machine.

    createdb -h 127.0.0.1 -U postgres btai_idle
    DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/btai_idle \\
        python -m benchmarks.idle --workers 2 --requests 200 --idle-seconds 60

DATABASE_URL must name PostgreSQL (migrated and seeded by `btai serve` itself).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.memory import children, command_of, cpu_seconds, memory_kb, send_mixed
from benchmarks.sidebyside import Server, start, stop

ANALYSIS = {"team": "NYA", "request": "We need a left-handed starting pitcher.", "urgency": "low"}
INSERT = """
INSERT INTO queue_tasks (queue, kind, priority, payload, state, attempts, max_retries,
                         enqueued_at, available_at)
VALUES ('system', 'queue.echo', 0, $1::json, 'pending', 0, 0, $2, $2)
RETURNING id
"""


async def started_after(db: Any, task_id: int, patience: float = 30.0) -> float:
    """Milliseconds from enqueue to start of one task, polled until it has started."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        row = await db.fetchrow(
            "SELECT enqueued_at, started_at FROM queue_tasks WHERE id = $1", task_id
        )
        if row is not None and row["started_at"] is not None:
            return float(row["started_at"] - row["enqueued_at"]) * 1000.0
        await asyncio.sleep(0.01)
    raise SystemExit(f"task {task_id} did not start within {patience:g} s")


async def outside_producer(db: Any, number: int) -> int:
    async with db.transaction():
        task_id: int = await db.fetchval(INSERT, json.dumps({"n": number}), time.time())
        await db.execute("SELECT pg_notify('btai_queue', '')")
    return task_id


async def through_the_api(db: Any, port: int) -> int:
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
        task_id = await db.fetchval("SELECT id FROM queue_tasks WHERE dedupe_key = $1", key)
        if task_id is not None:
            return int(task_id)
        await asyncio.sleep(0.01)
    raise SystemExit(f"no task queued for analysis {analysis_id}")


async def start_delays(url: str, port: int, tasks: int, gap: float) -> dict[str, list[float]]:
    import asyncpg

    db = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    delays: dict[str, list[float]] = {"outside producer": [], "API (trade analysis)": []}
    try:
        for number in range(tasks):
            await asyncio.sleep(gap)  # idle again: every dispatcher back to its long wait
            task_id = await outside_producer(db, number)
            delays["outside producer"].append(await started_after(db, task_id))
            await asyncio.sleep(gap)
            task_id = await through_the_api(db, port)
            delays["API (trade analysis)"].append(await started_after(db, task_id))
    finally:
        await db.close()
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
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        raise SystemExit("DATABASE_URL must name PostgreSQL (postgresql+asyncpg://...)")
    env = dict(os.environ)
    env.setdefault("RATE_LIMIT_REQUESTS", "100000000")
    server = Server("btai", f".venv/bin/btai serve --port {{port}} --workers {args.workers}")
    with tempfile.TemporaryDirectory(prefix="idle-") as tmp:
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
