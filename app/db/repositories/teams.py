"""Team reads: the season's teams, one team, its payroll and its WAR by position."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.tables.baseball import Player, PlayerSeason, Salary, Team

# A pitcher averaging three or more innings per game is a starter.
STARTER_INNINGS_PER_GAME = 3.0


async def list_teams(
    session: AsyncSession,
    *,
    season: int,
    league: str | None = None,
    division: str | None = None,
) -> Sequence[Team]:
    query = select(Team).where(Team.season == season)
    if league:
        query = query.where(Team.league == league)
    if division:
        query = query.where(Team.division == division)
    result = await session.scalars(query.order_by(Team.league, Team.division, Team.team_key))
    return result.all()


async def get_team(session: AsyncSession, *, season: int, team_key: str) -> Team | None:
    result = await session.scalars(
        select(Team).where(Team.season == season, Team.team_key == team_key.upper())
    )
    return result.first()


async def team_payroll(
    session: AsyncSession, *, season: int, team_key: str
) -> Sequence[tuple[Player, int]]:
    """Every salary the team paid in the season (Lahman's Salaries rows), largest first;
    for a season without real salaries, the estimated salaries of the team's players."""
    result = await session.execute(
        select(Player, Salary.amount)
        .join(Salary, Salary.player_id == Player.player_id)
        .where(Salary.season == season, Salary.team_key == team_key.upper())
        .order_by(Salary.amount.desc(), Player.player_id)
    )
    rows = [(player, int(amount)) for player, amount in result.all()]
    if rows:
        return rows
    # Seasons without real salaries carry estimated ones on the player-seasons instead.
    estimated = await session.execute(
        select(Player, PlayerSeason.salary)
        .join(PlayerSeason, PlayerSeason.player_id == Player.player_id)
        .where(
            PlayerSeason.season == season,
            PlayerSeason.team_key == team_key.upper(),
            PlayerSeason.salary.is_not(None),
        )
        .order_by(PlayerSeason.salary.desc(), Player.player_id)
    )
    return [(player, int(amount or 0)) for player, amount in estimated.all()]


def role_expression() -> object:
    """The needs position: the season position, with pitchers split into SP and RP."""
    per_game = PlayerSeason.innings_pitched / func.nullif(PlayerSeason.games, 0)
    return case(
        (
            PlayerSeason.position == "P",
            case((per_game >= STARTER_INNINGS_PER_GAME, "SP"), else_="RP"),
        ),
        else_=PlayerSeason.position,
    )


async def war_by_position(session: AsyncSession, *, season: int) -> dict[str, dict[str, float]]:
    """{team_key: {position: WAR}} for every team of the season."""
    role = role_expression().label("role")  # type: ignore[attr-defined]
    result = await session.execute(
        select(PlayerSeason.team_key, role, func.sum(PlayerSeason.war))
        .where(PlayerSeason.season == season)
        .group_by(PlayerSeason.team_key, role)
    )
    table: dict[str, dict[str, float]] = defaultdict(dict)
    for team_key, position, war in result.all():
        table[team_key][position] = float(war or 0.0)
    return dict(table)
