"""`btai config show|validate`: the effective settings, where each came from, and problems."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from btai_ops.errors import ConfigError
from btai_ops.output import print_json, stdout
from btai_ops.settings_loader import load_settings, setting_sources, settings_problems

app = typer.Typer(help="Show and validate the service's settings.", no_args_is_help=True)


def _masked(value: Any) -> Any:
    from app.security.masking import mask_setting

    return mask_setting(value)


@app.command("show")
def show(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON to stdout.")] = False,
) -> None:
    """Print the effective settings, secrets masked, with where each value came from."""
    settings = load_settings()
    sources = setting_sources()
    rows = [
        {"name": name, "value": _masked(getattr(settings, name)), "source": sources[name]}
        for name in type(settings).model_fields
    ]
    if as_json:
        print_json({row["name"]: {"value": row["value"], "source": row["source"]} for row in rows})
        return
    from rich.table import Table
    from rich.text import Text

    fields = type(settings).model_fields
    table = Table("setting", "value", "source", "description", title="Effective settings")
    for row in rows:
        style = "dim" if row["source"] == "default" else ""
        description = fields[row["name"]].description or ""
        # Text cells: values and descriptions hold brackets that are not markup.
        cells = (row["name"], plain(row["value"]), row["source"], description)
        table.add_row(*(Text(cell) for cell in cells), style=style)
    stdout.print(table)


def plain(value: Any) -> str:
    """A setting as it is written in the environment, not as a Python repr."""
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(item) for item in value) or "(empty)"
    return str(value)


@app.command("validate")
def validate() -> None:
    """Check the settings; list every problem and exit 2 if there is any."""
    from app.settings import Settings

    try:
        Settings()
    except Exception as exc:
        problems = settings_problems(exc)
        if len(problems) == 1:
            raise ConfigError(problems[0]) from None
        for problem in problems:
            typer.echo(f"  - {problem}", err=True)
        raise ConfigError(f"{len(problems)} invalid settings") from None
    typer.echo("Settings are valid.")
