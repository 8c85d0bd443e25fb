"""Compare two sets of results metric by metric: change, significance, tolerance, verdict.

Inputs are `btai loadtest` summaries, `btai benchmark run` results, or the report's tables
(benchmarks/baselines/report.yaml). Latency samples are the 1% histograms; throughput samples
are the responses counted in each whole second of the run.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from btai_ops.errors import ConfigError, UsageProblem
from btai_ops.loadstats.histogram import Histogram
from btai_ops.loadstats.mannwhitney import mann_whitney, plain

LATENCY_KEYS = ("p50", "p95", "p99")
DEFAULT_TOLERANCE = {"p50": 0.15, "p90": 0.20, "p95": 0.20, "p99": 0.30, "rps": 0.10}
FAIL_RATIO_TOLERANCE = 0.01  # absolute
MIN_EFFECT = 0.14  # |A - 0.5|: Vargha and Delaney's "medium" effect starts at A = 0.64
Samples = list[tuple[float, int]]


@dataclass
class Metric:
    key: str
    label: str
    value: float | None
    unit: str
    lower_is_better: bool
    samples: Samples | None = None


@dataclass
class MetricSet:
    source: str
    metrics: dict[str, Metric] = field(default_factory=dict)
    latencies: dict[str, Histogram] = field(default_factory=dict)  # scenario -> all requests

    def add(self, metric: Metric) -> None:
        self.metrics[metric.key] = metric


@dataclass(frozen=True)
class Tolerance:
    limit: float  # a fraction, or an absolute value when `absolute`
    worse_when_higher: bool
    absolute: bool = False


def parse_tolerance(text: str) -> tuple[str, Tolerance]:
    """`p95=+10%` (higher is worse), `rps=-5%` (lower is worse), `fail_ratio=+0.02`."""
    match = re.fullmatch(r"\s*([\w.]+)\s*=\s*([+-])\s*(\d+(?:\.\d+)?)\s*(%?)\s*", text)
    if not match:
        raise UsageProblem(
            f"invalid --tolerance {text!r}", hint="METRIC=+N% or METRIC=-N%, e.g. p95=+10%"
        )
    name, sign, number, percent = match.groups()
    limit = float(number) / 100.0 if percent else float(number)
    return name, Tolerance(limit, sign == "+", absolute=not percent)


def default_tolerance(metric: Metric) -> Tolerance:
    stat = metric.key.rsplit(".", 1)[-1]
    if stat == "fail_ratio":
        return Tolerance(FAIL_RATIO_TOLERANCE, True, absolute=True)
    return Tolerance(DEFAULT_TOLERANCE.get(stat, 0.10), metric.lower_is_better)


def throughput_samples(summary: dict[str, Any]) -> Samples:
    """Responses per whole second, leaving out the partial first and last seconds."""
    counts = [n for _, n in summary.get("timeline", [])][1:-1]
    return plain(counts)


def _scenario_metrics(out: MetricSet, scenario: str, runs: list[dict[str, Any]]) -> None:
    hist = Histogram()
    for run in runs:
        for block in run["histograms"].values():
            hist.merge(Histogram.from_dict(block["service"]))
    out.latencies[scenario] = hist
    grouped = list(hist.weighted_values())
    for stat in LATENCY_KEYS:
        q = float(stat[1:])
        out.add(
            Metric(
                f"{scenario}.{stat}", f"{scenario} {stat}", hist.percentile(q), "ms", True, grouped
            )
        )
    rps = sum(r["total"]["rps"] for r in runs) / len(runs)
    rps_samples = [s for r in runs for s in throughput_samples(r)]
    out.add(Metric(f"{scenario}.rps", f"{scenario} req/s", rps, "req/s", False, rps_samples))
    requests = sum(r["total"]["requests"] for r in runs)
    failures = sum(r["total"]["failures"] for r in runs)
    ratio = failures / requests if requests else 0.0
    out.add(Metric(f"{scenario}.fail_ratio", f"{scenario} fail ratio", ratio, "", True))


def _suite_rps(out: MetricSet) -> None:
    candidates = [m for k, m in out.metrics.items() if k.endswith(".rps")]
    if candidates:
        best = max(candidates, key=lambda m: m.value or 0.0)
        out.add(Metric("rps", "peak req/s", best.value, "req/s", False, best.samples))


def from_loadtest(summary: dict[str, Any], source: str) -> MetricSet:
    config = summary["config"]
    scenario = config.get("scenario") or "run"
    out = MetricSet(source)
    _scenario_metrics(out, scenario, [summary])
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
            _scenario_metrics(out, scenario, runs)
    _suite_rps(out)
    return out


def from_report(data: dict[str, Any], source: str) -> MetricSet:
    column = data.get("compare_with", "after")
    out = MetricSet(f"{source} (the report's '{column}' figures)")
    for scenario, row in data["response_time_ms"].items():
        label = f"{row['label']} ({scenario}) p50"
        out.add(Metric(f"{scenario}.p50", label, float(row[column]), "ms", True))
    units = {"concurrent_users": "users", "memory_usage_mb": "MB", "cpu_efficiency_percent": "%"}
    for key, row in data["throughput"].items():
        name = "rps" if key == "requests_per_second" else key
        lower = key == "memory_usage_mb"
        out.add(Metric(name, row["label"], float(row[column]), units.get(key, "req/s"), lower))
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
    effect: float | None = None  # Vargha-Delaney A: P(current > baseline), ties half

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.key,
            "label": self.label,
            "unit": self.unit,
            "baseline": self.baseline,
            "current": self.current,
            "change_percent": None if self.change is None else round(self.change * 100, 2),
            "p_value": self.p_value,
            "effect_a": None if self.effect is None else round(self.effect, 3),
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
    stat = metric.key.rsplit(".", 1)[-1]
    return overrides.get(metric.key) or overrides.get(stat) or default_tolerance(metric)


def compare(
    current: MetricSet,
    baseline: MetricSet,
    *,
    tolerances: dict[str, Tolerance] | None = None,
    alpha: float = 0.01,
    noise_floor_ms: float = 1.0,
    min_effect: float = MIN_EFFECT,
) -> list[Row]:
    """One row per baseline metric.

    A metric regressed when it moved the wrong way by more than its tolerance (and, for
    latencies, by more than `noise_floor_ms`), and — where both sides have samples — the
    Mann-Whitney test finds the samples different at `alpha`, in that direction, with at
    least a medium effect (Vargha-Delaney A outside 0.5 ± `min_effect`); for latencies the
    current samples are first moved back by the noise floor, so the test asks whether they
    are slower by more than it. With thousands of requests per run, a busy machine alone makes
    tiny shifts "significant"; the margin and the effect size keep those out.
    Moved beyond tolerance otherwise: "not significant". Within tolerance: "unchanged".
    """
    rows = []
    for key, base in baseline.metrics.items():
        cur = current.metrics.get(key)
        tolerance = _tolerance_for(base, tolerances or {})
        if cur is None or cur.value is None or base.value is None:
            rows.append(
                Row(key, base.label, base.unit, base.value, None, None, None, tolerance,
                    "not measured", "no matching figure in the current results")
            )  # fmt: skip
            continue
        diff = cur.value - base.value
        if tolerance.absolute:
            change, moved = diff, abs(diff) > tolerance.limit
        else:
            change = diff / base.value if base.value else (0.0 if not diff else float("inf"))
            moved = abs(change) > tolerance.limit
        if base.unit == "ms" and abs(diff) <= noise_floor_ms:
            moved = False
        worse = moved and ((diff > 0) == tolerance.worse_when_higher)
        p_value = effect = None
        note = ""
        if cur.samples and base.samples:
            samples = cur.samples
            if base.unit == "ms":
                # Test "moved by more than the noise floor", not "moved at all".
                margin = noise_floor_ms if diff > 0 else -noise_floor_ms
                samples = [(value - margin, n) for value, n in samples]
            test = mann_whitney(samples, base.samples)
            p_value, effect = test.p_value, test.prob_first_larger
            significant = (
                p_value < alpha and abs(effect - 0.5) >= min_effect and (effect > 0.5) == (diff > 0)
            )
        else:
            significant = True
            note = "values only: no samples on one side (e.g. the report's single figures)"
        if not moved:
            verdict = "unchanged"
        elif not significant:
            verdict = "not significant"
        else:
            verdict = "regressed" if worse else "improved"
        rows.append(
            Row(key, cur.label if cur.samples else base.label, base.unit, base.value, cur.value,
                change, p_value, tolerance, verdict, note, effect)
        )  # fmt: skip
    return rows
