"""A log-linear latency histogram: every value kept to within 0.5%, merged by adding counts.

Buckets are powers of 1.01 over microseconds, so a percentile read from the histogram is
within 0.5% of the same percentile of the raw samples. Exact min and max are kept, and a
percentile is clamped to them, so p99 is never above max. Percentiles use the nearest-rank
definition: the smallest value with at least q% of the samples at or below it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

_GROWTH = 1.01
_LOG_GROWTH = math.log(_GROWTH)


def bucket_of(value_us: float) -> int:
    """The bucket index of a latency in microseconds (values below 1 µs share bucket 0)."""
    if value_us <= 1.0:
        return 0
    return int(math.log(value_us) / _LOG_GROWTH)


def bucket_value(index: int) -> float:
    """The value that represents a bucket: its geometric midpoint, in microseconds."""
    return float(_GROWTH ** (index + 0.5))


@dataclass
class Histogram:
    """Latencies in milliseconds, recorded into 1%-wide buckets."""

    counts: dict[int, int] = field(default_factory=dict)
    count: int = 0
    total_ms: float = 0.0
    min_ms: float = math.inf
    max_ms: float = 0.0

    def record(self, value_ms: float, times: int = 1) -> None:
        value_ms = max(value_ms, 0.0)
        index = bucket_of(value_ms * 1000.0)
        self.counts[index] = self.counts.get(index, 0) + times
        self.count += times
        self.total_ms += value_ms * times
        self.min_ms = min(self.min_ms, value_ms)
        self.max_ms = max(self.max_ms, value_ms)

    def merge(self, other: Histogram) -> Histogram:
        for index, n in other.counts.items():
            self.counts[index] = self.counts.get(index, 0) + n
        self.count += other.count
        self.total_ms += other.total_ms
        self.min_ms = min(self.min_ms, other.min_ms)
        self.max_ms = max(self.max_ms, other.max_ms)
        return self

    @property
    def mean_ms(self) -> float:
        return self.total_ms / self.count if self.count else 0.0

    def percentile(self, q: float) -> float:
        """The q-th percentile (0 < q ≤ 100) in milliseconds; 0.0 when empty."""
        if not self.count:
            return 0.0
        rank = max(1, math.ceil(q / 100.0 * self.count - 1e-9))
        if rank >= self.count:
            return self.max_ms
        if rank == 1:
            return self.min_ms
        seen = 0
        for index in sorted(self.counts):
            seen += self.counts[index]
            if seen >= rank:
                return min(max(bucket_value(index) / 1000.0, self.min_ms), self.max_ms)
        return self.max_ms

    def weighted_values(self) -> Iterator[tuple[float, int]]:
        """(value in ms, count) per bucket, in ascending order; the samples, grouped."""
        for index in sorted(self.counts):
            value = min(max(bucket_value(index) / 1000.0, self.min_ms), self.max_ms)
            yield value, self.counts[index]

    def to_dict(self) -> dict[str, Any]:
        indices = sorted(self.counts)
        return {
            "count": self.count,
            "total_ms": self.total_ms,
            "min_ms": self.min_ms if self.count else 0.0,
            "max_ms": self.max_ms,
            "buckets": indices,
            "counts": [self.counts[i] for i in indices],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Histogram:
        buckets, counts = data["buckets"], data["counts"]
        if len(buckets) != len(counts):
            raise ValueError("histogram buckets and counts differ in length")
        hist = cls(
            counts={int(i): int(n) for i, n in zip(buckets, counts, strict=True)},
            count=int(data["count"]),
            total_ms=float(data["total_ms"]),
            min_ms=float(data["min_ms"]) if data["count"] else math.inf,
            max_ms=float(data["max_ms"]),
        )
        if sum(hist.counts.values()) != hist.count:
            raise ValueError("histogram counts do not add up to its count")
        return hist

    @classmethod
    def of(cls, values_ms: Iterable[float]) -> Histogram:
        hist = cls()
        for value in values_ms:
            hist.record(value)
        return hist


PERCENTILES: tuple[tuple[str, float], ...] = (
    ("p50", 50.0),
    ("p90", 90.0),
    ("p95", 95.0),
    ("p99", 99.0),
    ("p99.9", 99.9),
)


def latency_summary(hist: Histogram) -> dict[str, float]:
    """min, mean, p50 … p99.9 and max of a histogram, in milliseconds, rounded to 3 places."""
    out = {"min": hist.min_ms if hist.count else 0.0, "mean": hist.mean_ms}
    out.update({name: hist.percentile(q) for name, q in PERCENTILES})
    out["max"] = hist.max_ms
    return {k: round(v, 3) for k, v in out.items()}
