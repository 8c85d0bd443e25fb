"""`btai users create`: make user accounts, including the first admin."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from btai_ops.errors import BtaiError, ServiceUnreachable, UsageProblem
from btai_ops.output import print_json, stderr
from btai_ops.settings_loader import load_settings

if TYPE_CHECKING:
    from app.settings import Settings

app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)


@app.command("create")
def create(
    username: Annotated[str, typer.Argument(help="3-32 of a-z, 0-9, '.', '_' or '-'.")],
    admin: Annotated[bool, typer.Option("--admin", help="Give the user the admin role.")] = False,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from stdin (for scripts)."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Create a user (migrating the database first); the password is prompted for unless
    --password-stdin is given. Example: `btai users create alice --admin`."""
    settings = load_settings()
    from app.security.sanitize import UnsafeText, clean_username

    try:
        name = clean_username(username)
    except UnsafeText as exc:
        raise UsageProblem(f"username {exc}") from None
    if name != username:
        # Usernames are stored lower-case; say so rather than create a name nobody typed.
        stderr.print(f"username {username!r} normalised to {name!r}", markup=False)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    import asyncio

    user = asyncio.run(_create(settings, name, password, "admin" if admin else "user"))
    if as_json:
        print_json(user)
    else:
        stderr.print(f"created {user['role']} user {user['username']!r} (id {user['id']})")


async def _create(settings: Settings, username: str, password: str, role: str) -> dict[str, Any]:
    from sqlalchemy.exc import SQLAlchemyError

    from app.db.engine import Database
    from app.db.migrate import upgrade
    from app.errors import Conflict
    from app.security.accounts import create_user
    from app.security.passwords import WeakPassword
    from app.security.services import SecurityServices

    try:
        await upgrade(settings.database_url, lock_timeout=settings.DB_SCHEMA_LOCK_TIMEOUT)
    except (SQLAlchemyError, OSError) as exc:
        raise ServiceUnreachable(str(exc), hint="check DATABASE_URL") from None
    security = SecurityServices(settings)
    async with Database.open(settings) as db, security.running(db):
        try:
            user = await create_user(security, username=username, password=password, role=role)
        except WeakPassword as exc:
            feedback = exc.extensions.get("feedback") or {}
            hint = " ".join([feedback.get("warning", ""), *feedback.get("suggestions", [])])
            raise BtaiError(exc.detail, hint=hint.strip() or None) from None
        except Conflict as exc:
            raise BtaiError(exc.detail, hint="pick another username") from None
        await security.audit.record(
            "user_created", username=user.username, user_id=user.id, actor="cli", role=role
        )
    return {"id": user.id, "username": user.username, "role": user.role}
