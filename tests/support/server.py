"""Run `btai serve` (or any command) as a real server process on a free loopback port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from btai_ops.processes import stop_process
from tests.support.services import free_port

BTAI = str(Path(sys.executable).with_name("btai"))


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    base_url: str
    port: int
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)


def wait_until_live(base_url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early with {process.returncode}")
        try:
            if httpx.get(f"{base_url}/api/v1/health/liveness", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"server at {base_url} did not become live in {timeout}s")


@contextmanager
def run_server(
    tmp_path: Path,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    command: Sequence[str] | None = None,
    timeout: float = 60,
) -> Iterator[ServerProcess]:
    """Start a server on a free port, wait for liveness, yield it, and stop it afterwards."""
    port = free_port()
    full_env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/btai.db",
        "API_HOST": "127.0.0.1",
        "API_PORT": str(port),
        **(env or {}),
    }
    log_path = tmp_path / f"server-{port}.log"
    cmd = list(command) if command else [BTAI, "serve", *args]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            cmd, env=full_env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path
        )
    server = ServerProcess(process, f"http://127.0.0.1:{port}", port, log_path)
    try:
        wait_until_live(server.base_url, process, timeout)
        yield server
    except BaseException:
        sys.stderr.write(server.log())
        raise
    finally:
        stop_process(process)
