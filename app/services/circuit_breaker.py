"""A circuit breaker for calls to an external service (closed → open → half-open → closed).

Closed: calls pass; `failure_threshold` consecutive failures open the circuit. Open: calls are
refused at once (`CircuitOpenError`) until `cooldown` seconds pass. Half-open: exactly one
trial call passes; its success closes the circuit, its failure opens it for another cool-down.
The clock is injectable so tests can step through cool-downs without sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from enum import IntEnum
from typing import Any, TypeVar

from app.monitoring.metrics import CIRCUIT_STATE

T = TypeVar("T")


class CircuitState(IntEnum):
    """Values match the `circuit_breaker_state` gauge: 0 closed, 1 half-open, 2 open."""

    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


class CircuitOpenError(Exception):
    """The circuit is open: the call was not attempted."""

    def __init__(self, name: str, retry_in: float) -> None:
        super().__init__(f"circuit {name!r} is open; next trial in {retry_in:.1f}s")
        self.retry_in = retry_in


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int,
        cooldown: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.failure_threshold = failure_threshold
        self.cooldown = cooldown
        self.clock = clock
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_in_flight = False
        self.opened_count = 0
        self._publish()

    @property
    def state(self) -> CircuitState:
        if self._state is CircuitState.OPEN and self.clock() - self._opened_at >= self.cooldown:
            self._set(CircuitState.HALF_OPEN)
        return self._state

    @property
    def failures(self) -> int:
        return self._failures

    def allow(self) -> bool:
        """Whether a call may go ahead now; in half-open, only the one trial call may."""
        state = self.state
        if state is CircuitState.CLOSED:
            return True
        if state is CircuitState.HALF_OPEN and not self._trial_in_flight:
            self._trial_in_flight = True
            return True
        return False

    def record_success(self) -> None:
        self._failures = 0
        self._trial_in_flight = False
        self._set(CircuitState.CLOSED)

    def record_failure(self) -> None:
        self._trial_in_flight = False
        self._failures += 1
        if self._state is CircuitState.HALF_OPEN or self._failures >= self.failure_threshold:
            self._opened_at = self.clock()
            self.opened_count += 1
            self._set(CircuitState.OPEN)

    async def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Run `fn` through the breaker; raises CircuitOpenError without calling when open."""
        if not self.allow():
            retry_in = max(self.cooldown - (self.clock() - self._opened_at), 0.0)
            raise CircuitOpenError(self.name, retry_in)
        try:
            result = await fn()
        except BaseException:
            self.record_failure()
            raise
        self.record_success()
        return result

    def snapshot(self) -> dict[str, Any]:
        state = self.state
        return {
            "name": self.name,
            "state": state.name.lower(),
            "failures": self._failures,
            "failure_threshold": self.failure_threshold,
            "cooldown_seconds": self.cooldown,
            "opened_count": self.opened_count,
        }

    def _set(self, state: CircuitState) -> None:
        self._state = state
        self._publish()

    def _publish(self) -> None:
        CIRCUIT_STATE.labels(self.name).set(int(self._state))
