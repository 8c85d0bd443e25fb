"""The load-test summary: a documented, versioned JSON document built from a Recording.

Schema (``schema_version`` 2, ``kind`` "btai.loadtest")::

    config        scenario, locustfile, user_classes, host, users, spawn_rate, duration_s,
                  processes, rate (null in the closed model), late_tolerance_ms
    started_at, ended_at (ISO 8601 UTC), elapsed_s, state ("finished" or "interrupted")
    span_s        from the first request sent to the last answer: what req/s is computed over
    cutoff        epoch seconds when the run was told to stop (0 when it never was)
    in_flight_excluded  requests answered after the cutoff: in no figure
    total         requests, failures, fail_ratio, rps, late, latency_ms, failed_latency_ms,
                  corrected_ms, failures_by [{reason, count}]
    endpoints     {name: the same fields as total, plus method}
                  latency_ms: successful requests' service time from the actual send; min mean
                  p50 p90 p95 p99 p99.9 max (null when none succeeded). failed_latency_ms: the
                  failed requests' apart. corrected_ms: successes from their scheduled send
                  (only with --rate), else null
    failures      [{endpoint, method, reason, count}]  reason: "HTTP 404" or the exception
    thresholds    [{expression, endpoint, metric, op, limit, unit, value, passed, default}]
    generator     {max_cpu_percent, loop_lag_ms {p50, p99, max}, processes: [{pid,
                  mean_cpu_percent, max_cpu_percent}]}
    valid         false when a generator was saturated (event-loop lag or CPU), no request
                  completed, or the run was interrupted
    invalid_reasons, passed (valid and every threshold passed), verdict_reasons
    timeline      [[epoch_second, responses]]   (throughput samples)
    histograms    {name: {service, failed, corrected}}  the latency samples, 1% buckets
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from btai_ops.loadstats.histogram import Histogram, latency_summary
from btai_ops.loadstats.recorder import LATE_TOLERANCE_MS, EndpointStats, Recording

SCHEMA_VERSION = 2
KIND = "btai.loadtest"
CPU_LIMIT_PERCENT = 90.0
LAG_FLOOR_MS = 3.0
"""A median event-loop lag below this never invalidates a run (the poller alone rounds a
timer up by about 1 ms)."""
LAG_SHARE_OF_P50 = 0.2
"""Above the floor, a median lag beyond this share of the median latency is saturation: the
generator wakes its users late enough to move the figures it reports by that much."""


def _block(stats: EndpointStats, span: float, rate_mode: bool) -> dict[str, Any]:
    return {
        "method": stats.method,
        "requests": stats.requests,
        "failures": stats.failures,
        "fail_ratio": round(stats.failures / stats.requests, 6) if stats.requests else 0.0,
        "rps": round(stats.requests / span, 3) if span > 0 else 0.0,
        "late": stats.late,
        "latency_ms": latency_summary(stats.service) if stats.service.count else None,
        "failed_latency_ms": latency_summary(stats.failed) if stats.failed.count else None,
        "corrected_ms": latency_summary(stats.corrected) if rate_mode else None,
        "failures_by": [
            {"reason": reason, "count": n}
            for reason, n in sorted(stats.reasons.items(), key=lambda item: -item[1])
        ],
    }


def saturation(recording: Recording, p50_ms: float) -> str | None:
    """Why the generator's own delays distort the figures, or None when they do not.

    Every answer waits in the generator's event loop before it is timed, so the loop's lag
    is added to the latencies: compare the two medians (CPU alone misses a generator that
    starves for other reasons, such as a busy machine).
    """
    lag = recording.loop_lag
    if not lag.count:
        return None
    median = lag.percentile(50)
    limit = max(LAG_FLOOR_MS, LAG_SHARE_OF_P50 * p50_ms)
    if median <= limit:
        return None
    return (
        f"the load generator woke its users {median:.1f} ms late (median event-loop lag; "
        f"limit {limit:.1f} ms, a fifth of the median latency {p50_ms:.1f} ms): it was "
        "saturated, so its latencies include its own delay (fewer users, --rate, or "
        "--processes)"
    )


def _lag_block(lag: Histogram) -> dict[str, float] | None:
    if not lag.count:
        return None
    p50, p99 = round(lag.percentile(50), 3), round(lag.percentile(99), 3)
    return {"p50": p50, "p99": p99, "max": round(lag.max_ms, 3)}


def invalid_reasons(
    recording: Recording, total: EndpointStats, generator: dict[str, Any], state: str
) -> list[str]:
    """Why the run's figures cannot be trusted; none for a valid run."""
    reasons = []
    max_cpu = float(generator.get("max_cpu_percent", 0.0))
    if max_cpu > CPU_LIMIT_PERCENT:
        reasons.append(
            f"a load generator process averaged {max_cpu:.0f}% CPU (limit "
            f"{CPU_LIMIT_PERCENT:.0f}%): the figures measure the generator, not the server"
        )
    answered = Histogram().merge(total.service).merge(total.failed)
    saturated = saturation(recording, answered.percentile(50))
    if saturated:
        reasons.append(saturated)
    if total.requests == 0:
        reasons.append("no request completed")
    if state != "finished":
        reasons.append("interrupted before the end of its duration: the figures are partial")
    return reasons


