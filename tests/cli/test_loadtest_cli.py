"""`btai loadtest` end to end: real Locust subprocesses against a real server process."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from btai_ops.cli import app
from tests.support.loadtest import btai, invalid_only_by_a_busy_generator, stall_server
from tests.support.services import free_port
from tests.support.terminal import terminal

runner = CliRunner()

RAW_LOCUSTFILE = """
import os
from locust import constant, events, task
from locust.contrib.fasthttp import FastHttpUser

_out = open(os.environ["RAW_SAMPLES"], "a")

@events.request.add_listener
def _raw(name, response_time, start_time, **kwargs):
    _out.write(f"{name} {response_time!r} {start_time!r}\\n")
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
            "--output", str(out),
        )  # fmt: skip
    summary = json.loads(out.read_text())
    busy = result.returncode == 2 and invalid_only_by_a_busy_generator(summary)
    assert result.returncode == 1 or busy, result.stdout + result.stderr
    total = summary["total"]
    assert total["corrected_ms"]["p95"] >= 500
    # The stall shows in the corrected figure, not in service time: compared with each other,
    # not with a wall-clock bound that a busy machine could break.
    assert total["latency_ms"]["p95"] * 2 < total["corrected_ms"]["p95"]
    assert total["late"] > 0
    assert summary["passed"] is False
    expressions = [(t["expression"], t["passed"]) for t in summary["thresholds"]]
    assert expressions == [
        ("corrected_p95<100ms", False),
        ("p50<1s", True),
        ("fail_ratio<=1%", True),
    ]
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
            "--threshold", "name:/fast requests>10", "--output", str(out),
            "--csv", str(tmp_path / "run"),
        )  # fmt: skip
    summary = json.loads(out.read_text())
    busy = result.returncode == 2 and invalid_only_by_a_busy_generator(summary)
    assert result.returncode == 0 or busy, result.stdout + result.stderr
    assert summary["schema_version"] == 2
    assert all(t["passed"] for t in summary["thresholds"])
    samples: dict[str, list[float]] = {}
    late = 0
    for line in raw.read_text().splitlines():
        name, value, start = line.split()
        if float(start) + float(value) / 1000 > summary["cutoff"]:
            late += 1  # answered after the stop: in flight, left out of every figure
            continue
        samples.setdefault(name, []).append(float(value))
    assert late == summary["in_flight_excluded"]
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


def test_unreachable_host_exits_3_before_any_load(tmp_path: Path) -> None:
    out = tmp_path / "summary.json"
    port = free_port()
    result = runner.invoke(
        app, ["loadtest", "--host", f"http://127.0.0.1:{port}", "-t", "2s", "--output", str(out)]
    )
    assert result.exit_code == 3
    assert "unreachable" in result.output
    assert not out.exists()


@pytest.mark.slow
def test_processes_send_every_request_to_the_master_and_share_the_rate(tmp_path: Path) -> None:
    import csv

    with stall_server(tmp_path) as server:
        result = btai(
            "loadtest", "--host", server.base_url, "--processes", "2", "--rate", "50",
            "-u", "4", "-t", "3s", "--json", "--csv", str(tmp_path / "run"),
        )  # fmt: skip
    summary = json.loads(result.stdout)  # nothing but the JSON on stdout
    busy = result.returncode == 2 and invalid_only_by_a_busy_generator(summary)
    assert result.returncode == 0 or busy, result.stdout + result.stderr
    with (tmp_path / "run_stats.csv").open() as handle:
        locust_rows = {row["Name"]: row for row in csv.DictReader(handle)}
    reported = summary["total"]["requests"] + summary["in_flight_excluded"]
    assert reported == int(locust_rows["Aggregated"]["Request Count"])
    # 50/s in total over the span the requests were sent in, not 50/s each
    assert summary["total"]["requests"] == pytest.approx(50 * summary["span_s"], rel=0.2)
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
             "--master-port", str(port), "-u", "2", "-t", "2s", "--json"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        worker = btai("loadtest", "--master-host", "127.0.0.1", "--master-port", str(port))
        out, err = master.communicate(timeout=120)
    summary = json.loads(out)
    busy = master.returncode == 2 and invalid_only_by_a_busy_generator(summary)
    assert master.returncode == 0 or busy, out + err
    assert worker.returncode == 0, worker.stdout + worker.stderr
    assert summary["config"]["expect_workers"] == 1
    assert summary["total"]["requests"] > 0


@pytest.mark.slow
def test_a_server_answering_404_fails_the_run_and_the_summary_names_the_404s(
    tmp_path: Path,
) -> None:
    out = tmp_path / "summary.json"
    with stall_server(tmp_path, "--status", "404") as server:
        result = btai(
            "loadtest", "--host", server.base_url, "--rate", "50", "-u", "2", "-t", "3s",
            "--output", str(out),
        )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "HTTP 404" in result.stdout
    assert "100.00% of requests failed" in result.stdout
    assert "FAILED" in result.stdout
    summary = json.loads(out.read_text())
    total = summary["total"]
    assert total["failures"] == total["requests"] > 0
    assert summary["failures"] == [
        {
            "endpoint": "/api/v1/health/liveness",
            "method": "GET",
            "reason": "HTTP 404",
            "count": total["requests"],
        }
    ]
    assert total["latency_ms"] is None  # no success: no success latency
    assert total["failed_latency_ms"]["p50"] > 0
    assert summary["thresholds"][-1]["default"] is True


