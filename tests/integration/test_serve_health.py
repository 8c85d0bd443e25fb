"""`btai serve` and `btai health` as real processes: readiness, zero-downtime stop, bad ports,
and the supervisor replacing workers that die, hang or are told to restart."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from tests.support.server import BTAI, run_server
from tests.support.services import free_port
from tests.support.timing import scaled

pytestmark = pytest.mark.slow
GRACE = 10


def serve_env(tmp_path: Path, port: int, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/btai.db",
        "API_HOST": "127.0.0.1",
        "API_PORT": str(port),
        **extra,
    }


def _ready_wait() -> str:
    """Scaled when the wait starts, not at import: the machine may be busier by then."""
    return str(int(scaled(60)))


def test_health_wait_ready_passes_once_two_workers_serve(tmp_path: Path) -> None:
    port = free_port()
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen(
            [BTAI, "serve", "--workers", "2"],
            env=serve_env(tmp_path, port),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    try:
        wait = _ready_wait()
        result = subprocess.run(
            [BTAI, "health", f"http://127.0.0.1:{port}", "--wait-ready", "--timeout", wait],
            capture_output=True,
            text=True,
            timeout=int(wait) + 30,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "(ready)" in result.stdout
        report = subprocess.run(
            [BTAI, "health", f"http://127.0.0.1:{port}", "--json"],
            capture_output=True,
            text=True,
            timeout=scaled(30),
        )
        data = json.loads(report.stdout)
        assert data["probes"]["liveness"]["http_status"] == 200
        assert data["ready"] is True
        assert report.returncode == data["exit_code"]
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=GRACE + scaled(20)) == 0, (tmp_path / "serve.log").read_text()


@pytest.mark.parametrize("server_name", ["uvicorn", "granian"])
def test_sigterm_under_steady_load_answers_every_request_sent_before_it(
    tmp_path: Path, server_name: str
) -> None:
    stop_file, out = tmp_path / "stop", tmp_path / "load.json"
    args = ["--workers", "2", "--graceful-timeout", str(GRACE), "--server", server_name]
    with run_server(tmp_path, args=args) as server:
        load = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.steady_load",
                f"{server.base_url}/api/v1/health/liveness",
                "--rate",
                "100",
                "--stop-file",
                str(stop_file),
                "--out",
                str(out),
            ],
            cwd=Path(__file__).resolve().parents[2],
        )
        try:
            flowing = out.with_suffix(".flowing")  # a steady stream is flowing
            deadline = time.monotonic() + scaled(30)
            while not flowing.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            signalled_at = time.time()
            server.process.send_signal(signal.SIGTERM)
            exit_code = server.process.wait(timeout=GRACE + scaled(5))
            stop_file.touch()
            assert load.wait(timeout=scaled(60)) == 0
        finally:
            stop_file.touch()
            if load.poll() is None:
                load.kill()
        assert exit_code == 0, server.log()
    records = json.loads(out.read_text())
    before = [r for r in records if r.get("sent", r["queued"]) < signalled_at]
    assert len(before) >= 20, f"only {len(before)} requests were sent before the signal"
    failed = [r for r in before if r.get("status") is None or not 200 <= r["status"] < 300]
    assert failed == [], failed[:5]
    # The load kept going after the signal, so the stop really happened under load.
    assert any(r.get("sent", r["queued"]) >= signalled_at for r in records)


def test_port_in_use_is_one_line_naming_port_and_owner(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [BTAI, "serve", "--port", str(port), "--no-migrate"],
            env=serve_env(tmp_path, port),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"port {port}" in lines[0]
    assert f"pid {os.getpid()}" in lines[0]
    assert "Traceback" not in result.stderr


def test_health_names_the_failing_database_check_when_postgres_is_unreachable(
    tmp_path: Path,
) -> None:
    closed = free_port()
    env = {"DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:{closed}/btai"}
    with run_server(tmp_path, env=env, args=["--no-migrate"]) as server:
        result = subprocess.run(
            [BTAI, "health", server.base_url, "--timeout", "15"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "failing check database" in result.stderr
    assert "Traceback" not in result.stderr


def worker_pids(parent: psutil.Process) -> set[int]:
    pids = set()
    for child in parent.children():
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "spawn_main" in " ".join(child.cmdline()):
                pids.add(child.pid)
        except psutil.Error:
            pass
    return pids


def test_killed_worker_is_replaced_and_its_live_metrics_removed(tmp_path: Path) -> None:
    import httpx

    metrics_dir = tmp_path / "metrics"
    env = {"METRICS_DIR": str(metrics_dir)}
    with run_server(tmp_path, env=env, args=["--workers", "2"]) as server:
        with httpx.Client(base_url=server.base_url) as client:
            served_by = {client.get("/api/v1/health/liveness").json()["pid"] for _ in range(40)}
        parent = psutil.Process(server.process.pid)
        workers = worker_pids(parent)
        victim = next(iter(served_by & workers))
        assert list(metrics_dir.glob(f"gauge_live*_{victim}.db")), sorted(metrics_dir.iterdir())
        psutil.Process(victim).kill()
        deadline = time.monotonic() + scaled(30)
        replaced: set[int] = set()
        while time.monotonic() < deadline and not replaced:
            replaced = worker_pids(parent) - workers
            time.sleep(0.2)
        assert replaced, server.log()
        assert httpx.get(f"{server.base_url}/api/v1/health/liveness").status_code == 200
        assert list(metrics_dir.glob(f"gauge_live*_{victim}.db")) == []
        assert list(metrics_dir.glob(f"counter_{victim}.db"))  # its requests still count


def serving_pids(base_url: str, until: Callable[[set[int]], bool], timeout: float) -> set[int]:
    """Worker pids that answer liveness on fresh connections, gathered until `until` holds
    for them or the deadline passes."""
    import httpx

    deadline = time.monotonic() + scaled(timeout)
    seen: set[int] = set()
    while not until(seen) and time.monotonic() < deadline:
        try:
            seen.add(int(httpx.get(f"{base_url}/api/v1/health/liveness", timeout=2).json()["pid"]))
        except (httpx.HTTPError, ValueError, KeyError):
            time.sleep(0.1)
    return seen


def test_a_worker_that_stops_answering_is_killed_and_replaced(tmp_path: Path) -> None:
    # Pinged every 5 s; one that has not answered within 2 s is deemed hung.
    env = {"WORKER_HEALTHCHECK_TIMEOUT": "2"}
    with run_server(tmp_path, env=env, args=["--workers", "2"]) as server:
        parent = psutil.Process(server.process.pid)
        workers = worker_pids(parent)
        assert len(workers) == 2, server.log()
        victim = min(workers)
        os.kill(victim, signal.SIGSTOP)
        try:
            deadline = time.monotonic() + scaled(60)
            replaced: set[int] = set()
            while time.monotonic() < deadline:
                now = worker_pids(parent)
                replaced = now - workers
                if replaced and victim not in now:
                    break
                time.sleep(0.2)
            assert replaced, server.log()
            assert not psutil.pid_exists(victim), server.log()  # killed and reaped
            served = serving_pids(server.base_url, lambda seen: bool(seen & replaced), 60)
            assert served & replaced, server.log()
            assert victim not in served
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)


def test_sighup_restarts_every_worker(tmp_path: Path) -> None:
    # A restarted worker must be ready within the health-check timeout, or the restart stops.
    env = {"WORKER_HEALTHCHECK_TIMEOUT": str(scaled(30))}
    with run_server(tmp_path, env=env, args=["--workers", "2"]) as server:
        parent = psutil.Process(server.process.pid)
        before = worker_pids(parent)
        assert len(before) == 2, server.log()
        server.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + scaled(90)
        after: set[int] = set()
        while time.monotonic() < deadline:
            after = worker_pids(parent)
            if len(after) == 2 and not after & before:
                break
            time.sleep(0.2)
        assert len(after) == 2, server.log()
        assert not after & before, server.log()
        served = serving_pids(server.base_url, lambda seen: after <= seen, 60)
        assert after <= served, server.log()
        assert not served & before
        assert server.process.poll() is None  # the supervisor itself carried on
