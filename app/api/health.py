"""Health endpoints (IETF `application/health+json`)."""

from __future__ import annotations

import os
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app import __version__

HEALTH_JSON = "application/health+json"

router = APIRouter(prefix="/health", tags=["health"])


class HealthResponse(JSONResponse):
    media_type = HEALTH_JSON


@router.get("/liveness", response_class=HealthResponse, summary="The process answers")
async def liveness(request: Request) -> HealthResponse:
    """Touches no dependency: a failing liveness probe means restart the process."""
    started: float = request.app.state.started_monotonic
    body: dict[str, Any] = {
        "status": "pass",
        "version": __version__,
        "serviceId": "btai",
        "pid": os.getpid(),
        "uptime_seconds": round(time.monotonic() - started, 3),
    }
    return HealthResponse(body, headers={"Cache-Control": "no-store"})
