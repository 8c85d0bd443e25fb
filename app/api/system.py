"""`GET /api/v1/system/metrics`: this worker's request rates and latencies over the last minute."""

from __future__ import annotations

import os
import time
from typing import Any

from fastapi import APIRouter

from app.deps import Parts
from app.monitoring.window import WINDOW_SECONDS

router = APIRouter(prefix="/system", tags=["system"])


@router.get("/metrics", summary="Requests per second and latency percentiles per route")
async def system_metrics(parts: Parts) -> dict[str, Any]:
    """Per route over the last minute: requests, rps, p50/p95/p99 (ms); uptime and worker pid."""
    window = parts.request_window
    return {
        "pid": os.getpid(),
        "uptime_seconds": round(time.monotonic() - parts.started_monotonic, 3),
        "window_seconds": WINDOW_SECONDS,
        "performance_monitoring": window is not None,
        "routes": window.snapshot() if window is not None else [],
    }
