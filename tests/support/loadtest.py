"""Fixtures of the load-test area: the stall server as a real process, btai as a subprocess."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.server import BTAI, ServerProcess, wait_until_live
from tests.support.services import free_port

ROOT = Path(__file__).resolve().parents[2]
STALL_SERVER = Path(__file__).with_name("stall_server.py")


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
        wait_until_live(server.base_url, process, timeout=20)
        yield server
    finally:
        server.stop(timeout=10)


def btai(*args: str, cwd: Path = ROOT, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the real `btai` console script."""
    return subprocess.run(
        [BTAI, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
