"""RFC 9457 problem details: the one shape of every HTTP error the service returns.

Exception tree (every subclass, wherever it lives)::

    ProblemError            any error answered as application/problem+json
    ├── NotFound            404, an unknown resource
    ├── Conflict            409
    ├── InvalidInput        422, with the offending field
    │   └── WeakPassword    422, a password the policy refuses (app.security.passwords)
    ├── InvalidFields       422, every field at fault (a body the route itself validates)
    ├── ServiceUnavailable  503
    ├── InvalidCredentials  401, wrong username or password (app.security.accounts)
    ├── InvalidToken        401, a missing, invalid or expired token (app.security.tokens)
    ├── LoginLocked         429, too many failed logins (app.security.accounts)
    └── RateLimited         429, too many credential attempts (app.security.auth_limits)

An exception from the database layer that says the database cannot answer now (unreachable,
timed out, shutting down, pool exhausted) is answered 503 with `Retry-After`, not 500: it is
the caller's cue to retry, and it is logged as one line, not a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.context import new_request_id
from app.security.masking import mask_secrets

PROBLEM_JSON = "application/problem+json"
DATABASE_RETRY_AFTER = 5
"""Seconds a client is asked to wait after a 503 for a database outage."""
# SQLSTATE classes and codes that mean "not now" rather than "wrong": connection exceptions,
# insufficient resources, operator intervention (statement timeout, shutdown), lock timeout,
# serialization failure and deadlock.
_TRANSIENT_SQLSTATE_PREFIXES = ("08", "53", "57", "55P03", "40001", "40P01")
PROBLEM_BASE = "https://btai.dev/problems/"
logger = logging.getLogger("app.errors")

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    408: "Request Timeout",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class ProblemError(Exception):
    """An error answered as problem+json; subclasses fix status and type."""

    status: int = 400
    type_slug: str = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        type_slug: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        if type_slug is not None:
            self.type_slug = type_slug
        self.headers = dict(headers or {})
        self.extensions = extensions


class NotFound(ProblemError):
    status = 404
    type_slug = "not-found"


class Conflict(ProblemError):
    status = 409
    type_slug = "conflict"


class InvalidInput(ProblemError):
    """422 naming the field at fault; `field` is a dotted path such as `body.team_a`."""

    status = 422
    type_slug = "validation-error"

    def __init__(self, detail: str, *, field: str, **extensions: Any) -> None:
        super().__init__(detail, errors=[{"field": field, "message": detail}], **extensions)


class InvalidFields(ProblemError):
    """422 naming every field at fault, as a validation error of the request is answered."""

    status = 422
    type_slug = "validation-error"

    def __init__(self, errors: Sequence[Mapping[str, Any]]) -> None:
        rows = [_error_row(err) for err in errors]
        fields = ", ".join(row["field"] for row in rows) or "request"
        super().__init__(f"Invalid input: {fields}", errors=rows)


class ServiceUnavailable(ProblemError):
    status = 503
    type_slug = "service-unavailable"


def request_id_of(scope: Mapping[str, Any]) -> str | None:
    """The request id that the request-context middleware put in the ASGI scope, if any."""
    state = scope.get("state") or {}
    value = state.get("request_id") if isinstance(state, Mapping) else None
    return value if isinstance(value, str) else None


def ensure_request_id(scope: Any) -> str:
    """The request's id; one is minted (and kept in the scope) when tracing is switched off."""
    found = request_id_of(scope)
    if found is None:
        found = new_request_id()
        scope.setdefault("state", {})["request_id"] = found
    return found


def database_outage(exc: BaseException) -> bool:
    """True when `exc` (or what caused it) says the database cannot answer now."""
    from sqlalchemy import exc as sa_exc

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(
            current,
            sa_exc.TimeoutError | sa_exc.OperationalError | sa_exc.InterfaceError,
        ):
            return True
        if isinstance(current, TimeoutError | ConnectionError):
            return True
        sqlstate = getattr(current, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_TRANSIENT_SQLSTATE_PREFIXES):
            return True
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return False


