"""Help as a person writes it: `--workers INTEGER`, `--json` with no metavar, `btai users create
USERNAME`, not typer's `<bool>`, `<list[str]>` and `{username}`.

`tidy(command)` walks the click command tree typer builds and, on each parameter without a
metavar of its own, sets one in the usual click style. Help is plain click text (the root app
turns rich markup off: rich boxes cut words at 80 columns and took `[default: ...]` for markup),
and a command's one-line summary in its group's list is its whole first paragraph, wrapped
rather than cut at 45 characters.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

from typer.core import TyperArgument, TyperOption

TYPE_LABELS: dict[Any, str] = {int: "INTEGER", float: "NUMBER", str: "TEXT", bool: "BOOLEAN"}

# One example per command, shown at the end of its help (kept here, beside each other, so
# they read as one consistent set; the README's command table shows the same).
EXAMPLES = {
    "btai": "btai serve --workers 2",
    "btai config": "btai config show",
    "btai data": "btai data import --season 2016",
    "btai db": "btai db status",
    "btai queue": "btai queue stats",
    "btai users": "btai users create alice --admin",
    "btai benchmark": "btai benchmark run --spawn -o results.json",
    "btai serve": "btai serve --port 8080 --workers 2",
    "btai health": "btai health --wait-ready --timeout 30",
    "btai top": "btai top http://127.0.0.1:8000 --interval 1",
    "btai loadtest": "btai loadtest -s cache -u 50 -t 1m --threshold 'p95<50ms'",
    "btai config show": "btai config show --json",
    "btai config validate": "ENVIRONMENT=production btai config validate",
    "btai data import": "btai data import --season 2016",
    "btai db upgrade": "DATABASE_URL=postgresql://postgres@127.0.0.1/btai btai db upgrade",
    "btai db seed": "btai db seed --season 2016",
    "btai db status": "btai db status --json",
    "btai queue stats": "btai queue stats --json",
    "btai queue list": "btai queue list --queue analyses",
    "btai queue retry": "btai queue retry 41 42",
    "btai queue purge": "btai queue purge --yes",
    "btai users create": "btai users create alice --admin",
    "btai users list": "btai users list --json",
    "btai users disable": "btai users disable mallory",
    "btai users enable": "btai users enable mallory",
    "btai render": "btai render --env production --out deploy",
    "btai render schema": "btai render schema > configs/schema.json",
    "btai benchmark run": "btai benchmark run --spawn --repeat 3 -o results.json",
    "btai benchmark compare": "btai benchmark compare results.json --format markdown",
    "btai benchmark micro": "btai benchmark micro --compare",
}


def tidy(command: Any, path: str = "btai") -> None:
    """Give every parameter of `command` and its subcommands a readable metavar and every
    command its example, once."""
    if getattr(command, "_btai_tidied", False):
        return
    command._btai_tidied = True
    _add_example(command, path)
    for param in command.params:
        if isinstance(param, TyperOption | TyperArgument):
            _tidy_param(param)
    for name, sub in getattr(command, "commands", {}).items():
        tidy(sub, f"{path} {name}")
        _add_short_help(sub)


def _add_example(command: Any, path: str) -> None:
    example = EXAMPLES.get(path)
    if example and not command.epilog and "Example" not in (command.help or ""):
        command.epilog = f"\b\nExample:\n  {example}"


def _add_short_help(command: Any) -> None:
    """The first paragraph of the help on one line, for the parent's list of commands."""
    summary = (command.help or "").split("\n\n", 1)[0].strip()
    if command.short_help is None and summary:
        command.short_help = " ".join(summary.split())


def _tidy_param(param: TyperOption | TyperArgument) -> None:
    label = type_label(param)
    if isinstance(param, TyperArgument):
        name = param.metavar or (param.name or "value").upper()
        # Several values: the usage line says so (`[IDS]...`); the name column stays the name.
        usage = (name if param.required else f"[{name}]") + ("..." if param.nargs != 1 else "")
        param.metavar = name
        # The name column shows the metavar; the type column the kind of value.
        param.display_type = lambda ctx: label  # type: ignore[method-assign]
        param._usage_display_name = lambda: usage  # type: ignore[method-assign]
        return
    if param.metavar is None:
        param.metavar = "" if param.is_flag else label


def type_label(param: TyperOption | TyperArgument) -> str:
    """INTEGER, NUMBER, TEXT, PATH, or the choices joined by `|`."""
    descriptor = param.type_descriptor
    if descriptor.is_choice:
        choices = descriptor.choices or ()
        return "|".join(str(c.value if isinstance(c, Enum) else c) for c in choices)
    if descriptor.is_path:
        return "PATH"
    annotation: Any = descriptor.annotation
    if get_origin(annotation) is list:
        annotation = get_args(annotation)[0]
    if isinstance(annotation, type) and issubclass(annotation, Path):
        return "PATH"
    return TYPE_LABELS.get(annotation, "TEXT")
