"""Logging: JSON lines in staging and production, readable lines in development.

Every record gets the request id and trace id of the request being served (from the
request-context contextvar); the access line and slow-request logs add route, status and
duration_ms.
uvicorn's loggers are routed through the same handler so one process writes one format.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

import orjson

from app.context import current_request
from app.security.masking import mask_secrets

if TYPE_CHECKING:
    from app.settings import Settings

# Fields a log call may pass with `extra=` that the formatters print.
EXTRA_FIELDS = ("route", "status", "duration_ms", "method")
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


class RequestContextFilter(logging.Filter):
    """Stamp each record with the current request's ids (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = current_request.get()
        if not hasattr(record, "request_id"):
            record.request_id = ctx.request_id if ctx else None
        if not hasattr(record, "trace_id"):
            record.trace_id = ctx.trace_id if ctx else None
        return True


class SecretMaskingFilter(logging.Filter):
    """Mask URL passwords, credential parameters, JWTs and bearer credentials in every line:
    a message may quote a setting or a header whoever wrote the log call."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def _masked_exception(formatter: logging.Formatter, exc_info: Any) -> str:
    return mask_secrets(logging.Formatter.formatException(formatter, exc_info))


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "trace_id": getattr(record, "trace_id", None),
        }
        for name in EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()

    def formatException(self, ei: Any) -> str:
        return _masked_exception(self, ei)


class ReadableFormatter(logging.Formatter):
    """`time level logger [request id] message key=value ...` for a developer's terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        request_id = getattr(record, "request_id", None)
        if request_id:
            line += f" request_id={request_id}"
        for name in EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line += f" {name}={value}"
        return line

    def formatException(self, ei: Any) -> str:
        return _masked_exception(self, ei)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time (test runners swap it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def log_handler(*, readable: bool, stream: TextIO | None = None) -> logging.Handler:
    """The service's handler: readable lines (development) or JSON lines, secrets masked."""
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(ReadableFormatter() if readable else JsonFormatter())
    handler.addFilter(RequestContextFilter())
    handler.addFilter(SecretMaskingFilter())
    handler.set_name("btai")
    return handler


def configure_logging(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    """Install the service's handler on the root logger (replacing an earlier one of ours)."""
    return install_handler(settings.LOG_LEVEL, readable=settings.is_development, stream=stream)


def install_handler(level: str, *, readable: bool, stream: TextIO | None = None) -> logging.Handler:
    """`configure_logging` from the two values it needs, for a process without Settings."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "btai"]:
        root.removeHandler(old)
        old.close()
    handler = log_handler(readable=readable, stream=stream)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # httpx logs every request at INFO (the health checks and alert webhook make many), and
    # alembic lists each plugin it loads: both only matter when debugging.
    debugging = root.level <= logging.DEBUG
    for chatty in ("httpx", "alembic.runtime.plugins"):
        logging.getLogger(chatty).setLevel(
            root.level if debugging else max(logging.WARNING, root.level)
        )
    for name in UVICORN_LOGGERS:
        uvicorn_logger = logging.getLogger(name)
        # uvicorn installs its own handlers before it builds the app; ours replace them.
        for old in list(uvicorn_logger.handlers):
            uvicorn_logger.removeHandler(old)
        uvicorn_logger.propagate = True
        uvicorn_logger.setLevel(level.upper())
    # The edge layer writes the access line (`app.middleware.access_log`); uvicorn's would be
    # a second, poorer one, and it formats it whenever its logger has handlers.
    logging.getLogger("uvicorn.access").propagate = False
    return handler
