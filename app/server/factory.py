"""What each server worker calls: the app factory and the logging set-up.

Workers are fresh interpreters; they rebuild the same Settings from the environment that
`btai serve` prepared, so every worker of one run has one configuration. The logging set-up
takes plain values: the supervisor of several workers runs it without building Settings.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.types import ASGIApp

    from app.settings import Settings


def root_handler(readable: bool = False) -> logging.Handler:
    """The service's log handler (JSON unless `readable`), for logging.dictConfig."""
    from app.logging_config import log_handler

    return log_handler(readable=readable)


def logging_dict_config(level: str, *, readable: bool) -> dict[str, Any]:
    """A dictConfig the servers apply in every process, before the app is even built.

    Routing uvicorn's and granian's loggers to the root handler keeps one format per process
    from the first line on.
    """
    servers = ("uvicorn", "uvicorn.error", "uvicorn.access", "_granian", "granian.access")
    loggers: dict[str, Any] = {
        name: {"handlers": [], "level": level.upper(), "propagate": True} for name in servers
    }
    # A worker imports alembic before the app configures logging; alembic then lists every
    # plugin it loads at INFO, once per worker. Only worth seeing when debugging.
    if level.upper() != "DEBUG":
        loggers["alembic.runtime.plugins"] = {"level": "WARNING"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"btai": {"()": "app.server.factory.root_handler", "readable": readable}},
        "root": {"handlers": ["btai"], "level": level.upper()},
        "loggers": loggers,
    }


def configure_process_logging(settings: Settings) -> None:
    """Log the supervising process the way the workers log."""
    from app.logging_config import configure_logging

    configure_logging(settings)


def _build(settings: Settings) -> FastAPI:
    # FastAPI imports the whole of pydantic.v1 (1.5 MB per worker) only to check that no
    # model of a route is a v1 model; with pydantic.v1 unimportable the check says no, which
    # is true of every model here. A worker imports it first, if at all, here.
    sys.modules.setdefault("pydantic.v1", None)  # type: ignore[arg-type]
    from app.main import create_app

    return create_app(settings)


def create_worker_app() -> FastAPI:
    """Build the app from the environment, as a uvicorn worker does."""
    from app.settings import get_settings

    return _build(get_settings())


def create_proxied_worker_app() -> ASGIApp:
    """The app behind X-Forwarded-* handling, for servers that have none of their own."""
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    from app.server.http_limits import RequestLineLimit
    from app.settings import get_settings

    settings = get_settings()
    proxied = ProxyHeadersMiddleware(
        cast(Any, _build(settings)), trusted_hosts=settings.TRUSTED_PROXIES
    )
    # granian bounds the head as a whole; the request line's own limit is checked here.
    return RequestLineLimit(cast("ASGIApp", proxied), limit=settings.HTTP_MAX_REQUEST_LINE)
