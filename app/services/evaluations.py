"""Synchronous trade evaluation: check the request against the league, then grade the trade."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from app.domain.contracts import MAX_CONTRACT_YEARS, stated_contract
from app.domain.trades import TradeEvaluation, evaluate_trade
from app.domain.valuation import PlayerValuationInput
from app.errors import InvalidInput
from app.monitoring.metrics import TRADE_EVALUATIONS
from app.services.trade_data import League


def _side(
    field: str,
    ids: Sequence[str],
    found: dict[str, PlayerValuationInput],
    from_team: str,
) -> list[PlayerValuationInput]:
    side = []
    for index, pid in enumerate(ids):
        player = found.get(pid)
        if player is None:
            raise InvalidInput(f"Unknown player {pid!r}.", field=f"body.{field}.{index}")
        if player.team != from_team:
            raise InvalidInput(
                f"{player.name} ({pid}) plays for {player.team}, not {from_team}.",
                field=f"body.{field}.{index}",
            )
        side.append(player)
    return side


@dataclass(frozen=True, slots=True)
class StatedTerms:
    """Contract terms a request states for one player (already range-checked by the schema)."""

    player_id: str
    years: int
    salary: float | None = None
    salaries: tuple[float, ...] | None = None
    club_options: tuple[float, ...] = ()


ESTIMATED_SALARIES_NOTE = " Every salary is estimated: the season has no salary data."


def _with_terms(
    players: list[PlayerValuationInput],
    overrides: Sequence[StatedTerms],
    season: int,
) -> list[PlayerValuationInput]:
    """The players with the stated contracts in place; 422 naming the override at fault."""
    by_id = {p.player_id: p for p in players}
    stated: dict[str, PlayerValuationInput] = {}
    for index, terms in enumerate(overrides):
        field = f"body.contract_overrides.{index}"
        if terms.player_id not in by_id:
            raise InvalidInput(
                f"{terms.player_id!r} is not in the trade.", field=f"{field}.player_id"
            )
        if terms.player_id in stated:
            raise InvalidInput(
                f"Terms for {terms.player_id!r} are stated twice.", field=f"{field}.player_id"
            )
        if terms.salaries is not None:
            if len(terms.salaries) != terms.years:
                raise InvalidInput(
                    f"{len(terms.salaries)} salaries for {terms.years} years.",
                    field=f"{field}.salaries",
                )
            salaries = terms.salaries
        elif terms.salary is not None:
            salaries = (terms.salary,) * terms.years
        else:
            raise InvalidInput("State `salary` or `salaries`.", field=f"{field}.salary")
        if terms.years + len(terms.club_options) > MAX_CONTRACT_YEARS:
            raise InvalidInput(
                f"At most {MAX_CONTRACT_YEARS} seasons with the options.",
                field=f"{field}.club_options",
            )
        contract = stated_contract(season, salaries, terms.club_options)
        stated[terms.player_id] = dataclasses.replace(
            by_id[terms.player_id],
            contract=contract,
            salary=salaries[0],
            years_of_control=len(contract.years),
        )
    return [stated.get(p.player_id, p) for p in players]


def evaluate(
    league: League,
    *,
    team_a: str,
    team_a_receives: Sequence[str],
    team_b: str,
    team_b_receives: Sequence[str],
    contract_overrides: Sequence[StatedTerms] = (),
) -> TradeEvaluation:
    """Grade the trade; 422 naming the field for unknown teams or players, a player not on the
    giving team, the same player twice, one team on both sides, or contract terms for a player
    not in the trade."""
    teams, season = league.teams, league.season
    for field, key in (("team_a", team_a), ("team_b", team_b)):
        if key not in teams:
            raise InvalidInput(f"Unknown team {key!r} in season {season}.", field=f"body.{field}")
    if team_a == team_b:
        raise InvalidInput("A team cannot trade with itself.", field="body.team_b")
    for field, ids in (("team_a_receives", team_a_receives), ("team_b_receives", team_b_receives)):
        if len(set(ids)) != len(ids):
            raise InvalidInput("The same player is listed twice.", field=f"body.{field}")
    both = set(team_a_receives) & set(team_b_receives)
    if both:
        raise InvalidInput(
            f"{sorted(both)[0]!r} is on both sides of the trade.", field="body.team_b_receives"
        )
    found = league.players
    # team_a receives players from team_b, and the other way round.
    a_gets = _side("team_a_receives", team_a_receives, found, team_b)
    b_gets = _side("team_b_receives", team_b_receives, found, team_a)
    if contract_overrides:
        stated = _with_terms([*a_gets, *b_gets], contract_overrides, season)
        a_gets, b_gets = stated[: len(a_gets)], stated[len(a_gets) :]
    TRADE_EVALUATIONS.inc()
    evaluation = evaluate_trade(
        team_a=teams[team_a],
        team_a_receives=a_gets,
        team_b=teams[team_b],
        team_b_receives=b_gets,
        season=season,
    )
    if league.salaries_estimated:
        evaluation = dataclasses.replace(
            evaluation, narrative=evaluation.narrative + ESTIMATED_SALARIES_NOTE
        )
    return evaluation
