"""`btai users list|disable|enable`: see the accounts and switch one off or on.

A disabled account's tokens stop working at once (`app.security.accounts` checks `is_active` on
every request) and it cannot log in; enabling it again restores both.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from btai_ops.errors import BtaiError
from btai_ops.output import print_json, stderr, stdout

UsernameArgument = Annotated[str, typer.Argument(help="The account's username.")]


def list_users(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON to stdout.")] = False,
) -> None:
    """Every account: id, username, role, active or disabled, last login."""
    import asyncio

    users = asyncio.run(_run(_list))
    if as_json:
        print_json(users)
        return
    from rich.table import Table
    from rich.text import Text

    table = Table("id", "username", "role", "state", "last login")
    for user in users:
        state = "active" if user["active"] else "disabled"
        cells = (user["id"], user["username"], user["role"], state, user["last_login_at"] or "-")
        table.add_row(*(Text(str(cell)) for cell in cells))
    stdout.print(table)


def disable(username: UsernameArgument) -> None:
    """Disable an account: its tokens stop working and it cannot log in."""
    _set_active(username, active=False)


def enable(username: UsernameArgument) -> None:
    """Enable a disabled account again."""
    _set_active(username, active=True)


def _set_active(username: str, *, active: bool) -> None:
    import asyncio

    name = username.strip().lower()

    async def change(session: Any) -> dict[str, Any]:
        from sqlalchemy import update

        from app.db.tables.security import User

        result = await session.execute(
            update(User).where(User.username == name).values(is_active=active)
        )
        return {"changed": result.rowcount}

    if asyncio.run(_run(change))["changed"] == 0:
        raise BtaiError(f"no user {name!r}", hint="see `btai users list`")
    stderr.print(f"{'enabled' if active else 'disabled'} user {name!r}", markup=False)


async def _list(session: Any) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from app.db.tables.security import User

    users = (await session.scalars(select(User).order_by(User.id))).all()
    return [
        {
            "id": u.id,
            "username": u.username,
            "role": u.role,
            "active": u.is_active,
            "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None,
        }
        for u in users
    ]


async def _run(work: Any) -> Any:
    from btai_ops.transaction import in_transaction

    return await in_transaction(work, reading="the accounts")
