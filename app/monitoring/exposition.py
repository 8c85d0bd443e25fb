"""Prometheus exposition, correct with one worker or several.

With several workers each process writes its values to files in a shared directory
(prometheus-client's multiprocess mode) and `/metrics` sums them. The directory must exist,
empty, and `PROMETHEUS_MULTIPROC_DIR` must name it before any worker imports
prometheus-client; `btai serve` does that, and drops the live gauges of a worker that exited,
with `app.server.metrics_dir`.

The app learns the directory from the METRICS_DIR setting (`btai serve` sets both variables).
The multiprocess exposition adds the CPU seconds and resident memory of the whole server
(app/monitoring/server_process.py), which prometheus-client's own collector cannot give.
"""

from __future__ import annotations

import logging
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    values,
)
from prometheus_client import multiprocess as prometheus_multiprocess

from app.monitoring.metrics import DB_POOL_IN_USE
from app.monitoring.server_process import ServerProcessCollector

logger = logging.getLogger("app.monitoring")
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_active() -> bool:
    """Whether prometheus-client was imported with PROMETHEUS_MULTIPROC_DIR set."""
    return getattr(values.ValueClass, "__name__", "") == "MmapedValue"


def render_latest(metrics_dir: str | None, db: Any | None = None) -> tuple[bytes, str]:
    """The exposition text of every metric (summed over workers when `metrics_dir` is set)."""
    if db is not None:
        DB_POOL_IN_USE.set(db.pool_status()["in_use"])
    if metrics_dir and multiprocess_active():
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry, path=metrics_dir)  # type: ignore[no-untyped-call]
        # The multiprocess collector has no process_* metrics; the dashboard's panels need them.
        registry.register(ServerProcessCollector(metrics_dir))
        return generate_latest(registry), CONTENT_TYPE_LATEST
    if metrics_dir:
        logger.warning(
            "METRICS_DIR is set but %s was not set before prometheus-client was imported; "
            "serving this worker's metrics only",
            MULTIPROCESS_ENV,
        )
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
