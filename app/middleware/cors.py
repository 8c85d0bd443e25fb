"""CORS for an explicit list of origins (Starlette's pure-ASGI CORSMiddleware underneath).

Bearer tokens travel in the Authorization header, never in cookies, so credentials are off
and a wildcard origin is refused. A refused preflight is answered as problem+json.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware as StarletteCORS
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import PROBLEM_JSON, ensure_request_id, problem_body

ALLOWED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
ALLOWED_HEADERS = ("Authorization", "Content-Type", "X-Request-ID", "traceparent")
EXPOSED_HEADERS = (
    "X-Request-ID",
    "Retry-After",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "RateLimit-Policy",
    "ETag",
)


class CORSMiddleware(StarletteCORS):
    def __init__(self, app: ASGIApp, *, origins: Sequence[str], max_age: int = 600) -> None:
        if any(origin.strip() == "*" for origin in origins):
            raise ValueError("CORS_ORIGINS must list origins explicitly, not '*'")
        super().__init__(
            app,
            allow_origins=[origin.strip().rstrip("/") for origin in origins],
            allow_methods=ALLOWED_METHODS,
            allow_headers=ALLOWED_HEADERS,
            expose_headers=EXPOSED_HEADERS,
            allow_credentials=False,
            max_age=max_age,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            headers = Headers(scope=scope)
            if "origin" in headers and "access-control-request-method" in headers:
                response = self.preflight_response(request_headers=headers)
                if response.status_code >= 400:
                    response = _refused(scope, response)
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def _refused(scope: Scope, refused: Response) -> Response:
    """Starlette's plain-text refusal as problem+json naming the request, like every error."""
    body = problem_body(
        status=400,
        detail=bytes(refused.body).decode(errors="replace"),
        instance=str(scope.get("path", "")),
        request_id=ensure_request_id(scope),
        type_slug="cors-refused",
    )
    return Response(json.dumps(body), status_code=400, media_type=PROBLEM_JSON)
