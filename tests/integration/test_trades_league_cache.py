"""The league the trade model reads: built off the event loop, once for concurrent callers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import event

from app.db.engine import Database
from app.services import trade_data
from app.services.trade_data import LeagueCache, LeagueRows
from app.settings import Settings

SEASON = 2016


@pytest.fixture
async def db(
    seeded_sqlite_url: str, make_settings: Callable[..., Settings]
) -> AsyncIterator[Database]:
    database = Database(make_settings(DATABASE_URL=seeded_sqlite_url))
    yield database
    await database.dispose()


class HistoryReads:
    """Counts the league's season query (its players' history is read in chunks after it) on
    a real engine: one per build."""

    def __init__(self, db: Database) -> None:
        self.count = 0
        self.started = asyncio.Event()
        event.listen(db.read_engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        chunk = " IN " in statement.upper()
        if "full_name" in statement and "years_of_control" in statement and not chunk:
            self.count += 1
            self.started.set()


async def test_the_league_is_built_in_a_worker_thread_not_on_the_event_loop(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[int] = []
    build = trade_data.build_players

    def recording_build(rows: LeagueRows, rates: Mapping[str, float]) -> list[Any]:
        threads.append(threading.get_ident())
        return build(rows, rates)

    monkeypatch.setattr(trade_data, "build_players", recording_build)
    league = await LeagueCache(ttl=60).get(db.read_sessions, SEASON)
    assert threads
    assert threading.get_ident() not in threads
    assert len(league.teams) == 30
    assert league.teams["NYA"].name == "New York Yankees"
    yankees = league.roster("NYA")
    assert yankees
    assert all(p.seasons[0].season == SEASON for p in yankees)


async def test_concurrent_first_requests_share_one_build(db: Database) -> None:
    reads = HistoryReads(db)
    cache = LeagueCache(ttl=60)
    leagues = await asyncio.gather(*(cache.get(db.read_sessions, SEASON) for _ in range(20)))
    assert reads.count == 1
    assert all(league is leagues[0] for league in leagues)
    assert await cache.get(db.read_sessions, SEASON) is leagues[0]
    assert reads.count == 1


async def test_a_caller_that_gives_up_does_not_cancel_the_shared_build(db: Database) -> None:
    reads = HistoryReads(db)
    cache = LeagueCache(ttl=60)
    first = asyncio.create_task(cache.get(db.read_sessions, SEASON))
    await reads.started.wait()  # the build is under way
    assert not first.done()
    first.cancel()  # e.g. its client disconnected
    with pytest.raises(asyncio.CancelledError):
        await first
    league = await cache.get(db.read_sessions, SEASON)
    assert reads.count == 1  # the next caller got the same build, not a second one
    assert league.players


async def test_after_the_ttl_the_league_is_read_again(db: Database) -> None:
    reads = HistoryReads(db)
    cache = LeagueCache(ttl=0)
    first = await cache.get(db.read_sessions, SEASON)
    second = await cache.get(db.read_sessions, SEASON)
    assert reads.count == 2
    assert first is not second
    assert first.players == second.players


async def test_the_league_built_in_chunks_is_the_league_built_at_once(db: Database) -> None:
    async with db.read_sessions() as session:
        chunked = await trade_data.load_league(session, SEASON)
        every = sorted(chunked.players)
        rows = await trade_data.fetch_player_rows(session, SEASON, every)
        teams = await trade_data.fetch_team_rows(session, SEASON)
    at_once = trade_data.build_league(
        replace(teams, history=rows.history, salary_history=rows.salary_history)
    )
    assert len(every) > trade_data.LEAGUE_CHUNK  # more than one chunk
    assert chunked == at_once
