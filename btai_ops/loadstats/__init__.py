"""Load-test statistics: latency histograms, thresholds, Locust runs, comparisons."""

from __future__ import annotations

from typing import TYPE_CHECKING

from btai_ops.output import stdout

if TYPE_CHECKING:
    from rich.console import Console


def wide_console() -> Console:
    """stdout itself on a terminal; elsewhere (pipes, CI logs) wide enough for the tables."""
    if stdout.is_terminal:
        return stdout
    from rich.console import Console

    return Console(highlight=False, width=140)
