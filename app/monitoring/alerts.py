"""Alerts from health checks: raised when a check leaves `pass`, resolved when it is back.

Hysteresis keeps a flapping check quiet: an alert is raised after `raise_after` consecutive
non-pass results and resolved only after `resolve_after` consecutive passes, so a check that
alternates pass/fail raises one alert and keeps it open instead of raising one per flap. A
`warn` raises a `warning`, a `fail` a `critical` alert; a warning that turns into a failure is
escalated in place. Each raise, escalation and resolution is sent to ALERT_WEBHOOK_URL (when
set) as JSON, in the background, with retries.

Alerts live in the memory of the worker that evaluated the checks; each worker's background
monitor evaluates the same checks, so each sees the same alerts. Only one process per database
sends them to the webhook (see `alert_owner`), so one event is one webhook call.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from app.monitoring.checks import CheckOutcome, Status

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger("app.monitoring.alerts")
MAX_ALERTS = 500


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Alert:
    id: str
    check: str
    severity: str  # "warning" or "critical"
    message: str
    raised_at: datetime
    updated_at: datetime
    state: str = "active"  # "active" or "resolved"
    resolved_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None

    def as_dict(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat(timespec="milliseconds") if value else None

        return {
            "id": self.id,
            "check": self.check,
            "severity": self.severity,
            "state": self.state,
            "message": self.message,
            "raised_at": iso(self.raised_at),
            "updated_at": iso(self.updated_at),
            "resolved_at": iso(self.resolved_at),
            "acknowledged": self.acknowledged_at is not None,
            "acknowledged_at": iso(self.acknowledged_at),
            "acknowledged_by": self.acknowledged_by,
        }


@dataclass(slots=True)
class _Streak:
    bad: int = 0
    good: int = 0
    alert: Alert | None = None


def _severity(status: Status) -> str:
    return "critical" if status is Status.FAIL else "warning"


def _message(outcome: CheckOutcome) -> str:
    result = outcome.result
    text = f"{outcome.check.name} is {result.status.value}"
    if result.output:
        text += f": {result.output}"
    return text


@dataclass
class AlertManager:
    raise_after: int = 1
    resolve_after: int = 2
    notify: Callable[[str, Alert], None] | None = None
    _streaks: dict[str, _Streak] = field(default_factory=dict)
    _alerts: OrderedDict[str, Alert] = field(default_factory=OrderedDict)

    def observe(self, outcomes: Iterable[CheckOutcome]) -> list[Alert]:
        """Feed one evaluation's results; returns the alerts raised, escalated or resolved."""
        changed = []
        for outcome in outcomes:
            event = self._observe_one(outcome)
            if event is not None:
                kind, alert = event
                changed.append(alert)
                log = logger.info if kind == "resolved" else logger.warning
                log("alert %s: %s", kind, alert.message)
                if self.notify is not None:
                    self.notify(kind, alert)
        return changed

    def _observe_one(self, outcome: CheckOutcome) -> tuple[str, Alert] | None:
        name, status = outcome.check.name, outcome.result.status
        streak = self._streaks.setdefault(name, _Streak())
        now = _now()
        if status is Status.PASS:
            streak.bad = 0
            streak.good += 1
            alert = streak.alert
            if alert is not None and streak.good >= self.resolve_after:
                alert.state, alert.resolved_at, alert.updated_at = "resolved", now, now
                streak.alert = None
                return "resolved", alert
            return None
        streak.good = 0
        streak.bad += 1
        alert = streak.alert
        severity = _severity(status)
        if alert is None:
            if streak.bad < self.raise_after:
                return None
            alert = Alert(uuid.uuid4().hex, name, severity, _message(outcome), now, now)
            streak.alert = alert
            self._remember(alert)
            return "raised", alert
        if severity == "critical" and alert.severity == "warning":
            alert.severity, alert.message, alert.updated_at = severity, _message(outcome), now
            return "escalated", alert
        return None

    def _remember(self, alert: Alert) -> None:
        self._alerts[alert.id] = alert
        while len(self._alerts) > MAX_ALERTS:
            oldest = next(iter(self._alerts))
            if self._alerts[oldest].state == "active":
                break
            del self._alerts[oldest]

    def alerts(self, state: str | None = None) -> list[Alert]:
        """Newest first; `state` is "active" or "resolved" (all when None)."""
        found = [a for a in reversed(self._alerts.values()) if state in (None, a.state)]
        return found

    def get(self, alert_id: str) -> Alert | None:
        return self._alerts.get(alert_id)

    def acknowledge(self, alert_id: str, by: str | None) -> Alert | None:
        """Mark the alert acknowledged; a second acknowledgement keeps the first one's record."""
        alert = self._alerts.get(alert_id)
        if alert is not None and alert.acknowledged_at is None:
            alert.acknowledged_at, alert.acknowledged_by = _now(), by
        return alert


class WebhookNotifier:
    """POSTs alert events to a URL with retries, in background tasks, over one pooled client."""

    def __init__(
        self,
        url: str,
        client: Callable[[], httpx.AsyncClient],
        *,
        attempts: int = 4,
        backoff: float = 0.5,
        service: str = "btai",
    ) -> None:
        self.url = url
        self._client = client
        self.attempts = attempts
        self.backoff = backoff
        self.service = service
        self._tasks: set[asyncio.Task[bool]] = set()

    def __call__(self, kind: str, alert: Alert) -> None:
        payload = {"event": kind, "service": self.service, "alert": alert.as_dict()}
        task = asyncio.get_running_loop().create_task(self.deliver(payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def deliver(self, payload: dict[str, Any]) -> bool:
        """Send one event; retries on connection errors and 5xx/429 answers."""
        import httpx

        for attempt in range(1, self.attempts + 1):
            try:
                response = await self._client().post(self.url, json=payload)
                if response.status_code < 500 and response.status_code != 429:
                    return response.is_success
                reason = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                reason = f"{type(exc).__name__}: {exc}"
            if attempt < self.attempts:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
        logger.error("alert webhook gave up after %d attempts: %s", self.attempts, reason)
        return False

    async def drain(self, grace: float) -> None:
        """Wait up to `grace` seconds for deliveries in flight, then cancel the rest."""
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(set(self._tasks), timeout=grace)
        for task in pending:
            task.cancel()
