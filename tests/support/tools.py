"""The outside programs some tests drive: promtool, Chromium and checkov.

`make test` puts them on the machine first: promtool (Debian package `prometheus`) and
Chromium (Debian package `chromium`) through its `system-tools` target, checkov in its own
virtualenv under `.tools/checkov`. A test asks for one with `promtool()`, `chromium()` or
`checkov()` and gets the program's path. When the program is missing:

- in CI (`CI` set to anything but empty, `false` or `0`) the test fails, naming the package:
  CI must prove what the tool checks, and a skip there would pass without proving it;
- elsewhere the test is skipped with the same message, so a machine without root can run the
  rest of the suite; pytest's `-ra` summary lists every such skip.

No test checks for a tool on its own or lets its absence pass silently.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Tool:
    names: tuple[str, ...]
    """Program names to look for on PATH, in order."""
    hint: str
    """How to get it, for the failure or skip message."""
    local: Path | None = None
    """A private install `make test` makes, looked at before PATH."""


PROMTOOL = Tool(("promtool",), "Debian package `prometheus`; `make test` installs it")
CHROMIUM = Tool(
    ("chromium", "chromium-browser"), "Debian package `chromium`; `make test` installs it"
)
CHECKOV = Tool(
    ("checkov",), "`make test` puts it in .tools/checkov", REPO / ".tools/checkov/bin/checkov"
)


def in_ci() -> bool:
    """Whether this run is CI's (`CI=true`, as CI services set it)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "false", "0")


def find(tool: Tool) -> str | None:
    """The path of `tool`, or None when it is not installed."""
    if tool.local is not None and tool.local.is_file():
        return str(tool.local)
    for name in tool.names:
        found = shutil.which(name)
        if found:
            return found
    return None


def require(tool: Tool) -> str:
    """The path of `tool`; a missing tool fails the test in CI and skips it elsewhere."""
    found = find(tool)
    if found is not None:
        return found
    message = f"{tool.names[0]} is not installed ({tool.hint})"
    if in_ci():
        pytest.fail(f"{message}; CI must have it")
    pytest.skip(message)


def promtool() -> str:
    """The path of promtool (fails in CI, skips elsewhere when missing)."""
    return require(PROMTOOL)


def chromium() -> str:
    """The path of headless Chromium (fails in CI, skips elsewhere when missing)."""
    return require(CHROMIUM)


def checkov() -> str:
    """The path of checkov (fails in CI, skips elsewhere when missing)."""
    return require(CHECKOV)
