"""Streamed responses: the season's teams as one JSON array, written a team at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from app.db.engine import Database
from app.db.repositories import teams as team_repo
from app.deps import AppResources
from app.schemas.teams import TeamOut

router = APIRouter(prefix="/stream", tags=["stream"])


async def _team_array(db: Database, season: int) -> AsyncIterator[bytes]:
    async with db.read_sessions() as session:
        teams = await team_repo.list_teams(session, season=season)
        yield b"["
        for index, team in enumerate(teams):
            body = TeamOut.model_validate(team).model_dump_json().encode()
            yield (b"," if index else b"") + body
        yield b"]"


@router.get(
    "/teams",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/json": {}}, "description": "A JSON array."}},
    summary="Teams as a streamed JSON array",
)
async def stream_teams(resources: AppResources) -> StreamingResponse:
    return StreamingResponse(
        _team_array(resources.db, resources.settings.DATA_SEASON),
        media_type="application/json",
    )
