"""Fixtures of the render tests: a private copy of configs/ to break on purpose."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "configs"
GOLDEN = Path(__file__).resolve().parent / "golden"
ENVIRONMENTS = ("development", "staging", "production")


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    """A copy of the repository's configs/ that a test may edit."""
    target = tmp_path / "configs"
    shutil.copytree(CONFIGS, target)
    return target


@pytest.fixture
def edit(config_copy: Path) -> Callable[[str, str, str], Path]:
    """Replace `old` by `new` in one file of the config copy (the text must be there)."""

    def apply(relative: str, old: str, new: str) -> Path:
        path = config_copy / relative
        text = path.read_text()
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new, 1))
        return path

    return apply
