"""Trade evaluation: who wins a proposed trade, by how much, and what each side should do.

Each side's net value is the fit-adjusted surplus it receives minus the surplus it gives up
(risk-adjusted, see `valuation`). The net is judged against the total value changing hands:
what each side gets, in dollars of projected wins before salaries (risk-adjusted), averaged
over the two sides. So a $10M edge is noise in a swap of two fairly paid stars and decisive in
a swap of two bench players:

    value exchanged = max((Σ WAR value of every player moving) / 2, EXCHANGE_FLOOR)
    relative net    = net / value exchanged

Grades cut that ratio at `GRADE_CUTS`; fairness is 100 × (1 − the imbalance between the two
sides' nets, relative to the value exchanged); `EVEN_FAIRNESS` and above is an even trade.
Every sum is exact (`math.fsum`), so swapping the sides mirrors the evaluation exactly.

Recommendations: each team's is what that team should do (from its grade and the fairness);
the trade's own is for the deal as proposed, for both teams: `accept` only when both teams
accept, `reject` when either rejects, otherwise `negotiate`. It never contradicts either team.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from app.domain.valuation import (
    PayrollImpact,
    PlayerValuationInput,
    PlayerValue,
    fit_bonus,
    need_rank,
    payroll_impact,
    value_player,
)

EXCHANGE_FLOOR = 10_000_000.0
"""Below $10M changing hands, differences are judged against $10M (noise between fringe guys)."""
GRADE_CUTS: tuple[tuple[float, str], ...] = (
    (0.30, "A"),
    (0.10, "B"),
    (-0.10, "C"),
    (-0.30, "D"),
)
"""Lowest relative net for each grade; anything lower is an F."""
EVEN_FAIRNESS = 85
"""Fairness at or above which neither side clearly wins."""
NEGOTIATE_FAIRNESS = 60
"""Between this and EVEN_FAIRNESS the trade is worth negotiating; below it, rejecting."""
HIGH_RISK = 0.35
"""A received player at or above this risk score is named among the trade's risks."""


@dataclass(frozen=True, slots=True)
class TeamContext:
    key: str
    name: str
    payroll: float
    needs: tuple[str, ...]
    """Positions the team most needs, weakest first."""


@dataclass(frozen=True, slots=True)
class TeamAnalysis:
    team: str
    grade: str
    recommendation: str
    surplus_in: float
    surplus_out: float
    fit_bonus: float
    net_value: float
    war_change_this_season: float
    war_change_over_control: float
    payroll: PayrollImpact
    needs_addressed: tuple[str, ...]
    received: tuple[PlayerValue, ...]
    given: tuple[PlayerValue, ...]


@dataclass(frozen=True, slots=True)
class TradeEvaluation:
    season: int
    team_a: TeamAnalysis
    team_b: TeamAnalysis
    fairness: int
    winner: str
    recommendation: str
    risks: tuple[str, ...]
    narrative: str
    value_exchanged: float = 0.0


def grade_for(relative_net: float) -> str:
    for cut, grade in GRADE_CUTS:
        if relative_net >= cut:
            return grade
    return "F"


# An exact, order-independent sum: the mirrored evaluation adds the same numbers. fsum itself,
# not a function calling it: an evaluation sums twenty-odd times.
_total: Callable[[Iterable[float]], float] = math.fsum


def _side(
    team: TeamContext,
    received: Sequence[PlayerValue],
    given: Sequence[PlayerValue],
    season: int,
) -> tuple[float, float, float, PayrollImpact, tuple[str, ...]]:
    # Lists, not generators: a trade moves a few players, and fsum reads a list faster.
    surplus_in = _total([v.risk_adjusted_surplus for v in received])
    surplus_out = _total([v.risk_adjusted_surplus for v in given])
    bonus = _total([fit_bonus(v, team.needs) for v in received])
    impact = payroll_impact(
        team.payroll,
        _total([v.salary_this_season for v in received]),
        _total([v.salary_this_season for v in given]),
        season,
    )
    addressed = tuple(
        sorted({v.position for v in received if need_rank(v.position, team.needs) is not None})
    )
    return surplus_in, surplus_out, bonus, impact, addressed


def _recommend(grade: str, fairness: int) -> str:
    if grade == "F" or (grade == "D" and fairness < NEGOTIATE_FAIRNESS):
        return "reject"
    if grade in {"A", "B"} or fairness >= EVEN_FAIRNESS:
        return "accept"
    return "negotiate"


def value_exchanged(a_in: Sequence[PlayerValue], b_in: Sequence[PlayerValue]) -> float:
    """The value changing hands: each side's received WAR value (risk-adjusted), averaged."""
    return _total([max(v.risk_adjusted_war_value, 0.0) for v in (*a_in, *b_in)]) / 2


def deal_recommendation(team_a: str, team_b: str) -> str:
    """The deal's recommendation for both teams, consistent with each team's own."""
    if "reject" in (team_a, team_b):
        return "reject"
    if team_a == team_b == "accept":
        return "accept"
    return "negotiate"


