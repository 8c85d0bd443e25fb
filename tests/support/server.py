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
from tests.support.timing import scaled

BTAI = str(Path(sys.executable).with_name("btai"))
START_TIMEOUT = 60.0
"""Seconds a server gets to become live on an idle machine (scaled for a busy one)."""
BIND_ATTEMPTS = 4
"""A port picked free can be taken before the server binds it: start again on another."""
ADDRESS_IN_USE = ("address already in use", "errno 98", "eaddrinuse")


class PortTaken(RuntimeError):
    """The server exited because its port was taken between picking and binding it."""


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
        return self.process.wait(timeout=scaled(timeout))


def wait_until(
    ready: str, base_url: str, process: subprocess.Popen[bytes], timeout: float, what: str
) -> None:
    """Poll `base_url + ready` until it answers 200; `timeout` is scaled for the machine."""
    budget = scaled(timeout)
    deadline = time.monotonic() + budget
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early with {process.returncode}")
        try:
            if httpx.get(f"{base_url}{ready}", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"server at {base_url} did not become {what} in {budget:.0f}s")


def wait_until_live(
    base_url: str, process: subprocess.Popen[bytes], timeout: float = START_TIMEOUT
) -> None:
    wait_until("/api/v1/health/liveness", base_url, process, timeout, "live")


def wait_until_ready(
    base_url: str, process: subprocess.Popen[bytes], timeout: float = START_TIMEOUT
) -> None:
    wait_until("/api/v1/health/readiness", base_url, process, timeout, "ready")


def _port_was_taken(log_path: Path) -> bool:
    text = log_path.read_text(errors="replace").lower()
    return any(marker in text for marker in ADDRESS_IN_USE)


def start_server(
    tmp_path: Path,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    command: Sequence[str] | None = None,
    timeout: float = START_TIMEOUT,
) -> ServerProcess:
    """Start a server and wait until it is live; a port lost to a race is replaced by another."""
    for _ in range(BIND_ATTEMPTS):
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
        except RuntimeError:
            if _port_was_taken(log_path):
                continue
            sys.stderr.write(server.log())
            raise
        except BaseException:
            sys.stderr.write(server.log())
            stop_process(process)
            raise
        return server
    raise PortTaken(f"no free port held for {BIND_ATTEMPTS} attempts")


@contextmanager
def run_server(
    tmp_path: Path,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    command: Sequence[str] | None = None,
    timeout: float = START_TIMEOUT,
) -> Iterator[ServerProcess]:
    """Start a server on a free port, wait for liveness, yield it, and stop it afterwards."""
    server = start_server(tmp_path, env, args, command, timeout)
    try:
        yield server
    except BaseException:
        sys.stderr.write(server.log())
        raise
    finally:
        stop_process(server.process, timeout=scaled(30))
