"""Per-route request figures, counted in plain Python and pushed into Prometheus in batches.

Updating prometheus-client values costs a lock (and, with several workers, an mmap write) per
counter and per histogram bucket: several microseconds per request. Instead each request
appends its duration and sizes to flat arrays and bumps one status count; `flush()` sorts each
array once, counts it into the histogram buckets and adds the totals to the Prometheus
metrics, once per route and bucket, and hands the durations to the one-minute window behind
`/api/v1/system/metrics`. It runs before every scrape of this worker and before every read of
the window, and, in every worker, at most `FLUSH_INTERVAL` seconds after its last request (a
loop timer, armed only while figures are pending), so `/metrics` summed over several workers
is never more than that interval behind.
"""

from __future__ import annotations

import asyncio
import math
import time
from array import array
from bisect import bisect_right
from typing import Any

from app.monitoring.metrics import (
    HTTP_IN_FLIGHT,
    HTTP_LATENCY,
    HTTP_REQUEST_SIZE,
    HTTP_REQUESTS,
    HTTP_RESPONSE_SIZE,
)
from app.monitoring.window import RequestWindow, RouteWindow

FLUSH_INTERVAL = 0.5  # seconds


class _Histogram:
    """Pending observations of one labelled prometheus-client histogram child."""

    __slots__ = ("bounds", "child", "pending")

    def __init__(self, child: Any, typecode: str) -> None:
        self.child = child
        # prometheus-client keeps its bucket bounds (ending in +Inf) and one value per bucket.
        self.bounds: list[float] = child._upper_bounds
        self.pending: array[Any] = array(typecode)

    def flush(self) -> array[Any]:
        """Push the pending observations; return them (oldest first)."""
        values = self.pending
        if not values:
            return values
        self.pending = array(values.typecode)
        ordered = sorted(values)
        self.child._sum.inc(math.fsum(ordered))
        below = 0
        for index, bound in enumerate(self.bounds):
            upto = bisect_right(ordered, bound)  # observations <= bound: Prometheus's `le`
            if upto > below:
                self.child._buckets[index].inc(upto - below)
                below = upto
            if below == len(ordered):
                break
        return values


class RouteStats:
    """What one (method, route) served since the last flush."""

    __slots__ = (
        "latency",
        "method",
        "request_size",
        "response_size",
        "route",
        "statuses",
        "window",
    )

    def __init__(self, method: str, route: str, window: RouteWindow | None) -> None:
        self.method = method
        self.route = route
        self.window = window
        self.statuses: dict[int, int] = {}
        self.latency = _Histogram(HTTP_LATENCY.labels(method, route), "d")
        self.request_size = _Histogram(HTTP_REQUEST_SIZE.labels(route), "q")
        self.response_size = _Histogram(HTTP_RESPONSE_SIZE.labels(route), "q")

    def flush(self, second: int) -> None:
        statuses, self.statuses = self.statuses, {}
        for status, count in statuses.items():
            HTTP_REQUESTS.labels(self.method, self.route, str(status)).inc(count)
        durations = self.latency.flush()
        if self.window is not None and durations:
            self.window.extend(second, durations)
        self.request_size.flush()
        self.response_size.flush()


class RequestStats:
    """Per-route figures of this worker, and how many requests it is serving now."""

    def __init__(self, window: RequestWindow | None = None) -> None:
        self.window = window
        if window is not None:
            window.before_read = self.flush
        self.in_flight = 0
        self._routes: dict[tuple[str, str], RouteStats] = {}
        self._timer: asyncio.TimerHandle | None = None

    def route(self, method: str, route: str) -> RouteStats:
        key = (method, route)
        found = self._routes.get(key)
        if found is None:
            window = self.window.route(method, route) if self.window is not None else None
            found = self._routes[key] = RouteStats(method, route, window)
        return found

    def record(
        self, stats: RouteStats, status: int, seconds: float, request_size: int | None, size: int
    ) -> None:
        statuses = stats.statuses
        statuses[status] = statuses.get(status, 0) + 1
        stats.latency.pending.append(seconds)
        if request_size is not None:
            stats.request_size.pending.append(request_size)
        stats.response_size.pending.append(size)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(FLUSH_INTERVAL, self.flush)

    def flush(self) -> None:
        """Add everything pending to the Prometheus metrics (call on the event loop thread)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        second = int(self.window.clock() if self.window is not None else time.monotonic())
        for stats in list(self._routes.values()):
            stats.flush(second)
        HTTP_IN_FLIGHT.set(self.in_flight)
