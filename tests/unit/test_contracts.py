"""Contracts derived from salary histories, the arbitration model and the league minimum."""

from __future__ import annotations

import pytest

from app.domain.contracts import (
    ARBITRATION_CEILINGS,
    ContractKind,
    SalaryBasis,
    SalaryRecord,
    YearTerms,
    arbitration_ceiling,
    arbitration_salary,
    derive_contract,
    dollars_per_war,
    league_minimum,
    stated_contract,
)


def history(*rows: tuple[int, str, float, float]) -> list[SalaryRecord]:
    return [SalaryRecord(season, team, amount, service) for season, team, amount, service in rows]


def test_league_minimum_has_the_real_yearly_values() -> None:
    assert [league_minimum(y) for y in (2014, 2016, 2017, 2021, 2022, 2024)] == [
        500_000, 507_500, 535_000, 570_500, 700_000, 740_000,
    ]  # fmt: skip
    assert league_minimum(2030) > league_minimum(2026)


def test_a_pre_arbitration_raise_marks_an_extension_valued_past_the_arbitration_years() -> None:
    # A star paid 2x the minimum in his third season, then rising: a long extension.
    paid = history(
        (2013, "LAA", 510_000, 1.3), (2014, "LAA", 1_000_000, 2.3),
        (2015, "LAA", 6_083_000, 3.3), (2016, "LAA", 16_083_000, 4.3),
    )  # fmt: skip
    contract = derive_contract(
        season=2016, age=24, team="LAA", service_through=5.3, salary=16_083_000, history=paid
    )
    assert contract.kind is ContractKind.EXTENSION
    assert contract.signed == 2014
    assert [y.season for y in contract.years] == [2016, 2017, 2018, 2019, 2020]
    assert contract.years[0].basis is SalaryBasis.ACTUAL
    assert {y.basis for y in contract.years[1:]} == {SalaryBasis.ESTIMATED}
    salaries = [y.salary or 0.0 for y in contract.years]
    assert salaries == sorted(salaries)
    assert contract.years[-1].terms is YearTerms.CLUB_OPTION
    assert contract.guaranteed_years_left >= 2


def test_a_super_two_award_is_not_an_extension() -> None:
    paid = history((2015, "MIA", 500_000, 1.2), (2016, "MIA", 2_800_000, 2.2))
    contract = derive_contract(
        season=2016, age=23, team="MIA", service_through=2.9, salary=2_800_000, history=paid
    )
    assert contract.kind is ContractKind.TEAM_CONTROL
    assert [y.terms for y in contract.years[2:]] == [YearTerms.ARBITRATION] * 3
    assert (contract.years[1].salary or 0.0) >= 2_800_000  # a renewal is never a cut


def test_a_free_agent_deal_runs_for_years_by_the_wins_its_salary_buys() -> None:
    paid = history(
        (2013, "LAN", 11_750_000, 5.0), (2014, "LAN", 4_000_000, 6.0),
        (2015, "LAN", 32_571_000, 7.0), (2016, "LAN", 33_000_000, 8.0),
    )  # fmt: skip
    contract = derive_contract(
        season=2016, age=28, team="LAN", service_through=8.7, salary=33_000_000, history=paid
    )
    assert contract.kind is ContractKind.FREE_AGENT
    assert contract.signed == 2015
    assert len(contract.years) > 1
    assert contract.years[-1].season == 2021  # seven years from 2015: $32.8M buys 4+ wins
    average = (32_571_000 + 33_000_000) / 2
    assert contract.years[1].salary == pytest.approx(average)


def test_a_new_club_after_six_years_starts_a_new_deal_and_age_caps_its_length() -> None:
    paid = history((2015, "LAN", 25_000_000, 11.0), (2016, "ARI", 31_800_000, 12.0))
    contract = derive_contract(
        season=2016, age=32, team="ARI", service_through=12.5, salary=31_800_000, history=paid
    )
    assert contract.signed == 2016
    assert contract.years[-1].season == 2020  # ends with his age-36 season


def test_a_cheap_veteran_signs_for_one_year() -> None:
    paid = history((2016, "BOS", 2_000_000, 9.0))
    contract = derive_contract(
        season=2016, age=33, team="BOS", service_through=9.5, salary=2_000_000, history=paid
    )
    assert len(contract.years) == 1


def test_a_player_without_a_salary_is_estimated_throughout() -> None:
    contract = derive_contract(
        season=2016, age=22, team="NYA", service_through=0.5, salary=None, history=()
    )
    assert {y.basis for y in contract.years} == {SalaryBasis.ESTIMATED}
    assert contract.years[0].salary == league_minimum(2016)
    assert len(contract.years) == 7


@pytest.mark.parametrize("arbitration_year", [1, 2, 3])
@pytest.mark.parametrize("season", [2010, 2016, 2019, 2024, 2030])
def test_no_arbitration_award_exceeds_the_ceiling_of_its_year(
    arbitration_year: int, season: int
) -> None:
    ceiling = arbitration_ceiling(arbitration_year, season)
    for previous in (league_minimum(season), 5e6, 15e6, 40e6):
        for war in (-1.0, 0.0, 3.0, 12.0):
            assert arbitration_salary(previous, war, arbitration_year, season) <= ceiling


def test_arbitration_grows_from_the_previous_salary_by_the_platform_season() -> None:
    base = arbitration_salary(4_000_000, 0.0, 2, 2016)
    assert base == 4_000_000  # no raise without a platform, and never a cut
    better = arbitration_salary(4_000_000, 3.0, 2, 2016)
    assert better == pytest.approx(4_000_000 + 0.14 * 3.0 * dollars_per_war(2016))
    assert arbitration_salary(4_000_000, 5.0, 2, 2016) > better


def test_arbitration_ceilings_rise_with_the_records() -> None:
    for records in ARBITRATION_CEILINGS:
        amounts = [amount for _, amount in records]
        assert amounts == sorted(amounts)
    assert arbitration_ceiling(3, 2016) == 19_750_000
    by_year = [arbitration_ceiling(year, 2016) for year in (1, 2, 3)]
    assert by_year == sorted(by_year)


def test_stated_terms_are_marked_stated_with_options_after_the_guaranteed_years() -> None:
    contract = stated_contract(2016, [10e6, 12e6], [14e6])
    assert [y.terms for y in contract.years] == [
        YearTerms.GUARANTEED, YearTerms.GUARANTEED, YearTerms.CLUB_OPTION,
    ]  # fmt: skip
    assert {y.basis for y in contract.years} == {SalaryBasis.STATED}
