"""Run one unit of work in a database transaction on DATABASE_URL, for operator commands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from btai_ops.errors import ServiceUnreachable
from btai_ops.settings_loader import load_settings

T = TypeVar("T")


async def in_transaction(work: Callable[[Any], Awaitable[T]], *, reading: str) -> T:
    """Run `work(session)` in one transaction; a database that cannot be reached is exit 3,
    naming what was being read (`reading`, e.g. "the queue")."""
    from sqlalchemy.exc import SQLAlchemyError

    from app.db.engine import Database

    db = Database(load_settings())
    try:
        async with db.sessions() as session, session.begin():
            return await work(session)
    except (SQLAlchemyError, OSError) as exc:
        raise ServiceUnreachable(
            f"cannot read {reading}: {type(exc).__name__}",
            hint="check DATABASE_URL; `btai db upgrade` creates the tables",
        ) from None
    finally:
        await db.dispose()
