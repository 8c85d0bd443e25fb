"""A cached read's hit, answered by its route, is the answer the endpoint gives: same status,
headers and bytes; validation, rate limiting and 304 still apply (SQLite and PostgreSQL)."""

from __future__ import annotations

import httpx
import pytest

from tests.support.api_client import fixture_client  # noqa: F401  (the fixture `client`)
from tests.support.metrics import sample

pytestmark = pytest.mark.asyncio(loop_scope="module")

# Headers that differ between any two responses; the rate limit's count goes down by one.
PER_RESPONSE = {"x-request-id", "traceparent", "ratelimit-remaining", "ratelimit-reset"}


def _lasting(response: httpx.Response) -> list[tuple[str, str]]:
    return [(k, v) for k, v in response.headers.multi_items() if k not in PER_RESPONSE]


@pytest.mark.parametrize(
    ("first", "again"),
    [
        *[(f"/api/v1/teams/BOS{r}", f"/api/v1/teams/bos{r}") for r in ("", "/roster", "/needs")],
        ("/api/v1/teams/BOS/payroll", "/api/v1/teams/BOS/payroll"),
        ("/api/v1/players/troutmi01", "/api/v1/players/troutmi01"),
    ],
)
async def test_a_hit_has_the_status_headers_and_bytes_of_the_miss(
    client: httpx.AsyncClient, first: str, again: str
) -> None:
    miss = await client.get(first)
    hits_before = sample("cache_requests_total", result="hit")
    hit = await client.get(again)  # a team's key is case-insensitive
    assert sample("cache_requests_total", result="hit") == hits_before + 1
    assert (miss.status_code, hit.status_code) == (200, 200)
    assert hit.content == miss.content
    assert miss.headers["x-cache"] == "miss"
    assert hit.headers["x-cache"] == "hit"
    expected = [(k, "hit" if k == "x-cache" else v) for k, v in _lasting(miss)]
    assert _lasting(hit) == expected
    assert int(hit.headers["ratelimit-remaining"]) < int(miss.headers["ratelimit-remaining"])


async def test_a_hit_is_not_modified_for_a_client_that_has_it(client: httpx.AsyncClient) -> None:
    etag = (await client.get("/api/v1/teams/SEA")).headers["etag"]
    for sent in (etag, f'"other", W/{etag}', "*"):
        response = await client.get("/api/v1/teams/SEA", headers={"If-None-Match": sent})
        assert response.status_code == 304, sent
        assert response.content == b""
        assert response.headers["etag"] == etag
        assert response.headers["x-cache"] == "hit"
        assert "content-length" not in response.headers or response.headers["content-length"] == "0"
    changed = await client.get("/api/v1/teams/SEA", headers={"If-None-Match": '"other"'})
    assert changed.status_code == 200
    head = await client.head("/api/v1/teams/SEA")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == etag


@pytest.mark.parametrize(
    ("path", "field"),
    [
        *[(f"/api/v1/teams/{key}", "path.team_key") for key in ("N-Y", "NYAX", "N", "NY%0A")],
        *[(f"/api/v1/players/{pid}", "path.player_id") for pid in ("Troutmi01", "trout_mi01")],
        ("/api/v1/players/troutmi01troutmi01", "path.player_id"),
    ],
)
async def test_a_key_the_route_refuses_is_a_problem_even_beside_a_held_entry(
    client: httpx.AsyncClient, path: str, field: str
) -> None:
    assert (await client.get("/api/v1/teams/NYA")).status_code == 200
    assert (await client.get("/api/v1/players/troutmi01")).status_code == 200
    response = await client.get(path)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {e["field"] for e in response.json()["errors"]}


async def test_other_methods_on_a_cached_read_are_not_allowed(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/teams/NYA")).status_code == 200
    response = await client.post("/api/v1/teams/NYA")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
