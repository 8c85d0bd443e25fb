"""Prometheus scrape endpoints outside /api/v1: `/metrics` and `/metrics/prometheus`."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response

from app.deps import AppResources
from app.monitoring.exposition import render_latest

router = APIRouter(tags=["monitoring"])


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
@router.get(
    "/metrics/prometheus",
    summary="Prometheus metrics (alias)",
    response_class=Response,
    operation_id="prometheus_metrics_alias",
)
async def prometheus_metrics(resources: AppResources) -> Response:
    if resources.request_stats is not None:
        resources.request_stats.flush()  # on the loop thread, where the middleware counts
    # Reading many worker files is file I/O; keep it off the event loop.
    body, content_type = await asyncio.to_thread(
        render_latest, resources.settings.METRICS_DIR, resources.db
    )
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})
