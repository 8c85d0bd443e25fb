"""A JSON-body route answered without FastAPI's per-request dependency solving when it can be.

FastAPI's request handler reads the body through a stream, parses its content type with the
`email` package, then solves the dependency tree level by level (cache keys, scope checks and
callable classification on every request) before it validates the body. For an endpoint
`async def endpoint(body: Model, service: Annotated[..., Depends(get_service)]) -> Response`
whose dependencies only read the request, that is most of a request's cost. `DirectBodyRoute`
answers such a request itself: the body read from `receive`, `json.loads` as FastAPI calls
it, `Model.model_validate` (the validation FastAPI runs), each dependency called once with
the request, in FastAPI's order, and the endpoint's own Response.

Anything else goes to FastAPI's own handler, so every error is FastAPI's, byte for byte: a
content type other than `application/json`, a body that fails to arrive, parse or validate
(the handler is given the same body, or the same failure, to read again), dependency
overrides, or FastAPI's telemetry on. A dependency that raises (401 without a token) raises
as it would under FastAPI, since FastAPI too solves dependencies before it reports a body
that fails validation.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, get_type_hints

from fastapi.dependencies.models import Dependant
from fastapi.telemetry import get_telemetry_data
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive

from app.api import LiteralPrefixRoute

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
_JSON = "application/json"


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

    def get_route_handler(self) -> Handler:
        fastapi_handler = super().get_route_handler()
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
        returns = get_type_hints(self.endpoint).get("return")
        if (
            own
            or self._embed_body_fields
            or not (isinstance(model, type) and issubclass(model, BaseModel))
            or not all(_request_only(d) for d in dependant.dependencies)
            or not (isinstance(returns, type) and issubclass(returns, Response))
            or not inspect.iscoroutinefunction(self.endpoint)
        ):
            raise TypeError(f"{self.path}: not a JSON body with request-only dependencies")
        body_name = body_params[0].name
        # Route-level dependencies (no name) first, as FastAPI solves them.
        calls = [(d.name, d.call) for d in dependant.dependencies]
        endpoint: Callable[..., Awaitable[Response]] = self.endpoint
        overrides = self.dependency_overrides_provider

        async def handler(request: Request) -> Response:
            content_type = request.headers.get("content-type")
            if (
                content_type != _JSON
                or getattr(overrides, "dependency_overrides", None)
                or get_telemetry_data() is not None
            ):
                return await fastapi_handler(request)
            receive = request.receive
            chunks: list[bytes] = []
            try:
                while True:
                    message = await receive()
                    if message["type"] != "http.request":
                        replay = _replaying(request, [*chunks, message], None)
                        return await fastapi_handler(replay)
                    chunks.append(message.get("body", b""))
                    if not message.get("more_body", False):
                        break
            except Exception as failure:  # FastAPI's handler decides what a failed read means
                return await fastapi_handler(_replaying(request, chunks, failure))
            body = b"".join(chunks)
            try:
                data = model.model_validate(json.loads(body))
            except Exception:  # FastAPI's handler reports it as it always has
                return await fastapi_handler(_replaying(request, [body], None))
            values: dict[str, Any] = {}
            for name, call in calls:
                value = await call(request)  # type: ignore[misc]
                if name is not None:
                    values[name] = value
            values[body_name] = data
            return await endpoint(**values)

        return handler


def _replaying(request: Request, chunks: list[Any], failure: Exception | None) -> Request:
    """`request` again, its receive giving what was read (body chunks, or the one message that
    was not a body) and then raising `failure` if reading failed; after that, the server's."""
    pending: list[Message] = [
        chunk if isinstance(chunk, dict) else {"type": "http.request", "body": chunk}
        for chunk in chunks
    ]
    if failure is None and pending and pending[-1]["type"] == "http.request":
        pending[-1]["more_body"] = False
    for message in pending[:-1]:
        message["more_body"] = True
    if failure is not None and pending:
        pending[-1]["more_body"] = True
    server_receive: Receive = request.receive

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        if failure is not None:
            raise failure
        return await server_receive()

    return Request(request.scope, receive)
