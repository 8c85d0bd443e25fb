"""Build `app.settings.Settings` for the CLI, turning validation errors into ConfigError."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from btai_ops.errors import ConfigError

if TYPE_CHECKING:
    from app.settings import Settings


def settings_problems(exc: Exception) -> list[str]:
    """One readable line per invalid setting, naming the variable and what it expects."""
    from pydantic import ValidationError

    if not isinstance(exc, ValidationError):
        return [str(exc)]
    problems = []
    for err in exc.errors():
        name = ".".join(str(p) for p in err.get("loc", ())) or _named_in(str(err.get("msg", "")))
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        given = err.get("input")
        shown = "" if name in _UNSHOWN or isinstance(given, dict) else f", got {given!r}"
        labelled = name and not msg.startswith(name)
        problems.append(f"{name}: {msg}{shown}" if labelled else f"{msg}{shown}")
    return problems


# Values never echoed back: keys, and URLs that may carry a password.
_UNSHOWN = frozenset({"JWT_SECRET_KEY", "AI_API_KEY", "DATABASE_URL", "DATABASE_READ_URL"})


def _named_in(message: str) -> str:
    # Model-level validators name the variable at the start of their message.
    first = message.removeprefix("Value error, ").split(" ", 1)[0]
    return first if first.isupper() else ""


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and `.env`; raises ConfigError naming each bad variable."""
    from app.settings import Settings

    try:
        return Settings(**overrides)
    except Exception as exc:
        problems = settings_problems(exc)
        raise ConfigError("; ".join(problems), hint="see `btai config validate`") from None


def setting_sources(env_file: str | Path = ".env") -> dict[str, str]:
    """Where each setting's value came from: `environment`, `.env file` or `default`."""
    from dotenv import dotenv_values

    from app.settings import Settings

    environ = {k.upper() for k in os.environ}
    dotenv = {k.upper() for k in dotenv_values(env_file)} if Path(env_file).is_file() else set()
    sources = {}
    for name in Settings.model_fields:
        if name in environ:
            sources[name] = "environment"
        elif name in dotenv:
            sources[name] = ".env file"
        else:
            sources[name] = "default"
    return sources
