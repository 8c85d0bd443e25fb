"""ModelEncoder writes the very bytes the response model would, without validating again."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Any

import pytest
from pydantic import BaseModel, Field

from app.domain.trades import TradeEvaluation
from app.schemas import encoding
from app.schemas.encoding import ModelEncoder
from app.schemas.trades import PlayerValueOut, TradeEvaluationOut
from app.services import evaluations
from app.services.trade_data import League
from tests.support.league import league_from_extract

# As the evaluate route builds it: each player's valuation encoded once.
ENCODER = ModelEncoder(
    TradeEvaluationOut, given=("salaries_estimated", "context"), memo=(PlayerValueOut,)
)


@pytest.fixture(scope="module")
def league() -> League:
    return league_from_extract(2016)


def validated_json(evaluation: TradeEvaluation, estimated: bool, context: str | None) -> bytes:
    names = [name for name in TradeEvaluationOut.model_fields if hasattr(evaluation, name)]
    fields = {name: getattr(evaluation, name) for name in names}
    out = TradeEvaluationOut.model_validate(
        {**fields, "salaries_estimated": estimated, "context": context}
    )
    return out.model_dump_json().encode()


def random_trades(league: League, count: int) -> list[tuple[League, TradeEvaluation]]:
    draw = random.Random(15)
    teams = sorted(league.teams)
    rosters = {t: sorted(p.player_id for p in league.roster(t)) for t in teams}
    unpaid = replace(league, salaries_estimated=True)
    trades = []
    for index in range(count):
        one, two = draw.sample(teams, 2)
        gets_one = draw.sample(rosters[two], draw.randint(1, 4))
        gets_two = draw.sample(rosters[one], draw.randint(1, 4))
        # Stated terms, some in whole dollars, which the model writes as floats.
        overrides = [evaluations.StatedTerms(player_id=gets_one[0], years=3, salary=20_000_000)]
        if index % 3 == 0:
            overrides.append(
                evaluations.StatedTerms(
                    player_id=gets_two[0], years=2, salaries=(1, 2.5), club_options=(7,)
                )
            )
        used = unpaid if index % 4 == 0 else league
        evaluation = evaluations.evaluate(
            used, team_a=one, team_a_receives=gets_one, team_b=two, team_b_receives=gets_two,
            contract_overrides=overrides if index % 2 else (),
        )  # fmt: skip
        trades.append((used, evaluation))
    return trades


@pytest.mark.parametrize("context", [None, 'Deadline deal — «Ohtani» 🚀 "quoted"\n'])
def test_trade_evaluations_encode_to_the_validated_models_bytes(
    league: League, context: str | None
) -> None:
    trades = random_trades(league, 60)
    # The second round reads every player from the memo of the first.
    for used, evaluation in trades + trades:
        expected = validated_json(evaluation, used.salaries_estimated, context)
        encoded = ENCODER.to_json(
            evaluation, salaries_estimated=used.salaries_estimated, context=context
        )
        assert encoded == expected


class Point(BaseModel):
    x: float
    label: str


class Path(BaseModel):
    points: list[Point]


@dataclass(frozen=True)
class Spot:
    x: float
    label: str


@dataclass(frozen=True)
class Route:
    points: tuple[Spot, ...]


def test_memoised_models_give_the_models_bytes_as_the_memo_turns_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(encoding, "MEMO_SIZE", 3)
    encoder = ModelEncoder(Path, memo=(Point,))
    spots = [Spot(float(i), f"s{i}") for i in range(5)]
    for rounds in range(2):
        for spot in spots:
            # equal objects read apart, each giving the model's bytes
            twin = Spot(spot.x, spot.label)
            route = Route((spot, twin, spot))
            expected = Path.model_validate(route, from_attributes=True).model_dump_json()
            assert encoder.to_json(route) == expected.encode(), rounds


class Measure(BaseModel):
    amount: float
    amounts: list[float]
    maybe: float | None
    count: int


@dataclass
class Measured:
    amount: Any
    amounts: Any
    maybe: Any
    count: int


def test_numbers_in_float_fields_are_written_as_floats_like_the_model() -> None:
    encoder = ModelEncoder(Measure)
    for value in (Measured(5, (1, 2.5), 3, 7), Measured(1e16, [], None, 0)):
        assert (
            encoder.to_json(value)
            == Measure.model_validate(value, from_attributes=True).model_dump_json().encode()
        )
    assert encoder.to_json(Measured(5, (1,), None, 2)) == (
        b'{"amount":5.0,"amounts":[1.0],"maybe":null,"count":2}'
    )


def test_floats_strings_and_non_finite_numbers_are_written_as_pydantic_writes_them() -> None:
    draw = random.Random(7)
    amounts = [sign * 10 ** draw.uniform(-9, 18) for sign in (1, -1) for _ in range(2000)]
    amounts += [round(a, 2) for a in amounts] + [0.0, -0.0, 5e-324, 1.7976931348623157e308]
    amounts += [float("nan"), float("inf"), float("-inf"), 1e16, 1e-7, 123456789.125]
    value = Measured(amounts[0], amounts, float("nan"), -(2**63))
    encoder = ModelEncoder(Measure)
    expected = Measure.model_validate(value, from_attributes=True).model_dump_json().encode()
    assert encoder.to_json(value) == expected
    text = Text(text='José «x» \u2028 \x7f \x1f 🚀 "quoted" \\ </script>\n\t')
    assert ModelEncoder(Text).to_json(text) == text.model_dump_json().encode()


class Text(BaseModel):
    text: str


class Renamed(BaseModel):
    value: int = Field(serialization_alias="Value")


class Loose(BaseModel):
    data: dict[str, Any]


@pytest.mark.parametrize("model", [Renamed, Loose])
def test_models_it_cannot_copy_faithfully_are_refused_when_the_encoder_is_built(
    model: type[BaseModel],
) -> None:
    with pytest.raises(TypeError, match=model.__name__):
        ModelEncoder(model)


def test_given_fields_must_be_the_models() -> None:
    with pytest.raises(TypeError, match="no field 'nope'"):
        ModelEncoder(Measure, given=("nope",))