def build_summary(
    recording: Recording,
    *,
    config: dict[str, Any],
    generator: dict[str, Any],
    state: str = "finished",
) -> dict[str, Any]:
    """The summary without thresholds; `finish` adds them and the verdict."""
    elapsed = max(recording.ended_at - recording.started_at, 1e-9)
    span = recording.span_s
    rate_mode = bool(config.get("rate"))
    total = EndpointStats(method="")
    for stats in recording.endpoints.values():
        total.merge(stats)
    total_block = _block(total, span, rate_mode)
    del total_block["method"]
    generator = {**generator, "loop_lag_ms": _lag_block(recording.loop_lag)}
    reasons = invalid_reasons(recording, total, generator, state)
    failures = [
        {"endpoint": name, "method": stats.method, "reason": reason, "count": n}
        for name, stats in recording.endpoints.items()
        for reason, n in stats.reasons.items()
    ]
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": KIND,
        "config": {**config, "late_tolerance_ms": LATE_TOLERANCE_MS},
        "state": state,
        "started_at": _iso(recording.started_at),
        "ended_at": _iso(recording.ended_at),
        "elapsed_s": round(elapsed, 3),
        "span_s": round(span, 3),
        "cutoff": recording.cutoff,
        "in_flight_excluded": recording.in_flight_excluded,
        "total": total_block,
        "endpoints": {
            name: _block(stats, span, rate_mode)
            for name, stats in sorted(recording.endpoints.items())
        },
        "failures": sorted(failures, key=lambda row: -int(row["count"])),
        "thresholds": [],
        "generator": generator,
        "valid": not reasons,
        "invalid_reasons": reasons,
        "passed": not reasons,
        "verdict_reasons": [],
        "timeline": [[s, n] for s, n in sorted(recording.timeline.items())],
        "histograms": {
            name: {
                "service": s.service.to_dict(),
                "failed": s.failed.to_dict(),
                "corrected": s.corrected.to_dict(),
            }
            for name, s in sorted(recording.endpoints.items())
        },
    }


def finish(summary: dict[str, Any], threshold_results: list[dict[str, Any]]) -> dict[str, Any]:
    """Add the thresholds and the verdict, with one reason per failed threshold."""
    summary["thresholds"] = threshold_results
    summary["passed"] = summary["valid"] and all(t["passed"] for t in threshold_results)
    reasons = []
    for t in threshold_results:
        if t["passed"]:
            continue
        if t["value"] is None:
            reasons.append(f"{t['expression']}: nothing measured")
        elif t.get("default"):
            reasons.append(
                f"{t['value']:.2%} of requests failed (more than the default limit "
                f"{t['limit']:.0%}; set --threshold 'fail_ratio<N' to choose another)"
            )
        else:
            unit = " ms" if t["unit"] == "ms" else ""
            reasons.append(f"{t['expression']}: measured {t['value']:,.4g}{unit}")
    summary["verdict_reasons"] = reasons
    return summary


COUNTED = ("fail_ratio", "failures")
"""Thresholds on what failed: a verdict on the service however the generator kept time."""


def exit_code(summary: dict[str, Any]) -> int:
    """0 passed, 1 a threshold failed, 2 the run itself is invalid.

    Failed requests fail the run even when its timing is invalid: a saturated generator
    distorts latencies, not the status codes the service answered with.
    """
    failed = [t for t in summary["thresholds"] if not t["passed"]]
    if any(t["metric"] in COUNTED and t["value"] is not None for t in failed):
        return 1
    if not summary["valid"]:
        return 2
    return 0 if summary["passed"] else 1


def _iso(epoch: float) -> str | None:
    return datetime.fromtimestamp(epoch, UTC).isoformat() if epoch else None
