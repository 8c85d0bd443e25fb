"""CPU seconds and resident memory of the server under load: its processes, or its /metrics.

On loopback the server's processes are found by the port they listen on (a multi-process
server's workers hold the supervisor's socket); elsewhere, or when they cannot be seen, the
server's own `process_cpu_seconds_total` and `process_resident_memory_bytes` are read, which
are sums over the whole server.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import psutil

from btai_ops.processes import listens_on

MB = 1024 * 1024
CPU_SECONDS = "process_cpu_seconds_total"
RESIDENT_BYTES = "process_resident_memory_bytes"


def is_loopback(host: str) -> bool:
    """The URL names this machine (localhost, 127.0.0.0/8 or ::1)."""
    name = urlsplit(host).hostname or ""
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Usage:
    """One reading: CPU seconds of the server so far and the RSS of its processes."""

    cpu_seconds: float
    worker_rss_mb: list[float]  # per worker; one figure for the whole server from /metrics
    supervisor_rss_mb: float | None
    source: str  # "processes" or "metrics"


def _listener(port: int) -> int | None:
    """The pid the system names for the socket listening on `port`."""
    for c in psutil.net_connections(kind="inet"):
        if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid:
            return int(c.pid)
    return None


def server_processes(port: int) -> tuple[psutil.Process | None, list[psutil.Process]]:
    """(supervisor or None, workers) of the server listening on `port`; (None, []) unseen."""
    try:
        pid = _listener(port)
        if pid is None:
            return None, []
        top = psutil.Process(pid)
        while (parent := top.parent()) is not None and listens_on(parent, port):
            top = parent
        workers = [child for child in top.children() if listens_on(child, port)]
    except (psutil.Error, OSError):
        return None, []
    return (top, workers) if workers else (None, [top])


class ServerWatch:
    """Reads the usage of one server, by its processes when it runs here."""

    def __init__(self, host: str) -> None:
        self.host = host.rstrip("/")
        self.supervisor: psutil.Process | None = None
        self.workers: list[psutil.Process] = []
        if is_loopback(host):
            port = urlsplit(host).port or (443 if host.startswith("https") else 80)
            self.supervisor, self.workers = server_processes(port)

    def read(self) -> Usage | None:
        """The usage now, or None when neither the processes nor /metrics tell it."""
        if self.workers:
            usage = self.from_processes()
            if usage is not None:
                return usage
        return self.from_metrics()

    def from_processes(self) -> Usage | None:
        try:
            everyone = [p for p in (self.supervisor, *self.workers) if p is not None]
            cpu = sum(sum(p.cpu_times()[:2]) for p in everyone)
            workers = [p.memory_info().rss / MB for p in self.workers]
            supervisor = None if self.supervisor is None else self.supervisor.memory_info().rss
        except psutil.Error:
            return None  # a worker was replaced: its CPU seconds are gone with it
        rss = None if supervisor is None else round(supervisor / MB, 1)
        return Usage(cpu, [round(w, 1) for w in workers], rss, "processes")

    def from_metrics(self) -> Usage | None:
        import httpx

        try:
            text = httpx.get(f"{self.host}/metrics", timeout=5).text
        except httpx.HTTPError:
            return None
        values = prometheus_values(text, (CPU_SECONDS, RESIDENT_BYTES))
        if len(values) < 2:
            return None
        memory = round(values[RESIDENT_BYTES] / MB, 1)
        return Usage(values[CPU_SECONDS], [memory], None, "metrics")


def prometheus_values(text: str, names: tuple[str, ...]) -> dict[str, float]:
    """The unlabelled samples `names` of a Prometheus text exposition."""
    found: dict[str, float] = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in names:
            try:
                found[name] = float(value.split()[0])
            except (IndexError, ValueError):
                continue
    return found


def usage_block(end: Usage | None, cpu_seconds: float, requests: int) -> dict[str, Any]:
    """The `server` block of a benchmark target: CPU efficiency over the measured runs
    (`requests` answered in `cpu_seconds` of the server), and memory after the whole run."""
    measured = requests > 0 and cpu_seconds > 0
    return {
        "source": None if end is None else end.source,
        "requests": requests,
        "cpu_seconds": round(cpu_seconds, 3) if measured else None,
        "requests_per_cpu_second": round(requests / cpu_seconds, 1) if measured else None,
        "worker_rss_mb": [] if end is None else end.worker_rss_mb,
        "supervisor_rss_mb": None if end is None else end.supervisor_rss_mb,
        "memory_mb": None if end is None else max(end.worker_rss_mb),
    }
