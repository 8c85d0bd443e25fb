"""`btai queue stats`: depth, running, dead-lettered and stuck tasks of the persistent queue."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from btai_ops.errors import BtaiError, ServiceUnreachable
from btai_ops.output import print_json, stdout
from btai_ops.settings_loader import load_settings

app = typer.Typer(help="Inspect the persistent task queue.", no_args_is_help=True)


async def _read(settings: Any) -> dict[str, Any]:
    from app.db.engine import Database
    from app.services.queue_store import read_stats

    db = Database(settings)
    try:
        return await read_stats(db)
    finally:
        await db.dispose()


@app.command("stats")
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")] = (
        False
    ),
) -> None:
    """Pending tasks per queue and priority, running, dead-lettered, oldest age, stuck leases."""
    settings = load_settings()
    from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

    from app.settings import mask_url

    try:
        import asyncio

        result = asyncio.run(_read(settings))
    except (OperationalError, ProgrammingError) as exc:
        if "queue_tasks" in str(exc):
            raise BtaiError(
                "the queue table does not exist", hint="run `btai db upgrade`"
            ) from None
        raise ServiceUnreachable(
            f"cannot read the queue at {mask_url(settings.database_url)}",
            hint="check DATABASE_URL and that the database is up",
        ) from None
    except (DBAPIError, OSError) as exc:
        raise ServiceUnreachable(
            f"cannot reach DATABASE_URL {mask_url(settings.database_url)}: {type(exc).__name__}",
            hint="check DATABASE_URL and that the database is up",
        ) from None
    if as_json:
        print_json(result)
        return
    _render(result)


def _render(result: dict[str, Any]) -> None:
    from rich.table import Table

    if not result["queues"]:
        stdout.print("queue: no pending, running or dead tasks")
        return

    table = Table(title="queue", title_justify="left")
    for column in ("queue", "pending", "by priority", "running", "dead", "oldest pending (s)"):
        table.add_column(column, justify="left" if column in {"queue", "by priority"} else "right")
    for name, q in sorted(result["queues"].items()):
        by_priority = ", ".join(f"p{p}: {n}" for p, n in sorted(q["by_priority"].items())) or "-"
        oldest = q["oldest_pending_age_seconds"]
        table.add_row(name, str(q["pending"]), by_priority, str(q["running"]), str(q["dead"]),
                      "-" if oldest is None else f"{oldest:.1f}")  # fmt: skip
    stdout.print(table)
    stdout.print(
        f"total: {result['pending']} pending, {result['running']} running, "
        f"{result['dead']} dead, {result['stuck_leases']} stuck lease(s)"
    )
