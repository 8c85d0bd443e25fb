"""Search the league for trades that fill a team's needs, and rank 3 to 5 proposals.

For each target on another team that fills a parsed need (and fits the budget), a package is
built from the requesting team's roster: players not at a position the team needs, added from
the most valuable down until their surplus value matches the target's within
`BALANCE_TOLERANCE`. Every proposal is then graded by `evaluate_trade` from both sides; one
that its own evaluation grades worse than C for either side, that is less than
`MIN_PROPOSAL_FAIRNESS` fair, or that swaps wins of very different worth (the smaller side's
WAR value under `MIN_VALUE_BALANCE` of the larger's: a fairly paid star for a scrub is even in
surplus, and no front office would make it) is dropped. The fair ones that remain are ranked
by the requesting team's gain (its net value), then by fairness, and taken in that order within
the limits on partners, targets per partner and offers per target.
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
PACKAGES_PER_TARGET = 3
"""Each target is offered the best balanced package, then two more, each keeping the previous
offer's best player at home."""
OFFERS_PER_TARGET = 2
"""At most two offers for one target reach the list."""
MAX_CANDIDATE_TARGETS = 20
"""The 20 players who fit the request best are tried; the proposals are chosen among them."""


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


def _answers(player: PlayerValuationInput, needs: ParsedNeeds) -> bool:
    """Whether a player answers the request at all: a requested position; with none named, a
    named skill, and no pitcher for skills only hitters have."""
    if needs.positions:
        return wanted_rank(player.position, needs.positions) is not None
    wanted = set(needs.attributes)
    if wanted and not wanted & set(player.attributes):
        return False
    return not (wanted <= GENERIC_HITTER_ATTRIBUTES and player.is_pitcher)


def _fit_score(player: PlayerValuationInput, value: PlayerValue, needs: ParsedNeeds) -> float:
    """How well a player answers the request: named skills, then need rank, then wins."""
    if not _answers(player, needs):
        return float("-inf")
    score = value.war_this_season
    rank = wanted_rank(player.position, needs.positions) if needs.positions else None
    if rank is not None:
        score += 2.0 / rank
    return score + 1.5 * len(set(needs.attributes) & set(player.attributes))


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
    if not _acceptable(evaluation, value, package):
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


def _acceptable(
    evaluation: TradeEvaluation,
    value: PlayerValue,
    package: Sequence[tuple[PlayerValuationInput, PlayerValue]],
) -> bool:
    """Graded C or better for both sides, fair enough, and balanced in wins."""
    if not {evaluation.team_a.grade, evaluation.team_b.grade} <= PASSING_GRADES:
        return False
    if evaluation.fairness < MIN_PROPOSAL_FAIRNESS:
        return False
    value_in = max(value.risk_adjusted_war_value, 0.0)
    value_out = sum(max(v.risk_adjusted_war_value, 0.0) for _, v in package)
    return min(value_in, value_out) >= MIN_VALUE_BALANCE * max(value_in, value_out)


class _PartnerLimits:
    """What the proposals chosen so far leave room for: partners, targets per partner,
    offers per target, and no offer twice."""

    def __init__(self, max_trade_partners: int) -> None:
        self.max_trade_partners = max_trade_partners
        self.partners: set[str] = set()
        self.targets: dict[str, set[str]] = {}
        self.offers: dict[str, int] = {}
        self.seen: set[tuple[str, frozenset[str]]] = set()

    @staticmethod
    def _key(proposal: Proposal) -> tuple[str, frozenset[str]]:
        return proposal.receive[0].player_id, frozenset(v.player_id for v in proposal.give)

    def admit(self, proposal: Proposal) -> bool:
        """Take the proposal into account if it fits the limits; False when it does not."""
        target, key = proposal.receive[0].player_id, self._key(proposal)
        club = self.targets.setdefault(proposal.partner, set())
        new_partner = proposal.partner not in self.partners
        if (
            key in self.seen
            or (new_partner and len(self.partners) >= self.max_trade_partners)
            or (target not in club and len(club) >= TARGETS_PER_PARTNER)
            or self.offers.get(target, 0) >= OFFERS_PER_TARGET
        ):
            return False
        self.seen.add(key)
        self.partners.add(proposal.partner)
        club.add(target)
        self.offers[target] = self.offers.get(target, 0) + 1
        return True


