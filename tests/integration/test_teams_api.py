"""The teams/players/stream API on the seeded 2016 season, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from collections import defaultdict

import httpx
import pytest

from app.data.loader import load_extract
from tests.support.api_client import fixture_client  # noqa: F401  (the fixture `client`)
from tests.support.metrics import sample

# Every test here only reads, so one app per database serves the whole module.
pytestmark = pytest.mark.asyncio(loop_scope="module")


def lahman_payrolls() -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for row in load_extract(2016).table("salaries").records():
        totals[row["teamID"]] += int(row["salary"])
    return dict(totals)


async def test_thirty_teams_filtered_by_league_and_division(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/teams")).json()
    assert body["count"] == 30
    assert len({t["team_key"] for t in body["items"]}) == 30
    al_east = (await client.get("/api/v1/teams", params={"league": "AL", "division": "E"})).json()
    assert {t["team_key"] for t in al_east["items"]} == {"BAL", "BOS", "NYA", "TBA", "TOR"}
    streamed = await client.get("/api/v1/stream/teams")
    assert streamed.headers["content-type"].startswith("application/json")
    assert [t["team_key"] for t in streamed.json()] == [t["team_key"] for t in body["items"]]


async def test_team_reads_are_cached_with_etag_and_304(client: httpx.AsyncClient) -> None:
    hits_before = sample("cache_requests_total", result="hit")
    first = await client.get("/api/v1/teams/nya")
    assert first.status_code == 200
    assert first.json()["name"] == "New York Yankees"
    assert first.headers["x-cache"] == "miss"
    second = await client.get("/api/v1/teams/NYA")
    assert second.headers["x-cache"] == "hit"
    assert second.content == first.content
    assert sample("cache_requests_total", result="hit") == hits_before + 1
    assert "max-age=" in second.headers["cache-control"]
    etag = second.headers["etag"]
    not_modified = await client.get("/api/v1/teams/NYA", headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["etag"] == etag


async def test_every_payroll_equals_the_lahman_salary_sum(client: httpx.AsyncClient) -> None:
    expected = lahman_payrolls()
    assert len(expected) == 30
    for team_key, total in expected.items():
        body = (await client.get(f"/api/v1/teams/{team_key}/payroll")).json()
        assert body["total"] == total, team_key
        assert sum(line["salary"] for line in body["lines"]) == total


async def test_roster_and_needs(client: httpx.AsyncClient) -> None:
    roster = (await client.get("/api/v1/teams/LAA/roster")).json()
    ids = [p["player_id"] for p in roster["players"]]
    assert ids[0] == "troutmi01"  # the best player on the Angels
    needs = (await client.get("/api/v1/teams/LAA/needs")).json()
    ranked = needs["needs"] + needs["strengths"]
    assert [n["rank"] for n in ranked] == list(range(1, len(ranked) + 1))
    assert all(n["gap"] < 0 for n in needs["needs"])
    assert "CF" in {n["position"] for n in needs["strengths"]}


async def test_trout_is_a_top_three_hitter_with_three_seasons(client: httpx.AsyncClient) -> None:
    hitters = []
    page = (await client.get("/api/v1/players", params={"limit": 10})).json()
    hitters = [p["player_id"] for p in page["items"] if p["position"] != "P"]
    assert "troutmi01" in hitters[:3]
    trout = (await client.get("/api/v1/players/troutmi01")).json()
    assert trout["team_key"] == "LAA"
    assert [s["season"] for s in trout["seasons"]] == [2016, 2015, 2014]
    assert len(trout["war_last_three"]) == 3
    assert trout["contract"]["salary"] == 16_083_333
    assert trout["contract"]["status"] == "arbitration"


async def test_filters_combine(client: httpx.AsyncClient) -> None:
    params = {"position": "SS", "min_war": 2, "max_salary": 1_000_000, "limit": 100}
    items = (await client.get("/api/v1/players", params=params)).json()["items"]
    assert items
    for p in items:
        assert p["position"] == "SS"
        assert p["war"] >= 2
        assert p["salary"] is not None
        assert p["salary"] <= 1_000_000
    named = (await client.get("/api/v1/players", params={"q": "trou"})).json()["items"]
    assert "troutmi01" in {p["player_id"] for p in named}
    yankees = (await client.get("/api/v1/players", params={"team": "nya", "limit": 100})).json()
    assert {p["team_key"] for p in yankees["items"]} == {"NYA"}


@pytest.mark.parametrize("sort", ["-war", "name", "-salary", "age"])
async def test_keyset_pages_cover_every_row_once(client: httpx.AsyncClient, sort: str) -> None:
    params: dict[str, str | int] = {"position": "C", "min_war": 0, "sort": sort, "limit": 7}
    seen: list[str] = []
    cursor = None
    while True:
        page_params = {**params, **({"cursor": cursor} if cursor else {})}
        body = (await client.get("/api/v1/players", params=page_params)).json()
        seen += [p["player_id"] for p in body["items"]]
        cursor = body["next"]
        if cursor is None:
            break
    everything = await client.get("/api/v1/players", params={**params, "limit": 100})
    assert seen == [p["player_id"] for p in everything.json()["items"]]
    assert len(seen) == len(set(seen)) > 7


async def test_export_streams_every_player_as_ndjson(client: httpx.AsyncClient) -> None:
    async with client.stream("GET", "/api/v1/players/export") as response:
        assert response.headers["content-type"].startswith("application/x-ndjson")
        lines = [json.loads(line) async for line in response.aiter_lines() if line]
    players_2016 = {
        r["playerID"]
        for r in load_extract(2016).table("appearances").records()
        if r["yearID"] == 2016
    }
    exported = {p["player_id"] for p in lines}
    assert len(exported) == len(lines)
    assert players_2016 <= exported


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/api/v1/teams/XYZ", 404, None),
        ("/api/v1/teams/XYZ/payroll", 404, None),
        ("/api/v1/players/nobodyxx01", 404, None),
        ("/api/v1/players?limit=0", 422, "query.limit"),
        ("/api/v1/players?limit=1000", 422, "query.limit"),
        ("/api/v1/players?q=a", 422, "query.q"),
        ("/api/v1/players?min_war=abc", 422, "query.min_war"),
        ("/api/v1/players?cursor=not-a-cursor", 422, "query.cursor"),
        ("/api/v1/players?sort=height", 422, "query.sort"),
        ("/api/v1/teams?league=XL", 422, "query.league"),
    ],
)
async def test_bad_input_is_problem_json(
    client: httpx.AsyncClient, path: str, status: int, field: str | None
) -> None:
    response = await client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    if field:
        assert field in {e["field"] for e in body["errors"]}


async def test_tampered_or_foreign_cursor_is_refused(client: httpx.AsyncClient) -> None:
    first = (await client.get("/api/v1/players", params={"limit": 2, "sort": "name"})).json()
    cursor = first["next"]
    payload, signature = cursor.split(".")
    import base64

    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["id"] = "aaaaaaaa01"
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    for bad, sort in ((f"{forged}.{signature}", "name"), (cursor, "-war")):
        response = await client.get(
            "/api/v1/players", params={"limit": 2, "sort": sort, "cursor": bad}
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "query.cursor"
    ok = await client.get("/api/v1/players", params={"limit": 2, "sort": "name", "cursor": cursor})
    assert ok.status_code == 200
