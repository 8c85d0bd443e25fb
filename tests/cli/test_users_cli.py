"""`btai users create`: the first admin, policy errors as one line, and the account works."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from app.db.engine import Database
from app.security.accounts import authenticate, create_user
from app.security.services import SecurityServices
from app.settings import Settings
from tests.support.security import STRONG_PASSWORD
from tests.support.server import BTAI


def run(tmp_path: Path, *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/btai.db"}
    return subprocess.run(
        [BTAI, "users", "create", *args], input=stdin, capture_output=True, text=True, env=env
    )


def test_create_admin_then_log_in_as_it(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    result = run(
        tmp_path, "Root.Admin", "--admin", "--password-stdin", "--json", stdin=STRONG_PASSWORD
    )
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert created == {"id": 1, "username": "root.admin", "role": "admin"}
    assert "username 'Root.Admin' normalised to 'root.admin'" in result.stderr

    async def log_in() -> str:
        settings = make_settings(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/btai.db")
        security = SecurityServices(settings)
        async with Database.open(settings) as db, security.running(db):
            from app.security.accounts import RequestMeta, login

            pair = await login(
                security,
                username="root.admin",
                password=STRONG_PASSWORD,
                meta=RequestMeta("127.0.0.1"),
            )
            principal = await authenticate(security, pair.access.token)
            return principal.role

    assert asyncio.run(log_in()) == "admin"
    taken = run(tmp_path, "root.admin", "--password-stdin", stdin=STRONG_PASSWORD)
    assert taken.returncode == 1
    assert taken.stderr.strip() == "Error: That username is taken. (pick another username)"


def test_weak_password_and_taken_name_are_one_error_line(tmp_path: Path) -> None:
    weak = run(tmp_path, "someone", "--password-stdin", stdin="password1234")
    assert weak.returncode == 1
    assert weak.stderr.startswith("Error: Password is too weak")
    assert len(weak.stderr.strip().splitlines()) == 1


def test_bad_username_is_a_usage_error(tmp_path: Path) -> None:
    result = run(tmp_path, "bad\x01name", "--password-stdin", stdin=STRONG_PASSWORD)
    assert result.returncode == 2
    assert result.stderr.startswith("Error: username")


def test_create_user_refuses_unknown_roles(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/x.db")

    async def attempt() -> None:
        security = SecurityServices(settings)
        async with Database.open(settings) as db, security.running(db):
            await create_user(security, username="x.y.z", password=STRONG_PASSWORD, role="root")

    with pytest.raises(ValueError, match="unknown role"):
        asyncio.run(attempt())
