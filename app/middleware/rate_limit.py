"""Rate limiting per client (user when a valid bearer token is sent, IP otherwise) and per
endpoint, with RateLimit-* headers on every counted response and 429 problem+json past it.

Login, register and refresh are always keyed by client IP, whatever token is presented: a
token must not move its holder into a fresh budget (one per account) on them."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import request_id_of, send_problem
from app.monitoring.metrics import RATE_LIMIT_REJECTIONS
from app.security.auth_limits import CREDENTIAL_PATHS
from app.security.ratelimit import Limit, parse_route_limits

if TYPE_CHECKING:
    from app.security.services import SecurityServices

logger = logging.getLogger("app.security.ratelimit")


class RateLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        security: SecurityServices,
        default: Limit,
        routes: Iterable[str] = (),
        exempt: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.security = security
        self.default = default
        self.routes = parse_route_limits(routes)
        self.exempt = tuple(exempt)

    def _rule(self, method: str, path: str) -> tuple[str, Limit]:
        for route in self.routes:
            if route.matches(method, path):
                return route.name, route.limit
        return "default", self.default

    def _identity(self, scope: Scope, path: str) -> tuple[str, str]:
        if path in CREDENTIAL_PATHS:
            return "ip", self.security.proxies.client_ip(scope)
        for key, value in scope.get("headers", ()):
            if key == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer" and token:
                    sub = self.security.tokens.subject_of(token.strip())
                    if sub is not None:
                        return "user", sub
                break
        return "ip", self.security.proxies.client_ip(scope)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        if method == "OPTIONS" or (self.exempt and path.startswith(self.exempt)):
            await self.app(scope, receive, send)
            return
        name, limit = self._rule(method, path)
        kind, who = self._identity(scope, path)
        decision = await self.security.limiter.hit(f"{name}|{kind}:{who}", limit)
        if not decision.allowed:
            headers = decision.headers(limit.policy())
            RATE_LIMIT_REJECTIONS.labels(name).inc()
            if decision.newly_blocked:
                await self.security.audit.record(
                    "rate_limit_block",
                    outcome="denied",
                    ip=self.security.proxies.client_ip(scope),
                    user_id=int(who) if kind == "user" else None,
                    request_id=request_id_of(scope),
                    route=name,
                    block_seconds=round(decision.retry_after),
                )
            detail = (
                "Too many requests; this client is blocked for a while."
                if decision.blocked
                else "Too many requests; slow down."
            )
            await send_problem(
                scope,
                send,
                status=429,
                detail=detail,
                type_slug="rate-limited",
                headers=headers,
                retry_after=int(headers["Retry-After"]),
            )
            return
        raw = decision.raw_headers()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *raw]
            await send(message)

        await self.app(scope, receive, send_with_headers)
