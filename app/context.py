"""The request being served, for every layer: its ids, in a contextvar.

On the ground floor with the settings and logging, so the log formatter can read it without
importing the middleware (`app.middleware.request_context` sets it for every request).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from random import getrandbits


@dataclass(slots=True)
class RequestContext:
    """What identifies the request being served (read by logging and error responses)."""

    request_id: str
    trace_id: str
    span_id: str
    parent_span_id: str | None = None
    trace_flags: str = "01"

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.trace_flags}"


current_request: ContextVar[RequestContext | None] = ContextVar("current_request", default=None)


def new_request_id() -> str:
    """A fresh request id: 32 hex digits. The middleware mints them, and so does an error
    response when request tracing is switched off."""
    # Ids need to be unique, not secret: the PRNG is ten times cheaper than os.urandom.
    return getrandbits(128).to_bytes(16).hex()
