"""Microbenchmarks (pytest-benchmark): request validation, response serialization, valuation.

Run with `btai benchmark micro` (saves the run) or `btai benchmark micro --compare` (fails
when a median is 20% slower than the last saved run). Plain pytest disables them by default.
"""

from __future__ import annotations

from typing import Any

from app.domain.valuation import ContractStatus, PlayerValuationInput, SeasonLine, value_player
from app.schemas.trades import PlayerValueOut, TradeEvaluateRequest

TRADE_BODY = {
    "team_a": "nya",
    "team_a_receives": ["bettsmo01", "bogaexa01"],
    "team_b": "BOS",
    "team_b_receives": ["judgeaa01"],
    "context": "need a right-handed bat",
}

PLAYER = PlayerValuationInput(
    player_id="bettsmo01",
    name="Mookie Betts",
    age=24,
    position="RF",
    team="BOS",
    salary=950_000.0,
    contract_status=ContractStatus.ARBITRATION,
    years_of_control=2,
    seasons=(
        SeasonLine(2014, 3.5, pa=213, games=52),
        SeasonLine(2015, 6.0, pa=654, games=145),
        SeasonLine(2016, 9.6, pa=730, games=158),
    ),
)


def test_request_validation(benchmark: Any) -> None:
    request = benchmark(TradeEvaluateRequest.model_validate, TRADE_BODY)
    assert request.team_a == "NYA"


def test_valuation_engine(benchmark: Any) -> None:
    value = benchmark(value_player, PLAYER, 2017)
    assert value.years
    assert value.war_value > 0


def test_response_serialization(benchmark: Any) -> None:
    value = value_player(PLAYER, 2017)

    def serialize() -> bytes:
        return PlayerValueOut.model_validate(value).model_dump_json().encode()

    body = benchmark(serialize)
    assert b'"player_id":"bettsmo01"' in body
