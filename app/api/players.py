"""Players of the served season: search with keyset pagination, detail, NDJSON export."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from app.api import header
from app.api.caching import CachedReadRoute, cached_read, serves_hits
from app.api.pagination import cursor_key, decode_cursor, encode_cursor, fingerprint
from app.api.query import parse_query, query_parameters
from app.api.teams import franchise_team_keys
from app.db.engine import Database
from app.db.repositories import players as repo
from app.db.repositories.players import Keyset, PlayerFilter
from app.deps import AppResources
from app.domain.contracts import derive_contract
from app.errors import NotFound
from app.schemas.players import PlayerDetail, PlayerPage, PlayerSummary
from app.services.player_search import page_json

router = APIRouter(prefix="/players", tags=["players"], route_class=CachedReadRoute)

# SP and RP match pitchers by role, the split the team-needs route uses.
Position = Literal["P", "SP", "RP", "C", "1B", "2B", "3B", "SS", "LF", "CF", "RF", "DH"]
Sort = Literal["war", "-war", "salary", "-salary", "name", "-name", "age", "-age"]
NDJSON = "application/x-ndjson"
MAX_BIGINT = 2**63 - 1
EXPORT_CHUNK_ROWS = 100


class PlayerQuery(BaseModel):
    """The search's query parameters (read by `parse_query`: see `app.api.query`)."""

    q: Annotated[
        str | None,
        # No control characters: PostgreSQL text cannot hold NUL, and no name has one.
        Field(
            min_length=2,
            max_length=64,
            pattern=r"^[^\x00-\x1f\x7f]+$",
            description="Part of the name.",
        ),
    ] = None
    position: Position | None = None
    team: Annotated[str | None, Field(min_length=2, max_length=3, pattern=r"^[A-Za-z0-9]+$")] = None
    min_war: Annotated[float | None, Field(ge=-50, le=50)] = None
    # A BIGINT column: anything past it is refused (422), not sent to the database.
    max_salary: Annotated[int | None, Field(ge=0, le=MAX_BIGINT)] = None
    sort: Annotated[Sort, Field(description="Field, `-` first for descending.")] = "-war"
    limit: Annotated[int, Field(ge=1, le=100)] = 25
    cursor: Annotated[str | None, Field(max_length=1024)] = None


@router.get(
    "",
    response_model=PlayerPage,
    summary="Search players",
    openapi_extra={"parameters": query_parameters(PlayerQuery)},
)
async def list_players(
    request: Request, response: Response, resources: AppResources
) -> PlayerPage | Response:
    """A page of the served season's players (from memory; see `app.services.player_search`)."""
    query = parse_query(PlayerQuery, request)
    sort, limit, cursor, team = query.sort, query.limit, query.cursor, query.team
    settings = resources.settings
    filters = PlayerFilter(
        season=settings.DATA_SEASON,
        q=query.q,
        position=query.position,
        team=team.upper() if team else None,
        min_war=query.min_war,
        max_salary=query.max_salary,
    )
    key = cursor_key(settings.JWT_SECRET_KEY.get_secret_value())
    filter_print = _fingerprint(filters)
    after = decode_cursor(key, cursor, sort=sort, filters=filter_print) if cursor else None
    search = resources.player_search
    if search is None:  # ENABLE_CACHING=false: every page from the database
        found = await _page_from_database(resources.db, filters, sort, limit, after, key)
        _link_next(request, response, found.next)
        return found
    season = await search.season(settings.DATA_SEASON)
    rows = season.search(filters, sort=sort, limit=limit + 1, after=after)
    if not rows and filters.team:
        # `team=NYY` (a franchise code) finds the season's team of that franchise (NYA); tried
        # only when the code matched no team key, so the common request pays nothing for it.
        async with resources.db.read_sessions() as session:
            keys = await franchise_team_keys(session, settings.DATA_SEASON, filters.team)
        if keys:
            filters = replace(filters, team=keys[0])
            rows = season.search(filters, sort=sort, limit=limit + 1, after=after)
    page, next_cursor = rows[:limit], None
    if len(rows) > limit:
        last = page[-1]
        keyset = Keyset(last.sort_value(sort), last.player_id)
        next_cursor = _cursor(key, sort, filter_print, keyset)
    body = page_json(page, next_cursor, season.total(filters))
    answer = Response(body, media_type="application/json")
    _link_next(request, answer, next_cursor)
    return answer


def _link_next(request: Request, response: Response, next_cursor: str | None) -> None:
    """RFC 8288: the next page as a `Link` header, for clients that follow links, not bodies."""
    if next_cursor is None:
        return
    # Rewriting the query string costs more than finding the page, and the same pages are
    # asked for again and again: each link is kept, under what `request.url` is made of.
    scope = request.scope
    where = (
        scope.get("scheme"),
        tuple(scope.get("server") or ()),  # a list from some servers: not hashable
        header(scope, b"host"),
        scope["path"],
        scope.get("query_string"),
    )
    link = _next_links.get((where, next_cursor))
    if link is None:
        if len(_next_links) >= MAX_NEXT_LINKS:
            _next_links.clear()
        next_url = request.url.include_query_params(cursor=next_cursor)
        link = _next_links[where, next_cursor] = f'<{next_url}>; rel="next"'
    response.headers["Link"] = link


