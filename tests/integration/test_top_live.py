"""`btai top` on a pseudo-terminal against a two-worker server under load: it draws the routes
with their rates from every worker, refreshes, and quits on Ctrl-C with exit 0."""

import re
import sys
import threading
import time
from pathlib import Path

import httpx
import pexpect
import pytest

from tests.support.server import run_server

pytestmark = pytest.mark.slow

BTAI = str(Path(sys.executable).with_name("btai"))
TEAMS_ROW = re.compile(rb"GET /api/v1/teams +(\d+\.\d)")


def _load(base_url: str, stop: threading.Event) -> None:
    # Bounded in count and time: at most 5,000 requests or until stopped.
    deadline = time.monotonic() + 120
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for _ in range(5_000):
            if stop.is_set() or time.monotonic() > deadline:
                return
            client.get("/api/v1/teams")
            client.get("/api/v1/teams/XXX")  # a 404: counted as 4xx/s


def test_top_shows_live_rates_across_two_workers_and_quits_on_ctrl_c(tmp_path: Path) -> None:
    env = {"RATE_LIMIT_ENABLED": "false"}
    with run_server(tmp_path, env=env, args=["--workers", "2"], timeout=120) as server:
        stop = threading.Event()
        load = threading.Thread(target=_load, args=(server.base_url, stop), daemon=True)
        load.start()
        try:
            top = pexpect.spawn(
                BTAI,
                ["top", server.base_url, "--interval", "0.5"],
                dimensions=(40, 120),
                env={"PATH": "/usr/bin:/bin", "TERM": "xterm", "COLUMNS": "120"},
                timeout=60,
            )
            top.expect(rb"req/s")  # the first frame: counts since the server began
            rates = []
            for _ in range(3):  # later frames: rates over the last interval
                top.expect(rb"last \d+\.\ds")
                top.expect(TEAMS_ROW)
                rates.append(float(top.match.group(1)))
            assert any(rate > 0 for rate in rates), rates
            top.expect(rb"GET /api/v1/teams/\{team_key\}")
            top.sendintr()
            top.expect(pexpect.EOF)
            top.close()
            assert top.exitstatus == 0
        finally:
            stop.set()
            load.join(timeout=60)


def test_top_json_prints_one_frame_per_refresh(tmp_path: Path) -> None:
    with run_server(tmp_path, env={"RATE_LIMIT_ENABLED": "false"}) as server:
        for _ in range(5):
            httpx.get(f"{server.base_url}/api/v1/teams", timeout=30)
        done = pexpect.run(
            f"{BTAI} top {server.base_url} --interval 0.3 --count 2 --json",
            timeout=60,
            withexitstatus=True,
        )
        output, status = done
        assert status == 0
        frames = [line for line in output.decode().splitlines() if line.startswith("{")]
        assert len(frames) == 2


def test_top_against_nothing_is_one_error_line_exit_3(tmp_path: Path) -> None:
    from tests.support.services import free_port

    output, status = pexpect.run(
        f"{BTAI} top http://127.0.0.1:{free_port()}", timeout=60, withexitstatus=True
    )
    assert status == 3
    assert output.decode().strip().startswith("Error: cannot read")
