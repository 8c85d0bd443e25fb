"""Revoked token ids (jti), kept until the token would expire anyway.

The database holds the list every worker and replica reads (`revoked_tokens`), so a logout
holds everywhere with or without Redis; authentication reads it in the same query that loads
the user. Redis, when configured, gets a copy with the token's remaining life as its TTL for
other readers of the shared cache; this process also remembers its own revocations.
"""

from __future__ import annotations

import logging
import math
import random
import time
from typing import TYPE_CHECKING

from sqlalchemy import delete
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.db.engine import postgres_insert, session_scope
from app.db.tables.security import RevokedToken

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from app.db.engine import Database

logger = logging.getLogger("app.security.denylist")
# One revocation in this many also deletes entries whose tokens have expired.
PRUNE_ONE_IN = 32


class Denylist:
    def __init__(self, redis: Redis | None, *, prefix: str = "btai:deny") -> None:
        self.redis = redis
        self.prefix = prefix
        self.db: Database | None = None
        self._memory: dict[str, float] = {}

    async def revoke(self, jti: str, *, expires_at: float) -> None:
        ttl = math.ceil(expires_at - time.time())
        if ttl <= 0:
            return
        self._remember(jti, expires_at)
        if self.db is not None:
            postgres = self.db.backend == "postgresql"
            insert = postgres_insert() if postgres else sqlite_insert
            async with session_scope(self.db.sessions) as session:
                await session.execute(
                    insert(RevokedToken)
                    .values(jti=jti, expires_at=expires_at)
                    .on_conflict_do_nothing()
                )
                if random.randrange(PRUNE_ONE_IN) == 0:
                    await session.execute(
                        delete(RevokedToken).where(RevokedToken.expires_at < time.time())
                    )
        if self.redis is not None:
            from redis.exceptions import RedisError

            try:
                await self.redis.set(f"{self.prefix}:{jti}", b"1", ex=ttl)
            except (RedisError, OSError) as exc:
                logger.warning("token denylist not copied to Redis: %s", type(exc).__name__)

    def revoked_here(self, jti: str) -> bool:
        """Revoked by this process: known without asking the database."""
        return self._memory.get(jti, 0.0) > time.time()

    def _remember(self, jti: str, expires_at: float) -> None:
        now = time.time()
        if len(self._memory) > 10_000:
            self._memory = {k: v for k, v in self._memory.items() if v > now}
        self._memory[jti] = expires_at
