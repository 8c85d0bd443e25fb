"""The valuation model, trade evaluation, needs parsing and proposal search (pure domain)."""

from __future__ import annotations

import pytest

from app.domain.needs_parser import parse_budget, parse_needs
from app.domain.proposals import search_proposals
from app.domain.trades import TeamContext, evaluate_trade
from app.domain.valuation import (
    ContractStatus,
    PlayerValuationInput,
    SeasonLine,
    dollars_per_war,
    payroll_impact,
    project_first_year,
    value_player,
)

SEASON = 2016


def player(
    pid: str,
    wars: tuple[float, float, float],
    *,
    team: str = "AAA",
    position: str = "SS",
    age: int = 27,
    salary: float = 507_500,
    status: ContractStatus = ContractStatus.PRE_ARBITRATION,
    control: int = 4,
    games: tuple[int, int, int] = (150, 150, 150),
    pa: int = 650,
    attributes: frozenset[str] = frozenset(),
) -> PlayerValuationInput:
    seasons = tuple(
        SeasonLine(season=SEASON - i, war=w, pa=pa, games=g)
        for i, (w, g) in enumerate(zip(wars, games, strict=True))
    )
    return PlayerValuationInput(
        player_id=pid, name=pid.title(), age=age, position=position, team=team,
        salary=salary, contract_status=status, years_of_control=control, seasons=seasons,
        attributes=attributes,
    )  # fmt: skip


STAR = player("star", (9.5, 9.0, 8.5), age=24, control=4, salary=16_000_000,
              status=ContractStatus.FREE_AGENT)  # fmt: skip
SCRUB = player("scrub", (0.0, -0.2, 0.1), team="BBB", age=30, control=1, salary=1_000_000,
               status=ContractStatus.FREE_AGENT)  # fmt: skip
TEAM_A = TeamContext("AAA", "Team A", 150_000_000, ("C", "SP"))
TEAM_B = TeamContext("BBB", "Team B", 120_000_000, ("SS", "CF"))


def test_projection_weights_recent_seasons_and_regresses_short_samples() -> None:
    rising = [SeasonLine(2016, 6.0, pa=650), SeasonLine(2015, 2.0, pa=650)]
    falling = [SeasonLine(2016, 2.0, pa=650), SeasonLine(2015, 6.0, pa=650)]
    assert project_first_year(rising) > project_first_year(falling)
    tiny = [SeasonLine(2016, 0.5, pa=60)]  # a hot month at a 5-win pace says little
    full = [SeasonLine(2016, 5.0, pa=600)]
    assert project_first_year(tiny) < project_first_year(full)
    assert project_first_year([]) > 0  # nothing known: the league mean


def test_star_has_large_surplus_and_replacement_player_none() -> None:
    star, scrub = value_player(STAR, SEASON), value_player(SCRUB, SEASON)
    assert star.surplus_value > 100_000_000
    assert len(star.years) == 4
    assert star.years[0].salary == 16_000_000
    assert scrub.surplus_value < 1_000_000
    assert dollars_per_war(2017) > dollars_per_war(2016)


def test_arbitration_salaries_rise_toward_market() -> None:
    young = player("young", (4.0, 4.0, 3.0), age=25, control=5)
    years = value_player(young, SEASON).years
    sources = [y.salary_source for y in years]
    assert sources == ["actual", "league_minimum", "arbitration_estimate",
                       "arbitration_estimate", "arbitration_estimate"]  # fmt: skip
    arb = [y.salary for y in years[2:]]
    assert arb == sorted(arb)
    assert arb[0] > years[1].salary


def test_risk_names_age_volatility_and_games_drop() -> None:
    fragile = player("fragile", (1.0, 7.0, 2.0), age=35, games=(60, 150, 140))
    value = value_player(fragile, SEASON)
    assert value.risk > 0.4
    text = " ".join(value.risk_factors)
    assert "age 35" in text
    assert "volatile" in text
    assert "games played fell" in text
    assert value_player(STAR, SEASON).risk < value.risk


