"""Rich views of a load test: the live progress line and the final summary tables."""

from __future__ import annotations

import time
from typing import Any

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from btai_ops.loadstats.histogram import Histogram
from btai_ops.loadstats.recorder import Recording
from btai_ops.loadstats.runner import Progress


class LiveView:
    """Turns the live snapshots into one table; rps comes from the last two snapshots."""

    def __init__(self, duration_s: float) -> None:
        self.duration_s = duration_s
        self._last: tuple[float, int] | None = None
        self.rps = 0.0

    def update(self, progress: Progress) -> Table:
        requests = failures = 0
        hist = Histogram()
        if progress.live:
            recording = Recording.from_dict(progress.live)
            for stats in recording.endpoints.values():
                requests += stats.requests
                failures += stats.failures
                hist.merge(stats.service)
        if self._last is not None and progress.elapsed_s > self._last[0]:
            self.rps = (requests - self._last[1]) / (progress.elapsed_s - self._last[0])
        self._last = (progress.elapsed_s, requests)
        table = Table(box=None, show_header=True, header_style="bold")
        for column in ("elapsed", "req/s", "p50", "p95", "p99", "failures", "generator CPU"):
            table.add_column(column, justify="right")
        cpu_style = "red" if progress.cpu_percent > 90 else ""
        started = (progress.live or {}).get("started_at")
        elapsed = (
            "starting" if not started else f"{time.time() - started:.0f}/{self.duration_s:.0f}s"
        )
        table.add_row(
            elapsed,
            f"{self.rps:,.0f}",
            f"{hist.percentile(50):.1f}ms",
            f"{hist.percentile(95):.1f}ms",
            f"{hist.percentile(99):.1f}ms",
            f"{failures:,}",
            Text(f"{progress.cpu_percent:.0f}%", style=cpu_style),
        )
        return table


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def failures_table(summary: dict[str, Any]) -> Table:
    """Failed requests by endpoint and reason, with their latencies apart from the successes."""
    table = Table(title="Failures", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("endpoint", overflow="fold", min_width=12)
    table.add_column("reason", overflow="fold")
    table.add_column("count", justify="right", no_wrap=True)
    table.add_column("p50 ms", justify="right", no_wrap=True)
    for row in summary["failures"][:20]:
        failed = summary["endpoints"][row["endpoint"]].get("failed_latency_ms") or {}
        table.add_row(
            f"{row['method']} {row['endpoint']}".strip(),
            row["reason"],
            f"{row['count']:,}",
            _ms(failed.get("p50")),
        )
    if len(summary["failures"]) > 20:
        table.add_row("…", f"{len(summary['failures']) - 20} more reasons in the JSON", "", "")
    return table


def summary_view(summary: dict[str, Any], width: int = 140) -> Group:
    """The endpoint table, the thresholds and the verdict; p90 and p99.9 need width ≥ 120.

    Latencies are those of successful requests; failures are listed apart by reason.
    """
    rate_mode = bool(summary["config"].get("rate"))
    table = Table(title="Load test (latencies in ms)", title_justify="left", box=box.SIMPLE_HEAD)
    stats = (
        ("p50", "p90", "p95", "p99", "p99.9", "max")
        if width >= 120
        else ("p50", "p95", "p99", "max")
    )
    show_late = rate_mode and width >= 120  # narrower: the count is in the line below
    columns = ["endpoint", "requests", "fail", "req/s", *stats, *(["late"] if show_late else [])]
    for name in columns:
        if name == "endpoint":
            table.add_column(name, overflow="fold", min_width=12)
        else:
            table.add_column(name, justify="right", no_wrap=True)
    rows = [*summary["endpoints"].items(), ("total", summary["total"])]
    for name, block in rows:
        lat = block["latency_ms"] or {}
        table.add_row(
            name,
            f"{block['requests']:,}",
            f"{block['failures']:,}",
            f"{block['rps']:,.1f}",
            *(_ms(lat.get(k)) for k in stats),
            *([f"{block['late']:,}"] if show_late else []),
        )
        if rate_mode and block.get("corrected_ms"):
            cor = block["corrected_ms"]
            table.add_row(
                Text("  corrected", style="dim"),
                "",
                "",
                "",
                *(_ms(cor[k]) for k in stats),
                *([""] if show_late else []),
                style="dim",
            )
    parts: list[Any] = [table]
    if summary["failures"]:
        parts.append(failures_table(summary))
    if rate_mode:
        parts.append(
            Text(
                f"--rate {summary['config']['rate']}/s: latency = service time from the actual "
                "send; corrected = from the scheduled send (coordinated omission corrected); "
                f"{summary['total']['late']:,} requests were sent more than "
                f"{summary['config']['late_tolerance_ms']:.0f} ms late."
            )
        )
    if summary["thresholds"]:
        checks = Table(title="Thresholds", title_justify="left")
        for name in ("threshold", "value", "result"):
            checks.add_column(name)
        for t in summary["thresholds"]:
            if t["value"] is None:
                shown = "missing"
            elif t["metric"] == "fail_ratio":
                shown = f"{t['value']:.2%}"
            else:
                shown = f"{t['value']:,.4g}"
            unit = " ms" if t["unit"] == "ms" and t["value"] is not None else ""
            result = Text("pass", "green") if t["passed"] else Text("FAIL", "bold red")
            checks.add_row(t["expression"], shown + unit, result)
        parts.append(checks)
    for reason in summary["invalid_reasons"]:
        parts.append(Text(f"Warning: run invalid: {reason}", style="bold yellow"))
    for reason in summary["verdict_reasons"]:
        parts.append(Text(f"Failed: {reason}", style="red"))
    cpu = summary["generator"].get("max_cpu_percent", 0.0)
    lag = summary["generator"].get("loop_lag_ms") or {}
    if summary["state"] != "finished":
        verdict = "INTERRUPTED"
    elif summary["passed"]:
        verdict = "PASSED"
    else:
        verdict = "INVALID" if not summary["valid"] else "FAILED"
    style = "bold green" if summary["passed"] else "bold red"
    excluded = summary["in_flight_excluded"]
    parts.append(
        Text(
            f"{verdict}: {summary['total']['requests']:,} requests in {summary['span_s']:.1f}s"
            + (f" ({excluded:,} in flight at the stop left out)" if excluded else "")
            + f", busiest generator process {cpu:.0f}% CPU"
            + (f", event-loop lag p99 {lag['p99']:.1f} ms" if lag else ""),
            style=style,
        )
    )
    return Group(*parts)
