"""Prometheus exposition, correct with one worker or several.

With several workers each process writes its values to files in a shared directory
(prometheus-client's multiprocess mode) and `/metrics` sums them. The directory must exist,
empty, and `PROMETHEUS_MULTIPROC_DIR` must name it before any worker imports
prometheus-client; `btai serve` does that with the two functions below:

- `prepare_multiprocess_dir(path)`: create the directory and delete the files of an earlier
  run, before the workers start;
- `mark_worker_dead(pid, path)`: drop the live gauges (in-flight requests, running tasks) of
  a worker that exited, so they stop counting; its counters and histograms stay in the sum.

The app learns the directory from the METRICS_DIR setting (`btai serve` sets both variables).
The multiprocess exposition adds the CPU seconds and resident memory of the whole server
(app/monitoring/server_process.py), which prometheus-client's own collector cannot give.
"""

from __future__ import annotations

import logging
from pathlib import Path
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


def prepare_multiprocess_dir(path: str | Path) -> Path:
    """Create `path` and remove metric files left by an earlier run; returns the path."""
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink(missing_ok=True)
    return directory


def mark_worker_dead(pid: int, path: str | Path) -> None:
    """Forget the live gauges of worker `pid`, which has exited."""
    prometheus_multiprocess.mark_process_dead(pid, str(path))  # type: ignore[no-untyped-call]


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
