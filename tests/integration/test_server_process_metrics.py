"""`/metrics` with several workers exports the CPU and memory of the whole server."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import psutil
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from app.monitoring.server_process import (
    ServerProcessCollector,
    metric_file_pids,
    server_processes,
)
from tests.support.server import run_server
from tests.support.tools import promtool


def process_families(text: str) -> dict[str, tuple[str, float]]:
    """`family name -> (type, value)` of the process_* families in an exposition."""
    found = {}
    for family in text_string_to_metric_families(text):
        if family.name.startswith("process_"):
            (sample,) = family.samples
            found[family.name] = (family.type, sample.value)
    return found


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def test_metric_file_pids_reads_the_pid_of_every_kind_of_file(tmp_path: Path) -> None:
    for name in ("counter_101.db", "gauge_livesum_202.db", "histogram_101.db", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    assert metric_file_pids(tmp_path) == {101, 202}


def test_a_lone_process_counts_only_itself(tmp_path: Path) -> None:
    # Under pytest the parent is a shell or runner whose other children are no server workers.
    (tmp_path / f"counter_{os.getpid()}.db").write_bytes(b"")
    assert [p.pid for p in server_processes(tmp_path)] == [os.getpid()]
    registry = CollectorRegistry()
    registry.register(ServerProcessCollector(tmp_path))
    families = process_families(generate_latest(registry).decode())
    me = psutil.Process()
    assert families["process_cpu_seconds"][0] == "counter"
    assert families["process_cpu_seconds"][1] >= 0
    assert families["process_resident_memory_bytes"][0] == "gauge"
    assert families["process_resident_memory_bytes"][1] > 0
    assert families["process_cpu_seconds"][1] <= cpu_seconds(me)


@pytest.mark.slow
def test_two_workers_export_cpu_and_memory_of_the_whole_server(tmp_path: Path) -> None:
    env = {
        "ENVIRONMENT": "development",
        "HEALTH_MONITOR_INTERVAL": "0",
        "RATE_LIMIT_ENABLED": "false",
    }
    with run_server(tmp_path, env=env, args=["--workers", "2"]) as server:
        worker_pids = {child.pid for child in psutil.Process(server.process.pid).children()}
        seen = set()
        for _ in range(200):
            # A new connection each time, so both workers answer.
            response = httpx.get(f"{server.base_url}/api/v1/system/metrics", timeout=10)
            seen.add(response.json()["pid"])
            if len(seen) == 2:
                break
        assert len(seen) == 2
        assert seen <= worker_pids
        workers = [psutil.Process(pid) for pid in seen]
        workers_cpu = sum(cpu_seconds(worker) for worker in workers)
        largest_rss = max(worker.memory_info().rss for worker in workers)
        response = httpx.get(f"{server.base_url}/metrics", timeout=10)

    assert response.status_code == 200
    families = process_families(response.text)
    assert families["process_cpu_seconds"][0] == "counter"
    assert families["process_resident_memory_bytes"][0] == "gauge"
    # CPU time only grows, so the server's total is at least both workers' figures read before.
    assert families["process_cpu_seconds"][1] >= workers_cpu
    assert families["process_resident_memory_bytes"][1] >= largest_rss
    result = subprocess.run(
        [promtool(), "check", "metrics"],
        input=response.content,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == result.stderr.strip() == b""
