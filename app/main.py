"""The application factory: `create_app(settings)` builds the FastAPI app.

One lifespan opens every resource the app holds (database pools, cache, queue workers,
health monitor) and closes them in reverse order on shutdown.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute

from app import __version__
from app.api import (
    add_routes,
    admin,
    auth,
    health,
    metrics,
    openapi,
    players,
    stream,
    system,
    teams,
    trades,
)
from app.api.docs import docs_routes
from app.db.engine import Database
from app.errors import install_problem_handlers
from app.logging_config import configure_logging
from app.middleware import install_middleware
from app.monitoring.request_stats import RequestStats
from app.monitoring.service import HealthService
from app.monitoring.tracing import (
    build_tracer_provider,
    shutdown_tracer_provider,
    telemetry_config,
)
from app.monitoring.window import RequestWindow
from app.resources import AppParts, opened_with
from app.security.services import SecurityServices
from app.services import shutdown
from app.services.ai_provider import AIProvider
from app.services.analyses import AnalysisService
from app.services.cache import Cache
from app.services.player_search import PlayerSearch
from app.services.queue import TaskQueue
from app.settings import Environment, Settings, get_settings

API_PREFIX = "/api/v1"


def _left_to_close(settings: Settings) -> float:
    """Seconds the last resources may take to close: what is left of the grace period and
    the clean-up allowance after it, so a stalled database cannot hold the process."""
    return shutdown.closing_left(settings.GRACEFUL_TIMEOUT)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for `settings` (from the environment when omitted)."""
    settings = settings or get_settings()
    configure_logging(settings)
    tracer_provider = build_tracer_provider(settings)

    security = SecurityServices(settings)
    monitor = HealthService(settings)
    for check in security.health_checks():
        monitor.registry.add(check)
    window = RequestWindow() if settings.ENABLE_PERFORMANCE_MONITORING else None
    parts = AppParts(
        settings=settings,
        security=security,
        health=monitor,
        tracer_provider=tracer_provider,
        started_monotonic=time.monotonic(),
        request_stats=RequestStats(window) if window is not None else None,
        request_window=window,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            stack.callback(shutdown_tracer_provider, tracer_provider)
            db = await stack.enter_async_context(
                Database.open(settings, close_within=lambda: _left_to_close(settings))
            )
            cache = await stack.enter_async_context(Cache.open(settings))
            player_search = None
            if settings.ENABLE_CACHING:
                player_search = PlayerSearch(db.read_sessions, ttl=settings.CACHE_TTL)
                stack.push_async_callback(player_search.aclose)
            await stack.enter_async_context(security.running(db))
            await stack.enter_async_context(monitor.running())
            # Queue workers start once the database is open and stop first, within the grace.
            ai = await stack.enter_async_context(AIProvider.open(settings))
            queue = TaskQueue(db, settings)
            app.state.resources = resources = opened_with(
                parts,
                db=db,
                cache=cache,
                player_search=player_search,
                ai=ai,
                queue=queue,
                analyses=AnalysisService(db=db, queue=queue, ai=ai, settings=settings),
            )
            monitor.attach(resources)
            stack.callback(monitor.attach, None)
            await stack.enter_async_context(queue.running())
            yield

    docs = settings.ENVIRONMENT is not Environment.PRODUCTION
    app = FastAPI(
        title="Baseball Trade AI",
        version=__version__,
        description=openapi.DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served offline by app.api.docs below
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
        telemetry=telemetry_config(tracer_provider),
    )
    app.openapi = lambda: openapi.build_openapi(app)  # type: ignore[method-assign]
    app.state.parts = parts

    for module in (health, teams, players, stream, auth, admin, system, trades):
        add_routes(app, module.router, API_PREFIX)
    add_routes(app, metrics.router)
    if docs:
        app.router.routes.extend(
            docs_routes(
                title=app.title,
                version=app.version,
                openapi_url="/openapi.json",
                links={
                    "API reference (Swagger UI)": "/docs",
                    "API reference (ReDoc)": "/redoc",
                    "OpenAPI document": "/openapi.json",
                    "Health report": f"{API_PREFIX}/health",
                    "Prometheus metrics": "/metrics",
                },
            )
        )
    # Routes are matched in order: the API first, the interactive docs (development) after it.
    app.router.routes.sort(key=lambda route: not isinstance(route, APIRoute))

    install_problem_handlers(app, expose_internals=settings.is_development)
    install_middleware(
        app,
        settings,
        security=security,
        request_stats=parts.request_stats,
        follow_otel=tracer_provider is not None,
    )
    return app
