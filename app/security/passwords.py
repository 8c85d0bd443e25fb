"""Argon2id password hashing off the event loop, and the strength policy (zxcvbn).

Hashing and verifying take ~100 ms of CPU each, so they run in a small thread pool; an
unknown user is verified against a dummy hash so a login takes the same time either way.
argon2 is imported by the first hash or verification, in that pool: a worker that never
checks a password does not hold it.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.errors import InvalidInput
from app.settings import Settings

if TYPE_CHECKING:
    from argon2 import PasswordHasher

# zxcvbn's cost grows with length; scoring the first 72 characters bounds it (the hash
# still covers the whole password).
SCORED_PREFIX = 72
HASH_THREADS = 4


@dataclass(frozen=True)
class Verification:
    ok: bool
    new_hash: str | None = None  # set when the stored hash used outdated parameters


class WeakPassword(InvalidInput):
    """422 carrying zxcvbn's score and feedback."""

    type_slug = "weak-password"


class PasswordService:
    """Hash, verify and judge passwords for one Settings."""

    def __init__(self, settings: Settings, hasher: PasswordHasher | None = None) -> None:
        self.settings = settings
        self._hasher = hasher
        self._pool = ThreadPoolExecutor(max_workers=HASH_THREADS, thread_name_prefix="argon2")
        self._dummy_hash: str | None = None

    @property
    def hasher(self) -> PasswordHasher:
        """The argon2id hasher (RFC 9106 low-memory profile unless one was given)."""
        if self._hasher is None:
            from argon2 import PasswordHasher

            self._hasher = PasswordHasher()
        return self._hasher

    @hasher.setter
    def hasher(self, hasher: PasswordHasher) -> None:
        self._hasher = hasher

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def hash(self, password: str) -> str:
        result: str = await self._run(self._hash_sync, password)
        return result

    def _hash_sync(self, password: str) -> str:
        return self.hasher.hash(password)

    async def verify(self, stored_hash: str | None, password: str) -> Verification:
        """Check `password`; with no stored hash, spend the same time and fail."""
        if stored_hash is None:
            if self._dummy_hash is None:
                self._dummy_hash = await self.hash("dummy password for timing equality")
            await self._run(self._verify_sync, self._dummy_hash, password)
            return Verification(ok=False)
        return await self._run(self._verify_sync, stored_hash, password)  # type: ignore[no-any-return]

    def _verify_sync(self, stored_hash: str, password: str) -> Verification:
        from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

        try:
            self.hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return Verification(ok=False)
        if self.hasher.check_needs_rehash(stored_hash):
            return Verification(ok=True, new_hash=self.hasher.hash(password))
        return Verification(ok=True)

    async def check_policy(self, password: str, *, user_inputs: list[str]) -> int:
        """Raise WeakPassword unless `password` meets length and strength rules; return score."""
        settings = self.settings
        if len(password) < settings.PASSWORD_MIN_LENGTH:
            raise WeakPassword(
                f"Password must be at least {settings.PASSWORD_MIN_LENGTH} characters.",
                field="body.password",
            )
        if len(password) > settings.PASSWORD_MAX_LENGTH:
            raise WeakPassword(
                f"Password must be at most {settings.PASSWORD_MAX_LENGTH} characters.",
                field="body.password",
            )
        result: dict[str, Any] = await self._run(
            _score, password[:SCORED_PREFIX], [u for u in user_inputs if u]
        )
        score = int(result["score"])
        if score < settings.PASSWORD_MIN_SCORE:
            feedback = result.get("feedback") or {}
            raise WeakPassword(
                f"Password is too weak (score {score}, at least "
                f"{settings.PASSWORD_MIN_SCORE} required).",
                field="body.password",
                score=score,
                min_score=settings.PASSWORD_MIN_SCORE,
                feedback={
                    "warning": feedback.get("warning") or "",
                    "suggestions": list(feedback.get("suggestions") or []),
                },
            )
        return score


def _score(password: str, user_inputs: list[str]) -> Any:
    # zxcvbn's dictionaries hold some 12 MB: loaded on the first password check, not at start.
    from zxcvbn import zxcvbn

    return zxcvbn(password, user_inputs)
