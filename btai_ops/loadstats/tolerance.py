"""How far a metric may move before `benchmark compare` calls it a change: the defaults per
statistic and the `--tolerance METRIC=+N%` option."""

from __future__ import annotations

import re
from dataclasses import dataclass

from btai_ops.errors import UsageProblem

DEFAULT_TOLERANCE = {"p50": 0.15, "p90": 0.20, "p95": 0.20, "p99": 0.30, "p99.9": 0.50}
DEFAULT_TOLERANCE |= {"rps": 0.10}
FAIL_RATIO_TOLERANCE = 0.01  # absolute


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
