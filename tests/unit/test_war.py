"""WAR, league constants and contracts on the embedded 2016 Lahman data."""

from __future__ import annotations

import pytest

from app.data.loader import ExtractMissing, load_extract
from app.data.seasons import SeasonRows, age_in, build_rows, season_stints
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
from app.domain.fielding import FieldingChance, FieldingLine, fielding_runs, league_rates
from app.domain.team_needs import need_positions, rank_positions
from app.domain.war import (
    INNINGS_PER_SEASON_OUTS,
    BattingLine,
    PitchingLine,
    baserunning_runs,
    batting_runs,
    pitching_runs,
    positional_runs,
    uses_dh,
)
from app.domain.war_season import RoleLine, Stint, TeamSeason, role_means, season_war


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
    assert batting_runs(BattingLine(), c) == 0
    assert baserunning_runs(BattingLine(), c) == 0
    assert pitching_runs(PitchingLine(), c) == 0
    assert positional_runs({"SS": INNINGS_PER_SEASON_OUTS}) == pytest.approx(7.5)
    half = INNINGS_PER_SEASON_OUTS / 2
    assert positional_runs({"C": half, "1B": half}) == pytest.approx(0.0)


def test_a_better_pitching_line_is_worth_more(rows_2016: SeasonRows) -> None:
    c = rows_2016.constants[2016]
    ace = PitchingLine(ipouts=600, hr=15, bb=40, so=230)
    average = PitchingLine(ipouts=600, hr=28, bb=65, so=160)
    assert pitching_runs(ace, c) > pitching_runs(average, c)
    assert pitching_runs(ace, c) > 0


def test_stolen_bases_add_runs_and_caught_stealing_costs_more(rows_2016: SeasonRows) -> None:
    c = rows_2016.constants[2016]
    line = BattingLine(ab=500, h=140, doubles=25, hr=10, bb=50)
    runner = BattingLine(ab=500, h=140, doubles=25, hr=10, bb=50, sb=40, cs=5)
    caught = BattingLine(ab=500, h=140, doubles=25, hr=10, bb=50, sb=10, cs=10)
    assert baserunning_runs(runner, c) > baserunning_runs(line, c) > baserunning_runs(caught, c)
    assert baserunning_runs(line, c) < 0  # no attempts: below a league that steals


def test_a_hitters_park_takes_runs_back(rows_2016: SeasonRows) -> None:
    c = rows_2016.constants[2016]
    line = BattingLine(ab=550, h=160, doubles=30, triples=3, hr=25, bb=60)
    assert batting_runs(line, c, park_factor=1.17) < batting_runs(line, c) - 10
    assert batting_runs(line, c, park_factor=0.95) > batting_runs(line, c)


def test_coors_field_hitters_are_park_adjusted(rows_2016: SeasonRows) -> None:
    war = rows_2016.war[2016]
    c = war.constants
    lines = {s.player_id: s for s in season_stints(load_extract(2016))[2016] if s.team == "COL"}
    regulars = [s for s in war.stints if s.team == "COL" and s.plate_appearances >= 400]
    assert len(regulars) >= 5
    for stint in regulars:
        raw = batting_runs(lines[stint.player_id].batting, c)
        # Coors Field (BPF 116 in 2016) adds runs an average hitter would score anywhere else.
        assert stint.batting < raw - 0.1 * c.runs_per_pa * stint.plate_appearances


def test_fielders_are_measured_against_the_league_at_their_position() -> None:
    league = [
        FieldingChance("SS", FieldingLine(outs=3000, po=150, a=300, e=10, dp=60), 3000.0),
        FieldingChance("SS", FieldingLine(outs=3000, po=170, a=360, e=8, dp=80), 3000.0),
        FieldingChance("SS", FieldingLine(outs=3000, po=130, a=240, e=18, dp=40), 3000.0),
        FieldingChance("C", FieldingLine(outs=3000, po=800, e=5, pb=4, sb=60, cs=30), 0.0),
        FieldingChance("C", FieldingLine(outs=3000, po=800, e=5, pb=12, sb=80, cs=10), 0.0),
    ]
    rates = league_rates(league)
    runs = [fielding_runs(chance, rates) for chance in league]
    assert runs[1] > runs[0] > runs[2]
    assert sum(runs[:3]) == pytest.approx(0.0, abs=1e-9)
    assert runs[3] > 0 > runs[4]  # the catcher who throws runners out and blocks pitches


