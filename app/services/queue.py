"""A persistent priority queue in the service's database, shared by every worker and replica.

A task is a row in `queue_tasks`. One dispatcher per process keeps up to QUEUE_MAX_WORKERS
tasks running; it claims the highest-priority, oldest due task of the queues it serves in one
atomic statement (`FOR UPDATE SKIP LOCKED` on PostgreSQL, a single
`UPDATE ... WHERE id = (SELECT ...) RETURNING` on SQLite, which holds the one write lock), and
holds it under a lease that a heartbeat renews. A task whose worker died is found by its expired
lease and runs again. Completion is recorded only while the lease is still held (the row's
`lease_token` must match), in the same transaction as the kind's `on_complete` write, so a task
completes exactly once even when a slow worker lost its lease. Failures retry with exponential
backoff and full jitter up to `max_retries`, then the task is dead-lettered.

Shutdown stops claiming as soon as the process is told to stop (see `app.services.shutdown`),
lets running tasks finish within what is left of the one grace period that in-flight requests
also drain in, and returns the rest to `pending` without counting the interrupted attempt.

This module is the dispatcher and its lifecycle; task kinds, priorities and the backoff are in
`queue_kinds`, the recording of outcomes in `queue_outcomes`, the statements in `queue_store`
and the wake-ups between processes in `queue_wake`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import Database, session_scope
from app.db.tables.queue import QueueTask
from app.errors import database_outage
from app.monitoring.metrics import (
    QUEUE_DEPTH,
    QUEUE_RUNNING,
    QUEUE_TASK_DURATION,
    QUEUE_TASKS,
)
from app.services import queue_store, shutdown
from app.services.queue_kinds import (
    BACKOFF_BASE,
    DEFAULT_QUEUE,
    SYSTEM_QUEUE,
    Handler,
    OnComplete,
    OnDead,
    TaskKind,
    echo,
    sleep,
)
from app.services.queue_kinds import backoff_delay as backoff_delay
from app.services.queue_kinds import priority_for as priority_for
from app.services.queue_outcomes import Outcomes
from app.services.queue_store import ClaimedTask
from app.services.queue_wake import FALLBACK_POLL, QueueListener, notify
from app.settings import Settings

logger = logging.getLogger("app.queue")

COMPLETED_RETENTION = 24 * 3600.0
"""Completed task rows are purged a day after they finish (results live with their owners)."""
CLAIM_FAILURE_LOG_EVERY = 100
"""While the database is down, one claim failure in a hundred is logged (per worker)."""
MAINTENANCE_EVERY_LEASES = 3
"""Leases are renewed (and expired ones reaped) three times per lease period."""


class TaskQueue:
    """Workers, the handler registry, and the queue's statistics for one process."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        owner: str | None = None,
        backoff_base: float = BACKOFF_BASE,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.max_workers = settings.QUEUE_MAX_WORKERS
        self.max_retries = settings.QUEUE_MAX_RETRIES
        self.task_timeout = settings.QUEUE_TASK_TIMEOUT
        self.lease_seconds = settings.QUEUE_LEASE_SECONDS
        self.poll_interval = settings.QUEUE_POLL_INTERVAL
        self.grace = settings.GRACEFUL_TIMEOUT
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.backoff_base = backoff_base
        self._rng = rng or random.Random()
        self._kinds: dict[str, TaskKind] = {}
        self._running: dict[int, ClaimedTask] = {}
        self._dispatcher: asyncio.Task[None] | None = None
        self._runners: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(self.max_workers)
        self._in_database = False
        self._maintenance: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._closing = asyncio.Event()
        self._wake = asyncio.Event()
        self._depth_labels: set[tuple[str, str]] = set()
        self._claim_failures = 0
        self._unsubscribe: Callable[[], None] | None = None
        self._listener = QueueListener(db, self._wake.set, watch_every=self.poll_interval)
        self._outcomes = Outcomes(db, self._running, backoff_base=backoff_base, rng=self._rng)
        self.register("queue.echo", echo, queue=SYSTEM_QUEUE)
        self.register("queue.sleep", sleep, queue=SYSTEM_QUEUE)

    # --- registry and producers ---------------------------------------------------------------
    def register(
        self,
        kind: str,
        handler: Handler,
        *,
        queue: str = DEFAULT_QUEUE,
        on_complete: OnComplete | None = None,
        on_dead: OnDead | None = None,
    ) -> None:
        """Run `handler` for tasks of `kind`; `on_complete` writes in the completing transaction."""
        self._kinds[kind] = TaskKind(queue, handler, on_complete, on_dead)

    @property
    def accepting(self) -> bool:
        running = self._dispatcher is not None and not self._dispatcher.done()
        return running and not self._stopping.is_set()

    async def enqueue(
        self,
        kind: str,
        payload: Mapping[str, Any],
        *,
        queue: str | None = None,
        priority: int = 0,
        dedupe_key: str | None = None,
        max_retries: int | None = None,
        delay: float = 0.0,
        session: AsyncSession | None = None,
    ) -> int:
        """Persist a task and return its id; with `session`, inside the caller's transaction."""
        now = time.time()
        row = QueueTask(
            queue=queue or (self._kinds[kind].queue if kind in self._kinds else DEFAULT_QUEUE),
            kind=kind,
            priority=priority,
            payload=dict(payload),
            state="pending",
            attempts=0,
            max_retries=self.max_retries if max_retries is None else max_retries,
            dedupe_key=dedupe_key,
            enqueued_at=now,
            available_at=now + delay,
        )
        if session is not None:
            session.add(row)
            await session.flush()
            await notify(session, self.db.backend)
            self._wake.set()
            return row.id
        try:
            async with session_scope(self.db.sessions) as own:
                own.add(row)
                await own.flush()
                task_id = row.id
                await notify(own, self.db.backend)
        except IntegrityError:
            if dedupe_key is None:
                raise
            async with self.db.sessions() as own:
                existing = await own.scalar(
                    select(QueueTask.id).where(QueueTask.dedupe_key == dedupe_key)
                )
            assert existing is not None
            return existing
        self._wake.set()
        return task_id

    # --- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        """Reap leases left by a dead process, then start the workers and the maintenance loop."""
        self._stopping.clear()
        self._closing.clear()
        try:
            await self.reap_expired()
        except Exception:
            # An unreachable or unmigrated database must not stop the API from starting;
            # the workers keep trying and health reports the queue.
            logger.exception("queue start: reaping expired leases failed")
        await self._listener.start()
        self._dispatcher = asyncio.create_task(self._dispatch(), name="queue-dispatcher")
        self._maintenance = asyncio.create_task(self._maintain(), name="queue-maintenance")
        loop = asyncio.get_running_loop()
        # The stop signal arrives in a signal handler, long before the lifespan shuts the queue
        # down (in-flight requests drain first): stop claiming then, from the loop's side.
        self._unsubscribe = shutdown.on_begin(
            lambda: loop.call_soon_threadsafe(self._stop_claiming)
        )

    def _stop_claiming(self) -> None:
        """Claim nothing more; running tasks carry on until `shutdown()`."""
        self._stopping.set()
        self._wake.set()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[TaskQueue]:
        """Workers run inside the block; leaving it is a graceful `shutdown()`."""
        await self.start()
        try:
            yield self
        finally:
            await self.shutdown()

    async def shutdown(self, grace: float | None = None) -> dict[str, int]:
        """Stop claiming; running tasks get `grace` seconds (by default what is left of the
        process's grace period, GRACEFUL_TIMEOUT when no stop signal came); the rest go back
        to pending. Returns how many finished, were returned, and keep a lease.

        Every wait here has a deadline, so a database that stalls cannot hold the process: a
        claim or a task still going at the deadline is cancelled, and returning tasks to
        pending gets at most CLEANUP_SECONDS more; a task that could not be returned keeps its
        lease until it lapses, and then another worker runs it (counted as "leased").

        The dispatcher and the maintenance loop are cancelled only in a pure wait. A database
        call of theirs in progress finishes first: on PostgreSQL until the deadline, on SQLite
        until the clean-up allowance is spent, because aiosqlite runs the call on its own
        thread and a cancel mid-call, followed by closing the pool, can leave the event loop
        waiting on a connection that is gone."""
        grace = shutdown.remaining(self.grace) if grace is None else grace
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        # One clean-up allowance for the whole stop, not one per step: cancelled claims and
        # tasks, returning tasks to pending and the maintenance loop all end by `cleanup_end`.
        cleanup_end = deadline + shutdown.CLEANUP_SECONDS

        def cleanup_left() -> float:
            return max(cleanup_end - loop.time(), 0.0)

        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._stop_claiming()

        def finish_within() -> float:
            """How long a database call in progress may go on before it is cancelled."""
            return cleanup_left() if self.db.backend == "sqlite" else deadline - loop.time()

        if self._dispatcher is not None:
            if not self._in_database:  # waiting for a free slot or for work: nothing to finish
                self._dispatcher.cancel()
            # mid-call, it finishes the call (handing back a task it claimed) and returns
            await _settle([self._dispatcher], finish_within(), cleanup_left)
        in_flight = len(self._running)
        runners = list(self._runners)
        if runners:
            await _settle(runners, deadline - loop.time(), cleanup_left)
        unfinished = list(self._running.values())
        returned = 0
        for task in unfinished:
            left = cleanup_left()
            if left > 0 and await self._release(task, within=left):
                returned += 1
            self._running.pop(task.id, None)
        self._closing.set()  # the maintenance loop ends at its next wait
        if self._maintenance is not None:
            await _settle([self._maintenance], finish_within(), cleanup_left)
        self._dispatcher, self._maintenance = None, None
        await self._listener.close(within=cleanup_left())
        outcome = {
            "finished": in_flight - len(unfinished),
            "returned": returned,
            "leased": len(unfinished) - returned,
        }
        logger.info(
            "queue stopped: %(finished)d finished within grace, %(returned)d returned to "
            "pending, %(leased)d left to their lease",
            outcome,
        )
        return outcome

    # --- statistics ---------------------------------------------------------------------------
    async def stats(self) -> dict[str, Any]:
        """Depth per queue and priority, running, dead, oldest pending age and stuck leases."""
        stats = await queue_store.read_stats(self.db)
        self._publish_depth(
            {
                (name, priority): count
                for name, q in stats["queues"].items()
                for priority, count in q["by_priority"].items()
            }
        )
        return {
            "backend": self.db.backend,
            "owner": self.owner,
            "accepting": self.accepting,
            "workers": self.max_workers if self.accepting else 0,
            "running_here": len(self._running),
            **stats,
        }

    def _publish_depth(self, depth: Mapping[tuple[str, str], int]) -> None:
        for labels in self._depth_labels - set(depth):
            QUEUE_DEPTH.labels(*labels).set(0)  # drained since the last look
        for labels, count in depth.items():
            QUEUE_DEPTH.labels(*labels).set(count)
        self._depth_labels = set(depth)

    # --- the worker ---------------------------------------------------------------------------
    async def _dispatch(self) -> None:
        """One loop claims for the whole process: up to QUEUE_MAX_WORKERS tasks run at once,
        and an idle process polls the database once per QUEUE_POLL_INTERVAL, not per slot."""
        while not self._stopping.is_set():
            await self._slots.acquire()
            self._in_database = True
            try:
                task = None if self._stopping.is_set() else await self._claim()
                self._claim_failures = 0
            except Exception as exc:
                self._claim_failures += 1
                if self._claim_failures % CLAIM_FAILURE_LOG_EVERY == 1:
                    _log_failure(exc, "queue claim failed (%d in a row)", self._claim_failures)
                task = None
            if task is None:
                self._in_database = False
                self._slots.release()
                if not self._stopping.is_set():
                    await self._idle()
                continue
            if self._stopping.is_set():  # shutdown began while this claim was in flight
                self._slots.release()
                await self._release(task)
                self._running.pop(task.id, None)
                self._in_database = False
                return
            self._in_database = False
            runner = asyncio.create_task(self._execute(task), name=f"queue-task-{task.id}")
            self._runners.add(runner)
            runner.add_done_callback(self._runner_done)

    def _runner_done(self, runner: asyncio.Task[None]) -> None:
        self._runners.discard(runner)
        self._slots.release()

    async def _idle(self) -> None:
        self._in_database = True  # shutdown lets the look at the next due task finish
        try:
            seconds = await self._idle_seconds()
        finally:
            self._in_database = False
        if self._stopping.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def _idle_seconds(self) -> float:
        """QUEUE_POLL_INTERVAL, or while new tasks are announced (`app.services.queue_wake`)
        until the next delayed task is due, FALLBACK_POLL at most."""
        if not (self._listener.listening or await self._listener.start()):
            return self.poll_interval
        try:
            due = await queue_store.next_due(
                self.db,
                queues=sorted({k.queue for k in self._kinds.values()}),
                kinds=sorted(self._kinds),
            )
        except Exception:
            return self.poll_interval
        fallback = max(self.poll_interval, FALLBACK_POLL)
        if due is None:
            return fallback
        wait = due - time.time()
        if wait <= 0:  # due, yet the claim missed it (another process holds it): look again soon
            wait = min(self.poll_interval, 1.0)
        return min(wait, fallback)

    async def _claim(self) -> ClaimedTask | None:
        task = await queue_store.claim(
            self.db,
            owner=self.owner,
            queues=sorted({k.queue for k in self._kinds.values()}),
            kinds=sorted(self._kinds),
            lease_seconds=self.lease_seconds,
        )
        if task is not None:
            self._running[task.id] = task
        return task

    async def _execute(self, task: ClaimedTask) -> None:
        kind = self._kinds[task.kind]
        if task.attempts > task.max_retries + 1:  # every earlier attempt died with its worker
            await self._outcomes.finish_failed(task, kind, "worker lost too many times", dead=True)
            return
        QUEUE_RUNNING.labels(task.queue).inc()
        started = time.perf_counter_ns()
        try:
            async with asyncio.timeout(self.task_timeout):
                result = await kind.handler(task)
        except TimeoutError:
            await self._outcomes.failed(task, kind, f"timed out after {self.task_timeout:g}s")
        except asyncio.CancelledError:
            raise  # shutdown: the task stays in _running and is returned to pending
        except Exception as exc:
            logger.warning("task %s (%s) failed: %r", task.id, task.kind, exc)
            await self._outcomes.failed(task, kind, f"{type(exc).__name__}: {exc}")
        else:
            await self._outcomes.completed(task, kind, result)
        finally:
            QUEUE_RUNNING.labels(task.queue).dec()
            QUEUE_TASK_DURATION.labels(task.queue).observe((time.perf_counter_ns() - started) / 1e9)

    async def _release(self, task: ClaimedTask, within: float | None = None) -> bool:
        try:
            async with asyncio.timeout(within):
                released = await queue_store.release(self.db, task)
        except Exception:
            logger.warning(
                "returning task %s to pending failed; its lease will lapse", task.id, exc_info=True
            )
            return False
        QUEUE_TASKS.labels(task.queue, "returned").inc()
        return released

    # --- leases -------------------------------------------------------------------------------
    async def reap_expired(self) -> int:
        """Return tasks whose lease expired (their worker died) to pending."""
        count = await queue_store.reap_expired(self.db)
        if count:
            logger.warning("returned %d task(s) with expired leases to pending", count)
        return count

    async def _maintain(self) -> None:
        """Until `shutdown()` has settled the running tasks (their leases are renewed through
        the grace period), not merely until the stop signal."""
        while True:
            with contextlib.suppress(TimeoutError):
                every = self.lease_seconds / MAINTENANCE_EVERY_LEASES
                await asyncio.wait_for(self._closing.wait(), every)
            if self._closing.is_set():
                return
            try:
                tokens = [t.lease_token for t in self._running.values()]
                await queue_store.renew_leases(self.db, tokens, self.lease_seconds)
                if await self.reap_expired():
                    self._wake.set()  # their tasks are pending again
                await queue_store.purge_completed(self.db, COMPLETED_RETENTION)
                await self.stats()  # keeps the depth gauges current
            except Exception as exc:
                _log_failure(exc, "queue maintenance failed")


def _log_failure(exc: Exception, message: str, *args: object) -> None:
    """A database outage is one line (it is expected and health reports it); anything else
    keeps its traceback."""
    if database_outage(exc):
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        logger.warning(
            message + ": database unavailable: %s: %s", *args, type(exc).__name__, reason
        )
    else:
        logger.error(message, *args, exc_info=exc)


async def _settle(
    tasks: list[asyncio.Task[Any]], within: float, cleanup_left: Callable[[], float]
) -> None:
    """Let `tasks` finish within `within` s, then cancel the rest and give their clean-up
    what is left of the stop's clean-up allowance by then (`cleanup_left()`, read after the
    wait); a task that still has not ended is left behind, not awaited."""
    _, pending = await asyncio.wait(tasks, timeout=max(within, 0.0)) if tasks else ((), set())
    for task in pending:
        task.cancel()
    if pending and (cleanup := cleanup_left()) > 0:
        await asyncio.wait(pending, timeout=cleanup)
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            logger.warning("queue %s ended with %r", task.get_name(), task.exception())
