"""`btai loadtest`: Locust in subprocesses, exact percentiles, thresholds, an open-model rate."""

from __future__ import annotations

import math
import re
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from btai_ops.errors import EXIT_INTERRUPTED, UsageProblem
from btai_ops.loadstats import wide_console
from btai_ops.output import stderr

SCENARIOS = {
    "simple": "SimpleGetUser",
    "complex": "ComplexPostUser",
    "database": "DatabaseQueryUser",
    "cache": "CacheHitUser",
    "mixed": "MixedUser",
}
DEFAULT_LOCUSTFILE = Path("benchmarks/locustfile.py")


def parse_duration(text: str) -> float:
    """`30`, `30s`, `1m30s`, `2m`, `500ms` -> seconds."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)?", text.strip())
    rebuilt = "".join(n + (u or "") for n, u in parts)
    if not parts or rebuilt != text.strip():
        raise UsageProblem(f"invalid duration {text!r}", hint="e.g. 30s, 2m, 1m30s")
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "": 1}
    seconds = sum(float(n) * scale[u] for n, u in parts)
    if seconds <= 0:
        raise UsageProblem(f"duration {text!r} must be positive")
    return seconds


def check_host(value: str) -> str:
    """A base URL with its scheme: `127.0.0.1:8000` alone is a usage error, before any load."""
    if not value.startswith(("http://", "https://")):
        raise typer.BadParameter(
            f"{value!r} has no scheme (did you mean http://{value}?)", param_hint="--host"
        )
    return value.rstrip("/")


def default_locustfile() -> Path:
    """benchmarks/locustfile.py of the working directory, else the one beside this package."""
    if DEFAULT_LOCUSTFILE.is_file():
        return DEFAULT_LOCUSTFILE.resolve()
    return Path(__file__).resolve().parents[1] / DEFAULT_LOCUSTFILE


def resolve_users(scenario: str | None, locustfile: Path | None) -> tuple[Path, list[str]]:
    if locustfile is None:
        name = scenario or "simple"
        if name not in SCENARIOS:
            known = ", ".join(SCENARIOS)
            raise UsageProblem(f"unknown scenario {name!r}", hint=f"known scenarios: {known}")
        path = default_locustfile()
        if not path.is_file():
            raise UsageProblem(
                f"{path} not found", hint="run from the project root or --locustfile"
            )
        return path, [SCENARIOS[name]]
    if not locustfile.is_file():
        raise UsageProblem(f"locustfile {locustfile} not found")
    return locustfile.resolve(), [scenario] if scenario else []


def require_locust() -> None:
    """Locust is the optional `load` extra; find it without importing it here."""
    import importlib.util

    if importlib.util.find_spec("locust") is None:
        raise UsageProblem("Locust is not installed", hint="pip install 'btai[load]'")


def loadtest(
    scenario: Annotated[
        str | None,
        typer.Option(
            "--scenario",
            "-s",
            help=f"One of {', '.join(SCENARIOS)} (default simple); with --locustfile: a class.",
        ),
    ] = None,
    locustfile: Annotated[
        Path | None, typer.Option(help="Your own locustfile instead of the built-in scenarios.")
    ] = None,
    host: Annotated[
        str, typer.Option(callback=check_host, help="Base URL under test, with http(s)://.")
    ] = "http://127.0.0.1:8000",
    users: Annotated[
        int | None,
        typer.Option(
            "--users", "-u", min=1, help="Concurrent users (default 10; with --rate, R/4)."
        ),
    ] = None,
    spawn_rate: Annotated[
        float | None,
        typer.Option(
            "--spawn-rate", "-r", min=0.1, help="Users started per second (default: all at once)."
        ),
    ] = None,
    duration: Annotated[
        str, typer.Option("--duration", "-t", help="Run time: 30s, 2m, 1m30s.")
    ] = "30s",
    processes: Annotated[
        int, typer.Option(min=1, help="Locust processes on this machine (master + N workers).")
    ] = 1,
    master_host: Annotated[
        str | None,
        typer.Option(help="Join the master at this address as --processes worker(s) instead."),
    ] = None,
    expect_workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Run only the master here; wait for N workers started with --master-host.",
        ),
    ] = None,
    master_port: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=65535,
            help="Port of the master (both roles; default 5557, or a free one with --processes).",
        ),
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option(min=0.1, help="Open model: requests/s in total, sent on schedule."),
    ] = None,
    threshold: Annotated[
        list[str] | None,
        typer.Option(
            "--threshold",
            help="Pass/fail rule, repeatable: p95<50ms, fail_ratio<0.01 "
            "(without a fail_ratio rule, fail_ratio<=1% applies).",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON summary to stdout (no progress).")
    ] = False,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="Also write the JSON summary to FILE.")
    ] = None,
    csv_prefix: Annotated[
        str | None, typer.Option("--csv", help="Locust's CSV files plus PREFIX_exact.csv.")
    ] = None,
    html_file: Annotated[str | None, typer.Option("--html", help="Locust's HTML report.")] = None,
) -> None:
    """Load-test the service with Locust.

    Exit 0 passed, 1 a threshold failed (more than 1% of requests failing, by default; this
    one even when the run is invalid), 2 the run failed or was invalid, 130 interrupted (the
    summary so far is still written).
    """
    rules = _parse_rules(threshold)
    # `--json` is stdout on every command; a file is `--output FILE` (`-` is stdout too).
    json_file = "-" if as_json else output
    seconds = parse_duration(duration)
    path, user_classes = resolve_users(scenario, locustfile)
    rules = _applicable(rules, rate_mode=rate is not None, path=path)
    require_locust()
    _check_folders(json_file, csv_prefix, html_file)
    if master_host is not None:
        _join_master(path, user_classes, master_host, master_port or 5557, processes)
        return
    if expect_workers and processes > 1:
        raise UsageProblem("--expect-workers and --processes exclude each other")
    n_users = users or _default_users(rate)

    from btai_ops.loadstats.runner import LocustRun, probe

    probe(host)
    run = LocustRun(
        locustfile=path,
        user_classes=user_classes,
        host=host,
        users=n_users,
        spawn_rate=spawn_rate or float(n_users),
        duration_s=seconds,
        processes=processes,
        expect_workers=expect_workers or 0,
        master_port=_master_port(master_port, processes),
        rate=rate,
        csv_prefix=csv_prefix,
        html_file=html_file,
    )
    summary = execute(run, rules, scenario=scenario, show_progress=json_file != "-")
    _emit(summary, json_file, csv_prefix)
    from btai_ops.loadstats.summary import exit_code

    raise typer.Exit(EXIT_INTERRUPTED if summary["state"] != "finished" else exit_code(summary))


def _parse_rules(threshold: list[str] | None) -> list[Any]:
    from btai_ops.loadstats.thresholds import GRAMMAR, ThresholdSyntaxError, parse_threshold

    try:
        return [parse_threshold(expr) for expr in threshold or []]
    except ThresholdSyntaxError as exc:
        raise UsageProblem(f"{exc}\n{GRAMMAR}") from None


def _applicable(rules: list[Any], *, rate_mode: bool, path: Path) -> list[Any]:
    """The --threshold rules, checked against the run before any load is sent, plus the
    default fail-ratio rule."""
    from btai_ops.loadstats.endpoints import request_names
    from btai_ops.loadstats.thresholds import inapplicable, with_default_fail_ratio

    problem = inapplicable(rules, rate_mode=rate_mode, endpoints=request_names(path))
    if problem:
        raise UsageProblem(problem, hint="no load was sent")
    return with_default_fail_ratio(rules)


def _default_users(rate: float | None) -> int:
    """10, or in the open model enough users to keep the rate: R/4, from 10 to 1,000."""
    return min(1000, max(10, math.ceil(rate / 4))) if rate else 10


def _check_folders(*targets: str | None) -> None:
    for target in targets:
        if target and target != "-" and not Path(target).resolve().parent.is_dir():
            raise UsageProblem(f"the folder of {target} does not exist")


def _master_port(chosen: int | None, processes: int) -> int:
    """Local workers get a port of this run alone, so that runs never collide."""
    from btai_ops.processes import free_port

    if chosen is not None:
        return chosen
    return free_port() if processes > 1 else 5557


def execute(
    run: Any, rules: list[Any], *, scenario: str | None, show_progress: bool
) -> dict[str, Any]:
    """Run Locust, watch it, and build the summary with its thresholds evaluated."""
    from rich.live import Live

    from btai_ops.loadstats.display import LiveView
    from btai_ops.loadstats.runner import run_locust
    from btai_ops.loadstats.summary import build_summary, finish
    from btai_ops.loadstats.thresholds import evaluate

    view = LiveView(run.duration_s)
    with tempfile.TemporaryDirectory(prefix="btai-loadtest-") as tmp:
        if show_progress and stderr.is_terminal:
            with Live(console=stderr, refresh_per_second=2, transient=True) as live:
                recording, cpu, state = run_locust(
                    run, Path(tmp), lambda p: live.update(view.update(p))
                )
        else:
            recording, cpu, state = run_locust(run, Path(tmp))
    config = {
        "scenario": scenario or (None if run.user_classes else "all"),
        "locustfile": str(run.locustfile),
        "user_classes": run.user_classes,
        "host": run.host,
        "users": run.users,
        "spawn_rate": run.spawn_rate,
        "duration_s": run.duration_s,
        "processes": run.processes,
        "expect_workers": run.expect_workers,
        "rate": run.rate,
    }
    summary = build_summary(recording, config=config, generator=cpu, state=state)
    return finish(summary, evaluate(rules, summary))


def _emit(summary: dict[str, Any], json_file: str | None, csv_prefix: str | None) -> None:
    import json

    from btai_ops.loadstats.display import summary_view

    text = json.dumps(summary, indent=2) + "\n"
    if json_file == "-":
        sys.stdout.write(text)
    else:
        console = wide_console()
        console.print(summary_view(summary, console.width), soft_wrap=False)
        if json_file:
            Path(json_file).write_text(text)
    if json_file == "-":  # no table: the warnings and the reasons of the verdict still show
        for reason in summary["invalid_reasons"]:
            stderr.print(f"Warning: run invalid: {reason}", style="yellow", markup=False)
        for reason in summary["verdict_reasons"]:
            stderr.print(f"Failed: {reason}", style="red", markup=False)
    if csv_prefix:
        _write_exact_csv(summary, Path(f"{csv_prefix}_exact.csv"))


def _write_exact_csv(summary: dict[str, Any], path: Path) -> None:
    import csv

    keys = ("min", "mean", "p50", "p90", "p95", "p99", "p99.9", "max")
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "kind", "requests", "failures", "rps", *keys])
        rows = [*summary["endpoints"].items(), ("Aggregated", summary["total"])]
        for name, block in rows:
            for kind in ("latency_ms", "failed_latency_ms", "corrected_ms"):
                if block.get(kind):
                    stats = block[kind]
                    writer.writerow(
                        [name, kind, block["requests"], block["failures"], block["rps"]]
                        + [stats[k] for k in keys]
                    )


def _join_master(
    path: Path, user_classes: list[str], master_host: str, master_port: int, processes: int
) -> None:
    import subprocess

    from btai_ops.loadstats.runner import PLUGIN

    cmd = [sys.executable, "-m", "locust", "-f", f"{path},{PLUGIN}", "--worker"]
    cmd += ["--master-host", master_host, "--master-port", str(master_port)]
    cmd += ["--processes", str(processes), *user_classes]
    stderr.print(f"joining the Locust master at {master_host} with {processes} worker(s)")
    raise typer.Exit(subprocess.call(cmd))
