"""Load-test statistics: latency histograms, thresholds, Locust runs, comparisons."""

from __future__ import annotations

from rich.console import Console

from btai_ops.output import stdout


def wide_console() -> Console:
    """stdout itself on a terminal; elsewhere (pipes, CI logs) wide enough for the tables."""
    if stdout.is_terminal:
        return stdout
    return Console(highlight=False, width=140)
