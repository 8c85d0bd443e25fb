"""What the app holds, in one typed place: `Resources`, built by the lifespan.

`create_app` makes the parts that exist before the lifespan (`AppParts` on `app.state.parts`:
settings, security services, the health service, the request statistics the middleware
feeds); the lifespan opens the rest (database, cache, player search, AI provider, queue,
analyses) and puts them all together on `app.state.resources`. Routes take what they need
through `app.deps`; nothing else reads `app.state`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from starlette.datastructures import State

if TYPE_CHECKING:
    from app.db.engine import Database
    from app.monitoring.request_stats import RequestStats
    from app.monitoring.service import HealthService
    from app.monitoring.window import RequestWindow
    from app.security.services import SecurityServices
    from app.services.ai_provider import AIProvider
    from app.services.analyses import AnalysisService
    from app.services.cache import Cache
    from app.services.player_search import PlayerSearch
    from app.services.queue import TaskQueue
    from app.settings import Settings


@dataclass(frozen=True, slots=True, kw_only=True)
class AppParts:
    """What `create_app` builds, before any resource opens."""

    settings: Settings
    security: SecurityServices
    health: HealthService
    tracer_provider: Any
    """The OpenTelemetry tracer provider, None without an OTLP endpoint."""
    started_monotonic: float
    """When `create_app` ran (`time.monotonic()`), for uptimes."""
    request_stats: RequestStats | None
    """Per-route request counts and latencies (None with ENABLE_PERFORMANCE_MONITORING off)."""
    request_window: RequestWindow | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Resources(AppParts):
    """The parts and everything the lifespan opened."""

    db: Database
    cache: Cache
    player_search: PlayerSearch | None
    """The served season's list rows in memory (None with ENABLE_CACHING off)."""
    ai: AIProvider
    queue: TaskQueue
    analyses: AnalysisService


def opened_with(parts: AppParts, **opened: Any) -> Resources:
    """`parts` together with what the lifespan `opened` (the remaining `Resources` fields)."""
    return Resources(**{f.name: getattr(parts, f.name) for f in fields(AppParts)}, **opened)


def parts_of(state: State) -> AppParts:
    """The parts on an app's `state` (set by `create_app`)."""
    parts: AppParts = state.parts
    return parts


def resources_of(state: State) -> Resources:
    """The resources on an app's `state` (set while its lifespan runs)."""
    resources: Resources = state.resources
    return resources
