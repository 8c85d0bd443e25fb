"""A season's WAR, stint by stint, made to add up the way the published systems do.

Each stint (a player's time with one team) is valued with that team's park and league:

    position players  (batting + base running + fielding + positional + league) runs
                      + replacement runs per PA
    pitchers          runs saved by park-neutral FIP against the league's average
                      + replacement runs per inning, starters and relievers apart

The league adjustment gives each league's position players, together, zero runs above
average (their batting is measured against the MLB line, which in the NL includes pitchers
batting, and the positional adjustments do not sum to zero where the DH plays). The
replacement levels then share out 1,000 WAR per 2,430 games, 570 to position players (spread
over their plate appearances) and 430 to pitchers (over their innings; a starter's innings
carry four times a reliever's replacement runs, from FanGraphs' replacement win percentages
of .380 for starters and .470 for relievers). A player's season WAR is the sum of his stints.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from app.domain.fielding import (
    GROUPS,
    FieldingChance,
    FieldingLine,
    fielding_runs,
    league_rates,
    staff_factors,
)
from app.domain.war import (
    FULL_SEASON_GAMES,
    PITCHER_WAR_SHARE,
    POSITION_PLAYER_WAR_SHARE,
    BattingLine,
    LeagueConstants,
    PitchingLine,
    baserunning_runs,
    batting_runs,
    fip_core,
    pitching_runs,
    positional_runs,
)

STARTER_REPLACEMENT_WIN_PCT = 0.380
RELIEVER_REPLACEMENT_WIN_PCT = 0.470
STARTER_SHARE_OF_GAMES = 0.5
"""A pitcher who started at least half his games in a stint is a starter there."""
DH_OUTS_PER_GAME = 27


@dataclass(frozen=True)
class TeamSeason:
    """What WAR needs of a team-season: league, park factors and its defence's chances."""

    team: str
    league: str
    batting_park: float = 1.0
    pitching_park: float = 1.0
    balls_in_play: float = 0.0
    defensive_outs: int = 0


@dataclass(frozen=True)
class Stint:
    """One player's season with one team (several Lahman stints with a team are summed)."""

    player_id: str
    team: str
    league: str
    batting: BattingLine = field(default_factory=BattingLine)
    pitching: PitchingLine = field(default_factory=PitchingLine)
    games_pitched: int = 0
    games_started: int = 0
    appearances: Mapping[str, int] = field(default_factory=dict)
    """Games by position from Lahman's Appearances (P, C, ..., RF, DH)."""
    fielding: Mapping[str, FieldingLine] = field(default_factory=dict)


@dataclass(frozen=True)
class StintWar:
    player_id: str
    team: str
    league: str
    role: str
    """Where the stint counts in team needs: a field position, DH, SP or RP."""
    pitcher: bool
    plate_appearances: int
    innings_pitched: float
    batting: float
    baserunning: float
    fielding: float
    positional: float
    league_adjustment: float
    replacement: float
    pitching: float
    """Runs saved against an average pitcher, plus his replacement runs."""
    hitting_war: float
    pitching_war: float

    @property
    def war(self) -> float:
        return self.hitting_war + self.pitching_war


@dataclass(frozen=True)
class RoleMeans:
    """The league's mean WAR per unit of playing time, by role (for regression and aging)."""

    hitter_per_pa: float
    starter_per_ip: float
    reliever_per_ip: float


@dataclass(frozen=True)
class RoleLine:
    """One player-season or stint for role means: role (a field position, DH, SP or RP),
    WAR and playing time."""

    role: str
    war: float
    plate_appearances: int = 0
    innings_pitched: float = 0.0


def role_means(lines: Iterable[RoleLine]) -> RoleMeans:
    """League mean WAR per PA for hitters, per inning for starters and relievers: the level
    a projection regresses toward (a young player's starting point is not the ceiling)."""
    war: dict[str, float] = defaultdict(float)
    time: dict[str, float] = defaultdict(float)
    for line in lines:
        group = line.role if line.role in ("SP", "RP") else "hitter"
        war[group] += line.war
        time[group] += line.innings_pitched if group != "hitter" else line.plate_appearances

    def per(group: str) -> float:
        return war[group] / time[group] if time[group] else 0.0

    return RoleMeans(
        hitter_per_pa=per("hitter"), starter_per_ip=per("SP"), reliever_per_ip=per("RP")
    )


