"""The edge layer: request context, performance metrics and security headers in one pass.

These three concerns observe or decorate every response without ever refusing a request, so
they run as the parts of one pure-ASGI layer: a response then passes one `send` wrapper
instead of three, and a request enters one coroutine instead of three, which is most of what
such a layer costs. Each part is a small class in its own module (`request_context`,
`metrics`, `security_headers`), and each module also offers the part alone as middleware
(`RequestContextMiddleware`, `PerformanceMiddleware`, `SecurityHeadersMiddleware`).

Within the layer the parts keep the order the separate layers had: the request context is set
first (so every log line and problem response of the request names it), the metrics time and
count everything below, and the response headers are the app's own, then the security headers,
then the request id and trace context.
"""

from __future__ import annotations

from time import perf_counter_ns
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.context import current_request

if TYPE_CHECKING:
    from app.middleware.access_log import AccessLog
    from app.middleware.metrics import RequestMetrics
    from app.middleware.request_context import RequestIds
    from app.middleware.security_headers import SecurityHeaders


class EdgeMiddleware:
    """Runs the parts that are switched on; a missing part costs nothing."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        context: RequestIds | None = None,
        metrics: RequestMetrics | None = None,
        security: SecurityHeaders | None = None,
        access: AccessLog | None = None,
    ) -> None:
        self.app = app
        self.context = context
        self.metrics = metrics
        self.security = security
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._not_http(scope, receive, send)
            return
        start = perf_counter_ns()
        root_path = scope.get("root_path", "")
        context, metrics, security = self.context, self.metrics, self.security
        token = None
        ids: tuple[tuple[bytes, bytes], ...] = ()
        if context is not None:
            token, ids = context.begin(scope)
        plan = security.plan(scope) if security is not None else None
        status = 500
        size = 0

        async def edge_send(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            elif message["type"] == "http.response.start":
                status = message["status"]
                headers = message.get("headers", ())
                added = security.added(headers, plan) if security and plan else ()
                message["headers"] = [*headers, *added, *ids]
            await send(message)

        access = self.access
        if metrics is None and access is None:
            await self.app(scope, receive, edge_send)
        else:
            if metrics is not None:
                metrics.stats.in_flight += 1
            try:
                await self.app(scope, receive, edge_send)
            finally:
                if metrics is not None:
                    metrics.finish(scope, root_path, start, status, size)
                if access is not None:
                    access.write(scope, root_path, status, perf_counter_ns() - start)
        # Reset only on success: after an unhandled exception Starlette's error handler, which
        # runs outside this middleware, logs the traceback and must still name the request.
        # Each request runs in its own task, so the value cannot leak into another request.
        if token is not None:  # the context part began one
            current_request.reset(token)

    async def _not_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" and self.access is not None:
            await self.app(scope, receive, self._flushing_at_shutdown(send))
        else:
            await self.app(scope, receive, send)

    def _flushing_at_shutdown(self, send: Send) -> Send:
        access = self.access

        async def lifespan_send(message: Message) -> None:
            if message["type"].startswith("lifespan.shutdown") and access is not None:
                access.flush()  # the last access lines, before the server exits
            await send(message)

        return lifespan_send
