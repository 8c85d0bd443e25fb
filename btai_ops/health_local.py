"""`btai health --local`: the health probes answered in-process, without a server.

The app is built and its lifespan entered (opening the configured database and Redis exactly
as a worker would), then the app's own `HealthService.report(probe)` builds each report, so
these are the very checks a server runs. No port is opened.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from btai_ops.errors import ServiceUnreachable

if TYPE_CHECKING:
    from app.settings import Settings


async def _probes(settings: Settings) -> dict[str, Any]:
    from app.main import create_app
    from app.monitoring.checks import FULL, READINESS, Status

    app = create_app(settings)
    answers: dict[str, Any] = {}
    async with app.router.lifespan_context(app):
        answers["liveness"] = {"http_status": 200, "latency_ms": None, "body": {"status": "pass"}}
        for name, probe in (("readiness", READINESS), ("report", FULL)):
            start = time.perf_counter_ns()
            report = await app.state.parts.health.report(probe)
            answers[name] = {
                "http_status": 503 if report.status is Status.FAIL else 200,
                "latency_ms": round((time.perf_counter_ns() - start) / 1e6, 3),
                "body": report.to_health_json(f"{name} (in-process)"),
            }
        alerts = app.state.parts.health.alerts.alerts("active")
        answers["alerts"] = [alert.as_dict() for alert in alerts]
    return answers


def local_probes(settings: Settings) -> dict[str, Any]:
    """Answers shaped like the HTTP probes' (`http_status`, `latency_ms`, `body`)."""
    try:
        return asyncio.run(_probes(settings))
    except (OSError, TimeoutError) as exc:
        # The app could not even open its resources: nothing to report checks on.
        raise ServiceUnreachable(f"in-process start failed: {exc}") from None
