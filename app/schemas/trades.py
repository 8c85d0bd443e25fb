"""Trade evaluation and analysis: requests and responses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StrictBool, StringConstraints

from app.security.sanitize import SafeText

TeamKey = Annotated[
    str,
    StringConstraints(min_length=2, max_length=3, pattern=r"^[A-Za-z0-9]+$", to_upper=True),
]
PlayerId = Annotated[str, StringConstraints(min_length=1, max_length=16, pattern=r"^[a-z0-9.']+$")]
Position = Literal["C", "1B", "2B", "3B", "SS", "LF", "CF", "RF", "OF", "DH", "SP", "RP"]
Urgency = Literal["low", "medium", "high", "critical"]
MAX_PLAYERS_PER_SIDE = 10
MAX_CONTRACT_YEARS = 15
Recommendation = Literal["accept", "reject", "negotiate"]
Dollars = Annotated[float, Field(ge=0, le=100_000_000_000, allow_inf_nan=False)]
# Far beyond any payroll, and a finite number every database column can store.
MAX_BUDGET_DOLLARS = 10_000_000_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- synchronous evaluation ----------------------------------------------------------------------
class ContractOverride(_Strict):
    """Contract terms the request states for one player in the trade; they replace the
    derived contract, and each figure is marked `stated`."""

    player_id: PlayerId
    years: int = Field(
        ge=1, le=MAX_CONTRACT_YEARS, description="Guaranteed seasons left, this one included."
    )
    salary: Dollars | None = Field(None, description="Salary of every guaranteed season.")
    salaries: list[Dollars] | None = Field(
        None,
        min_length=1,
        max_length=MAX_CONTRACT_YEARS,
        description="One salary per guaranteed season (instead of `salary`); `years` long.",
    )
    club_options: list[Dollars] = Field(
        default_factory=list,
        max_length=MAX_CONTRACT_YEARS,
        description="Salaries of club-option seasons after the guaranteed ones.",
    )


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
    contract_overrides: list[ContractOverride] = Field(
        default_factory=list,
        max_length=2 * MAX_PLAYERS_PER_SIDE,
        description="Contract terms for players in the trade, used instead of derived ones.",
    )
    context: SafeText | None = Field(None, max_length=500, description="Free-text notes, echoed.")


class ControlYearOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    season: int
    age: int
    projected_war: float
    dollars_per_war: float
    salary: float
    salary_source: str
    basis: Literal["actual", "estimated", "stated"] = Field(
        description="`actual`: Lahman's salary; `estimated`: the contract model's; "
        "`stated`: from the request's contract_overrides."
    )
    terms: Literal["guaranteed", "club_option", "pre_arbitration", "arbitration"]
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
    contract_kind: Literal["team_control", "extension", "free_agent", "stated", "unknown"] = Field(
        description="How the contract was derived: renewals and arbitration, an extension, a "
        "free-agent deal (from the salary history), stated terms, or unknown (no salary)."
    )
    contract_signed: int | None = Field(description="First season of the deal (estimated).")
    years: list[ControlYearOut] = Field(
        description="Each season valued: this one, then the contract's later years."
    )


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
    recommendation: Recommendation = Field(description="What this team (`team`) should do.")
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
    recommendation: Recommendation = Field(
        description="For the deal as proposed, for both teams: `accept` only when both teams "
        "accept, `reject` when either rejects, otherwise `negotiate`."
    )
    value_exchanged: float = Field(
        description="The value changing hands that grades and fairness are judged against: "
        "each side's received WAR value (risk-adjusted), averaged over the two sides."
    )
    salaries_estimated: bool = Field(
        description="True when the season has no salary data: every salary is estimated."
    )
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
    request: SafeText = Field(min_length=10, max_length=2000, description="What the team needs.")
    urgency: Urgency = "medium"
    budget_limit: float | None = Field(
        None,
        gt=0,
        le=MAX_BUDGET_DOLLARS,
        allow_inf_nan=False,
        description="Most salary to add, in dollars.",
    )
    include_prospects: StrictBool = False  # 0 or "yes" is refused, as the schema says
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
    """The one page shape of every list: `items`, `count`, `total` over every analysis, and
    `next` (no later page here)."""

    items: list[AnalysisSummary]
    count: int
    total: int
    next: str | None = None
