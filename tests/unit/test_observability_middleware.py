"""Request context, performance metrics, problem responses and logs, on tiny inline apps."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from prometheus_client import REGISTRY
from starlette.types import Receive, Scope, Send

from app.logging_config import configure_logging
from app.main import create_app
from app.middleware.access_log import AccessLog
from app.middleware.metrics import PerformanceMiddleware
from app.middleware.request_context import RequestContextMiddleware, current_request
from app.monitoring.request_stats import RequestStats
from app.monitoring.window import RequestWindow
from app.settings import Settings

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


def client(app: Any) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def echo_context(scope: Scope, receive: Receive, send: Send) -> None:
    ctx = current_request.get()
    assert ctx is not None
    body = json.dumps({"state": scope["state"]["request_id"], "ctx": ctx.request_id}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


async def test_valid_request_id_is_kept_and_shared() -> None:
    async with client(RequestContextMiddleware(echo_context)) as c:
        response = await c.get("/", headers={"X-Request-ID": "abc-123.X_y"})
    assert response.headers["x-request-id"] == "abc-123.X_y"
    assert response.json() == {"state": "abc-123.X_y", "ctx": "abc-123.X_y"}


@pytest.mark.parametrize("bad", ["x" * 129, "has space", "semi;colon", ""])
async def test_invalid_request_id_is_replaced_never_echoed(bad: str) -> None:
    async with client(RequestContextMiddleware(echo_context)) as c:
        response = await c.get("/", headers={"X-Request-ID": bad})
    rid = response.headers["x-request-id"]
    assert rid != bad
    assert len(rid) == 32
    assert response.json()["ctx"] == rid


async def test_valid_traceparent_is_continued_with_a_new_span() -> None:
    incoming = f"00-{TRACE_ID}-{PARENT_ID}-01"
    async with client(RequestContextMiddleware(echo_context)) as c:
        response = await c.get("/", headers={"traceparent": incoming})
    version, trace_id, span_id, flags = response.headers["traceparent"].split("-")
    assert (version, trace_id, flags) == ("00", TRACE_ID, "01")
    assert span_id != PARENT_ID
    assert len(span_id) == 16


@pytest.mark.parametrize(
    "bad",
    [
        "garbage",
        f"00-{'0' * 32}-{PARENT_ID}-01",
        f"00-{TRACE_ID}-{'0' * 16}-01",
        f"ff-{TRACE_ID}-{PARENT_ID}-01",
        f"00-{TRACE_ID.upper()}-{PARENT_ID}-01",
    ],
)
async def test_malformed_traceparent_starts_a_new_trace(bad: str) -> None:
    async with client(RequestContextMiddleware(echo_context)) as c:
        response = await c.get("/", headers={"traceparent": bad})
    returned = response.headers["traceparent"]
    assert returned != bad
    assert TRACE_ID not in returned
    assert returned.startswith("00-")


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def tiny_app() -> FastAPI:
    app = FastAPI()
    teams = APIRouter(prefix="/v1/teams")

    @teams.get("/{key}")
    async def team(key: str) -> dict[str, str]:
        return {"key": key}

    app.include_router(teams)
    return app


async def test_requests_are_labelled_by_route_template_not_raw_path() -> None:
    window = RequestWindow()
    stats = RequestStats(window)
    app = PerformanceMiddleware(tiny_app(), slow_threshold=10.0, stats=stats)
    labels = {"method": "GET", "route": "/v1/teams/{key}", "status": "200"}
    before = sample("http_requests_total", **labels)
    unmatched = sample("http_requests_total", method="GET", route="unmatched", status="404")
    async with client(app) as c:
        for key in ("NYA", "BOS", "SEA"):
            assert (await c.get(f"/v1/teams/{key}")).status_code == 200
        await c.get("/v1/nothing/here")
    assert sample("http_requests_total", **labels) == before  # counted, not yet pushed
    stats.flush()
    assert sample("http_requests_total", **labels) == before + 3
    assert sample("http_requests_total", method="GET", route="unmatched", status="404") == (
        unmatched + 1
    )
    assert sample("http_requests_total", method="GET", route="/v1/teams/NYA", status="200") == 0
    assert sample("http_requests_in_progress") == 0
    rows = {row["route"]: row for row in window.snapshot()}
    assert rows["/v1/teams/{key}"]["requests"] == 3
    assert rows["/v1/teams/{key}"]["p50_ms"] <= rows["/v1/teams/{key}"]["p99_ms"]


async def test_pending_figures_reach_prometheus_without_a_scrape() -> None:
    stats = RequestStats()
    app = PerformanceMiddleware(tiny_app(), slow_threshold=10.0, stats=stats)
    labels = {"method": "GET", "route": "/v1/teams/{key}", "status": "200"}
    before = sample("http_requests_total", **labels)
    async with client(app) as c:
        await c.get("/v1/teams/NYA")
    for _ in range(100):  # the flush timer fires FLUSH_INTERVAL after the request
        if sample("http_requests_total", **labels) > before:
            break
        await asyncio.sleep(0.05)
    assert sample("http_requests_total", **labels) == before + 1
    count = sample("http_request_duration_seconds_count", method="GET", route="/v1/teams/{key}")
    assert count >= 1


async def test_unknown_methods_do_not_mint_label_values() -> None:
    stats = RequestStats()
    app = PerformanceMiddleware(tiny_app(), slow_threshold=10.0, stats=stats)
    before = sample("http_requests_total", method="OTHER", route="/v1/teams/{key}", status="405")
    async with client(app) as c:
        await c.request("BREW", "/v1/teams/NYA")
    stats.flush()
    after = sample("http_requests_total", method="OTHER", route="/v1/teams/{key}", status="405")
    assert after == before + 1


async def test_slow_request_is_logged_with_route_status_and_duration(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = PerformanceMiddleware(tiny_app(), slow_threshold=1e-9, stats=RequestStats())
    with caplog.at_level(logging.WARNING, logger="app.requests"):
        async with client(app) as c:
            await c.get("/v1/teams/NYA")
    record = next(r for r in caplog.records if r.name == "app.requests")
    assert record.route == "/v1/teams/{key}"  # type: ignore[attr-defined]
    assert record.status == 200  # type: ignore[attr-defined]
    assert record.duration_ms > 0  # type: ignore[attr-defined]


def failing_app(settings: Settings) -> FastAPI:
    app = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    @app.get("/typed/{n}")
    async def typed(n: int) -> dict[str, int]:
        return {"n": n}

    return app


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/nope", 404),
        ("POST", "/api/v1/health/liveness", 405),
        ("GET", "/typed/x", 422),
        ("GET", "/boom", 500),
    ],
)
async def test_every_error_is_problem_json_with_the_request_id(
    make_settings: Callable[..., Settings], method: str, path: str, status: int
) -> None:
    app = failing_app(make_settings(ENVIRONMENT="staging", JWT_SECRET_KEY="k" * 40))
    async with client(app) as c:
        response = await c.request(method, path, headers={"X-Request-ID": "req-1"})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "req-1"
    body = response.json()
    assert body["request_id"] == "req-1"
    assert "secret internals" not in response.text


async def test_unhandled_exception_is_logged_with_traceback_and_request_id(
    make_settings: Callable[..., Settings],
) -> None:
    stream = io.StringIO()
    app = failing_app(make_settings(ENVIRONMENT="staging", JWT_SECRET_KEY="k" * 40))
    handler = configure_logging(app.state.parts.settings, stream)
    try:
        async with client(app) as c:
            await c.get("/boom", headers={"X-Request-ID": "req-boom"})
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    error = next(line for line in lines if line["level"] == "ERROR")
    assert error["request_id"] == "req-boom"
    assert len(error["trace_id"]) == 32
    assert "RuntimeError: secret internals" in error["exception"]
    assert {"timestamp", "logger", "message"} <= error.keys()


async def test_development_logs_are_readable_lines(make_settings: Callable[..., Settings]) -> None:
    stream = io.StringIO()
    handler = configure_logging(make_settings(), stream)
    try:
        logging.getLogger("app.test").warning("hello %s", "there", extra={"route": "/x"})
    finally:
        logging.getLogger().removeHandler(handler)
    line = stream.getvalue().strip()
    assert "WARNING" in line
    assert "hello there" in line
    assert "route=/x" in line
    assert not line.startswith("{")


async def test_switches_turn_tracing_and_metrics_off(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(ENABLE_REQUEST_TRACING=False, ENABLE_PERFORMANCE_MONITORING=False)
    app = create_app(settings)
    labels = {"method": "GET", "route": "/api/v1/health/liveness", "status": "200"}
    before = sample("http_requests_total", **labels)
    async with client(app) as c:
        live = await c.get("/api/v1/health/liveness")
        missing = await c.get("/nope")
        system = (await c.get("/api/v1/system/metrics")).json()
    assert "x-request-id" not in live.headers
    assert "traceparent" not in live.headers
    assert sample("http_requests_total", **labels) == before
    assert system["performance_monitoring"] is False
    # Problem responses still name the request even with tracing off.
    assert len(missing.json()["request_id"]) == 32


@pytest.mark.parametrize(
    ("switch", "gone"),
    [
        (None, set()),
        ("ENABLE_REQUEST_TRACING", {"x-request-id", "traceparent"}),
        ("ENABLE_SECURITY_MIDDLEWARE", {"x-content-type-options", "content-security-policy"}),
        ("ENABLE_PERFORMANCE_MONITORING", set()),
    ],
)
async def test_each_part_of_the_edge_layer_switches_off_alone(
    make_settings: Callable[..., Settings], switch: str | None, gone: set[str]
) -> None:
    app = create_app(make_settings(**({switch: False} if switch else {})))
    route = "unmatched"
    before = sample("http_requests_total", method="GET", route=route, status="404")
    async with client(app) as c:
        response = await c.get("/api/v1/no-such-route")
    names = {"x-request-id", "traceparent", "x-content-type-options", "content-security-policy"}
    assert response.status_code == 404
    assert {name for name in names if name in response.headers} == names - gone
    # The app's own headers come first, then the security headers, then the request's ids.
    expected = [
        k for k in ("content-type", "x-content-type-options", "x-request-id") if k not in gone
    ]
    assert [k for k in response.headers if k in expected] == expected
    if "x-content-type-options" in expected:
        assert response.headers["cache-control"] == "no-store"
    counted = app.state.parts.request_stats
    if counted is not None:
        counted.flush()
    after = sample("http_requests_total", method="GET", route=route, status="404")
    assert after == before + (0 if switch == "ENABLE_PERFORMANCE_MONITORING" else 1)


async def test_system_metrics_reports_routes_of_the_last_minute(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings())
    async with client(app) as c:
        for _ in range(5):
            await c.get("/api/v1/health/liveness")
        body = (await c.get("/api/v1/system/metrics")).json()
    row = next(r for r in body["routes"] if r["route"] == "/api/v1/health/liveness")
    assert row["requests"] == 5
    assert row["rps"] > 0
    assert 0 < row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"] <= row["max_ms"]
    assert body["pid"] > 0
    assert body["uptime_seconds"] >= 0


async def test_batched_histograms_match_direct_observation() -> None:
    """Durations counted in a batch land in the same `le` buckets as one observe() each."""
    from prometheus_client import CollectorRegistry, Histogram

    from app.monitoring.metrics import LATENCY_BUCKETS

    durations = [0.0005, 0.001, 0.001, 0.0025, 0.003, 0.1, 0.1000001, 7.5, 12.0, 0.001]
    registry = CollectorRegistry()
    reference = Histogram("ref", "", buckets=LATENCY_BUCKETS, registry=registry)
    for value in durations:
        reference.observe(value)
    window = RequestWindow()
    stats = RequestStats(window)
    route = stats.route("GET", "/batched/{id}")
    for value in durations:
        stats.record(route, 200, value, None, 10)
    stats.flush()

    def buckets(source: Any, name: str) -> dict[str, float]:
        return {
            s.labels["le"]: s.value
            for metric in source.collect()
            for s in metric.samples
            if s.name == name and s.labels.get("route", "/batched/{id}") == "/batched/{id}"
        }

    expected = buckets(registry, "ref_bucket")
    assert expected["0.001"] == 4
    assert expected["+Inf"] == len(durations)
    assert buckets(REGISTRY, "http_request_duration_seconds_bucket") == expected
    total = sample("http_request_duration_seconds_sum", method="GET", route="/batched/{id}")
    assert total == pytest.approx(sum(durations))
    row = next(r for r in window.snapshot() if r["route"] == "/batched/{id}")
    assert row["requests"] == len(durations)
    assert row["max_ms"] == 12000.0


@pytest.mark.parametrize(("level", "logged"), [("INFO", True), ("WARNING", False)])
def test_access_lines_are_only_formatted_when_they_are_written(level: str, logged: bool) -> None:
    """uvicorn builds an access line whenever its access logger has handlers: it gets none,
    the edge layer writes the access line, and only at INFO or below."""
    access = logging.getLogger("uvicorn.access")
    root = logging.getLogger()
    saved = (access.propagate, access.level, root.level, list(root.handlers))
    try:
        configure_logging(Settings(_env_file=None, LOG_LEVEL=level), stream=io.StringIO())
        assert access.hasHandlers() is False
        assert AccessLog.enabled() is logged
    finally:
        access.propagate, access.level = saved[0], saved[1]
        root.setLevel(saved[2])
        root.handlers[:] = saved[3]
