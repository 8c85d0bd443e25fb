"""Pinned shortcuts of the web layer: the route options `add_routes` copies, and the error
tree drawn in `app.errors`."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

from fastapi import APIRouter

import app
from app import errors
from app.api import _ROUTE_OPTIONS

# Parameters of `add_api_route` that are not attributes of a route to copy.
NOT_ROUTE_ATTRIBUTES = {"self", "path", "endpoint", "route_class_override"}


def test_add_routes_copies_every_option_of_add_api_route() -> None:
    parameters = set(inspect.signature(APIRouter.add_api_route).parameters)
    assert set(_ROUTE_OPTIONS) == parameters - NOT_ROUTE_ATTRIBUTES


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
