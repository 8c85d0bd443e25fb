"""The served season's player list, held in memory: the search behind `GET /players`.

A season has under two thousand list rows and changes only when it is re-seeded, yet a page
read from the database costs a query, a thread hop (aiosqlite), row mappings, a pydantic
model per row and a JSON encoding: some seven million CPU instructions for 25 rows. Here the
season's rows are read once, each encoded to its JSON once, and kept ordered by every sort
the API offers; a page is then a filtered walk along one ordering and a join of bytes.

The answers are the database query's (`app.db.repositories.players.search_player_summaries`):
the same filters, the same order (the sort value, then the player id, both in code-point
order as SQLite and a C-collated PostgreSQL compare them), the same keyset continuation.
Like the cached reads, the rows are kept for CACHE_TTL seconds; after that the next search
still answers from them while one background read replaces them, so a re-seed shows within
CACHE_TTL and no request waits for the refresh.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.repositories import players as repo
from app.db.repositories.players import (
    SORT_KEYS,
    UNKNOWN_LAST,
    Keyset,
    PlayerFilter,
    unknown_value,
)
from app.schemas.players import public_salary_source

logger = logging.getLogger("app.services.player_search")


@dataclass(frozen=True, slots=True)
class SummaryRow:
    """One player's list row: what the filters and sorts read, and its JSON, encoded once."""

    player_id: str
    sort_name: str
    names: str
    """Both names, for the `q` filter: the lower-cased name and the sort name, NUL between
    (a query cannot hold NUL, so it never matches across them)."""
    team_key: str
    position: str
    role: str
    """The position, with pitchers split into SP and RP (what a role filter matches)."""
    war: float
    salary: int | None
    salary_ceiling: float
    """The salary, infinite when unknown: a `max_salary` filter never keeps an unknown one."""
    age: int | None
    json: bytes

    def sort_value(self, sort: str) -> Any:
        """The value `repo.sort_expression(sort)` orders by (an unknown salary or age last)."""
        field = sort.lstrip("-")
        if field == "war":
            return self.war
        if field in UNKNOWN_LAST:
            value = self.salary if field == "salary" else self.age
            return unknown_value(field, sort[0] == "-") if value is None else value
        return self.sort_name

    def plays(self, position: str) -> bool:
        """Whether a `position` filter keeps this row (SP and RP match pitchers by role)."""
        return position in (self.position, self.role)


def summary_row(mapping: Mapping[Any, Any]) -> SummaryRow:
    """A row from a mapping of the repository's SUMMARY_COLUMNS."""
    war = float(mapping["war"])
    salary = None if mapping["salary"] is None else int(mapping["salary"])
    age = None if mapping["age"] is None else int(mapping["age"])
    body = {
        "player_id": mapping["player_id"],
        "name": mapping["full_name"],
        "team_key": mapping["team_key"],
        "position": mapping["position"],
        "age": age,
        "bats": mapping["bats"],
        "throws": mapping["throws"],
        "season": int(mapping["season"]),
        "war": war,
        "salary": salary,
        "salary_source": public_salary_source(mapping["salary_source"]),
        "contract_status": mapping["contract_status"],
        "years_of_control": int(mapping["years_of_control"]),
    }
    return SummaryRow(
        player_id=mapping["player_id"],
        sort_name=mapping["sort_name"],
        names=str(mapping["full_name"]).lower() + "\x00" + mapping["sort_name"],
        team_key=mapping["team_key"],
        position=mapping["position"],
        role=mapping["role"],
        war=war,
        salary=salary,
        salary_ceiling=math.inf if salary is None else salary,
        age=age,
        # orjson hands back its whole growth buffer (4 KiB here for ~300 bytes of JSON); a
        # season's rows kept as such cost 5.5 MB per worker, an exact-size copy 0.4 MB.
        json=bytes(memoryview(orjson.dumps(body))),
    )


class _Ordering:
    """The rows in one sort's order, and where each player stands in it."""

    __slots__ = ("_index", "rows", "values")

    def __init__(self, rows: Sequence[SummaryRow], sort: str) -> None:
        by_id = sorted(rows, key=lambda row: row.player_id)
        # Stable sorts: equal values keep the player-id order, also when reversed.
        ordered = sorted(by_id, key=lambda row: row.sort_value(sort), reverse=sort[0] == "-")
        self.rows = ordered
        self.values = [row.sort_value(sort) for row in ordered]
        self._index: dict[str, int] | None = None

    def start_after(self, after: Keyset, descending: bool) -> int:
        """The position of the first row beyond `after` (its value, then its player id)."""
        if self._index is None:  # built for the first cursor: most searches ask for page one
            self._index = {row.player_id: position for position, row in enumerate(self.rows)}
        known = self._index.get(after.player_id)
        if known is not None and self.values[known] == after.value:
            return known + 1
        # The cursor's row is gone or moved (the data was re-seeded): walk to where it was.
        for position, row in enumerate(self.rows):
            value = self.values[position]
            beyond = value < after.value if descending else value > after.value
            if beyond or (value == after.value and row.player_id > after.player_id):
                return position
        return len(self.rows)


MAX_TOTALS = 4096
"""Totals remembered per season: one per filter combination seen, cleared when full."""