def test_payroll_impact_against_2016_tax_threshold() -> None:
    impact = payroll_impact(180_000_000, 15_000_000, 2_000_000, 2016)
    assert impact.luxury_tax_threshold == 189_000_000
    assert impact.over_threshold
    assert impact.payroll_after == 193_000_000
    assert impact.estimated_tax == pytest.approx(4_000_000 * 0.175)


def test_star_for_replacement_player_gives_star_side_f_and_reject() -> None:
    # team B gives the star (team A receives it) and gets the scrub back.
    evaluation = evaluate_trade(
        team_a=TEAM_A, team_a_receives=[STAR], team_b=TEAM_B, team_b_receives=[SCRUB],
        season=SEASON,
    )  # fmt: skip
    assert evaluation.team_b.grade == "F"
    assert evaluation.team_b.recommendation == "reject"
    assert evaluation.team_a.grade == "A"
    assert evaluation.winner == "team_a"
    assert evaluation.recommendation == "reject"
    assert evaluation.fairness < 20
    assert evaluation.team_a.war_change_this_season > 5
    assert "Star" in evaluation.narrative


def test_near_equal_swap_is_even() -> None:
    one = player("one", (4.0, 3.8, 4.1), team="BBB", position="2B", age=28, control=3)
    two = player("two", (3.9, 4.0, 3.9), team="AAA", position="2B", age=28, control=3)
    evaluation = evaluate_trade(
        team_a=TEAM_A, team_a_receives=[one], team_b=TEAM_B, team_b_receives=[two],
        season=SEASON,
    )  # fmt: skip
    assert evaluation.winner == "even"
    assert evaluation.fairness >= 85
    assert evaluation.recommendation == "accept"
    assert {evaluation.team_a.grade, evaluation.team_b.grade} <= {"B", "C"}


def test_same_input_gives_same_output() -> None:
    first = evaluate_trade(team_a=TEAM_A, team_a_receives=[STAR], team_b=TEAM_B,
                           team_b_receives=[SCRUB], season=SEASON)  # fmt: skip
    second = evaluate_trade(team_a=TEAM_A, team_a_receives=[STAR], team_b=TEAM_B,
                            team_b_receives=[SCRUB], season=SEASON)  # fmt: skip
    assert first == second


def test_filling_a_ranked_need_is_worth_more() -> None:
    catcher = player("catcher", (3.0, 3.0, 3.0), team="BBB", position="C")
    needs_catcher = TeamContext("AAA", "A", 100e6, ("C",))
    no_need = TeamContext("AAA", "A", 100e6, ("RF",))
    giving = player("giving", (1.0, 1.0, 1.0), position="LF")
    with_need = evaluate_trade(team_a=needs_catcher, team_a_receives=[catcher], team_b=TEAM_B,
                               team_b_receives=[giving], season=SEASON)  # fmt: skip
    without = evaluate_trade(team_a=no_need, team_a_receives=[catcher], team_b=TEAM_B,
                             team_b_receives=[giving], season=SEASON)  # fmt: skip
    assert with_need.team_a.net_value > without.team_a.net_value
    assert with_need.team_a.needs_addressed == ("C",)


@pytest.mark.parametrize(
    ("text", "positions", "attributes", "budget"),
    [
        ("We need a power-hitting first baseman under $20M", ("1B",), ("power",), 20e6),
        ("Looking for bullpen help, a closer, budget 5 million", ("RP",), ("relief",), 5e6),
        ("An ace for the rotation and a speedy center fielder",
         ("SP", "CF"), ("starting_pitching", "speed"), None),
        ("Defense at shortstop, $750k max", ("SS",), ("defense",), 750e3),
    ],
)  # fmt: skip
def test_needs_parser_reads_positions_attributes_budget(
    text: str, positions: tuple[str, ...], attributes: tuple[str, ...], budget: float | None
) -> None:
    needs = parse_needs(text)
    assert set(needs.positions) == set(positions)
    assert set(needs.attributes) == set(attributes)
    assert needs.budget == budget


def test_needs_parser_finds_nothing_in_small_talk() -> None:
    needs = parse_needs("Please make our team better this year somehow")
    assert needs.is_empty
    assert "nothing to search" in needs.explain_empty()
    assert parse_budget("no money talk") is None


