"""Player reads: search with keyset pagination, one player's seasons, rosters, the export."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.repositories.teams import role_expression
from app.db.tables.baseball import Player, PlayerSeason
from app.db.tables.contracts import SalaryHistory
from app.domain.contracts import SalaryRecord

SORT_KEYS: tuple[str, ...] = ("war", "-war", "salary", "-salary", "name", "-name", "age", "-age")
PlayerRow = tuple[Player, PlayerSeason]
ROLES = frozenset({"SP", "RP"})
"""Position filters that match pitchers by role (the needs route's split), not by position."""

# An unknown salary or age sorts last in both directions: it stands for a value beyond every
# real one, the largest when ascending and below zero when descending.
UNKNOWN_LAST = {"salary": (2**63 - 1, -1), "age": (2**31 - 1, -1)}


def unknown_value(field: str, descending: bool) -> int:
    """What an unknown `field` (salary, age) sorts as: last, whichever the direction."""
    ascending_value, descending_value = UNKNOWN_LAST[field]
    return descending_value if descending else ascending_value


def sort_expression(sort: str) -> ColumnElement[Any]:
    """The (non-null) value a sort orders by; the player id breaks ties."""
    field = sort.lstrip("-")
    if field == "war":
        return PlayerSeason.war  # type: ignore[return-value]
    if field == "salary":
        return func.coalesce(PlayerSeason.salary, unknown_value(field, sort.startswith("-")))
    if field == "age":
        return func.coalesce(PlayerSeason.age, unknown_value(field, sort.startswith("-")))
    return Player.sort_name  # type: ignore[return-value]


@dataclass(frozen=True)
class PlayerFilter:
    season: int
    q: str | None = None
    position: str | None = None
    team: str | None = None
    min_war: float | None = None
    max_salary: int | None = None


@dataclass(frozen=True)
class Keyset:
    """Where the previous page ended: its last row's sort value and player id."""

    value: Any
    player_id: str


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# The columns of a list row: selected as plain rows, the page skips the ORM's per-object cost.
SUMMARY_COLUMNS = (
    Player.player_id,
    Player.full_name,
    Player.sort_name,
    Player.bats,
    Player.throws,
    PlayerSeason.season,
    PlayerSeason.team_key,
    PlayerSeason.position,
    PlayerSeason.age,
    PlayerSeason.war,
    PlayerSeason.salary,
    PlayerSeason.salary_source,
    PlayerSeason.contract_status,
    PlayerSeason.years_of_control,
    role_expression().label("role"),  # type: ignore[attr-defined]
)


def _shape(f: PlayerFilter) -> tuple[bool, str | None, bool, bool, bool]:
    position = None if not f.position else "role" if f.position in ROLES else "position"
    return (
        bool(f.q),
        position,
        bool(f.team),
        f.min_war is not None,
        f.max_salary is not None,
    )


@lru_cache(maxsize=512)
def _statement(shape: tuple[bool, str | None, bool, bool, bool], sort: str, keyed: bool) -> Any:
    """The page query for one combination of filters, built once: a statement with bound
    parameters costs far less per request than building and compiling it anew."""
    query = _filtered(select(*SUMMARY_COLUMNS), shape)
    expr = sort_expression(sort)
    descending = sort.startswith("-")
    if keyed:
        value: Any = bindparam("after_value")
        beyond = expr < value if descending else expr > value
        query = query.where(
            or_(beyond, and_(expr == value, PlayerSeason.player_id > bindparam("after_id")))
        )
    order = expr.desc() if descending else expr.asc()
    return query.order_by(order, PlayerSeason.player_id).limit(bindparam("limit"))


@lru_cache(maxsize=64)
def _count_statement(shape: tuple[bool, str | None, bool, bool, bool]) -> Any:
    """How many rows the page query of `shape` finds over all its pages."""
    return _filtered(select(func.count()).select_from(Player), shape)


def _filtered(query: Any, shape: tuple[bool, str | None, bool, bool, bool]) -> Any:
    """`query` over the season's players, with the filters `shape` switches on."""
    has_q, position, has_team, has_min_war, has_max_salary = shape
    query = query.join(PlayerSeason, PlayerSeason.player_id == Player.player_id).where(
        PlayerSeason.season == bindparam("season")
    )
    if has_q:
        pattern: Any = bindparam("pattern")
        query = query.where(
            or_(
                func.lower(Player.full_name).like(pattern, escape="\\"),
                Player.sort_name.like(pattern, escape="\\"),
            )
        )
    if position == "role":
        query = query.where(role_expression() == bindparam("position"))
    elif position:
        query = query.where(PlayerSeason.position == bindparam("position"))
    if has_team:
        query = query.where(PlayerSeason.team_key == bindparam("team"))
    if has_min_war:
        query = query.where(PlayerSeason.war >= bindparam("min_war"))
    if has_max_salary:
        query = query.where(PlayerSeason.salary <= bindparam("max_salary"))
    return query


def _parameters(f: PlayerFilter, limit: int, after: Keyset | None) -> dict[str, Any]:
    values: dict[str, Any] = {"season": f.season, "limit": limit}
    if f.q:
        values["pattern"] = f"%{_escape_like(f.q.lower())}%"
    if f.position:
        values["position"] = f.position
    if f.team:
        values["team"] = f.team.upper()
    if f.min_war is not None:
        values["min_war"] = f.min_war
    if f.max_salary is not None:
        values["max_salary"] = f.max_salary
    if after is not None:
        values["after_value"] = after.value
        values["after_id"] = after.player_id
    return values


async def search_player_summaries(
    session: AsyncSession,
    filters: PlayerFilter,
    *,
    sort: str = "-war",
    limit: int = 25,
    after: Keyset | None = None,
) -> list[dict[str, Any]]:
    """One page of list rows (mappings of SUMMARY_COLUMNS), ordered by `sort` then player id;
    `after` continues a page."""
    query = _statement(_shape(filters), sort, after is not None)
    result = await session.execute(query, _parameters(filters, limit, after))
    return [dict(row) for row in result.mappings()]


async def count_player_summaries(session: AsyncSession, filters: PlayerFilter) -> int:
    """How many players match `filters` (the `total` of their pages)."""
    values = _parameters(filters, 0, None)
    del values["limit"]
    return int(await session.scalar(_count_statement(_shape(filters)), values) or 0)


async def season_player_summaries(
    session: AsyncSession, *, season: int, batch: int = 500
) -> AsyncIterator[RowMapping]:
    """Every list row of `season` as mappings of SUMMARY_COLUMNS, in player-id order, read
    `batch` rows at a time: a caller that keeps less than the row holds only one batch."""
    connection = await session.connection()
    result = await connection.stream(
        select(*SUMMARY_COLUMNS)
        .join(PlayerSeason, PlayerSeason.player_id == Player.player_id)
        .where(PlayerSeason.season == season)
        .order_by(PlayerSeason.player_id)
        .execution_options(yield_per=batch)
    )
    async for row in result.mappings():
        yield row


def summary_sort_value(row: dict[str, Any], sort: str) -> Any:
    """The value of `sort_expression(sort)` for a summary mapping, for the next cursor."""
    field = sort.lstrip("-")
    if field == "name":
        return row["sort_name"]
    if row[field] is None:
        return unknown_value(field, sort.startswith("-"))
    return row[field]


async def get_player(session: AsyncSession, player_id: str) -> Player | None:
    return await session.get(Player, player_id)


async def player_seasons(
    session: AsyncSession, player_id: str, *, through: int, count: int = 3
) -> Sequence[PlayerSeason]:
    """The player's last `count` seasons up to `through`, newest first."""
    result = await session.scalars(
        select(PlayerSeason)
        .where(PlayerSeason.player_id == player_id, PlayerSeason.season <= through)
        .order_by(PlayerSeason.season.desc())
        .limit(count)
    )
    return result.all()


async def salary_history(
    session: AsyncSession, player_id: str, *, data_season: int
) -> list[SalaryRecord]:
    """The player's salaries up to `data_season`, with his service entering each season."""
    result = await session.execute(
        select(
            SalaryHistory.season,
            SalaryHistory.team_key,
            SalaryHistory.amount,
            SalaryHistory.service_years,
        ).where(SalaryHistory.data_season == data_season, SalaryHistory.player_id == player_id)
    )
    return [SalaryRecord(s, t, float(a), float(v)) for s, t, a, v in result.all()]


async def team_roster(session: AsyncSession, *, season: int, team_key: str) -> list[PlayerRow]:
    """Players whose season ended with the team, best WAR first."""
    result = await session.execute(
        select(Player, PlayerSeason)
        .join(PlayerSeason, PlayerSeason.player_id == Player.player_id)
        .where(PlayerSeason.season == season, PlayerSeason.team_key == team_key.upper())
        .order_by(PlayerSeason.war.desc(), Player.player_id)
    )
    return [(p, s) for p, s in result.all()]


async def stream_players(
    session: AsyncSession, *, season: int, batch: int = 500
) -> AsyncIterator[PlayerRow]:
    """Every player of the season, fetched `batch` rows at a time (a server-side cursor on
    PostgreSQL), so memory stays flat however many rows there are."""
    query = (
        select(Player, PlayerSeason)
        .join(PlayerSeason, PlayerSeason.player_id == Player.player_id)
        .where(PlayerSeason.season == season)
        .order_by(PlayerSeason.player_id)
        .execution_options(yield_per=batch)
    )
    result = await session.stream(query)
    async for player, player_season in result:
        yield player, player_season


async def salaries_estimated(session: AsyncSession, *, season: int) -> bool:
    """True when the season's salaries are estimates (no real salary row exists)."""
    found = await session.scalar(
        select(PlayerSeason.player_id)
        .where(PlayerSeason.season == season, PlayerSeason.salary_source == "lahman")
        .limit(1)
    )
    return found is None
