"""Migrate and seed the database: what `btai serve` runs before it serves, and `btai db`.

Seeding loads one season of the embedded Lahman extract with bulk inserts; it is idempotent
(a season already present is left alone unless `replace` is asked for).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from app.data.loader import find_extract_dir, load_extract
from app.data.seasons import build_rows
from app.db.engine import ensure_sqlite_dir, is_sqlite
from app.db.migrate import current_revisions, head_revisions, schema_lock, upgrade
from app.db.tables.baseball import Player, PlayerSeason, PlayerStint, Salary, Team
from app.db.tables.contracts import SalaryHistory
from app.settings import Settings, mask_url

logger = logging.getLogger("app.db.seed")
CONNECT_TIMEOUT = 10.0
BATCH = 1000


class DatabaseUnreachable(ConnectionError):
    """The database at DATABASE_URL cannot be reached; the message masks the password."""


@dataclass(frozen=True)
class SeedResult:
    season: int
    inserted: bool
    teams: int = 0
    players: int = 0


async def ensure_reachable(url: str) -> None:
    """Open one connection and run `SELECT 1`, or raise DatabaseUnreachable."""
    if is_sqlite(url):
        ensure_sqlite_dir(url)
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseUnreachable(
            f"cannot reach the database at DATABASE_URL={mask_url(url)}: {reason}"
        ) from exc
    finally:
        await engine.dispose()


async def _seeded_seasons(conn: AsyncConnection) -> set[int]:
    result = await conn.execute(select(Team.season).distinct())
    return {int(season) for season in result.scalars()}


async def _insert(conn: AsyncConnection, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        await conn.execute(insert(table), rows[start : start + BATCH])


async def load_season(
    conn: AsyncConnection, season: int, *, replace: bool = False, data_dir: Path | None = None
) -> SeedResult:
    """Insert one season's teams, players, player-seasons, stints and salaries in one
    transaction, from `data_dir` when it holds the season (the embedded data otherwise)."""
    if season in await _seeded_seasons(conn) and not replace:
        return SeedResult(season, inserted=False)
    folder = find_extract_dir(season, data_dir)
    # Parsing and WAR take about a second of CPU: keep it off the event loop.
    rows = await asyncio.to_thread(lambda: build_rows(load_extract(season, folder)))
    if replace:
        await conn.execute(delete(Team).where(Team.season == season))
        await conn.execute(delete(Salary).where(Salary.season == season))
        await conn.execute(delete(PlayerStint).where(PlayerStint.season == season))
        await conn.execute(delete(PlayerSeason).where(PlayerSeason.season == season))
        await conn.execute(delete(SalaryHistory).where(SalaryHistory.data_season == season))
    known_players = set((await conn.execute(select(Player.player_id))).scalars())
    known_seasons = {
        (pid, s)
        for pid, s in await conn.execute(select(PlayerSeason.player_id, PlayerSeason.season))
    }
    await _insert(conn, Team, rows.teams)
    await _insert(conn, Player, [p for p in rows.players if p["player_id"] not in known_players])
    await _insert(
        conn,
        PlayerSeason,
        [r for r in rows.player_seasons if (r["player_id"], r["season"]) not in known_seasons],
    )
    await _insert(conn, PlayerStint, rows.stints)
    await _insert(conn, Salary, rows.salaries)
    await _insert(conn, SalaryHistory, rows.salary_history)
    return SeedResult(season, inserted=True, teams=len(rows.teams), players=len(rows.players))


async def seed_season(
    settings: Settings,
    *,
    season: int | None = None,
    replace: bool = False,
    migrate: bool = True,
    data_dir: Path | None = None,
) -> SeedResult:
    """Migrate (unless told not to) and load `season` (DATA_SEASON by default) from
    `data_dir` (DATA_DIR by default, then the embedded data)."""
    url = settings.database_url
    await ensure_reachable(url)
    async with schema_lock(url, wait=settings.DB_SCHEMA_LOCK_TIMEOUT):
        if migrate:
            await upgrade(url)
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.begin() as conn:
                return await load_season(
                    conn,
                    season or settings.DATA_SEASON,
                    replace=replace,
                    data_dir=data_dir or settings.DATA_DIR,
                )
        finally:
            await engine.dispose()


async def prepare_database(settings: Settings, *, migrate: bool = True, seed: bool = True) -> None:
    """Bring the database to the latest schema and seed DATA_SEASON into empty tables.

    Both steps run under the schema lock, so processes starting together seed only once."""
    url = settings.database_url
    await ensure_reachable(url)
    async with schema_lock(url, wait=settings.DB_SCHEMA_LOCK_TIMEOUT):
        if migrate:
            await upgrade(url)
        if seed:
            await _seed_if_empty(url, settings.DATA_SEASON, settings.DATA_DIR)


async def _seed_if_empty(url: str, season: int, data_dir: Path | None) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            empty = (await conn.execute(select(func.count()).select_from(Team))).scalar_one() == 0
            if empty:
                result = await load_season(conn, season, data_dir=data_dir)
                logger.info(
                    "seeded season %s: %s teams, %s players",
                    result.season,
                    result.teams,
                    result.players,
                )
    finally:
        await engine.dispose()


async def database_status(settings: Settings) -> dict[str, Any]:
    """Revisions applied versus heads, and per seeded season its team and player counts."""
    url = settings.database_url
    await ensure_reachable(url)
    current = await current_revisions(url)
    heads = head_revisions()
    seasons: dict[str, dict[str, int]] = {}
    if any(rev.startswith("baseball") for rev in current):
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                teams = await conn.execute(
                    select(Team.season, func.count()).group_by(Team.season).order_by(Team.season)
                )
                players = dict(
                    (
                        await conn.execute(
                            select(PlayerSeason.season, func.count()).group_by(PlayerSeason.season)
                        )
                    ).all()
                )
                for season, count in teams:
                    seasons[str(season)] = {"teams": count, "players": players.get(season, 0)}
        finally:
            await engine.dispose()
    return {
        "database": mask_url(url),
        "current": sorted(current),
        "heads": sorted(heads),
        "up_to_date": current == heads,
        "seasons": seasons,
    }
