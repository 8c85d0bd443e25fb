"""Settings for tests: built from keyword values and the environment, never from a `.env` file.

Tests take the `make_settings` fixture (tests/conftest.py), which adds a private SQLite file;
module- and session-scoped fixtures, which cannot take it, call `settings_for` directly.
"""

from __future__ import annotations

from typing import Any

from app.settings import Settings


def settings_for(**values: Any) -> Settings:
    """`Settings` from `values` (over the environment), ignoring any `.env` file."""
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]