def _choose(candidates: Sequence[Proposal], max_trade_partners: int) -> list[Proposal]:
    """The fair proposals with the most gain for the requesting team, within the partner
    limits: at most `max_trade_partners` clubs, `TARGETS_PER_PARTNER` targets from one club,
    `OFFERS_PER_TARGET` offers for one target, and no offer twice."""
    ordered = sorted(
        candidates,
        key=lambda p: (
            -p.evaluation.team_a.net_value,
            -p.evaluation.fairness,
            p.receive[0].player_id,
            tuple(v.player_id for v in p.give),
        ),
    )
    chosen: list[Proposal] = []
    limits = _PartnerLimits(max_trade_partners)
    for proposal in ordered:
        if len(chosen) == MAX_PROPOSALS:
            break
        if limits.admit(proposal):
            chosen.append(proposal)
    return chosen


def _offered(
    roster: Sequence[PlayerValuationInput],
    needs: ParsedNeeds,
    season: int,
    include_prospects: bool,
) -> list[tuple[PlayerValuationInput, PlayerValue]]:
    """The roster's players outside the needed positions (prospects only when asked), most
    surplus value first."""
    need_positions = tuple(set(needs.positions))
    own = [
        (p, value_player(p, season))
        for p in sorted(roster, key=lambda p: p.player_id)
        if wanted_rank(p.position, need_positions) is None
        and (include_prospects or not is_prospect(p))
    ]
    own.sort(key=lambda c: (-c[1].risk_adjusted_surplus, c[0].player_id))
    return own


def _targets(
    others: Mapping[str, tuple[TeamContext, Sequence[PlayerValuationInput]]],
    needs: ParsedNeeds,
    season: int,
) -> list[tuple[float, str, PlayerValuationInput, PlayerValue]]:
    """The MAX_CANDIDATE_TARGETS players of other teams who fit the request best."""
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
    return scored[:MAX_CANDIDATE_TARGETS]


def _offers_for(
    team: TeamContext,
    target: tuple[float, str, PlayerValuationInput, PlayerValue],
    own: list[tuple[PlayerValuationInput, PlayerValue]],
    partner: TeamContext,
    season: int,
    budget: float | None,
) -> list[Proposal]:
    """Up to PACKAGES_PER_TARGET packages for one target, each that passes as a proposal."""
    score, _, player, value = target
    found: list[Proposal] = []
    offered = own
    for _variant in range(PACKAGES_PER_TARGET):
        if not offered:
            break
        package = _package(value, offered)
        proposal = _proposal(team, player, value, package, partner, season, budget, score)
        if proposal is not None:
            found.append(proposal)
        # The next offer keeps the previous one's best player at home.
        offered = [c for c in offered if c[0].player_id != package[0][0].player_id]
    return found


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
    own = _offered(roster, needs, season, include_prospects)
    if not own:
        return ProposalSearch((), "The roster has no player to offer outside the needed positions.")
    candidates = [
        proposal
        for target in _targets(others, needs, season)
        for proposal in _offers_for(team, target, own, others[target[2].team][0], season, budget)
    ]
    proposals = _choose(candidates, max_trade_partners)
    ranked = tuple(
        Proposal(i, p.partner, p.receive, p.give, p.evaluation, p.fit_score, p.rationale)
        for i, p in enumerate(proposals, start=1)
    )
    if not ranked:
        return ProposalSearch((), "No player on another team fits the needs within the budget.")
    note = f"{len(ranked)} proposal(s) for {', '.join(needs.positions or needs.attributes)}."
    if len(ranked) < MIN_PROPOSALS:
        note += f" Fewer than {MIN_PROPOSALS}: few players fit the needs, budget and partners."
    return ProposalSearch(ranked, note)
