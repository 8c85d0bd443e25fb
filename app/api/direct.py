"""A JSON-body route answered without FastAPI's per-request dependency solving when it can be.

FastAPI's request handler reads the body through a stream, parses its content type with the
`email` package, then solves the dependency tree level by level (cache keys, scope checks and
callable classification on every request) before it validates the body. For an endpoint
`async def endpoint(body: Model, service: Annotated[..., Depends(get_service)]) -> Response`
whose dependencies only read the request, that is most of a request's cost. `DirectBodyRoute`
answers such a request itself, as the route's ASGI app: the body read from `receive`,
`json.loads` as FastAPI calls it, `Model.model_validate` (the validation FastAPI runs), each
dependency called once with the request, in FastAPI's order, and the endpoint's own Response,
without the per-request exit stacks that only dependencies with `yield` need.

Anything else goes to FastAPI's own app for the route, so every error is FastAPI's, byte for
byte: a content type other than `application/json`, a body that fails to arrive, parse or
validate (the app is given the same body, or the same failure, to read again), dependency
overrides, or FastAPI's telemetry on. A dependency that raises (401 without a token) raises
as it would under FastAPI, since FastAPI too solves dependencies before it reports a body
that fails validation, and the app's exception handlers answer it, as they answer what the
endpoint raises.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any, get_type_hints

from fastapi.dependencies.models import Dependant
from fastapi.telemetry import get_telemetry_data
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from app.api import LiteralPrefixRoute, header

_JSON = b"application/json"


def _request_only(dependant: Dependant) -> bool:
    """A dependency FastAPI would call with the request alone, awaited, nothing cached."""
    call = dependant.call
    if call is None or not dependant.request_param_name:
        return False
    takes_more = (
        dependant.path_params or dependant.query_params or dependant.header_params
        or dependant.cookie_params or dependant.body_params or dependant.dependencies
        or dependant.websocket_param_name or dependant.http_connection_param_name
        or dependant.response_param_name or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name or dependant.own_oauth_scopes
    )  # fmt: skip
    function = call if inspect.isfunction(call) else getattr(call, "__call__", None)  # noqa: B004
    return not takes_more and inspect.iscoroutinefunction(function)


class DirectBodyRoute(LiteralPrefixRoute):
    """An APIRoute for `async def endpoint(body: Model, **request-only dependencies)` that
    returns a `Response`; any other shape fails when the route is built, never in a request."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        dependant = self.dependant
        own = (
            dependant.path_params or dependant.query_params or dependant.header_params
            or dependant.cookie_params or dependant.request_param_name
            or dependant.response_param_name or dependant.background_tasks_param_name
            or dependant.websocket_param_name or dependant.http_connection_param_name
            or dependant.security_scopes_param_name
        )  # fmt: skip
        body_params = dependant.body_params
        model = body_params[0].field_info.annotation if len(body_params) == 1 else None
        returns = get_type_hints(endpoint).get("return")
        if (
            own
            or self._embed_body_fields
            or self.max_body_size is not None
            or not (isinstance(model, type) and issubclass(model, BaseModel))
            or not all(_request_only(d) for d in dependant.dependencies)
            or not (isinstance(returns, type) and issubclass(returns, Response))
            or not inspect.iscoroutinefunction(endpoint)
        ):
            raise TypeError(f"{path}: not a JSON body with request-only dependencies")
        self._model: type[BaseModel] = model
        self._body_name = body_params[0].name
        # Route-level dependencies (no name) first, as FastAPI solves them.
        self._calls = [(d.name, d.call) for d in dependant.dependencies]
        self._fastapi_app = self.app  # FastAPI's request_response(handler), for the rest
        self.app = self._direct

    async def _direct(self, scope: Scope, receive: Receive, send: Send) -> None:
        fastapi_app = self._fastapi_app
        overrides = self.dependency_overrides_provider
        if (
            header(scope, b"content-type") != _JSON
            or getattr(overrides, "dependency_overrides", None)
            or get_telemetry_data() is not None
        ):
            return await fastapi_app(scope, receive, send)
        chunks: list[bytes] = []
        try:
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return await fastapi_app(scope, _replay(receive, [*chunks, message]), send)
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
        except Exception as failure:  # FastAPI's handler decides what a failed read means
            return await fastapi_app(scope, _replay(receive, chunks, failure), send)
        body = b"".join(chunks)
        try:
            data = self._model.model_validate(json.loads(body))
        except Exception:  # FastAPI's handler reports it as it always has
            return await fastapi_app(scope, _replay(receive, [body]), send)
        request = Request(scope, receive, send)
        # A dependency or the endpoint that raises is answered by the app's exception
        # handlers, as from FastAPI's handler.
        values: dict[str, Any] = {}
        for name, call in self._calls:
            value = await call(request)  # type: ignore[misc]
            if name is not None:
                values[name] = value
        values[self._body_name] = data
        response: Response = await self.endpoint(**values)
        await response(scope, receive, send)


def _replay(receive: Receive, chunks: list[Any], failure: Exception | None = None) -> Receive:
    """`receive` again, giving what was read (body chunks, or the one message that was not a
    body), then raising `failure` if reading failed; after that, the server's messages."""
    pending: list[Message] = [
        chunk if isinstance(chunk, dict) else {"type": "http.request", "body": chunk}
        for chunk in chunks
    ]
    for message in pending:
        if message["type"] == "http.request":
            message["more_body"] = True
    if failure is None and pending and pending[-1]["type"] == "http.request":
        pending[-1]["more_body"] = False

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        if failure is not None:
            raise failure
        return await receive()

    return replayed
