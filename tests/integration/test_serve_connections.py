"""10,000 concurrent keep-alive connections held open by `btai serve --workers 2`, each answered."""

from __future__ import annotations

import asyncio
import resource
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.support.server import ServerProcess, run_server
from tests.support.timing import scaled

pytestmark = pytest.mark.slow
CONNECTIONS = 10_000
OPENING_AT_ONCE = 500
REQUEST = b"GET /api/v1/health/liveness HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@pytest.fixture
def many_files() -> Iterator[None]:
    """Room for every socket here and in the server, which inherits the raised limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = CONNECTIONS + 1024
    if hard != resource.RLIM_INFINITY and hard < needed:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (needed, needed))
        except (ValueError, OSError):
            pytest.skip(f"RLIMIT_NOFILE hard limit {hard} < {needed} and cannot be raised")
    else:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, needed), hard))
    try:
        yield
    finally:
        resource.setrlimit(
            resource.RLIMIT_NOFILE, (soft, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
        )


async def open_one(port: int, gate: asyncio.Semaphore) -> Stream:
    async with gate:
        for _ in range(20):
            try:
                return await asyncio.open_connection("127.0.0.1", port)
            except OSError:  # a full accept queue refuses; the kernel frees it quickly
                await asyncio.sleep(0.1)
        return await asyncio.open_connection("127.0.0.1", port)


async def ask(stream: Stream) -> int:
    """One keep-alive GET on an already open connection; returns the HTTP status."""
    reader, writer = stream
    writer.write(REQUEST)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(
        int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")
    )
    await reader.readexactly(length)
    assert not any(line.lower() == "connection: close" for line in lines)
    return int(lines[0].split(" ", 2)[1])


def workers_of(server: ServerProcess) -> list[psutil.Process]:
    return [
        child
        for child in psutil.Process(server.process.pid).children(recursive=True)
        if "resource_tracker" not in " ".join(child.cmdline())
    ]


def established(workers: list[psutil.Process], port: int) -> int:
    return sum(
        1
        for worker in workers
        for conn in worker.net_connections(kind="tcp")
        if conn.status == psutil.CONN_ESTABLISHED and conn.laddr.port == port
    )


async def hold_and_ask(server: ServerProcess) -> tuple[int, list[int | BaseException], list[int]]:
    gate = asyncio.Semaphore(OPENING_AT_ONCE)
    streams = await asyncio.gather(*(open_one(server.port, gate) for _ in range(CONNECTIONS)))
    try:
        # The workers accept the last of them a moment after the client sees them open.
        workers = workers_of(server)
        deadline = time.monotonic() + scaled(30)
        held = established(workers, server.port)
        while held < CONNECTIONS and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            held = established(workers, server.port)
        answers = await asyncio.gather(*(ask(s) for s in streams), return_exceptions=True)
        rss = [worker.memory_info().rss for worker in workers]
        return held, answers, rss
    finally:
        for _, writer in streams:
            writer.close()


def test_ten_thousand_keep_alive_connections_are_held_and_answered(
    tmp_path: Path, many_files: None
) -> None:
    env = {"RATE_LIMIT_ENABLED": "false", "ENABLE_AUTH": "false"}
    args = ["--workers", "2", "--backlog", "4096"]
    with run_server(tmp_path, env=env, args=args) as server:
        bounded = asyncio.wait_for(hold_and_ask(server), timeout=scaled(240))
        held, answers, rss = asyncio.run(bounded)
        assert server.process.poll() is None, server.log()
    errors = [a for a in answers if isinstance(a, BaseException)]
    assert errors == [], f"{len(errors)} connections failed, first: {errors[:3]!r}"
    assert answers == [200] * CONNECTIONS
    assert held >= CONNECTIONS
    per_worker = ", ".join(f"{value / 2**20:.0f} MiB" for value in rss)
    print(f"\n{CONNECTIONS} keep-alive connections open: RSS per worker {per_worker}")
