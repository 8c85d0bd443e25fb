"""Run the app under uvicorn (uvloop + httptools), replacing workers that die.

uvicorn's own multiprocess supervisor (0.54) already restarts a worker that exits or stops
answering its health pings; the subclass below adds what it cannot know about: removing the
dead worker's Prometheus files, and telling a failed start from a requested stop. Workers
drain briefly on shutdown so requests already sent on keep-alive connections are answered.

A worker's stop fits in one grace period: the stop signal sets the process's deadline
(`app.services.shutdown`), in-flight requests get what is left of it, and the lifespan's queue
shutdown then gets only the rest, instead of each waiting GRACEFUL_TIMEOUT in turn.
"""

from __future__ import annotations

import asyncio
import functools
import signal
from collections.abc import Callable
from pathlib import Path
from socket import socket
from types import FrameType

import uvicorn.supervisors.multiprocess as uvicorn_multiprocess
from uvicorn import Config, Server
from uvicorn.supervisors import ChangeReload, Multiprocess

from app.server.factory import logging_dict_config
from app.server.http_limits import LimitedHttpToolsProtocol
from app.server.metrics_dir import retire_worker
from app.server.options import APP_FACTORY, ServeOptions
from app.services import shutdown

# A busy worker answers its supervisor's ping from a thread; give it room under heavy load.
WORKER_HEALTHCHECK_SECONDS = 15
# After it stops accepting, a worker keeps reading this long before it closes idle
# keep-alive connections: a request already sent on one (but not yet read by a busy worker)
# then becomes in-flight and is answered instead of being cut off.
DRAIN_SECONDS = 0.5


class DrainingServer(Server):
    """uvicorn's server, with a short drain between "stop accepting" and closing idle ones,
    all inside the one grace period that the stop signal started."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._begin_grace()
        super().handle_exit(sig, frame)

    def _begin_grace(self) -> None:
        if self.config.timeout_graceful_shutdown is not None:
            shutdown.begin(self.config.timeout_graceful_shutdown)

    async def shutdown(self, sockets: list[socket] | None = None) -> None:
        self._begin_grace()  # a stop without a signal (reload, request limit) has one grace too
        grace = self.config.timeout_graceful_shutdown
        for server in self.servers:
            server.close()
        await asyncio.sleep(min(DRAIN_SECONDS, shutdown.remaining(grace or 0)))
        if grace is not None:
            # uvicorn waits this long for in-flight requests; it is read once the wait starts.
            self.config.timeout_graceful_shutdown = shutdown.remaining(grace)  # type: ignore[assignment]
        await super().shutdown(sockets)


class DrainingProcess(uvicorn_multiprocess.Process):
    """A uvicorn worker process that runs a DrainingServer."""

    @property
    def server(self) -> Server:
        if self._server is None:
            self._server = DrainingServer(config=self.config)
        return self._server


class MetricsAwareMultiprocess(Multiprocess):
    """uvicorn's supervisor, plus clean-up of the metrics of every worker it retires."""

    def __init__(self, config: Config, sockets: list[socket], metrics_dir: Path | None) -> None:
        super().__init__(config, sockets)
        self.metrics_dir = metrics_dir
        self.startup_failed = False

    def _retiring(self, step: Callable[[], None]) -> None:
        before = {process.pid for process in self.processes}
        step()
        for pid in before - {process.pid for process in self.processes}:
            retire_worker(pid, self.metrics_dir)

    def keep_subprocess_alive(self) -> None:
        stopping = self.should_exit.is_set()
        self._retiring(super().keep_subprocess_alive)
        # uvicorn gives up (and would exit 0) when a worker dies before it served at all.
        if not stopping and self.should_exit.is_set():
            self.startup_failed = True

    def handle_hup(self) -> None:
        self._retiring(super().handle_hup)

    def handle_ttou(self) -> None:
        self._retiring(super().handle_ttou)

    def run(self) -> None:
        try:
            super().run()
        finally:
            for process in self.processes:
                retire_worker(process.pid, self.metrics_dir)


def uvicorn_config(options: ServeOptions) -> Config:
    return Config(
        APP_FACTORY,
        factory=True,
        host=options.host,
        port=options.port,
        workers=options.workers,
        loop="uvloop",
        # httptools with the request-head limits (HTTP_MAX_*): uvicorn has none of its own.
        http=functools.partial(LimitedHttpToolsProtocol, limits=options.head_limits),  # type: ignore[arg-type]
        lifespan="on",
        proxy_headers=True,
        forwarded_allow_ips=options.trusted_proxies or [],
        limit_concurrency=options.limit_concurrency,
        backlog=options.backlog,
        timeout_graceful_shutdown=options.graceful_seconds,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        access_log=False,
        log_level=options.log_level,
        log_config=logging_dict_config(options.log_level, readable=options.readable_logs),
        reload=options.reload,
        reload_dirs=[str(Path(__file__).resolve().parents[1])] if options.reload else None,
        server_header=False,
    )


def _ignore(signum: int, frame: FrameType | None) -> None:
    """Placeholder handler: uvicorn re-raises the stop signal once it has shut down."""


def run_uvicorn(options: ServeOptions) -> bool:
    """Serve until SIGTERM/SIGINT; True when the server started and stopped cleanly."""
    config = uvicorn_config(options)
    if config.should_reload:
        ChangeReload(
            config, target=DrainingServer(config).run, sockets=[config.bind_socket()]
        ).run()
        return True
    if config.workers > 1:
        # uvicorn's supervisor builds each worker from its module's `Process`.
        uvicorn_multiprocess.Process = DrainingProcess  # type: ignore[misc]
        supervisor = MetricsAwareMultiprocess(config, [config.bind_socket()], options.metrics_dir)
        supervisor.run()
        return not supervisor.startup_failed
    # One worker runs in this process; after a graceful stop uvicorn re-raises the signal,
    # which must not kill us with a signal status instead of exit code 0.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _ignore)
    server = DrainingServer(config)
    server.run()
    return server.started
