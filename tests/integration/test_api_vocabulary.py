"""One vocabulary across routes: counts are `*_count`, one page shape with a Link header,
franchise codes found or pointed to."""

from collections.abc import AsyncIterator, Callable

import httpx
import pytest_asyncio

from app.main import create_app
from app.settings import Settings


@pytest_asyncio.fixture
async def client(
    seeded_sqlite_url: str, make_settings: Callable[..., Settings]
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(DATABASE_URL=seeded_sqlite_url, RATE_LIMIT_ENABLED=False)
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        yield c


async def test_payroll_counts_players_as_player_count(client: httpx.AsyncClient) -> None:
    payroll = (await client.get("/api/v1/teams/NYA/payroll")).json()
    assert payroll["player_count"] == len(payroll["lines"]) > 0
    assert "players" not in payroll
    roster = (await client.get("/api/v1/teams/NYA/roster")).json()
    assert isinstance(roster["players"], list)


async def test_every_list_has_items_count_and_next(client: httpx.AsyncClient) -> None:
    for path in ("/api/v1/teams", "/api/v1/players?limit=5", "/api/v1/trades/recent"):
        body = (await client.get(path)).json()
        assert {"items", "count", "next"} <= set(body), path
        assert body["count"] == len(body["items"]), path


async def test_next_page_is_also_a_link_header(client: httpx.AsyncClient) -> None:
    first = await client.get("/api/v1/players", params={"limit": 5, "sort": "name"})
    link = first.headers["link"]
    assert link.endswith('>; rel="next"')
    target = link[1 : link.index(">")]
    second = (await client.get(target)).json()
    assert second["items"][0]["player_id"] not in {p["player_id"] for p in first.json()["items"]}
    last = await client.get("/api/v1/players", params={"team": "NYA", "limit": 100})
    assert last.json()["next"] is None
    assert "link" not in last.headers


async def test_each_link_header_names_the_host_and_query_asked(client: httpx.AsyncClient) -> None:
    # The same page asked for through two hosts, then with a second parameter: each link
    # is the URL asked for with its own cursor, never one made for another request.
    links = [
        (await client.get("/api/v1/players?limit=5", headers={"host": host})).headers["link"]
        for host in ("a.example", "b.example:8443", "a.example")
    ]
    assert links[0].startswith("<http://a.example/api/v1/players?limit=5&cursor=")
    assert links[1].startswith("<http://b.example:8443/api/v1/players?limit=5&cursor=")
    assert links[2] == links[0]
    by_name = await client.get("/api/v1/players?limit=5&sort=name", headers={"host": "a.example"})
    assert by_name.headers["link"].startswith(
        "<http://a.example/api/v1/players?limit=5&sort=name&cursor="
    )
    assert by_name.headers["link"] != links[0]


async def test_franchise_code_finds_the_team_or_points_to_it(client: httpx.AsyncClient) -> None:
    by_franchise = (await client.get("/api/v1/players", params={"team": "NYY"})).json()
    by_key = (await client.get("/api/v1/players", params={"team": "NYA"})).json()
    assert by_franchise["items"]
    assert by_franchise["items"] == by_key["items"]
    missing = await client.get("/api/v1/teams/NYY")
    assert missing.status_code == 404
    assert "franchise of team NYA" in missing.json()["detail"]


async def test_pages_carry_their_total(client: httpx.AsyncClient) -> None:
    teams = (await client.get("/api/v1/teams")).json()
    assert teams["total"] == teams["count"] == 30
    recent = (await client.get("/api/v1/trades/recent")).json()
    assert recent["total"] >= recent["count"]
    first = (await client.get("/api/v1/players", params={"position": "SS", "limit": 5})).json()
    every: list[str] = []
    cursor = None
    while True:
        params = {"position": "SS", "limit": 100, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/players", params=params)).json()
        every += [p["player_id"] for p in page["items"]]
        if (cursor := page["next"]) is None:
            break
    assert first["count"] == 5
    assert first["total"] == len(every) == page["total"]


async def test_sp_and_rp_filter_pitchers_by_the_needs_role(client: httpx.AsyncClient) -> None:
    found = {}
    for role in ("SP", "RP", "P"):
        page = (await client.get("/api/v1/players", params={"position": role})).json()
        assert page["items"], role
        assert {p["position"] for p in page["items"]} == {"P"}, role
        found[role] = page["total"]
    assert found["SP"] + found["RP"] == found["P"]
    needs = (await client.get("/api/v1/teams/NYA/needs")).json()
    assert {"SP", "RP"} <= {n["position"] for n in needs["needs"] + needs["strengths"]}


async def test_unknown_salaries_sort_last_both_ways(client: httpx.AsyncClient) -> None:
    for sort in ("salary", "-salary"):
        salaries = []
        cursor = None
        while True:
            params = {"sort": sort, "limit": 100, **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/api/v1/players", params=params)).json()
            salaries += [p["salary"] for p in page["items"]]
            if (cursor := page["next"]) is None:
                break
        known = [s for s in salaries if s is not None]
        assert None in salaries, sort
        assert salaries == known + [None] * (len(salaries) - len(known)), sort
        assert known == sorted(known, reverse=sort.startswith("-")), sort


async def test_salary_source_is_actual_or_estimated_everywhere(client: httpx.AsyncClient) -> None:
    page = (await client.get("/api/v1/players", params={"team": "NYA", "limit": 100})).json()
    sources = {p["salary_source"] for p in page["items"]}
    assert "actual" in sources
    assert sources <= {"actual", "estimated", None}
    player = page["items"][0]["player_id"]
    detail = (await client.get(f"/api/v1/players/{player}")).json()
    assert detail["contract"]["salary_source"] in {"actual", "estimated", None}
    assert {s["salary_source"] for s in detail["seasons"]} <= {"actual", "estimated", None}
    payroll = (await client.get("/api/v1/teams/NYA/payroll")).json()
    assert payroll["salary_source"] == "actual"
