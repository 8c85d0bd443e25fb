"""The access line: one complete JSON object per response, written in batches."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from app.middleware.access_log import AccessLog
from app.middleware.edge import EdgeMiddleware
from app.middleware.request_context import RequestIds


@pytest.fixture
def info_level() -> Iterator[None]:
    logger = logging.getLogger("app.access")
    saved = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.setLevel(saved)


def tiny_app() -> FastAPI:
    app = FastAPI()

    @app.get("/teams/{team_key}")
    async def team(team_key: str) -> dict[str, str]:
        return {"team_key": team_key}

    return app


async def test_every_response_writes_one_json_access_line_with_route_status_and_ids(
    info_level: None,
) -> None:
    stream = io.StringIO()
    access = AccessLog(stream=stream)
    edge = EdgeMiddleware(tiny_app(), context=RequestIds(), access=access)
    transport = httpx.ASGITransport(app=edge)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        ok = await client.get("/teams/NYA", headers={"X-Request-ID": "req-1"})
        missing = await client.get("/nowhere")
    assert stream.getvalue() == ""  # written with the next lines, not one write per request
    access.flush()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 2
    first, second = lines
    assert first["message"] == "GET /teams/NYA 200"
    assert first["route"] == "/teams/{team_key}"
    assert first["status"] == ok.status_code == 200
    assert first["method"] == "GET"
    assert first["request_id"] == "req-1"
    assert first["trace_id"] == ok.headers["traceparent"].split("-")[1]
    assert first["duration_ms"] >= 0
    assert first["level"] == "INFO"
    assert first["logger"] == "app.access"
    assert first["timestamp"].endswith("+00:00")
    assert second["status"] == missing.status_code == 404
    assert second["route"] == "unmatched"
    assert second["request_id"] == missing.headers["x-request-id"]


async def test_lines_beyond_the_batch_size_are_written_at_once(info_level: None) -> None:
    stream = io.StringIO()
    access = AccessLog(stream=stream)
    scope = {"method": "GET", "path": "/x" * 2000, "headers": [], "state": {}}
    for _ in range(20):  # about 4 kB each: past 64 kB the batch goes out without a loop timer
        access.write(scope, "", 200, 1_000_000)
    written = stream.getvalue().splitlines()
    assert 10 <= len(written) < 20
    assert all(json.loads(line)["duration_ms"] == 1.0 for line in written)
    access.flush()
    assert len(stream.getvalue().splitlines()) == 20
