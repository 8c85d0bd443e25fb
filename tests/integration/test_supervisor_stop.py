"""The multi-worker supervisor's own stop is bounded: a worker that cannot stop (SIGSTOPped, as a
process stuck outside Python would be) is killed once the grace and its clean-up have passed,
and the server exits."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

import psutil
import pytest

from app.server.uvicorn_runner import KILL_MARGIN_SECONDS
from app.services.shutdown import CLEANUP_SECONDS
from tests.integration.test_serve_health import worker_pids
from tests.support.server import run_server
from tests.support.timing import scaled

pytestmark = pytest.mark.slow
GRACE = 1


def test_sigterm_kills_a_worker_that_cannot_stop_and_exits(tmp_path: Path) -> None:
    env = {"GRACEFUL_TIMEOUT": str(GRACE)}
    with run_server(tmp_path, env=env, args=["--workers", "2"]) as server:
        workers = worker_pids(psutil.Process(server.process.pid))
        assert len(workers) == 2, server.log()
        hung, healthy = sorted(workers)
        os.kill(hung, signal.SIGSTOP)
        try:
            server.process.terminate()
            bound = GRACE + CLEANUP_SECONDS + KILL_MARGIN_SECONDS
            try:
                exit_code = server.process.wait(timeout=bound + scaled(10))
            except subprocess.TimeoutExpired:
                raise AssertionError(f"the supervisor did not exit\n{server.log()}") from None
            log = server.log()
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(hung, signal.SIGKILL)
    assert exit_code == 0, log
    assert f"Child process [{hung}] did not stop within the grace period; killed" in log
    assert f"Child process [{healthy}] did not stop" not in log
    assert f"Finished server process [{healthy}]" in log  # the other one stopped gracefully
    assert not psutil.pid_exists(hung)  # killed and reaped, not left behind
