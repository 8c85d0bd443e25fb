"""Compare two sets of results statistic by statistic: change, test, tolerance, verdict.

Inputs are `btai loadtest` summaries, `btai benchmark run` results, or the report's tables
(benchmarks/baselines/report.yaml). Each statistic has its own test, so a tail that moved is
found even when the median did not: a percentile (p50, p95, p99, p99.9 with enough samples,
and the corrected ones of `--rate` runs) by a bootstrap interval of its difference from the
1% histograms of successful requests; req/s by a bootstrap of the mean of the per-second
counts; the fail ratio by a two-proportion test.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from btai_ops.errors import ConfigError, UsageProblem
from btai_ops.loadstats.bootstrap import (
    Difference,
    mean_difference,
    percentile_difference,
    proportion_difference,
)
from btai_ops.loadstats.histogram import Histogram
from btai_ops.loadstats.tolerance import (
    DEFAULT_TOLERANCE,
    FAIL_RATIO_TOLERANCE,
    Tolerance,
)

PERCENTILES = (("p50", 50.0), ("p95", 95.0), ("p99", 99.0), ("p99.9", 99.9))
TAIL_SAMPLES = 5
"""A percentile is tested only with this many samples beyond it on both sides (p99: 500
requests); p99.9 is not even shown with fewer (5,000 requests)."""
SERVER_STATS = ("concurrent_users", "memory_usage_mb", "cpu_efficiency_percent")
Samples = list[tuple[float, int]]


@dataclass
class Metric:
    key: str  # "scenario.stat", or "rps" for the peak
    label: str
    value: float | None
    unit: str
    lower_is_better: bool
    stat: str = ""  # p50 … p99.9, corrected_p50 …, rps, fail_ratio
    samples: Samples | None = None  # latency buckets (percentiles)
    rates: list[float] | None = None  # per-second responses (rps)
    counts: tuple[int, int] | None = None  # failures, requests (fail_ratio)
    measured_once: bool = False  # one reading of a run (the server's CPU and memory)

    @property
    def quantile(self) -> float | None:
        name = self.stat.removeprefix("corrected_")
        return dict(PERCENTILES).get(name)


@dataclass
class MetricSet:
    source: str
    metrics: dict[str, Metric] = field(default_factory=dict)
    latencies: dict[str, Histogram] = field(default_factory=dict)  # scenario -> successes
    before: dict[str, float] = field(default_factory=dict)  # the report's "before" figures
    reference: MetricSet | None = None  # the bare reference app measured beside it
    invalid: list[str] = field(default_factory=list)  # why some of its runs measured nothing

    def add(self, metric: Metric) -> None:
        self.metrics[metric.key] = metric


def default_tolerance(metric: Metric) -> Tolerance:
    if metric.stat == "fail_ratio":
        return Tolerance(FAIL_RATIO_TOLERANCE, True, absolute=True)
    limit = DEFAULT_TOLERANCE.get(metric.stat.removeprefix("corrected_"), 0.10)
    return Tolerance(limit, metric.lower_is_better)


def throughput_samples(summary: dict[str, Any]) -> list[float]:
    """Responses per whole second, leaving out the partial first and last seconds."""
    return [float(n) for _, n in summary.get("timeline", [])][1:-1]


def _merged(runs: list[dict[str, Any]], which: str, source: str, scenario: str) -> Histogram:
    hist = Histogram()
    for run in runs:
        blocks = run.get("histograms")
        if not isinstance(blocks, dict) or not blocks:
            raise ConfigError(f"{source}: no latency samples ('histograms') for {scenario}")
        for block in blocks.values():
            if which in block:
                hist.merge(Histogram.from_dict(block[which]))
    return hist


def _invalid_runs(out: MetricSet, scenario: str, runs: list[dict[str, Any]]) -> None:
    for run in runs:
        if run.get("valid") is False:
            reasons = "; ".join(run.get("invalid_reasons") or ["marked invalid"])
            out.invalid.append(f"{scenario}: invalid run ({reasons})")


def _percentile_metrics(out: MetricSet, scenario: str, prefix: str, hist: Histogram) -> None:
    grouped = list(hist.weighted_values())
    for name, q in PERCENTILES:
        if q > 99 and hist.count * (1 - q / 100) < TAIL_SAMPLES:
            continue  # too few samples beyond p99.9 to say anything about it
        stat = prefix + name
        label = f"{scenario} {stat.replace('_', ' ')}"
        value = hist.percentile(q) if hist.count else None
        out.add(Metric(f"{scenario}.{stat}", label, value, "ms", True, stat, grouped))


def _count_metrics(out: MetricSet, scenario: str, runs: list[dict[str, Any]], source: str) -> None:
    """Requests/s (with its per-second samples) and the fail ratio (with its counts)."""
    if any(not isinstance(r.get("timeline"), list) for r in runs):
        raise ConfigError(f"{source}: no per-second throughput samples ('timeline') for {scenario}")
    rates = [s for r in runs for s in throughput_samples(r)]  # empty for runs under 3 s
    rps = sum(r["total"]["rps"] for r in runs) / len(runs)
    rows = rates or None
    out.add(Metric(f"{scenario}.rps", f"{scenario} req/s", rps, "req/s", False, "rps", rates=rows))
    _fail_ratio(out, scenario, runs)


def _fail_ratio(out: MetricSet, scenario: str, runs: list[dict[str, Any]]) -> None:
    requests = sum(int(r["total"]["requests"]) for r in runs)
    failures = sum(int(r["total"]["failures"]) for r in runs)
    ratio = failures / requests if requests else 0.0
    counts = (failures, requests) if requests else None
    label = f"{scenario} fail ratio"
    key = f"{scenario}.fail_ratio"
    out.add(Metric(key, label, ratio, "", True, "fail_ratio", counts=counts))


def _scenario_metrics(
    out: MetricSet, scenario: str, runs: list[dict[str, Any]], source: str
) -> None:
    _invalid_runs(out, scenario, runs)
    hist = _merged(runs, "service", source, scenario)
    out.latencies[scenario] = hist
    _percentile_metrics(out, scenario, "", hist)
    if any(run.get("config", {}).get("rate") for run in runs):
        corrected = _merged(runs, "corrected", source, scenario)
        _percentile_metrics(out, scenario, "corrected_", corrected)
    _count_metrics(out, scenario, runs, source)


def _suite_rps(out: MetricSet) -> None:
    candidates = [m for m in out.metrics.values() if m.stat == "rps"]
    if candidates:
        best = max(candidates, key=lambda m: m.value or 0.0)
        out.add(Metric("rps", "peak req/s", best.value, "req/s", False, "rps", rates=best.rates))


def _server_metrics(out: MetricSet, server: dict[str, Any]) -> None:
    """The report's other throughput rows, from a benchmark target's `server` block."""
    found = server.get("concurrent_users")
    if found:
        label = f"concurrent users at p95 ≤ {found['objective_p95_ms']:g} ms"
        users = float(found["users"])
        out.add(
            Metric(
                "concurrent_users",
                label,
                users,
                "users",
                False,
                "concurrent_users",
                measured_once=True,
            )
        )
    if server.get("memory_mb") is not None:
        label = "largest worker RSS (MB)" if server["source"] == "processes" else "server RSS (MB)"
        memory = float(server["memory_mb"])
        out.add(
            Metric(
                "memory_usage_mb", label, memory, "MB", True, "memory_usage_mb", measured_once=True
            )
        )
    if server.get("requests_per_cpu_second") is not None:
        efficiency = float(server["requests_per_cpu_second"])
        out.add(
            Metric(
                "cpu_efficiency_percent",
                "requests per CPU-second",
                efficiency,
                "req/CPU-s",
                False,
                "cpu_efficiency_percent",
                measured_once=True,
            )
        )


def from_loadtest(summary: dict[str, Any], source: str) -> MetricSet:
    config = summary["config"]
    scenario = config.get("scenario") or "run"
    out = MetricSet(source)
    _scenario_metrics(out, scenario, [summary], source)
    _suite_rps(out)
    return out


def from_benchmark(results: dict[str, Any], source: str, target: str | None) -> MetricSet:
    targets = results["targets"]
    name = target or ("btai" if "btai" in targets else next(iter(targets)))
    if name not in targets:
        raise UsageProblem(f"{source} has no target {name!r}", hint=f"known: {', '.join(targets)}")
    out = MetricSet(f"{source} [{name}]")
    for scenario, runs in targets[name]["scenarios"].items():
        if runs:
            _scenario_metrics(out, scenario, runs, source)
    _suite_rps(out)
    _server_metrics(out, targets[name].get("server") or {})
    if name != "reference" and "reference" in targets:
        out.reference = from_benchmark(results, source, "reference")
    return out


def from_report(data: dict[str, Any], source: str) -> MetricSet:
    column = data.get("compare_with", "after")
    out = MetricSet(f"{source} (the report's '{column}' figures)")
    other = "before" if column == "after" else "after"
    for scenario, row in data["response_time_ms"].items():
        label = f"{row['label']} ({scenario}) p50"
        out.add(Metric(f"{scenario}.p50", label, float(row[column]), "ms", True, "p50"))
        if other in row:
            out.before[f"{scenario}.p50"] = float(row[other])
    units = {"concurrent_users": "users", "memory_usage_mb": "MB", "cpu_efficiency_percent": "%"}
    for key, row in data["throughput"].items():
        name = "rps" if key == "requests_per_second" else key
        lower = key == "memory_usage_mb"
        unit = units.get(key, "req/s")
        out.add(Metric(name, row["label"], float(row[column]), unit, lower, name))
        if other in row:
            out.before[name] = float(row[other])
    return out


def load_metrics(path: Path, target: str | None = None) -> MetricSet:
    """Read any supported results file; a bad one is one ConfigError naming it."""
    try:
        text = path.read_text()
        if path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such results file") from None
    except Exception as exc:  # any parse error means the same thing to the user
        raise ConfigError(f"{path}: not a readable results file ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: not a results file (expected a mapping)")
    kind, version = data.get("kind"), data.get("schema_version")
    readers = {"btai.loadtest": 2, "btai.benchmark": 2, "btai.report-baseline": 1}
    if kind not in readers:
        raise ConfigError(
            f"{path}: unknown results kind {kind!r} (expected one of {list(readers)})"
        )
    if version != readers[kind]:
        raise ConfigError(
            f"{path}: schema_version {version!r} of {kind} is not supported "
            f"(expected {readers[kind]})"
        )
    try:
        if kind == "btai.loadtest":
            return from_loadtest(data, str(path))
        if kind == "btai.benchmark":
            return from_benchmark(data, str(path), target)
        return from_report(data, str(path))
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: corrupt {kind} file (bad or missing {exc})") from None


@dataclass
class Row:
    key: str
    label: str
    unit: str
    baseline: float | None
    current: float | None
    change: float | None  # fraction (absolute difference for absolute tolerances)
    p_value: float | None
    tolerance: Tolerance
    verdict: str
    note: str = ""
    stat: str = ""
    difference: Difference | None = None  # current - baseline, with its interval
    significant: bool = False  # the move is real (its test, or values only)
    current_unit: str = ""  # when the measurement's unit is not the baseline's

    def to_dict(self) -> dict[str, Any]:
        d = self.difference
        return {
            "metric": self.key,
            "statistic": self.stat,
            "label": self.label,
            "unit": self.unit,
            "baseline": self.baseline,
            "current": self.current,
            "current_unit": self.current_unit or self.unit,
            "change_percent": None if self.change is None else round(self.change * 100, 2),
            "p_value": self.p_value,
            "difference_interval": None if d is None else [round(d.low, 6), round(d.high, 6)],
            "tolerance": ("+" if self.tolerance.worse_when_higher else "-")
            + (
                f"{self.tolerance.limit:g}"
                if self.tolerance.absolute
                else f"{self.tolerance.limit * 100:g}%"
            ),
            "verdict": self.verdict,
            "note": self.note,
        }


def _tolerance_for(metric: Metric, overrides: dict[str, Tolerance]) -> Tolerance:
    return overrides.get(metric.key) or overrides.get(metric.stat) or default_tolerance(metric)


def _test(cur: Metric, base: Metric, alpha: float, margin: float) -> Difference | None:
    """The statistic's own test, when both sides have what it needs."""
    if cur.quantile is not None and cur.samples and base.samples:
        return percentile_difference(
            cur.samples, base.samples, cur.quantile, alpha=alpha, margin=margin
        )
    if cur.rates and base.rates:
        return mean_difference(cur.rates, base.rates, alpha=alpha)
    if cur.counts and base.counts:
        return proportion_difference(
            (cur.counts[0], base.counts[0]), (cur.counts[1], base.counts[1]), alpha=alpha
        )
    return None


