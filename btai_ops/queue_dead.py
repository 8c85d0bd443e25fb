"""`btai queue list|retry|purge`: the dead-lettered tasks of the persistent queue.

A task is dead once it failed `max_retries + 1` times. `list` shows them with their last error,
`retry` puts them back as new pending tasks (attempts reset, due now), `purge` deletes them.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from btai_ops.errors import BtaiError, UsageProblem
from btai_ops.output import print_json, stderr, stdout

ERROR_WIDTH = 60


def list_dead(
    queue: Annotated[str | None, typer.Option(help="Only this queue.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Most tasks shown.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON to stdout.")] = False,
) -> None:
    """Dead-lettered tasks, newest first: id, queue, kind, attempts, age and last error."""
    import asyncio

    async def read(session: Any) -> list[dict[str, Any]]:
        from sqlalchemy import select

        from app.db.tables.queue import QueueTask

        query = select(QueueTask).where(QueueTask.state == "dead")
        if queue:
            query = query.where(QueueTask.queue == queue)
        rows = (await session.scalars(query.order_by(QueueTask.id.desc()).limit(limit))).all()
        now = time.time()
        return [
            {
                "id": t.id,
                "queue": t.queue,
                "kind": t.kind,
                "attempts": t.attempts,
                "dead_for_seconds": round(now - t.finished_at, 1) if t.finished_at else None,
                "last_error": t.last_error,
            }
            for t in rows
        ]

    tasks = asyncio.run(_run(read))
    if as_json:
        print_json(tasks)
        return
    if not tasks:
        stdout.print("no dead-lettered tasks")
        return
    from rich.table import Table
    from rich.text import Text

    table = Table("id", "queue", "kind", "attempts", "dead for", "last error")
    for t in tasks:
        error = (t["last_error"] or "").splitlines()[0][:ERROR_WIDTH] if t["last_error"] else "-"
        age = f"{t['dead_for_seconds']:.0f}s" if t["dead_for_seconds"] is not None else "-"
        cells = (t["id"], t["queue"], t["kind"], t["attempts"], age, error)
        table.add_row(*(Text(str(cell)) for cell in cells))
    stdout.print(table)


def retry(
    task_ids: Annotated[
        list[int] | None, typer.Argument(help="Ids of dead tasks (see `btai queue list`).")
    ] = None,
    retry_all: Annotated[bool, typer.Option("--all", help="Every dead-lettered task.")] = False,
) -> None:
    """Put dead-lettered tasks back on their queue: pending, attempts reset, due now."""
    if not task_ids and not retry_all:
        raise UsageProblem("give task ids or --all", hint="`btai queue list` shows the ids")
    import asyncio

    async def requeue(session: Any) -> int:
        from sqlalchemy import update

        from app.db.tables.queue import QueueTask

        now = time.time()
        query = update(QueueTask).where(QueueTask.state == "dead")
        if not retry_all:
            query = query.where(QueueTask.id.in_(task_ids or []))
        result = await session.execute(
            query.values(
                state="pending",
                attempts=0,
                available_at=now,
                finished_at=None,
                lease_owner=None,
                lease_token=None,
                lease_expires_at=None,
            )
        )
        return int(result.rowcount)

    count = asyncio.run(_run(requeue))
    if count == 0:
        raise BtaiError("no such dead-lettered task", hint="`btai queue list` shows them")
    stderr.print(f"retrying {count} task{'s' if count != 1 else ''}")


def purge(
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete every dead-lettered task (their analyses keep their failed state)."""
    import asyncio

    if not yes:
        typer.confirm("Delete every dead-lettered task?", abort=True)

    async def delete_dead(session: Any) -> int:
        from sqlalchemy import delete

        from app.db.tables.queue import QueueTask

        result = await session.execute(delete(QueueTask).where(QueueTask.state == "dead"))
        return int(result.rowcount)

    count = asyncio.run(_run(delete_dead))
    stderr.print(f"purged {count} dead-lettered task{'s' if count != 1 else ''}")


async def _run(work: Any) -> Any:
    from btai_ops.transaction import in_transaction

    return await in_transaction(work, reading="the queue")
