"""`btai users create|reset-password`: make user accounts (the first admin too) and set a
new password on one."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from btai_ops.errors import BtaiError, ServiceUnreachable, UsageProblem
from btai_ops.output import print_json, stderr
from btai_ops.settings_loader import load_settings

if TYPE_CHECKING:
    from app.security.services import SecurityServices
    from app.settings import Settings

T = TypeVar("T")

app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)


PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from stdin (for scripts).")
]


@app.command("create")
def create(
    username: Annotated[str, typer.Argument(help="3-32 of a-z, 0-9, '.', '_' or '-'.")],
    admin: Annotated[bool, typer.Option("--admin", help="Give the user the admin role.")] = False,
    password_stdin: PasswordStdin = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Create a user (migrating the database first); the password is prompted for unless
    --password-stdin is given. Example: `btai users create alice --admin`."""
    settings = load_settings()
    name = _username(username)
    password = _read_password(password_stdin)
    import asyncio

    user = asyncio.run(_create(settings, name, password, "admin" if admin else "user"))
    if as_json:
        print_json(user)
    else:
        stderr.print(f"created {user['role']} user {user['username']!r} (id {user['id']})")


@app.command("reset-password")
def reset_password(
    username: Annotated[str, typer.Argument(help="The account's username.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Set a new password (prompted twice unless --password-stdin) under the same policy as
    create; every session and refresh token of the account ends. Example:
    `btai users reset-password alice`."""
    settings = load_settings()
    name = _username(username)
    password = _read_password(password_stdin)
    import asyncio

    asyncio.run(_reset(settings, name, password))
    stderr.print(f"password of {name!r} reset; its sessions are signed out", markup=False)


def _username(given: str) -> str:
    from app.security.sanitize import UnsafeText, clean_username

    try:
        name = clean_username(given)
    except UnsafeText as exc:
        raise UsageProblem(f"username {exc}") from None
    if name != given:
        # Usernames are stored lower-case; say so rather than act on a name nobody typed.
        stderr.print(f"username {given!r} normalised to {name!r}", markup=False)
    return name


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise UsageProblem(
            "no terminal to prompt for the password on", hint="pipe it in with --password-stdin"
        )
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


async def _create(settings: Settings, username: str, password: str, role: str) -> dict[str, Any]:
    from app.errors import Conflict
    from app.security.accounts import create_user

    async with _accounts(settings) as security:
        try:
            user = await _policy_checked(
                create_user(security, username=username, password=password, role=role)
            )
        except Conflict as exc:
            raise BtaiError(exc.detail, hint="pick another username") from None
        await security.audit.record(
            "user_created", username=user.username, user_id=user.id, actor="cli", role=role
        )
    return {"id": user.id, "username": user.username, "role": user.role}


async def _reset(settings: Settings, username: str, password: str) -> None:
    from app.errors import NotFound
    from app.security.accounts import reset_password

    async with _accounts(settings) as security:
        try:
            user = await _policy_checked(
                reset_password(security, username=username, password=password)
            )
        except NotFound:
            raise BtaiError(f"no user {username!r}", hint="see `btai users list`") from None
        await security.audit.record(
            "password_reset", username=user.username, user_id=user.id, actor="cli"
        )


@asynccontextmanager
async def _accounts(settings: Settings) -> AsyncIterator[SecurityServices]:
    """The security services on a migrated database; an unreachable one is exit 3."""
    from sqlalchemy.exc import SQLAlchemyError

    from app.db.engine import Database
    from app.db.migrate import upgrade
    from app.security.services import SecurityServices

    try:
        await upgrade(settings.database_url, lock_timeout=settings.DB_SCHEMA_LOCK_TIMEOUT)
    except (SQLAlchemyError, OSError) as exc:
        raise ServiceUnreachable(str(exc), hint="check DATABASE_URL") from None
    security = SecurityServices(settings)
    async with Database.open(settings) as db, security.running(db):
        yield security


async def _policy_checked(change: Awaitable[T]) -> T:
    """The result of `change`; a password the policy refuses is one line with its advice."""
    from app.security.passwords import WeakPassword

    try:
        return await change
    except WeakPassword as exc:
        feedback = exc.extensions.get("feedback") or {}
        hint = " ".join([feedback.get("warning", ""), *feedback.get("suggestions", [])])
        raise BtaiError(exc.detail, hint=hint.strip() or None) from None
