"""A team's needs: its WAR at each position against the league's average team.

gap = team WAR at the position - mean WAR at that position over the teams that field it.
Positions are ranked from the largest shortfall; the ones below average are needs, the rest
strengths. A team's table lists the positions its league fields that season, so a league
where the pitcher bats has no DH to need.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.domain.war import uses_dh

NEED_POSITIONS = ("C", "1B", "2B", "3B", "SS", "LF", "CF", "RF", "DH", "SP", "RP")


def need_positions(league: str, season: int) -> tuple[str, ...]:
    """The positions a team of `league` fields in `season`: DH only where the DH is played."""
    if uses_dh(league, season):
        return NEED_POSITIONS
    return tuple(pos for pos in NEED_POSITIONS if pos != "DH")


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
    """Every position `team_key` fields, weakest against the league first.

    A team's entry in `war_by_team` names the positions it fields (see `need_positions`);
    each position is averaged over the teams that field it.
    """
    own = war_by_team.get(team_key, {})
    positions = [pos for pos in NEED_POSITIONS if pos in own] or list(NEED_POSITIONS)
    averages = {}
    for pos in positions:
        fielding = [team[pos] for team in war_by_team.values() if pos in team]
        averages[pos] = sum(fielding) / len(fielding) if fielding else 0.0
    ordered = sorted(positions, key=lambda pos: (own.get(pos, 0.0) - averages[pos], pos))
    return [
        PositionGap(pos, round(own.get(pos, 0.0), 2), round(averages[pos], 2), rank)
        for rank, pos in enumerate(ordered, start=1)
    ]


@dataclass(frozen=True)
class TeamNeeds:
    """A team's positions split in two, each weakest against the league first."""

    needs: list[PositionGap]
    """Below the league average."""
    strengths: list[PositionGap]
    """At or above it."""


def team_needs(team_key: str, war_by_team: Mapping[str, Mapping[str, float]]) -> TeamNeeds:
    """`rank_positions` split into needs (a shortfall) and strengths (none)."""
    ranked = rank_positions(team_key, war_by_team)
    return TeamNeeds(
        needs=[g for g in ranked if g.gap < 0], strengths=[g for g in ranked if g.gap >= 0]
    )