@dataclass(frozen=True)
class SeasonWar:
    season: int
    constants: LeagueConstants
    stints: Sequence[StintWar]

    def by_player(self) -> dict[str, float]:
        totals: dict[str, float] = defaultdict(float)
        for stint in self.stints:
            totals[stint.player_id] += stint.war
        return dict(totals)

    def total(self) -> float:
        return sum(s.war for s in self.stints)

    def position_player_total(self) -> float:
        """WAR at the plate, on the bases and in the field (two-way players' hitting too)."""
        return sum(s.hitting_war for s in self.stints)

    def role_means(self) -> RoleMeans:
        """League mean WAR per PA for hitters, per inning for starters and relievers."""
        return role_means(
            RoleLine(
                s.role,
                s.pitching_war if s.pitcher else s.hitting_war,
                0 if s.pitcher else s.plate_appearances,
                s.innings_pitched if s.pitcher else 0.0,
            )
            for s in self.stints
        )


def is_pitcher(stints: Iterable[Stint]) -> bool:
    """A pitcher pitched in at least as many games as he played elsewhere (DH included)."""
    pitched = fielded = 0
    for stint in stints:
        pitched += stint.appearances.get("P", 0)
        fielded += sum(g for pos, g in stint.appearances.items() if pos != "P")
    return pitched > 0 and pitched >= fielded


def _field_role(stint: Stint) -> str:
    played = {pos: g for pos, g in stint.appearances.items() if pos != "P" and g}
    return max(sorted(played), key=lambda pos: played[pos]) if played else "DH"


def _pitcher_role(stint: Stint) -> str:
    games = stint.games_pitched or 1
    return "SP" if stint.games_started / games >= STARTER_SHARE_OF_GAMES else "RP"


def _chances(stint: Stint, teams: Mapping[str, TeamSeason]) -> list[FieldingChance]:
    team = teams.get(stint.team)
    found = []
    for pos, line in stint.fielding.items():
        share = line.outs / team.defensive_outs if team and team.defensive_outs else 0.0
        found.append(FieldingChance(pos, line, team.balls_in_play * share if team else 0.0))
    return found


def season_war(
    season: int,
    constants: LeagueConstants,
    stints: Sequence[Stint],
    teams: Mapping[str, TeamSeason],
) -> SeasonWar:
    """WAR for every stint of `season`, balanced per league and against the replacement pool."""
    by_player: dict[str, list[Stint]] = defaultdict(list)
    for stint in stints:
        by_player[stint.player_id].append(stint)
    pitchers = {pid for pid, own in by_player.items() if is_pitcher(own)}
    hitting = _hitting_pool(constants, stints, teams, pitchers)
    pitching = _pitching_pool(constants, stints)
    results = [
        _stint_war(s, constants, teams, s.player_id in pitchers, i, hitting, pitching)
        for i, s in enumerate(stints)
    ]
    return SeasonWar(season, constants, results)


def _season_share(c: LeagueConstants) -> float:
    return c.games / FULL_SEASON_GAMES


@dataclass(frozen=True)
class _HittingPool:
    """Position players' runs above average (batting, baserunning, fielding, positional) by
    stint index, and the per-PA league adjustment and replacement runs."""

    runs: dict[int, tuple[float, float, float, float]]
    replacement_per_pa: float
    adjustment_per_pa: dict[str, float]


def _hitting_pool(
    c: LeagueConstants,
    stints: Sequence[Stint],
    teams: Mapping[str, TeamSeason],
    pitchers: set[str],
) -> _HittingPool:
    """Runs above average of position players, and their plate appearances, per league."""
    chances = [(s.team, ch) for s in stints for ch in _chances(s, teams)]
    rates = league_rates(ch for _, ch in chances)
    staff = staff_factors(chances, rates)

    def fielding(s: Stint) -> float:
        return sum(
            fielding_runs(ch, rates, staff.get((s.team, GROUPS.get(ch.position, "")), 1.0))
            for ch in _chances(s, teams)
        )

    above: dict[int, tuple[float, float, float, float]] = {}
    league_runs: dict[str, float] = defaultdict(float)
    league_pa: dict[str, int] = defaultdict(int)
    for i, s in enumerate(stints):
        if s.player_id in pitchers:
            continue
        parts = _runs_above_average(s, c, teams, fielding(s))
        above[i] = parts
        league_runs[s.league] += sum(parts)
        league_pa[s.league] += s.batting.pa
    all_pa = sum(league_pa.values())
    replacement_per_pa = (
        POSITION_PLAYER_WAR_SHARE * _season_share(c) * c.runs_per_win / (all_pa or 1)
    )
    adjustment_per_pa = {
        lg: -runs / league_pa[lg] if league_pa[lg] else 0.0 for lg, runs in league_runs.items()
    }
    return _HittingPool(above, replacement_per_pa, adjustment_per_pa)


