"""The login lockout: at most MAX_LOGIN_ATTEMPTS passwords checked per account name and per
client IP in one LOCKOUT_DURATION window, however many requests arrive at once.

A login claims one attempt on both of its keys *before* the password is checked, with one
conditional upsert (`INSERT ... ON CONFLICT DO UPDATE ... WHERE attempts < max`); when either
key is exhausted, the attempt taken on the other is given back. The database serialises the
updates of one row (PostgreSQL re-checks the condition on the row version it waited for;
SQLite has one writer), so check and count are one step and no two workers or replicas can
both take the last attempt. Keys are written in sorted order, so two logins sharing both keys
lock the rows alike and never deadlock.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.engine import Database, postgres_insert
from app.db.tables.security import LoginAttempt

# One login in this many also deletes windows that ended, so the table stays small under a
# spray of made-up account names.
PRUNE_ONE_IN = 64


@dataclass(frozen=True)
class Claim:
    """The outcome of claiming one attempt: granted, or the seconds until a key unlocks."""

    granted: bool
    retry_after: int = 0
    # Keys whose last attempt this claim took: a failure now locks them.
    exhausted: tuple[str, ...] = ()


def user_key(username: str) -> str:
    return f"user:{username}"[:80]


def ip_key(ip: str) -> str:
    return f"ip:{ip}"[:80]


def attempt_keys(*, username: str, ip: str) -> list[str]:
    return sorted((user_key(username), ip_key(ip)))


class LoginLockout:
    def __init__(self, *, max_attempts: int, window_seconds: int) -> None:
        self.max_attempts = max_attempts
        self.window_seconds = window_seconds

    async def claim(self, db: Database, keys: list[str]) -> Claim:
        """Take one attempt on every key, or none when any key is exhausted."""
        now = time.time()
        postgres = db.backend == "postgresql"
        # Autocommit: each statement holds SQLite's write lock only while it runs, never
        # across an await, so a burst of logins queues briefly instead of timing out.
        async with db.engine.connect() as connection:
            conn = await connection.execution_options(isolation_level="AUTOCOMMIT")
            taken = await self._take(conn, keys, now, postgres=postgres)
            if len(taken) < len(keys):
                if taken:
                    # A key is exhausted: give back what this claim took on the others. Until
                    # then they count one attempt too many, which can only refuse, never admit.
                    await conn.execute(
                        update(LoginAttempt)
                        .where(LoginAttempt.key.in_(list(taken)), LoginAttempt.attempts > 0)
                        .values(attempts=LoginAttempt.attempts - 1)
                    )
                return Claim(False, retry_after=await self._retry_after(conn, keys, now))
            if random.randrange(PRUNE_ONE_IN) == 0:
                await conn.execute(delete(LoginAttempt).where(LoginAttempt.window_ends < now))
        exhausted = tuple(key for key, attempts in taken.items() if attempts >= self.max_attempts)
        return Claim(True, exhausted=exhausted)

    async def succeeded(self, db: Database, *, username_key: str, ip_key: str) -> None:
        """A correct password clears the account's count and gives the IP its attempt back."""
        async with db.engine.connect() as connection:
            conn = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(delete(LoginAttempt).where(LoginAttempt.key == username_key))
            await conn.execute(
                update(LoginAttempt)
                .where(LoginAttempt.key == ip_key, LoginAttempt.attempts > 0)
                .values(attempts=LoginAttempt.attempts - 1)
            )

    async def _take(
        self, conn: AsyncConnection, keys: list[str], now: float, *, postgres: bool
    ) -> dict[str, int]:
        """One statement: insert each key with one attempt, or add one to its count where
        attempts are left (or its window ended). Returns the keys it counted, with their
        attempts; an exhausted key is left alone and missing from the answer."""
        insert = postgres_insert() if postgres else sqlite_insert
        ends = now + self.window_seconds
        rows_in = [{"key": key, "attempts": 1, "window_ends": ends} for key in keys]
        expired = LoginAttempt.window_ends <= now
        statement = (
            insert(LoginAttempt)
            .values(rows_in)
            .on_conflict_do_update(
                index_elements=[LoginAttempt.key],
                set_={
                    "attempts": case((expired, 1), else_=LoginAttempt.attempts + 1),
                    "window_ends": case((expired, ends), else_=LoginAttempt.window_ends),
                },
                where=(LoginAttempt.attempts < self.max_attempts) | expired,
            )
            .returning(LoginAttempt.key, LoginAttempt.attempts)
        )
        rows = await conn.execute(statement)
        return {str(key): int(attempts) for key, attempts in rows}

    async def _retry_after(self, conn: AsyncConnection, keys: list[str], now: float) -> int:
        ends = await conn.scalars(
            select(LoginAttempt.window_ends).where(
                LoginAttempt.key.in_(keys),
                LoginAttempt.attempts >= self.max_attempts,
                LoginAttempt.window_ends > now,
            )
        )
        latest = max(ends, default=now + 1)
        return max(1, math.ceil(latest - now))