@pytest.mark.slow
def test_a_server_failing_half_a_percent_passes_and_keeps_failures_apart(
    tmp_path: Path,
) -> None:
    out = tmp_path / "summary.json"
    with stall_server(tmp_path, "--fail-every", "200", "--delay-ms", "1") as server:
        result = btai(
            "loadtest", "--host", server.base_url, "--rate", "250", "-u", "8", "-t", "5s",
            "--output", str(out),
        )  # fmt: skip
    summary = json.loads(out.read_text())
    busy = result.returncode == 2 and invalid_only_by_a_busy_generator(summary)
    assert result.returncode == 0 or busy, result.stdout + result.stderr
    assert all(t["passed"] for t in summary["thresholds"])  # fail_ratio<=1% among them
    total = summary["total"]
    assert total["requests"] >= 600
    assert total["failures"] == pytest.approx(total["requests"] / 200, abs=2)
    assert [(f["reason"], f["count"]) for f in summary["failures"]] == [
        ("HTTP 500", total["failures"])
    ]
    histogram = summary["histograms"]["/api/v1/health/liveness"]
    assert histogram["service"]["count"] == total["requests"] - total["failures"]
    assert histogram["failed"]["count"] == total["failures"]


@pytest.mark.slow
def test_processes_report_what_the_server_counted_over_the_span(tmp_path: Path) -> None:
    from tests.support.loadtest import served

    users = 8
    with stall_server(tmp_path, "--delay-ms", "2") as server:
        result = btai(
            "loadtest", "--host", server.base_url, "--processes", "2", "-u", str(users),
            "-t", "4s", "--json",
        )  # fmt: skip
        counted = served(server)["count"]
    summary = json.loads(result.stdout)
    busy = result.returncode == 2 and invalid_only_by_a_busy_generator(summary)
    assert result.returncode == 0 or busy, result.stdout + result.stderr
    total, excluded = summary["total"]["requests"], summary["in_flight_excluded"]
    # Every request the server saw is counted, or was answered after the stop (left out),
    # or was still in flight when the users stopped (at most one per user).
    assert total + excluded <= counted <= total + excluded + users
    assert summary["total"]["rps"] == pytest.approx(counted / summary["span_s"], rel=0.02)
    assert summary["total"]["rps"] == pytest.approx(total / summary["span_s"], rel=0.001)


def test_two_runs_with_processes_get_their_own_master_ports() -> None:
    from btai_ops.loadstats.runner import LocustRun

    def command(port: int) -> list[str]:
        run = LocustRun(Path("f.py"), [], "http://x", 1, 1.0, 1.0, processes=2, master_port=port)
        return run.command()

    cmd = command(6001)
    assert cmd[cmd.index("--master-bind-port") + 1] == "6001"
    assert cmd[cmd.index("--master-port") + 1] == "6001"
    assert cmd[cmd.index("--master-bind-host") + 1] == "127.0.0.1"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--threshold", "corrected_p99<200ms"], "needs --rate"),
        (["--threshold", "name:/nope p95<20ms"], "which no scenario requests"),
        (["--host", "127.0.0.1:8000"], "http://127.0.0.1:8000"),
    ],
)
def test_impossible_thresholds_and_a_host_without_scheme_exit_2_before_any_load(
    argv: list[str], message: str
) -> None:
    result = runner.invoke(app, ["loadtest", "-t", "1s", *argv])
    assert result.exit_code == 2
    assert message in result.output
    assert "unreachable" not in result.output  # refused before even probing the host


@pytest.mark.slow
def test_loadtest_on_a_terminal_shows_the_live_line_then_the_summary(tmp_path: Path) -> None:
    with (
        stall_server(tmp_path) as server,
        terminal(
            "btai", "loadtest", "--host", server.base_url, "-t", "5s", "--rate", "50", "-u", "2"
        ) as term,
    ):
        term.wait_for(lambda t: "/5s" in t.text(), timeout=90)
        live = term.text()
        code = term.finish(timeout=90)
    assert "req/s" in live
    assert "generator CPU" in live
    assert code in (0, 2), term.text()  # 2 only when a busy machine starved the generator
    assert "Load test (latencies in ms)" in term.text()
    assert "requests in" in term.text()
    assert "Traceback" not in term.output


@pytest.mark.slow
def test_ctrl_c_stops_the_load_prints_the_summary_marked_interrupted_and_writes_outputs(
    tmp_path: Path,
) -> None:
    out = tmp_path / "summary.json"
    with stall_server(tmp_path) as server, terminal(
        "btai", "loadtest", "--host", server.base_url, "-t", "120s", "--rate", "50", "-u", "2",
        "--output", str(out), "--csv", str(tmp_path / "run"),
    ) as term:  # fmt: skip
        term.wait_for(lambda t: "/120s" in t.text(), timeout=90)
        term.interrupt()
        code = term.finish(timeout=90)
    assert code == 130, term.text()
    assert "INTERRUPTED" in term.text()
    summary = json.loads(out.read_text())
    assert summary["state"] == "interrupted"
    assert summary["valid"] is False
    assert summary["total"]["requests"] > 0
    assert (tmp_path / "run_exact.csv").exists()
    assert "Traceback" not in term.output
