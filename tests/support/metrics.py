"""Prometheus values as a scrape sees them, read through the public registry API."""

from __future__ import annotations

from prometheus_client import REGISTRY


def sample(metric: str, /, **labels: str) -> float:
    """The current value of sample `metric` with `labels` in the default registry; 0 before
    the labelled child exists (a counter that has never been incremented)."""
    return REGISTRY.get_sample_value(metric, labels) or 0.0
