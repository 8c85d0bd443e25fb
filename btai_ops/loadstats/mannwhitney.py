"""The Mann-Whitney U test on grouped samples, normal approximation with tie correction.

Samples come as (value, count) pairs (a latency histogram's buckets, or plain values with
count 1); equal values share their mid-rank and shrink the variance, as in the textbook
tie-corrected test. Two-sided, with a continuity correction.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class MannWhitney:
    u: float  # U of the first sample: pairs where it is larger, ties counting one half
    z: float
    p_value: float
    n1: int
    n2: int

    @property
    def prob_first_larger(self) -> float:
        """P(X > Y) + P(X = Y)/2: 0.5 means neither sample tends to be larger."""
        return self.u / (self.n1 * self.n2) if self.n1 and self.n2 else 0.5


def mann_whitney(
    first: Iterable[tuple[float, int]], second: Iterable[tuple[float, int]]
) -> MannWhitney:
    """Compare two samples given as (value, count) pairs."""
    counts: dict[float, list[int]] = {}
    for value, n in first:
        counts.setdefault(value, [0, 0])[0] += n
    for value, n in second:
        counts.setdefault(value, [0, 0])[1] += n
    n1 = sum(c[0] for c in counts.values())
    n2 = sum(c[1] for c in counts.values())
    if n1 == 0 or n2 == 0:
        return MannWhitney(0.0, 0.0, 1.0, n1, n2)
    rank_sum = 0.0
    ties = 0.0
    below = 0
    for value in sorted(counts):
        a, b = counts[value]
        t = a + b
        rank_sum += a * (below + (t + 1) / 2.0)
        ties += float(t) ** 3 - t
        below += t
    n = n1 + n2
    u = rank_sum - n1 * (n1 + 1) / 2.0
    mean = n1 * n2 / 2.0
    variance = n1 * n2 / 12.0 * ((n + 1) - ties / (n * (n - 1))) if n > 1 else 0.0
    if variance <= 0:
        return MannWhitney(u, 0.0, 1.0, n1, n2)
    excess = abs(u - mean)
    z = math.copysign(max(excess - 0.5, 0.0), u - mean) / math.sqrt(variance)
    p = math.erfc(abs(z) / math.sqrt(2.0))
    return MannWhitney(u, z, min(1.0, p), n1, n2)


def plain(values: Iterable[float]) -> list[tuple[float, int]]:
    return [(float(v), 1) for v in values]
