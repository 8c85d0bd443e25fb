"""k6-style thresholds: `p95<50ms`, `fail_ratio<0.01`, `rps>1000`, `name:/api/v1/teams p95<20ms`.

Parsed once, before any load starts, and evaluated against a run summary. Unless the user
sets a `fail_ratio` threshold of their own, `fail_ratio<=1%` applies: a run whose requests
fail is never a pass.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

GRAMMAR = """\
threshold := [ "name:" ENDPOINT " " ] METRIC OP NUMBER [ UNIT ]
METRIC    := p50 | p90 | p95 | p99 | p99.9 | min | mean | max      (latency)
           | corrected_p50 | … | corrected_max                       (latency, --rate only)
           | rps | fail_ratio | requests | failures
OP        := < | <= | > | >=
UNIT      := ms | s | us   (latency; default ms)   % (fail_ratio)
examples:  p95<50ms  p99<=0.2s  fail_ratio<0.01  fail_ratio<1%  rps>1000
           name:/api/v1/teams/NYA p95<20ms"""

DEFAULT_FAIL_RATIO = 0.01
_LATENCY = ("p50", "p90", "p95", "p99", "p99.9", "min", "mean", "max")
_COUNTS = ("rps", "fail_ratio", "requests", "failures")
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
_UNITS_TO_MS = {"ms": 1.0, "s": 1000.0, "us": 0.001, "µs": 0.001}
_EXPR = re.compile(
    r"^(?:name:(?P<name>\S+)\s+)?"
    r"(?P<metric>[a-z_]+(?:\d+(?:\.\d+)?)?)\s*"
    r"(?P<op><=|>=|<|>)\s*"
    r"(?P<number>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*"
    r"(?P<unit>ms|s|us|µs|%)?$"
)


class ThresholdSyntaxError(ValueError):
    """An expression that does not follow GRAMMAR."""

    def __init__(self, expression: str, problem: str) -> None:
        super().__init__(f"{problem}: {expression!r}")
        self.expression = expression
        self.problem = problem


@dataclass(frozen=True)
class Threshold:
    expression: str
    metric: str
    op: str
    limit: float  # milliseconds for latencies, a ratio for fail_ratio
    endpoint: str | None = None
    default: bool = False  # added by btai, not written by the user

    @property
    def is_latency(self) -> bool:
        return self.metric.removeprefix("corrected_") in _LATENCY

    def check(self, value: float) -> bool:
        return _OPS[self.op](value, self.limit)


def parse_threshold(expression: str) -> Threshold:
    """Parse one expression; raises ThresholdSyntaxError naming what is wrong."""
    text = expression.strip()
    match = _EXPR.match(text)
    if not match:
        raise ThresholdSyntaxError(expression, "threshold does not parse")
    metric, unit = match["metric"], match["unit"]
    number = float(match["number"])
    base = metric.removeprefix("corrected_")
    if base in _LATENCY:
        if unit == "%":
            raise ThresholdSyntaxError(expression, f"{metric} takes a time unit (ms, s, us)")
        number *= _UNITS_TO_MS[unit or "ms"]
    elif metric in _COUNTS:
        if unit == "%" and metric == "fail_ratio":
            number /= 100.0
        elif unit is not None:
            raise ThresholdSyntaxError(expression, f"{metric} takes no unit {unit!r}")
    else:
        raise ThresholdSyntaxError(expression, f"unknown metric {metric!r}")
    return Threshold(text, metric, match["op"], number, match["name"])


def with_default_fail_ratio(thresholds: list[Threshold]) -> list[Threshold]:
    """The user's thresholds, plus `fail_ratio<=1%` when none of them limits fail_ratio."""
    if any(t.metric == "fail_ratio" for t in thresholds):
        return list(thresholds)
    default = Threshold(
        f"fail_ratio<={DEFAULT_FAIL_RATIO:.0%}", "fail_ratio", "<=", DEFAULT_FAIL_RATIO, None, True
    )
    return [*thresholds, default]


def inapplicable(
    thresholds: list[Threshold], *, rate_mode: bool, endpoints: set[str] | None
) -> str | None:
    """Why a threshold can never be measured by this run (None when all can).

    `endpoints` are the request names the scenario can send (None when not known).
    """
    for t in thresholds:
        if t.metric.startswith("corrected_") and not rate_mode:
            return (
                f"{t.expression!r} needs --rate: corrected latencies exist only in the open model"
            )
        if t.endpoint is not None and endpoints is not None and t.endpoint not in endpoints:
            known = ", ".join(sorted(endpoints)) or "none"
            return f"{t.expression!r} names {t.endpoint!r}, which no scenario requests ({known})"
    return None


def evaluate(thresholds: list[Threshold], summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each threshold with its measured value and whether it passed.

    A threshold whose endpoint or corrected latency is absent from the run fails, with
    `value` null: a check that cannot be made must not pass silently.
    """
    results = []
    for threshold in thresholds:
        value = _measured(threshold, summary)
        results.append(
            {
                "expression": threshold.expression,
                "endpoint": threshold.endpoint,
                "metric": threshold.metric,
                "op": threshold.op,
                "limit": threshold.limit,
                "unit": "ms" if threshold.is_latency else None,
                "value": value,
                "passed": value is not None and threshold.check(value),
                "default": threshold.default,
            }
        )
    return results


def _measured(threshold: Threshold, summary: Mapping[str, Any]) -> float | None:
    if threshold.endpoint is None:
        stats = summary.get("total")
    else:
        stats = summary.get("endpoints", {}).get(threshold.endpoint)
    if not stats:
        return None
    if threshold.is_latency:
        corrected = threshold.metric.startswith("corrected_")
        block = stats.get("corrected_ms") if corrected else stats.get("latency_ms")
        if not block:
            return None
        value = block.get(threshold.metric.removeprefix("corrected_"))
    else:
        value = stats.get(threshold.metric)
    return None if value is None else float(value)
