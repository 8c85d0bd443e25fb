"""Per-endpoint request statistics: exact-to-1% latency histograms, counts and a timeline.

Used inside the Locust processes (recording) and in the CLI (merging snapshots), so it has
no dependency beyond the standard library. Successful and failed requests are kept apart:
a fast 404 or a slow timeout must not move the latency of the requests that worked.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from btai_ops.loadstats.histogram import Histogram

LATE_TOLERANCE_MS = 10.0
"""A scheduled request sent more than this after its slot counts as not sent on time."""
MAX_REASONS = 50  # distinct failure reasons kept per endpoint; the rest count as "other"


@dataclass
class EndpointStats:
    method: str = ""
    requests: int = 0
    failures: int = 0
    late: int = 0
    service: Histogram = field(default_factory=Histogram)  # successful requests only
    failed: Histogram = field(default_factory=Histogram)  # failed requests' latencies
    corrected: Histogram = field(default_factory=Histogram)  # successes, from their slot
    reasons: dict[str, int] = field(default_factory=dict)  # "HTTP 404" / exception -> count

    def add(self, response_ms: float, error: str | None, late_ms: float | None) -> None:
        """One answer; `late_ms` (open model only) is how late it was sent."""
        self.requests += 1
        if error is None:
            self.service.record(response_ms)
        else:
            self.failures += 1
            self.failed.record(response_ms)
            self.count_reason(error[:200])
        if late_ms is not None:
            if error is None:
                self.corrected.record(response_ms + late_ms)
            if late_ms > LATE_TOLERANCE_MS:
                self.late += 1

    def count_reason(self, reason: str, n: int = 1) -> None:
        if reason not in self.reasons and len(self.reasons) >= MAX_REASONS:
            reason = "other"
        self.reasons[reason] = self.reasons.get(reason, 0) + n

    def merge(self, other: EndpointStats) -> EndpointStats:
        self.method = self.method or other.method
        self.requests += other.requests
        self.failures += other.failures
        self.late += other.late
        self.service.merge(other.service)
        self.failed.merge(other.failed)
        self.corrected.merge(other.corrected)
        for reason, n in other.reasons.items():
            self.count_reason(reason, n)
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "requests": self.requests,
            "failures": self.failures,
            "late": self.late,
            "service": self.service.to_dict(),
            "failed": self.failed.to_dict(),
            "corrected": self.corrected.to_dict(),
            "reasons": dict(self.reasons),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EndpointStats:
        return cls(
            method=str(data.get("method", "")),
            requests=int(data["requests"]),
            failures=int(data["failures"]),
            late=int(data.get("late", 0)),
            service=Histogram.from_dict(data["service"]),
            failed=Histogram.from_dict(data["failed"]) if "failed" in data else Histogram(),
            corrected=Histogram.from_dict(data["corrected"]),
            reasons={str(k): int(v) for k, v in data.get("reasons", {}).items()},
        )


@dataclass
class Recording:
    """Everything one or more load generators measured.

    `first_sent` and `last_answered` bound the span throughput is computed over. Requests
    answered after `cutoff` (the moment the run was told to stop) are left out of every
    figure and only counted in `in_flight_excluded`: their latency includes the teardown.
    """

    endpoints: dict[str, EndpointStats] = field(default_factory=dict)
    timeline: dict[int, int] = field(default_factory=dict)  # epoch second -> responses
    started_at: float = 0.0
    ended_at: float = 0.0
    first_sent: float = 0.0
    last_answered: float = 0.0
    cutoff: float = 0.0
    in_flight_excluded: int = 0
    loop_lag: Histogram = field(default_factory=Histogram)  # generator event-loop lag, ms

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
        """One answered request; `error` is its failure reason (None when it succeeded)."""
        sent = start_time if start_time is not None else time.time() - response_ms / 1000.0
        answered = sent + response_ms / 1000.0
        if self.cutoff and answered > self.cutoff:
            self.in_flight_excluded += 1
            return
        stats = self.endpoints.get(name)
        if stats is None:
            stats = self.endpoints[name] = EndpointStats(method=method)
        late_ms = None
        if scheduled is not None and start_time is not None:
            late_ms = max(0.0, (start_time - scheduled) * 1000.0)
        stats.add(response_ms, error, late_ms)
        self.first_sent = min(self.first_sent, sent) if self.first_sent else sent
        self.last_answered = max(self.last_answered, answered)
        second = math.floor(answered)
        self.timeline[second] = self.timeline.get(second, 0) + 1

    @property
    def span_s(self) -> float:
        """From the first send to the last answer (0.0 before any answer)."""
        return max(self.last_answered - self.first_sent, 0.0) if self.first_sent else 0.0

    def merge(self, other: Recording) -> Recording:
        for name, stats in other.endpoints.items():
            mine = self.endpoints.get(name)
            if mine is None:
                self.endpoints[name] = EndpointStats(method=stats.method).merge(stats)
            else:
                mine.merge(stats)
        for second, n in other.timeline.items():
            self.timeline[second] = self.timeline.get(second, 0) + n
        self.started_at = _earliest(self.started_at, other.started_at)
        self.ended_at = max(self.ended_at, other.ended_at)
        self.first_sent = _earliest(self.first_sent, other.first_sent)
        self.last_answered = max(self.last_answered, other.last_answered)
        self.cutoff = _earliest(self.cutoff, other.cutoff)
        self.in_flight_excluded += other.in_flight_excluded
        self.loop_lag.merge(other.loop_lag)
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoints": {name: s.to_dict() for name, s in self.endpoints.items()},
            "timeline": [[second, n] for second, n in sorted(self.timeline.items())],
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "first_sent": self.first_sent,
            "last_answered": self.last_answered,
            "cutoff": self.cutoff,
            "in_flight_excluded": self.in_flight_excluded,
            "loop_lag": self.loop_lag.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Recording:
        lag = data.get("loop_lag")
        return cls(
            endpoints={n: EndpointStats.from_dict(s) for n, s in data["endpoints"].items()},
            timeline={int(s): int(n) for s, n in data.get("timeline", [])},
            started_at=float(data.get("started_at", 0.0)),
            ended_at=float(data.get("ended_at", 0.0)),
            first_sent=float(data.get("first_sent", 0.0)),
            last_answered=float(data.get("last_answered", 0.0)),
            cutoff=float(data.get("cutoff", 0.0)),
            in_flight_excluded=int(data.get("in_flight_excluded", 0)),
            loop_lag=Histogram.from_dict(lag) if lag else Histogram(),
        )


def _earliest(mine: float, theirs: float) -> float:
    """The earlier of two epoch times, where 0.0 means "not yet"."""
    return min(mine, theirs) if mine and theirs else mine or theirs
