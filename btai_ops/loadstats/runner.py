"""Run Locust in subprocesses, watch them (progress, CPU) and collect their recording."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from btai_ops.errors import ServiceUnreachable, UsageProblem
from btai_ops.loadstats.recorder import Recording
from btai_ops.processes import stop_process

PLUGIN = Path(__file__).with_name("locust_plugin.py")


@dataclass
class LocustRun:
    """What to run: one Locust master (or local runner) plus optional local workers."""

    locustfile: Path
    user_classes: list[str]
    host: str
    users: int
    spawn_rate: float
    duration_s: float
    processes: int = 1
    expect_workers: int = 0  # > 0: only the master runs here; workers join from elsewhere
    master_port: int = 5557
    rate: float | None = None
    csv_prefix: str | None = None
    html_file: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    def command(self) -> list[str]:
        cmd = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            f"{self.locustfile},{PLUGIN}",
            "--headless",
            "--host",
            self.host,
            "--users",
            str(self.users),
            "--spawn-rate",
            str(self.spawn_rate),
            "--only-summary",
            "--loglevel",
            "WARNING",
            "--exit-code-on-error",
            "0",
        ]
        if self.expect_workers:  # workers come from other machines: listen on every address
            cmd += ["--master", "--expect-workers", str(self.expect_workers)]
            cmd += ["--master-bind-port", str(self.master_port)]
        elif self.processes > 1:  # local workers only: the master listens on loopback
            cmd += ["--processes", str(self.processes), "--master-bind-host", "127.0.0.1"]
            cmd += ["--master-bind-port", str(self.master_port)]
            cmd += ["--master-port", str(self.master_port)]
        if self.csv_prefix:
            cmd += ["--csv", self.csv_prefix]
        if self.html_file:
            cmd += ["--html", self.html_file]
        return cmd + self.user_classes


@dataclass
class Progress:
    elapsed_s: float
    live: dict[str, Any] | None
    cpu_percent: float


class CpuWatch:
    """Per-process CPU of the Locust process tree, sampled once a second."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.samples: dict[int, list[float]] = {}
        self._known: dict[int, psutil.Process] = {}

    def sample(self, keep: bool = True) -> float:
        """Current CPU of the busiest process; kept for the report once the test runs."""
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return 0.0
        current = 0.0
        for proc in procs:
            known = self._known.setdefault(proc.pid, proc)
            try:
                value = known.cpu_percent(interval=None)
            except psutil.Error:
                continue
            if keep:
                self.samples.setdefault(proc.pid, []).append(value)
            current = max(current, value)
        return current

    def report(self) -> dict[str, Any]:
        rows = []
        for pid, values in self.samples.items():
            rows.append(
                {
                    "pid": pid,
                    "mean_cpu_percent": round(sum(values) / len(values), 1),
                    "max_cpu_percent": round(max(values), 1),
                }
            )
        return {
            "max_cpu_percent": max((r["mean_cpu_percent"] for r in rows), default=0.0),
            "processes": rows,
        }


def probe(host: str, timeout: float = 5.0) -> None:
    """Any HTTP answer will do; no answer at all ends the run before load starts."""
    import httpx

    try:
        httpx.get(host.rstrip("/") + "/", timeout=timeout)
    except httpx.InvalidURL as exc:
        raise UsageProblem(f"invalid --host {host!r} ({exc})") from None
    except httpx.HTTPError as exc:
        raise ServiceUnreachable(
            f"{host} is unreachable: {exc or type(exc).__name__}",
            hint="no load was sent; start the service or fix --host",
        ) from None


def run_locust(
    run: LocustRun,
    work_dir: Path,
    on_progress: Callable[[Progress], None] | None = None,
) -> tuple[Recording, dict[str, Any], str]:
    """Run Locust to the end: the merged recording, the generator CPU report, and the state.

    Ctrl-C stops Locust (it writes what it measured) and the state is "interrupted".
    """
    env = {
        **os.environ,
        **run.extra_env,
        "BTAI_LOADSTATS_DIR": str(work_dir),
        "BTAI_LOADSTATS_DURATION": str(run.duration_s),
        "BTAI_LOADSTATS_RATE": str(run.rate or 0),
        "PYTHONUNBUFFERED": "1",
    }
    log_path = work_dir / "locust.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            run.command(), env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    watch = CpuWatch(process.pid)
    watch.sample(keep=False)
    interrupted = False
    try:
        _watch(process, run, work_dir, watch, on_progress)
    except KeyboardInterrupt:
        # On a terminal Locust got the same Ctrl-C; from `kill -INT` only we did: pass it on.
        interrupted = True
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
    finally:
        stop_process(process, timeout=10)
    final = _read(work_dir / "final.json") or (
        _read(work_dir / "live.json") if interrupted else None
    )
    if final is None:
        tail = log_path.read_text(errors="replace").strip().splitlines()[-15:]
        raise UsageProblem(
            f"Locust exited with {process.returncode} before writing its results:\n"
            + "\n".join(tail)
        )
    state = "interrupted" if interrupted else str(final.get("state", "finished"))
    return Recording.from_dict(final), watch.report(), state


def _watch(
    process: subprocess.Popen[bytes],
    run: LocustRun,
    work_dir: Path,
    watch: CpuWatch,
    on_progress: Callable[[Progress], None] | None,
) -> None:
    """Until Locust exits: its CPU and live figures each second, within a deadline."""
    start = time.monotonic()
    deadline = start + run.duration_s + 120 + run.users / max(run.spawn_rate, 0.1)
    while process.poll() is None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=1.0)
        live = _read(work_dir / "live.json")
        # Start-up (imports, spawning) is not load generation: count from the first answer.
        cpu = watch.sample(keep=bool(live and live.get("started_at")))
        if on_progress is not None:
            on_progress(Progress(time.monotonic() - start, live, cpu))
        if time.monotonic() > deadline:
            raise ServiceUnreachable("Locust did not finish in time")


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return data
