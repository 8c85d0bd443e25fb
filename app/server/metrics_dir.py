"""The Prometheus multiprocess directory shared by the workers of one `btai serve`.

prometheus-client reads PROMETHEUS_MULTIPROC_DIR when a worker first imports it, so the
directory is prepared (created, emptied of a previous run's files) before any worker starts,
and a dead worker's live gauges are removed so `/metrics` stops counting it.
"""

from __future__ import annotations

import logging
from pathlib import Path

logger = logging.getLogger("btai.server")


def prepare_multiprocess_dir(path: Path) -> Path:
    """Create `path` and remove metric files left by an earlier run."""
    from app.monitoring import exposition

    return exposition.prepare_multiprocess_dir(path)


def retire_worker(pid: int | None, path: Path | None) -> None:
    """Drop the live-gauge files of worker `pid`; counters stay, so totals remain right."""
    if pid is None or path is None:
        return
    from app.monitoring import exposition

    exposition.mark_worker_dead(pid, path)
    logger.info("worker %d stopped; its live metrics were removed", pid)
