"""How an attempt of a queued task ended, written only while its lease is still held: completed
(with the kind's `on_complete` write in the same transaction), back to pending after a backoff,
or dead-lettered (with the kind's `on_dead` write)."""

from __future__ import annotations

import logging
import random
import time
from typing import Any

from sqlalchemy import update

from app.db.engine import Database, session_scope
from app.db.tables.queue import QueueTask
from app.monitoring.metrics import QUEUE_RETRIES, QUEUE_TASKS
from app.services.queue_kinds import TaskKind, backoff_delay
from app.services.queue_store import ClaimedTask, fenced

logger = logging.getLogger("app.queue")


class Outcomes:
    """Records outcomes for one process's queue; each recorded task leaves `running`."""

    def __init__(
        self,
        db: Database,
        running: dict[int, ClaimedTask],
        *,
        backoff_base: float,
        rng: random.Random,
    ) -> None:
        self.db = db
        self.running = running
        self.backoff_base = backoff_base
        self.rng = rng

    async def completed(self, task: ClaimedTask, kind: TaskKind, result: Any) -> None:
        try:
            async with session_scope(self.db.sessions) as session:
                done = await session.execute(
                    update(QueueTask)
                    .where(fenced(task))
                    .values(
                        state="completed",
                        result=result,
                        finished_at=time.time(),
                        lease_token=None,
                        lease_expires_at=None,
                    )
                )
                if done.rowcount != 1:  # type: ignore[attr-defined]
                    QUEUE_TASKS.labels(task.queue, "lease_lost").inc()
                    logger.warning("task %s finished after losing its lease; not recorded", task.id)
                    return
                if kind.on_complete is not None:
                    await kind.on_complete(session, task, result)
        except Exception as exc:
            logger.exception("recording completion of task %s failed", task.id)
            await self.failed(task, kind, f"completion failed: {exc!r}")
            return
        finally:
            self.running.pop(task.id, None)
        QUEUE_TASKS.labels(task.queue, "completed").inc()

    async def failed(self, task: ClaimedTask, kind: TaskKind, error: str) -> None:
        """Retry later, or dead-letter once the task used up its retries."""
        await self.finish_failed(task, kind, error, dead=task.attempts > task.max_retries)

    async def finish_failed(
        self, task: ClaimedTask, kind: TaskKind, error: str, *, dead: bool
    ) -> None:
        values: dict[str, Any] = {
            "lease_token": None,
            "lease_expires_at": None,
            "lease_owner": None,
            "last_error": error[:2000],
        }
        if dead:
            values.update(state="dead", finished_at=time.time())
        else:
            delay = backoff_delay(task.attempts, self.rng, self.backoff_base)
            values.update(state="pending", available_at=time.time() + delay)
        try:
            async with session_scope(self.db.sessions) as session:
                changed = await session.execute(
                    update(QueueTask).where(fenced(task)).values(**values)
                )
                recorded = changed.rowcount == 1  # type: ignore[attr-defined]
                if recorded and dead and kind.on_dead is not None:
                    await kind.on_dead(session, task, error)
        finally:
            self.running.pop(task.id, None)
        if dead:
            QUEUE_TASKS.labels(task.queue, "dead").inc()
            logger.error("task %s (%s) dead-lettered: %s", task.id, task.kind, error)
        else:
            QUEUE_RETRIES.labels(task.queue).inc()
            QUEUE_TASKS.labels(task.queue, "retried").inc()
