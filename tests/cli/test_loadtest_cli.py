"""`btai loadtest` end to end: real Locust subprocesses against a real server process."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from btai_ops.cli import app
from tests.support.loadtest import btai, stall_server
from tests.support.services import free_port

runner = CliRunner()

RAW_LOCUSTFILE = """
import os
from locust import constant, events, task
from locust.contrib.fasthttp import FastHttpUser

_out = open(os.environ["RAW_SAMPLES"], "a")

@events.request.add_listener
def _raw(name, response_time, **kwargs):
    _out.write(f"{name} {response_time!r}\\n")
    _out.flush()

class Probe(FastHttpUser):
    wait_time = constant(0.002)

    @task(3)
    def fast(self):
        self.client.get("/fast")

    @task(1)
    def other(self):
        self.client.get("/other")
"""


def nearest_rank(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


@pytest.mark.slow
def test_stalling_server_shows_in_corrected_latency_not_service_time(tmp_path: Path) -> None:
    # 6 s always holds one whole 1 s stall of a 5 s cycle; one user cannot send during it.
    out = tmp_path / "summary.json"
    with stall_server(tmp_path, "--stall-every", "5", "--stall-for", "1") as server:
        result = btai(
            "loadtest", "--host", server.base_url, "--rate", "40", "-u", "1", "-t", "6s",
            "--threshold", "corrected_p95<100ms", "--threshold", "p50<1s",
            "--json", str(out),
        )  # fmt: skip
    assert result.returncode == 1, result.stderr
    summary = json.loads(out.read_text())
    total = summary["total"]
    assert total["corrected_ms"]["p95"] >= 500
    # The stall shows in the corrected figure, not in service time: compared with each other,
    # not with a wall-clock bound that a busy machine could break.
    assert total["latency_ms"]["p95"] * 2 < total["corrected_ms"]["p95"]
    assert total["late"] > 0
    assert summary["passed"] is False
    assert [t["passed"] for t in summary["thresholds"]] == [False, True]
    assert "corrected" in result.stdout
    assert "FAIL" in result.stdout


@pytest.mark.slow
def test_summary_percentiles_equal_raw_samples_and_passing_thresholds_exit_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locustfile = tmp_path / "rawfile.py"
    locustfile.write_text(RAW_LOCUSTFILE)
    raw = tmp_path / "raw.txt"
    out = tmp_path / "summary.json"
    with stall_server(tmp_path, "--delay-ms", "1") as server:
        monkeypatch.setenv("RAW_SAMPLES", str(raw))
        result = btai(
            "loadtest", "--locustfile", str(locustfile), "--host", server.base_url,
            "-u", "4", "-t", "3s", "--threshold", "p99<5s", "--threshold", "fail_ratio<1%",
            "--threshold", "name:/fast requests>10", "--json", str(out),
            "--csv", str(tmp_path / "run"),
        )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(out.read_text())
    assert summary["schema_version"] == 1
    assert summary["passed"] is True
    samples: dict[str, list[float]] = {}
    for line in raw.read_text().splitlines():
        name, value = line.split()
        samples.setdefault(name, []).append(float(value))
    assert set(summary["endpoints"]) == {"/fast", "/other"}
    for name, values in samples.items():
        block = summary["endpoints"][name]
        assert block["requests"] == len(values)
        for key, q in (("p50", 50), ("p90", 90), ("p95", 95), ("p99", 99), ("p99.9", 99.9)):
            assert block["latency_ms"][key] == pytest.approx(nearest_rank(values, q), rel=0.01)
        assert block["latency_ms"]["p99"] <= block["latency_ms"]["max"]
        assert block["latency_ms"]["max"] == pytest.approx(max(values), abs=0.001)
    assert (tmp_path / "run_exact.csv").read_text().startswith("name,kind,requests")
    assert (tmp_path / "run_stats.csv").exists()  # Locust's own


def test_unknown_scenario_lists_the_known_ones() -> None:
    result = runner.invoke(app, ["loadtest", "--scenario", "nope"])
    assert result.exit_code == 2
    assert "unknown scenario 'nope'" in result.output
    assert "simple, complex, database, cache, mixed" in result.output


def test_bad_threshold_shows_expression_and_grammar() -> None:
    result = runner.invoke(app, ["loadtest", "--threshold", "p95 fast"])
    assert result.exit_code == 2
    assert "'p95 fast'" in result.output
    assert "METRIC" in result.output
    assert "p95<50ms" in result.output


def test_unreachable_host_exits_2_before_any_load(tmp_path: Path) -> None:
    out = tmp_path / "summary.json"
    port = free_port()
    result = runner.invoke(
        app, ["loadtest", "--host", f"http://127.0.0.1:{port}", "-t", "2s", "--json", str(out)]
    )
    assert result.exit_code == 2
    assert "unreachable" in result.output
    assert not out.exists()


@pytest.mark.slow
def test_processes_send_every_request_to_the_master_and_share_the_rate(tmp_path: Path) -> None:
    import csv

    with stall_server(tmp_path) as server:
        result = btai(
            "loadtest", "--host", server.base_url, "--processes", "2", "--rate", "50",
            "-u", "4", "-t", "3s", "--json", "-", "--csv", str(tmp_path / "run"),
        )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)  # nothing but the JSON on stdout
    with (tmp_path / "run_stats.csv").open() as handle:
        locust_rows = {row["Name"]: row for row in csv.DictReader(handle)}
    assert summary["total"]["requests"] == int(locust_rows["Aggregated"]["Request Count"])
    assert 0.6 * 150 <= summary["total"]["requests"] <= 1.2 * 150  # 50/s in total, not each
    assert len(summary["generator"]["processes"]) == 3  # the master and two workers


@pytest.mark.slow
def test_workers_join_a_master_with_master_host(tmp_path: Path) -> None:
    import subprocess

    from tests.support.loadtest import ROOT
    from tests.support.server import BTAI

    port = free_port()
    with stall_server(tmp_path) as server:
        master = subprocess.Popen(
            [BTAI, "loadtest", "--host", server.base_url, "--expect-workers", "1",
             "--master-port", str(port), "-u", "2", "-t", "2s", "--json", "-"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        worker = btai("loadtest", "--master-host", "127.0.0.1", "--master-port", str(port))
        out, err = master.communicate(timeout=120)
    assert master.returncode == 0, out + err
    assert worker.returncode == 0, worker.stdout + worker.stderr
    summary = json.loads(out)
    assert summary["config"]["expect_workers"] == 1
    assert summary["total"]["requests"] > 0