def problem_body(
    *,
    status: int,
    detail: str,
    instance: str,
    request_id: str | None,
    type_slug: str | None = None,
    title: str | None = None,
    **extensions: Any,
) -> dict[str, Any]:
    """The JSON object of a problem response."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + (type_slug or _slug(status)),
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        # A detail may quote a URL, header or exception text: never its credentials.
        "detail": mask_secrets(detail),
        "instance": instance,
        "request_id": request_id,
    }
    body.update(extensions)
    return body


def problem_response(
    request: Request,
    *,
    status: int,
    detail: str,
    type_slug: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body = problem_body(
        status=status,
        detail=detail,
        instance=request.url.path,
        request_id=ensure_request_id(request.scope),
        type_slug=type_slug,
        **extensions,
    )
    return JSONResponse(
        body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_JSON
    )


def _slug(status: int) -> str:
    return _TITLES.get(status, "error").lower().replace(" ", "-")


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _field_path(loc: tuple[int | str, ...] | list[int | str]) -> str:
    return ".".join(str(part) for part in loc)


def _error_row(err: Mapping[str, Any]) -> dict[str, str]:
    if err.get("type") == "json_invalid":
        # A body that is not JSON at all: name the body, not a character offset in it.
        return {"field": "body", "message": f"Malformed JSON: {err.get('ctx', {}).get('error')}"}
    return {"field": _field_path(err.get("loc", ())), "message": err.get("msg", "invalid")}


def install_problem_handlers(app: FastAPI, *, expose_internals: bool) -> None:
    """Answer every error, from validation to an unhandled exception, as problem+json."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProblemError)
        return problem_response(
            request,
            status=exc.status,
            detail=exc.detail,
            type_slug=exc.type_slug,
            headers=exc.headers,
            **exc.extensions,
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return problem_response(
            request, status=exc.status_code, detail=str(exc.detail), headers=exc.headers
        )

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        body_errors = [err for err in exc.errors() if tuple(err.get("loc", ()))[:1] == ("body",)]
        if body_errors and not _is_json(request.headers.get("content-type", "")):
            return problem_response(
                request,
                status=415,
                detail="The request body must be JSON; send Content-Type: application/json.",
            )
        return await on_problem(request, InvalidFields(exc.errors()))

    def on_unhandled(request: Request, exc: Exception, *, id_header: bool) -> JSONResponse:
        request_id = ensure_request_id(request.scope)
        headers = {"X-Request-ID": request_id} if id_header else {}
        if database_outage(exc):
            logger.warning(
                "database unavailable on %s %s (request %s): %s: %s",
                request.method,
                request.url.path,
                request_id,
                type(exc).__name__,
                _first_line(exc),
            )
            headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
            return problem_response(
                request,
                status=503,
                detail="The database is not answering; retry shortly.",
                type_slug="database-unavailable",
                headers=headers,
            )
        logger.error(
            "unhandled exception on %s %s (request %s)",
            request.method,
            request.url.path,
            request_id,
            exc_info=exc,
        )
        detail = (
            f"{type(exc).__name__}: {exc}" if expose_internals else "An internal error occurred."
        )
        return problem_response(request, status=500, detail=detail, headers=headers)

    async def on_outermost(request: Request, exc: Exception) -> JSONResponse:
        # Starlette answers from outside the middleware stack, so the id header is added here.
        return on_unhandled(request, exc, id_header=True)

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(Exception, on_outermost)
    # Added before any other middleware, so it is the innermost layer: it answers an error the
    # routes left unhandled while the request's own layers still wrap the answer.
    app.add_middleware(
        AnswerUnhandled, handler=lambda request, exc: on_unhandled(request, exc, id_header=False)
    )


class AnswerUnhandled:
    """Answer an unhandled exception and stop it there.

    Starlette's outermost layer answers too, but then re-raises: the server logs a second
    traceback and closes the client's keep-alive connection although the answer was complete.
    Stopped here, every 500 is logged once (with the request id) and the connection stays
    usable. An exception after the response began still goes up: only the server can end a
    half-sent response, by closing the connection.
    """

    def __init__(self, app: ASGIApp, handler: Callable[[Request, Exception], JSONResponse]) -> None:
        self.app = app
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            if started:
                raise
            response = self.handler(Request(scope, receive), exc)
            await response(scope, receive, send)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else ""


async def send_problem(
    scope: Mapping[str, Any],
    send: Any,
    *,
    status: int,
    detail: str,
    type_slug: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> None:
    """Answer from pure ASGI middleware with a problem+json response (no Starlette objects)."""
    import json

    body = json.dumps(
        problem_body(
            status=status,
            detail=detail,
            instance=str(scope.get("path", "")),
            request_id=ensure_request_id(scope),
            type_slug=type_slug,
            **extensions,
        )
    ).encode()
    raw_headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    raw_headers += [
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})