def evaluate_trade(
    *,
    team_a: TeamContext,
    team_a_receives: Sequence[PlayerValuationInput],
    team_b: TeamContext,
    team_b_receives: Sequence[PlayerValuationInput],
    season: int,
) -> TradeEvaluation:
    """Grade a trade for both sides; the same input always gives the same output."""
    a_in = [value_player(p, season) for p in team_a_receives]
    b_in = [value_player(p, season) for p in team_b_receives]
    a_side = _side(team_a, a_in, b_in, season)
    b_side = _side(team_b, b_in, a_in, season)
    net_a = _total((a_side[0], a_side[2], -a_side[1]))
    net_b = _total((b_side[0], b_side[2], -b_side[1]))
    exchanged = max(value_exchanged(a_in, b_in), EXCHANGE_FLOOR)
    fairness = round(100 * (1 - min(abs(net_a - net_b) / 2 / exchanged, 1.0)))
    analyses = [
        _analysis(team_a, a_side, net_a, grade_for(net_a / exchanged), fairness, a_in, b_in),
        _analysis(team_b, b_side, net_b, grade_for(net_b / exchanged), fairness, b_in, a_in),
    ]
    recommendation = deal_recommendation(analyses[0].recommendation, analyses[1].recommendation)
    risks = _risks(analyses[0], analyses[1])
    winner = _winner(fairness, net_a, net_b)
    return TradeEvaluation(
        season=season,
        team_a=analyses[0],
        team_b=analyses[1],
        fairness=fairness,
        winner=winner,
        recommendation=recommendation,
        risks=risks,
        narrative=_narrative(season, analyses[0], analyses[1], fairness, winner, recommendation),
        value_exchanged=round(exchanged, 2),
    )


def _winner(fairness: int, net_a: float, net_b: float) -> str:
    if fairness >= EVEN_FAIRNESS or net_a == net_b:
        return "even"
    return "team_a" if net_a > net_b else "team_b"


def _analysis(
    team: TeamContext,
    side: tuple[float, float, float, PayrollImpact, tuple[str, ...]],
    net: float,
    grade: str,
    fairness: int,
    received: Sequence[PlayerValue],
    given: Sequence[PlayerValue],
) -> TeamAnalysis:
    """One side's view of the trade."""
    return TeamAnalysis(
        team=team.key,
        grade=grade,
        recommendation=_recommend(grade, fairness),
        surplus_in=round(side[0], 2),
        surplus_out=round(side[1], 2),
        fit_bonus=round(side[2], 2),
        net_value=round(net, 2),
        war_change_this_season=round(
            _total([v.war_this_season for v in received])
            - _total([v.war_this_season for v in given]),
            2,
        ),
        war_change_over_control=round(
            _total([v.war_over_control for v in received])
            - _total([v.war_over_control for v in given]),
            2,
        ),
        payroll=side[3],
        needs_addressed=side[4],
        received=tuple(received),
        given=tuple(given),
    )


def _risks(a: TeamAnalysis, b: TeamAnalysis) -> tuple[str, ...]:
    risks: list[str] = []
    for side in (a, b):
        for value in side.received:
            if value.risk >= HIGH_RISK or value.risk_factors:
                reasons = "; ".join(value.risk_factors) or "high risk score"
                risks.append(
                    f"{side.team} takes on {value.name} (risk {value.risk:.2f}): {reasons}"
                )
        if side.payroll.over_threshold and side.payroll.change > 0:
            risks.append(
                f"{side.team} ends ${side.payroll.payroll_after / 1e6:.1f}M, over the "
                f"${side.payroll.luxury_tax_threshold / 1e6:.0f}M luxury-tax threshold "
                f"(about ${side.payroll.estimated_tax / 1e6:.1f}M tax)"
            )
    return tuple(risks)


def _names(values: Sequence[PlayerValue]) -> str:
    return ", ".join(v.name for v in values) or "nothing"


def _narrative(
    season: int, a: TeamAnalysis, b: TeamAnalysis, fairness: int, winner: str, recommendation: str
) -> str:
    if winner == "even":
        verdict = f"An even trade (fairness {fairness}/100)."
    else:
        win, lose = (a, b) if winner == "team_a" else (b, a)
        verdict = (
            f"{win.team} wins it (fairness {fairness}/100): {win.team} gains "
            f"${win.net_value / 1e6:.1f}M of surplus value while {lose.team} "
            f"{'gains' if lose.net_value >= 0 else 'loses'} ${abs(lose.net_value) / 1e6:.1f}M."
        )
    text = (
        f"{a.team} receives {_names(a.received)} ({a.war_change_this_season:+.1f} WAR in "
        f"{season}, {a.war_change_over_control:+.1f} over the control years); "
        f"{b.team} receives {_names(b.received)} ({b.war_change_this_season:+.1f} WAR, "
        f"{b.war_change_over_control:+.1f} over control). {verdict} "
        f"Grades: {a.team} {a.grade} ({a.recommendation}), {b.team} {b.grade} "
        f"({b.recommendation}). Recommendation for both: {recommendation}."
    )
    needs = [f"{s.team} fills {'/'.join(s.needs_addressed)}" for s in (a, b) if s.needs_addressed]
    if needs:
        text += " " + "; ".join(needs) + "."
    return text
