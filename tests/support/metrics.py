"""Prometheus values as a scrape sees them, read through the public registry API."""

from __future__ import annotations

from prometheus_client import REGISTRY


def sample(name: str, **labels: str) -> float:
    """The current value of sample `name` with `labels` in the default registry; 0 before the
    labelled child exists (a counter that has never been incremented)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0
