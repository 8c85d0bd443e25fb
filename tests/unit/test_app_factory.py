import asyncio
import json
import os
from collections.abc import Callable

import httpx

from app.api import health
from app.main import create_app
from app.settings import Settings


async def _get(app: object, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(path)


async def test_liveness_is_health_json(make_settings: Callable[..., Settings]) -> None:
    response = await _get(create_app(make_settings()), "/api/v1/health/liveness")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/health+json"
    body = response.json()
    assert body["status"] == "pass"
    assert body["version"]
    assert body["uptime_seconds"] >= 0
    assert body["pid"] == os.getpid()
    assert response.headers["cache-control"] == "no-store"


def test_liveness_names_the_process_that_answers_after_a_fork() -> None:
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child answers with the pid its liveness reports
        os.close(read)
        response = asyncio.run(health.liveness())
        os.write(write, bytes(response.body))
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        reported = json.loads(pipe.read())["pid"]
    os.waitpid(child, 0)
    assert reported == child


async def test_unknown_path_is_problem_json(make_settings: Callable[..., Settings]) -> None:
    response = await _get(create_app(make_settings()), "/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404
    assert response.json()["instance"] == "/api/v1/no-such-thing"


async def test_docs_are_off_in_production(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(ENVIRONMENT="production", JWT_SECRET_KEY="s" * 40))
    assert (await _get(app, "/docs")).status_code == 404
    dev = create_app(make_settings())
    assert (await _get(dev, "/docs")).status_code == 200
    assert (await _get(dev, "/openapi.json")).json()["paths"]["/api/v1/health/liveness"]
    # The API is matched before the docs, so no request pays for the docs' routes.
    paths = [getattr(route, "path", "") for route in dev.router.routes]
    assert paths.index("/api/v1/health/liveness") < paths.index("/docs")
