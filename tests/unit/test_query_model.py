"""A query model read by the route (`app.api.query`) answers and documents as declared params."""

from typing import Annotated, Any, Literal

import httpx
import pytest
from fastapi import FastAPI, Query, Request
from pydantic import BaseModel, Field

from app.api.query import parse_query, query_parameters


class Search(BaseModel):
    q: Annotated[str | None, Field(min_length=2, description="Part of the name.")] = None
    kind: Literal["a", "b"] | None = None
    low: Annotated[float | None, Field(ge=-50, le=50)] = None
    order: Annotated[Literal["x", "-x"], Field(description="The order.")] = "-x"
    limit: Annotated[int, Field(ge=1, le=100)] = 25


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/declared")
    async def declared(
        q: Annotated[str | None, Query(min_length=2, description="Part of the name.")] = None,
        kind: Annotated[Literal["a", "b"] | None, Query()] = None,
        low: Annotated[float | None, Query(ge=-50, le=50)] = None,
        order: Annotated[Literal["x", "-x"], Query(description="The order.")] = "-x",
        limit: Annotated[int, Query(ge=1, le=100)] = 25,
    ) -> dict[str, Any]:
        return {"q": q, "kind": kind, "low": low, "order": order, "limit": limit}

    @app.get("/read", openapi_extra={"parameters": query_parameters(Search)})
    async def read(request: Request) -> dict[str, Any]:
        return parse_query(Search, request).model_dump()

    return app


def test_the_document_lists_the_parameters_fastapi_would() -> None:
    paths = _app().openapi()["paths"]
    assert paths["/read"]["get"]["parameters"] == paths["/declared"]["get"]["parameters"]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "q=ab&kind=a&low=-1.5&order=x&limit=7",
        "limit=3&limit=9",  # the last value counts
        "unknown=1",
        "q=a",
        "q=",
        "kind=c&limit=0",
        "low=nan",
        "low=99&limit=abc&order=y",
        "limit=",
    ],
)
async def test_answers_and_errors_are_those_of_declared_parameters(query: str) -> None:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        declared = await client.get(f"/declared?{query}")
        read = await client.get(f"/read?{query}")
    assert read.status_code == declared.status_code
    assert read.json() == declared.json()
