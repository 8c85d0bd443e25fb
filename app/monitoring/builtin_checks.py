"""The service's own health checks, built from the app's `Resources`.

Each resource check runs only once the lifespan has opened the resources: `db` (Database),
`cache` (the cache service: `ping()` is True when the shared store answered, `degraded` is
True while it serves from the in-process fallback), `queue` (`stats()` with pending,
oldest_pending_age_seconds and stuck_leases) and `ai` (the AI provider and its circuit
breaker). Resources are looked up at check time, through `opened()`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from app.db.engine import is_sqlite
from app.monitoring.checks import (
    FULL_ONLY,
    READY_AND_FULL,
    STARTUP,
    CheckResult,
    HealthCheck,
    Status,
)
from app.monitoring.system import SystemSampler
from app.resources import Resources
from app.settings import Settings

if TYPE_CHECKING:
    import httpx

Opened = Callable[[], Resources]
"""The app's resources, asked for at check time (a check needing one runs once they are open)."""

STARTUP_ONLY = frozenset({STARTUP})
STATS_REUSE = 0.5  # seconds


def _ms_since(start_ns: int) -> float:
    return round((time.perf_counter_ns() - start_ns) / 1e6, 3)


def database_checks(opened: Opened, settings: Settings) -> list[HealthCheck]:
    async def response_time() -> CheckResult:
        start = time.perf_counter_ns()
        await opened().db.ping()
        return CheckResult(Status.PASS, _ms_since(start), "ms")

    async def migrations() -> CheckResult:
        # alembic (some 10 MB) is loaded by the startup probe, not by every worker at start
        from app.db.migrate import current_revisions, head_revisions

        current, heads = await current_revisions(settings.database_url), head_revisions()
        missing = sorted(heads - current)
        if missing:
            return CheckResult(Status.FAIL, len(missing), "revisions", f"pending: {missing}")
        return CheckResult(Status.PASS, len(current), "revisions")

    async def seeded() -> CheckResult:
        query = text("SELECT count(*) FROM teams WHERE season = :season")
        async with opened().db.engine.connect() as conn:
            teams = (await conn.execute(query, {"season": settings.DATA_SEASON})).scalar_one()
        status = Status.PASS if teams else Status.FAIL
        output = None if teams else f"season {settings.DATA_SEASON} is not loaded"
        return CheckResult(status, int(teams), "teams", output)

    return [
        HealthCheck(
            "database:responseTime", response_time, READY_AND_FULL, "datastore", True, "db"
        ),
        HealthCheck("migrations:applied", migrations, STARTUP_ONLY, "datastore"),
        HealthCheck("data:seeded", seeded, STARTUP_ONLY, "datastore", requires="db"),
    ]


def cache_check(opened: Opened) -> HealthCheck:
    async def round_trip() -> CheckResult:
        cache = opened().cache
        start = time.perf_counter_ns()
        answered = await cache.ping()
        elapsed = _ms_since(start)
        if answered and not cache.degraded:
            return CheckResult(Status.PASS, elapsed, "ms")
        # The in-process fallback keeps serving: worth a warning, not a restart.
        return CheckResult(
            Status.WARN, elapsed, "ms", "shared cache unreachable; serving from process memory"
        )

    return HealthCheck(
        "cache:responseTime", round_trip, component_type="datastore", requires="cache"
    )


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


def queue_checks(opened: Opened, settings: Settings) -> list[HealthCheck]:
    # The three queue checks of one evaluation run together: they share one stats query.
    # The shared query carries its own deadline, so a query that never ends (a stalled
    # database) is cancelled with its evaluation instead of holding every later one.
    shared: dict[str, Any] = {}

    async def bounded_stats() -> Mapping[str, Any]:
        async with asyncio.timeout(settings.HEALTH_CHECK_TIMEOUT):
            result: Mapping[str, Any] = await opened().queue.stats()
            return result

    async def stats() -> Mapping[str, Any]:
        task = shared.get("task")
        if task is None or (task.done() and time.monotonic() - shared["at"] > STATS_REUSE):
            task = shared["task"] = asyncio.ensure_future(bounded_stats())
            task.add_done_callback(_retrieve)  # a caller that timed out first never reads it
            shared["at"] = time.monotonic()
        result: Mapping[str, Any] = await asyncio.shield(task)
        return result

    async def depth() -> CheckResult:
        return CheckResult(Status.PASS, int((await stats()).get("pending", 0)), "tasks")

    async def oldest() -> CheckResult:
        age = float((await stats()).get("oldest_pending_age_seconds") or 0.0)
        # A task waiting longer than a run may take means the workers are not keeping up.
        status = Status.WARN if age > settings.QUEUE_TASK_TIMEOUT else Status.PASS
        return CheckResult(status, round(age, 3), "s")

    async def stuck() -> CheckResult:
        count = int((await stats()).get("stuck_leases", 0))
        status = Status.WARN if count else Status.PASS
        return CheckResult(status, count, "tasks", "expired leases" if count else None)

    return [
        HealthCheck("queue:depth", depth, requires="queue"),
        HealthCheck("queue:oldestPendingAge", oldest, FULL_ONLY, critical=False, requires="queue"),
        HealthCheck("queue:stuckLeases", stuck, FULL_ONLY, critical=False, requires="queue"),
    ]


