"""Read players and teams from the baseball tables into the valuation model's inputs.

The model needs each player's last three seasons, his role (pitchers split into starters and
relievers), his contract (derived from his salary history, `app.domain.contracts`) and the
league's mean WAR rate for his role; each team needs its payroll and its ranked needs. The data
changes only when it is re-seeded, so the whole league is kept for CACHE_TTL seconds.

Building the league turns a few thousand rows into the model's inputs, which takes long enough
to stall every other request: the queries fetch plain column rows on the event loop, and the
pure build over them runs in a worker thread. Concurrent callers share one build.
The rows, not the league, are what a build's memory peaks on, and a worker keeps that peak as
its size; so the players are read and built LEAGUE_CHUNK at a time, and each chunk's two large
queries are read FETCH_BATCH rows at a time straight into the records the build reads, with
repeated values (names, team keys, seasons, common numbers) one object each.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar, cast

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.repositories import teams as team_repo
from app.db.tables.baseball import Player, PlayerSeason, Salary, Team
from app.db.tables.contracts import SalaryHistory
from app.domain.contracts import PlayerContract, SalaryRecord, derive_contract
from app.domain.team_needs import team_needs
from app.domain.trades import TeamContext
from app.domain.valuation import (
    BATTERS_FACED_PER_INNING,
    LEAGUE_MEAN_WAR_PER_PA,
    ContractStatus,
    PlayerValuationInput,
    SeasonLine,
)
from app.domain.war_season import RoleLine, role_means

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
FETCH_BATCH = 500
"""Rows read per round trip by the league's two large queries."""
LEAGUE_CHUNK = 250
"""Players whose rows are read and built at a time: a build then holds one chunk's rows (about
0.4 MB for a season's ~1,400 players) beside the league, not every row at once (2.4 MB)."""
T = TypeVar("T")

_STATUS = {
    "pre-arbitration": ContractStatus.PRE_ARBITRATION,
    "arbitration": ContractStatus.ARBITRATION,
    "free agent": ContractStatus.FREE_AGENT,
}


@dataclass(frozen=True, slots=True)
class SeasonRecord:
    """One player-season, as much of `PlayerSeason` as the model reads."""

    season: int
    team_key: str
    position: str
    age: int | None
    games: int
    plate_appearances: int
    home_runs: int
    stolen_bases: int
    woba: float | None
    batting_runs: float
    innings_pitched: float
    war: float
    salary: int | None
    salary_source: str | None
    contract_status: str
    years_of_control: int
    service_years: float


_RECORD_COLUMNS = tuple(getattr(PlayerSeason, name) for name in SeasonRecord.__slots__)


@dataclass(frozen=True, slots=True)
class LeagueRows:
    """What the queries fetched for one season: plain values, safe to hand to a thread."""

    season: int
    history: Sequence[tuple[str, str, SeasonRecord]]
    """(player_id, full_name, season) for the last HISTORY_SEASONS seasons (`history_row`)."""
    teams: Sequence[tuple[str, str]]
    payrolls: Mapping[str, float]
    war_by_position: Mapping[str, Mapping[str, float]]
    salary_history: Sequence[tuple[str, SalaryRecord]] = ()
    """(player_id, salary season) of the season's players (`salary_row`)."""


def history_row(player_id: str, full_name: str, *fields: Any) -> tuple[str, str, SeasonRecord]:
    """One row of `LeagueRows.history` from the player's id and name and SeasonRecord's fields."""
    return player_id, full_name, SeasonRecord(*fields)


def salary_row(
    player_id: str, season: int, team_key: str, amount: float, service_entering: float
) -> tuple[str, SalaryRecord]:
    """One row of `LeagueRows.salary_history`."""
    return player_id, SalaryRecord(season, team_key, float(amount), float(service_entering))


@dataclass(frozen=True, slots=True)
class League:
    season: int
    teams: dict[str, TeamContext]
    players: dict[str, PlayerValuationInput]
    salaries_estimated: bool = False
    """The season has no salary data: every salary is the model's estimate."""

    def roster(self, team_key: str) -> list[PlayerValuationInput]:
        return [p for p in self.players.values() if p.team == team_key]


def role_of(season: SeasonRecord) -> str:
    if season.position != "P":
        return season.position
    per_game = season.innings_pitched / season.games if season.games else 0.0
    return "SP" if per_game >= STARTER_INNINGS_PER_GAME else "RP"


PITCHER_ATTRIBUTES = {
    "SP": frozenset({"starting_pitching"}),
    "RP": frozenset({"relief"}),
}


