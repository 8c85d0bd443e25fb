"""Teams of the served season: list, one team, its roster, needs and payroll (all cached)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.caching import CachedReadRoute, HitKey, cached_read, serves_hits
from app.db.repositories import players as player_repo
from app.db.repositories import teams as team_repo
from app.db.tables.baseball import Team
from app.deps import AppResources
from app.domain.team_needs import team_needs
from app.errors import NotFound
from app.resources import Resources
from app.schemas.players import PlayerSummary
from app.schemas.teams import (
    Payroll,
    PayrollLine,
    PositionNeed,
    Roster,
    TeamList,
    TeamNeeds,
    TeamOut,
)

router = APIRouter(prefix="/teams", tags=["teams"], route_class=CachedReadRoute)

TeamKey = Annotated[
    str, Path(min_length=2, max_length=3, pattern=r"^[A-Za-z0-9]+$", description="e.g. NYA")
]


def _cache_key(kind: str, season: int, team_key: str) -> str:
    return f"{kind}:{season}:{team_key.upper()}"


def _hit_key(kind: str) -> HitKey:
    """The cache key of a `kind` read, for a team key that `TeamKey` plainly accepts."""

    def key(season: int, path_params: Mapping[str, Any]) -> str | None:
        team_key: str = path_params["team_key"]
        if 2 <= len(team_key) <= 3 and team_key.isascii() and team_key.isalnum():
            return _cache_key(kind, season, team_key)
        return None

    return key


async def _team(session: AsyncSession, season: int, team_key: str) -> Team:
    team = await team_repo.get_team(session, season=season, team_key=team_key)
    if team is None:
        # People write franchise codes (NYY); Lahman keys the season's team (NYA): point to it.
        keys = await franchise_team_keys(session, season, team_key)
        hint = f"; {team_key.upper()} is the franchise of team {keys[0]}" if keys else ""
        raise NotFound(f"no team {team_key.upper()!r} in season {season}{hint}")
    return team


async def franchise_team_keys(session: AsyncSession, season: int, code: str) -> list[str]:
    """The season's team keys of franchise `code` (NYY -> [NYA]); empty when none."""
    teams = await team_repo.list_teams(session, season=season)
    return [t.team_key for t in teams if t.franchise.upper() == code.upper()]


TeamRead = Callable[[AsyncSession, Team, int], Awaitable[BaseModel]]


async def _team_read(
    request: Request, resources: Resources, kind: str, team_key: str, read: TeamRead
) -> Response:
    """The cached answer `read(session, team, season)` for the served season's team."""
    season = resources.settings.DATA_SEASON

    async def produce(session: AsyncSession) -> BaseModel:
        return await read(session, await _team(session, season, team_key), season)

    return await cached_read(request, resources, _cache_key(kind, season, team_key), produce)


@router.get("", response_model=TeamList, summary="Teams of the season")
async def list_teams(
    request: Request,
    resources: AppResources,
    league: Annotated[Literal["AL", "NL"] | None, Query()] = None,
    division: Annotated[Literal["E", "C", "W"] | None, Query()] = None,
) -> Response:
    season = resources.settings.DATA_SEASON

    async def produce(session: AsyncSession) -> TeamList:
        teams = await team_repo.list_teams(session, season=season, league=league, division=division)
        items = [TeamOut.model_validate(t) for t in teams]
        return TeamList(items=items, count=len(items), total=len(items))

    key = f"teams:{season}:{league or '*'}:{division or '*'}"
    return await cached_read(request, resources, key, produce)


async def _team_out(session: AsyncSession, team: Team, season: int) -> TeamOut:
    return TeamOut.model_validate(team)


async def _roster(session: AsyncSession, team: Team, season: int) -> Roster:
    rows = await player_repo.team_roster(session, season=season, team_key=team.team_key)
    players = [PlayerSummary.of(p, s) for p, s in rows]
    return Roster(
        team=TeamOut.model_validate(team),
        players=players,
        total_war=round(sum(p.war for p in players), 2),
    )


async def _needs(session: AsyncSession, team: Team, season: int) -> TeamNeeds:
    found = team_needs(team.team_key, await team_repo.war_by_position(session, season=season))
    return TeamNeeds(
        team_key=team.team_key,
        season=season,
        needs=[PositionNeed.of(g) for g in found.needs],
        strengths=[PositionNeed.of(g) for g in found.strengths],
    )


async def _payroll(session: AsyncSession, team: Team, season: int) -> Payroll:
    rows = await team_repo.team_payroll(session, season=season, team_key=team.team_key)
    estimated = await player_repo.salaries_estimated(session, season=season)
    lines = [PayrollLine(player_id=p.player_id, name=p.full_name, salary=a) for p, a in rows]
    return Payroll(
        team_key=team.team_key,
        season=season,
        total=sum(line.salary for line in lines),
        player_count=len(lines),
        salary_source="estimated" if estimated else "actual",
        lines=lines,
    )


@router.get("/{team_key}", response_model=TeamOut, summary="One team")
@serves_hits(_hit_key("team"))
async def get_team(request: Request, resources: AppResources, team_key: TeamKey) -> Response:
    return await _team_read(request, resources, "team", team_key, _team_out)


@router.get("/{team_key}/roster", response_model=Roster, summary="The team's players")
@serves_hits(_hit_key("roster"))
async def roster(request: Request, resources: AppResources, team_key: TeamKey) -> Response:
    return await _team_read(request, resources, "roster", team_key, _roster)


@router.get("/{team_key}/needs", response_model=TeamNeeds, summary="Weakest positions")
@serves_hits(_hit_key("needs"))
async def needs(request: Request, resources: AppResources, team_key: TeamKey) -> Response:
    return await _team_read(request, resources, "needs", team_key, _needs)


@router.get("/{team_key}/payroll", response_model=Payroll, summary="Salaries paid")
@serves_hits(_hit_key("payroll"))
async def payroll(request: Request, resources: AppResources, team_key: TeamKey) -> Response:
    return await _team_read(request, resources, "payroll", team_key, _payroll)
