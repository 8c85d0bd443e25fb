"""Health endpoints (IETF `application/health+json`, checks keyed `component:measurement`).

- `/health/liveness`: the process answers; touches no dependency.
- `/health/readiness`: database, cache and queue; 503 when not ready (a degraded cache that
  serves from memory is `warn`, still ready).
- `/health/startup`: migrations applied and data seeded.
- `/health`: the full report; `/health/alerts`, `/health/trends`: what the monitor saw.
"""

from __future__ import annotations

import os
import time
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from app import __version__
from app.deps import AdminWhenAuthEnabled, Health
from app.errors import NotFound
from app.monitoring.checks import FULL, READINESS, STARTUP, Status
from app.monitoring.service import TREND_REPORTS, HealthService

HEALTH_JSON = "application/health+json"
NO_STORE = {"Cache-Control": "no-store"}

router = APIRouter(prefix="/health", tags=["health"])
PROCESS_STARTED = time.monotonic()
NO_STORE_RAW = (b"cache-control", b"no-store")
_pid = os.getpid()  # read once per process (a system call each time otherwise)


def _forked() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_forked)


class HealthResponse(JSONResponse):
    media_type = HEALTH_JSON


async def _probe(health: HealthService, probe: str, description: str) -> HealthResponse:
    report = await health.report(probe)
    status = 503 if report.status is Status.FAIL else 200
    return HealthResponse(report.to_health_json(description), status, headers=NO_STORE)


@router.get("/liveness", response_class=HealthResponse, summary="The process answers")
async def liveness() -> Response:
    """Touches no dependency: a failing liveness probe means restart the process.

    Probes call it often, so it takes no parameters and encodes its few fields directly.
    """
    body = {
        "status": "pass",
        "version": __version__,
        "serviceId": "btai",
        "pid": _pid,
        "uptime_seconds": round(time.monotonic() - PROCESS_STARTED, 3),
    }
    response = Response(orjson.dumps(body), media_type=HEALTH_JSON)
    response.raw_headers.append(NO_STORE_RAW)  # one fixed header, not a mapping to encode
    return response


@router.get("/readiness", response_class=HealthResponse, summary="Ready for traffic")
async def readiness(health: Health) -> HealthResponse:
    """Database, cache and queue; 503 when a critical one fails."""
    return await _probe(health, READINESS, "readiness: database, cache, queue")


@router.get("/startup", response_class=HealthResponse, summary="Started: migrated and seeded")
async def startup(health: Health) -> HealthResponse:
    return await _probe(health, STARTUP, "startup: migrations applied, data seeded")


@router.get("", response_class=HealthResponse, summary="Full health report")
async def full_report(health: Health) -> HealthResponse:
    """Every check: dependencies, AI service, system resources, external services."""
    return await _probe(health, FULL, "full health report")


@router.get("/alerts", summary="Alerts raised by health checks, newest first")
async def list_alerts(
    health: Health,
    state: Annotated[str | None, Query(pattern="^(active|resolved)$")] = None,
) -> dict[str, Any]:
    alerts = health.alerts.alerts(state)
    return {"count": len(alerts), "alerts": [a.as_dict() for a in alerts]}


@router.post("/alerts/{alert_id}/acknowledge", summary="Acknowledge an alert (admin with auth)")
async def acknowledge_alert(
    health: Health, alert_id: str, admin: AdminWhenAuthEnabled
) -> dict[str, Any]:
    """Acknowledging twice is harmless: the first acknowledgement is kept."""
    by = admin.username if admin is not None else None
    alert = health.alerts.acknowledge(alert_id, by)
    if alert is None:
        raise NotFound(f"No alert {alert_id!r}.")
    return alert.as_dict()


@router.get("/trends", summary="Status history and per-check latency over the last reports")
async def trends(
    health: Health, limit: Annotated[int, Query(ge=1, le=TREND_REPORTS)] = 50
) -> dict[str, Any]:
    return health.trend_summary(limit)
