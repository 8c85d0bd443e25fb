"""Console helpers: one stdout console for results, one stderr console for messages.

The consoles are created on first use, so commands that print nothing through rich (and
`btai --version`) never import it.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from rich.console import Console


class _LazyConsole:
    """Stands in for a rich Console and builds it on the first attribute access."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        console = self.__dict__.get("_console")
        if console is None:
            from rich.console import Console

            console = self._console = Console(**self._options)
        return getattr(console, name)


stdout = cast("Console", _LazyConsole(highlight=False, soft_wrap=True))
stderr = cast("Console", _LazyConsole(stderr=True, highlight=False, soft_wrap=True))


def print_json(data: Any) -> None:
    """Machine-readable output: JSON on stdout only, nothing else."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
    sys.stdout.flush()


def status_style(status: str) -> str:
    return {"pass": "green", "warn": "yellow", "fail": "red"}.get(status, "white")
