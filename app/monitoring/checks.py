"""Health checks: the small protocol every area uses to contribute one, and how they run.

A check is a `HealthCheck`: a name keyed `component:measurement` (IETF health+json, e.g.
`database:responseTime`), the probes it belongs to, and an async callable that returns a
`CheckResult` (status pass/warn/fail, an observed value and unit, a message). To contribute
one from another area::

    async def queue_depth() -> CheckResult:
        depth = await queue.depth()
        return CheckResult(Status.PASS, observed_value=depth, observed_unit="tasks")

    health.registry.add(
        HealthCheck("queue:depth", queue_depth, probes=READY_AND_FULL, requires="queue")
    )

`run_checks` runs the checks of one probe concurrently, each under its own timeout; a check
that raises or times out is reported `fail` with the reason, never propagated. A check marked
`critical=False` can never make the service unready (its failure is reported as `warn`); a
check whose `requires` names a resource (an attribute of `app.resources.Resources`) is left
out of the report until the app's lifespan has opened its resources.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from app.security.masking import mask_secrets


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 (a health status, not a password)
    WARN = "warn"
    FAIL = "fail"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Status.PASS: 0, Status.WARN: 1, Status.FAIL: 2}

READINESS, STARTUP, FULL = "readiness", "startup", "full"
READY_AND_FULL = frozenset({READINESS, FULL})
FULL_ONLY = frozenset({FULL})


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What one check observed. `details` lists several entries under one key (IETF allows it)."""

    status: Status
    observed_value: Any = None
    observed_unit: str | None = None
    output: str | None = None
    details: tuple[dict[str, Any], ...] = ()


CheckFn = Callable[[], Awaitable[CheckResult]]


@dataclass(frozen=True, slots=True)
class HealthCheck:
    name: str
    run: CheckFn
    probes: frozenset[str] = READY_AND_FULL
    component_type: str = "component"
    critical: bool = True
    requires: str | None = None  # the resource the check needs; skipped until it is open


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    check: HealthCheck
    result: CheckResult
    duration_ms: float
    at: datetime


@dataclass(slots=True)
class CheckRegistry:
    """The checks of one app; other areas `add` theirs (a name may be registered once)."""

    checks: dict[str, HealthCheck] = field(default_factory=dict)

    def add(self, check: HealthCheck) -> None:
        if ":" not in check.name:
            raise ValueError(f"check name {check.name!r} must read component:measurement")
        self.checks[check.name] = check

    def for_probe(self, probe: str, resources: object) -> list[HealthCheck]:
        """The checks of `probe` whose resource exists on `resources` now (None: none open)."""
        return [
            c
            for c in self.checks.values()
            if probe in c.probes and (c.requires is None or hasattr(resources, c.requires))
        ]


async def _run_one(check: HealthCheck, limit: float) -> CheckOutcome:
    start = time.perf_counter_ns()
    try:
        async with asyncio.timeout(limit):
            result = await check.run()
    except TimeoutError:
        result = CheckResult(Status.FAIL, output=f"timed out after {limit:g}s")
    except Exception as exc:  # a failing dependency is a result, not an error of the probe
        result = CheckResult(Status.FAIL, output=f"{type(exc).__name__}: {exc}"[:300])
    if result.status is Status.FAIL and not check.critical:
        result = CheckResult(
            Status.WARN, result.observed_value, result.observed_unit, result.output, result.details
        )
    duration_ms = (time.perf_counter_ns() - start) / 1e6
    return CheckOutcome(check, result, round(duration_ms, 3), datetime.now(UTC))


async def run_checks(checks: Iterable[HealthCheck], limit: float) -> list[CheckOutcome]:
    """Run `checks` concurrently, each limited to `limit` seconds."""
    return list(await asyncio.gather(*(_run_one(c, limit) for c in checks)))


def overall_status(outcomes: Iterable[CheckOutcome]) -> Status:
    worst = Status.PASS
    for outcome in outcomes:
        if outcome.result.status.rank > worst.rank:
            worst = outcome.result.status
    return worst


def ietf_checks(outcomes: Iterable[CheckOutcome]) -> dict[str, list[dict[str, Any]]]:
    """The `checks` object of an application/health+json document."""
    checks: dict[str, list[dict[str, Any]]] = {}
    for outcome in outcomes:
        result = outcome.result
        entry: dict[str, Any] = {
            "componentType": outcome.check.component_type,
            "status": result.status.value,
            "time": outcome.at.isoformat(timespec="milliseconds"),
            "durationMs": outcome.duration_ms,
        }
        if result.observed_value is not None:
            entry["observedValue"] = result.observed_value
        if result.observed_unit is not None:
            entry["observedUnit"] = result.observed_unit
        if result.output:
            entry["output"] = mask_secrets(result.output)
        # Component ids and outputs can quote configured URLs: never their credentials.
        details = [
            {k: mask_secrets(v) if isinstance(v, str) else v for k, v in d.items()}
            for d in result.details
        ]
        checks[outcome.check.name] = [{**entry, **d} for d in details] or [entry]
    return checks
