"""`btai db upgrade|seed|status`: migrate, seed and inspect the service's database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from btai_ops.errors import ConfigError, ServiceUnreachable
from btai_ops.output import print_json, stderr, stdout
from btai_ops.settings_loader import load_settings

app = typer.Typer(help="Migrate, seed and inspect the database.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]


def _unreachable(exc: Exception) -> ServiceUnreachable:
    return ServiceUnreachable(str(exc), hint="check DATABASE_URL and that the database is up")


@app.command("upgrade")
def upgrade() -> None:
    """Apply every pending migration (all branches) to DATABASE_URL."""
    settings = load_settings()
    from app.db.migrate import SchemaLockTimeout
    from app.db.seed import DatabaseUnreachable, prepare_database
    from app.settings import mask_url

    try:
        import asyncio

        asyncio.run(prepare_database(settings, migrate=True, seed=False))
    except (DatabaseUnreachable, SchemaLockTimeout) as exc:
        raise _unreachable(exc) from None
    stderr.print(f"migrated {mask_url(settings.database_url)} to the latest revision")


@app.command("seed")
def seed(
    season: Annotated[
        int | None, typer.Option(help="Season to load [default: DATA_SEASON].")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the season's rows if already seeded.")
    ] = False,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="Folder of extracts from `btai data import` [default: DATA_DIR, then the "
            "embedded data].",
            file_okay=False,
        ),
    ] = None,
) -> None:
    """Migrate, then load one season of the Lahman data (idempotent)."""
    settings = load_settings()
    from app.data.loader import ExtractMissing
    from app.db.migrate import SchemaLockTimeout
    from app.db.seed import DatabaseUnreachable, seed_season

    try:
        import asyncio

        result = asyncio.run(seed_season(settings, season=season, replace=force, data_dir=data_dir))
    except (DatabaseUnreachable, SchemaLockTimeout) as exc:
        raise _unreachable(exc) from None
    except ExtractMissing as exc:
        raise ConfigError(
            str(exc), hint="run `btai data import --season YEAR` and seed `--from` its folder"
        ) from None
    if result.inserted:
        stderr.print(
            f"seeded season {result.season}: {result.teams} teams, {result.players} players"
        )
    else:
        stderr.print(f"season {result.season} already seeded (use --force to reload)")


@app.command("status")
def status(json_output: JsonOption = False) -> None:
    """Migration revisions and the seasons loaded, per table; creates nothing."""
    settings = load_settings()
    from app.db.seed import DatabaseUnreachable, database_status

    missing = _missing_sqlite_file(settings.database_url)
    try:
        import asyncio

        report = (
            _not_initialised(settings.database_url)
            if missing
            else asyncio.run(database_status(settings))
        )
    except DatabaseUnreachable as exc:
        raise _unreachable(exc) from None
    report["initialised"] = bool(report["current"])
    if json_output:
        print_json(report)
        return
    stdout.print(f"database   {report['database']}", markup=False)
    if not report["initialised"]:
        stdout.print("status     not initialised (`btai db upgrade` or `btai serve` sets it up)")
        return
    stdout.print(f"up to date {'yes' if report['up_to_date'] else 'no (run `btai db upgrade`)'}")
    stdout.print(f"revisions  {', '.join(report['current']) or '(none)'}")
    for season, counts in report["seasons"].items():
        stdout.print(f"season {season}: {counts['teams']} teams, {counts['players']} players")


def _missing_sqlite_file(url: str) -> bool:
    """A file-backed SQLite URL whose file does not exist (opening it would create it)."""
    from pathlib import Path

    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return False
    return not database.startswith("file:") and not Path(database).expanduser().exists()


def _not_initialised(url: str) -> dict[str, Any]:
    from app.db.migrate import head_revisions
    from app.settings import mask_url

    heads = sorted(head_revisions())
    return {"database": mask_url(url), "current": [], "heads": heads, "up_to_date": False,
            "seasons": {}}  # fmt: skip
