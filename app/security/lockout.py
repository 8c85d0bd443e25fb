"""The login lockout: at most MAX_LOGIN_ATTEMPTS passwords checked per account name and per
client IP in one LOCKOUT_DURATION window, however many requests arrive at once.

A login claims one attempt on both of its keys *before* the password is checked, each with
one conditional UPDATE (`attempts < max`), in one transaction that is rolled back when either
key is exhausted. The database serialises the updates of one row (PostgreSQL re-checks the
condition on the row it waited for; SQLite has one writer), so check and count are one step
and no two workers or replicas can both take the last attempt. Keys are claimed in sorted
order, so two logins sharing both keys lock the rows alike and never deadlock.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import Database, session_scope
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
        exhausted: list[str] = []
        async with db.sessions() as session:
            try:
                await self._ensure_rows(session, keys, postgres=db.backend == "postgresql")
                for key in keys:
                    attempts = await self._take(session, key, now)
                    if attempts is None:
                        # Give back what this claim took on the keys before.
                        await session.rollback()
                        retry_after = await self._retry_after(session, keys, now)
                        await session.rollback()
                        return Claim(False, retry_after=retry_after)
                    if attempts >= self.max_attempts:
                        exhausted.append(key)
                if random.randrange(PRUNE_ONE_IN) == 0:
                    await session.execute(
                        delete(LoginAttempt).where(LoginAttempt.window_ends < now)
                    )
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
        return Claim(True, exhausted=tuple(exhausted))

    async def succeeded(self, db: Database, *, username_key: str, ip_key: str) -> None:
        """A correct password clears the account's count and gives the IP its attempt back."""
        async with session_scope(db.sessions) as session:
            await session.execute(delete(LoginAttempt).where(LoginAttempt.key == username_key))
            await session.execute(
                update(LoginAttempt)
                .where(LoginAttempt.key == ip_key, LoginAttempt.attempts > 0)
                .values(attempts=LoginAttempt.attempts - 1)
            )

    async def _ensure_rows(self, session: AsyncSession, keys: list[str], *, postgres: bool) -> None:
        rows = [{"key": key, "attempts": 0, "window_ends": 0.0} for key in keys]
        insert = pg_insert if postgres else sqlite_insert
        await session.execute(insert(LoginAttempt).values(rows).on_conflict_do_nothing())

    async def _take(self, session: AsyncSession, key: str, now: float) -> int | None:
        """The key's attempts after taking one, or None when none is left in its window."""
        expired = LoginAttempt.window_ends <= now
        result = await session.execute(
            update(LoginAttempt)
            .where(
                LoginAttempt.key == key,
                (LoginAttempt.attempts < self.max_attempts) | expired,
            )
            .values(
                attempts=case((expired, 1), else_=LoginAttempt.attempts + 1),
                window_ends=case(
                    (expired, now + self.window_seconds), else_=LoginAttempt.window_ends
                ),
            )
            .returning(LoginAttempt.attempts)
        )
        taken = result.scalar_one_or_none()
        return None if taken is None else int(taken)

    async def _retry_after(self, session: AsyncSession, keys: list[str], now: float) -> int:
        ends = await session.scalars(
            select(LoginAttempt.window_ends).where(
                LoginAttempt.key.in_(keys),
                LoginAttempt.attempts >= self.max_attempts,
                LoginAttempt.window_ends > now,
            )
        )
        latest = max(ends, default=now + 1)
        return max(1, math.ceil(latest - now))
