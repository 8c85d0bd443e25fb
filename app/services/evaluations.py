"""Synchronous trade evaluation: check the request against the league, then grade the trade."""

from __future__ import annotations

from collections.abc import Sequence

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


def evaluate(
    league: League,
    *,
    team_a: str,
    team_a_receives: Sequence[str],
    team_b: str,
    team_b_receives: Sequence[str],
) -> TradeEvaluation:
    """Grade the trade; 422 naming the field for unknown teams or players, a player not on the
    giving team, the same player twice, or one team on both sides."""
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
    TRADE_EVALUATIONS.inc()
    return evaluate_trade(
        team_a=teams[team_a],
        team_a_receives=a_gets,
        team_b=teams[team_b],
        team_b_receives=b_gets,
        season=season,
    )
