"""Read players and teams from the baseball tables into the valuation model's inputs.

The model needs each player's last three seasons, his role (pitchers split into starters and
relievers), salary and contract; each team needs its payroll and its ranked needs. The data
changes only when it is re-seeded, so the whole league is kept for CACHE_TTL seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.repositories import teams as team_repo
from app.db.tables.baseball import Player, PlayerSeason, Salary, Team
from app.domain.team_needs import rank_positions
from app.domain.trades import TeamContext
from app.domain.valuation import ContractStatus, PlayerValuationInput, SeasonLine

HISTORY_SEASONS = 3
STARTER_INNINGS_PER_GAME = team_repo.STARTER_INNINGS_PER_GAME
POWER_HR_PER_PA = 0.045
"""About 27 home runs over 600 plate appearances."""
SPEED_STOLEN_BASES = 15
CONTACT_WOBA = 0.350
"""A wOBA of .350 and up: a hitter who reaches base and hits for average."""
DEFENSE_POSITIONS = frozenset({"C", "SS", "CF", "2B"})
DEFENSE_MIN_WAR = 2.0
"""A 2-win player at a premium glove position whose bat is below average wins with his glove."""
MIN_ATTRIBUTE_PA = 200
NEED_COUNT = 4
"""How many of a team's weakest positions count as its ranked needs."""

_STATUS = {
    "pre-arbitration": ContractStatus.PRE_ARBITRATION,
    "arbitration": ContractStatus.ARBITRATION,
    "free agent": ContractStatus.FREE_AGENT,
}


@dataclass(frozen=True, slots=True)
class League:
    season: int
    teams: dict[str, TeamContext]
    players: dict[str, PlayerValuationInput]

    def roster(self, team_key: str) -> list[PlayerValuationInput]:
        return [p for p in self.players.values() if p.team == team_key]


def role_of(season: PlayerSeason) -> str:
    if season.position != "P":
        return season.position
    per_game = season.innings_pitched / season.games if season.games else 0.0
    return "SP" if per_game >= STARTER_INNINGS_PER_GAME else "RP"


def attributes_of(role: str, season: PlayerSeason) -> frozenset[str]:
    """Skills a season shows: power, speed, contact, defense; pitchers by role."""
    if role == "SP":
        return frozenset({"starting_pitching"})
    if role == "RP":
        return frozenset({"relief"})
    found: set[str] = set()
    pa = season.plate_appearances
    if pa >= MIN_ATTRIBUTE_PA and season.home_runs / pa >= POWER_HR_PER_PA:
        found.add("power")
    if season.stolen_bases >= SPEED_STOLEN_BASES:
        found.add("speed")
    if pa >= MIN_ATTRIBUTE_PA and (season.woba or 0.0) >= CONTACT_WOBA:
        found.add("contact")
    if role in DEFENSE_POSITIONS and season.war >= DEFENSE_MIN_WAR and season.batting_runs < 0:
        found.add("defense")
    return frozenset(found)


def to_input(player: Player, history: Sequence[PlayerSeason]) -> PlayerValuationInput:
    """`history` newest first; the first row is the season being valued."""
    current = history[0]
    role = role_of(current)
    pitcher = current.position == "P"
    lines = tuple(
        SeasonLine(
            season=s.season,
            war=s.war,
            pa=0 if pitcher else s.plate_appearances,
            ip=s.innings_pitched if pitcher else 0.0,
            games=s.games,
        )
        for s in history[:HISTORY_SEASONS]
    )
    return PlayerValuationInput(
        player_id=player.player_id,
        name=player.full_name,
        age=current.age or 28,
        position=role,
        team=current.team_key,
        salary=float(current.salary) if current.salary is not None else None,
        contract_status=_STATUS.get(current.contract_status, ContractStatus.FREE_AGENT),
        years_of_control=current.years_of_control + 1,  # this season plus the years left
        seasons=lines,
        attributes=attributes_of(role, current),
    )


def _group(rows: Iterable[tuple[Player, PlayerSeason]], season: int) -> list[PlayerValuationInput]:
    histories: dict[str, list[PlayerSeason]] = defaultdict(list)
    people: dict[str, Player] = {}
    for player, player_season in rows:
        people[player.player_id] = player
        histories[player.player_id].append(player_season)
    inputs = []
    for pid, history in histories.items():
        history.sort(key=lambda s: s.season, reverse=True)
        if history[0].season == season:  # only players active in the season being valued
            inputs.append(to_input(people[pid], history))
    return inputs


def _history_query(season: int) -> Select[Player, PlayerSeason]:
    return (
        select(Player, PlayerSeason)
        .join(PlayerSeason, PlayerSeason.player_id == Player.player_id)
        .where(PlayerSeason.season.between(season - HISTORY_SEASONS + 1, season))
    )


async def _team_contexts(session: AsyncSession, season: int) -> dict[str, TeamContext]:
    teams = (await session.scalars(select(Team).where(Team.season == season))).all()
    payroll_rows = await session.execute(
        select(Salary.team_key, func.sum(Salary.amount))
        .where(Salary.season == season)
        .group_by(Salary.team_key)
    )
    payrolls = {key: total for key, total in payroll_rows.all()}
    war = await team_repo.war_by_position(session, season=season)
    contexts = {}
    for team in teams:
        gaps = rank_positions(team.team_key, war)
        needs = tuple(g.position for g in gaps if g.gap < 0)[:NEED_COUNT]
        payroll = float(payrolls.get(team.team_key) or 0)
        contexts[team.team_key] = TeamContext(team.team_key, team.name, payroll, needs)
    return contexts


async def load_league(session: AsyncSession, season: int) -> League:
    """Every team and every player active in `season`, as the model's inputs."""
    rows = [(p, s) for p, s in (await session.execute(_history_query(season))).all()]
    players = {p.player_id: p for p in _group(rows, season)}
    return League(season, await _team_contexts(session, season), players)


class LeagueCache:
    """The season's league, read once and kept for `ttl` seconds.

    Teams, rosters, stats and contracts change only when the data is re-seeded, so trade
    evaluations read them from memory instead of querying per request; one build at a time.
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._cached: dict[int, tuple[float, League]] = {}
        self._lock = asyncio.Lock()

    def _fresh(self, season: int) -> League | None:
        hit = self._cached.get(season)
        if hit is not None and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        return None

    async def get(self, sessions: async_sessionmaker[AsyncSession], season: int) -> League:
        league = self._fresh(season)
        if league is not None:
            return league
        async with self._lock:
            league = self._fresh(season)
            if league is None:
                async with sessions() as session:
                    league = await load_league(session, season)
                self._cached[season] = (time.monotonic(), league)
            return league
