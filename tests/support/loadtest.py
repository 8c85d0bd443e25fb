"""Fixtures of the load-test area: the stall server as a real process, btai as a subprocess."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.support.server import BTAI, ServerProcess
from tests.support.services import free_port
from tests.support.timing import scaled

ROOT = Path(__file__).resolve().parents[2]
STALL_SERVER = Path(__file__).with_name("stall_server.py")


def _wait_until_up(server: ServerProcess, timeout: float) -> None:
    budget = scaled(timeout)
    deadline = time.monotonic() + budget
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"stall server exited early:\n{server.log()}")
        try:
            httpx.get(f"{server.base_url}/__count", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise TimeoutError(f"stall server at {server.base_url} did not answer in {budget:.0f}s")


@contextmanager
def stall_server(tmp_path: Path, *args: str) -> Iterator[ServerProcess]:
    """tests/support/stall_server.py on a free port; `args` are its options."""
    port = free_port()
    log_path = tmp_path / f"stall-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(STALL_SERVER), "--port", str(port), *args],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = ServerProcess(process, f"http://127.0.0.1:{port}", port, log_path)
    try:
        _wait_until_up(server, timeout=20)
        yield server
    finally:
        server.stop(timeout=10)


def served(server: ServerProcess, what: str = "count") -> Any:
    """What the stall server itself counted (`count`) or timed (`timings`)."""
    return httpx.get(f"{server.base_url}/__{what}", timeout=10).json()


def btai(*args: str, cwd: Path = ROOT, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the real `btai` console script."""
    return subprocess.run(
        [BTAI, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


GENERATOR_SATURATED = ("event-loop lag", "load generator process averaged")
"""The two ways a run is judged to have measured its own generator: the generator's loop
woke its users late, or a generator process spent (nearly) all of a core."""


def blames_the_generator(reason: str) -> bool:
    """A reason for an invalid run that names the load generator's saturation."""
    return any(mark in reason for mark in GENERATOR_SATURATED)


def invalid_only_by_a_busy_generator(summary: dict[str, Any]) -> bool:
    """The run was marked invalid for its generator's saturation alone (loop lag or CPU): on
    a shared machine whose other work starves the generator, that verdict is the right one."""
    reasons = summary["invalid_reasons"]
    return bool(reasons) and all(blames_the_generator(reason) for reason in reasons)
