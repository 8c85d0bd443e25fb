"""The load-test summary: a documented, versioned JSON document built from a Recording.

Schema (``schema_version`` 1, ``kind`` "btai.loadtest")::

    config        scenario, locustfile, user_classes, host, users, spawn_rate, duration_s,
                  processes, rate (null in the closed model), late_tolerance_ms
    started_at, ended_at (ISO 8601 UTC), elapsed_s
    total         requests, failures, fail_ratio, rps, late, latency_ms, corrected_ms
    endpoints     {name: the same fields as total, plus method}
                  latency_ms: service time from the actual send; min mean p50 p90 p95 p99
                  p99.9 max. corrected_ms: from the scheduled send (only with --rate), else null
    thresholds    [{expression, endpoint, metric, op, limit, unit, value, passed}]
    generator     {max_cpu_percent, processes: [{pid, mean_cpu_percent, max_cpu_percent}]}
    valid         false when a generator process averaged more than 90% CPU (or the run broke)
    invalid_reasons, passed (valid and every threshold passed), errors {message: count}
    timeline      [[epoch_second, responses]]   (throughput samples)
    histograms    {name: {service, corrected}}  the latency samples, 1% buckets
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from btai_ops.errors import ConfigError
from btai_ops.loadstats.histogram import Histogram, latency_summary
from btai_ops.loadstats.recorder import LATE_TOLERANCE_MS, EndpointStats, Recording

SCHEMA_VERSION = 1
KIND = "btai.loadtest"
CPU_LIMIT_PERCENT = 90.0


def _block(stats: EndpointStats, elapsed: float, rate_mode: bool) -> dict[str, Any]:
    return {
        "method": stats.method,
        "requests": stats.requests,
        "failures": stats.failures,
        "fail_ratio": round(stats.failures / stats.requests, 6) if stats.requests else 0.0,
        "rps": round(stats.requests / elapsed, 3) if elapsed > 0 else 0.0,
        "late": stats.late,
        "latency_ms": latency_summary(stats.service),
        "corrected_ms": latency_summary(stats.corrected) if rate_mode else None,
    }


def build_summary(
    recording: Recording,
    *,
    config: dict[str, Any],
    generator: dict[str, Any],
) -> dict[str, Any]:
    """The summary without thresholds; `finish` adds them and the verdict."""
    elapsed = max(recording.ended_at - recording.started_at, 1e-9)
    rate_mode = bool(config.get("rate"))
    total = EndpointStats(method="")
    for stats in recording.endpoints.values():
        total.merge(stats)
    total_block = _block(total, elapsed, rate_mode)
    del total_block["method"]
    reasons = []
    max_cpu = float(generator.get("max_cpu_percent", 0.0))
    if max_cpu > CPU_LIMIT_PERCENT:
        reasons.append(
            f"a load generator process averaged {max_cpu:.0f}% CPU (limit "
            f"{CPU_LIMIT_PERCENT:.0f}%): the figures measure the generator, not the server"
        )
    if total.requests == 0:
        reasons.append("no request completed")
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": KIND,
        "config": {**config, "late_tolerance_ms": LATE_TOLERANCE_MS},
        "started_at": _iso(recording.started_at),
        "ended_at": _iso(recording.ended_at),
        "elapsed_s": round(elapsed, 3),
        "total": total_block,
        "endpoints": {
            name: _block(stats, elapsed, rate_mode)
            for name, stats in sorted(recording.endpoints.items())
        },
        "thresholds": [],
        "generator": generator,
        "valid": not reasons,
        "invalid_reasons": reasons,
        "passed": not reasons,
        "errors": recording.errors,
        "timeline": [[s, n] for s, n in sorted(recording.timeline.items())],
        "histograms": {
            name: {"service": s.service.to_dict(), "corrected": s.corrected.to_dict()}
            for name, s in sorted(recording.endpoints.items())
        },
    }


def finish(summary: dict[str, Any], threshold_results: list[dict[str, Any]]) -> dict[str, Any]:
    summary["thresholds"] = threshold_results
    summary["passed"] = summary["valid"] and all(t["passed"] for t in threshold_results)
    return summary


def exit_code(summary: dict[str, Any]) -> int:
    """0 passed, 1 a threshold failed, 2 the run itself is invalid."""
    if not summary["valid"]:
        return 2
    return 0 if summary["passed"] else 1


def _iso(epoch: float) -> str | None:
    return datetime.fromtimestamp(epoch, UTC).isoformat() if epoch else None


def load_summary(path: Path) -> dict[str, Any]:
    """Read a summary; a corrupt file or another schema version is a ConfigError naming it."""
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not a readable JSON results file ({exc})") from None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise ConfigError(f"{path}: not a btai loadtest summary (kind {KIND!r} expected)")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise ConfigError(
            f"{path}: schema_version {data.get('schema_version')!r} is not supported "
            f"(this btai reads {SCHEMA_VERSION})"
        )
    return data


def histogram(summary: dict[str, Any], name: str, which: str = "service") -> Histogram:
    return Histogram.from_dict(summary["histograms"][name][which])
