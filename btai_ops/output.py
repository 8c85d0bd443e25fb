"""Console helpers: one stdout console for results, one stderr console for messages.

The consoles are created on first use, so commands that print nothing through rich (and
`btai --version`) never import it. The stand-in is a full proxy: rich's live views enter the
console as a context manager and check what it is, so those go to the real console too.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from rich.console import Console


class _LazyConsole:
    """Stands in for a rich Console and builds it on first use; behaves as that Console."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def _real(self) -> Console:
        console = self.__dict__.get("_console")
        if console is None:
            from rich.console import Console

            console = self._console = Console(**self._options)
        return console

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real(), name)

    # Special methods are looked up on the type, never through __getattr__: forward the
    # ones rich uses on a console (Live and Status do `with console:` on every refresh).
    def __enter__(self) -> Console:
        return self._real().__enter__()

    def __exit__(self, *exc: Any) -> None:
        self._real().__exit__(*exc)

    @property  # type: ignore[misc]  # isinstance(stand_in, Console) holds, as for the real one
    def __class__(self) -> type:
        return type(self._real())

    def __repr__(self) -> str:
        return repr(self._real())


stdout = cast("Console", _LazyConsole(highlight=False, soft_wrap=True))
stderr = cast("Console", _LazyConsole(stderr=True, highlight=False, soft_wrap=True))


def print_json(data: Any) -> None:
    """Machine-readable output: JSON on stdout only, nothing else."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
    sys.stdout.flush()


def status_style(status: str) -> str:
    return {"pass": "green", "warn": "yellow", "fail": "red"}.get(status, "white")