MAX_NEXT_LINKS = 1024
"""Fewer than the cursors kept: a URL can be a few kilobytes long."""
_next_links: dict[tuple[tuple[Any, ...], str], str] = {}


# The same searches come again and again: their fingerprints and next cursors are derived once.
@functools.lru_cache(maxsize=4096)
def _fingerprint(filters: PlayerFilter) -> str:
    return fingerprint(**filters.__dict__)


@functools.lru_cache(maxsize=4096)
def _cursor(key: bytes, sort: str, filter_print: str, keyset: Keyset) -> str:
    return encode_cursor(key, sort=sort, filters=filter_print, keyset=keyset)


async def _page_from_database(
    db: Database, filters: PlayerFilter, sort: str, limit: int, after: Keyset | None, key: bytes
) -> PlayerPage:
    async with db.read_sessions() as session:
        rows = await repo.search_player_summaries(
            session, filters, sort=sort, limit=limit + 1, after=after
        )
        if not rows and filters.team:
            filters = await _franchise_filters(session, filters)
            rows = await repo.search_player_summaries(
                session, filters, sort=sort, limit=limit + 1, after=after
            )
        total = await repo.count_player_summaries(session, filters)
    page, more = rows[:limit], len(rows) > limit
    next_cursor = None
    if more:
        last = page[-1]
        keyset = Keyset(repo.summary_sort_value(last, sort), last["player_id"])
        filter_print = fingerprint(**filters.__dict__)
        next_cursor = encode_cursor(key, sort=sort, filters=filter_print, keyset=keyset)
    items = [PlayerSummary.from_row(row) for row in page]
    return PlayerPage(items=items, count=len(items), total=total, next=next_cursor)


async def _franchise_filters(session: AsyncSession, filters: PlayerFilter) -> PlayerFilter:
    # `team=NYY` (a franchise code) finds the season's team of that franchise (NYA). Tried only
    # when the code matched no team key, so the common request pays nothing for it.
    keys = await franchise_team_keys(session, filters.season, filters.team or "")
    return replace(filters, team=keys[0]) if keys else filters


async def _export_lines(db: Database, season: int) -> AsyncIterator[bytes]:
    # The stream opens its own session: it outlives the request's dependencies.
    async with db.read_sessions() as session:
        chunk: list[bytes] = []
        async for player, player_season in repo.stream_players(session, season=season):
            chunk.append(PlayerSummary.of(player, player_season).model_dump_json().encode())
            if len(chunk) >= EXPORT_CHUNK_ROWS:
                yield b"\n".join(chunk) + b"\n"
                chunk.clear()
        if chunk:
            yield b"\n".join(chunk) + b"\n"


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={200: {"content": {NDJSON: {}}, "description": "One player per line."}},
    summary="Every player as NDJSON",
)
async def export_players(resources: AppResources) -> StreamingResponse:
    """Streamed from the database a batch at a time, so memory stays flat."""
    return StreamingResponse(
        _export_lines(resources.db, resources.settings.DATA_SEASON),
        media_type=NDJSON,
        headers={"Cache-Control": "no-store"},
    )


_PLAYER_ID_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789.'-"


def _cache_key(season: int, player_id: str) -> str:
    return f"player:{season}:{player_id}"


def _hit_key(season: int, path_params: Mapping[str, Any]) -> str | None:
    """The cache key of a player read, for an id that `get_player` plainly accepts."""
    player_id: str = path_params["player_id"]
    if 1 <= len(player_id) <= 16 and not player_id.strip(_PLAYER_ID_CHARACTERS):
        return _cache_key(season, player_id)
    return None


@router.get("/{player_id}", response_model=PlayerDetail, summary="One player, last three seasons")
@serves_hits(_hit_key)
async def get_player(
    request: Request,
    resources: AppResources,
    player_id: Annotated[str, Path(min_length=1, max_length=16, pattern=r"^[a-z0-9.'-]+$")],
) -> Response:
    season = resources.settings.DATA_SEASON

    async def produce(session: AsyncSession) -> PlayerDetail:
        player = await repo.get_player(session, player_id)
        seasons = await repo.player_seasons(session, player_id, through=season) if player else []
        if player is None or not seasons or seasons[0].season != season:
            raise NotFound(f"no player {player_id!r} in season {season}")
        current = seasons[0]
        history = await repo.salary_history(session, player_id, data_season=season)
        contract = derive_contract(
            season=season,
            age=current.age or 28,
            team=current.team_key,
            service_through=current.service_years,
            # an estimated salary (a season without salary data) is no contract
            salary=(
                float(current.salary)
                if current.salary is not None and current.salary_source != "estimated"
                else None
            ),
            history=history,
        )
        return PlayerDetail.of(player, seasons, contract)

    return await cached_read(request, resources, _cache_key(season, player_id), produce)
