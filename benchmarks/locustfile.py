"""Locust users for the report's endpoint types, plus a mixed scenario.

`btai loadtest --scenario NAME` picks one class: simple (SimpleGetUser), complex
(ComplexPostUser), database (DatabaseQueryUser), cache (CacheHitUser), mixed (MixedUser).
Plain Locust runs them too: `locust -f benchmarks/locustfile.py SimpleGetUser`.

The mixed user logs in first when BTAI_LOADTEST_USERNAME and BTAI_LOADTEST_PASSWORD are set
(the service runs with ENABLE_AUTH=true).
"""

from __future__ import annotations

import itertools
import os
import random
from typing import Any

from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser

TEAMS = ("NYA", "BOS", "LAN", "CHN", "HOU", "ATL", "SFN", "SLN", "TOR", "SEA")
POSITIONS = ("P", "C", "1B", "2B", "3B", "SS", "LF", "CF", "RF", "DH")
SORTS = ("-war", "war", "-salary", "salary", "name", "-age")
# Used when the roster endpoint is not there (e.g. against the bare reference app).
FALLBACK_ROSTERS = {
    "NYA": ["judgeaa01", "sanchga02", "tanakma01"],
    "BOS": ["bettsmo01", "bogaexa01", "salech01"],
}


def _player_ids(payload: Any) -> list[str]:
    """Player ids from a roster response, whichever envelope it uses."""
    rows = payload
    if isinstance(payload, dict):
        rows = payload.get("players") or payload.get("items") or payload.get("roster") or []
    ids = []
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict):
            value = row.get("player_id") or row.get("id")
            if value:
                ids.append(str(value))
    return ids


class BtaiUser(FastHttpUser):
    abstract = True
    wait_time = constant(0)
    headers: dict[str, str] = {}  # noqa: RUF012 (replaced per user after a login)


class SimpleGetUser(BtaiUser):
    """Simple GET: the liveness probe, the cheapest route through the whole stack."""

    @task
    def liveness(self) -> None:
        self.client.get("/api/v1/health/liveness")


class CacheHitUser(BtaiUser):
    """Cache Hit: the same team again and again."""

    @task
    def team(self) -> None:
        self.client.get("/api/v1/teams/NYA", name="/api/v1/teams/NYA")


class DatabaseQueryUser(BtaiUser):
    """Database Query: player searches whose filters vary, so most miss the cache."""

    _counter = itertools.count()

    @task
    def players(self) -> None:
        n = next(self._counter)
        params = {
            "team": TEAMS[n % len(TEAMS)],
            "position": POSITIONS[(n // len(TEAMS)) % len(POSITIONS)],
            "min_war": f"{(n % 7) * 0.5:.1f}",
            "sort": SORTS[n % len(SORTS)],
            "limit": str(10 + n % 40),
        }
        self.client.get("/api/v1/players", params=params, name="/api/v1/players")


class RosterUser(BtaiUser):
    """Knows two real rosters (fetched once per user) to build trade requests from."""

    abstract = True
    rosters: dict[str, list[str]]

    def on_start(self) -> None:
        self.rosters = {}
        for team in ("NYA", "BOS"):
            ids: list[str] = []
            with self.client.get(
                f"/api/v1/teams/{team}/roster",
                name="/api/v1/teams/{team}/roster",
                headers=self.headers,
                catch_response=True,
            ) as response:
                if response.status_code == 200:
                    ids = _player_ids(response.json())
                response.success()  # set-up, not part of the measurement's failures
            self.rosters[team] = ids or FALLBACK_ROSTERS[team]

    def post_trade(self) -> None:
        body = {
            "team_a": "NYA",
            "team_a_receives": random.sample(self.rosters["BOS"], 1),
            "team_b": "BOS",
            "team_b_receives": random.sample(self.rosters["NYA"], 1),
        }
        self.client.post("/api/v1/trades/evaluate", json=body, headers=self.headers)


class ComplexPostUser(RosterUser):
    """Complex POST: a trade evaluation between two real rosters."""

    @task
    def evaluate(self) -> None:
        self.post_trade()


class MixedUser(RosterUser):
    """A mix of the four endpoint types, weighted like ordinary browsing."""

    def on_start(self) -> None:
        username = os.environ.get("BTAI_LOADTEST_USERNAME")
        password = os.environ.get("BTAI_LOADTEST_PASSWORD")
        if username and password:
            response = self.client.post(
                "/api/v1/auth/login", json={"username": username, "password": password}
            )
            token = response.json().get("access_token") if response.status_code == 200 else None
            if token:
                self.headers = {"Authorization": f"Bearer {token}"}
        super().on_start()

    @task(4)
    def team(self) -> None:
        self.client.get("/api/v1/teams/NYA", headers=self.headers)

    @task(3)
    def players(self) -> None:
        team = random.choice(TEAMS)
        self.client.get(
            "/api/v1/players",
            params={"team": team},
            name="/api/v1/players",
            headers=self.headers,
        )

    @task(2)
    def liveness(self) -> None:
        self.client.get("/api/v1/health/liveness")

    @task(1)
    def evaluate(self) -> None:
        self.post_trade()
