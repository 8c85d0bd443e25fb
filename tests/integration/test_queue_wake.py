"""An idle queue wakes for new work: LISTEN/NOTIFY on PostgreSQL; on SQLite its own enqueues,
and other processes' by a watch of the database files; and its stop never cancels a database
call in progress on SQLite.

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
from app.services import queue as queue_module
from app.services import queue_store
from app.services.queue import TaskQueue
from app.services.queue_store import ClaimedTask
from app.services.queue_wake import sqlite_files
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


async def test_a_task_enqueued_by_another_process_wakes_the_idle_worker_on_sqlite(
    tmp_path: Path, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The database is polled only every ten minutes: a task that runs within the deadline was
    # seen in the files' change, which is looked at every QUEUE_POLL_INTERVAL.
    monkeypatch.setattr(queue_module, "FALLBACK_POLL", 600.0)
    url = f"sqlite+aiosqlite:///{tmp_path}/shared.db"
    await upgrade(url)
    settings = make_settings(DATABASE_URL=url, QUEUE_POLL_INTERVAL=0.2, QUEUE_LEASE_SECONDS=30.0)
    worker_db, producer_db = Database(settings), Database(settings)  # as two processes would
    worker, producer = TaskQueue(worker_db, settings), TaskQueue(producer_db, settings)
    ran = recorder(worker)
    recorder(producer)  # knows the kind; never started, so it only enqueues
    try:
        await worker.start()
        assert worker._listener.listening  # watching the files, so not polling the database
        for name in ("first", "second"):
            await producer.enqueue("record", {"name": name})
            assert await next_run(ran) == name
    finally:
        await worker.shutdown(grace=0)
        await worker_db.dispose()
        await producer_db.dispose()


async def test_an_in_memory_sqlite_queue_polls_instead_of_watching(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(DATABASE_URL="sqlite+aiosqlite:///:memory:")
    db = Database(settings)
    try:
        assert sqlite_files(settings.database_url) is None
        assert not TaskQueue(db, settings)._listener.supported
    finally:
        await db.dispose()


async def test_shutdown_lets_the_idle_dispatchers_query_finish_on_sqlite(
    tmp_path: Path, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/stop.db"
    await upgrade(url)
    settings = make_settings(DATABASE_URL=url, **SLOW_POLL)
    db = Database(settings)
    queue = TaskQueue(db, settings)
    asked, answer = asyncio.Event(), asyncio.Event()
    outcomes: list[str] = []
    next_due = queue_store.next_due

    async def held_next_due(*args: Any, **kwargs: Any) -> float | None:
        asked.set()
        try:
            await answer.wait()  # the query is in progress until the stop has begun
            due = await next_due(*args, **kwargs)
        except asyncio.CancelledError:
            outcomes.append("cancelled")
            raise
        outcomes.append("finished")
        return due

    monkeypatch.setattr(queue_store, "next_due", held_next_due)
    try:
        await queue.start()
        async with asyncio.timeout(DEADLINE):
            await asked.wait()  # idle: the dispatcher looks for the next due task
        stopping = asyncio.create_task(queue.shutdown(grace=0))
        async with asyncio.timeout(DEADLINE):
            while not queue._stopping.is_set():
                await asyncio.sleep(0)
        answer.set()
        async with asyncio.timeout(DEADLINE):
            await stopping
        assert outcomes == ["finished"]
    finally:
        await queue.shutdown(grace=0)
        await db.dispose()
