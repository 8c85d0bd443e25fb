"""`btai benchmark run|compare` end to end against real server processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from btai_ops.cli import app
from tests.support.loadtest import btai, stall_server

runner = CliRunner()


def bench(host: str, out: Path) -> None:
    result = btai(
        "benchmark", "run", "--host", host, "-s", "simple", "--repeat", "1", "-t", "2s",
        "--rate", "100", "-u", "5", "-o", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "btai" in result.stdout


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two results from the same server and one from a server 50 ms slower per request (far
    beyond what a busy machine's noise adds, so the verdict does not hang on the machine)."""
    tmp = tmp_path_factory.mktemp("bench")
    paths = {name: tmp / f"{name}.json" for name in ("first", "second", "slow")}
    with stall_server(tmp) as server:
        bench(server.base_url, paths["first"])
        bench(server.base_url, paths["second"])
    with stall_server(tmp, "--delay-ms", "50") as slow:
        bench(slow.base_url, paths["slow"])
    return paths


@pytest.mark.slow
def test_results_keep_samples_and_environment(results: dict[str, Path]) -> None:
    data = json.loads(results["first"].read_text())
    assert data["schema_version"] == 1
    env = data["environment"]
    assert env["cpu_count"] >= 1
    assert env["python"].count(".") == 2
    assert env["packages"]["locust"].startswith("2.")
    (run,) = data["targets"]["btai"]["scenarios"]["simple"]
    assert run["histograms"]["/api/v1/health/liveness"]["service"]["count"] > 100


@pytest.mark.slow
def test_same_build_compares_unchanged_or_not_significant(results: dict[str, Path]) -> None:
    result = runner.invoke(
        app,
        ["benchmark", "compare", str(results["second"]), str(results["first"]), "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    verdicts = {m["metric"]: m["verdict"] for m in data["metrics"]}
    assert set(verdicts.values()) <= {"unchanged", "not significant"}
    assert {"simple.p50", "simple.p95", "simple.p99", "simple.rps", "rps"} <= set(verdicts)


@pytest.mark.slow
def test_a_server_50ms_slower_is_a_regression(results: dict[str, Path], tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    result = runner.invoke(
        app,
        ["benchmark", "compare", str(results["slow"]), str(results["first"]),
         "--format", "markdown", "--html", str(page)],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "| simple p50 |" in result.output
    assert "🔴 regressed" in result.output
    assert "**Regressed:** simple p50" in result.output
    html = page.read_text()
    assert "<svg" in html
    assert "latency distribution" in html
    for fetch in ("<script", "<link", "src=", "url(", "@import"):  # nothing fetched from anywhere
        assert fetch not in html


@pytest.mark.slow
def test_tolerance_decides_what_counts_as_regressed(results: dict[str, Path]) -> None:
    result = runner.invoke(
        app,
        ["benchmark", "compare", str(results["slow"]), str(results["first"]), "--format", "json",
         "--noise-floor-ms", "100"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def test_report_baseline_compares_values_only(tmp_path: Path) -> None:
    from btai_ops.loadstats.histogram import Histogram
    from btai_ops.loadstats.summary import SCHEMA_VERSION

    hist = Histogram.of([30.0, 31.0, 40.0]).to_dict()
    summary = {
        "schema_version": SCHEMA_VERSION,
        "kind": "btai.loadtest",
        "config": {"scenario": "simple"},
        "total": {"rps": 2000.0, "requests": 3, "failures": 0},
        "timeline": [[1, 1], [2, 1], [3, 1]],
        "histograms": {"/api/v1/health/liveness": {"service": hist, "corrected": hist}},
    }
    path = tmp_path / "lt.json"
    path.write_text(json.dumps(summary))
    result = runner.invoke(app, ["benchmark", "compare", str(path), "--format", "json"])
    assert result.exit_code == 1
    rows = {m["metric"]: m for m in json.loads(result.output)["metrics"]}
    assert rows["simple.p50"]["baseline"] == 25.0
    assert rows["simple.p50"]["verdict"] == "regressed"  # 31 ms against the report's 25 ms
    assert rows["rps"]["verdict"] == "improved"
    assert rows["complex.p50"]["verdict"] == "not measured"
    assert "values only" in rows["simple.p50"]["note"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "not a readable results file"),
        ('{"kind": "btai.loadtest", "schema_version": 99}', "schema_version 99"),
        ('{"kind": "something.else", "schema_version": 1}', "unknown results kind"),
        ('{"kind": "btai.loadtest", "schema_version": 1}', "corrupt btai.loadtest file"),
    ],
)
def test_bad_results_file_is_one_line_naming_it(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "results.json"
    path.write_text(content)
    result = runner.invoke(app, ["benchmark", "compare", str(path)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"Error: {path}: ")
    assert problem in lines[0]


def test_bad_tolerance_and_format_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("{}")
    result = runner.invoke(app, ["benchmark", "compare", str(path), "--tolerance", "p95=10"])
    assert result.exit_code == 2
    assert "--tolerance" in result.output


@pytest.mark.slow
def test_ci_script_serves_loadtests_and_writes_the_comparison(tmp_path: Path) -> None:
    import os
    import subprocess

    from tests.support.loadtest import ROOT
    from tests.support.server import BTAI
    from tests.support.services import free_port

    out = tmp_path / "out"
    summary = tmp_path / "step-summary.md"
    env = {
        **os.environ,
        "BTAI": BTAI,
        "BTAI_CI_PORT": str(free_port()),
        "BTAI_CI_USERS": "2",
        "BTAI_CI_DURATION": "2s",
        "BTAI_CI_THRESHOLDS": "p99<10s fail_ratio<0.5",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/btai.db",
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    result = subprocess.run(
        ["sh", str(ROOT / "benchmarks/ci/run.sh"), str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    loadtest = json.loads((out / "loadtest.json").read_text())
    assert loadtest["total"]["requests"] > 0
    assert [t["passed"] for t in loadtest["thresholds"]] == [True, True]
    markdown = (out / "comparison.md").read_text()
    assert "| simple p50 |" in markdown
    assert summary.read_text() == markdown
    regressed = "**Regressed:**" in markdown
    assert result.returncode == (1 if regressed else 0), result.stdout + result.stderr
    assert (out / "comparison.html").read_text().startswith("<!doctype html>")


@pytest.mark.slow
def test_micro_benchmarks_run_and_save(tmp_path: Path) -> None:
    result = btai("benchmark", "micro", "--storage", str(tmp_path / "saved"), "--max-time", "0.05")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "test_valuation_engine" in result.stdout
    assert list((tmp_path / "saved").rglob("*.json"))
