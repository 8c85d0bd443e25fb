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
from app.monitoring.service import HealthService
from app.monitoring.tracing import (
    build_tracer_provider,
    shutdown_tracer_provider,
    telemetry_config,
)
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
    return shutdown.remaining(settings.GRACEFUL_TIMEOUT) + shutdown.CLEANUP_SECONDS


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for `settings` (from the environment when omitted)."""
    settings = settings or get_settings()
    configure_logging(settings)
    tracer_provider = build_tracer_provider(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            app.state.resources = stack
            stack.callback(shutdown_tracer_provider, tracer_provider)
            app.state.db = await stack.enter_async_context(
                Database.open(settings, close_within=lambda: _left_to_close(settings))
            )
            app.state.cache = await stack.enter_async_context(Cache.open(settings))
            app.state.player_search = None
            if settings.ENABLE_CACHING:
                app.state.player_search = PlayerSearch(
                    app.state.db.read_sessions, ttl=settings.CACHE_TTL
                )
                stack.push_async_callback(app.state.player_search.aclose)
            await stack.enter_async_context(app.state.security.running(app.state.db))
            await stack.enter_async_context(app.state.health.running())
            # Queue workers start once the database is open and stop first, within the grace.
            app.state.ai = await stack.enter_async_context(AIProvider.open(settings))
            app.state.queue = TaskQueue(app.state.db, settings)
            app.state.analyses = AnalysisService(
                db=app.state.db, queue=app.state.queue, ai=app.state.ai, settings=settings
            )
            await stack.enter_async_context(app.state.queue.running())
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
    app.state.tracer_provider = tracer_provider
    app.state.settings = settings
    app.state.started_monotonic = time.monotonic()
    app.state.health = HealthService(app.state, settings)
    # Built before the middleware, which shares its rate limiter and token checks.
    app.state.security = SecurityServices(settings)
    for check in app.state.security.health_checks():
        app.state.health.registry.add(check)

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
    install_middleware(app, settings)
    return app
