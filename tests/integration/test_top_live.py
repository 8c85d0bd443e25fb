"""`btai top` on a pseudo-terminal against a two-worker server under load: it draws the routes
with their rates from every worker, refreshes, and quits on Ctrl-C with exit 0.

Every wait reads the screen until what is expected is drawn, within a deadline scaled by
`BTAI_TEST_TIMEOUT_SCALE` (or the machine's load): a busy machine draws later, not wrongly.
"""

import re
import threading
import time
from pathlib import Path

import httpx
import pexpect
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.server import BTAI, run_server
from tests.support.services import free_port
from tests.support.terminal import Terminal, terminal
from tests.support.timing import scaled

pytestmark = pytest.mark.slow

MISSING_TEAM = "/api/v1/teams/XXX"  # a 404: counted as 4xx/s on the `{team_key}` route
MISSING_TEAM_ROW = re.compile(r"^ *GET /api/v1/teams/\{team_key\} +(\d+\.\d) ", re.M)
TEAMS_ROW = re.compile(r"^ *GET /api/v1/teams +(\d+\.\d) ", re.M)
NOT_FOUND_SENT = 40
INTERVAL = "2"
"""Seconds between refreshes: the first frame stays on screen that long to be read."""


def _load(base_url: str, stop: threading.Event) -> None:
    # Until stopped, bounded in time: a scaled deadline, never an endless loop.
    deadline = time.monotonic() + scaled(180)
    with httpx.Client(base_url=base_url, timeout=scaled(30)) as client:
        while not stop.is_set() and time.monotonic() < deadline:
            client.get("/api/v1/teams")
            client.get(MISSING_TEAM)


def _not_found_counted(base_url: str) -> float:
    """The server's own count of requests to the `{team_key}` route, all workers together."""
    text = httpx.get(f"{base_url}/metrics", timeout=scaled(30)).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "http_requests_total"
        and sample.labels.get("route") == "/api/v1/teams/{team_key}"
    )


def _send_not_found(base_url: str) -> None:
    """NOT_FOUND_SENT 404s, each on a fresh connection so both workers take some; returns
    once the server's metrics count every one of them."""
    for _ in range(NOT_FOUND_SENT):
        assert httpx.get(f"{base_url}{MISSING_TEAM}", timeout=scaled(30)).status_code == 404
    deadline = time.monotonic() + scaled(30)
    while _not_found_counted(base_url) < NOT_FOUND_SENT:
        assert time.monotonic() < deadline, "the server never counted the requests it answered"
        time.sleep(0.05)


def _first_frame_drawn(term: Terminal) -> bool:
    screen = term.text()
    return "since start" in screen and MISSING_TEAM_ROW.search(screen) is not None


def _teams_rate_drawn(term: Terminal) -> bool:
    """A refreshed frame (rates over the last interval) shows GET /api/v1/teams above 0."""
    screen = term.text()
    match = TEAMS_ROW.search(screen)
    return "last " in screen and match is not None and float(match.group(1)) > 0


def test_top_shows_live_rates_across_two_workers_and_quits_on_ctrl_c(tmp_path: Path) -> None:
    env = {"RATE_LIMIT_ENABLED": "false"}
    with run_server(tmp_path, env=env, args=["--workers", "2"], timeout=120) as server:
        _send_not_found(server.base_url)
        stop = threading.Event()
        load = threading.Thread(target=_load, args=(server.base_url, stop), daemon=True)
        with terminal(
            BTAI, "top", server.base_url, "--interval", INTERVAL, columns=120, env={"TERM": "xterm"}
        ) as top:
            try:
                # The first frame counts since the server began: every 404 sent above, whichever
                # worker answered it, and nothing else on that route yet.
                top.wait_for(_first_frame_drawn, timeout=scaled(60))
                row = MISSING_TEAM_ROW.search(top.text())
                assert row is not None, top.text()
                assert float(row.group(1)) == NOT_FOUND_SENT, top.text()
                load.start()
                top.wait_for(_teams_rate_drawn, timeout=scaled(90))
                assert "req/s" in top.text()
                assert "in-flight" in top.text()
                assert "queue depth" in top.text()
                top.interrupt()
                assert top.finish(timeout=scaled(30)) == 0, top.text()
            finally:
                stop.set()
                if load.is_alive():
                    load.join(timeout=scaled(60))


def test_top_json_prints_one_frame_per_refresh(tmp_path: Path) -> None:
    with run_server(tmp_path, env={"RATE_LIMIT_ENABLED": "false"}) as server:
        for _ in range(5):
            httpx.get(f"{server.base_url}/api/v1/teams", timeout=scaled(30))
        output, status = pexpect.run(
            f"{BTAI} top {server.base_url} --interval 0.3 --count 2 --json",
            timeout=scaled(60),
            withexitstatus=True,
        )
        assert status == 0
        frames = [line for line in output.decode().splitlines() if line.startswith("{")]
        assert len(frames) == 2


def test_top_against_nothing_is_one_error_line_exit_3() -> None:
    output, status = pexpect.run(
        f"{BTAI} top http://127.0.0.1:{free_port()}", timeout=scaled(60), withexitstatus=True
    )
    assert status == 3
    assert output.decode().strip().startswith("Error: cannot read")
