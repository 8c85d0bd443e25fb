"""An idle queue wakes for new work: LISTEN/NOTIFY on PostgreSQL, its own enqueues on SQLite.

Every queue here polls only once a minute, so a task that runs within the test's deadline
was announced, not found by the poll.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from app.db.engine import Database
from app.db.migrate import upgrade
from app.services.queue import TaskQueue
from app.services.queue_store import ClaimedTask
from app.settings import Settings

SLOW_POLL = {"QUEUE_POLL_INTERVAL": 60.0, "QUEUE_LEASE_SECONDS": 30.0}
DEADLINE = 20.0  # seconds: generous for a busy machine, a third of the poll


@pytest.fixture
async def queues(
    pg_url: str, make_settings: Callable[..., Settings]
) -> AsyncIterator[Callable[[], Awaitable[TaskQueue]]]:
    await upgrade(pg_url)
    opened: list[tuple[TaskQueue, Database]] = []

    async def build() -> TaskQueue:
        settings = make_settings(DATABASE_URL=pg_url, **SLOW_POLL)
        db = Database(settings)
        queue = TaskQueue(db, settings, rng=random.Random(3))
        opened.append((queue, db))
        return queue

    yield build
    for queue, db in opened:
        await queue.shutdown(grace=0)
        await db.dispose()


def recorder(queue: TaskQueue) -> asyncio.Queue[str]:
    ran: asyncio.Queue[str] = asyncio.Queue()

    async def record(task: ClaimedTask) -> None:
        ran.put_nowait(task.payload["name"])

    queue.register("record", record)
    return ran


async def next_run(ran: asyncio.Queue[str]) -> str:
    async with asyncio.timeout(DEADLINE):
        return await ran.get()


@pytest.mark.postgres
async def test_a_task_enqueued_elsewhere_wakes_the_idle_worker_on_postgresql(queues: Any) -> None:
    worker, producer = await queues(), await queues()
    ran = recorder(worker)
    recorder(producer)  # knows the kind; never started, so it only enqueues
    await worker.start()
    await asyncio.sleep(0)  # the dispatcher finds nothing and goes idle
    await producer.enqueue("record", {"name": "first"})
    assert await next_run(ran) == "first"
    await producer.enqueue("record", {"name": "second"})
    assert await next_run(ran) == "second"


@pytest.mark.postgres
async def test_a_lost_listening_connection_is_replaced(queues: Any) -> None:
    worker, producer = await queues(), await queues()
    ran = recorder(worker)
    recorder(producer)
    await worker.start()
    async with producer.db.sessions() as session:
        killed = await session.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
            )
        )
    assert killed == 1
    async with asyncio.timeout(DEADLINE):
        while not worker._listener.listening:  # the loss woke the dispatcher: it listens again
            await asyncio.sleep(0.02)
    await producer.enqueue("record", {"name": "after"})
    assert await next_run(ran) == "after"


@pytest.mark.postgres
async def test_a_delayed_task_runs_when_due_while_listening(queues: Any) -> None:
    worker = await queues()
    ran = recorder(worker)
    await worker.start()
    await worker.enqueue("record", {"name": "later"}, delay=0.5)
    assert await next_run(ran) == "later"


async def test_an_enqueue_wakes_its_own_idle_worker_on_sqlite(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/wake.db"
    await upgrade(url)
    settings = make_settings(DATABASE_URL=url, **SLOW_POLL)
    db = Database(settings)
    queue = TaskQueue(db, settings)
    ran = recorder(queue)
    try:
        await queue.start()
        await asyncio.sleep(0)
        await queue.enqueue("record", {"name": "local"})
        assert await next_run(ran) == "local"
    finally:
        await queue.shutdown(grace=0)
        await db.dispose()
