"""Performance middleware: request metrics by route template, slow-request logs.

The route label is the template of the route that served the request (`/api/v1/teams/{key}`),
read after the app ran, never the raw path, so label cardinality stays bounded; requests that
match no route are labelled `unmatched`. Figures are counted in `RequestStats` and reach
Prometheus in batches (see `app.monitoring.request_stats`). Request sizes come from
Content-Length, so only requests that declare a body are observed.
"""

from __future__ import annotations

import logging
from time import perf_counter_ns

from starlette.types import ASGIApp, Scope

from app.middleware.edge import EdgeMiddleware
from app.monitoring.request_stats import RequestStats, RouteStats

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
    fastapi = scope.get("fastapi")
    context = fastapi.get("effective_route_context") if fastapi else None
    path = getattr(context, "path_format", None) or getattr(scope.get("route"), "path", None)
    if not isinstance(path, str):
        return UNMATCHED
    mount = scope.get("root_path", "")
    return mount[len(root_path) :] + path if mount != root_path else path


class RequestMetrics:
    """The performance part of the edge layer (`app.middleware.edge`): count, time and size
    every HTTP request; log the slow ones."""

    def __init__(self, *, slow_threshold: float, stats: RequestStats) -> None:
        self.slow_ns = int(slow_threshold * 1e9)
        self.stats = stats

    def finish(self, scope: Scope, root_path: str, start_ns: int, status: int, size: int) -> None:
        """Record a request that began at `start_ns` (the caller raised `stats.in_flight`)."""
        stats = self.stats
        stats.in_flight -= 1
        elapsed_ns = perf_counter_ns() - start_ns
        request_size = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                request_size = int(value) if value.isdigit() else None
                break
        method = scope["method"] if scope["method"] in METHODS else "OTHER"
        route: RouteStats = stats.route(method, route_template(scope, root_path))
        stats.record(route, status, elapsed_ns / 1e9, request_size, size)
        if elapsed_ns >= self.slow_ns:
            duration_ms = round(elapsed_ns / 1e6, 3)
            logger.warning(
                "slow request %s %s: %d in %.1f ms",
                method,
                route.route,
                status,
                duration_ms,
                extra={"route": route.route, "status": status, "duration_ms": duration_ms},
            )


class PerformanceMiddleware(EdgeMiddleware):
    """Count, time and size every HTTP request; log the slow ones."""

    def __init__(self, app: ASGIApp, *, slow_threshold: float, stats: RequestStats) -> None:
        super().__init__(app, metrics=RequestMetrics(slow_threshold=slow_threshold, stats=stats))
