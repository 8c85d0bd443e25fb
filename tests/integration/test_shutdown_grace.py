"""A stop fits in one grace period: in-flight requests and running queue tasks share it."""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from app.db.engine import Database
from app.db.migrate import upgrade
from app.db.tables.queue import QueueTask
from app.services import shutdown
from app.services.queue import TaskQueue
from app.settings import Settings
from tests.integration.test_trades_servers import BASE_ENV, enqueue, query, states, wait_for
from tests.support.server import run_server
from tests.support.timing import scaled


@pytest.fixture(autouse=True)
def fresh_deadline() -> Iterator[None]:
    shutdown.reset()
    yield
    shutdown.reset()


@pytest.fixture
async def queue(tmp_path: Path, make_settings: Callable[..., Settings]) -> AsyncIterator[TaskQueue]:
    url = f"sqlite+aiosqlite:///{tmp_path}/queue.db"
    await upgrade(url)
    settings = make_settings(
        DATABASE_URL=url, QUEUE_POLL_INTERVAL=0.02, QUEUE_MAX_WORKERS=2, GRACEFUL_TIMEOUT=30
    )
    db = Database(settings)
    task_queue = TaskQueue(db, settings, rng=random.Random(7))
    yield task_queue
    await task_queue.shutdown(grace=0)
    await db.dispose()


async def eventually(check: Callable[[], bool], timeout: float = 20) -> None:
    async with asyncio.timeout(scaled(timeout)):
        while not check():
            await asyncio.sleep(0.02)


async def test_queue_stops_claiming_at_the_signal_and_waits_only_for_what_is_left(
    queue: TaskQueue,
) -> None:
    first = await queue.enqueue("queue.sleep", {"seconds": 5})
    await queue.start()
    await eventually(lambda: first in queue._running)
    # the signal arrives while requests still drain: no new claims from here on
    shutdown.begin(0.2)
    await eventually(lambda: not queue.accepting)
    later = await queue.enqueue("queue.sleep", {"seconds": 0})
    # the lifespan's shutdown comes later and gets what is left (not GRACEFUL_TIMEOUT again)
    outcome = await queue.shutdown()
    assert outcome == {"finished": 0, "returned": 1, "leased": 0}
    async with queue.db.sessions() as session:
        rows = (await session.scalars(select(QueueTask).order_by(QueueTask.id))).all()
    assert [(row.id, row.state, row.attempts) for row in rows] == [
        (first, "pending", 0),
        (later, "pending", 0),
    ]


def stall_a_request(base_url: str) -> socket.socket:
    """Open a POST whose body never arrives: the request stays in flight until cut off."""
    host, port = base_url.removeprefix("http://").split(":")
    conn = socket.create_connection((host, int(port)))
    conn.sendall(
        b"POST /api/v1/trades/evaluate HTTP/1.1\r\nHost: test\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
    )
    return conn


@pytest.mark.slow
def test_sigterm_with_a_request_and_a_task_in_flight_stops_within_one_grace(
    seeded_sqlite_url: str, tmp_path: Path
) -> None:
    url = seeded_sqlite_url
    # The task outlasts one grace period but not two: it completes only if the queue is
    # given a second GRACEFUL_TIMEOUT after the in-flight request used up the first.
    env = {**BASE_ENV, "DATABASE_URL": url, "QUEUE_MAX_WORKERS": "1", "GRACEFUL_TIMEOUT": "4"}
    with run_server(tmp_path, env=env) as server:
        stalled = stall_a_request(server.base_url)
        assert httpx.get(f"{server.base_url}/api/v1/health/liveness").status_code == 200
        enqueue(url, "queue.sleep", [{"seconds": 7}])
        wait_for(lambda: states(url).get("running") == 1, what="the task to run")
        assert server.stop(timeout=60) == 0
    stalled.settimeout(5)
    with stalled:
        while stalled.recv(4096):  # the request was cut off when the grace ran out
            pass
    # the stop ran out of grace and handed the task back for another worker, untouched
    assert query(url, select(QueueTask.state, QueueTask.attempts)) == [("pending", 0)]
