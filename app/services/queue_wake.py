"""How an idle queue hears of new work without asking the database all the time.

Every enqueue on PostgreSQL sends `NOTIFY btai_queue` in its own transaction, so the
notification arrives when the task is committed; each process LISTENs on one connection and
wakes its dispatcher at once. While it listens, the dispatcher's idle poll is only a fallback,
run when the next delayed task (a retry's backoff) is due and at least every FALLBACK_POLL
seconds. A lost listening connection is noticed, the dispatcher returns to polling every
QUEUE_POLL_INTERVAL and listens again on its next idle turn. SQLite has no notifications: an
enqueue wakes the dispatcher of its own process (every producer of the embedded default is the
server process itself), and other processes' tasks are found by the QUEUE_POLL_INTERVAL poll.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.engine import Database

logger = logging.getLogger("app.queue")

CHANNEL = "btai_queue"
FALLBACK_POLL = 15.0
"""Seconds between polls of a listening dispatcher with no delayed task due sooner."""
_NOTIFY = text(f"SELECT pg_notify('{CHANNEL}', '')")


async def notify(session: AsyncSession, backend: str) -> None:
    """Tell every listening process that a task was enqueued (on commit of `session`)."""
    if backend == "postgresql":
        await session.execute(_NOTIFY)


class QueueListener:
    """One connection that LISTENs for enqueued tasks and calls `wake` for each."""

    def __init__(self, db: Database, wake: Callable[[], None]) -> None:
        self.db = db
        self.wake = wake
        self._connection: AsyncConnection | None = None
        self._driver: Any = None
        self.listening = False

    @property
    def supported(self) -> bool:
        return self.db.backend == "postgresql"

    async def start(self) -> bool:
        """Listen (PostgreSQL only); False when not listening (then the poll finds work)."""
        if not self.supported or self.listening:
            return self.listening
        await self.close()
        connection: AsyncConnection | None = None
        try:
            connection = await self.db.engine.connect()
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            await driver.add_listener(CHANNEL, self._notified)
            driver.add_termination_listener(self._lost)
        except Exception as exc:
            logger.warning("queue: cannot LISTEN for new tasks (%r); polling instead", exc)
            if connection is not None:
                await connection.invalidate()
                await connection.close()
            return False
        self._connection, self._driver, self.listening = connection, driver, True
        return True

    def _notified(self, *_args: Any) -> None:
        self.wake()

    def _lost(self, *_args: Any) -> None:
        self.listening = False
        self.wake()  # poll now: a notification may have been missed

    async def close(self, within: float | None = None) -> None:
        """Drop the listening connection: its socket is closed at once (a stalled database
        would never answer a goodbye), then the pool forgets it within `within` s."""
        connection, driver = self._connection, self._driver
        self._connection, self._driver, self.listening = None, None, False
        if connection is None:
            return
        try:
            driver.remove_termination_listener(self._lost)
            driver.terminate()
            # Not returned to the pool: a pooled connection must not keep listening.
            async with asyncio.timeout(within):
                await connection.invalidate()
                await connection.close()
        except Exception:  # closing a connection that is already gone, or out of time
            logger.debug("queue: closing the listening connection failed", exc_info=True)
