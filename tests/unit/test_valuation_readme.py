"""The README's Valuation table names every constant of the contract and valuation model."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from types import ModuleType

import pytest

from app.domain import contracts, proposals, trades, valuation

README = Path(__file__).resolve().parents[2] / "README.md"
# Implementation details, not figures of the model.
NOT_MODEL_CONSTANTS = {"PITCHER_POSITIONS", "VALUE_CACHE_SIZE", "OUTFIELD"}


def _valuation_rows() -> list[str]:
    text = README.read_text()
    start = text.index("### Valuation")
    section = text[start : text.index("\n## ", start)]
    return [line for line in section.splitlines() if line.startswith("| `")]


def _constants(module: ModuleType) -> set[str]:
    """Upper-case names the module assigns at its top level (tuple targets included)."""
    tree = ast.parse(Path(str(module.__file__)).read_text())
    names: set[str] = set()
    for node in tree.body:
        targets = (
            node.targets if isinstance(node, ast.Assign)
            else [node.target] if isinstance(node, ast.AnnAssign) else []
        )  # fmt: skip
        for target in targets:
            for name in ast.walk(target):
                if isinstance(name, ast.Name) and re.fullmatch(r"[A-Z][A-Z0-9_]+", name.id):
                    names.add(name.id)
    return names - NOT_MODEL_CONSTANTS


@pytest.mark.parametrize("module", [contracts, valuation, trades, proposals])
def test_every_model_constant_is_in_the_readme_table_with_a_source(module: ModuleType) -> None:
    rows = _valuation_rows()
    names = _constants(module)
    assert len(names) >= 5
    for name in sorted(names):
        found = [row for row in rows if f"`{name}`" in row]
        assert found, f"{name} is missing from the README's Valuation table"
        # constant | value | source: three filled cells
        assert all(len([c for c in row.split("|") if c.strip()]) >= 3 for row in found)
