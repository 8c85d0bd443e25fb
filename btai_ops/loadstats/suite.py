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
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from rich.table import Table

from btai_ops.errors import ServiceUnreachable
from btai_ops.loadstats.capacity import UsersSearch
from btai_ops.loadstats.server_usage import ServerWatch, is_loopback, usage_block
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


def _spawn(stack: ExitStack, workers: int, server_env: dict[str, str]) -> dict[str, Any]:
    """`btai serve` and the reference app on free loopback ports: {name: (url, server)}."""
    btai = [str(Path(sys.executable).with_name("btai")), "serve"]
    reference = [sys.executable, "-m", "uvicorn", "benchmarks.reference_app:app"]
    reference += ["--no-access-log", "--log-level", "warning"]
    started = {}
    for name, cmd in (("btai", btai), ("reference", reference)):
        port = free_port()
        full = [*cmd, "--port", str(port), "--workers", str(workers)]
        env = {**os.environ, **server_env, "API_HOST": "127.0.0.1"}
        env["API_WORKERS"] = str(workers)
        url = stack.enter_context(_server(name, full, port, env))
        started[name] = (url, {"command": " ".join(full), "workers": workers, "env": server_env})
    return started


@dataclass
class Target:
    """One server under measurement: its runs and the server CPU they cost."""

    url: str
    watch: ServerWatch
    scenarios: dict[str, list[dict[str, Any]]]
    cpu_seconds: float = 0.0
    requests: int = 0  # answered in the runs whose server CPU was read before and after

    def measure(
        self, run: Any, scenario: str, *, show_progress: bool, count_cpu: bool = True
    ) -> dict[str, Any]:
        """One Locust run against this server; with `count_cpu`, the server's CPU seconds it
        took count towards requests per CPU-second."""
        from btai_ops.loadtest import execute

        before = self.watch.read() if count_cpu else None
        summary: dict[str, Any] = execute(run, [], scenario=scenario, show_progress=show_progress)
        after = self.watch.read() if count_cpu else None
        if before is not None and after is not None and after.source == before.source:
            self.cpu_seconds += after.cpu_seconds - before.cpu_seconds
            self.requests += int(summary["total"]["requests"])
        return summary


def _locust_run(
    url: str, scenario: str, *, users: int, duration_s: float, rate: float | None
) -> Any:
    from btai_ops.loadstats.runner import LocustRun
    from btai_ops.loadtest import SCENARIOS, default_locustfile

    return LocustRun(
        locustfile=default_locustfile(),
        user_classes=[SCENARIOS[scenario]],
        host=url,
        users=users,
        spawn_rate=float(users),
        duration_s=duration_s,
        rate=rate,
    )


def _progress_line(prefix: str, summary: dict[str, Any]) -> str:
    total = summary["total"]
    latency = total["latency_ms"] or {"p50": 0.0, "p99": 0.0}
    return (
        f"{prefix} {total['rps']:>9,.1f} req/s  p50 {latency['p50']:.2f} ms  "
        f"p99 {latency['p99']:.2f} ms  failures {total['failures']}"
        + ("" if summary["valid"] else "  [yellow](invalid run)[/]")
    )


def concurrent_users(target: Target, scenario: str, search: UsersSearch) -> dict[str, Any]:
    """The stepped search of `capacity` against one server, a progress line per step."""
    from btai_ops.loadstats.capacity import search_users, step_result

    def measure(users: int) -> dict[str, Any]:
        rate = users / search.think_s
        run = _locust_run(target.url, scenario, users=users, duration_s=search.step_s, rate=rate)
        summary = target.measure(run, scenario, show_progress=False, count_cpu=False)
        step = step_result(users, summary, search.objective_p95_ms)
        p95 = "—" if step["p95_ms"] is None else f"{step['p95_ms']:.1f} ms"
        verdict = "held" if step["held"] else "missed"
        stderr.print(f"users search: {users:>5} users  p95 {p95}  {verdict}", markup=False)
        return step

    found = {"scenario": scenario} | search_users(search, measure)
    stderr.print(f"users search: {found['users']:,} users, stopped by {found['stopped_by']}")
    return found


