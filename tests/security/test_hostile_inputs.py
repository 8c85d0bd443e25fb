"""A catalogue of hostile inputs for every route and parameter, on seeded SQLite and
PostgreSQL: each is answered 4xx with problem+json, and nothing is written."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from sqlalchemy import func, select

from app.db.base import Base
from app.settings import Settings
from tests.support.security import RunningApp, bearer, running_app

PROBLEM = "application/problem+json"
DEEP = 100_000
NOT_COUNTED = {"audit_log"}  # refusals are audited on purpose


@dataclass(frozen=True)
class Hostile:
    name: str
    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    json_body: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    admin: bool = False


def _token(sub: str, secret: str, **claims: Any) -> str:
    now = time.time()
    payload = {
        "iss": "btai", "aud": "btai-api", "sub": sub, "jti": uuid.uuid4().hex, "type": "access",
        "iat": round(now, 3), "nbf": int(now), "exp": int(now) + 600, "role": "admin",
        "scope": "admin", **claims,
    }  # fmt: skip
    return jwt.encode(payload, secret, algorithm="HS256")


def catalogue(secret: str) -> list[Hostile]:
    json_headers = {"Content-Type": "application/json"}
    trade = {
        "team_a": "NYA",
        "team_a_receives": ["judgeaa01"],
        "team_b": "BOS",
        "team_b_receives": ["bettsmo01"],
    }
    analysis = {"team": "NYA", "request": "a first baseman who can hit for power"}
    return [
        # players: numbers past what the database holds, NULs, junk cursors and sorts
        Hostile(
            "salary past bigint", "GET", "/api/v1/players", {"max_salary": "9223372036854775808"}
        ),
        Hostile("salary huge", "GET", "/api/v1/players", {"max_salary": "9" * 40}),
        Hostile("salary negative", "GET", "/api/v1/players", {"max_salary": "-1"}),
        Hostile("war infinite", "GET", "/api/v1/players", {"min_war": "1e999"}),
        Hostile("war nan", "GET", "/api/v1/players", {"min_war": "nan"}),
        Hostile("q of NULs", "GET", "/api/v1/players", {"q": "\x00\x00"}),
        Hostile("q with a NUL", "GET", "/api/v1/players", {"q": "ru\x00th"}),
        Hostile("q with escape codes", "GET", "/api/v1/players", {"q": "\x1b[31mruth"}),
        Hostile("limit zero", "GET", "/api/v1/players", {"limit": "0"}),
        Hostile("limit huge", "GET", "/api/v1/players", {"limit": "9" * 30}),
        Hostile("cursor junk", "GET", "/api/v1/players", {"cursor": "not-a-cursor"}),
        Hostile("cursor NUL", "GET", "/api/v1/players", {"cursor": "\x00"}),
        Hostile("cursor huge", "GET", "/api/v1/players", {"cursor": "A" * 5000}),
        Hostile("sort unknown", "GET", "/api/v1/players", {"sort": "password"}),
        Hostile("position unknown", "GET", "/api/v1/players", {"position": "QB"}),
        Hostile("team injection", "GET", "/api/v1/players", {"team": "' OR 1=1 --"}),
        Hostile("player id injection", "GET", "/api/v1/players/x' OR '1'='1"),
        Hostile("player id NUL", "GET", "/api/v1/players/%00"),
        Hostile("player id long", "GET", "/api/v1/players/" + "a" * 200),
        # teams
        Hostile("team key NUL", "GET", "/api/v1/teams/%00%00"),
        Hostile("team key long", "GET", "/api/v1/teams/ABCDEFG/roster"),
        Hostile("team key unknown", "GET", "/api/v1/teams/ZZZ/payroll"),
        Hostile("team league unknown", "GET", "/api/v1/teams", {"league": "XL"}),
        Hostile("team division unknown", "GET", "/api/v1/teams", {"division": "N"}),
        # auth: deep JSON, NULs, forged subjects
        Hostile(
            "login nested arrays",
            "POST",
            "/api/v1/auth/login",
            content=b"[" * DEEP,
            headers=json_headers,
        ),
        Hostile(
            "register nested objects",
            "POST",
            "/api/v1/auth/register",
            content=b'{"a":' * DEEP,
            headers=json_headers,
        ),
        Hostile(
            "evaluate nested arrays",
            "POST",
            "/api/v1/trades/evaluate",
            content=b"[" * DEEP + b"]" * DEEP,
            headers=json_headers,
        ),
        Hostile(
            "login NUL name",
            "POST",
            "/api/v1/auth/login",
            json_body={"username": "ad\x00min", "password": "x" * 12},
        ),
        Hostile(
            "register bidi name",
            "POST",
            "/api/v1/auth/register",
            json_body={"username": "admin\u202e", "password": "x" * 16},
        ),
        Hostile(
            "register huge password",
            "POST",
            "/api/v1/auth/register",
            json_body={"username": "huge.pw", "password": "Zq9!" * 5000},
        ),
        Hostile(
            "login form junk",
            "POST",
            "/api/v1/auth/login",
            content=b"%00=%00&&&=",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        Hostile(
            "login wrong type",
            "POST",
            "/api/v1/auth/login",
            content=b"<x/>",
            headers={"Content-Type": "application/xml"},
        ),
        Hostile(
            "refresh junk", "POST", "/api/v1/auth/refresh", json_body={"refresh_token": "a.b.c"}
        ),
        Hostile(
            "refresh 40-digit sub",
            "POST",
            "/api/v1/auth/refresh",
            json_body={"refresh_token": _token("9" * 40, secret, type="refresh", fam="f" * 32)},
        ),
        Hostile(
            "me 40-digit sub",
            "GET",
            "/api/v1/auth/me",
            headers=bearer(_token("1" + "0" * 39, secret)),
        ),
        Hostile("me sub zero", "GET", "/api/v1/auth/me", headers=bearer(_token("0", secret))),
        Hostile(
            "me unicode digits", "GET", "/api/v1/auth/me", headers=bearer(_token("١٢", secret))
        ),
        Hostile("me huge token", "GET", "/api/v1/auth/me", headers=bearer("a" * 20_000)),
        Hostile("logout without token", "POST", "/api/v1/auth/logout"),
        # trades: free text, numbers, ids
        Hostile(
            "evaluate NUL context",
            "POST",
            "/api/v1/trades/evaluate",
            json_body={**trade, "context": "fair\x00deal"},
        ),
        Hostile(
            "evaluate script context",
            "POST",
            "/api/v1/trades/evaluate",
            json_body={**trade, "context": "<script>alert(1)</script>"},
        ),
        Hostile(
            "evaluate too many players",
            "POST",
            "/api/v1/trades/evaluate",
            json_body={**trade, "team_a_receives": ["a"] * 10_000},
        ),
        Hostile(
            "analyze infinite budget",
            "POST",
            "/api/v1/trades/analyze",
            content=b'{"team": "NYA", "request": "a power-hitting first baseman", '
            b'"budget_limit": 1e999}',
            headers=json_headers,
        ),
        Hostile(
            "analyze NaN budget",
            "POST",
            "/api/v1/trades/analyze",
            content=b'{"team": "NYA", "request": "a power-hitting first baseman", '
            b'"budget_limit": NaN}',
            headers=json_headers,
        ),
        Hostile(
            "analyze NUL request",
            "POST",
            "/api/v1/trades/analyze",
            json_body={**analysis, "request": "a first\x00 baseman with power"},
        ),
        Hostile(
            "analyze script request",
            "POST",
            "/api/v1/trades/analyze",
            json_body={**analysis, "request": "<img src=x onerror=alert(1)>"},
        ),
        Hostile(
            "analyze partners huge",
            "POST",
            "/api/v1/trades/analyze",
            json_body={**analysis, "max_trade_partners": 10**30},
        ),
        Hostile(
            "analyze idempotency key long",
            "POST",
            "/api/v1/trades/analyze",
            json_body=analysis,
            headers={"Idempotency-Key": "k" * 500},
        ),
        Hostile("batch empty", "POST", "/api/v1/trades/analyze/batch", json_body={"requests": []}),
        Hostile("analysis id junk", "GET", "/api/v1/trades/analyses/../../etc/passwd"),
        Hostile("analysis id NUL", "GET", "/api/v1/trades/analyses/%00"),
        Hostile("recent limit huge", "GET", "/api/v1/trades/recent", {"limit": "9" * 25}),
        # admin and health
        Hostile(
            "audit offset huge", "GET", "/api/v1/admin/audit", {"offset": "9" * 25}, admin=True
        ),
        Hostile("audit limit negative", "GET", "/api/v1/admin/audit", {"limit": "-5"}, admin=True),
        Hostile(
            "audit event injection",
            "GET",
            "/api/v1/admin/audit",
            {"event": "x' OR 1=1 --"},
            admin=True,
        ),
        Hostile("audit without token", "GET", "/api/v1/admin/audit"),
        Hostile("alerts state unknown", "GET", "/api/v1/health/alerts", {"state": "all\x00"}),
        Hostile("trends limit huge", "GET", "/api/v1/health/trends", {"limit": "9" * 25}),
        Hostile(
            "acknowledge unknown alert", "POST", "/api/v1/health/alerts/%00/acknowledge", admin=True
        ),
        Hostile("body to a route without one", "POST", "/api/v1/teams", content=b"x" * 1000),
    ]


@pytest.fixture
async def api(
    seeded_db_url: str, make_settings: Callable[..., Settings]
) -> AsyncIterator[RunningApp]:
    settings = make_settings(DATABASE_URL=seeded_db_url, REDIS_URL="", RATE_LIMIT_ENABLED=False)
    async with running_app(settings) as running:
        yield running


async def table_counts(api: RunningApp) -> dict[str, int]:
    counts = {}
    async with api.security.database().sessions() as session:
        for table in Base.metadata.sorted_tables:
            if table.name not in NOT_COUNTED:
                counts[table.name] = int(
                    (await session.execute(select(func.count()).select_from(table))).scalar_one()
                )
    return counts


async def test_every_hostile_input_is_a_4xx_problem_and_writes_nothing(api: RunningApp) -> None:
    admin = await api.tokens("catalogue.admin", role="admin")
    secret = api.security.settings.JWT_SECRET_KEY.get_secret_value()
    before = await table_counts(api)
    failures = []
    for case in catalogue(secret):
        headers = {**case.headers, **(bearer(admin["access_token"]) if case.admin else {})}
        response = await api.client.request(
            case.method,
            case.path,
            params=case.params,
            json=case.json_body,
            content=case.content,
            headers=headers,
        )
        problem = response.headers.get("content-type") == PROBLEM
        if not (400 <= response.status_code < 500 and problem):
            failures.append((case.name, response.status_code, response.text[:200]))
            continue
        body = response.json()
        if body["status"] != response.status_code or not body.get("request_id"):
            failures.append((case.name, "bad problem body", json.dumps(body)[:200]))
    assert failures == []
    assert await table_counts(api) == before