def test_starters_carry_more_replacement_runs_per_inning_than_relievers(
    rows_2016: SeasonRows,
) -> None:
    c = rows_2016.constants[2016]
    line = PitchingLine(ipouts=180, hr=6, bb=20, so=60, r=25)
    stints = [
        Stint("starter", "AAA", "AL", pitching=line, games_pitched=10, games_started=10,
              appearances={"P": 10}),
        Stint("reliever", "AAA", "AL", pitching=line, games_pitched=60, games_started=0,
              appearances={"P": 60}),
    ]  # fmt: skip
    war = season_war(2016, c, stints, {"AAA": TeamSeason("AAA", "AL")})
    starter, reliever = war.stints
    assert (starter.role, reliever.role) == ("SP", "RP")
    assert starter.pitching_war > reliever.pitching_war
    # Both lines are the league's own, so neither saves runs: what each has is replacement
    # runs alone, a starter's inning worth four of a reliever's (.380 and .470 levels).
    assert starter.pitching == pytest.approx(4 * reliever.pitching, rel=1e-9)
    assert reliever.pitching > 0


def test_the_dh_is_played_by_league_rules() -> None:
    assert uses_dh("AL", 2016)
    assert not uses_dh("NL", 2016)
    assert uses_dh("NL", 2020)  # the one universal-DH season before 2022
    assert not uses_dh("NL", 2021)
    assert uses_dh("NL", 2022)
    assert uses_dh("AL", 2024)
    assert "DH" not in need_positions("NL", 2016)
    assert "DH" in need_positions("AL", 2016)


def test_no_nl_team_needs_a_dh_in_2016(rows_2016: SeasonRows) -> None:
    leagues = {t["team_key"]: t["league"] for t in rows_2016.teams}
    table = {key: dict.fromkeys(need_positions(lg, 2016), 0.0) for key, lg in leagues.items()}
    for stint in rows_2016.stints:
        if stint["role"] in table[stint["team_key"]]:
            table[stint["team_key"]][stint["role"]] += stint["war"]
    for team, league in leagues.items():
        ranked = [g.position for g in rank_positions(team, table)]
        assert ("DH" in ranked) == (league == "AL"), team


def test_a_traded_pitchers_innings_count_for_each_team_apart(rows_2016: SeasonRows) -> None:
    chapman = [s for s in rows_2016.stints if s["player_id"] == "chapmar01"]
    assert {s["team_key"] for s in chapman} == {"NYA", "CHN"}
    season = next(
        r for r in rows_2016.player_seasons if r["player_id"] == "chapmar01" and r["season"] == 2016
    )
    by_team = {s["team_key"]: s for s in chapman}
    # His value is the whole season; each team's relief WAR holds only its own innings.
    assert season["war"] == pytest.approx(sum(s["war"] for s in chapman), abs=0.02)
    assert season["innings_pitched"] == pytest.approx(
        sum(s["innings_pitched"] for s in chapman), abs=0.01
    )
    cubs_relief = sum(
        s["war"] for s in rows_2016.stints if s["team_key"] == "CHN" and s["role"] == "RP"
    )
    cubs_without_chapman = cubs_relief - by_team["CHN"]["war"]
    assert cubs_relief == pytest.approx(cubs_without_chapman + by_team["CHN"]["war"])
    assert 0 < by_team["CHN"]["innings_pitched"] < season["innings_pitched"]
    assert by_team["CHN"]["war"] < season["war"]


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


def test_role_means_give_war_per_pa_and_per_inning_by_role(rows_2016: SeasonRows) -> None:
    means = role_means(
        [
            RoleLine("SS", 4.0, plate_appearances=600),
            RoleLine("DH", -1.0, plate_appearances=400),
            RoleLine("SP", 3.0, innings_pitched=200.0),
            RoleLine("RP", 0.5, innings_pitched=50.0),
        ]
    )
    assert means.hitter_per_pa == pytest.approx(3.0 / 1000)
    assert means.starter_per_ip == pytest.approx(3.0 / 200)
    assert means.reliever_per_ip == pytest.approx(0.5 / 50)
    league = rows_2016.war[2016].role_means()
    # About 570 WAR over the position players' ~180,000 PA; starters above relievers per inning.
    assert 0.0025 < league.hitter_per_pa < 0.0040
    assert league.starter_per_ip > league.reliever_per_ip > 0
