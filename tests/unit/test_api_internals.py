"""Pinned shortcuts of the web layer: the route options `add_routes` copies, and the error
tree drawn in `app.errors`."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Response

import app
from app import errors
from app.api import _ROUTE_OPTIONS, LiteralPrefixRoute, add_routes, header
from app.api.caching import CachedReadRoute, serves_hits
from app.deps import AppResources, AuthenticatedUser
from app.errors import ProblemError

# Parameters of `add_api_route` that are not attributes of a route to copy.
NOT_ROUTE_ATTRIBUTES = {"self", "path", "endpoint", "route_class_override"}


def test_add_routes_copies_every_option_of_add_api_route() -> None:
    parameters = set(inspect.signature(APIRouter.add_api_route).parameters)
    assert set(_ROUTE_OPTIONS) == parameters - NOT_ROUTE_ATTRIBUTES


def _routed_app() -> FastAPI:
    router = APIRouter(prefix="/teams")

    @router.get("")
    async def teams() -> dict[str, str]:
        return {"route": "list"}

    @router.get("/{key}")
    async def team(key: str) -> dict[str, str]:
        return {"route": "one", "key": key}

    @router.get("/{key}/roster")
    async def roster(key: str) -> dict[str, str]:
        return {"route": "roster", "key": key}

    other = APIRouter(prefix="/health")

    @other.get("/liveness")
    async def liveness() -> dict[str, str]:
        return {"route": "liveness"}

    application = FastAPI()
    add_routes(application, other, "/api/v1")
    add_routes(application, router, "/api/v1")
    return application


def _client(application: FastAPI, root_path: str = "") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=application, root_path=root_path)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def test_routes_turn_away_other_paths_early_and_match_as_before() -> None:
    application = _routed_app()
    assert all(isinstance(route, LiteralPrefixRoute) for route in application.router.routes[-4:])
    async with _client(application) as client:
        assert (await client.get("/api/v1/teams")).json() == {"route": "list"}
        assert (await client.get("/api/v1/teams/NYA")).json() == {"route": "one", "key": "NYA"}
        roster = await client.get("/api/v1/teams/NYA/roster")
        assert roster.json() == {"route": "roster", "key": "NYA"}
        assert (await client.get("/api/v1/health/liveness")).json() == {"route": "liveness"}
        assert (await client.get("/api/v1/players")).status_code == 404
        assert (await client.post("/api/v1/teams/NYA")).status_code == 405
        # A trailing slash is still redirected to the route it belongs to.
        slashed = await client.get("/api/v1/teams/NYA/")
        assert slashed.status_code == 307
        assert slashed.headers["location"] == "http://test/api/v1/teams/NYA"


async def test_routes_match_under_a_root_path() -> None:
    async with _client(_routed_app(), root_path="/btai") as client:
        team = await client.get("/btai/api/v1/teams/NYA")
        assert team.json() == {"route": "one", "key": "NYA"}
        assert (await client.get("/btai/api/v1/health/liveness")).json() == {"route": "liveness"}


def _problem_classes() -> set[type[errors.ProblemError]]:
    for module in pkgutil.walk_packages(app.__path__, "app."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)
    found: set[type[errors.ProblemError]] = set()
    pending = [errors.ProblemError]
    while pending:
        for sub in pending.pop().__subclasses__():
            found.add(sub)
            pending.append(sub)
    return found


def test_error_tree_names_every_problem_error() -> None:
    drawn = set(re.findall(r"[├└]── (\w+)", errors.__doc__ or ""))
    assert drawn == {cls.__name__ for cls in _problem_classes()}


def _reads_app_state(source: str) -> bool:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr == "state":
            owner = node.value
            if (isinstance(owner, ast.Name) and owner.id == "app") or (
                isinstance(owner, ast.Attribute) and owner.attr == "app"
            ):
                return True
    return False


def test_only_the_factory_and_the_dependencies_reach_app_state() -> None:
    root = Path(app.__file__).parent
    reaching = {
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if _reads_app_state(path.read_text())
    }
    assert reaching == {"main.py", "deps.py"}


def test_header_reads_the_first_raw_value_or_none() -> None:
    scope = {"headers": [(b"host", b"a"), (b"if-none-match", b'"x"'), (b"host", b"b")]}
    assert header(scope, b"host") == b"a"
    assert header(scope, b"if-none-match") == b'"x"'
    assert header(scope, b"authorization") is None


def test_a_cached_read_answered_before_its_dependencies_takes_nothing_more() -> None:
    async def guarded(resources: AppResources, team_key: str, user: AuthenticatedUser) -> None:
        """A hit would skip the auth dependency."""

    async def filtered(resources: AppResources, team_key: str, league: str = "AL") -> None:
        """A hit's key would leave the query out."""

    router = APIRouter(route_class=CachedReadRoute)
    mark = serves_hits(lambda season, params: f"team:{season}:{params['team_key']}")
    for endpoint in (guarded, filtered):
        with pytest.raises(TypeError, match="path parameters and the app's resources only"):
            router.get("/teams/{team_key}")(mark(endpoint))

    async def plain(resources: AppResources, team_key: str, league: str = "AL") -> None:
        """Not marked: an ordinary route."""

    router.get("/teams/{team_key}/plain")(plain)


def _endpoints_app() -> FastAPI:
    router = APIRouter()

    @router.get("/own")
    async def own() -> Response:
        return Response(b'{"status":"pass"}', media_type="application/json")

    @router.get("/encoded")
    async def encoded() -> dict[str, str]:
        return {"status": "pass"}

    @router.get("/failing")
    async def failing() -> Response:
        raise ProblemError("down for a moment", status=503, type_slug="unavailable")

    @router.get("/guarded", dependencies=[Depends(lambda: None)])
    async def guarded() -> Response:
        return Response(b"guarded")

    application = FastAPI()
    errors.install_problem_handlers(application, expose_internals=False)
    add_routes(application, router)
    return application


async def test_an_endpoint_that_takes_nothing_and_builds_its_response_is_called_directly() -> None:
    application = _endpoints_app()
    alone = {r.path for r in application.router.routes if getattr(r, "direct_methods", None)}
    assert alone == {"/own", "/failing"}
    async with _client(application) as client:
        own = await client.get("/own")
        assert (own.status_code, own.content) == (200, b'{"status":"pass"}')
        assert own.headers["content-type"] == "application/json"
        assert (await client.get("/encoded")).json() == {"status": "pass"}
        assert (await client.get("/guarded")).content == b"guarded"
        failing = await client.get("/failing")
        assert failing.status_code == 503
        assert failing.headers["content-type"] == "application/problem+json"
        assert failing.json()["detail"] == "down for a moment"
        refused = await client.post("/own")
        assert refused.status_code == 405
        assert refused.headers["allow"] == "GET"
