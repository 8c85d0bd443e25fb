"""Health probes, alerts and trends against real SQLite, PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.db.migrate import upgrade
from app.db.seed import prepare_database
from app.main import create_app
from app.monitoring.checks import FULL_ONLY, READY_AND_FULL, CheckResult, HealthCheck, Status
from app.settings import Settings
from tests.support.observability import Receiver, TcpProxy
from tests.support.services import (
    PG_HOST,
    PG_PORT,
    REDIS_HOST,
    REDIS_PORT,
    flush_redis,
    free_port,
    redis_db,
    redis_url,
)


@asynccontextmanager
async def serving(app: FastAPI, *, migrate: bool = True) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its real lifespan running (on a migrated database), and a client on it."""
    if migrate:
        await upgrade(app.state.parts.settings.database_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


def check(body: dict[str, Any], name: str) -> dict[str, Any]:
    entry: dict[str, Any] = body["checks"][name][0]
    return entry


async def test_readiness_passes_on_sqlite_with_memory_cache(
    make_settings: Callable[..., Settings],
) -> None:
    async with serving(create_app(make_settings(HEALTH_MONITOR_INTERVAL=0))) as client:
        response = await client.get("/api/v1/health/readiness")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/health+json"
    body = response.json()
    assert body["status"] == "pass"
    assert check(body, "database:responseTime")["observedUnit"] == "ms"
    assert check(body, "cache:responseTime")["status"] == "pass"
    assert "system:cpuUtilization" not in body["checks"]


@pytest.mark.redis
async def test_redis_down_warns_and_alerts_then_resolves_when_back(
    make_settings: Callable[..., Settings],
) -> None:
    flush_redis(redis_url())
    proxy = TcpProxy(free_port(), (REDIS_HOST, REDIS_PORT))
    settings = make_settings(
        REDIS_URL=f"redis://127.0.0.1:{proxy.port}/{redis_db()}",
        HEALTH_CACHE_SECONDS=0,
        HEALTH_MONITOR_INTERVAL=0,
    )
    try:
        async with serving(create_app(settings)) as client:
            down = await client.get("/api/v1/health/readiness")
            assert down.status_code == 200
            assert down.json()["status"] == "warn"
            assert check(down.json(), "cache:responseTime")["status"] == "warn"
            active = (await client.get("/api/v1/health/alerts?state=active")).json()["alerts"]
            assert sorted((a["check"], a["severity"]) for a in active) == [
                ("cache:responseTime", "warning"),
                ("ratelimit:backend", "warning"),
            ]

            await proxy.start()
            for _ in range(2):  # resolving takes two passes in a row
                up = await client.get("/api/v1/health/readiness")
                assert up.status_code == 200
                assert check(up.json(), "cache:responseTime")["status"] == "pass"
            alerts = (await client.get("/api/v1/health/alerts")).json()["alerts"]
    finally:
        await proxy.stop()
    assert sorted((a["id"], a["state"]) for a in alerts) == sorted(
        (a["id"], "resolved") for a in active
    )
    assert all(a["resolved_at"] is not None for a in alerts)


@pytest.mark.postgres
async def test_database_unreachable_fails_readiness_not_liveness(
    make_settings: Callable[..., Settings], pg_url: str
) -> None:
    # The service starts against PostgreSQL through a proxy, which then goes away.
    proxy = TcpProxy(free_port(), (PG_HOST, PG_PORT))
    settings = make_settings(
        DATABASE_URL=pg_url.replace(f":{PG_PORT}/", f":{proxy.port}/"),
        DB_POOL_TIMEOUT=1,
        HEALTH_CHECK_TIMEOUT=2,
        HEALTH_CACHE_SECONDS=0,
        HEALTH_MONITOR_INTERVAL=0,
    )
    await proxy.start()
    try:
        async with serving(create_app(settings)) as client:
            before = await client.get("/api/v1/health/readiness")
            await proxy.stop()
            ready = await client.get("/api/v1/health/readiness")
            live = await client.get("/api/v1/health/liveness")
            alerts = (await client.get("/api/v1/health/alerts")).json()["alerts"]
    finally:
        await proxy.stop()
    assert before.status_code == 200
    assert ready.status_code == 503
    assert ready.json()["status"] == "fail"
    assert check(ready.json(), "database:responseTime")["status"] == "fail"
    assert live.status_code == 200
    assert ("database:responseTime", "critical") in {(a["check"], a["severity"]) for a in alerts}


@pytest.mark.postgres
async def test_readiness_and_startup_pass_on_a_prepared_postgres(
    make_settings: Callable[..., Settings], pg_url: str
) -> None:
    settings = make_settings(DATABASE_URL=pg_url, HEALTH_MONITOR_INTERVAL=0)
    # Before migrations the app cannot open its resources; the startup probe still answers.
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        before = await client.get("/api/v1/health/startup")
    await prepare_database(settings)
    async with serving(create_app(settings), migrate=False) as client:
        after = await client.get("/api/v1/health/startup")
        ready = await client.get("/api/v1/health/readiness")
    assert before.status_code == 503
    assert check(before.json(), "migrations:applied")["status"] == "fail"
    assert after.status_code == 200, after.json()
    assert check(after.json(), "data:seeded")["observedValue"] == 30
    assert ready.status_code == 200


async def test_full_report_covers_system_and_external_services(
    make_settings: Callable[..., Settings],
) -> None:
    with Receiver().running() as receiver:
        closed = f"http://127.0.0.1:{free_port()}/"
        settings = make_settings(
            EXTERNAL_SERVICES=f"{receiver.url},{closed}", HEALTH_MONITOR_INTERVAL=0
        )
        async with serving(create_app(settings)) as client:
            first = await client.get("/api/v1/health")
            again = await client.get("/api/v1/health")
    body = first.json()
    assert first.status_code == 200
    for name in ("system:cpuUtilization", "system:memoryUtilization", "system:diskUtilization"):
        assert 0 <= check(body, name)["observedValue"] <= 100
        assert check(body, name)["observedUnit"] == "percent"
    external = {e["componentId"]: e for e in body["checks"]["external:reachability"]}
    assert external[receiver.url]["status"] == "pass"
    assert external[closed]["status"] == "fail"
    assert check(body, "database:responseTime")["status"] == "pass"
    assert check(body, "queue:depth")["observedValue"] == 0
    assert check(body, "queue:stuckLeases")["observedValue"] == 0
    assert check(body, "queue:oldestPendingAge")["status"] == "pass"
    assert check(body, "ai_service:circuitBreaker")["observedValue"] == "closed"
    # Reused within HEALTH_CACHE_SECONDS: the same evaluation, not a new one.
    assert again.json()["time"] == body["time"]


async def test_checks_run_concurrently_under_a_timeout(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings(HEALTH_CHECK_TIMEOUT=0.2, HEALTH_MONITOR_INTERVAL=0))
    calls: list[str] = []

    async def hangs() -> CheckResult:
        calls.append("hangs")
        await asyncio.sleep(30)
        return CheckResult(Status.PASS)

    async def broken() -> CheckResult:
        raise RuntimeError("provider exploded")

    registry = app.state.parts.health.registry
    registry.add(HealthCheck("slow:responseTime", hangs, READY_AND_FULL))
    registry.add(HealthCheck("optional:thing", broken, FULL_ONLY, critical=False))
    async with serving(app) as client:
        ready = await asyncio.wait_for(client.get("/api/v1/health/readiness"), 10)
        full = await asyncio.wait_for(client.get("/api/v1/health"), 10)
    assert ready.status_code == 503
    assert check(ready.json(), "slow:responseTime")["output"] == "timed out after 0.2s"
    assert check(full.json(), "optional:thing")["status"] == "warn"
    assert "provider exploded" in check(full.json(), "optional:thing")["output"]
    assert calls == ["hangs", "hangs"]


async def test_alert_acknowledge_and_unknown_ids(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(HEALTH_MONITOR_INTERVAL=0, HEALTH_CACHE_SECONDS=0))

    async def failing() -> CheckResult:
        return CheckResult(Status.FAIL, output="down")

    app.state.parts.health.registry.add(HealthCheck("thing:up", failing, FULL_ONLY))
    async with serving(app) as client:
        assert (await client.get("/api/v1/health")).status_code == 503
        alerts = (await client.get("/api/v1/health/alerts")).json()["alerts"]
        [alert] = [a for a in alerts if a["check"] == "thing:up"]
        url = f"/api/v1/health/alerts/{alert['id']}/acknowledge"
        first = await client.post(url)
        second = await client.post(url)
        missing = await client.post("/api/v1/health/alerts/no-such-alert/acknowledge")
        trends = (await client.get("/api/v1/health/trends?limit=5")).json()
        exposition = (await client.get("/metrics")).text
    assert alert["severity"] == "critical"
    assert first.status_code == second.status_code == 200
    assert first.json()["acknowledged"] is True
    assert second.json()["acknowledged_at"] == first.json()["acknowledged_at"]
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["request_id"]
    assert trends["reports"] == 1
    assert 'health_check_status{check="thing:up"} 2.0' in exposition
    assert 'health_alerts_active{severity="critical"}' in exposition
    assert trends["checks"]["thing:up"]["statuses"]["fail"] == 1


def mine(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["alert"]["check"] == "thing:up"]


async def test_background_monitor_raises_alerts_and_posts_the_webhook(
    make_settings: Callable[..., Settings],
) -> None:
    with Receiver(fail_first=2).running() as receiver:
        settings = make_settings(
            ALERT_WEBHOOK_URL=receiver.url,
            HEALTH_MONITOR_INTERVAL=0.05,
            HEALTH_CACHE_SECONDS=0,
        )
        app = create_app(settings)
        app.state.parts.health.webhook.backoff = 0.01

        async def failing() -> CheckResult:
            return CheckResult(Status.FAIL, output="down")

        app.state.parts.health.registry.add(HealthCheck("thing:up", failing, FULL_ONLY))
        async with serving(app):
            # No request is made: the monitor evaluates on its own.
            for _ in range(200):
                if mine(receiver.received):
                    break
                await asyncio.sleep(0.05)
    # Only this check's alert: a busy test machine may raise a CPU alert beside it.
    [event] = mine(receiver.received)
    assert receiver.attempts[event["alert"]["id"]] == 3  # two refused deliveries were retried
    assert event["event"] == "raised"
    assert event["alert"]["check"] == "thing:up"
    assert event["alert"]["severity"] == "critical"


async def test_acknowledging_needs_an_admin_when_auth_is_on(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings(ENABLE_AUTH=True, HEALTH_MONITOR_INTERVAL=0))
    async with serving(app) as client:
        refused = await client.post("/api/v1/health/alerts/some-id/acknowledge")
        listed = await client.get("/api/v1/health/alerts")
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["request_id"] == refused.headers["x-request-id"]
    assert listed.status_code == 200


async def test_openai_compatible_provider_reachability_is_checked(
    make_settings: Callable[..., Settings],
) -> None:
    with Receiver().running() as receiver:
        up = receiver.url.removesuffix("/hook")
        down = f"http://127.0.0.1:{free_port()}/v1"
        bodies = []
        for base_url in (up, down):
            settings = make_settings(
                AI_PROVIDER="openai", AI_BASE_URL=base_url, HEALTH_MONITOR_INTERVAL=0
            )
            async with serving(create_app(settings)) as client:
                bodies.append((await client.get("/api/v1/health")).json())
    reachable, unreachable = (check(b, "ai_service:responseTime") for b in bodies)
    assert (reachable["status"], reachable["output"]) == ("pass", "HTTP 200")
    assert unreachable["status"] == "warn"
    assert "ConnectError" in unreachable["output"]
