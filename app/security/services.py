"""Every security part for one Settings, built once per app and closed by its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from app.security.audit import AuditLog
from app.security.auth_limits import AuthLimits
from app.security.client_ip import TrustedProxies
from app.security.denylist import Denylist
from app.security.health import rate_limit_check
from app.security.lockout import LoginLockout
from app.security.passwords import PasswordService
from app.security.ratelimit import RateLimiter
from app.security.tokens import TokenService
from app.settings import Settings

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from app.db.engine import Database
    from app.monitoring.checks import HealthCheck

REDIS_TIMEOUT_SECONDS = 0.5


class SecurityServices:
    """Tokens, passwords, denylist, rate limiter, trusted proxies and the audit log.

    Building it does no I/O (the Redis client connects on first use), so middleware can be
    given it when the app is built; `running(db)` attaches the database and closes the rest.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.redis: Redis | None = None
        if settings.redis_url:
            # redis-py (and the OpenTelemetry API it loads) costs a worker ~8 MB: only with Redis.
            from redis.asyncio import Redis

            self.redis = Redis.from_url(
                settings.redis_url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
        self.tokens = TokenService(settings)
        self.passwords = PasswordService(settings)
        self.denylist = Denylist(self.redis)
        self.lockout = LoginLockout(
            max_attempts=settings.MAX_LOGIN_ATTEMPTS, window_seconds=settings.LOCKOUT_DURATION
        )
        self.limiter = RateLimiter(self.redis, block_seconds=settings.RATE_LIMIT_BLOCK_SECONDS)
        self.auth_limits = AuthLimits(settings, self.limiter)
        self.proxies = TrustedProxies(settings.TRUSTED_PROXIES)
        self.audit = AuditLog()
        self.db: Database | None = None

    @asynccontextmanager
    async def running(self, db: Database | None) -> AsyncIterator[SecurityServices]:
        self.db = db
        self.audit.db = db
        self.denylist.db = db
        try:
            yield self
        finally:
            self.passwords.close()
            if self.redis is not None:
                await self.redis.aclose()

    def health_checks(self) -> list[HealthCheck]:
        """What the security parts add to the app's health report."""
        return [rate_limit_check(self.limiter)]

    def database(self) -> Database:
        if self.db is None:
            from app.errors import ServiceUnavailable

            raise ServiceUnavailable("The user database is not available.")
        return self.db
