"""Oversized and malformed request heads against real `btai serve` processes (uvicorn and
granian): refused with 431 or 400, and the worker's memory does not grow."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from tests.security.conftest import SERVER_START_SECONDS
from tests.support.server import ServerProcess, run_server

pytestmark = pytest.mark.slow

MB = 1024 * 1024


def tree_rss(pid: int) -> int:
    root = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])


def exchange(port: int, head: bytes, chunk: int = 64 * 1024) -> bytes:
    """Send `head` in pieces as a client would, then read the answer's status line and
    headers; a server that refuses early may close before everything was sent."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    try:
        try:
            for start in range(0, len(head), chunk):
                sock.sendall(head[start : start + chunk])
        except OSError:
            pass  # closed after answering: the rest was never read
        answer = b""
        try:
            while b"\r\n\r\n" not in answer:
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
        except OSError:
            pass
        return answer
    finally:
        sock.close()


def big_header() -> bytes:
    return (
        b"GET /api/v1/teams HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: "
        + b"a" * (64 * 1024)
        + b"\r\n\r\n"
    )


def many_headers() -> bytes:
    fields = b"".join(b"X-Field-%d: v\r\n" % n for n in range(200))
    return b"GET /api/v1/teams HTTP/1.1\r\nHost: 127.0.0.1\r\n" + fields + b"\r\n"


def long_request_line() -> bytes:
    return b"GET /api/v1/teams?q=" + b"a" * (8 * 1024) + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def huge_header() -> bytes:
    # The 64 MB header that once grew a worker by 120 MB.
    return b"GET /api/v1/teams HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Huge: " + b"a" * (64 * MB)


HOSTILE_HEADS: dict[str, Callable[[], bytes]] = {
    "64 KB header": big_header,
    "200 headers": many_headers,
    "8 KB request line": long_request_line,
    "64 MB header": huge_header,
}


@pytest.fixture(scope="module", params=["uvicorn", "granian"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    tmp_path: Path = tmp_path_factory.mktemp(f"limits-{request.param}")
    env = {"RATE_LIMIT_ENABLED": "false", "SERVER": str(request.param)}
    with run_server(
        tmp_path, env=env, args=["--workers", "1"], timeout=SERVER_START_SECONDS
    ) as running:
        yield running


@pytest.mark.parametrize("name", list(HOSTILE_HEADS))
def test_an_oversized_head_is_refused_without_growing_the_worker(
    server: ServerProcess, name: str
) -> None:
    head = HOSTILE_HEADS[name]()
    exchange(server.port, b"GET /api/v1/health/liveness HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    exchange(server.port, head)  # warm up the refusal path once
    pid = server.process.pid
    baseline = peak = tree_rss(pid)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.005):  # paces the sampler; nothing waits on it
            peak = max(peak, tree_rss(pid))

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        answers = [exchange(server.port, head) for _ in range(3)]
    finally:
        done.set()
        sampler.join()
    grown = max(peak, tree_rss(pid)) - baseline
    for answer in answers:
        status = answer.split(b" ", 2)[1] if answer.startswith(b"HTTP/1.1 ") else b""
        assert status in (b"431", b"400"), answer[:300]
    assert grown < 5 * MB, (name, baseline, grown)
    # The server is still there for everyone else.
    ok = exchange(server.port, b"GET /api/v1/health/liveness HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert ok.startswith(b"HTTP/1.1 200"), ok[:200]


def test_a_head_just_inside_the_limits_is_served(server: ServerProcess) -> None:
    fields = b"".join(b"X-Field-%d: %s\r\n" % (n, b"v" * 100) for n in range(40))
    head = b"GET /api/v1/health/liveness HTTP/1.1\r\nHost: 127.0.0.1\r\n" + fields + b"\r\n"
    assert exchange(server.port, head).startswith(b"HTTP/1.1 200")


def read_answers(sock: socket.socket, count: int) -> bytes:
    """Read until `count` complete liveness answers arrived (or the server closed)."""
    answer = b""
    while answer.count(b"HTTP/1.1 200") < count or not answer.endswith(b"}"):
        data = sock.recv(65536)
        if not data:
            break
        answer += data
    return answer


def test_pipelined_and_later_requests_on_one_connection_are_all_answered(
    server: ServerProcess,
) -> None:
    """A worker lets go of each finished request; the connection keeps serving, in order."""
    request = b"GET /api/v1/health/liveness HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=60)
    try:
        sock.sendall(request * 3)
        assert read_answers(sock, 3).count(b"HTTP/1.1 200") == 3
        # Then a head in two pieces, after the worker has let go of the last request.
        sock.sendall(request[:20])
        sock.sendall(request[20:])
        assert read_answers(sock, 1).count(b"HTTP/1.1 200") == 1
    finally:
        sock.close()
