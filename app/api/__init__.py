"""HTTP routers, one module per resource, and `add_routes`, which puts them on the app."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import Scope

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


class LiteralPrefixRoute(APIRoute):
    """An APIRoute that turns away a path without its literal head before any other work.

    The app matches its routes one after another, and a route that does not match still
    costs FastAPI's context lookups, Starlette's root-path handling and a regex run, about
    as much as a small middleware: a request for a late route paid that for every route
    before it. A path lacking the text of the route's path before its first parameter
    cannot match, so it is answered at once; anything else (a root path, say) is matched
    as FastAPI does.
    """

    def __init__(self, path: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(path, *args, **kwargs)
        self.literal_head = path.split("{", 1)[0]

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if (
            not scope["path"].startswith(self.literal_head)
            and scope["type"] == "http"
            and not scope.get("root_path")
        ):
            return Match.NONE, {}
        return super().matches(scope)


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
        # A route of a LiteralPrefixRoute subclass keeps its class.
        route_class = type(route) if isinstance(route, LiteralPrefixRoute) else LiteralPrefixRoute
        app.router.add_api_route(
            prefix + route.path, route.endpoint, route_class_override=route_class, **options
        )
