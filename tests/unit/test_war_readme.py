"""The README's WAR table names every constant of the WAR model with a value and a source."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from types import ModuleType

import pytest

from app.domain import fielding, war, war_season

README = Path(__file__).resolve().parents[2] / "README.md"
# Lookup tables of the code, not figures of the model.
NOT_MODEL_CONSTANTS = {"FIELD_POSITIONS", "GROUPS"}


def _war_rows() -> list[str]:
    text = README.read_text()
    start = text.index("#### WAR")
    end = min(i for i in (text.find("\n## ", start), text.find("\n### ", start)) if i > 0)
    return [line for line in text[start:end].splitlines() if line.startswith("| `")]


def _constants(module: ModuleType) -> set[str]:
    tree = ast.parse(Path(str(module.__file__)).read_text())
    names = set()
    for node in tree.body:
        target = (
            node.targets[0] if isinstance(node, ast.Assign)
            else node.target if isinstance(node, ast.AnnAssign) else None
        )  # fmt: skip
        if isinstance(target, ast.Name) and re.fullmatch(r"[A-Z][A-Z0-9_]+", target.id):
            names.add(target.id)
    return names - NOT_MODEL_CONSTANTS


@pytest.mark.parametrize("module", [war, war_season, fielding])
def test_every_war_constant_is_in_the_readme_table_with_a_source(module: ModuleType) -> None:
    rows = _war_rows()
    names = _constants(module)
    assert len(names) >= 4
    for name in sorted(names):
        found = [row for row in rows if f"`{name}`" in row]
        assert found, f"{name} is missing from the README's WAR table"
        assert all(len([c for c in row.split("|") if c.strip()]) >= 3 for row in found)
