"""Performance middleware: Prometheus request metrics by route template, slow-request logs.

The route label is the template of the route that served the request (`/api/v1/teams/{key}`),
read from `scope["route"]` after the app ran, never the raw path, so label cardinality stays
bounded. Requests that match no route are labelled `unmatched`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.monitoring.metrics import (
    HTTP_IN_FLIGHT,
    HTTP_LATENCY,
    HTTP_REQUEST_SIZE,
    HTTP_REQUESTS,
    HTTP_RESPONSE_SIZE,
)
from app.monitoring.window import RequestWindow

UNMATCHED = "unmatched"
# Any other method string is labelled OTHER: a client must not be able to mint label values.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
logger = logging.getLogger("app.requests")


def route_template(scope: Scope, root_path: str = "") -> str:
    """The template of the route that served `scope`, read after the app ran.

    FastAPI keeps the full template of a route inside included routers in its effective route
    context (`scope["route"].path` lacks the routers' prefixes); a mounted app adds its mount
    path to `root_path`.
    """
    context = scope.get("fastapi", {}).get("effective_route_context")
    path = getattr(context, "path_format", None) or getattr(scope.get("route"), "path", None)
    if not isinstance(path, str):
        return UNMATCHED
    mount = scope.get("root_path", "")
    return mount[len(root_path) :] + path if mount != root_path else path


class _RouteMetrics:
    """The labelled children of one (method, route), looked up once instead of per request."""

    __slots__ = ("latency", "method", "request_size", "response_size", "route", "statuses")

    def __init__(self, method: str, route: str) -> None:
        self.method = method
        self.route = route
        self.latency = HTTP_LATENCY.labels(method, route)
        self.request_size = HTTP_REQUEST_SIZE.labels(route)
        self.response_size = HTTP_RESPONSE_SIZE.labels(route)
        self.statuses: dict[int, Any] = {}

    def count(self, status: int) -> None:
        counter = self.statuses.get(status)
        if counter is None:
            counter = self.statuses[status] = HTTP_REQUESTS.labels(
                self.method, self.route, str(status)
            )
        counter.inc()


class PerformanceMiddleware:
    """Count, time and size every HTTP request; log the slow ones."""

    def __init__(
        self, app: ASGIApp, *, slow_threshold: float, window: RequestWindow | None = None
    ) -> None:
        self.app = app
        self.slow_ns = int(slow_threshold * 1e9)
        self.window = window
        self._routes: dict[tuple[str, str], _RouteMetrics] = {}

    def _metrics(self, method: str, route: str) -> _RouteMetrics:
        key = (method, route)
        found = self._routes.get(key)
        if found is None:
            found = self._routes[key] = _RouteMetrics(method, route)
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter_ns()
        root_path = scope.get("root_path", "")
        request_size = 0
        for name, value in scope["headers"]:
            if name == b"content-length":
                request_size = int(value) if value.isdigit() else 0
                break
        status = 500
        response_size = 0

        async def send_measured(message: Message) -> None:
            nonlocal status, response_size
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                response_size += len(message.get("body", b""))
            await send(message)

        HTTP_IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send_measured)
        finally:
            HTTP_IN_FLIGHT.dec()
            elapsed_ns = time.perf_counter_ns() - start
            seconds = elapsed_ns / 1e9
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            metrics = self._metrics(method, route_template(scope, root_path))
            metrics.count(status)
            metrics.latency.observe(seconds)
            metrics.request_size.observe(request_size)
            metrics.response_size.observe(response_size)
            if self.window is not None:
                self.window.record(method, metrics.route, seconds)
            if elapsed_ns >= self.slow_ns:
                logger.warning(
                    "slow request %s %s: %d in %.1f ms",
                    method,
                    metrics.route,
                    status,
                    elapsed_ns / 1e6,
                    extra={
                        "route": metrics.route,
                        "status": status,
                        "duration_ms": elapsed_ns / 1e6,
                    },
                )
