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
from btai_ops.loadstats.summary import exit_code


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


def _add_endpoint(
    table: Table,
    name: str,
    block: dict[str, Any],
    stats: tuple[str, ...],
    late: list[str],
    rate_mode: bool,
) -> None:
    """One endpoint's row and, in the open model, its corrected latencies below it."""
    lat = block["latency_ms"] or {}
    table.add_row(
        name,
        f"{block['requests']:,}",
        f"{block['failures']:,}",
        f"{block['rps']:,.1f}",
        *(_ms(lat.get(k)) for k in stats),
        *([f"{block['late']:,}"] if late else []),
    )
    if rate_mode and block.get("corrected_ms"):
        corrected = (_ms(block["corrected_ms"][k]) for k in stats)
        label = Text("  corrected", style="dim")
        table.add_row(label, "", "", "", *corrected, *late, style="dim")


def _endpoint_table(summary: dict[str, Any], width: int) -> Table:
    """Requests, failures, req/s and latencies per endpoint and in total."""
    rate_mode = bool(summary["config"].get("rate"))
    table = Table(title="Load test (latencies in ms)", title_justify="left", box=box.SIMPLE_HEAD)
    wide = width >= 120
    stats = ("p50", "p90", "p95", "p99", "p99.9", "max") if wide else ("p50", "p95", "p99", "max")
    late = [""] if rate_mode and wide else []  # narrower: the late count is in the line below
    table.add_column("endpoint", overflow="fold", min_width=12)
    for name in ["requests", "fail", "req/s", *stats, *(["late"] if late else [])]:
        table.add_column(name, justify="right", no_wrap=True)
    for name, block in [*summary["endpoints"].items(), ("total", summary["total"])]:
        _add_endpoint(table, name, block, stats, late, rate_mode)
    return table


def _rate_note(summary: dict[str, Any]) -> Text:
    return Text(
        f"--rate {summary['config']['rate']}/s: latency = service time from the actual "
        "send; corrected = from the scheduled send (coordinated omission corrected); "
        f"{summary['total']['late']:,} requests were sent more than "
        f"{summary['config']['late_tolerance_ms']:.0f} ms late."
    )


def _threshold_value(t: dict[str, Any]) -> str:
    if t["value"] is None:
        return "missing"
    if t["metric"] == "fail_ratio":
        return f"{t['value']:.2%}"
    return f"{t['value']:,.4g}" + (" ms" if t["unit"] == "ms" else "")


def _thresholds_table(summary: dict[str, Any]) -> Table:
    checks = Table(title="Thresholds", title_justify="left")
    for name in ("threshold", "value", "result"):
        checks.add_column(name)
    for t in summary["thresholds"]:
        result = Text("pass", "green") if t["passed"] else Text("FAIL", "bold red")
        checks.add_row(t["expression"], _threshold_value(t), result)
    return checks


def _verdict_line(summary: dict[str, Any]) -> Text:
    cpu = summary["generator"].get("max_cpu_percent", 0.0)
    lag = summary["generator"].get("loop_lag_ms") or {}
    if summary["state"] != "finished":
        verdict = "INTERRUPTED"
    elif summary["passed"]:
        verdict = "PASSED"
    else:
        verdict = "FAILED" if exit_code(summary) == 1 else "INVALID"
    excluded = summary["in_flight_excluded"]
    return Text(
        f"{verdict}: {summary['total']['requests']:,} requests in {summary['span_s']:.1f}s"
        + (f" ({excluded:,} in flight at the stop left out)" if excluded else "")
        + f", busiest generator process {cpu:.0f}% CPU"
        + (f", event-loop lag p99 {lag['p99']:.1f} ms" if lag else ""),
        style="bold green" if summary["passed"] else "bold red",
    )


def summary_view(summary: dict[str, Any], width: int = 140) -> Group:
    """The endpoint table, the thresholds and the verdict; p90 and p99.9 need width ≥ 120.

    Latencies are those of successful requests; failures are listed apart by reason.
    """
    parts: list[Any] = [_endpoint_table(summary, width)]
    if summary["failures"]:
        parts.append(failures_table(summary))
    if summary["config"].get("rate"):
        parts.append(_rate_note(summary))
    if summary["thresholds"]:
        parts.append(_thresholds_table(summary))
    parts += [
        Text(f"Warning: run invalid: {r}", style="bold yellow") for r in summary["invalid_reasons"]
    ]
    parts += [Text(f"Failed: {r}", style="red") for r in summary["verdict_reasons"]]
    parts.append(_verdict_line(summary))
    return Group(*parts)
