"""Local processes the toolkit starts: a free loopback port for a server, and a polite stop."""

from __future__ import annotations

import signal
import socket
import subprocess
from typing import Any


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def stop_process(
    process: subprocess.Popen[bytes], *, timeout: float = 30, sig: int = signal.SIGTERM
) -> int:
    """Send `sig` (SIGTERM: a graceful stop), wait up to `timeout` s, then kill; the exit code."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()


def listens_on(process: Any, port: int) -> bool:
    """Whether `process` (a `psutil.Process`) holds a listening socket on `port`."""
    import psutil

    try:
        connections = process.net_connections(kind="inet")
    except psutil.Error:
        return False
    return any(
        c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port for c in connections
    )