class SeasonPlayers:
    """One season's list rows, ordered by each sort key when a search first asks for it.

    Every ordering of every position built up front held ~2 MB per worker, most of it for
    sorts and positions no one asked for; one ordering takes about a millisecond to build.
    """

    def __init__(self, season: int, rows: Sequence[SummaryRow]) -> None:
        self.season = season
        self.count = len(rows)
        self._rows = rows
        # A position filter (the commonest) walks only that position's (or role's) rows.
        self._positions = frozenset({row.position for row in rows} | {row.role for row in rows})
        self._orderings: dict[tuple[str, str | None], _Ordering] = {}
        self._totals: dict[PlayerFilter, int] = {}

    def total(self, filters: PlayerFilter) -> int:
        """How many rows match `filters` over every page (counted once per filter set)."""
        known = self._totals.get(filters)
        if known is None:
            if len(self._totals) >= MAX_TOTALS:
                self._totals.clear()
            everything = self.search(filters, sort="war", limit=self.count)
            known = self._totals[filters] = len(everything)
        return known

    def search(
        self, filters: PlayerFilter, *, sort: str, limit: int, after: Keyset | None = None
    ) -> list[SummaryRow]:
        """Up to `limit` rows matching `filters`, in `sort` order, beyond `after`."""
        ordering = self._ordering(filters.position, sort)
        start = ordering.start_after(after, sort[0] == "-") if after is not None else 0
        match = RowMatch.of(filters)
        if match is None:  # the ordering holds exactly the matching rows
            return ordering.rows[start : start + limit]
        return match.walk(ordering.rows, start, limit)

    def _ordering(self, position: str | None, sort: str) -> _Ordering:
        if sort not in SORT_KEYS:
            raise KeyError(sort)
        if position is not None and position not in self._positions:
            return _Ordering([], sort)
        ordering = self._orderings.get((sort, position))
        if ordering is None:
            rows = self._rows
            if position is not None:
                rows = [row for row in rows if row.plays(position)]
            ordering = self._orderings[sort, position] = _Ordering(rows, sort)
        return ordering


@dataclass(frozen=True, slots=True)
class RowMatch:
    """The filters an ordering does not apply itself (all but the position), with neutral
    values for those not given, so a row is tested without asking which are set."""

    team: str | None
    min_war: float
    max_salary: float
    q: str

    @classmethod
    def of(cls, filters: PlayerFilter) -> RowMatch | None:
        """None when only the position filters (the ordering already did)."""
        given = (filters.team, filters.min_war, filters.max_salary, filters.q)
        if given == (None, None, None, None):
            return None
        return cls(
            team=filters.team.upper() if filters.team else None,
            min_war=-math.inf if filters.min_war is None else filters.min_war,
            max_salary=math.inf if filters.max_salary is None else filters.max_salary,
            q=filters.q.lower() if filters.q else "",
        )

    def walk(self, rows: Sequence[SummaryRow], start: int, limit: int) -> list[SummaryRow]:
        """Up to `limit` rows from `start` on that pass every filter."""
        team, min_war, max_salary, q = self.team, self.min_war, self.max_salary, self.q
        found: list[SummaryRow] = []
        for index in range(start, len(rows)):
            row = rows[index]
            if team is not None and row.team_key != team:
                continue
            if row.war < min_war or row.salary_ceiling > max_salary or q not in row.names:
                continue
            found.append(row)
            if len(found) == limit:
                break
        return found


def page_json(rows: Sequence[SummaryRow], next_cursor: str | None, total: int) -> bytes:
    """The `PlayerPage` body for `rows`: each row's stored JSON, joined."""
    return b"".join(
        (
            b'{"items":[',
            b",".join(row.json for row in rows),
            b'],"count":',
            str(len(rows)).encode(),
            b',"total":',
            str(total).encode(),
            b',"next":',
            orjson.dumps(next_cursor),
            b"}",
        )
    )


async def read_season(session: AsyncSession, season: int) -> SeasonPlayers:
    """Every list row of `season` from the database."""
    rows = repo.season_player_summaries(session, season=season)
    return SeasonPlayers(season, [summary_row(row) async for row in rows])


class PlayerSearch:
    """The served season's `SeasonPlayers`, read once and refreshed every `ttl` seconds.

    Callers that find nothing yet await one shared read; once there are rows, an expired copy
    keeps answering while one background read replaces it.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, ttl: float) -> None:
        self.sessions = sessions
        self.ttl = ttl
        self._current: dict[int, tuple[float, SeasonPlayers]] = {}
        self._reading: dict[int, asyncio.Task[SeasonPlayers]] = {}

    async def season(self, season: int) -> SeasonPlayers:
        held = self._current.get(season)
        if held is not None:
            if time.monotonic() - held[0] >= self.ttl and season not in self._reading:
                self._start_read(season)
            return held[1]
        reading = self._reading.get(season) or self._start_read(season)
        return await asyncio.shield(reading)

    def invalidate(self) -> None:
        """Forget every season read so far (the next search reads again)."""
        self._current.clear()

    async def aclose(self) -> None:
        """Stop a read still running (the app is shutting down)."""
        reads = list(self._reading.values())
        for read in reads:
            read.cancel()
        await asyncio.gather(*reads, return_exceptions=True)

    def _start_read(self, season: int) -> asyncio.Task[SeasonPlayers]:
        task = asyncio.create_task(self._read(season), name=f"player-search-{season}")
        self._reading[season] = task
        task.add_done_callback(_log_failure)
        return task

    async def _read(self, season: int) -> SeasonPlayers:
        try:
            async with self.sessions() as session:
                players = await read_season(session, season)
            self._current[season] = (time.monotonic(), players)
            return players
        finally:
            self._reading.pop(season, None)  # a failed read is not remembered


def _log_failure(task: asyncio.Task[SeasonPlayers]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.warning("reading the season's players failed: %r", task.exception())