def _rounds(targets: dict[str, Target], scenarios: list[str], repeat: int, plan: Any) -> None:
    """Every scenario `repeat` times against each target, alternating which goes first."""
    for round_no in range(1, repeat + 1):
        for scenario in scenarios:
            order = list(targets) if round_no % 2 else list(reversed(targets))
            for name in order:
                target = targets[name]
                run = _locust_run(target.url, scenario, **plan)
                summary = target.measure(run, scenario, show_progress=True)
                prefix = f"[{round_no}/{repeat}] {name:<9} {scenario:<9}"
                stderr.print(_progress_line(prefix, summary))
                target.scenarios[scenario].append(summary)


def _search_on_loopback(
    target: Target, scenario: str, search: UsersSearch
) -> dict[str, dict[str, Any]]:
    if is_loopback(target.url):
        return {"btai": concurrent_users(target, scenario, search)}
    stderr.print("concurrent users: searched on a loopback host only; not measured")
    return {}


def _target_block(name: str, target: Target, found: dict[str, Any]) -> dict[str, Any]:
    server = usage_block(target.watch.read(), target.cpu_seconds, target.requests)
    server["concurrent_users"] = found.get(name)
    return {"host": target.url, "scenarios": target.scenarios, "server": server}


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
    users_search: UsersSearch | None = None,
) -> dict[str, Any]:
    """Every scenario `repeat` times against each target, alternating their order; then the
    concurrent-users search (btai on loopback only) and each server's CPU and memory."""
    from btai_ops.loadstats.runner import probe

    with ExitStack() as stack:
        if spawn:
            started = _spawn(stack, workers, dict(server_env or {}))
        else:
            assert host is not None
            probe(host)
            started = {"btai": (host, {"url": host})}
        targets = {
            name: Target(url, ServerWatch(url), {s: [] for s in scenarios})
            for name, (url, _) in started.items()
        }
        plan = {"users": users, "duration_s": duration_s, "rate": rate}
        _rounds(targets, scenarios, repeat, plan)
        found = {}
        if users_search is not None:
            found = _search_on_loopback(targets["btai"], scenarios[0], users_search)
        blocks = {name: _target_block(name, target, found) for name, target in targets.items()}
    config = {"scenarios": scenarios, "repeat": repeat, "duration_s": duration_s}
    config |= {"users": users, "rate": rate, "spawn": spawn}
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": KIND,
        "created_at": datetime.now(UTC).isoformat(),
        "config": config,
        "environment": environment({name: info for name, (_, info) in started.items()}),
        "targets": blocks,
        "ratios": ratios(blocks),
    }


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _stat(summary: dict[str, Any], key: str) -> float:
    total = summary["total"]
    return float(total["rps"] if key == "rps" else (total["latency_ms"] or {}).get(key, 0.0))


def _ratio_row(runs: list[dict[str, Any]], ref: list[dict[str, Any]]) -> dict[str, float | None]:
    row: dict[str, float | None] = {}
    for key in ("rps", "p50", "p99"):
        mine, theirs = _mean([_stat(r, key) for r in runs]), _mean([_stat(r, key) for r in ref])
        row[key] = round(mine / theirs, 3) if theirs else None
    return row


def ratios(targets: dict[str, Any]) -> dict[str, Any]:
    """btai against the reference per scenario: requests/s and p50/p99 ratios."""
    if "btai" not in targets or "reference" not in targets:
        return {}
    out = {}
    for scenario, runs in targets["btai"]["scenarios"].items():
        ref = targets["reference"]["scenarios"].get(scenario) or []
        if runs and ref:
            out[scenario] = _ratio_row(runs, ref)
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


def server_table(results: dict[str, Any]) -> Table:
    """The rest of the report's throughput table, per target."""
    table = Table(title="Server (after the run)", title_justify="left")
    for column in ("target", "req/CPU-s", "largest worker MB", "concurrent users"):
        table.add_column(column, justify="left" if column == "target" else "right")
    for name, target in results["targets"].items():
        server = target.get("server") or {}
        found = server.get("concurrent_users")
        users = "—"
        if found:
            users = f"{found['users']:,} (p95 ≤ {found['objective_p95_ms']:g} ms)"
        efficiency, memory = server.get("requests_per_cpu_second"), server.get("memory_mb")
        table.add_row(
            name,
            "—" if efficiency is None else f"{efficiency:,.1f}",
            "—" if memory is None else f"{memory:,.1f}",
            users,
        )
    return table