def test_proposals_fill_the_need_within_budget() -> None:
    # Regulars of 1 to 2 WAR: packages of them can balance the shortstops on offer.
    roster = [player(f"a{i}", (1.0 + 0.25 * i, 1.5, 1.5), position=pos, control=3)
              for i, pos in enumerate(["1B", "LF", "RF", "C", "2B"])]  # fmt: skip
    others = {}
    for t in ("BBB", "CCC", "DDD"):
        players = [
            player(f"{t}-ss{i}", (2.5 + i, 2.5, 2.0), team=t, position="SS", control=2,
                   salary=(4 + 6 * i) * 1e6, status=ContractStatus.FREE_AGENT)
            for i in range(3)
        ]  # fmt: skip
        others[t] = (TeamContext(t, t, 100e6, ("C",)), players)
    search = search_proposals(
        team=TEAM_A, roster=roster, needs=parse_needs("a shortstop under $12M"), others=others,
        season=SEASON, budget=12e6, include_prospects=False, max_trade_partners=2,
    )  # fmt: skip
    assert 3 <= len(search.proposals) <= 5
    assert [p.rank for p in search.proposals] == list(range(1, len(search.proposals) + 1))
    assert len({p.partner for p in search.proposals}) <= 2
    for proposal in search.proposals:
        assert proposal.receive[0].position == "SS"
        salary_in = proposal.receive[0].salary_this_season
        assert salary_in - sum(g.salary_this_season for g in proposal.give) <= 12e6
        assert all(g.position != "SS" for g in proposal.give)
    empty = search_proposals(
        team=TEAM_A, roster=roster, needs=parse_needs("make us better"), others=others,
        season=SEASON, budget=None, include_prospects=False, max_trade_partners=2,
    )  # fmt: skip
    assert empty.proposals == ()
    assert "no position" in empty.explanation


def test_a_request_for_relief_is_not_answered_with_starters() -> None:
    # Two-win regulars: one of them balances the two-win reliever asked for.
    roster = [player(f"a{i}", (2.0, 2.0, 2.0), position=pos, control=3)
              for i, pos in enumerate(["1B", "LF", "SP", "C"])]  # fmt: skip
    starters = [player(f"b-sp{i}", (4.0, 4.0, 4.0), team="BBB", position="SP", control=3)
                for i in range(3)]  # fmt: skip
    reliever = player("b-rp", (2.0, 2.0, 2.0), team="BBB", position="RP", control=3)
    search = search_proposals(
        team=TEAM_A, roster=roster, needs=parse_needs("bullpen help, a closer"),
        others={"BBB": (TEAM_B, [*starters, reliever])}, season=SEASON, budget=None,
        include_prospects=False, max_trade_partners=1,
    )  # fmt: skip
    assert search.proposals
    assert {p.receive[0].player_id for p in search.proposals} == {"b-rp"}
    assert all(p.evaluation.fairness >= 50 for p in search.proposals)


def test_a_fairly_paid_star_is_not_offered_for_a_scrub_even_at_equal_surplus() -> None:
    # A 6-win shortstop paid his market value has about as little surplus as a scrub.
    star = player("b-star", (6.0, 6.0, 6.0), team="BBB", position="SS", control=3,
                  salary=41e6, status=ContractStatus.FREE_AGENT)  # fmt: skip
    scrubs = [player(f"a-scrub{i}", (0.3, 0.3, 0.3), position="LF", control=1,
                     salary=4e6, status=ContractStatus.FREE_AGENT) for i in range(3)]  # fmt: skip
    swap = evaluate_trade(team_a=TEAM_A, team_a_receives=[star], team_b=TEAM_B,
                          team_b_receives=scrubs[:1], season=SEASON)  # fmt: skip
    assert swap.fairness >= 85  # even in surplus: only the wins exchanged tell it apart
    search = search_proposals(
        team=TEAM_A, roster=scrubs, needs=parse_needs("a shortstop"),
        others={"BBB": (TEAM_B, [star])}, season=SEASON, budget=None,
        include_prospects=True, max_trade_partners=1,
    )  # fmt: skip
    assert search.proposals == ()