def _power(role: str, season: SeasonRecord) -> bool:
    pa = season.plate_appearances
    return pa >= MIN_ATTRIBUTE_PA and season.home_runs / pa >= POWER_HR_PER_PA


def _speed(role: str, season: SeasonRecord) -> bool:
    return season.stolen_bases >= SPEED_STOLEN_BASES


def _contact(role: str, season: SeasonRecord) -> bool:
    return season.plate_appearances >= MIN_ATTRIBUTE_PA and (season.woba or 0.0) >= CONTACT_WOBA


def _defense(role: str, season: SeasonRecord) -> bool:
    glove = role in DEFENSE_POSITIONS and season.war >= DEFENSE_MIN_WAR
    return glove and season.batting_runs < 0


HITTER_SKILLS = (("power", _power), ("speed", _speed), ("contact", _contact), ("defense", _defense))
"""Each skill a hitter's season can show, and the test that says it does."""


def attributes_of(role: str, season: SeasonRecord) -> frozenset[str]:
    """Skills a season shows: power, speed, contact, defense; pitchers by role."""
    if role in PITCHER_ATTRIBUTES:
        return PITCHER_ATTRIBUTES[role]
    return frozenset(skill for skill, shows in HITTER_SKILLS if shows(role, season))


def role_group(role: str) -> str:
    """Hitters, starters and relievers each regress toward their own league mean."""
    return role if role in {"SP", "RP"} else "hitter"


def mean_war_rates(records: Iterable[SeasonRecord]) -> dict[str, float]:
    """The league's WAR per unit of the model's playing time (PA, or batters faced) for
    hitters, starters and relievers: the means projections regress toward."""
    means = role_means(
        RoleLine(
            role_of(r),
            r.war,
            0 if r.position == "P" else r.plate_appearances,
            r.innings_pitched if r.position == "P" else 0.0,
        )
        for r in records
    )
    rates = {
        "hitter": means.hitter_per_pa,
        "SP": means.starter_per_ip / BATTERS_FACED_PER_INNING,
        "RP": means.reliever_per_ip / BATTERS_FACED_PER_INNING,
    }
    return {group: rate for group, rate in rates.items() if rate > 0}


def season_war_rates(records: Iterable[tuple[str, SeasonRecord]], season: int) -> dict[str, float]:
    """`mean_war_rates` of the (player id, record) pairs of `season`, summed in player-id
    order: the same rates to the last bit whatever order the rows came in, and whether the
    league was read at once or in chunks."""
    current = sorted(((pid, r) for pid, r in records if r.season == season), key=lambda x: x[0])
    return mean_war_rates(record for _, record in current)


def to_input(
    player_id: str,
    name: str,
    history: Sequence[SeasonRecord],
    salaries: Sequence[SalaryRecord] = (),
    mean_rates: Mapping[str, float] | None = None,
    shared: dict[Any, Any] | None = None,
) -> PlayerValuationInput:
    """`history` newest first; the first row is the season being valued. With `shared`, a
    contract or attribute set equal to one built before is that one (`shared_contract`)."""
    current = history[0]
    role = role_of(current)
    salary = contract_salary(current)
    contract = derive_contract(
        season=current.season,
        age=current.age or 28,
        team=current.team_key,
        service_through=current.service_years,
        salary=salary,
        history=_paid(current, salary, salaries),
    )
    attributes = attributes_of(role, current)
    if shared is not None:
        contract = shared_contract(contract, shared)
        attributes = shared.setdefault(attributes, attributes)
    return PlayerValuationInput(
        player_id=player_id,
        name=name,
        age=current.age or 28,
        position=role,
        team=current.team_key,
        salary=salary,
        contract_status=_STATUS.get(current.contract_status, ContractStatus.FREE_AGENT),
        years_of_control=len(contract.years),
        seasons=season_lines(history, pitcher=current.position == "P"),
        attributes=attributes,
        contract=contract,
        mean_war_rate=(mean_rates or {}).get(role_group(role), LEAGUE_MEAN_WAR_PER_PA),
    )


def shared_contract(contract: PlayerContract, shared: dict[Any, Any]) -> PlayerContract:
    """`contract`, or the equal one already in `shared`; its years shared the same way.

    Contracts and their years are frozen values, and a league repeats them: of its ~7,000
    contract years about 1,200 differ, of its ~1,400 contracts about 600.
    """
    known = shared.get(contract)
    if known is None:
        years = tuple(shared.setdefault(year, year) for year in contract.years)
        known = shared.setdefault(contract, replace(contract, years=years))
    return cast(PlayerContract, known)


