"""WAR, league constants and contracts on the embedded 2016 Lahman data."""

from __future__ import annotations

import pytest

from app.data.loader import ExtractMissing, load_extract
from app.data.seasons import SeasonRows, age_in, build_rows
from app.domain.contracts import (
    ContractStatus,
    SeasonAppearances,
    arbitration_ceiling,
    contract_for,
    dollars_per_war,
    estimated_salary,
    league_minimum,
    service_years,
)
from app.domain.war import BattingLine, PitchingLine, batting_war, pitching_war, positional_runs


@pytest.fixture(scope="module")
def rows_2016() -> SeasonRows:
    return build_rows(load_extract(2016))


def test_league_constants_match_the_2016_run_environment(rows_2016: SeasonRows) -> None:
    c = rows_2016.constants[2016]
    # Published 2016 values (FanGraphs guts): wOBA .318, scale 1.212, wHR 2.014, R/W 9.78.
    assert c.league_woba == pytest.approx(0.318, abs=0.003)
    assert c.woba_scale == pytest.approx(1.21, abs=0.03)
    assert c.w_hr == pytest.approx(2.01, abs=0.05)
    assert c.runs_per_win == pytest.approx(9.78, abs=0.1)
    assert c.w_bb < c.w_1b < c.w_2b < c.w_3b < c.w_hr


def test_trout_is_among_the_three_best_hitters_of_2016(rows_2016: SeasonRows) -> None:
    hitters = [r for r in rows_2016.player_seasons if r["season"] == 2016 and r["position"] != "P"]
    top3 = [r["player_id"] for r in sorted(hitters, key=lambda r: -r["war"])[:3]]
    assert "troutmi01" in top3


def test_league_war_is_near_the_replacement_pool(rows_2016: SeasonRows) -> None:
    total = sum(r["war"] for r in rows_2016.player_seasons if r["season"] == 2016)
    assert 900 < total < 1100  # 1000 WAR per 2430 games above replacement


def test_every_2016_team_is_present_with_a_roster(rows_2016: SeasonRows) -> None:
    assert len(rows_2016.teams) == 30
    teams = {r["team_key"] for r in rows_2016.player_seasons if r["season"] == 2016}
    assert teams == {t["team_key"] for t in rows_2016.teams}


def test_an_empty_line_is_worth_nothing_and_positions_are_prorated(rows_2016: SeasonRows) -> None:
    c = rows_2016.constants[2016]
    assert batting_war(BattingLine(), {}, c) == 0
    assert pitching_war(PitchingLine(), c) == 0
    assert positional_runs({"SS": 162}) == pytest.approx(7.5)
    assert positional_runs({"C": 81, "1B": 81}) == pytest.approx(0.0)


def test_a_better_pitching_line_is_worth_more(rows_2016: SeasonRows) -> None:
    c = rows_2016.constants[2016]
    ace = PitchingLine(ipouts=600, hr=15, bb=40, so=230)
    average = PitchingLine(ipouts=600, hr=28, bb=65, so=160)
    assert pitching_war(ace, c) > pitching_war(average, c) > 0


def test_service_time_sets_status_and_years_of_control() -> None:
    rookie = contract_for(service_years([SeasonAppearances(2016, 150, 150, 0)], 2016))
    assert rookie.status is ContractStatus.PRE_ARBITRATION
    assert rookie.years_of_control == 5
    arb = contract_for(4.2)
    assert (arb.status, arb.arbitration_year, arb.years_of_control) == (
        ContractStatus.ARBITRATION,
        2,
        2,
    )
    veteran = contract_for(9.0)
    assert veteran.status is ContractStatus.FREE_AGENT
    assert veteran.years_of_control == 0


def test_estimated_salaries_follow_the_arbitration_model() -> None:
    assert estimated_salary(contract_for(1.0), 5.0, 2017) == league_minimum(2017)
    arb1 = estimated_salary(contract_for(3.1), 4.0, 2017)
    arb2 = estimated_salary(contract_for(4.1), 4.0, 2017)
    arb3 = estimated_salary(contract_for(5.1), 4.0, 2017)
    # Each arbitration year raises the salary before it by a share of the platform's value.
    assert arb1 == round(league_minimum(2017) + 0.16 * 4.0 * dollars_per_war(2017))
    assert arb1 < arb2 < arb3 <= arbitration_ceiling(3, 2017)
    assert estimated_salary(contract_for(5.1), 12.0, 2017) == arbitration_ceiling(3, 2017)
    assert estimated_salary(contract_for(7.0), 4.0, 2017) == round(4.0 * dollars_per_war(2017))


def test_trout_contract_and_age_in_2016(rows_2016: SeasonRows) -> None:
    trout = next(
        r for r in rows_2016.player_seasons if r["player_id"] == "troutmi01" and r["season"] == 2016
    )
    assert trout["team_key"] == "LAA"
    assert trout["age"] == 24
    assert trout["salary"] == 16_083_333
    assert trout["contract_status"] == "arbitration"


def test_age_uses_june_30() -> None:
    from datetime import date

    assert age_in(2016, date(1991, 8, 7)) == 24
    assert age_in(2016, date(1991, 6, 30)) == 25
    assert age_in(2016, None) is None


def test_missing_season_names_what_exists() -> None:
    with pytest.raises(ExtractMissing, match="2016"):
        load_extract(1999)
