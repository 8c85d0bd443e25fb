"""Every command's help reads as a person writes it, at 80 columns.

The help is rendered the way `btai ... --help` prints it and checked for what typer would
otherwise show: `<bool>` metavars, Python type names, `{name}` arguments, summaries cut with
`...` or `…`, a space before punctuation, an option without a description, a help without an
example, a line wider than the terminal.
"""

import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from btai_ops.cli import app

runner = CliRunner()
PYTHON_TYPES = re.compile(
    r"<(bool|str|int|float|path|datetime)\b|<[a-z]+ range>|\blist\[|\{\w+\}|NoneType"
)


def _commands() -> Iterator[tuple[list[str], Any]]:
    def walk(command: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
        yield path, command
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, [*path, name])

    yield from walk(typer.main.get_command(app), [])


COMMANDS = list(_commands())
IDS = [" ".join(["btai", *path]) for path, _ in COMMANDS]


def test_every_command_is_checked() -> None:
    assert len(COMMANDS) >= 20
    assert ["serve"] in [path for path, _ in COMMANDS]


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_help_reads_as_written_at_80_columns(path: list[str], command: Any) -> None:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    text = result.output
    body = text.split("\n", 1)[1]  # the usage line may end in `[ARGS]...`
    assert max(len(line) for line in text.splitlines()) <= 80
    assert not PYTHON_TYPES.search(body.replace("\n", " ")), text
    assert "..." not in body, text
    assert "…" not in body, text
    assert not re.search(r"\w \.(\s|$)| ,", text), text
    assert "Example" in text, text


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_option_and_argument_has_a_description(path: list[str], command: Any) -> None:
    missing = [param.name for param in command.params if not (param.help or "").strip()]
    assert not missing, f"btai {' '.join(path)}: {missing}"


def test_shell_completion_is_offered() -> None:
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "80"})
    assert "--install-completion" in result.output
    assert "--show-completion" in result.output
