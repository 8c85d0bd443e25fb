"""`--fail-on` rules of `btai benchmark compare`: which real changes fail the build.

In the manner of pytest-benchmark's `--benchmark-compare-fail`: `p99:+30%` fails when a p99
rose by more than 30% of its baseline, `rps:-10%` when req/s fell by more than 10%. A rule
fails only on a change its statistic's test calls real, so noise never breaks a build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from btai_ops.loadstats.compare import Row

GRAMMAR = """\
rule      := [SCENARIO "."] STATISTIC ":" SIGN NUMBER [UNIT]
STATISTIC := p50 | p95 | p99 | p99.9 | corrected_p50 | … | corrected_p99.9 | rps | fail_ratio
SIGN      := "+" (a rise beyond NUMBER fails) | "-" (a fall beyond NUMBER fails)
UNIT      := % (of the baseline, the default) | ms (latencies) | none for fail_ratio (absolute)
examples:  p99:+30%  rps:-10%  simple.p95:+5ms  fail_ratio:+0.01"""

_STATS = ("p50", "p95", "p99", "p99.9")
_RULE = re.compile(
    r"^(?:(?P<scenario>[A-Za-z][\w-]*)\.)?(?P<stat>(?:corrected_)?p\d+(?:\.\d+)?|rps|fail_ratio)"
    r":(?P<sign>[+-])(?P<number>\d+(?:\.\d+)?)(?P<unit>%|ms)?$"
)


class FailOnSyntaxError(ValueError):
    """A rule that does not follow GRAMMAR."""


@dataclass(frozen=True)
class FailOn:
    text: str
    stat: str
    rise_fails: bool
    limit: float
    unit: str  # "%", "ms" or "" (absolute)
    scenario: str | None = None

    def applies_to(self, row: Row) -> bool:
        if row.stat != self.stat:
            return False
        return self.scenario is None or row.key.startswith(self.scenario + ".")

    def broken_by(self, row: Row) -> bool:
        """The row moved the failing way beyond the limit, and its test says the move is real."""
        if not self.applies_to(row) or not row.significant:
            return False
        if row.baseline is None or row.current is None:
            return False
        diff = row.current - row.baseline
        moved = diff if self.rise_fails else -diff
        if self.unit == "%":
            return row.baseline != 0 and moved / abs(row.baseline) * 100 > self.limit
        return moved > self.limit


def parse_fail_on(text: str) -> FailOn:
    match = _RULE.match(text.strip())
    if not match:
        raise FailOnSyntaxError(f"--fail-on {text!r} does not parse")
    stat = match["stat"]
    if (
        stat.removeprefix("corrected_").startswith("p")
        and stat.removeprefix("corrected_") not in _STATS
    ):
        raise FailOnSyntaxError(f"--fail-on {text!r}: unknown statistic {stat!r}")
    unit = match["unit"] or ("" if stat == "fail_ratio" else "%")
    if unit == "ms" and stat in ("rps", "fail_ratio"):
        raise FailOnSyntaxError(f"--fail-on {text!r}: {stat} takes no ms")
    return FailOn(
        text.strip(), stat, match["sign"] == "+", float(match["number"]), unit, match["scenario"]
    )


def broken(rules: list[FailOn], rows: list[Row]) -> list[str]:
    """One line per rule and row it fails: what moved, by how much."""
    lines = []
    for rule in rules:
        for row in rows:
            if rule.broken_by(row):
                assert row.baseline is not None
                assert row.current is not None
                lines.append(
                    f"{rule.text}: {row.label} went from {row.baseline:,.3f} to "
                    f"{row.current:,.3f} {row.unit}".rstrip()
                    + (f" (p = {row.p_value:.3g})" if row.p_value is not None else "")
                )
    return lines
