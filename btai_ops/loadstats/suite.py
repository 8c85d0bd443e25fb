"""The standard benchmark suite: scenarios x targets x repetitions, alternating targets.

With `spawn`, `btai serve` and the bare reference app run side by side on free loopback
ports, so that their ratios come from one sitting on one machine.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from rich.table import Table

from btai_ops.errors import ServiceUnreachable
from btai_ops.output import stderr
from btai_ops.processes import free_port, stop_process

SCHEMA_VERSION = 2  # 2: summaries keep failed requests apart (loadtest schema 2)
KIND = "btai.benchmark"
PACKAGES = ("btai", "fastapi", "starlette", "uvicorn", "pydantic", "sqlalchemy", "locust")
ROOT = Path(__file__).resolve().parents[2]


def environment(servers: dict[str, Any]) -> dict[str, Any]:
    """Where and with what the figures were measured."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    cpu_model = platform.processor() or None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "git_commit": commit,
        "cpu_model": cpu_model,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
        "servers": servers,
    }


@contextmanager
def _server(name: str, cmd: list[str], port: int, env: dict[str, str]) -> Iterator[str]:
    import httpx

    base = f"http://127.0.0.1:{port}"
    log = open(os.devnull, "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise ServiceUnreachable(f"{name} server exited with {process.returncode}")
            try:
                if httpx.get(f"{base}/api/v1/health/liveness", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise ServiceUnreachable(f"{name} server did not come up in 60s")
            time.sleep(0.2)
        yield base
    finally:
        stop_process(process)
        log.close()


def run_suite(
    *,
    host: str | None,
    spawn: bool,
    scenarios: list[str],
    repeat: int,
    duration_s: float,
    users: int,
    rate: float | None,
    workers: int,
    server_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    from btai_ops.loadstats.runner import LocustRun, probe
    from btai_ops.loadtest import SCENARIOS, default_locustfile, execute

    with ExitStack() as stack:
        servers: dict[str, Any] = {}
        hosts: dict[str, str] = {}
        if spawn:
            btai = [str(Path(sys.executable).with_name("btai")), "serve"]
            reference = [sys.executable, "-m", "uvicorn", "benchmarks.reference_app:app"]
            reference += ["--no-access-log", "--log-level", "warning"]
            for name, cmd in (("btai", btai), ("reference", reference)):
                port = free_port()
                full = [*cmd, "--port", str(port), "--workers", str(workers)]
                env = {**os.environ, **(server_env or {}), "API_HOST": "127.0.0.1"}
                env["API_WORKERS"] = str(workers)
                hosts[name] = stack.enter_context(_server(name, full, port, env))
                servers[name] = {
                    "command": " ".join(full),
                    "workers": workers,
                    "env": dict(server_env or {}),
                }
        else:
            assert host is not None
            probe(host)
            hosts["btai"] = host
            servers["btai"] = {"url": host}
        targets: dict[str, Any] = {
            name: {"host": url, "scenarios": {s: [] for s in scenarios}}
            for name, url in hosts.items()
        }
        for round_no in range(1, repeat + 1):
            for scenario in scenarios:
                order = list(hosts) if round_no % 2 else list(reversed(hosts))
                for name in order:
                    run = LocustRun(
                        locustfile=default_locustfile(),
                        user_classes=[SCENARIOS[scenario]],
                        host=hosts[name],
                        users=users,
                        spawn_rate=float(users),
                        duration_s=duration_s,
                        rate=rate,
                    )
                    summary = execute(run, [], scenario=scenario, show_progress=True)
                    total = summary["total"]
                    latency = total["latency_ms"] or {"p50": 0.0, "p99": 0.0}
                    stderr.print(
                        f"[{round_no}/{repeat}] {name:<9} {scenario:<9} "
                        f"{total['rps']:>9,.1f} req/s  p50 {latency['p50']:.2f} ms  "
                        f"p99 {latency['p99']:.2f} ms  failures {total['failures']}"
                        + ("" if summary["valid"] else "  [yellow](invalid run)[/]")
                    )
                    targets[name]["scenarios"][scenario].append(summary)
    config = {"scenarios": scenarios, "repeat": repeat, "duration_s": duration_s}
    config |= {"users": users, "rate": rate, "spawn": spawn}
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": KIND,
        "created_at": datetime.now(UTC).isoformat(),
        "config": config,
        "environment": environment(servers),
        "targets": targets,
        "ratios": ratios(targets),
    }


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _stat(summary: dict[str, Any], key: str) -> float:
    total = summary["total"]
    return float(total["rps"] if key == "rps" else (total["latency_ms"] or {}).get(key, 0.0))


def ratios(targets: dict[str, Any]) -> dict[str, Any]:
    """btai against the reference per scenario: requests/s and p50/p99 ratios."""
    if "btai" not in targets or "reference" not in targets:
        return {}
    out = {}
    for scenario, runs in targets["btai"]["scenarios"].items():
        ref = targets["reference"]["scenarios"].get(scenario) or []
        if not runs or not ref:
            continue
        row = {}
        for key in ("rps", "p50", "p99"):
            mine, theirs = _mean([_stat(r, key) for r in runs]), _mean([_stat(r, key) for r in ref])
            row[key] = round(mine / theirs, 3) if theirs else None
        out[scenario] = row
    return out


def ratio_table(results: dict[str, Any]) -> Table:
    table = Table(title="Benchmark (means over repetitions)", title_justify="left")
    for column in ("target", "scenario", "req/s", "p50 ms", "p99 ms", "runs"):
        table.add_column(column, justify="left" if column in ("target", "scenario") else "right")
    for name, target in results["targets"].items():
        for scenario, runs in target["scenarios"].items():
            table.add_row(
                name,
                scenario,
                f"{_mean([r['total']['rps'] for r in runs]):,.1f}",
                f"{_mean([_stat(r, 'p50') for r in runs]):.2f}",
                f"{_mean([_stat(r, 'p99') for r in runs]):.2f}",
                str(len(runs)),
            )
    for scenario, row in results["ratios"].items():
        table.add_row(
            "btai/reference", scenario, f"{row['rps']}x", f"{row['p50']}x", f"{row['p99']}x", ""
        )
    return table