def contract_salary(current: SeasonRecord) -> float | None:
    """The season's salary as a contract term: none when unknown or only estimated (a season
    without salary data carries the status model's estimate, which is no contract)."""
    if current.salary is None or current.salary_source == "estimated":
        return None
    return float(current.salary)


def _paid(
    current: SeasonRecord, salary: float | None, salaries: Sequence[SalaryRecord]
) -> list[SalaryRecord]:
    paid = list(salaries)
    if salary is not None and not any(r.season == current.season for r in paid):
        # A database seeded without the salary history still knows this season's salary.
        service = max(current.service_years - 1.0, 0.0)
        paid.append(SalaryRecord(current.season, current.team_key, salary, service))
    return paid


def season_lines(history: Sequence[SeasonRecord], *, pitcher: bool) -> tuple[SeasonLine, ...]:
    """The model's lines of the last HISTORY_SEASONS seasons: a pitcher's innings, else PA."""
    return tuple(
        SeasonLine(
            season=s.season,
            war=s.war,
            pa=0 if pitcher else s.plate_appearances,
            ip=s.innings_pitched if pitcher else 0.0,
            games=s.games,
        )
        for s in history[:HISTORY_SEASONS]
    )


def _group(
    rows: Iterable[tuple[str, str, SeasonRecord]],
    season: int,
    salary_rows: Iterable[tuple[str, SalaryRecord]] = (),
    rates: Mapping[str, float] | None = None,
) -> list[PlayerValuationInput]:
    """The inputs of the players active in `season`; the league's WAR rates from `rows` unless
    given (`rows` are then only some of the league's players)."""
    histories: dict[str, list[SeasonRecord]] = defaultdict(list)
    names: dict[str, str] = {}
    for player_id, name, record in rows:
        names[player_id] = name
        histories[player_id].append(record)
    salaries: dict[str, list[SalaryRecord]] = defaultdict(list)
    for player_id, paid in salary_rows:
        salaries[player_id].append(paid)
    if rates is None:
        rates = season_war_rates(((pid, r) for pid, h in histories.items() for r in h), season)
    inputs = []
    shared: dict[Any, Any] = {}
    for pid, history in histories.items():
        history.sort(key=lambda s: s.season, reverse=True)
        if history[0].season == season:  # only players active in the season being valued
            player_salaries = salaries.get(pid, ())
            inputs.append(to_input(pid, names[pid], history, player_salaries, rates, shared))
    return inputs


def _team_contexts(rows: LeagueRows) -> dict[str, TeamContext]:
    contexts = {}
    for team_key, name in rows.teams:
        gaps = team_needs(team_key, rows.war_by_position).needs
        needs = tuple(g.position for g in gaps)[:NEED_COUNT]
        contexts[team_key] = TeamContext(team_key, name, rows.payrolls.get(team_key, 0.0), needs)
    return contexts


def build_league(rows: LeagueRows) -> League:
    """The model's inputs from fetched rows: pure CPU work, run off the event loop."""
    players = {p.player_id: p for p in _group(rows.history, rows.season, rows.salary_history)}
    return League(rows.season, _team_contexts(rows), players, salaries_estimated=not rows.payrolls)


def build_players(rows: LeagueRows, rates: Mapping[str, float]) -> list[PlayerValuationInput]:
    """The inputs of the players in `rows` (a chunk of the league, whose WAR `rates` are
    given): pure CPU work, run off the event loop."""
    return _group(rows.history, rows.season, rows.salary_history, rates)


def _history_query(season: int, players: Sequence[str] | None = None) -> Select[Any]:
    """The last HISTORY_SEASONS seasons of `players` (of every player when None)."""
    query = (
        select(Player.player_id, Player.full_name, *_RECORD_COLUMNS)
        .join(PlayerSeason, PlayerSeason.player_id == Player.player_id)
        .where(PlayerSeason.season.between(season - HISTORY_SEASONS + 1, season))
    )
    return query if players is None else query.where(PlayerSeason.player_id.in_(players))


def _season_query(season: int) -> Select[Any]:
    """Every player's record of `season` alone: the league's WAR rates and its players."""
    return (
        select(Player.player_id, Player.full_name, *_RECORD_COLUMNS)
        .join(PlayerSeason, PlayerSeason.player_id == Player.player_id)
        .where(PlayerSeason.season == season)
    )


