"""How an idle queue hears of new work without asking the database all the time.

Every enqueue on PostgreSQL sends `NOTIFY btai_queue` in its own transaction, so the
notification arrives when the task is committed; each process LISTENs on one connection and
wakes its dispatcher at once. While it listens, the dispatcher's idle poll is only a fallback,
run when the next delayed task (a retry's backoff) is due and at least every FALLBACK_POLL
seconds. A lost listening connection is noticed, the dispatcher returns to polling every
QUEUE_POLL_INTERVAL and listens again on its next idle turn.

SQLite has no notifications. An enqueue wakes the dispatcher of its own process at once; for
the others' (the workers of one server share the file, and a producer outside may write it),
every commit changes the database file or its write-ahead log, so each process looks at both
files' size and modification time every QUEUE_POLL_INTERVAL (a `stat`, no query and no thread)
and wakes its dispatcher when they changed; the database poll is then the same fallback as on
PostgreSQL. The watch never touches the database, so cancelling it is always safe.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
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


def sqlite_files(url: str) -> tuple[Path, Path] | None:
    """The database file of a SQLite URL and its write-ahead log; None in memory."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database).expanduser()
    return path, path.with_name(path.name + "-wal")


def _signature(files: tuple[Path, ...]) -> tuple[tuple[int, int, int] | None, ...]:
    found: list[tuple[int, int, int] | None] = []
    for path in files:
        try:
            st = os.stat(path)
        except OSError:
            found.append(None)
        else:
            found.append((st.st_ino, st.st_size, st.st_mtime_ns))
    return tuple(found)


class QueueListener:
    """Hears of enqueued tasks and calls `wake` for each: one connection that LISTENs on
    PostgreSQL, a watch of the database's files on SQLite."""

    def __init__(self, db: Database, wake: Callable[[], None], *, watch_every: float) -> None:
        self.db = db
        self.wake = wake
        self.watch_every = watch_every
        self._connection: AsyncConnection | None = None
        self._driver: Any = None
        self._files = sqlite_files(db.url) if db.backend == "sqlite" else None
        self._watch: asyncio.Task[None] | None = None
        self.listening = False

    @property
    def supported(self) -> bool:
        return self.db.backend == "postgresql" or self._files is not None

    async def start(self) -> bool:
        """Listen; False when not listening (then the poll finds work)."""
        if not self.supported or self.listening:
            return self.listening
        await self.close()
        if self._files is not None:
            self._watch = asyncio.create_task(self._watch_files(self._files), name="queue-watch")
            self.listening = True
            return True
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

    async def _watch_files(self, files: tuple[Path, Path]) -> None:
        last = _signature(files)
        while True:
            await asyncio.sleep(self.watch_every)
            now = _signature(files)
            if now != last:
                last = now
                self.wake()

    async def close(self, within: float | None = None) -> None:
        """Stop watching; drop the listening connection: its socket is closed at once (a
        stalled database would never answer a goodbye), then the pool forgets it within
        `within` s."""
        if self._watch is not None:
            watch, self._watch = self._watch, None
            watch.cancel()  # a sleep or a stat, never a database call
            await asyncio.wait([watch])
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
