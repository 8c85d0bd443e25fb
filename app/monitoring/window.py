"""A rolling one-minute window of request durations per route, for `/api/v1/system/metrics`.

Each route keeps sixty one-second slots of exact samples (an `array` of floats); reading sorts
the samples of the last minute. The performance middleware's `RequestStats` hands over its
durations in batches (at most half a second old, and always just before a read), so the
request path itself never touches the window. A slot keeps at most
`MAX_SAMPLES_PER_SLOT` samples and counts the rest, so memory stays bounded under any load
while the counts, and hence requests per second, stay exact.
"""

from __future__ import annotations

import math
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

WINDOW_SECONDS = 60
MAX_SAMPLES_PER_SLOT = 5_000


@dataclass(slots=True)
class _Slot:
    second: int = -1
    count: int = 0
    samples: array[float] = field(default_factory=lambda: array("d"))


class RouteWindow:
    """The last minute of one route."""

    __slots__ = ("slots",)

    def __init__(self) -> None:
        self.slots = [_Slot() for _ in range(WINDOW_SECONDS)]

    def record(self, second: int, seconds: float) -> None:
        self.extend(second, array("d", (seconds,)))

    def extend(self, second: int, durations: array[float]) -> None:
        """Add durations (in seconds) observed in `second`."""
        slot = self.slots[second % WINDOW_SECONDS]
        if slot.second != second:
            slot.second = second
            slot.count = 0
            slot.samples = array("d")
        slot.count += len(durations)
        room = MAX_SAMPLES_PER_SLOT - len(slot.samples)
        if room > 0:
            slot.samples.extend(durations[:room])

    def live(self, now: int) -> list[_Slot]:
        return [s for s in self.slots if now - WINDOW_SECONDS < s.second <= now]


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile: never above the largest sample."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


class RequestWindow:
    """Durations per (method, route) over the last minute."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self.clock = clock
        # Called before every read; `RequestStats` sets it to hand over its pending durations.
        self.before_read: Callable[[], None] | None = None
        self._routes: dict[tuple[str, str], RouteWindow] = {}
        self.started = clock()

    def route(self, method: str, route: str) -> RouteWindow:
        """The window of one route; callers keep it and call `extend(second, durations)`."""
        key = (method, route)
        window = self._routes.get(key)
        if window is None:
            window = self._routes[key] = RouteWindow()
        return window

    def record(self, method: str, route: str, seconds: float) -> None:
        self.route(method, route).record(int(self.clock()), seconds)

    def snapshot(self) -> list[dict[str, Any]]:
        """Per route: requests, requests per second and p50/p95/p99 in milliseconds."""
        if self.before_read is not None:
            self.before_read()
        now_float = self.clock()
        now = int(now_float)
        # Early in the process life the window is shorter than a minute.
        span = max(1.0, min(float(WINDOW_SECONDS), now_float - self.started))
        rows = []
        for (method, route), window in sorted(self._routes.items(), key=lambda i: i[0][::-1]):
            slots = window.live(now)
            count = sum(s.count for s in slots)
            if not count:
                continue
            values = sorted(v for s in slots for v in s.samples)
            rows.append(
                {
                    "method": method,
                    "route": route,
                    "requests": count,
                    "rps": round(count / span, 3),
                    "p50_ms": round(percentile(values, 50) * 1000, 3),
                    "p95_ms": round(percentile(values, 95) * 1000, 3),
                    "p99_ms": round(percentile(values, 99) * 1000, 3),
                    "max_ms": round(values[-1] * 1000, 3),
                }
            )
        return rows
