"""Team responses: the team, its roster, payroll and needs."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.domain.team_needs import PositionGap
from app.schemas.players import PlayerSummary


class TeamOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    team_key: str
    season: int
    name: str
    franchise: str
    league: str
    division: str | None
    wins: int
    losses: int
    runs_scored: int
    runs_allowed: int
    park: str | None


class TeamList(BaseModel):
    """One page shape: `items`, `count`, `total` and `next` (every team fits one page)."""

    items: list[TeamOut]
    count: int
    total: int
    next: str | None = None


class Roster(BaseModel):
    team: TeamOut
    players: list[PlayerSummary]
    total_war: float


class PayrollLine(BaseModel):
    player_id: str
    name: str
    salary: int


class Payroll(BaseModel):
    team_key: str
    season: int
    total: int
    player_count: int
    salary_source: Literal["actual", "estimated"] = Field(
        description="`actual`: the salaries paid; `estimated`: the model's estimates."
    )
    lines: list[PayrollLine]


class PositionNeed(BaseModel):
    position: str
    team_war: float
    league_average_war: float
    gap: float
    rank: int

    @classmethod
    def of(cls, gap: PositionGap) -> PositionNeed:
        return cls(
            position=gap.position,
            team_war=gap.team_war,
            league_average_war=gap.league_average_war,
            gap=round(gap.gap, 2),
            rank=gap.rank,
        )


class TeamNeeds(BaseModel):
    team_key: str
    season: int
    needs: list[PositionNeed]
    strengths: list[PositionNeed]
