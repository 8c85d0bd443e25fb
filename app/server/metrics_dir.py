"""The Prometheus multiprocess directory shared by the workers of one `btai serve`.

prometheus-client reads PROMETHEUS_MULTIPROC_DIR when a worker first imports it, so the
directory is prepared (created, emptied of a previous run's files) before any worker starts,
and a dead worker's live gauges are removed so `/metrics` stops counting it. Both run in the
supervisor, which serves no request and so imports neither the app nor its metrics.
"""

from __future__ import annotations

import logging
from pathlib import Path

logger = logging.getLogger("btai.server")


def prepare_multiprocess_dir(path: str | Path) -> Path:
    """Create `path` and remove metric files left by an earlier run; returns the path."""
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink(missing_ok=True)
    return directory


def retire_worker(pid: int | None, path: Path | None) -> None:
    """Drop the live-gauge files of worker `pid`; counters stay, so totals remain right."""
    if pid is None or path is None:
        return
    # Imported only now: the supervisor loads nothing of prometheus-client until a worker dies.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid, str(path))  # type: ignore[no-untyped-call]
    logger.info("worker %d stopped; its live metrics were removed", pid)
