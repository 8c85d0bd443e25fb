"""Concurrent users: the most users at which p95 stays under an objective, by a stepped search.

Every simulated user sends one request per `think_s` seconds on a fixed schedule (the open
model of `btai loadtest --rate`), so p95 is read from the corrected latencies: the wait of a
request that could not be sent on time counts. The user count doubles from `start_users`
until a step misses the objective (p95 above it, more than 1% failing, or a saturated load
generator), then halves the gap between the last step that held and the first that did not,
to within a tenth. At most `max_steps` steps of `step_s` seconds each, and never more than
`max_users`: the search is bounded in time and in the load it sends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_FAIL_RATIO = 0.01


@dataclass(frozen=True)
class UsersSearch:
    objective_p95_ms: float
    max_users: int
    step_s: float
    think_s: float = 1.0
    start_users: int = 10
    max_steps: int = 8


def step_result(users: int, summary: dict[str, Any], objective_ms: float) -> dict[str, Any]:
    """One step of the search from its load-test summary: did it hold the objective?"""
    total = summary["total"]
    latency = total.get("corrected_ms") or total.get("latency_ms") or {}
    p95 = latency.get("p95")
    step = {
        "users": users,
        "p95_ms": p95,
        "rps": total["rps"],
        "fail_ratio": total["fail_ratio"],
        "valid": summary["valid"],
    }
    step["held"] = (
        summary["valid"]
        and p95 is not None
        and p95 <= objective_ms
        and total["fail_ratio"] <= MAX_FAIL_RATIO
    )
    return step


def next_users(search: UsersSearch, held: int, missed: int | None) -> int | None:
    """The next user count to try, or None when the search is done."""
    if missed is None:
        return None if held >= search.max_users else min(search.max_users, held * 2 or 1)
    if missed - held <= max(1, held // 10):
        return None
    return (held + missed) // 2


def search_users(search: UsersSearch, measure: Callable[[int], dict[str, Any]]) -> dict[str, Any]:
    """Run the search; `measure(users)` runs one step and returns its `step_result`."""
    held, missed = 0, None
    steps: list[dict[str, Any]] = []
    users: int | None = min(search.start_users, search.max_users)
    stopped = "max_steps"
    while users is not None and len(steps) < search.max_steps:
        step = measure(users)
        steps.append(step)
        if not step["valid"]:
            stopped = "load generator saturated"
            break
        if step["held"]:
            held = users
        else:
            missed = users
        users = next_users(search, held, missed)
        if users is None:
            stopped = "max_users" if missed is None else "objective"
    return {
        "users": held,
        "objective_p95_ms": search.objective_p95_ms,
        "think_s": search.think_s,
        "max_users": search.max_users,
        "stopped_by": stopped,
        "steps": steps,
    }
