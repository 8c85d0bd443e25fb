"""The health service of one app: its check registry, cached reports, alerts and trends.

`HealthService.report(probe)` runs the checks of a probe concurrently (each under
HEALTH_CHECK_TIMEOUT) and reuses the result for HEALTH_CACHE_SECONDS; callers that arrive
while an evaluation is running wait for it instead of starting another, so probes cannot
overload a dependency. Every evaluation feeds the alert manager and the trend log. `running()`,
entered by the app's lifespan, starts the background monitor that evaluates the full report
every HEALTH_MONITOR_INTERVAL seconds, so alerts fire without a caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from app import __version__
from app.monitoring.alert_owner import AlertOwnership
from app.monitoring.alerts import Alert, AlertManager, WebhookNotifier
from app.monitoring.builtin_checks import builtin_checks
from app.monitoring.checks import (
    FULL,
    CheckOutcome,
    CheckRegistry,
    Status,
    ietf_checks,
    overall_status,
    run_checks,
)
from app.monitoring.metrics import ALERTS_ACTIVE, HEALTH_CHECK_STATUS, SYSTEM_UTILIZATION
from app.monitoring.window import percentile
from app.resources import Resources
from app.services import shutdown
from app.settings import Settings

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger("app.monitoring")
TREND_REPORTS = 120
SYSTEM_CHECKS = {
    "system:cpuUtilization": "cpu",
    "system:memoryUtilization": "memory",
    "system:diskUtilization": "disk",
}
WEBHOOK_GRACE_SECONDS = 5.0
OWNERSHIP_RETRY_SECONDS = 15.0
"""How often a process that does not send alerts retries, when no monitor interval is set."""


@dataclass(frozen=True, slots=True)
class HealthReport:
    probe: str
    status: Status
    outcomes: list[CheckOutcome]
    at: datetime

    def to_health_json(self, description: str) -> dict[str, Any]:
        """An IETF application/health+json document."""
        return {
            "status": self.status.value,
            "version": __version__,
            "serviceId": "btai",
            "description": description,
            "time": self.at.isoformat(timespec="milliseconds"),
            "checks": ietf_checks(self.outcomes),
        }


class HealthService:
    def __init__(
        self,
        settings: Settings,
        *,
        raise_after: int = 1,
        resolve_after: int = 2,
    ) -> None:
        self.settings = settings
        self.resources: Resources | None = None
        """What the app's lifespan opened (`attach`); checks that need a resource wait for it."""
        self.registry = CheckRegistry()
        self._client: httpx.AsyncClient | None = None
        self.webhook = (
            WebhookNotifier(str(settings.ALERT_WEBHOOK_URL), self.client)
            if settings.ALERT_WEBHOOK_URL
            else None
        )
        # One process per database sends the webhooks (see alert_owner); the others only track.
        self.ownership = (
            AlertOwnership(
                settings.database_url,
                settings.HEALTH_MONITOR_INTERVAL or OWNERSHIP_RETRY_SECONDS,
            )
            if self.webhook is not None
            else None
        )
        self._ownership_started = False
        notify = self._notify if self.webhook is not None else None
        self.alerts = AlertManager(raise_after, resolve_after, notify=notify)
        self.trends: deque[dict[str, Any]] = deque(maxlen=TREND_REPORTS)
        self._cached: dict[str, tuple[float, HealthReport]] = {}
        self._running: dict[str, asyncio.Future[HealthReport]] = {}
        for check in builtin_checks(self.opened, settings, self.client):
            self.registry.add(check)

    def attach(self, resources: Resources | None) -> None:
        """Check `resources` from now on (None: the lifespan closed them)."""
        self.resources = resources

    def opened(self) -> Resources:
        """The attached resources; only checks that `require` one call it, once attached."""
        if self.resources is None:
            raise RuntimeError("the app's resources are not open")
        return self.resources

    def _notify(self, kind: str, alert: Alert) -> None:
        assert self.webhook is not None
        # Outside `running()` (a service used on its own) there is no one else to defer to.
        if self.ownership is None or not self._ownership_started or self.ownership.owns:
            self.webhook(kind, alert)

    def client(self) -> httpx.AsyncClient:
        """One pooled HTTP client for external checks and the alert webhook, made on first use."""
        if self._client is None or self._client.is_closed:
            # Imported here: a worker without external checks or a webhook never loads httpx.
            import httpx

            self._client = httpx.AsyncClient(
                timeout=self.settings.HEALTH_CHECK_TIMEOUT,
                limits=httpx.Limits(max_connections=20, max_keepalive_connections=5),
                follow_redirects=False,
            )
        return self._client

    async def report(self, probe: str) -> HealthReport:
        """The report of `probe`, reused for HEALTH_CACHE_SECONDS; concurrent callers share one."""
        cached = self._cached.get(probe)
        if cached is not None and time.monotonic() < cached[0]:
            return cached[1]
        running = self._running.get(probe)
        if running is None:
            running = asyncio.ensure_future(self._evaluate(probe))
            self._running[probe] = running
            running.add_done_callback(lambda _f: self._running.pop(probe, None))
        return await asyncio.shield(running)

    async def _evaluate(self, probe: str) -> HealthReport:
        checks = self.registry.for_probe(probe, self.resources)
        outcomes = await run_checks(checks, self.settings.HEALTH_CHECK_TIMEOUT)
        report = HealthReport(probe, overall_status(outcomes), outcomes, datetime.now(UTC))
        self._cached[probe] = (time.monotonic() + self.settings.HEALTH_CACHE_SECONDS, report)
        self.alerts.observe(outcomes)
        self._record_trend(report)
        self._publish(outcomes)
        return report

    def _publish(self, outcomes: list[CheckOutcome]) -> None:
        """Mirror check results and active alerts into Prometheus, for dashboards and rules."""
        for outcome in outcomes:
            HEALTH_CHECK_STATUS.labels(outcome.check.name).set(outcome.result.status.rank)
            if outcome.check.name in SYSTEM_CHECKS and outcome.result.observed_value is not None:
                resource = SYSTEM_CHECKS[outcome.check.name]
                SYSTEM_UTILIZATION.labels(resource).set(outcome.result.observed_value)
        active = self.alerts.alerts("active")
        for severity in ("warning", "critical"):
            ALERTS_ACTIVE.labels(severity).set(sum(1 for a in active if a.severity == severity))

    def _record_trend(self, report: HealthReport) -> None:
        self.trends.append(
            {
                "time": report.at.isoformat(timespec="milliseconds"),
                "probe": report.probe,
                "status": report.status.value,
                "checks": {
                    o.check.name: {"status": o.result.status.value, "durationMs": o.duration_ms}
                    for o in report.outcomes
                },
            }
        )

    def trend_summary(self, limit: int) -> dict[str, Any]:
        """Status history and per-check latency over the last `limit` reports."""
        reports = list(self.trends)[-limit:] if limit > 0 else []
        per_check: dict[str, dict[str, Any]] = {}
        for entry in reports:
            for name, check in entry["checks"].items():
                row = per_check.setdefault(
                    name, {"statuses": {"pass": 0, "warn": 0, "fail": 0}, "durations": []}
                )
                row["statuses"][check["status"]] += 1
                row["durations"].append(check["durationMs"])
                row["last_status"] = check["status"]
        checks = {}
        for name, row in sorted(per_check.items()):
            durations = sorted(row.pop("durations"))
            checks[name] = {
                **row,
                "samples": len(durations),
                "latency_ms": {
                    "avg": round(sum(durations) / len(durations), 3),
                    "p50": percentile(durations, 50),
                    "p95": percentile(durations, 95),
                    "max": durations[-1],
                },
            }
        history = [{"time": e["time"], "probe": e["probe"], "status": e["status"]} for e in reports]
        return {"reports": len(reports), "history": history, "checks": checks}

    async def _monitor(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.report(FULL)
            except Exception:  # the monitor must outlive any one bad evaluation
                logger.exception("background health evaluation failed")

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[HealthService]:
        """Run the background monitor until the app shuts down; then close the HTTP client."""
        interval = self.settings.HEALTH_MONITOR_INTERVAL
        if self.ownership is not None:
            await self.ownership.start()
            self._ownership_started = True
        task = asyncio.create_task(self._monitor(interval)) if interval > 0 else None
        try:
            yield self
        finally:
            if self.ownership is not None:
                await self.ownership.close()
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if self.webhook is not None:
                # Deliveries in flight get what is left of the stop's grace, never more.
                left = shutdown.closing_left(self.settings.GRACEFUL_TIMEOUT)
                await self.webhook.drain(min(WEBHOOK_GRACE_SECONDS, left))
            if self._client is not None:
                await self._client.aclose()
