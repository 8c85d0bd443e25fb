"""Run the app under uvicorn (uvloop + httptools), replacing workers that die.

uvicorn's own multiprocess supervisor (0.54) already restarts a worker that exits or stops
answering its health pings; the subclass below adds what it cannot know about: removing the
dead worker's Prometheus files, telling a failed start from a requested stop, and a loop that
sleeps until there is something to do. Workers
drain briefly on shutdown so requests already sent on keep-alive connections are answered.

A worker's stop fits in one grace period: the stop signal sets the process's deadline
(`app.services.shutdown`), in-flight requests get what is left of it, and the lifespan's queue
shutdown then gets only the rest, instead of each waiting GRACEFUL_TIMEOUT in turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import signal
import time
from collections.abc import Callable
from multiprocessing import connection
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

# After it stops accepting, a worker keeps reading this long before it closes idle
# keep-alive connections: a request already sent on one (but not yet read by a busy worker)
# then becomes in-flight and is answered instead of being cut off.
DRAIN_SECONDS = 0.5
# uvicorn's main loop wakes ten times a second to refresh the Date header (once a second) and
# to look for a stop; an idle worker spent most of its CPU there. Once a second does both, and
# a stop signal ends the wait at once.
TICK_SECONDS = 1.0
# uvicorn's supervisor also wakes twice a second and pings every worker each time (answered
# from a thread in the worker): on an idle server that was nearly all of the supervisor's CPU
# and a third of each worker's. Ours sleeps until a worker exits or a signal arrives (either
# wakes it at once), and pings for a hung worker this often.
HEALTHCHECK_EVERY_SECONDS = 5.0
REAP_SECONDS = 5.0
# On a stop the supervisor waits for its workers this long past the grace and the clean-up
# allowance a worker's own stop fits in (app.services.shutdown); one still running then is hung
# (stopped, or stuck outside Python) and is killed, so the server's exit stays bounded.
KILL_MARGIN_SECONDS = 1.0

logger = logging.getLogger("uvicorn.error")


class DrainingServer(Server):
    """uvicorn's server, with a short drain between "stop accepting" and closing idle ones,
    all inside the one grace period that the stop signal started."""

    _wake: asyncio.Event | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._begin_grace()
        super().handle_exit(sig, frame)
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def main_loop(self) -> None:
        """uvicorn's loop at one tick a second (see TICK_SECONDS); each tick counts as ten of
        uvicorn's, so its once-a-second work runs on every one."""
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 10) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), TICK_SECONDS)
            should_exit = await self.on_tick(counter)

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

    def join_all(self) -> None:
        """uvicorn's wait for the stopped workers, with a deadline: a worker still running at
        the end of the grace, the clean-up allowance and KILL_MARGIN_SECONDS is killed."""
        grace = self.config.timeout_graceful_shutdown or 0
        deadline = time.monotonic() + grace + shutdown.CLEANUP_SECONDS + KILL_MARGIN_SECONDS
        for process in self.processes:
            logger.info("Waiting for child process [%d]", process.pid)
            process.process.join(max(0.0, deadline - time.monotonic()))
            if process.process.exitcode is None:
                logger.error(
                    "Child process [%d] did not stop within the grace period; killed", process.pid
                )
                process.kill()
                process.process.join(REAP_SECONDS)

    def handle_hup(self) -> None:
        self._retiring(super().handle_hup)

    def handle_ttou(self) -> None:
        self._retiring(super().handle_ttou)

    def run(self) -> None:
        """uvicorn's supervising loop, woken by events instead of a half-second poll."""
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_read, False)
        os.set_blocking(wake_write, False)
        # A signal's handler runs between two bytecodes; the wake-up fd also ends the wait.
        previous = signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)
        try:
            logger.info("Started parent process [%d]", os.getpid())
            self.init_processes()
            self._supervise(wake_read)
            self.terminate_all()
            self.join_all()
            logger.info("Stopping parent process [%d]", os.getpid())
        finally:
            signal.set_wakeup_fd(previous)
            os.close(wake_read)
            os.close(wake_write)
            for process in self.processes:
                retire_worker(process.pid, self.metrics_dir)

    def _supervise(self, wake_read: int) -> None:
        next_ping = time.monotonic() + HEALTHCHECK_EVERY_SECONDS
        while not self.should_exit.is_set():
            sentinels = [process.process.sentinel for process in self.processes]
            left = max(0.0, next_ping - time.monotonic())
            ready = connection.wait([wake_read, *sentinels], timeout=left)
            if wake_read in ready:
                with contextlib.suppress(BlockingIOError):
                    os.read(wake_read, 64)
            self.handle_signals()
            exited = [p for p in self.processes if p.process.sentinel in ready]
            for process in exited:
                # An exiting process closes its sentinel before it can be reaped: wait for
                # that, or the check below would find it alive and wait for its ping.
                process.process.join(REAP_SECONDS)
            if exited or time.monotonic() >= next_ping:
                self.keep_subprocess_alive()
                next_ping = time.monotonic() + HEALTHCHECK_EVERY_SECONDS


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
        # The API has no WebSocket route; without a protocol a worker never loads the
        # websockets library (0.6 MB), and an upgrade request is answered as plain HTTP.
        ws="none",
        lifespan="on",
        proxy_headers=True,
        forwarded_allow_ips=options.trusted_proxies or [],
        limit_concurrency=options.limit_concurrency,
        backlog=options.backlog,
        timeout_graceful_shutdown=options.graceful_seconds,
        # A busy worker answers its supervisor's ping from a thread; the default 15 s gives it
        # room under heavy load (WORKER_HEALTHCHECK_TIMEOUT).
        timeout_worker_healthcheck=options.worker_healthcheck_timeout,  # type: ignore[arg-type]
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
