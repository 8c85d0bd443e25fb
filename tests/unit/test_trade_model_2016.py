"""The trade model on the real 2016 season: contracts, arbitration, grades and proposals."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from app.domain.contracts import YearTerms, arbitration_ceiling, league_minimum
from app.domain.needs_parser import parse_needs
from app.domain.proposals import search_proposals
from app.domain.trades import GRADE_CUTS, TradeEvaluation, evaluate_trade
from app.domain.valuation import PlayerValue, contract_of, value_player
from app.services import evaluations
from app.services.trade_data import League, SeasonRecord, to_input
from tests.support.league import league_from_extract

SEASON = 2016
KERSHAW, SCHERZER, SALE, MILLER = "kershcl01", "scherma01", "salech01", "millean01"
TROUT, EATON, RIZZO, ALTUVE = "troutmi01", "eatonad02", "rizzoan01", "altuvjo01"
GIOLITO, AROD = "giolilu01", "rodrial01"
PASSING = {grade for _, grade in GRADE_CUTS[:3]}  # A, B, C


@pytest.fixture(scope="module")
def league() -> League:
    return league_from_extract(SEASON)


def value(league: League, player_id: str) -> PlayerValue:
    return value_player(league.players[player_id], SEASON)


def trade(league: League, a_gets: list[str], b_gets: list[str]) -> TradeEvaluation:
    a_team = league.players[a_gets[0]].team
    b_team = league.players[b_gets[0]].team
    return evaluate_trade(
        team_a=league.teams[b_team],
        team_a_receives=[league.players[p] for p in a_gets],
        team_b=league.teams[a_team],
        team_b_receives=[league.players[p] for p in b_gets],
        season=SEASON,
    )


@pytest.mark.parametrize("player_id", [KERSHAW, SALE, SCHERZER, MILLER])
def test_free_agents_and_extended_stars_are_valued_over_more_than_one_season(
    league: League, player_id: str
) -> None:
    years = value(league, player_id).years
    assert len(years) > 1
    assert years[0].basis == "actual"
    assert {y.basis for y in years[1:]} == {"estimated"}


@pytest.mark.parametrize("player_id", [TROUT, EATON, RIZZO, ALTUVE])
def test_players_under_long_extensions_are_valued_through_the_contract(
    league: League, player_id: str
) -> None:
    player = league.players[player_id]
    contract = contract_of(player, SEASON)
    assert contract.kind == "extension"
    # Arbitration alone would end their control by 2018 at the latest.
    assert contract.years[-1].season >= 2019
    assert YearTerms.ARBITRATION not in {y.terms for y in contract.years}


def test_no_arbitration_salary_in_the_league_exceeds_its_years_ceiling(league: League) -> None:
    checked = 0
    for player in league.players.values():
        contract = contract_of(player, SEASON)
        valued = value_player(player, SEASON).years
        for terms, year in zip(contract.years, valued, strict=False):
            if terms.terms is YearTerms.ARBITRATION and year.salary_source != "actual":
                assert year.salary <= arbitration_ceiling(terms.arbitration_year or 1, year.season)
                checked += 1
    assert checked > 300


def test_pre_arbitration_years_pay_the_real_league_minimum(league: League) -> None:
    rookie = value(league, "seageco01")
    assert [y.salary for y in rookie.years[1:3]] == [league_minimum(2017), league_minimum(2018)]


def test_kershaw_for_scherzer_is_fair_for_both(league: League) -> None:
    evaluation = trade(league, [KERSHAW], [SCHERZER])
    assert evaluation.fairness >= 70
    assert evaluation.team_a.grade in PASSING
    assert evaluation.team_b.grade in PASSING


def test_a_star_for_a_replacement_player_is_still_an_f_for_the_loser(league: League) -> None:
    evaluation = trade(league, [TROUT], [AROD])
    assert evaluation.team_b.grade == "F"
    assert evaluation.team_b.recommendation == "reject"
    assert evaluation.recommendation == "reject"
    assert evaluation.fairness < 20


def test_trout_ranks_in_the_top_ten_by_surplus_with_no_reliever_above_him(league: League) -> None:
    ranked = sorted(
        (value_player(p, SEASON) for p in league.players.values()),
        key=lambda v: -v.surplus_value,
    )
    rank = next(i for i, v in enumerate(ranked) if v.player_id == TROUT)
    assert rank < 10
    assert all(v.position != "RP" for v in ranked[:rank])


def test_a_young_player_at_replacement_level_grows_along_the_aging_curve(league: League) -> None:
    years = value(league, GIOLITO).years
    wars = [y.projected_war for y in years]
    assert len(wars) >= 6
    assert wars[-1] > 1.0
    assert wars == sorted(wars)


def test_projection_regresses_toward_the_league_mean_of_each_role(league: League) -> None:
    rates = {p.position: p.mean_war_rate for p in league.players.values()}
    hitter, starter, reliever = rates["SS"], rates["SP"], rates["RP"]
    assert len({round(hitter, 6), round(starter, 6), round(reliever, 6)}) == 3
    assert all(0 < rate < 0.02 for rate in (hitter, starter, reliever))


def _mirrored(a: TradeEvaluation, b: TradeEvaluation) -> None:
    assert a.fairness == b.fairness
    assert a.recommendation == b.recommendation
    assert a.value_exchanged == b.value_exchanged
    assert {"team_a": "team_b", "team_b": "team_a", "even": "even"}[a.winner] == b.winner
    for one, other in ((a.team_a, b.team_b), (a.team_b, b.team_a)):
        assert one.grade == other.grade
        assert one.recommendation == other.recommendation
        assert one.net_value == other.net_value
        assert one.payroll == other.payroll


def test_swapping_the_sides_of_any_trade_mirrors_its_evaluation(league: League) -> None:
    draw = random.Random(2016)
    teams = sorted(league.teams)
    rosters = {t: sorted(league.roster(t), key=lambda p: p.player_id) for t in teams}
    for _ in range(200):
        one, two = draw.sample(teams, 2)
        gets_one = draw.sample(rosters[two], draw.randint(1, 3))
        gets_two = draw.sample(rosters[one], draw.randint(1, 3))
        forward = evaluate_trade(
            team_a=league.teams[one], team_a_receives=gets_one,
            team_b=league.teams[two], team_b_receives=gets_two, season=SEASON,
        )  # fmt: skip
        backward = evaluate_trade(
            team_a=league.teams[two], team_a_receives=gets_two,
            team_b=league.teams[one], team_b_receives=gets_one, season=SEASON,
        )  # fmt: skip
        _mirrored(forward, backward)
        # The deal's recommendation never contradicts either team's.
        teams_say = {forward.team_a.recommendation, forward.team_b.recommendation}
        if forward.recommendation == "accept":
            assert teams_say == {"accept"}
        if "reject" in teams_say:
            assert forward.recommendation == "reject"


@pytest.mark.parametrize(
    ("team", "request_text"),
    [
        ("NYA", "We need a power-hitting first baseman"),
        ("CHN", "Looking for bullpen help, a closer"),
        ("LAN", "An ace for the rotation"),
        ("BOS", "a shortstop with defense"),
    ],
)
def test_proposals_are_never_graded_below_c_and_rank_by_the_teams_gain(
    league: League, team: str, request_text: str
) -> None:
    others = {k: (ctx, league.roster(k)) for k, ctx in league.teams.items() if k != team}
    search = search_proposals(
        team=league.teams[team], roster=league.roster(team), needs=parse_needs(request_text),
        others=others, season=SEASON, budget=None, include_prospects=False,
        max_trade_partners=4,
    )  # fmt: skip
    assert search.proposals, search.explanation
    for proposal in search.proposals:
        assert proposal.evaluation.team_a.grade in PASSING
        assert proposal.evaluation.team_b.grade in PASSING
    gains = [p.evaluation.team_a.net_value for p in search.proposals]
    assert gains == sorted(gains, reverse=True)


def test_a_season_without_salary_data_is_valued_on_estimates_and_says_so(league: League) -> None:
    # The seed stores the status model's estimate when a season has no salaries.
    estimated = SeasonRecord(
        season=2019, team_key="LAA", position="CF", age=27, games=134,
        plate_appearances=600, home_runs=45, stolen_bases=11, woba=0.436, batting_runs=60.0,
        innings_pitched=0.0, war=8.0, salary=36_000_000, salary_source="estimated",
        contract_status="free agent", years_of_control=0, service_years=8.3,
    )  # fmt: skip
    player = to_input("troutmi01", "Mike Trout", [estimated])
    valued = value_player(player, 2019)
    assert {y.basis for y in valued.years} == {"estimated"}
    assert valued.years[0].salary_source == "market"

    unpaid = replace(league, salaries_estimated=True)
    evaluation = evaluations.evaluate(
        unpaid, team_a="NYA", team_a_receives=[TROUT], team_b="LAA", team_b_receives=[AROD]
    )
    assert evaluations.ESTIMATED_SALARIES_NOTE.strip() in evaluation.narrative
