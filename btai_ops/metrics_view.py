"""What `btai top` shows, computed from two scrapes of a server's `/metrics`.

The server aggregates every worker into one exposition (prometheus multiprocess mode), so two
scrapes a few seconds apart give the whole server's rates: requests/s and errors/s from the
counters' increase, p50/p95/p99 from the increase of each latency bucket (interpolated within
the bucket, as PromQL's `histogram_quantile` does), in-flight requests and queue depth as read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

RouteKey = tuple[str, str]  # (method, route)


@dataclass
class Scrape:
    """The figures of one `/metrics` answer that `btai top` needs."""

    at: float  # time.monotonic() when read
    requests: dict[RouteKey, float] = field(default_factory=dict)
    client_errors: dict[RouteKey, float] = field(default_factory=dict)
    server_errors: dict[RouteKey, float] = field(default_factory=dict)
    # Cumulative latency buckets per route: upper bound (seconds) -> count.
    buckets: dict[RouteKey, dict[float, float]] = field(default_factory=dict)
    in_flight: float = 0.0
    queue_depth: float = 0.0


def parse_scrape(text: str, at: float) -> Scrape:
    """Read the request, latency, in-flight and queue figures out of a Prometheus exposition."""
    from prometheus_client.parser import text_string_to_metric_families

    scrape = Scrape(at=at)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            key = (labels.get("method", ""), labels.get("route", ""))
            if sample.name == "http_requests_total":
                _add(scrape.requests, key, sample.value)
                status = labels.get("status", "")
                if status.startswith("5"):
                    _add(scrape.server_errors, key, sample.value)
                elif status.startswith("4"):
                    _add(scrape.client_errors, key, sample.value)
            elif sample.name == "http_request_duration_seconds_bucket":
                bound = float(labels["le"])
                route_buckets = scrape.buckets.setdefault(key, {})
                route_buckets[bound] = route_buckets.get(bound, 0.0) + sample.value
            elif sample.name == "http_requests_in_progress":
                scrape.in_flight += sample.value
            elif sample.name == "queue_depth":
                scrape.queue_depth += sample.value
    return scrape


def _add(table: dict[RouteKey, float], key: RouteKey, value: float) -> None:
    table[key] = table.get(key, 0.0) + value


@dataclass(frozen=True)
class RouteRow:
    method: str
    route: str
    rps: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    client_errors_per_s: float
    server_errors_per_s: float

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass(frozen=True)
class Frame:
    """One refresh: the figures between two scrapes (or since start, for the first)."""

    seconds: float
    rps: float
    in_flight: float
    queue_depth: float
    routes: list[RouteRow]

    def as_dict(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 3),
            "rps": self.rps,
            "in_flight": self.in_flight,
            "queue_depth": self.queue_depth,
            "routes": [row.as_dict() for row in self.routes],
        }


def frame_between(before: Scrape | None, after: Scrape) -> Frame:
    """The rates from `before` to `after`; with no `before`, the counts since the server began
    (over one second, so the rates read as totals)."""
    empty = Scrape(at=after.at - 1.0)
    base = before or empty
    seconds = max(after.at - base.at, 1e-9)
    rows = []
    for key in sorted(after.requests):
        count = after.requests[key] - base.requests.get(key, 0.0)
        if count <= 0:
            continue
        buckets = _bucket_increase(base.buckets.get(key, {}), after.buckets.get(key, {}))
        rows.append(
            RouteRow(
                method=key[0],
                route=key[1],
                rps=count / seconds,
                p50_ms=_quantile_ms(0.50, buckets),
                p95_ms=_quantile_ms(0.95, buckets),
                p99_ms=_quantile_ms(0.99, buckets),
                client_errors_per_s=_increase(base.client_errors, after.client_errors, key)
                / seconds,
                server_errors_per_s=_increase(base.server_errors, after.server_errors, key)
                / seconds,
            )
        )
    rows.sort(key=lambda row: -row.rps)
    return Frame(
        seconds=seconds,
        rps=sum(row.rps for row in rows),
        in_flight=after.in_flight,
        queue_depth=after.queue_depth,
        routes=rows,
    )


def _increase(before: dict[RouteKey, float], after: dict[RouteKey, float], key: RouteKey) -> float:
    return max(after.get(key, 0.0) - before.get(key, 0.0), 0.0)


def _bucket_increase(
    before: dict[float, float], after: dict[float, float]
) -> list[tuple[float, float]]:
    return sorted(
        (bound, max(count - before.get(bound, 0.0), 0.0)) for bound, count in after.items()
    )


def _quantile_ms(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """PromQL's histogram_quantile over cumulative (upper bound, count) pairs, in ms."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    total = buckets[-1][1]
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return lower_bound * 1000  # above the last finite bucket: its bound
            share = (rank - lower_count) / (count - lower_count) if count > lower_count else 1.0
            return (lower_bound + (bound - lower_bound) * share) * 1000
        lower_bound, lower_count = bound, count
    return lower_bound * 1000


def frame_table(frame: Frame, url: str, *, first: bool) -> Any:
    """A rich renderable of `frame`: one summary line and one row per route."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    window = "since start" if first else f"last {frame.seconds:.1f}s"
    summary = Text(
        f"{url}  {frame.rps:.1f} req/s  in-flight {frame.in_flight:.0f}  "
        f"queue depth {frame.queue_depth:.0f}  ({window}; Ctrl-C quits)"
    )
    table = Table("route", "req/s", "p50 ms", "p95 ms", "p99 ms", "4xx/s", "5xx/s", box=None)
    for row in frame.routes:
        table.add_row(
            Text(f"{row.method} {row.route}"),
            f"{row.rps:.1f}",
            _ms(row.p50_ms),
            _ms(row.p95_ms),
            _ms(row.p99_ms),
            f"{row.client_errors_per_s:.1f}",
            f"{row.server_errors_per_s:.1f}",
        )
    return Group(summary, table)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