def _salary_history_query(
    season: int, players: Sequence[str] | None = None
) -> Select[str, int, str, int, float]:
    query = select(
        SalaryHistory.player_id,
        SalaryHistory.season,
        SalaryHistory.team_key,
        SalaryHistory.amount,
        SalaryHistory.service_years,
    ).where(SalaryHistory.data_season == season)
    return query if players is None else query.where(SalaryHistory.player_id.in_(players))


def _shared(value: Any, seen: dict[type, dict[Any, Any]]) -> Any:
    """`value`, or the equal value of its type met before (equal across types is no match:
    1 == 1.0; nor is a float zero, since -0.0 == 0.0)."""
    kind = type(value)
    if kind is str or kind is int or (kind is float and value):
        return seen.setdefault(kind, {}).setdefault(value, value)
    return value


async def _read_rows(
    session: AsyncSession,
    query: Select[*tuple[Any, ...]],
    make: Callable[..., T],
    seen: dict[type, dict[Any, Any]],
) -> list[T]:
    """`make(*row)` of each of the query's rows, read FETCH_BATCH at a time; an equal string or
    number across rows and queries is passed as one object (`seen` holds the ones met)."""
    connection = await session.connection()
    result = await connection.stream(query.execution_options(yield_per=FETCH_BATCH))
    made: list[T] = []
    async for batch in result.partitions():
        for row in batch:
            made.append(make(*(_shared(value, seen) for value in row)))
    return made


async def fetch_team_rows(session: AsyncSession, season: int) -> LeagueRows:
    """The season's teams, payrolls and WAR by position (no player rows)."""
    teams = await session.execute(select(Team.team_key, Team.name).where(Team.season == season))
    payroll_rows = await session.execute(
        select(Salary.team_key, func.sum(Salary.amount))
        .where(Salary.season == season)
        .group_by(Salary.team_key)
    )
    return LeagueRows(
        season=season,
        history=(),
        teams=[(key, name) for key, name in teams.all()],
        payrolls={key: float(total or 0) for key, total in payroll_rows.all()},
        war_by_position=await team_repo.war_by_position(session, season=season),
    )


async def fetch_player_rows(
    session: AsyncSession, season: int, players: Sequence[str]
) -> LeagueRows:
    """The history and salary rows of `players` (no team rows)."""
    seen: dict[type, dict[Any, Any]] = {}
    history = await _read_rows(session, _history_query(season, players), history_row, seen)
    salaries = await _read_rows(session, _salary_history_query(season, players), salary_row, seen)
    return LeagueRows(
        season=season,
        history=history,
        teams=(),
        payrolls={},
        war_by_position={},
        salary_history=salaries,
    )


async def load_league(session: AsyncSession, season: int) -> League:
    """Every team and every player active in `season`, as the model's inputs: the league's WAR
    rates from the season's records first, then the players LEAGUE_CHUNK at a time."""
    current = await _read_rows(session, _season_query(season), history_row, {})
    rates = season_war_rates(((pid, record) for pid, _, record in current), season)
    active = sorted({player_id for player_id, _, _ in current})
    del current
    players: dict[str, PlayerValuationInput] = {}
    for start in range(0, len(active), LEAGUE_CHUNK):
        rows = await fetch_player_rows(session, season, active[start : start + LEAGUE_CHUNK])
        built = await asyncio.to_thread(build_players, rows, rates)
        del rows
        players.update((player.player_id, player) for player in built)
    teams = await fetch_team_rows(session, season)
    return League(season, _team_contexts(teams), players, salaries_estimated=not teams.payrolls)


class LeagueCache:
    """The season's league, read once and kept for `ttl` seconds.

    Teams, rosters, stats and contracts change only when the data is re-seeded, so trade
    evaluations read them from memory instead of querying per request. Callers that miss the
    cache together await one shared build, which a caller that gives up does not cancel.
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._cached: dict[int, tuple[float, League]] = {}
        self._building: dict[int, asyncio.Task[League]] = {}

    def _fresh(self, season: int) -> League | None:
        hit = self._cached.get(season)
        if hit is not None and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        return None

    async def get(self, sessions: async_sessionmaker[AsyncSession], season: int) -> League:
        league = self._fresh(season)
        if league is not None:
            return league
        build = self._building.get(season)
        if build is None:
            build = asyncio.create_task(self._build(sessions, season), name=f"league-{season}")
            self._building[season] = build
        return await asyncio.shield(build)

    async def _build(self, sessions: async_sessionmaker[AsyncSession], season: int) -> League:
        try:
            async with sessions() as session:
                league = await load_league(session, season)
            self._cached[season] = (time.monotonic(), league)
            return league
        finally:
            # a failed build is not remembered: the next caller tries again
            self._building.pop(season, None)
