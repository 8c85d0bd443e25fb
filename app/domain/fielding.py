"""Fielding runs from Lahman's fielding lines: plays made against the league at the position.

Lahman has no batted-ball data, so a fielder is measured by his range factor against his
chances: the balls in play his team allowed while he was at the position (team balls in play
x his share of the team's defensive outs). At each position

    expected plays = league plays per chance at the position x the fielder's chances
    range runs     = (plays - expected plays) x RUNS_PER_PLAY
    error runs     = -(E - league E per chance x chances) x RUNS_PER_ERROR
    double plays   = (DP - league DP per chance x chances) x RUNS_PER_DOUBLE_PLAY (2B, SS)

where plays are put-outs plus assists (assists alone at first base, whose put-outs are other
fielders' plays). A catcher is measured by his arm and his hands instead: caught stealing
against the league's rate on the attempts against him, passed balls and errors per inning.
The sum is scaled by FIELDING_RELIABILITY, because range factors carry the pitching staff's
strikeouts and ground-ball mix as well as the fielder's skill. Each position's runs sum to
zero over the league.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields

FIELD_POSITIONS = ("C", "1B", "2B", "3B", "SS", "LF", "CF", "RF")
INFIELD, OUTFIELD = ("1B", "2B", "3B", "SS"), ("LF", "CF", "RF")
RUNS_PER_PLAY: Mapping[str, float] = dict.fromkeys(INFIELD, 0.75) | dict.fromkeys(OUTFIELD, 0.85)
"""A ball turned into an out instead of a hit: a single's run value plus an out's (~0.75),
more in the outfield where the hits are doubles and triples."""
RUNS_PER_ERROR = 0.25
"""Beyond the play not made (already out of the range count): the extra base an error gives."""
RUNS_PER_DOUBLE_PLAY = 0.35
"""The second out, less the runner who would otherwise stand on first."""
CAUGHT_STEALING_SWING = 0.65
"""A runner thrown out instead of safe: rSB (0.2) plus rCS (about 0.45)."""
RUNS_PER_PASSED_BALL = 0.28
"""A base advanced by every runner on: about a stolen base and a bit more."""
FIELDING_RELIABILITY = 0.4
"""Share of the measured runs credited: a season's range factor repeats from one year to
the next well under half as much as its spread, the rest being the staff, park and chance."""
STAFF_MIX_WEIGHT = 0.5
"""How far a team's own infield/outfield split of plays moves its fielders' expectations:
a ground-ball staff gives its infielders more chances and its outfielders fewer."""
GROUPS: Mapping[str, str] = dict.fromkeys(INFIELD, "IF") | dict.fromkeys(OUTFIELD, "OF")


@dataclass(frozen=True)
class FieldingLine:
    """One stint at one position: outs in the field (InnOuts) and Lahman's fielding counts."""

    outs: int = 0
    po: int = 0
    a: int = 0
    e: int = 0
    dp: int = 0
    pb: int = 0
    sb: int = 0
    cs: int = 0

    def __add__(self, other: FieldingLine) -> FieldingLine:
        return FieldingLine(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


@dataclass(frozen=True)
class FieldingChance:
    """A fielder's line at a position with the balls in play his team allowed meanwhile."""

    position: str
    line: FieldingLine
    chances: float


def plays(position: str, line: FieldingLine) -> int:
    return line.a if position == "1B" else line.po + line.a


@dataclass(frozen=True)
class PositionRates:
    """The league's rates at one position, per chance (per out in the field for catchers)."""

    plays: float
    errors: float
    double_plays: float
    caught_rate: float
    passed_balls: float


def league_rates(chances: Iterable[FieldingChance]) -> dict[str, PositionRates]:
    """Per-position league rates from every fielder's line of the season."""
    totals: dict[str, FieldingLine] = defaultdict(FieldingLine)
    chance_sum: dict[str, float] = defaultdict(float)
    play_sum: dict[str, int] = defaultdict(int)
    for chance in chances:
        totals[chance.position] += chance.line
        chance_sum[chance.position] += chance.chances
        play_sum[chance.position] += plays(chance.position, chance.line)
    rates = {}
    for pos, line in totals.items():
        per = chance_sum[pos] or 1.0
        if pos == "C":  # a catcher's chances are his outs behind the plate
            per = line.outs or 1
        attempts = line.sb + line.cs
        rates[pos] = PositionRates(
            plays=play_sum[pos] / per,
            errors=line.e / per,
            double_plays=line.dp / per,
            caught_rate=line.cs / attempts if attempts else 0.0,
            passed_balls=line.pb / (line.outs or 1),
        )
    return rates


def staff_factors(
    entries: Iterable[tuple[str, FieldingChance]], rates: Mapping[str, PositionRates]
) -> dict[tuple[str, str], float]:
    """Per team and group (infield, outfield): plays made over plays expected, damped.

    A team whose staff keeps the ball on the ground makes more infield plays than its balls
    in play alone predict; part of that is the staff, not the fielders.
    """
    made: dict[tuple[str, str], float] = defaultdict(float)
    expected: dict[tuple[str, str], float] = defaultdict(float)
    for team, chance in entries:
        group = GROUPS.get(chance.position)
        rate = rates.get(chance.position)
        if group is None or rate is None:
            continue
        made[(team, group)] += plays(chance.position, chance.line)
        expected[(team, group)] += rate.plays * chance.chances
    return {
        key: (made[key] / expected[key]) ** STAFF_MIX_WEIGHT if expected[key] and made[key] else 1.0
        for key in expected
    }


def fielding_runs(
    chance: FieldingChance, rates: Mapping[str, PositionRates], staff_factor: float = 1.0
) -> float:
    """Runs saved against an average fielder at the position, over the same chances."""
    rate = rates.get(chance.position)
    pos, line = chance.position, chance.line
    if rate is None or pos not in FIELD_POSITIONS:
        return 0.0
    if pos == "C":
        attempts = line.sb + line.cs
        arm = (line.cs - rate.caught_rate * attempts) * CAUGHT_STEALING_SWING
        hands = -(line.pb - rate.passed_balls * line.outs) * RUNS_PER_PASSED_BALL
        errors = -(line.e - rate.errors * line.outs) * RUNS_PER_ERROR
        return (arm + hands + errors) * FIELDING_RELIABILITY
    n = chance.chances
    runs = (plays(pos, line) - rate.plays * n * staff_factor) * RUNS_PER_PLAY[pos]
    runs -= (line.e - rate.errors * n) * RUNS_PER_ERROR
    if pos in ("2B", "SS"):
        runs += (line.dp - rate.double_plays * n) * RUNS_PER_DOUBLE_PLAY
    return runs * FIELDING_RELIABILITY
