"""The queue's SQL: claiming under a lease, fenced state changes, reaping, and statistics.

Every statement that changes a claimed task is fenced by its `lease_token`, so a worker that
lost its lease (it was too slow, or presumed dead) can no longer change the task.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, select, update

from app.db.engine import Database, session_scope
from app.db.tables.queue import QueueTask


@dataclass(frozen=True, slots=True)
class ClaimedTask:
    id: int
    queue: str
    kind: str
    priority: int
    payload: dict[str, Any]
    attempts: int
    max_retries: int
    lease_token: str
    enqueued_at: float


def fenced(task: ClaimedTask) -> ColumnElement[bool]:
    """Rows that still belong to this claim: same lease token, still running."""
    t = QueueTask
    return and_(t.id == task.id, t.lease_token == task.lease_token, t.state == "running")


async def claim(
    db: Database,
    *,
    owner: str,
    queues: Sequence[str],
    kinds: Sequence[str],
    lease_seconds: float,
) -> ClaimedTask | None:
    """Atomically take the highest-priority, oldest due task of `queues` (None when idle)."""
    now = time.time()
    token = uuid.uuid4().hex
    t = QueueTask
    candidate = (
        select(t.id)
        .where(t.state == "pending", t.queue.in_(queues), t.kind.in_(kinds))
        .where(t.available_at <= now)
        .order_by(t.priority.desc(), t.enqueued_at, t.id)
        .limit(1)
    )
    if db.backend == "postgresql":
        # Concurrent claimers skip rows another transaction holds instead of waiting on them.
        candidate = candidate.with_for_update(skip_locked=True)
    statement = (
        update(t)
        .where(t.id == candidate.scalar_subquery())
        .values(
            state="running",
            attempts=t.attempts + 1,
            lease_owner=owner,
            lease_token=token,
            lease_expires_at=now + lease_seconds,
            started_at=now,
        )
        .returning(
            t.id, t.queue, t.kind, t.priority, t.payload, t.attempts, t.max_retries, t.enqueued_at
        )
    )
    async with session_scope(db.sessions) as session:
        row = (await session.execute(statement)).first()
    if row is None:
        return None
    return ClaimedTask(
        row[0], row[1], row[2], row[3], dict(row[4] or {}), row[5], row[6], token, row[7]
    )


async def next_due(db: Database, *, queues: Sequence[str], kinds: Sequence[str]) -> float | None:
    """When the earliest pending task of `queues` becomes due (epoch seconds), or None."""
    t = QueueTask
    async with db.sessions() as session:
        due = await session.scalar(
            select(func.min(t.available_at)).where(
                t.state == "pending", t.queue.in_(queues), t.kind.in_(kinds)
            )
        )
    return None if due is None else float(due)


async def release(db: Database, task: ClaimedTask) -> bool:
    """Give a claimed task back to pending without counting the interrupted attempt."""
    async with session_scope(db.sessions) as session:
        changed = await session.execute(
            update(QueueTask)
            .where(fenced(task))
            .values(
                state="pending",
                attempts=QueueTask.attempts - 1,
                lease_token=None,
                lease_owner=None,
                lease_expires_at=None,
            )
        )
    return bool(changed.rowcount == 1)  # type: ignore[attr-defined]


async def reap_expired(db: Database) -> int:
    """Return tasks whose lease expired (their worker died) to pending."""
    now = time.time()
    t = QueueTask
    async with session_scope(db.sessions) as session:
        reaped = await session.execute(
            update(t)
            .where(t.state == "running", t.lease_expires_at < now)
            .values(
                state="pending",
                lease_token=None,
                lease_owner=None,
                lease_expires_at=None,
                available_at=now,
                last_error="lease expired: the worker stopped",
            )
        )
    return int(reaped.rowcount)  # type: ignore[attr-defined]


async def renew_leases(db: Database, tokens: Sequence[str], lease_seconds: float) -> None:
    if not tokens:
        return
    async with session_scope(db.sessions) as session:
        await session.execute(
            update(QueueTask)
            .where(QueueTask.state == "running", QueueTask.lease_token.in_(tokens))
            .values(lease_expires_at=time.time() + lease_seconds)
        )


async def purge_completed(db: Database, older_than: float) -> None:
    async with session_scope(db.sessions) as session:
        await session.execute(
            delete(QueueTask).where(
                QueueTask.state == "completed", QueueTask.finished_at < time.time() - older_than
            )
        )


async def read_stats(db: Database) -> dict[str, Any]:
    """Per queue: pending (by priority), running, dead, oldest pending age; stuck leases."""
    now = time.time()
    t = QueueTask
    async with db.read_sessions() as session:
        pending = (
            await session.execute(
                select(t.queue, t.priority, func.count(), func.min(t.enqueued_at))
                .where(t.state == "pending")
                .group_by(t.queue, t.priority)
            )
        ).all()
        states = (
            await session.execute(
                select(t.queue, t.state, func.count())
                .where(t.state.in_(("running", "dead")))
                .group_by(t.queue, t.state)
            )
        ).all()
        stuck = await session.scalar(
            select(func.count()).where(t.state == "running", t.lease_expires_at < now)
        )
    queues: dict[str, dict[str, Any]] = {}

    def entry(name: str) -> dict[str, Any]:
        blank = {
            "pending": 0,
            "by_priority": {},
            "running": 0,
            "dead": 0,
            "oldest_pending_age_seconds": None,
        }
        return queues.setdefault(name, blank)

    oldest_all: float | None = None
    for queue, priority, count, oldest in pending:
        q = entry(queue)
        q["pending"] += count
        q["by_priority"][str(priority)] = count
        age = round(max(now - oldest, 0.0), 3)
        q["oldest_pending_age_seconds"] = max(q["oldest_pending_age_seconds"] or 0.0, age)
        oldest_all = max(oldest_all or 0.0, age)
    for queue, state, count in states:
        entry(queue)[state] = count
    return {
        "pending": sum(q["pending"] for q in queues.values()),
        "running": sum(q["running"] for q in queues.values()),
        "dead": sum(q["dead"] for q in queues.values()),
        "stuck_leases": int(stuck or 0),
        "oldest_pending_age_seconds": oldest_all,
        "queues": queues,
    }
