"""PostgreSQL cut under a steady load: failing requests answer 503 problem+json with
Retry-After, cached reads still answer, no keep-alive connection breaks, one log line each."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.support.server import run_server
from tests.support.services import PG_HOST, PG_PORT
from tests.support.tcp_proxy import tcp_proxy
from tests.support.timing import scaled

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
CACHED = ("/api/v1/teams/BOS", "/api/v1/players/troutmi01")
RECENT = "/api/v1/trades/recent"
ANALYZE = "/api/v1/trades/analyze"
REQUEST = {"team": "NYA", "request": "we need a shortstop who can hit"}
ROUNDS = 15
ENV = {
    "RATE_LIMIT_ENABLED": "false",
    "API_WORKERS": "1",
    "HEALTH_MONITOR_INTERVAL": "0",
    "DB_CONNECT_TIMEOUT": "2",
    "DB_POOL_TIMEOUT": "2",
    "LOG_LEVEL": "INFO",
}


def test_database_cut_under_load_answers_503_and_keeps_connections(
    seeded_pg_url: str, tmp_path: Path
) -> None:
    with tcp_proxy((PG_HOST, PG_PORT)) as proxy:
        url = seeded_pg_url.replace(f"{PG_HOST}:{PG_PORT}/", f"{proxy.address}/")
        with run_server(tmp_path, env={**ENV, "DATABASE_URL": url}, args=["--no-migrate"]) as s:
            # One connection for the whole run: any error the server closed it on would
            # break the requests after it, which this client would see as transport errors.
            limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
            with httpx.Client(base_url=s.base_url, limits=limits, timeout=scaled(30)) as client:
                assert all(client.get(path).status_code == 200 for path in CACHED)  # now cached
                assert client.get(RECENT).status_code == 200
                proxy.cut()
                answers: list[httpx.Response] = []
                deadline = time.monotonic() + scaled(120)
                for _ in range(ROUNDS):
                    answers += [client.get(path) for path in CACHED]
                    answers.append(client.get(RECENT))
                    answers.append(client.post(ANALYZE, json=REQUEST))
                    assert time.monotonic() < deadline, "the load did not finish in time"
                proxy.pass_through()
                recovered = [
                    client.get(RECENT).status_code,
                    client.post(ANALYZE, json=REQUEST).status_code,
                ]
            log = s.log()
    cached = [a for a in answers if a.request.url.path in CACHED]
    failing = [a for a in answers if a.request.url.path not in CACHED]
    assert {a.status_code for a in cached} == {200}
    assert {a.status_code for a in failing} == {503}
    for answer in failing:
        assert answer.headers["content-type"] == "application/problem+json"
        assert int(answer.headers["retry-after"]) > 0
        assert answer.json()["type"].endswith("/database-unavailable")
        assert answer.headers.get("connection", "keep-alive") == "keep-alive"
    assert recovered == [200, 202]
    # One line per failure, each naming its request; no tracebacks.
    ids = [a.json()["request_id"] for a in failing]
    lines = [line for line in log.splitlines() if "database unavailable on" in line]
    assert len(lines) == len(failing)
    assert all(any(rid in line for line in lines) for rid in ids)
    assert "Traceback" not in log
