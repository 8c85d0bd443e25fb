"""Team reads: the season's teams, one team, its payroll and its WAR by position."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.tables.baseball import Player, PlayerSeason, PlayerStint, Salary, Team
from app.domain.team_needs import need_positions

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
    # Seasons without real salaries carry estimated ones on the player-seasons instead; a
    # traded player's is shared between his teams by the playing time of each stint.
    estimated = await session.execute(
        select(
            Player,
            PlayerSeason.salary,
            PlayerStint.role,
            PlayerStint.plate_appearances,
            PlayerStint.innings_pitched,
            PlayerSeason.plate_appearances,
            PlayerSeason.innings_pitched,
        )
        .join(PlayerSeason, PlayerSeason.player_id == Player.player_id)
        .join(
            PlayerStint,
            (PlayerStint.player_id == Player.player_id) & (PlayerStint.season == season),
        )
        .where(
            PlayerSeason.season == season,
            PlayerStint.team_key == team_key.upper(),
            PlayerSeason.salary.is_not(None),
        )
    )
    shared = [
        (player, round((salary or 0) * stint_share(role, pa, ip, season_pa, season_ip)))
        for player, salary, role, pa, ip, season_pa, season_ip in estimated.all()
    ]
    return sorted(shared, key=lambda row: (-row[1], row[0].player_id))


def stint_share(role: str, pa: int, ip: float, season_pa: int, season_ip: float) -> float:
    """The part of a player's season spent with one team: innings for a pitcher, plate
    appearances for anyone else (all of it when the season has neither)."""
    if role in ("SP", "RP") and season_ip:
        return min(ip / season_ip, 1.0)
    if season_pa:
        return min(pa / season_pa, 1.0)
    return 1.0


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
    """{team_key: {position: WAR}} for every team of the season, from the stints played for
    that team (a traded player counts for each team only what he did there). Each team lists
    exactly the positions its league fields that season: no DH where the pitcher bats."""
    teams = await session.execute(select(Team.team_key, Team.league).where(Team.season == season))
    leagues = {str(key): str(league) for key, league in teams.all()}
    table = {key: dict.fromkeys(need_positions(lg, season), 0.0) for key, lg in leagues.items()}
    result = await session.execute(
        select(PlayerStint.team_key, PlayerStint.role, func.sum(PlayerStint.war))
        .where(PlayerStint.season == season)
        .group_by(PlayerStint.team_key, PlayerStint.role)
    )
    for team_key, position, war in result.all():
        positions = table.get(team_key)
        if positions is not None and position in positions:
            positions[position] = float(war or 0.0)
    return table