def _enough_tail(metric: Metric) -> bool:
    if metric.quantile is None or not metric.samples:
        return True
    count = sum(n for _, n in metric.samples)
    return count * (1 - metric.quantile / 100) >= TAIL_SAMPLES


def _not_measured(key: str, base: Metric, tolerance: Tolerance) -> Row:
    note = "no matching figure in the current results"
    return Row(
        key,
        base.label,
        base.unit,
        base.value,
        current=None,
        change=None,
        p_value=None,
        tolerance=tolerance,
        verdict="not measured",
        note=note,
        stat=base.stat,
    )


def _not_comparable(key: str, cur: Metric, base: Metric, tolerance: Tolerance) -> Row:
    note = (
        f"{base.label}: the baseline is in {base.unit or 'no unit'}, the measurement in "
        f"{cur.unit}; the baseline does not say how its figure was measured"
    )
    return Row(
        key,
        cur.label,
        base.unit,
        base.value,
        current=cur.value,
        change=None,
        p_value=None,
        tolerance=tolerance,
        verdict="not comparable",
        note=note,
        stat=base.stat,
        current_unit=cur.unit,
    )


def _movement(diff: float, base: Metric, tolerance: Tolerance) -> tuple[float, bool]:
    """The change (a fraction, or absolute) and whether it exceeds the tolerance."""
    assert base.value is not None
    if tolerance.absolute:
        return diff, abs(diff) > tolerance.limit
    change = diff / base.value if base.value else (0.0 if not diff else math.inf)
    return change, abs(change) > tolerance.limit


