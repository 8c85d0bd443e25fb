"""Search the league for trades that fill a team's needs, and rank 3 to 5 proposals.

For each target on another team that fills a parsed need (and fits the budget), a package is
built from the requesting team's roster: players not at a position the team needs, added from
the most valuable down until their surplus value matches the target's within
`BALANCE_TOLERANCE`. Every proposal is then graded by `evaluate_trade` from both sides; one
that its own evaluation grades worse than C for either side, that is less than
`MIN_PROPOSAL_FAIRNESS` fair, or that swaps wins of very different worth (the smaller side's
WAR value under `MIN_VALUE_BALANCE` of the larger's: a fairly paid star for a scrub is even in
surplus, and no front office would make it) is dropped. The fair ones that remain are ranked
by the requesting team's gain (its net value), then by fairness.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.domain.needs_parser import GENERIC_HITTER_ATTRIBUTES, ParsedNeeds
from app.domain.trades import TeamContext, TradeEvaluation, evaluate_trade
from app.domain.valuation import PlayerValuationInput, PlayerValue, value_player

MIN_PROPOSALS, MAX_PROPOSALS = 3, 5
MAX_PACKAGE_SIZE = 3
"""At most three players go out for one target; bigger packages rarely clear a roster."""
BALANCE_TOLERANCE = 0.15
"""A package within 15% of the target's surplus value counts as balanced."""
MIN_TARGET_WAR = 0.5
"""Targets projected below half a win this season do not fill a need."""
PROSPECT_MAX_AGE = 25
PROSPECT_MAX_PLAYING_TIME = 300.0
"""Young pre-arbitration players with little major-league time count as prospects."""
TARGETS_PER_PARTNER = 3
"""How many targets a single partner team may supply before others get a turn."""
MIN_PROPOSAL_FAIRNESS = 50
"""A package the other side would laugh off is not a proposal: fairness must reach 50."""
PASSING_GRADES = frozenset({"A", "B", "C"})
"""A proposal graded D or F for either side is not made."""
MIN_VALUE_BALANCE = 2 / 3
"""The WAR value going one way is at least two thirds of the value coming back."""
PACKAGES_PER_TARGET = 2
"""Each target gets the best balanced package and one alternative built from other players."""


@dataclass(frozen=True, slots=True)
class Proposal:
    rank: int
    partner: str
    receive: tuple[PlayerValue, ...]
    give: tuple[PlayerValue, ...]
    evaluation: TradeEvaluation
    fit_score: float
    rationale: str


@dataclass(frozen=True, slots=True)
class ProposalSearch:
    proposals: tuple[Proposal, ...]
    explanation: str


def is_prospect(player: PlayerValuationInput) -> bool:
    latest = max(player.seasons, key=lambda s: s.season, default=None)
    playing_time = latest.playing_time if latest else 0.0
    return (
        player.age <= PROSPECT_MAX_AGE
        and player.contract_status == "pre_arbitration"
        and playing_time < PROSPECT_MAX_PLAYING_TIME
    )


OUTFIELD = frozenset({"LF", "CF", "RF"})


def wanted_rank(position: str, wanted: tuple[str, ...]) -> int | None:
    """1-based rank of the requested position `position` answers. Stricter than team fit:
    a reliever does not answer a request for a starter; any outfielder answers "OF"."""
    for rank, need in enumerate(wanted, start=1):
        if need == position or (need == "OF" and position in OUTFIELD):
            return rank
    return None


def _fit_score(player: PlayerValuationInput, value: PlayerValue, needs: ParsedNeeds) -> float:
    """How well a player answers the request: named skills, then need rank, then wins."""
    score = value.war_this_season
    rank = wanted_rank(player.position, needs.positions) if needs.positions else None
    if needs.positions and rank is None:
        return float("-inf")
    if rank is not None:
        score += 2.0 / rank
    wanted = set(needs.attributes)
    matches = wanted & set(player.attributes)
    if wanted and not matches and not needs.positions:
        return float("-inf")
    if not needs.positions and wanted <= GENERIC_HITTER_ATTRIBUTES and player.is_pitcher:
        return float("-inf")
    return score + 1.5 * len(matches)


def _package(
    target: PlayerValue, roster: Sequence[tuple[PlayerValuationInput, PlayerValue]]
) -> list[tuple[PlayerValuationInput, PlayerValue]]:
    goal = max(target.risk_adjusted_surplus, 0.0)
    chosen: list[tuple[PlayerValuationInput, PlayerValue]] = []
    total = 0.0
    for candidate in roster:  # most valuable first
        surplus = candidate[1].risk_adjusted_surplus
        if total + surplus > goal * (1 + BALANCE_TOLERANCE) and surplus > 0:
            continue
        chosen.append(candidate)
        total += surplus
        if total >= goal * (1 - BALANCE_TOLERANCE) or len(chosen) == MAX_PACKAGE_SIZE:
            break
    if not chosen and roster:
        chosen.append(min(roster, key=lambda c: abs(c[1].risk_adjusted_surplus - goal)))
    return chosen


