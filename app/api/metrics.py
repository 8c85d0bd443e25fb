"""Prometheus scrape endpoints outside /api/v1: `/metrics` and `/metrics/prometheus`."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response

from app.monitoring.exposition import render_latest

router = APIRouter(tags=["monitoring"])


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
@router.get(
    "/metrics/prometheus",
    summary="Prometheus metrics (alias)",
    response_class=Response,
    operation_id="prometheus_metrics_alias",
)
async def prometheus_metrics(request: Request) -> Response:
    settings = request.app.state.settings
    db = getattr(request.app.state, "db", None)
    stats = getattr(request.app.state, "request_stats", None)
    if stats is not None:
        stats.flush()  # on the loop thread, where the middleware counts
    # Reading many worker files is file I/O; keep it off the event loop.
    body, content_type = await asyncio.to_thread(render_latest, settings.METRICS_DIR, db)
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})
