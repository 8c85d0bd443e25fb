"""Player responses: a list row, the detail with its last three seasons, and a page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from app.db.tables.baseball import Player, PlayerSeason
from app.domain.contracts import PlayerContract


def public_salary_source(stored: str | None) -> str | None:
    """The API's word for where a salary comes from: `actual` (a salary the club paid, stored
    as `lahman` after its source) or `estimated` (the model's estimate)."""
    return "actual" if stored == "lahman" else stored


SalarySource = Annotated[
    Literal["actual", "estimated"] | None,
    BeforeValidator(public_salary_source),
    Field(description="`actual`: the salary paid; `estimated`: the model's estimate."),
]


class SeasonStats(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    season: int
    team_key: str
    league: str
    position: str
    age: int | None
    games: int
    plate_appearances: int
    home_runs: int
    stolen_bases: int
    woba: float | None
    batting_runs: float
    innings_pitched: float
    strikeouts: int
    fip: float | None
    war: float
    salary: int | None
    salary_source: SalarySource


class ContractYear(BaseModel):
    season: int
    salary: float | None = Field(
        description="Null for an arbitration year: the award depends on the platform season "
        "(a trade evaluation prices it from the projection)."
    )
    basis: Literal["actual", "estimated", "stated"]
    terms: Literal["guaranteed", "club_option", "pre_arbitration", "arbitration"]
    arbitration_year: int | None = None


class Contract(BaseModel):
    salary: int | None
    salary_source: SalarySource
    service_years: float
    status: str
    years_of_control: int
    kind: Literal["team_control", "extension", "free_agent", "stated", "unknown"] = Field(
        description="Derived from the salary history: renewals and arbitration, an extension, "
        "a free-agent deal, or unknown (no salary this season)."
    )
    signed: int | None = Field(description="First season of the deal (estimated).")
    guaranteed_years_left: int
    years: list[ContractYear] = Field(
        description="This season and every later one the club controls, each salary marked."
    )


class PlayerSummary(BaseModel):
    player_id: str
    name: str
    team_key: str
    position: str
    age: int | None
    bats: str | None
    throws: str | None
    season: int
    war: float
    salary: int | None
    salary_source: SalarySource
    contract_status: str
    years_of_control: int

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> PlayerSummary:
        """From a mapping of the repository's SUMMARY_COLUMNS."""
        return cls(name=row["full_name"], **{k: row[k] for k in SUMMARY_FIELDS})

    @classmethod
    def of(cls, player: Player, season: PlayerSeason) -> PlayerSummary:
        return cls(
            player_id=player.player_id,
            name=player.full_name,
            team_key=season.team_key,
            position=season.position,
            age=season.age,
            bats=player.bats,
            throws=player.throws,
            season=season.season,
            war=season.war,
            salary=season.salary,
            salary_source=season.salary_source,
            contract_status=season.contract_status,
            years_of_control=season.years_of_control,
        )


SUMMARY_FIELDS = tuple(f for f in PlayerSummary.model_fields if f != "name")


class PlayerDetail(BaseModel):
    player_id: str
    name: str
    first_name: str
    last_name: str
    birth_date: date | None
    debut: date | None
    bats: str | None
    throws: str | None
    primary_position: str
    team_key: str
    age: int | None
    contract: Contract
    war_last_three: list[float]
    seasons: list[SeasonStats]

    @classmethod
    def of(
        cls, player: Player, seasons: Sequence[PlayerSeason], contract: PlayerContract
    ) -> PlayerDetail:
        """The player with `seasons` (newest, the served one, first) and his derived contract."""
        current = seasons[0]
        return cls(
            player_id=player.player_id,
            name=player.full_name,
            first_name=player.first_name,
            last_name=player.last_name,
            birth_date=player.birth_date,
            debut=player.debut,
            bats=player.bats,
            throws=player.throws,
            primary_position=player.primary_position,
            team_key=current.team_key,
            age=current.age,
            contract=Contract(
                salary=current.salary,
                salary_source=current.salary_source,
                service_years=current.service_years,
                status=current.contract_status,
                years_of_control=current.years_of_control,
                kind=contract.kind.value,
                signed=contract.signed,
                guaranteed_years_left=contract.guaranteed_years_left,
                years=[
                    ContractYear(
                        season=y.season,
                        salary=y.salary,
                        basis=y.basis.value,
                        terms=y.terms.value,
                        arbitration_year=y.arbitration_year,
                    )
                    for y in contract.years
                ],
            ),
            war_last_three=[s.war for s in seasons],
            seasons=[SeasonStats.model_validate(s) for s in seasons],
        )


class PlayerPage(BaseModel):
    """One page: `items`, their `count`, the `total` over every page, the `next` cursor."""

    items: list[PlayerSummary]
    count: int
    total: int
    next: str | None
