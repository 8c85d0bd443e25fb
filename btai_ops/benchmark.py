"""`btai benchmark run|compare|micro`: the standard suite, comparisons, microbenchmarks."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from btai_ops.errors import UsageProblem
from btai_ops.loadstats import wide_console
from btai_ops.output import stderr

if TYPE_CHECKING:
    from btai_ops.loadstats.compare import MetricSet, Row
    from btai_ops.loadstats.failon import FailOn

app = typer.Typer(help="Benchmark the service and compare results.", no_args_is_help=True)

SUITE = ("simple", "complex", "database", "cache")
REPORT_BASELINE = Path("benchmarks/baselines/report.yaml")


def _project_file(relative: Path) -> Path:
    """A file of the project: from the working directory, else beside this package."""
    if relative.exists():
        return relative
    return Path(__file__).resolve().parents[1] / relative


@app.command()
def run(
    host: Annotated[str | None, typer.Option(help="Measure the service at this URL.")] = None,
    spawn: Annotated[
        bool,
        typer.Option(help="Start `btai serve` and the bare reference app; measure both in turn."),
    ] = False,
    scenario: Annotated[
        list[str] | None, typer.Option("--scenario", "-s", help="Repeatable (default: the four).")
    ] = None,
    repeat: Annotated[int, typer.Option(min=1, help="Repetitions of every scenario.")] = 3,
    duration: Annotated[str, typer.Option("--duration", "-t", help="Per run.")] = "10s",
    users: Annotated[
        int, typer.Option("--users", "-u", min=1, help="Concurrent simulated users per run.")
    ] = 10,
    rate: Annotated[
        float | None, typer.Option(min=0.1, help="Open model: requests/s per run.")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Server workers with --spawn.")] = 1,
    server_env: Annotated[
        list[str] | None,
        typer.Option(
            "--server-env",
            help="KEY=VALUE for both spawned servers, repeatable (RATE_LIMIT_ENABLED=false "
            "unless given: the suite measures the service, not its rate limiter).",
        ),
    ] = None,
    users_search: Annotated[
        bool,
        typer.Option(
            help="Also search the most concurrent users (each sending a request a second) at "
            "which p95 stays under --users-p95-ms, with the first scenario; loopback only.",
        ),
    ] = True,
    users_p95_ms: Annotated[
        float, typer.Option(min=1, help="The p95 objective of the concurrent-users search.")
    ] = 250.0,
    users_max: Annotated[
        int, typer.Option(min=1, help="The most users the search may send.")
    ] = 1600,
    users_step: Annotated[
        str, typer.Option(help="Duration of each of the search's (at most 8) steps.")
    ] = "5s",
    output: Annotated[Path, typer.Option("--output", "-o", help="Results JSON.")] = Path(
        "benchmark-results.json"
    ),
) -> None:
    """Run the standard suite (the report's four endpoint types) and write a results JSON.

    Beside the scenarios it measures the rest of the report's throughput table: concurrent
    users (a stepped search), the largest worker's memory after the run and requests per
    CPU-second of the server (from its processes on loopback, else from its /metrics).
    """
    from btai_ops.loadstats.capacity import UsersSearch
    from btai_ops.loadstats.suite import run_suite, server_table

    if (host is None) == (not spawn):
        raise UsageProblem("give either --host URL or --spawn")
    from btai_ops.loadtest import parse_duration, require_locust

    require_locust()
    if not output.resolve().parent.is_dir():
        raise UsageProblem(f"the folder of {output} does not exist")
    scenarios = _scenarios(scenario)
    env = _server_env(server_env)
    search = UsersSearch(users_p95_ms, users_max, parse_duration(users_step))
    results = run_suite(
        host=host,
        spawn=spawn,
        scenarios=scenarios,
        repeat=repeat,
        duration_s=parse_duration(duration),
        users=users,
        rate=rate,
        workers=workers,
        server_env=env,
        users_search=search if users_search else None,
    )
    import json

    output.write_text(json.dumps(results) + "\n")
    from btai_ops.loadstats.suite import ratio_table

    console = wide_console()
    console.print(ratio_table(results))
    console.print(server_table(results))
    stderr.print(f"results written to {output}")


def _scenarios(chosen: list[str] | None) -> list[str]:
    from btai_ops.loadtest import SCENARIOS

    scenarios = list(chosen or SUITE)
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown:
        raise UsageProblem(
            f"unknown scenario {unknown[0]!r}", hint=f"known scenarios: {', '.join(SCENARIOS)}"
        )
    return scenarios


def _server_env(items: list[str] | None) -> dict[str, str]:
    """KEY=VALUE options over the suite's default of no rate limiting."""
    env = {"RATE_LIMIT_ENABLED": "false"}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageProblem(f"invalid --server-env {item!r}", hint="KEY=VALUE")
        env[key] = value
    return env


@app.command()
def compare(
    current: Annotated[Path, typer.Argument(help="Results: btai loadtest or benchmark JSON.")],
    baseline: Annotated[
        Path | None,
        typer.Argument(help="Results to compare with (default: the report's tables)."),
    ] = None,
    tolerance: Annotated[
        list[str] | None,
        typer.Option(help="Per metric, repeatable: p95=+10% (rise is worse), rps=-5%."),
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="table, json or markdown.")
    ] = "table",
    html_file: Annotated[
        Path | None, typer.Option("--html", help="Also write a self-contained HTML report.")
    ] = None,
    target: Annotated[
        str | None, typer.Option(help="Server in a multi-target results file (default btai).")
    ] = None,
    alpha: Annotated[
        float,
        typer.Option(min=1e-9, max=0.5, help="Significance level of each statistic's test."),
    ] = 0.01,
    noise_floor_ms: Annotated[
        float, typer.Option(min=0, help="Latency changes this small are always unchanged.")
    ] = 1.0,
    fail_on: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-on",
            help="Repeatable: fail only on these real changes, e.g. p99:+30% rps:-10% "
            "(default: fail on any regressed row).",
        ),
    ] = None,
) -> None:
    """Compare results with a baseline; exit 1 when a row regressed (or a --fail-on rule broke).

    Exit 2 when a change would rest on an invalid run (a saturated load generator).
    """
    from btai_ops.loadstats import compare as cmp
    from btai_ops.loadstats import compare_view as view
    from btai_ops.loadstats.tolerance import parse_tolerance

    if output_format not in ("table", "json", "markdown"):
        raise UsageProblem(f"unknown --format {output_format!r}", hint="table, json or markdown")
    rules = _fail_on_rules(fail_on)
    tolerances = dict(parse_tolerance(t) for t in tolerance or [])
    cur = cmp.load_metrics(current, target)
    base = cmp.load_metrics(baseline or _project_file(REPORT_BASELINE), target)
    rows = cmp.compare(cur, base, tolerances=tolerances, alpha=alpha, noise_floor_ms=noise_floor_ms)
    _show(rows, cur, base, output_format)
    if html_file is not None:
        html_file.write_text(view.html_report(rows, cur, base))
    raise typer.Exit(_verdict(rows, rules))


