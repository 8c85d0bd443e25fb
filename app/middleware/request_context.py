"""Request context: a request id and a W3C trace context for every HTTP request.

The ids travel three ways: in the response headers (`X-Request-ID`, `traceparent`), in
`scope["state"]` (where problem responses read the request id) and in a contextvar that the
log formatter reads, so every log line written while serving a request names it.
"""

from __future__ import annotations

import re
from contextvars import Token
from random import getrandbits

from starlette.types import ASGIApp, Scope

from app.context import RequestContext, current_request
from app.middleware.edge import EdgeMiddleware

REQUEST_ID_HEADER = b"x-request-id"
TRACEPARENT_HEADER = b"traceparent"
ResponseHeaders = tuple[tuple[bytes, bytes], ...]
__all__ = ["RequestContext", "RequestContextMiddleware", "RequestIds", "current_request"]
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
# version 00 only; ids lowercase hex, never all zeros (W3C Trace Context, section 3.2).
_TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16


def context_from_headers(request_id: str | None, traceparent: str | None) -> RequestContext:
    """Keep a valid incoming request id and continue a valid trace; replace anything else."""
    # Request id, trace id and span id from one draw (unique, not secret, as new_request_id).
    ids = getrandbits(320).to_bytes(40).hex()
    if request_id is None or _REQUEST_ID.fullmatch(request_id) is None:
        request_id = ids[:32]
    if traceparent is not None:
        match = _TRACEPARENT.fullmatch(traceparent.strip())
        if match and match[1] != _ZERO_TRACE and match[2] != _ZERO_SPAN:
            return RequestContext(request_id, match[1], ids[64:], match[2], match[3])
    return RequestContext(request_id, ids[32:64], ids[64:])


def _adopt_current_span(ctx: RequestContext) -> None:
    from opentelemetry import trace

    span = trace.get_current_span().get_span_context()
    if span.is_valid:
        ctx.trace_id, ctx.span_id = f"{span.trace_id:032x}", f"{span.span_id:016x}"
        ctx.trace_flags = f"{int(span.trace_flags):02x}"


class RequestIds:
    """The request-context part of the edge layer (`app.middleware.edge`)."""

    def __init__(self, *, follow_otel: bool = False) -> None:
        # With OpenTelemetry exporting, FastAPI opens the request span before this middleware
        # runs; taking its ids makes log lines and response headers name the exported span.
        self.follow_otel = follow_otel

    def begin(self, scope: Scope) -> tuple[Token[RequestContext | None], ResponseHeaders]:
        """Set the request's context; return its token and the response headers naming it."""
        request_id = traceparent = None
        for name, value in scope["headers"]:
            if name == REQUEST_ID_HEADER:
                request_id = value.decode("latin-1")
            elif name == TRACEPARENT_HEADER:
                traceparent = value.decode("latin-1")
        ctx = context_from_headers(request_id, traceparent)
        if self.follow_otel:
            _adopt_current_span(ctx)
        state = scope.get("state")
        if state is None:
            state = scope["state"] = {}
        state["request_id"] = ctx.request_id
        state["trace_id"] = ctx.trace_id
        headers = (
            (REQUEST_ID_HEADER, ctx.request_id.encode()),
            (TRACEPARENT_HEADER, ctx.traceparent.encode()),
        )
        return current_request.set(ctx), headers


class RequestContextMiddleware(EdgeMiddleware):
    """Assign the request id and trace context; echo them in the response headers."""

    def __init__(self, app: ASGIApp, *, follow_otel: bool = False) -> None:
        super().__init__(app, context=RequestIds(follow_otel=follow_otel))
