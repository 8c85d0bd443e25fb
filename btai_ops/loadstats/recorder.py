"""Per-endpoint request statistics: exact-to-1% latency histograms, counts and a timeline.

Used inside the Locust processes (recording) and in the CLI (merging snapshots), so it has
no dependency beyond the standard library.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from btai_ops.loadstats.histogram import Histogram

LATE_TOLERANCE_MS = 10.0
"""A scheduled request sent more than this after its slot counts as not sent on time."""


@dataclass
class EndpointStats:
    method: str = ""
    requests: int = 0
    failures: int = 0
    late: int = 0
    service: Histogram = field(default_factory=Histogram)
    corrected: Histogram = field(default_factory=Histogram)

    def merge(self, other: EndpointStats) -> EndpointStats:
        self.method = self.method or other.method
        self.requests += other.requests
        self.failures += other.failures
        self.late += other.late
        self.service.merge(other.service)
        self.corrected.merge(other.corrected)
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "requests": self.requests,
            "failures": self.failures,
            "late": self.late,
            "service": self.service.to_dict(),
            "corrected": self.corrected.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EndpointStats:
        return cls(
            method=str(data.get("method", "")),
            requests=int(data["requests"]),
            failures=int(data["failures"]),
            late=int(data.get("late", 0)),
            service=Histogram.from_dict(data["service"]),
            corrected=Histogram.from_dict(data["corrected"]),
        )


@dataclass
class Recording:
    """Everything one or more load generators measured."""

    endpoints: dict[str, EndpointStats] = field(default_factory=dict)
    timeline: dict[int, int] = field(default_factory=dict)  # epoch second -> responses
    errors: dict[str, int] = field(default_factory=dict)  # "METHOD name: error" -> count
    started_at: float = 0.0
    ended_at: float = 0.0

    def record(
        self,
        *,
        method: str,
        name: str,
        response_ms: float,
        error: str | None,
        start_time: float | None,
        scheduled: float | None,
    ) -> None:
        stats = self.endpoints.get(name)
        if stats is None:
            stats = self.endpoints[name] = EndpointStats(method=method)
        stats.requests += 1
        stats.service.record(response_ms)
        if scheduled is not None and start_time is not None:
            late_ms = max(0.0, (start_time - scheduled) * 1000.0)
            stats.corrected.record(response_ms + late_ms)
            if late_ms > LATE_TOLERANCE_MS:
                stats.late += 1
        if error is not None:
            stats.failures += 1
            key = f"{method} {name}: {error}"[:300]
            if key in self.errors or len(self.errors) < 50:
                self.errors[key] = self.errors.get(key, 0) + 1
        second = int(time.time())
        self.timeline[second] = self.timeline.get(second, 0) + 1

    def merge(self, other: Recording) -> Recording:
        for name, stats in other.endpoints.items():
            mine = self.endpoints.get(name)
            if mine is None:
                self.endpoints[name] = EndpointStats(method=stats.method).merge(stats)
            else:
                mine.merge(stats)
        for second, n in other.timeline.items():
            self.timeline[second] = self.timeline.get(second, 0) + n
        for key, n in other.errors.items():
            self.errors[key] = self.errors.get(key, 0) + n
        starts = [t for t in (self.started_at, other.started_at) if t]
        self.started_at = min(starts) if starts else 0.0
        self.ended_at = max(self.ended_at, other.ended_at)
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoints": {name: s.to_dict() for name, s in self.endpoints.items()},
            "timeline": [[second, n] for second, n in sorted(self.timeline.items())],
            "errors": dict(self.errors),
            "started_at": self.started_at,
            "ended_at": self.ended_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Recording:
        return cls(
            endpoints={n: EndpointStats.from_dict(s) for n, s in data["endpoints"].items()},
            timeline={int(s): int(n) for s, n in data.get("timeline", [])},
            errors={str(k): int(v) for k, v in data.get("errors", {}).items()},
            started_at=float(data.get("started_at", 0.0)),
            ended_at=float(data.get("ended_at", 0.0)),
        )

    @classmethod
    def combine(cls, recordings: Iterable[Recording]) -> Recording:
        total = cls()
        for recording in recordings:
            total.merge(recording)
        return total