def _significance(
    test: Difference | None, cur: Metric, base: Metric, alpha: float, margin: float
) -> tuple[bool, str]:
    """Whether the move is real by its test, and a note on how that was decided."""
    if test is None and cur.measured_once and base.measured_once:
        return False, "one reading per run on each side (server CPU, memory, users): not tested"
    if test is None:
        return True, "values only: no samples on one side (e.g. the report's single figures)"
    if not _enough_tail(cur) or not _enough_tail(base):
        # A handful of samples beyond a percentile decide nothing.
        return False, f"too few samples beyond a percentile (fewer than {TAIL_SAMPLES}) to test it"
    return test.p_value < alpha and test.beyond(margin), ""


def _verdict(*, moved: bool, significant: bool, worse: bool, unusable: str | None) -> str:
    if not moved:
        return "unchanged"
    if not significant:
        return "not significant"
    if unusable:
        # A saturated generator measured itself: no verdict either way from its figures.
        return "invalid run"
    return "regressed" if worse else "improved"


def _label(cur: Metric, base: Metric) -> str:
    """The current side's label says how it was measured; the report's says only what."""
    return cur.label if cur.samples or cur.rates or cur.stat in SERVER_STATS else base.label


def _row(
    key: str,
    cur: Metric,
    base: Metric,
    tolerance: Tolerance,
    alpha: float,
    noise_floor_ms: float,
    unusable: str | None,
) -> Row:
    assert cur.value is not None
    assert base.value is not None
    diff = cur.value - base.value
    change, moved = _movement(diff, base, tolerance)
    margin = noise_floor_ms if base.unit == "ms" else 0.0
    moved = moved and abs(diff) > margin
    test = _test(cur, base, alpha, margin)
    significant, note = _significance(test, cur, base, alpha, margin)
    worse = (diff > 0) == tolerance.worse_when_higher
    verdict = _verdict(moved=moved, significant=significant, worse=worse, unusable=unusable)
    if verdict == "invalid run":
        note = str(unusable)
    p_value = None if test is None else test.p_value
    return Row(
        key,
        _label(cur, base),
        base.unit,
        base.value,
        current=cur.value,
        change=change,
        p_value=p_value,
        tolerance=tolerance,
        verdict=verdict,
        note=note,
        stat=base.stat,
        difference=test,
        significant=significant and abs(diff) > margin,
    )


