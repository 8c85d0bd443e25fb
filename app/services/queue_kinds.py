"""What the queue runs: task kinds (a handler and its completion writes), priorities, the
retry backoff, and the two diagnostic kinds every queue serves."""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.services.queue_store import ClaimedTask

URGENCY_PRIORITY: Mapping[str, int] = {"low": 0, "medium": 1, "high": 2, "critical": 3}
"""Request urgency to queue priority; higher runs first."""
DEFAULT_QUEUE = "default"
SYSTEM_QUEUE = "system"
BACKOFF_BASE = 1.0
"""Seconds before the first retry (before jitter); doubles with every attempt."""
BACKOFF_CAP = 300.0
"""No retry waits longer than five minutes."""

Handler = Callable[[ClaimedTask], Awaitable[Any]]
OnComplete = Callable[[AsyncSession, ClaimedTask, Any], Awaitable[None]]
OnDead = Callable[[AsyncSession, ClaimedTask, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class TaskKind:
    queue: str
    handler: Handler
    on_complete: OnComplete | None = None
    on_dead: OnDead | None = None


def backoff_delay(attempt: int, rng: random.Random, base: float = BACKOFF_BASE) -> float:
    """Full jitter: uniform between 0 and base × 2^(attempt-1), capped."""
    return rng.uniform(0.0, min(BACKOFF_CAP, base * 2 ** max(attempt - 1, 0)))


def priority_for(urgency: str) -> int:
    return URGENCY_PRIORITY.get(urgency, URGENCY_PRIORITY["medium"])


async def echo(task: ClaimedTask) -> dict[str, Any]:
    """A cheap diagnostic task: returns its payload and who ran it."""
    return {"echo": task.payload, "task_id": task.id, "pid": os.getpid()}


async def sleep(task: ClaimedTask) -> dict[str, Any]:
    """A diagnostic task that takes `seconds` to run, for drills of shutdown and leases."""
    seconds = float(task.payload.get("seconds", 1.0))
    await asyncio.sleep(seconds)
    return {"slept": seconds, "task_id": task.id, "pid": os.getpid()}
