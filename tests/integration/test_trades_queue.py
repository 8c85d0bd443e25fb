"""The persistent priority queue on real SQLite and PostgreSQL databases."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import Database, session_scope
from app.db.migrate import upgrade
from app.db.tables.queue import QueueTask
from app.services import queue_store
from app.services.queue import TaskQueue, backoff_delay, priority_for
from app.services.queue_store import ClaimedTask
from app.settings import Settings
from tests.support.metrics import sample
from tests.support.services import create_pg_database, drop_pg_database
from tests.support.timing import scaled

QUICK = {"QUEUE_POLL_INTERVAL": 0.02, "QUEUE_LEASE_SECONDS": 5.0}


@pytest.fixture(params=["sqlite", "postgresql"])
def queue_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/queue.db"
        return
    name, url = create_pg_database("btai_queue")
    try:
        yield url
    finally:
        drop_pg_database(name)


@pytest.fixture
async def make_queue(
    queue_url: str, make_settings: Callable[..., Settings]
) -> AsyncIterator[Callable[..., Awaitable[TaskQueue]]]:
    await upgrade(queue_url)
    opened: list[tuple[TaskQueue, Database]] = []

    async def build(**overrides: Any) -> TaskQueue:
        settings = make_settings(DATABASE_URL=queue_url, **{**QUICK, **overrides})
        db = Database(settings)
        queue = TaskQueue(db, settings, backoff_base=0.01, rng=random.Random(7))
        opened.append((queue, db))
        return queue

    yield build
    for queue, db in opened:
        await queue.shutdown(grace=0)
        await db.dispose()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 20) -> None:
    async with asyncio.timeout(scaled(timeout)):
        while not await check():
            await asyncio.sleep(0.02)


async def rows(queue: TaskQueue) -> list[QueueTask]:
    async with queue.db.sessions() as session:
        return list((await session.scalars(select(QueueTask).order_by(QueueTask.id))).all())


async def test_higher_priority_first_then_oldest(make_queue: Any) -> None:
    queue = await make_queue(QUEUE_MAX_WORKERS=1)
    order: list[str] = []

    async def record(task: ClaimedTask) -> None:
        order.append(task.payload["name"])

    queue.register("record", record, queue="analyses")
    for name, urgency in [("low", "low"), ("high1", "high"), ("crit", "critical"),
                          ("med", "medium"), ("high2", "high")]:  # fmt: skip
        await queue.enqueue("record", {"name": name}, priority=priority_for(urgency))
    await queue.start()
    await eventually(lambda: _true(len(order) == 5))
    assert order == ["crit", "high1", "high2", "med", "low"]


async def _true(value: bool) -> bool:
    return value


async def test_failures_retry_with_backoff_then_dead_letter(make_queue: Any) -> None:
    queue = await make_queue(QUEUE_MAX_RETRIES=2)
    dead: list[str] = []
    flaky_calls: list[int] = []

    async def always_fails(task: ClaimedTask) -> None:
        raise ValueError("boom")

    async def fails_once(task: ClaimedTask) -> str:
        flaky_calls.append(task.attempts)
        if task.attempts == 1:
            raise RuntimeError("transient")
        return "ok"

    async def on_dead(session: AsyncSession, task: ClaimedTask, error: str) -> None:
        dead.append(error)

    queue.register("fails", always_fails, on_dead=on_dead)
    queue.register("flaky", fails_once)
    retries_before = sample("queue_task_retries_total", queue="default")
    dead_before = sample("queue_tasks_total", queue="default", outcome="dead")
    bad = await queue.enqueue("fails", {})
    good = await queue.enqueue("flaky", {})
    await queue.start()

    async def settled() -> bool:
        states = {r.id: r.state for r in await rows(queue)}
        return states[bad] == "dead" and states[good] == "completed"

    await eventually(settled)
    by_id = {r.id: r for r in await rows(queue)}
    assert by_id[bad].attempts == 3  # the first try and QUEUE_MAX_RETRIES=2 retries
    assert "ValueError: boom" in (by_id[bad].last_error or "")
    assert dead == [by_id[bad].last_error]
    assert by_id[good].attempts == 2
    assert by_id[good].result == "ok"
    assert flaky_calls == [1, 2]
    assert (await queue.stats())["dead"] == 1
    assert sample("queue_task_retries_total", queue="default") - retries_before == 3  # 2 + 1
    assert sample("queue_tasks_total", queue="default", outcome="dead") - dead_before == 1


def test_backoff_is_full_jitter_and_capped() -> None:
    rng = random.Random(1)
    delays = [backoff_delay(5, rng, base=1.0) for _ in range(200)]
    assert all(0 <= d <= 16 for d in delays)
    assert max(delays) > 8  # spread over the whole window, not clustered at the top
    assert min(delays) < 4
    assert all(backoff_delay(40, rng) <= 300 for _ in range(50))


async def test_task_over_timeout_is_retried_then_dead(make_queue: Any) -> None:
    queue = await make_queue(QUEUE_TASK_TIMEOUT=0.1, QUEUE_MAX_RETRIES=1)
    task_id = await queue.enqueue("queue.sleep", {"seconds": 30})
    await queue.start()

    async def dead() -> bool:
        return (await rows(queue))[0].state == "dead"

    await eventually(dead)
    row = (await rows(queue))[0]
    assert row.id == task_id
    assert row.attempts == 2
    assert "timed out" in (row.last_error or "")


async def test_expired_lease_runs_again_and_late_completion_is_not_recorded(
    make_queue: Any,
) -> None:
    first = await make_queue(QUEUE_LEASE_SECONDS=0.3)
    task_id = await first.enqueue("queue.echo", {"n": 1})
    lost = await queue_store.claim(first.db, owner="dead-worker", queues=["system"],
                                   kinds=["queue.echo"], lease_seconds=0.3)  # fmt: skip
    assert lost is not None
    assert lost.id == task_id
    second = await make_queue(QUEUE_LEASE_SECONDS=0.3)
    await second.start()

    async def completed() -> bool:
        return (await rows(second))[0].state == "completed"

    await eventually(completed)
    row = (await rows(second))[0]
    assert row.attempts == 2
    assert row.result["task_id"] == task_id
    # The worker presumed dead wakes up and tries to finish: its lease token is stale.
    async with session_scope(first.db.sessions) as session:
        late = await session.execute(
            update(QueueTask).where(queue_store.fenced(lost)).values(state="completed")
        )
    assert late.rowcount == 0  # type: ignore[attr-defined]


async def test_shutdown_lets_running_finish_and_leaves_the_rest_pending(make_queue: Any) -> None:
    queue = await make_queue(QUEUE_MAX_WORKERS=2)
    ids = [await queue.enqueue("queue.sleep", {"seconds": 0.4}) for _ in range(5)]
    await queue.start()
    await eventually(lambda: _true(len(queue._running) == 2))
    outcome = await queue.shutdown(grace=10)
    assert outcome == {"finished": 2, "returned": 0, "leased": 0}
    states = [r.state for r in await rows(queue)]
    assert states.count("completed") == 2
    assert states.count("pending") == 3
    assert all(r.attempts == 0 for r in await rows(queue) if r.state == "pending")
    # a new process (a restart) runs the rest
    again = await make_queue(QUEUE_MAX_WORKERS=4)
    await again.start()

    async def all_done() -> bool:
        return all(r.state == "completed" for r in await rows(again))

    await eventually(all_done)
    assert sorted(r.id for r in await rows(again)) == ids


async def test_shutdown_past_grace_returns_running_tasks_to_pending(make_queue: Any) -> None:
    queue = await make_queue(QUEUE_MAX_WORKERS=2)
    for _ in range(3):
        await queue.enqueue("queue.sleep", {"seconds": 60})
    await queue.start()
    await eventually(lambda: _true(len(queue._running) == 2))
    stats = await queue.stats()
    assert stats["running"] == 2
    assert stats["queues"]["system"]["pending"] == 1
    outcome = await queue.shutdown(grace=0.05)
    assert outcome == {"finished": 0, "returned": 2, "leased": 0}
    remaining = await rows(queue)
    assert [r.state for r in remaining] == ["pending"] * 3
    assert [r.attempts for r in remaining] == [0, 0, 0]
    assert all(r.lease_token is None for r in remaining)


async def test_stats_report_depth_by_priority_and_stuck_leases(make_queue: Any) -> None:
    queue = await make_queue()
    for priority in (0, 0, 3):
        await queue.enqueue("queue.echo", {}, queue="analyses", priority=priority)
    claimed = await queue_store.claim(queue.db, owner="x", queues=["analyses"],
                                      kinds=["queue.echo"], lease_seconds=-1)  # fmt: skip
    assert claimed is not None
    assert claimed.priority == 3
    stats = await queue.stats()
    assert stats["queues"]["analyses"]["by_priority"] == {"0": 2}
    assert stats["running"] == 1
    assert stats["stuck_leases"] == 1
    assert stats["oldest_pending_age_seconds"] >= 0
    assert await queue.reap_expired() == 1
    assert (await queue.stats())["stuck_leases"] == 0


async def test_two_queues_on_one_database_run_each_task_once(make_queue: Any) -> None:
    one, two = await make_queue(QUEUE_MAX_WORKERS=4), await make_queue(QUEUE_MAX_WORKERS=4)
    for n in range(60):
        await one.enqueue("queue.echo", {"n": n})
    await one.start()
    await two.start()

    async def drained() -> bool:
        return all(r.state == "completed" for r in await rows(one))

    await eventually(drained)
    done = await rows(one)
    assert len(done) == 60
    assert all(r.attempts == 1 for r in done)
    assert sorted(r.result["echo"]["n"] for r in done) == list(range(60))


async def test_dedupe_key_enqueues_once(make_queue: Any) -> None:
    queue = await make_queue()
    first = await queue.enqueue("queue.echo", {"a": 1}, dedupe_key="same")
    second = await queue.enqueue("queue.echo", {"a": 2}, dedupe_key="same")
    assert first == second
    assert len(await rows(queue)) == 1
