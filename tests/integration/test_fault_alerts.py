"""One alert event is one webhook call, whatever the number of workers and replicas."""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.support.observability import Receiver
from tests.support.server import ServerProcess, run_server
from tests.support.services import free_port
from tests.support.timing import scaled

pytestmark = [pytest.mark.slow]
INTERVAL = 0.5


def raised_lines(servers: list[ServerProcess]) -> int:
    return sum(s.log().count("alert raised: external:reachability") for s in servers)


def wait_for(check: object, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + scaled(timeout)
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def serve_with_a_failing_check(
    tmp_path: Path, receiver: Receiver, layout: list[str], database: str | None
) -> list[dict[str, Any]]:
    env = {
        "ALERT_WEBHOOK_URL": receiver.url,
        "EXTERNAL_SERVICES": f"http://127.0.0.1:{free_port()}/",
        "HEALTH_MONITOR_INTERVAL": str(INTERVAL),
        "HEALTH_CACHE_SECONDS": "0",
        "RATE_LIMIT_ENABLED": "false",
        "LOG_LEVEL": "INFO",
    }
    if database is not None:
        env["DATABASE_URL"] = database
    processes = sum(int(workers) for workers in layout)
    with ExitStack() as stack:
        servers = []
        for n, workers in enumerate(layout):
            folder = tmp_path / f"server-{n}"
            folder.mkdir()
            if database is None:  # the servers of one SQLite database share its folder
                env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path}/btai.db"
            servers.append(stack.enter_context(run_server(folder, env, ["--workers", workers])))
        # Every worker saw the failure and raised the alert in its own memory ...
        wait_for(lambda: raised_lines(servers) >= processes, "every worker to raise the alert")
        wait_for(lambda: raised_for_the_failing_check(receiver.received) >= 1, "the webhook call")
        # ... and a duplicate would be sent at the same moment: allow it time to arrive.
        until = time.monotonic() + scaled(4 * INTERVAL)
        while time.monotonic() < until and raised_for_the_failing_check(receiver.received) < 2:
            time.sleep(0.1)
    return list(receiver.received)


def raised_for_the_failing_check(events: list[dict[str, Any]]) -> int:
    # A busy machine may also warn on CPU; only the check made to fail is counted.
    return sum(
        1
        for e in events
        if e["event"] == "raised" and e["alert"]["check"] == "external:reachability"
    )


def test_two_workers_one_failing_check_send_one_raised_event(tmp_path: Path) -> None:
    with Receiver().running() as receiver:
        events = serve_with_a_failing_check(tmp_path, receiver, ["2"], None)
    assert raised_for_the_failing_check(events) == 1, events


@pytest.mark.postgres
def test_two_replicas_on_one_postgres_send_one_raised_event(
    tmp_path: Path, seeded_pg_url: str
) -> None:
    with Receiver().running() as receiver:
        events = serve_with_a_failing_check(tmp_path, receiver, ["1", "1"], seeded_pg_url)
    assert raised_for_the_failing_check(events) == 1, events
