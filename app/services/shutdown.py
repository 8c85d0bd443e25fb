"""The process's stop deadline: one grace period shared by everything that drains.

When a worker is told to stop, the deadline is set once (monotonic now + GRACEFUL_TIMEOUT).
In-flight HTTP requests and running queue tasks then drain side by side and each waits only
for what is left of that one period, so a stop fits in the grace that `btai render` budgets
for (terminationGracePeriodSeconds = preStop + GRACEFUL_TIMEOUT + margin), not twice it.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable

logger = logging.getLogger("app.shutdown")

CLEANUP_SECONDS = 2.0
"""After the grace period: what returning claimed tasks and closing connections may take. A
database that stalls longer is given up on (leases lapse, sockets are dropped)."""

_deadline: float | None = None
_listeners: list[Callable[[], object]] = []


def begin(grace: float) -> None:
    """Start the grace period now; a second call (another signal) keeps the first deadline.

    Safe to call from a signal handler: listeners must only schedule work (for example with
    `loop.call_soon_threadsafe`), never await or take locks.
    """
    global _deadline
    if _deadline is not None:
        return
    _deadline = time.monotonic() + max(grace, 0.0)
    for listener in list(_listeners):
        try:
            listener()
        except Exception:  # one failing listener must not stop the others from hearing it
            logger.exception("shutdown listener failed")


def began() -> bool:
    """True once the process was told to stop."""
    return _deadline is not None


def remaining(default: float) -> float:
    """Seconds left of the grace period (never more than `default`); `default` before a stop."""
    if _deadline is None:
        return default
    return max(0.0, min(default, _deadline - time.monotonic()))


def closing_left(grace: float) -> float:
    """Seconds left to close what is still open: the rest of the grace period and then
    CLEANUP_SECONDS, one allowance for the whole process however many steps share it
    (`grace` + CLEANUP_SECONDS before a stop)."""
    if _deadline is None:
        return grace + CLEANUP_SECONDS
    return max(0.0, _deadline + CLEANUP_SECONDS - time.monotonic())


def on_begin(listener: Callable[[], object]) -> Callable[[], None]:
    """Call `listener` when the stop begins (at once if it already has); returns a function
    that unsubscribes it."""
    _listeners.append(listener)
    if _deadline is not None:
        listener()

    def unsubscribe() -> None:
        with contextlib.suppress(ValueError):
            _listeners.remove(listener)

    return unsubscribe


def reset() -> None:
    """Forget the stop and every listener (tests start each case from a process that runs)."""
    global _deadline
    _deadline = None
    _listeners.clear()
