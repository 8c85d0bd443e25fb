"""`btai users reset-password` on SQLite and PostgreSQL: the new password works, the old one
and every session of the account stop working, and each mistake is one error line."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable

import pytest

from app.db.engine import Database
from app.security.accounts import (
    InvalidCredentials,
    RequestMeta,
    TokenPair,
    authenticate,
    login,
    refresh,
)
from app.security.services import SecurityServices
from app.security.tokens import InvalidToken
from app.settings import Settings
from tests.support.security import STRONG_PASSWORD
from tests.support.server import BTAI
from tests.support.terminal import terminal
from tests.support.timing import scaled

NEW_PASSWORD = "purple elephants juggle quietly at dawn"
MakeSettings = Callable[..., Settings]


def _users(url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BTAI, "users", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": url},
        timeout=scaled(120),
    )


def _create_casey(url: str) -> None:
    created = _users(url, "create", "casey", "--password-stdin", stdin=STRONG_PASSWORD)
    assert created.returncode == 0, created.stderr


async def _log_in(settings: Settings, password: str) -> TokenPair:
    security = SecurityServices(settings)
    async with Database.open(settings) as db, security.running(db):
        return await login(
            security, username="casey", password=password, meta=RequestMeta("127.0.0.1")
        )


async def _refused(settings: Settings, pair: TokenPair) -> list[str]:
    """Which of the pair's two tokens the service now refuses."""
    refused = []
    security = SecurityServices(settings)
    async with Database.open(settings) as db, security.running(db):
        try:
            await authenticate(security, pair.access.token)
        except InvalidToken:
            refused.append("access")
        try:
            await refresh(security, token=pair.refresh.token, meta=RequestMeta("127.0.0.1"))
        except InvalidToken:
            refused.append("refresh")
    return refused


def test_reset_sets_the_password_and_signs_out_every_session(
    accounts_db: str, make_settings: MakeSettings
) -> None:
    settings = make_settings(DATABASE_URL=accounts_db)
    _create_casey(accounts_db)
    old_session = asyncio.run(_log_in(settings, STRONG_PASSWORD))

    reset = _users(accounts_db, "reset-password", "Casey", "--password-stdin", stdin=NEW_PASSWORD)
    assert reset.returncode == 0, reset.stderr
    assert "password of 'casey' reset" in reset.stderr
    assert reset.stdout == ""

    assert asyncio.run(_refused(settings, old_session)) == ["access", "refresh"]
    new_session = asyncio.run(_log_in(settings, NEW_PASSWORD))
    assert asyncio.run(_refused(settings, new_session)) == []
    with pytest.raises(InvalidCredentials):
        asyncio.run(_log_in(settings, STRONG_PASSWORD))


def test_weak_password_and_unknown_user_are_one_error_line(accounts_db: str) -> None:
    _create_casey(accounts_db)
    weak = _users(accounts_db, "reset-password", "casey", "--password-stdin", stdin="password1234")
    assert weak.returncode == 1
    assert weak.stderr.startswith("Error: Password is too weak"), weak.stderr
    assert len(weak.stderr.strip().splitlines()) == 1

    missing = _users(
        accounts_db, "reset-password", "nobody", "--password-stdin", stdin=NEW_PASSWORD
    )
    assert missing.returncode == 1
    assert missing.stderr.strip() == "Error: no user 'nobody' (see `btai users list`)"


def test_without_a_terminal_or_password_stdin_it_refuses_to_prompt(accounts_db: str) -> None:
    result = _users(accounts_db, "reset-password", "casey", stdin=NEW_PASSWORD + "\n")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "Error: no terminal to prompt for the password on (pipe it in with --password-stdin)"
    )


def test_on_a_terminal_the_password_is_asked_twice_and_not_echoed(
    accounts_db: str, make_settings: MakeSettings
) -> None:
    _create_casey(accounts_db)
    env = {"DATABASE_URL": accounts_db}
    with terminal("btai", "users", "reset-password", "casey", env=env) as term:
        term.wait_for_text("Password:", timeout=scaled(60))
        term.child.sendline(NEW_PASSWORD)
        term.wait_for_text("Repeat for confirmation:", timeout=scaled(60))
        term.child.sendline(NEW_PASSWORD)
        assert term.finish(timeout=scaled(120)) == 0, term.text()
        assert "password of 'casey' reset" in term.text()
        assert NEW_PASSWORD not in term.output
    asyncio.run(_log_in(make_settings(DATABASE_URL=accounts_db), NEW_PASSWORD))