def _runs_above_average(
    s: Stint, c: LeagueConstants, teams: Mapping[str, TeamSeason], fielding: float
) -> tuple[float, float, float, float]:
    """A position player's batting, baserunning, fielding and positional runs."""
    park = teams[s.team].batting_park if s.team in teams else 1.0
    outs = {pos: float(line.outs) for pos, line in s.fielding.items()}
    outs["DH"] = float(s.appearances.get("DH", 0) * DH_OUTS_PER_GAME)
    return (
        batting_runs(s.batting, c, park),
        baserunning_runs(s.batting, c),
        fielding,
        positional_runs(outs),
    )


@dataclass(frozen=True)
class _PitchingPool:
    """Each league's run environment (RA9) and FIP constant, and the replacement runs each
    inning is worth, weighted by the replacement level of its role."""

    ra9: dict[str, float]
    fip_constant: dict[str, float]
    per_weighted_ip: float


def _replacement_gap(s: Stint) -> float:
    """How far a replacement pitcher in this stint's mix of starts and relief falls short."""
    starter_share = s.games_started / s.games_pitched if s.games_pitched else 0.0
    starter_gap = 0.5 - STARTER_REPLACEMENT_WIN_PCT
    reliever_gap = 0.5 - RELIEVER_REPLACEMENT_WIN_PCT
    return starter_gap * starter_share + reliever_gap * (1 - starter_share)


def _pitching_pool(c: LeagueConstants, stints: Sequence[Stint]) -> _PitchingPool:
    league_lines: dict[str, PitchingLine] = defaultdict(PitchingLine)
    for s in stints:
        league_lines[s.league] += s.pitching
    ra9 = {lg: 9 * line.r / line.ip for lg, line in league_lines.items() if line.ipouts}
    cfip = {lg: ra9[lg] - fip_core(line) for lg, line in league_lines.items() if line.ipouts}
    weighted_ip = sum(s.pitching.ip * _replacement_gap(s) for s in stints)
    pitcher_pool = PITCHER_WAR_SHARE * _season_share(c) * c.runs_per_win
    return _PitchingPool(ra9, cfip, pitcher_pool / weighted_ip if weighted_ip else 0.0)


def _pitched_runs(
    s: Stint, c: LeagueConstants, teams: Mapping[str, TeamSeason], pool: _PitchingPool
) -> float:
    if not s.pitching.ipouts:
        return 0.0
    park = teams[s.team].pitching_park if s.team in teams else 1.0
    pitched = pitching_runs(
        s.pitching,
        c,
        league_ra9=pool.ra9.get(s.league),
        fip_constant=pool.fip_constant.get(s.league),
        park_factor=park,
    )
    return pitched + pool.per_weighted_ip * _replacement_gap(s) * s.pitching.ip


def _stint_war(
    s: Stint,
    c: LeagueConstants,
    teams: Mapping[str, TeamSeason],
    pitcher: bool,
    index: int,
    hitting: _HittingPool,
    pitching: _PitchingPool,
) -> StintWar:
    pitched = _pitched_runs(s, c, teams, pitching)
    bat, run, fld, pos = hitting.runs.get(index, (0.0, 0.0, 0.0, 0.0))
    league_adj = hitting.adjustment_per_pa.get(s.league, 0.0) * s.batting.pa if not pitcher else 0.0
    replacement = hitting.replacement_per_pa * s.batting.pa if not pitcher else 0.0
    total = bat + run + fld + pos + league_adj + replacement
    return StintWar(
        player_id=s.player_id,
        team=s.team,
        league=s.league,
        role=_pitcher_role(s) if pitcher else _field_role(s),
        pitcher=pitcher,
        plate_appearances=s.batting.pa,
        innings_pitched=s.pitching.ip,
        batting=bat,
        baserunning=run,
        fielding=fld,
        positional=pos,
        league_adjustment=league_adj,
        replacement=replacement,
        pitching=pitched,
        hitting_war=total / c.runs_per_win,
        pitching_war=pitched / c.runs_per_win,
    )
