"""The security stack in real `btai serve` processes: a rate limit shared by two workers
through Redis (DB 2), and a 20 MB chunked upload refused without growing the server's memory."""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import pytest

from tests.support.server import run_server
from tests.support.services import flush_redis, redis_url

pytestmark = pytest.mark.slow

LIMIT = 10


@pytest.mark.redis
def test_two_workers_share_the_limit_exactly(tmp_path: Path) -> None:
    url = redis_url()
    flush_redis(url)
    env = {
        "REDIS_URL": url,
        "RATE_LIMIT_REQUESTS": str(LIMIT),
        "RATE_LIMIT_WINDOW": "60",
        "RATE_LIMIT_BURST": "0",
    }
    with run_server(tmp_path, env=env, args=["--workers", "2", "--no-migrate"]) as server:
        pids = set()
        for _ in range(40):  # fresh connections until both workers have answered
            pids.add(httpx.get(f"{server.base_url}/api/v1/health/liveness").json()["pid"])
            if len(pids) == 2:
                break
        assert len(pids) == 2

        def hit(_: int) -> int:
            # A new connection each time, so the kernel spreads them over both workers.
            return httpx.get(f"{server.base_url}/api/v1/auth/me", timeout=10).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            codes = list(pool.map(hit, range(3 * LIMIT)))
    assert codes.count(429) == 2 * LIMIT
    assert codes.count(401) == LIMIT


def _tree_rss(pid: int) -> int:
    root = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])


def _chunked_upload(port: int, total: int, chunk: int = 64 * 1024) -> tuple[bytes, int]:
    """Send a chunked POST of `total` bytes; returns the response head and bytes sent."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sent = 0
    try:
        sock.sendall(
            b"POST /api/v1/auth/register HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        piece = f"{chunk:x}\r\n".encode() + b"x" * chunk + b"\r\n"
        try:
            while sent < total:
                sock.sendall(piece)
                sent += chunk
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed: the rest was never read
        response = b""
        try:
            while b"\r\n\r\n" not in response:
                data = sock.recv(65536)
                if not data:
                    break
                response += data
        except OSError:
            pass
        return response, sent
    finally:
        sock.close()


def test_twenty_megabyte_chunked_upload_is_413_and_memory_stays_flat(tmp_path: Path) -> None:
    env = {"RATE_LIMIT_ENABLED": "false", "MAX_BODY_SIZE": str(1024 * 1024)}
    with run_server(tmp_path, env=env, args=["--workers", "1", "--no-migrate"]) as server:
        pid = server.process.pid
        for _ in range(3):  # warm up the code paths that answer 413
            _chunked_upload(server.port, 2 * 1024 * 1024)
        baseline = _tree_rss(pid)
        peak = baseline
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _tree_rss(pid))
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            head, sent = _chunked_upload(server.port, 20 * 1024 * 1024)
        finally:
            done.set()
            sampler.join()
        peak = max(peak, _tree_rss(pid))
    assert head.startswith(b"HTTP/1.1 413"), head[:200]
    assert b"application/problem+json" in head.lower()
    assert peak - baseline < 5 * 1024 * 1024, (baseline, peak)
    assert sent < 20 * 1024 * 1024  # the server closed the connection instead of reading on


def test_a_stalled_body_is_answered_408_while_other_requests_are_served(tmp_path: Path) -> None:
    env = {"RATE_LIMIT_ENABLED": "false", "BODY_READ_TIMEOUT": "1"}
    with run_server(tmp_path, env=env, args=["--workers", "1"]) as server:
        stalled = [
            socket.create_connection(("127.0.0.1", server.port), timeout=60) for _ in range(3)
        ]
        try:
            for sock in stalled:  # a tenth of the declared body, then nothing
                sock.sendall(
                    b"POST /api/v1/trades/evaluate HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"team_a":'
                )
            # the stalled reads hold nothing up
            assert httpx.get(f"{server.base_url}/api/v1/teams/BOS").status_code == 200
            for sock in stalled:
                response = b""
                while b"\r\n\r\n" not in response:
                    data = sock.recv(65536)
                    if not data:
                        break
                    response += data
                assert response.startswith(b"HTTP/1.1 408"), response[:300]
                assert b"application/problem+json" in response.lower()
        finally:
            for sock in stalled:
                sock.close()
        assert httpx.get(f"{server.base_url}/api/v1/health/liveness").status_code == 200
