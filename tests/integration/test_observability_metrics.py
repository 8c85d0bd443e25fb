"""`/metrics`: the exposition parses, passes promtool, and sums several workers correctly."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from app.main import create_app
from app.monitoring.request_stats import FLUSH_INTERVAL
from app.server.metrics_dir import prepare_multiprocess_dir
from app.settings import Settings
from tests.support.server import run_server
from tests.support.timing import scaled
from tests.support.tools import promtool


async def scrape(app: FastAPI, path: str = "/metrics") -> httpx.Response:
    """The app started as a server starts it (its lifespan opens what /metrics reads)."""
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        await client.get("/api/v1/health/liveness")
        await client.get("/api/v1/no-such-route")
        return await client.get(path)


def counter_value(text: str, route: str, status: str = "200") -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if (
                s.name == "http_requests_total"
                and s.labels.get("route") == route
                and s.labels.get("status") == status
            ):
                total += s.value
    return total


@pytest.mark.parametrize("path", ["/metrics", "/metrics/prometheus"])
async def test_metrics_parse_with_prometheus_parser(
    make_settings: Callable[..., Settings], path: str
) -> None:
    response = await scrape(create_app(make_settings()), path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    for name in (
        "http_requests",
        "http_request_duration_seconds",
        "http_requests_in_progress",
        "trade_analyses",
        "queue_depth",
        "auth_events",
        "rate_limit_rejections",
        "cache_requests",
        "db_pool_connections_in_use",
    ):
        assert name in families, name
    assert counter_value(response.text, "/api/v1/health/liveness") >= 1
    assert counter_value(response.text, "unmatched", "404") >= 1


async def test_promtool_finds_no_problem(make_settings: Callable[..., Settings]) -> None:
    response = await scrape(create_app(make_settings()))
    result = subprocess.run(
        [promtool(), "check", "metrics"],
        input=response.content,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == b""
    assert result.stderr.strip() == b""


def test_prepare_multiprocess_dir_removes_stale_files(tmp_path: Path) -> None:
    directory = tmp_path / "prom"
    directory.mkdir()
    (directory / "counter_123.db").write_bytes(b"stale")
    (directory / "keep.txt").write_text("not a metric file")
    assert prepare_multiprocess_dir(directory) == directory
    assert sorted(p.name for p in directory.iterdir()) == ["keep.txt"]
    assert prepare_multiprocess_dir(tmp_path / "new" / "dir").is_dir()


@pytest.mark.slow
def test_two_workers_count_exactly_the_requests_sent(tmp_path: Path) -> None:
    # `btai serve` sets up the shared metrics directory itself.
    env = {
        "ENVIRONMENT": "development",
        "HEALTH_MONITOR_INTERVAL": "0",
        "RATE_LIMIT_ENABLED": "false",
    }
    sent = 60
    with (
        run_server(tmp_path, env=env, args=["--workers", "2"]) as server,
        httpx.Client(base_url=server.base_url, timeout=10) as client,
    ):
        before = counter_value(client.get("/metrics").text, "/api/v1/system/metrics")
        pids = set()
        for _ in range(sent):
            # A new connection each time, so both workers get a share.
            response = httpx.get(f"{server.base_url}/api/v1/system/metrics", timeout=10)
            assert response.status_code == 200
            pids.add(response.json()["pid"])
        # Each worker pushes its figures within FLUSH_INTERVAL of its last request.
        deadline = time.monotonic() + scaled(10)
        after = before
        while after - before < sent and time.monotonic() < deadline:
            time.sleep(0.1)
            after = counter_value(client.get("/metrics").text, "/api/v1/system/metrics")
        time.sleep(FLUSH_INTERVAL * 2)
        settled = counter_value(client.get("/metrics").text, "/api/v1/system/metrics")
    assert after - before == sent
    assert settled == after
    assert len(pids) == 2, "both workers should have served requests"