def ai_checks(
    opened: Opened, settings: Settings, client: Callable[[], httpx.AsyncClient]
) -> list[HealthCheck]:
    async def breaker() -> CheckResult:
        snapshot = opened().ai.breaker.snapshot()
        closed = snapshot["state"] == "closed"
        output = None if closed else f"breaker {snapshot['state']}; answering with `local`"
        return CheckResult(Status.PASS if closed else Status.WARN, snapshot["state"], None, output)

    async def reachable() -> CheckResult:
        # Any HTTP answer proves the endpoint is up; whether a call succeeds is the breaker's job.
        base_url = opened().ai.base_url
        start = time.perf_counter_ns()
        response = await client().get(base_url.rstrip("/") + "/models")
        status = Status.PASS if response.status_code < 500 else Status.WARN
        return CheckResult(status, _ms_since(start), "ms", f"HTTP {response.status_code}")

    checks = [
        HealthCheck("ai_service:circuitBreaker", breaker, FULL_ONLY, critical=False, requires="ai")
    ]
    if settings.AI_PROVIDER != "local":
        checks.append(
            HealthCheck(
                "ai_service:responseTime", reachable, FULL_ONLY, critical=False, requires="ai"
            )
        )
    return checks


def system_checks(settings: Settings, sampler: SystemSampler, disk_path: str) -> list[HealthCheck]:
    def threshold_result(percent: float, limit: float, source: str) -> CheckResult:
        status = Status.WARN if percent >= limit else Status.PASS
        # The value judged comes first: the table shows `output`, not the JSON's observedValue.
        output = f"{percent:.1f}% ({source}); threshold {limit:g}%"
        return CheckResult(status, percent, "percent", output)

    async def cpu() -> CheckResult:
        usage = sampler.cpu()
        return threshold_result(usage.percent, settings.ALERT_THRESHOLD_CPU, usage.source)

    async def memory() -> CheckResult:
        usage = await asyncio.to_thread(sampler.memory)
        return threshold_result(usage.percent, settings.ALERT_THRESHOLD_MEMORY, usage.source)

    async def disk() -> CheckResult:
        usage = await asyncio.to_thread(sampler.disk, disk_path)
        return threshold_result(usage.percent, settings.ALERT_THRESHOLD_DISK, disk_path)

    return [
        HealthCheck("system:cpuUtilization", cpu, FULL_ONLY, "system", critical=False),
        HealthCheck("system:memoryUtilization", memory, FULL_ONLY, "system", critical=False),
        HealthCheck("system:diskUtilization", disk, FULL_ONLY, "system", critical=False),
    ]


def external_check(urls: list[str], client: Callable[[], httpx.AsyncClient]) -> HealthCheck:
    async def probe(url: str) -> dict[str, Any]:
        import httpx

        start = time.perf_counter_ns()
        try:
            response = await client().get(url)
        except httpx.HTTPError as exc:
            reason = f"{type(exc).__name__}: {exc}"[:200]
            return {"componentId": url, "status": "fail", "output": reason}
        status = "pass" if response.status_code < 500 else "fail"
        return {
            "componentId": url,
            "status": status,
            "observedValue": _ms_since(start),
            "observedUnit": "ms",
            "output": f"HTTP {response.status_code}",
        }

    async def reachability() -> CheckResult:
        entries = await asyncio.gather(*(probe(url) for url in urls))
        failed = sum(1 for e in entries if e["status"] == "fail")
        status = Status.WARN if failed else Status.PASS
        output = f"{failed} of {len(urls)} unreachable" if failed else None
        return CheckResult(status, len(urls) - failed, "reachable", output, tuple(entries))

    return HealthCheck("external:reachability", reachability, FULL_ONLY, critical=False)


def database_disk_path(settings: Settings) -> str:
    """The folder holding an embedded SQLite database, else the working directory."""
    url = settings.database_url
    if is_sqlite(url):
        from sqlalchemy.engine import make_url

        database = make_url(url).database
        if database and database != ":memory:":
            return str(Path(database).expanduser().resolve().parent)
    return "."


def builtin_checks(
    opened: Opened, settings: Settings, client: Callable[[], httpx.AsyncClient]
) -> list[HealthCheck]:
    """Every check of the service; those needing a resource are skipped until it is open."""
    checks = [
        *database_checks(opened, settings),
        cache_check(opened),
        *queue_checks(opened, settings),
        *ai_checks(opened, settings, client),
        *system_checks(settings, SystemSampler(), database_disk_path(settings)),
    ]
    if settings.EXTERNAL_SERVICES:
        checks.append(external_check(settings.EXTERNAL_SERVICES, client))
    return checks
