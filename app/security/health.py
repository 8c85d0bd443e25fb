"""The security parts' health checks: which store the rate limiter counts in."""

from __future__ import annotations

from app.monitoring.checks import READY_AND_FULL, CheckResult, HealthCheck, Status
from app.security.ratelimit import RateLimiter


def rate_limit_check(limiter: RateLimiter) -> HealthCheck:
    """`ratelimit:backend`: pass on Redis or on memory by design, warn on the memory fallback."""

    async def backend() -> CheckResult:
        where, reason = await limiter.backend()
        if where == "memory-fallback":
            # Each worker then counts on its own, so a client gets its limit once per worker.
            warning = f"REDIS_URL is set but limits are counted in process memory: {reason}"
            return CheckResult(Status.WARN, "memory", None, warning[:300])
        note = "no REDIS_URL: limits are counted in process memory" if where == "memory" else None
        return CheckResult(Status.PASS, where, None, note)

    # The fallback keeps limiting, so the check can never make the service unready.
    return HealthCheck(
        "ratelimit:backend", backend, READY_AND_FULL, critical=False, requires="security"
    )
