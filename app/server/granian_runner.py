"""Run the app under granian (the `granian` extra), replacing workers that die.

granian has no X-Forwarded-* handling of its own, so its workers load the app behind
uvicorn's ProxyHeadersMiddleware, trusting only TRUSTED_PROXIES.

granian's workers install their own stop-signal handler on the event loop and give the app no
hook before the lifespan shutdown, so the process's stop deadline (`app.services.shutdown`)
is not set early here: the queue stops claiming only at lifespan shutdown and waits its own
GRACEFUL_TIMEOUT. The supervisor's `workers_kill_timeout` (grace + 1 s) still bounds the stop.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

from granian.constants import Interfaces, Loops
from granian.http import HTTP1Settings
from granian.log import LogLevels
from granian.server import MPServer

from app.server.factory import logging_dict_config
from app.server.metrics_dir import retire_worker
from app.server.options import PROXIED_APP_FACTORY, ServeOptions


class MetricsAwareGranian(MPServer):
    """granian's process supervisor, plus clean-up of the metrics of every worker it replaces."""

    metrics_dir: Path | None = None

    def _respawn_workers(
        self, workers: Any, spawn_target: Any, target_loader: Any, delay: float = 0
    ) -> None:
        gone = [self.wrks[idx].inner.pid for idx in workers]
        super()._respawn_workers(workers, spawn_target, target_loader, delay)
        for pid in gone:
            retire_worker(pid, self.metrics_dir)

    def _stop_workers(self) -> None:
        pids = [worker.inner.pid for worker in self.wrks]
        super()._stop_workers()  # type: ignore[no-untyped-call]
        for pid in pids:
            retire_worker(pid, self.metrics_dir)


def run_granian(options: ServeOptions) -> bool:
    """Serve until SIGTERM/SIGINT; True when granian stopped cleanly."""
    # Fresh interpreters, as with uvicorn: nothing the parent imported leaks into workers.
    multiprocessing.set_start_method("spawn", force=True)
    server = MetricsAwareGranian(
        PROXIED_APP_FACTORY,
        factory=True,
        address=options.host,
        port=options.port,
        interface=Interfaces.ASGI,
        workers=options.workers,
        loop=Loops.uvloop,
        backlog=options.backlog,
        backpressure=options.limit_concurrency,
        # hyper refuses a head that outgrows its read buffer (431) or has over 100 fields.
        http1_settings=HTTP1Settings(max_buffer_size=max(8192, options.head_limits.total)),
        log_access=False,
        log_level=LogLevels(options.log_level),
        log_dictconfig=logging_dict_config(options.log_level, readable=options.readable_logs),
        respawn_failed_workers=True,
        workers_kill_timeout=options.graceful_seconds + 1,
        reload=options.reload,
        reload_paths=[Path(__file__).resolve().parents[1]] if options.reload else None,
    )
    server.metrics_dir = options.metrics_dir
    server.serve()
    return True