def compare(
    current: MetricSet,
    baseline: MetricSet,
    *,
    tolerances: dict[str, Tolerance] | None = None,
    alpha: float = 0.01,
    noise_floor_ms: float = 1.0,
) -> list[Row]:
    """One row per baseline statistic.

    A statistic regressed when it moved the wrong way by more than its tolerance (and, for
    latencies, by more than `noise_floor_ms`), and — where both sides have samples — its own
    test finds the move real: the (1 - alpha) interval of the difference lies wholly beyond
    the noise floor in that direction. Moved beyond tolerance otherwise: "not significant".
    Within tolerance: "unchanged". A figure in another unit than its baseline's is shown
    but "not comparable".
    """
    unusable = None
    for side in (current, baseline):
        if side.invalid and unusable is None:
            unusable = f"{side.source}: {side.invalid[0]}"
    rows = []
    for key, base in baseline.metrics.items():
        cur = current.metrics.get(key)
        tolerance = _tolerance_for(base, tolerances or {})
        if cur is None or cur.value is None or base.value is None:
            rows.append(_not_measured(key, base, tolerance))
        elif cur.unit != base.unit:
            rows.append(_not_comparable(key, cur, base, tolerance))
        else:
            rows.append(_row(key, cur, base, tolerance, alpha, noise_floor_ms, unusable))
    return rows