def _fail_on_rules(fail_on: list[str] | None) -> list[FailOn]:
    from btai_ops.loadstats.failon import GRAMMAR, FailOnSyntaxError, parse_fail_on

    try:
        return [parse_fail_on(rule) for rule in fail_on or []]
    except FailOnSyntaxError as exc:
        raise UsageProblem(f"{exc}\n{GRAMMAR}") from None


def _show(rows: list[Row], cur: MetricSet, base: MetricSet, output_format: str) -> None:
    from btai_ops.loadstats import compare_view as view

    if output_format == "json":
        from btai_ops.output import print_json

        print_json(view.as_json(rows, cur, base))
    elif output_format == "markdown":
        sys.stdout.write(view.markdown(rows, cur, base))
    else:
        console = wide_console()
        console.print(view.table(rows, cur, base))
        for note in view.notes(rows):
            console.print(note)


def _verdict(rows: list[Row], rules: list[FailOn]) -> int:
    """The exit code: 2 on a change that rests on an invalid run, else 1 on a broken
    --fail-on rule (with rules) or a regressed row (without)."""
    from btai_ops.loadstats.failon import broken

    unusable = [r for r in rows if r.verdict == "invalid run"]
    if unusable:
        raise UsageProblem(
            f"{len(unusable)} change(s) cannot be judged: {unusable[0].note}",
            hint="measure again on a machine that does not starve the load generator",
        )
    if rules:
        failures = broken(rules, rows)
        for line in failures:
            stderr.print(f"Failed: {line}", markup=False)
        return 1 if failures else 0
    return 1 if any(r.verdict == "regressed" for r in rows) else 0


@app.command()
def micro(
    compare_saved: Annotated[
        bool,
        typer.Option(
            "--compare", help="Compare with the last saved run; fail on a median 20% slower."
        ),
    ] = False,
    storage: Annotated[
        Path, typer.Option(help="Where pytest-benchmark keeps its saved runs.")
    ] = Path("var/benchmarks"),
    max_time: Annotated[
        float | None, typer.Option(min=0.001, help="Seconds per benchmark (pytest-benchmark's).")
    ] = None,
) -> None:
    """Run the pytest-benchmark microbenchmarks in benchmarks/micro/ and save the run."""
    import subprocess

    from btai_ops.extras import require

    # Checked here: the run is a subprocess, whose own import error would be a traceback.
    require("pytest", "benchmark")
    require("pytest_benchmark", "benchmark")

    folder = _project_file(Path("benchmarks/micro"))
    cmd = [sys.executable, "-m", "pytest", str(folder), "-q", "--benchmark-enable"]
    cmd += ["--benchmark-autosave", f"--benchmark-storage=file://{storage.resolve()}"]
    cmd += ["-p", "no:cacheprovider", "--rootdir", str(folder.parent.parent)]
    if max_time is not None:
        cmd += [f"--benchmark-max-time={max_time}"]
    if compare_saved:
        cmd += ["--benchmark-compare", "--benchmark-compare-fail=median:20%"]
    raise typer.Exit(subprocess.call(cmd))
