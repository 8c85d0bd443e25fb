"""A team's needs: its WAR at each position against the league's average team.

gap = team WAR at the position - mean WAR at that position over all teams. Positions are
ranked from the largest shortfall; the ones below average are needs, the rest strengths.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

NEED_POSITIONS = ("C", "1B", "2B", "3B", "SS", "LF", "CF", "RF", "DH", "SP", "RP")


@dataclass(frozen=True)
class PositionGap:
    position: str
    team_war: float
    league_average_war: float
    rank: int

    @property
    def gap(self) -> float:
        return self.team_war - self.league_average_war


def rank_positions(
    team_key: str, war_by_team: Mapping[str, Mapping[str, float]]
) -> list[PositionGap]:
    """Every position of `team_key`, weakest against the league first."""
    teams = max(len(war_by_team), 1)
    averages = {
        pos: sum(team.get(pos, 0.0) for team in war_by_team.values()) / teams
        for pos in NEED_POSITIONS
    }
    own = war_by_team.get(team_key, {})
    ordered = sorted(NEED_POSITIONS, key=lambda pos: (own.get(pos, 0.0) - averages[pos], pos))
    return [
        PositionGap(pos, round(own.get(pos, 0.0), 2), round(averages[pos], 2), rank)
        for rank, pos in enumerate(ordered, start=1)
    ]