def _proposal(
    team: TeamContext,
    player: PlayerValuationInput,
    value: PlayerValue,
    package: Sequence[tuple[PlayerValuationInput, PlayerValue]],
    partner: TeamContext,
    season: int,
    budget: float | None,
    score: float,
) -> Proposal | None:
    """The trade of `package` for `player`, or None when over budget, graded below C for either
    side, unfair, or unbalanced in wins."""
    salary_change = value.salary_this_season - sum(v.salary_this_season for _, v in package)
    if budget is not None and salary_change > budget:
        return None
    evaluation = evaluate_trade(
        team_a=team,
        team_a_receives=[player],
        team_b=partner,
        team_b_receives=[p for p, _ in package],
        season=season,
    )
    if not {evaluation.team_a.grade, evaluation.team_b.grade} <= PASSING_GRADES:
        return None
    if evaluation.fairness < MIN_PROPOSAL_FAIRNESS:
        return None
    value_in = max(value.risk_adjusted_war_value, 0.0)
    value_out = sum(max(v.risk_adjusted_war_value, 0.0) for _, v in package)
    if min(value_in, value_out) < MIN_VALUE_BALANCE * max(value_in, value_out):
        return None
    rationale = (
        f"{value.name} ({value.position}, {value.war_this_season:.1f} projected WAR, "
        f"${value.salary_this_season / 1e6:.1f}M) for "
        + ", ".join(v.name for _, v in package)
        + f"; fairness {evaluation.fairness}/100, payroll "
        f"{salary_change / 1e6:+.1f}M this season."
    )
    give = tuple(v for _, v in package)
    return Proposal(0, partner.key, (value,), give, evaluation, round(score, 3), rationale)


def search_proposals(
    *,
    team: TeamContext,
    roster: Sequence[PlayerValuationInput],
    needs: ParsedNeeds,
    others: Mapping[str, tuple[TeamContext, Sequence[PlayerValuationInput]]],
    season: int,
    budget: float | None,
    include_prospects: bool,
    max_trade_partners: int,
) -> ProposalSearch:
    """Up to MAX_PROPOSALS ranked proposals, or none with the reason why."""
    if needs.is_empty:
        return ProposalSearch((), needs.explain_empty())
    need_positions = set(needs.positions)
    own = [
        (p, value_player(p, season))
        for p in sorted(roster, key=lambda p: p.player_id)
        if wanted_rank(p.position, tuple(need_positions)) is None
        and (include_prospects or not is_prospect(p))
    ]
    own.sort(key=lambda c: (-c[1].risk_adjusted_surplus, c[0].player_id))
    if not own:
        return ProposalSearch((), "The roster has no player to offer outside the needed positions.")
    scored: list[tuple[float, str, PlayerValuationInput, PlayerValue]] = []
    for key in sorted(others):
        for player in others[key][1]:
            value = value_player(player, season)
            if value.war_this_season < MIN_TARGET_WAR:
                continue
            score = _fit_score(player, value, needs)
            if score != float("-inf"):
                scored.append((score, player.player_id, player, value))
    scored.sort(key=lambda s: (-s[0], s[1]))
    proposals: list[tuple[float, int, Proposal]] = []
    partners: list[str] = []
    per_partner: dict[str, int] = {}
    for score, _, player, value in scored:
        if len(proposals) >= MAX_PROPOSALS:
            break
        partner = player.team
        if partner not in partners and len(partners) == max_trade_partners:
            continue
        if per_partner.get(partner, 0) >= TARGETS_PER_PARTNER and len(scored) > MAX_PROPOSALS:
            continue
        made = 0
        offered = own
        for _variant in range(PACKAGES_PER_TARGET):
            if not offered or len(proposals) >= MAX_PROPOSALS:
                break
            package = _package(value, offered)
            proposal = _proposal(team, player, value, package, others[partner][0], season,
                                 budget, score)  # fmt: skip
            if proposal is not None:
                proposals.append(
                    (proposal.evaluation.team_a.net_value, proposal.evaluation.fairness, proposal)
                )
                made += 1
            # The alternative offer keeps the first package's players at home.
            used = {p.player_id for p, _ in package}
            offered = [c for c in offered if c[0].player_id not in used]
        if made:
            if partner not in partners:
                partners.append(partner)
            per_partner[partner] = per_partner.get(partner, 0) + 1
    proposals.sort(key=lambda p: (-p[0], -p[1], p[2].receive[0].player_id))
    ranked = tuple(
        Proposal(i, p.partner, p.receive, p.give, p.evaluation, p.fit_score, p.rationale)
        for i, (_, _, p) in enumerate(proposals, start=1)
    )
    if not ranked:
        return ProposalSearch((), "No player on another team fits the needs within the budget.")
    note = f"{len(ranked)} proposal(s) for {', '.join(needs.positions or needs.attributes)}."
    if len(ranked) < MIN_PROPOSALS:
        note += f" Fewer than {MIN_PROPOSALS}: few players fit the needs, budget and partners."
    return ProposalSearch(ranked, note)
