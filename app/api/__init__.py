"""HTTP routers, one module per resource, and `add_routes`, which puts them on the app."""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.utils import get_typed_return_annotation
from fastapi.routing import APIRoute
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

# Attributes of an APIRoute that `add_api_route` takes under the same name (a test compares
# them with its signature, so an option FastAPI adds is never dropped silently).
_ROUTE_OPTIONS = (
    "response_model", "status_code", "tags", "dependencies", "summary", "description",
    "response_description", "responses", "deprecated", "methods", "operation_id",
    "response_model_include", "response_model_exclude", "response_model_by_alias",
    "response_model_exclude_unset", "response_model_exclude_defaults",
    "response_model_exclude_none", "include_in_schema", "response_class", "name", "callbacks",
    "openapi_extra", "generate_unique_id_function", "strict_content_type", "max_body_size",
    "form_limits",
)  # fmt: skip


def header(scope: Scope, name: bytes) -> bytes | None:
    """The value of the request's first header `name` (lower case), or None.

    A plain loop over the raw headers: cheaper than building Starlette's `Headers` for one
    look-up."""
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for key, value in headers:
        if key == name:
            return value
    return None


def _answers_alone(route: APIRoute) -> bool:
    """Whether FastAPI would only call the endpoint and send what it returns: a coroutine that
    takes nothing, needs no dependency and is declared to return a Response."""
    endpoint = route.endpoint
    if route.dependant.dependencies or inspect.signature(endpoint).parameters:
        return False
    returns = get_typed_return_annotation(endpoint)
    return (
        inspect.iscoroutinefunction(endpoint)
        and isinstance(returns, type)
        and issubclass(returns, Response)
    )


class LiteralPrefixRoute(APIRoute):
    """An APIRoute that turns away a path without its literal head before any other work,
    and calls an endpoint that takes nothing directly.

    The app matches its routes one after another, and a route that does not match still
    costs FastAPI's context lookups, Starlette's root-path handling and a regex run, about
    as much as a small middleware: a request for a late route paid that for every route
    before it. A path lacking the text of the route's path before its first parameter
    cannot match, so it is answered at once; anything else (a root path, say) is matched
    as FastAPI does.

    For an endpoint that takes no parameter and returns its own Response (liveness), FastAPI's
    request handling (a Request, two exit stacks, an exception wrapper, solving no
    dependencies) costs more than the endpoint: the route awaits it and sends its response,
    which is all that handling would do. An exception still reaches the app's handlers.
    """

    def __init__(self, path: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(path, *args, **kwargs)
        self.literal_head = path.split("{", 1)[0]
        # The methods for which the endpoint is called directly: its own, or none.
        self.direct_methods = frozenset(self.methods or ()) if _answers_alone(self) else frozenset()

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if (
            not scope["path"].startswith(self.literal_head)
            and scope["type"] == "http"
            and not scope.get("root_path")
        ):
            return Match.NONE, {}
        return super().matches(scope)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        # FastAPI keeps a context of its own in scope["fastapi"] for some routes (an included
        # router's); those it handles itself.
        if scope["method"] in self.direct_methods and "fastapi" not in scope:
            response: Response = await self.endpoint()
            await response(scope, receive, send)
            return
        await super().handle(scope, receive, send)


def add_routes(app: FastAPI, router: APIRouter, prefix: str = "") -> None:
    """Add every route of `router` to the app itself, under `prefix`.

    `app.include_router` keeps the router as one nested branch that FastAPI matches level by
    level on every request, with no pruning by prefix; routes on the app are matched directly,
    which saves several microseconds a request. The router's own prefix, tags and dependencies
    are already part of each of its routes.
    """
    for route in router.routes:
        if not isinstance(route, APIRoute):
            raise TypeError(f"{route!r} is not an APIRoute; include its router instead")
        options = {name: getattr(route, name) for name in _ROUTE_OPTIONS}
        # A router or a route may choose a subclass (`app.api.caching.CachedReadRoute`,
        # `app.api.direct.DirectBodyRoute`); it is kept.
        route_class = type(route) if isinstance(route, LiteralPrefixRoute) else LiteralPrefixRoute
        app.router.add_api_route(
            prefix + route.path, route.endpoint, route_class_override=route_class, **options
        )
