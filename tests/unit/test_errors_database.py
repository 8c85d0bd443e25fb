"""Database outages answer 503 with Retry-After; every other error answers 500, logged once."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import exc as sa_exc

from app.errors import DATABASE_RETRY_AFTER, database_outage, install_problem_handlers


class QueryCanceled(Exception):
    """Stands in for the driver's error object: what matters is its SQLSTATE."""

    sqlstate = "57014"


class UniqueViolation(Exception):
    sqlstate = "23505"


OUTAGES = {
    "operational": sa_exc.OperationalError("SELECT 1", {}, ConnectionRefusedError("refused")),
    "pool": sa_exc.TimeoutError("QueuePool limit of size 10 overflow 10 reached"),
    "statement-timeout": TimeoutError(),
    "query-canceled": sa_exc.DBAPIError("SELECT 1", {}, QueryCanceled("canceling statement")),
    "connection-reset": ConnectionResetError("reset by peer"),
}


def failing_app(error: Exception) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app, expose_internals=False)

    @app.get("/fail")
    async def fail() -> None:
        raise error

    @app.get("/fine")
    async def fine() -> dict[str, bool]:
        return {"fine": True}

    return app


def client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


@pytest.mark.parametrize("kind", sorted(OUTAGES))
async def test_database_outage_is_a_503_with_retry_after_logged_as_one_line(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with client(failing_app(OUTAGES[kind])) as c:
        response = await c.get("/fail")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == str(DATABASE_RETRY_AFTER)
    body = response.json()
    assert body["status"] == 503
    assert body["type"].endswith("/database-unavailable")
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(records) == 1
    assert body["request_id"] in records[0].getMessage()
    assert records[0].exc_info is None


async def test_other_errors_are_a_500_logged_once_with_a_traceback_and_not_raised_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    # raise_app_exceptions=True: an exception that escaped the app would fail this request.
    async with client(failing_app(RuntimeError("bug"))) as c:
        response = await c.get("/fail")
        after = await c.get("/fine")
    assert response.status_code == 500
    assert "retry-after" not in response.headers
    assert after.json() == {"fine": True}
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(records) == 1
    assert records[0].exc_info is not None


def test_constraint_violations_are_not_outages() -> None:
    violation = sa_exc.IntegrityError("INSERT", {}, UniqueViolation("duplicate key"))
    assert not database_outage(violation)
    assert not database_outage(ValueError("bad"))
    assert database_outage(RuntimeError("wrapped")) is False
    wrapped = RuntimeError("while reading")
    wrapped.__cause__ = TimeoutError()
    assert database_outage(wrapped)
