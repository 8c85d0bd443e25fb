"""The request names a locustfile can send, read from its source without importing it.

Importing a locustfile starts gevent's monkey-patching, so the CLI reads it as text instead:
every `self.client.METHOD(...)` call contributes its `name=` or, without one, its URL. One
call whose name is not a literal makes the set unknowable (None), and nothing is checked.
"""

from __future__ import annotations

import ast
from pathlib import Path

_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "request", "rest"}


def request_names(path: Path) -> set[str] | None:
    """Every request name in `path`, or None when one of them is computed at run time."""
    try:
        tree = ast.parse(path.read_text(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return None
    names: set[str] = set()
    for node in ast.walk(tree):
        if _is_client_call(node):
            assert isinstance(node, ast.Call)
            name = _request_name(node)
            if name is None:
                return None
            names.add(name)
    return names


def _request_name(node: ast.Call) -> str | None:
    """The call's `name=` or, without one, its URL; None when it is not a literal string."""
    name = next((k.value for k in node.keywords if k.arg == "name"), None)
    if name is None:
        positional = node.args[1:] if _method(node) in ("request", "rest") else node.args
        name = positional[0] if positional else None
    if isinstance(name, ast.Constant) and isinstance(name.value, str):
        return name.value
    return None


def _method(node: ast.Call) -> str:
    return node.func.attr if isinstance(node.func, ast.Attribute) else ""


def _is_client_call(node: ast.AST) -> bool:
    """`<anything>.client.get(...)` and the like."""
    if not isinstance(node, ast.Call) or _method(node) not in _METHODS:
        return False
    assert isinstance(node.func, ast.Attribute)
    owner = node.func.value
    return isinstance(owner, ast.Attribute) and owner.attr == "client"
