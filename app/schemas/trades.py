"""Trade evaluation and analysis: requests and responses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints

TeamKey = Annotated[
    str,
    StringConstraints(min_length=2, max_length=3, pattern=r"^[A-Za-z0-9]+$", to_upper=True),
]
PlayerId = Annotated[str, StringConstraints(min_length=1, max_length=16, pattern=r"^[a-z0-9.']+$")]
Position = Literal["C", "1B", "2B", "3B", "SS", "LF", "CF", "RF", "OF", "DH", "SP", "RP"]
Urgency = Literal["low", "medium", "high", "critical"]
MAX_PLAYERS_PER_SIDE = 10


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- synchronous evaluation ----------------------------------------------------------------------
class TradeEvaluateRequest(_Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "team_a": "NYA",
                    "team_a_receives": ["troutmi01"],
                    "team_b": "LAA",
                    "team_b_receives": ["rodrial01"],
                }
            ]
        },
    )
    team_a: TeamKey = Field(description="Team key of one side, e.g. NYA.")
    team_a_receives: list[PlayerId] = Field(
        min_length=1, max_length=MAX_PLAYERS_PER_SIDE, description="Players team_a gets."
    )
    team_b: TeamKey
    team_b_receives: list[PlayerId] = Field(min_length=1, max_length=MAX_PLAYERS_PER_SIDE)
    context: str | None = Field(None, max_length=500, description="Free-text notes, echoed.")


class ControlYearOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    season: int
    age: int
    projected_war: float
    dollars_per_war: float
    salary: float
    salary_source: str
    surplus: float
    discounted_surplus: float


class PlayerValueOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    player_id: str
    name: str
    team: str
    position: str
    age: int
    surplus_value: float
    war_value: float
    risk: float
    risk_factors: list[str]
    years: list[ControlYearOut]


class PayrollOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    payroll_before: float
    payroll_after: float
    change: float
    luxury_tax_threshold: float
    room_under_threshold: float
    over_threshold: bool
    estimated_tax: float


class TeamAnalysisOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    team: str
    grade: Literal["A", "B", "C", "D", "F"]
    recommendation: Literal["accept", "reject", "negotiate"]
    surplus_in: float
    surplus_out: float
    fit_bonus: float
    net_value: float
    war_change_this_season: float
    war_change_over_control: float
    payroll: PayrollOut
    needs_addressed: list[str]
    received: list[PlayerValueOut]
    given: list[PlayerValueOut]


class TradeEvaluationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    season: int
    team_a: TeamAnalysisOut
    team_b: TeamAnalysisOut
    fairness: int = Field(ge=0, le=100)
    winner: Literal["team_a", "team_b", "even"]
    recommendation: Literal["accept", "reject", "negotiate"]
    risks: list[str]
    narrative: str
    context: str | None = None


# --- asynchronous analysis ----------------------------------------------------------------------
ANALYZE_EXAMPLE: dict[str, JsonValue] = {
    "team": "NYA",
    "request": "A starting pitcher with two years of control",
    "urgency": "high",
    "budget_limit": 20_000_000,
    "preferred_positions": ["SP"],
}


class AnalyzeRequest(_Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [ANALYZE_EXAMPLE]})
    team: TeamKey
    request: str = Field(min_length=10, max_length=2000, description="What the team needs.")
    urgency: Urgency = "medium"
    budget_limit: float | None = Field(None, gt=0, description="Most salary to add, in dollars.")
    include_prospects: bool = False
    max_trade_partners: int = Field(2, ge=1, le=4)
    preferred_positions: list[Position] | None = Field(None, max_length=12)


class AnalyzeBatchRequest(_Strict):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"requests": [ANALYZE_EXAMPLE]}]}
    )
    requests: list[AnalyzeRequest] = Field(min_length=1, max_length=10)


AnalysisState = Literal["queued", "running", "completed", "failed"]


class AnalysisAccepted(BaseModel):
    analysis_id: str
    status: AnalysisState
    coalesced: bool = Field(description="True when an identical analysis was already in flight.")
    status_url: str
    result_url: str


class AnalysisBatchAccepted(BaseModel):
    items: list[AnalysisAccepted]


class AnalysisStatus(BaseModel):
    analysis_id: str
    team: str
    status: AnalysisState
    progress: int = Field(ge=0, le=100)
    stage: str
    urgency: Urgency
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None


class AnalysisOut(AnalysisStatus):
    request: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None


class AnalysisSummary(BaseModel):
    analysis_id: str
    team: str
    status: AnalysisState
    urgency: Urgency
    request: str
    proposals: int | None
    created_at: datetime
    completed_at: datetime | None


class RecentAnalyses(BaseModel):
    """The one page shape of every list: `items`, `count`, and `next` (no later page here)."""

    items: list[AnalysisSummary]
    count: int
    next: str | None = None
