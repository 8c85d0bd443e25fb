"""Rate limits of the auth routes by account name, beside the middleware's limit by client IP.

On the routes that take credentials a bearer token never changes whose budget a request
spends: the middleware keys them by client IP, and login and register also spend the named account's
budget here, so neither many accounts from one IP nor many IPs against one account get more
than the route's limit.
"""

from __future__ import annotations

from app.errors import ProblemError
from app.monitoring.metrics import RATE_LIMIT_REJECTIONS
from app.route_limits import Limit, parse_route_limits
from app.security.ratelimit import RateLimiter
from app.settings import Settings

# The routes that take credentials instead of a session: keyed by client IP whatever token
# comes with them (the session routes, /me and logout, stay keyed by their user).
CREDENTIAL_PATHS = ("/api/v1/auth/login", "/api/v1/auth/register", "/api/v1/auth/refresh")


class RateLimited(ProblemError):
    status = 429
    type_slug = "rate-limited"


class AuthLimits:
    def __init__(self, settings: Settings, limiter: RateLimiter) -> None:
        self.enabled = settings.RATE_LIMIT_ENABLED
        self.limiter = limiter
        self.routes = parse_route_limits(settings.RATE_LIMIT_ROUTES)
        self.default = Limit(
            settings.RATE_LIMIT_REQUESTS, settings.RATE_LIMIT_WINDOW, settings.RATE_LIMIT_BURST
        )

    async def spend_account(self, *, method: str, path: str, username: str) -> None:
        """Count one request against `username` on this route; 429 past its limit."""
        if not self.enabled:
            return
        name, limit = next(
            ((r.name, r.limit) for r in self.routes if r.matches(method, path)),
            ("default", self.default),
        )
        decision = await self.limiter.hit(f"{name}|account:{username}", limit)
        if decision.allowed:
            return
        RATE_LIMIT_REJECTIONS.labels(name).inc()
        headers = decision.headers(limit.policy())
        raise RateLimited(
            "Too many requests for this account; slow down.",
            headers=headers,
            retry_after=int(headers["Retry-After"]),
        )
