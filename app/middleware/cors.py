"""CORS for an explicit list of origins (Starlette's pure-ASGI CORSMiddleware underneath).

Bearer tokens travel in the Authorization header, never in cookies, so credentials are off
and a wildcard origin is refused. A refused preflight is answered as problem+json.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware as StarletteCORS
from starlette.responses import Response

from app.errors import PROBLEM_JSON, problem_body

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
    def __init__(self, app: Any, *, origins: Sequence[str], max_age: int = 600) -> None:
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

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        body = problem_body(
            status=400,
            detail=bytes(response.body).decode(errors="replace"),
            instance="",
            request_id=None,
            type_slug="cors-refused",
        )
        return Response(json.dumps(body), status_code=400, media_type=PROBLEM_JSON)
