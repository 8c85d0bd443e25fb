"""Which process sends the alert webhooks: one per database, however many workers and replicas.

Every worker evaluates the same checks and so sees the same alerts; if each sent them, one
event would reach the webhook once per worker. So sending is owned: the owner holds a lock in
the database the processes share — a PostgreSQL advisory lock held on a connection of its own
(shared by every replica of a deployment), or a lock file beside a SQLite database (shared by
the workers of the one server that can use it). The others keep trying, once per monitor
interval; when the owner dies its lock is freed (the connection or the file closes with it)
and the next one to try takes over.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
from pathlib import Path
from typing import IO, Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from app.db.engine import is_sqlite

logger = logging.getLogger("app.monitoring.alerts")
ALERT_OWNER_LOCK_KEY = 0x6274_6169_0002
"""The advisory lock id (64-bit) held by the process that sends alerts."""
ATTEMPT_SECONDS = 5.0
"""How long one attempt to take or confirm the lock may wait on the database."""


class AlertOwnership:
    """Tries to own alert sending for `url`'s database; `owns` tells whether it does now."""

    def __init__(self, url: str, retry_every: float) -> None:
        self.url = url
        self.retry_every = retry_every
        self.owns = False
        self._engine: AsyncEngine | None = None
        self._conn: AsyncConnection | None = None
        self._file: IO[str] | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.attempt()
        if self.retry_every > 0:
            self._task = asyncio.create_task(self._keep_trying(), name="alert-owner")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._release()

    async def attempt(self) -> bool:
        """Take the lock if free, or confirm it is still held; never raises."""
        try:
            async with asyncio.timeout(ATTEMPT_SECONDS):
                if is_sqlite(self.url):
                    owns = self._try_file_lock()
                else:
                    owns = await self._try_advisory_lock()
        except Exception as exc:
            logger.debug("alert ownership attempt failed: %r", exc)
            await self._release()
            owns = False
        if owns and not self.owns:
            logger.info("this process sends the alert webhooks")
        self.owns = owns
        return owns

    async def _keep_trying(self) -> None:
        while True:
            await asyncio.sleep(self.retry_every)
            await self.attempt()

    # --- PostgreSQL -----------------------------------------------------------------------------
    async def _try_advisory_lock(self) -> bool:
        if self._conn is not None:
            await self._conn.execute(text("SELECT 1"))  # the lock lives as long as this session
            await self._conn.commit()
            return True
        if self._engine is None:
            self._engine = create_async_engine(self.url, poolclass=NullPool)
        conn = await self._engine.connect()
        try:
            got = await conn.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": ALERT_OWNER_LOCK_KEY}
            )
            owns = bool(got.scalar_one())
            await conn.commit()
        except BaseException:
            await _close_quietly(conn)
            raise
        if owns:
            self._conn = conn
        else:
            await _close_quietly(conn)
        return owns

    # --- SQLite ---------------------------------------------------------------------------------
    def _try_file_lock(self) -> bool:
        if self._file is not None:
            return True
        database = make_url(self.url).database
        if not database or database == ":memory:" or database.startswith("file:"):
            return True  # a private database: this process is the only one
        handle = Path(database).expanduser().with_name(Path(database).name + ".alerting-lock")
        file = handle.open("a")
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            return False
        self._file = file
        return True

    async def _release(self) -> None:
        self.owns = False
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await _close_quietly(conn)
        if self._engine is not None:
            engine, self._engine = self._engine, None
            with contextlib.suppress(Exception):
                async with asyncio.timeout(ATTEMPT_SECONDS):
                    await engine.dispose()
        if self._file is not None:
            file, self._file = self._file, None
            file.close()  # closing the file frees the lock


async def _close_quietly(conn: Any) -> None:
    with contextlib.suppress(Exception):
        async with asyncio.timeout(ATTEMPT_SECONDS):
            await conn.close()
