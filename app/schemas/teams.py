"""Team responses: the team, its roster, payroll and needs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

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
    items: list[TeamOut]
    count: int
    next: str | None = None  # every team fits one page; the field keeps one page shape


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
    salary_source: str
    lines: list[PayrollLine]


class PositionNeed(BaseModel):
    position: str
    team_war: float
    league_average_war: float
    gap: float
    rank: int


class TeamNeeds(BaseModel):
    team_key: str
    season: int
    needs: list[PositionNeed]
    strengths: list[PositionNeed]
