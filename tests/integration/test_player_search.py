"""The in-memory player search answers exactly as the database query does, on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
import pytest_asyncio

from app.db.engine import Database
from app.db.repositories import players as repo
from app.db.repositories.players import SORT_KEYS, Keyset, PlayerFilter
from app.main import create_app
from app.services.player_search import PlayerSearch, SeasonPlayers, read_season
from app.settings import Settings

pytestmark = pytest.mark.asyncio(loop_scope="module")

SEASON = 2016
FILTERS = [
    PlayerFilter(SEASON),
    PlayerFilter(SEASON, position="SS"),
    PlayerFilter(SEASON, position="P", min_war=1.5),
    PlayerFilter(SEASON, team="NYA"),
    PlayerFilter(SEASON, q="son"),
    PlayerFilter(SEASON, q="trou"),
    PlayerFilter(SEASON, q="o'"),
    PlayerFilter(SEASON, max_salary=600_000),
    PlayerFilter(SEASON, position="C", min_war=0, max_salary=5_000_000),
    PlayerFilter(SEASON, team="BOS", position="P", q="an"),
    PlayerFilter(SEASON, position="DH", team="ZZZ"),
]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def database(module_db_url: str) -> AsyncIterator[Database]:
    settings = Settings(_env_file=None, DATABASE_URL=module_db_url)  # type: ignore[call-arg]
    async with Database.open(settings) as db:
        yield db


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def season(database: Database) -> SeasonPlayers:
    async with database.read_sessions() as session:
        return await read_season(session, SEASON)


async def _from_database(
    database: Database, filters: PlayerFilter, sort: str, limit: int, after: Keyset | None
) -> list[dict[str, Any]]:
    async with database.read_sessions() as session:
        return await repo.search_player_summaries(
            session, filters, sort=sort, limit=limit, after=after
        )


@pytest.mark.parametrize("sort", SORT_KEYS)
async def test_every_filter_and_sort_pages_exactly_as_the_database(
    database: Database, season: SeasonPlayers, sort: str
) -> None:
    compared = 0
    for filters in FILTERS:
        after: Keyset | None = None
        for _ in range(3):  # the first page and two continuations
            expected = await _from_database(database, filters, sort, 40, after)
            found = season.search(filters, sort=sort, limit=40, after=after)
            assert [row.player_id for row in found] == [row["player_id"] for row in expected]
            compared += len(found)
            if len(found) < 40:
                break
            last = expected[-1]
            after = Keyset(repo.summary_sort_value(last, sort), last["player_id"])
            assert found[-1].sort_value(sort) == after.value
    assert compared > 500


async def test_a_cursor_whose_row_is_gone_continues_where_it_was(
    database: Database, season: SeasonPlayers
) -> None:
    filters = PlayerFilter(SEASON, position="SS")
    for sort in ("-war", "name"):
        expected = await _from_database(database, filters, sort, 200, None)
        middle = expected[5]
        value = repo.summary_sort_value(middle, sort)
        after = Keyset(value, middle["player_id"] + "~")  # an id no row has
        beyond = await _from_database(database, filters, sort, 10, after)
        found = season.search(filters, sort=sort, limit=10, after=after)
        assert [row.player_id for row in found] == [row["player_id"] for row in beyond]
        assert found
        assert found[0].player_id == expected[6]["player_id"]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def clients(module_db_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, ...]]:
    """One app answering from memory, one from the database (ENABLE_CACHING=false)."""
    built = []
    for caching in (True, False):
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, DATABASE_URL=module_db_url, ENABLE_CACHING=caching
        )
        built.append(create_app(settings))
    async with (
        built[0].router.lifespan_context(built[0]),
        built[1].router.lifespan_context(built[1]),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=built[0]), base_url="http://t") as a,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=built[1]), base_url="http://t") as b,
    ):
        yield a, b


async def test_pages_from_memory_are_the_pages_from_the_database(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    memory, database = clients
    queries: list[dict[str, Any]] = [
        {"position": "SS"},
        {"q": "Rodr", "sort": "name", "limit": 5},
        {"team": "laa", "sort": "-salary", "limit": 100},
        {"min_war": 3, "sort": "age", "limit": 3},
        {"position": "RP", "sort": "salary", "limit": 100},
        {"position": "SP", "sort": "-salary", "limit": 100},
    ]
    for params in queries:
        cursor: str | None = None
        for _ in range(3):
            page_params = {**params, **({"cursor": cursor} if cursor else {})}
            mine, theirs = await asyncio.gather(
                memory.get("/api/v1/players", params=page_params),
                database.get("/api/v1/players", params=page_params),
            )
            assert mine.status_code == theirs.status_code == 200
            assert mine.headers["content-type"] == theirs.headers["content-type"]
            assert orjson.loads(mine.content) == orjson.loads(theirs.content)
            cursor = mine.json()["next"]
            if cursor is None:
                break


async def test_concurrent_first_searches_share_one_read(database: Database) -> None:
    search = PlayerSearch(database.read_sessions, ttl=300)
    seasons = await asyncio.gather(*(search.season(SEASON) for _ in range(8)))
    assert all(s is seasons[0] for s in seasons)
    assert seasons[0].count > 1000
    search.invalidate()
    assert await search.season(SEASON) is not seasons[0]


async def test_an_expired_season_answers_while_one_read_replaces_it(database: Database) -> None:
    search = PlayerSearch(database.read_sessions, ttl=0)
    first = await search.season(SEASON)
    stale = await search.season(SEASON)  # expired at once: served, and a read starts
    assert stale is first
    async with asyncio.timeout(30):
        while (fresh := await search.season(SEASON)) is first:
            await asyncio.sleep(0.01)
    assert fresh.count == first.count
    await search.aclose()


async def test_the_compared_filters_use_every_filter() -> None:
    used = {name for f in FILTERS for name, value in vars(f).items() if value is not None}
    assert used == {"season", "q", "position", "team", "min_war", "max_salary"}
