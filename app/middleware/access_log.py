"""The access line: one JSON object per response, written by the edge layer.

Production writes a line for every request (`LOG_LEVEL=INFO` or below), so it is built in the
fewest steps: no `logging.LogRecord`, no formatter, no handler lock; one dict with the request's
method, path, route template, status, duration and ids, one orjson call, and the lines of a
moment written together (at most FLUSH_INTERVAL seconds late, and at exit). The fields and
their names are those of every other JSON log line (`app.logging_config.JsonFormatter`).
In development the line goes through `logging` as a readable line instead.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import sys
import time
from typing import TextIO

import orjson
from starlette.types import Scope

from app.middleware.metrics import route_template

ACCESS_LOGGER = "app.access"
FLUSH_INTERVAL = 0.5  # seconds an access line may wait to be written with the next ones
FLUSH_BYTES = 64 * 1024  # written at once beyond this, whatever the time
logger = logging.getLogger(ACCESS_LOGGER)


class AccessLog:
    """The access-line part of the edge layer (`app.middleware.edge`)."""

    def __init__(self, *, readable: bool = False, stream: TextIO | None = None) -> None:
        self.readable = readable
        self._stream = stream
        self._pending: list[str] = []
        self._size = 0
        self._timer: asyncio.TimerHandle | None = None
        self._second = -1
        self._second_text = ""
        atexit.register(self.flush)

    @staticmethod
    def enabled() -> bool:
        """Whether access lines are written at all (the app.access logger's level)."""
        return logger.isEnabledFor(logging.INFO)

    def _timestamp(self, now: float) -> str:
        second = int(now)
        if second != self._second:  # the date and time to the second change once a second
            self._second = second
            self._second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._second_text}.{int((now - second) * 1000):03d}+00:00"

    def write(self, scope: Scope, root_path: str, status: int, elapsed_ns: int) -> None:
        """The access line of one finished request."""
        route = route_template(scope, root_path)
        method = scope["method"]
        path = scope["path"]
        state = scope.get("state") or {}
        duration_ms = round(elapsed_ns / 1e6, 3)
        message = f"{method} {path} {status}"
        if self.readable:
            logger.info(
                message,
                extra={"route": route, "status": status, "duration_ms": duration_ms},
            )
            return
        line = orjson.dumps(
            {
                "timestamp": self._timestamp(time.time()),
                "level": "INFO",
                "logger": ACCESS_LOGGER,
                "message": message,
                "request_id": state.get("request_id"),
                "trace_id": state.get("trace_id"),
                "route": route,
                "status": status,
                "duration_ms": duration_ms,
                "method": method,
            }
        ).decode()
        self._pending.append(line)
        self._size += len(line)
        if self._size >= FLUSH_BYTES:
            self.flush()
        elif self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.flush()
            else:
                self._timer = loop.call_later(FLUSH_INTERVAL, self.flush)

    def flush(self) -> None:
        """Write the pending lines now."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._pending:
            return
        text = "\n".join(self._pending) + "\n"
        self._pending.clear()
        self._size = 0
        stream: TextIO = self._stream or sys.stderr  # the stream of the moment (tests swap it)
        try:
            stream.write(text)
            stream.flush()
        except (OSError, ValueError):  # a closed stream at exit: nothing left to tell
            pass
