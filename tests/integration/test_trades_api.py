"""The trades API on the seeded 2016 season, on SQLite and PostgreSQL, with a real queue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from app.main import create_app
from app.services.circuit_breaker import CircuitState
from tests.support.ai_stub import AIStub
from tests.support.settings import settings_for
from tests.support.timing import scaled

EVALUATE = "/api/v1/trades/evaluate"
ANALYZE = "/api/v1/trades/analyze"
TROUT, AROD = "troutmi01", "rodrial01"  # a star (LAA) and a replacement-level veteran (NYA)
KERSHAW, SCHERZER = "kershcl01", "scherma01"  # two aces on free-agent deals (LAN, WAS)
FIRST_BASE = {"team": "NYA", "request": "We need a power-hitting first baseman under $15M"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def serving(url: str, **overrides: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    values: dict[str, Any] = {"DATABASE_URL": url, "RATE_LIMIT_ENABLED": False,
                              "QUEUE_POLL_INTERVAL": 0.05, **overrides}  # fmt: skip
    app = create_app(settings_for(**values))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        yield c, app


@pytest.fixture
async def client(seeded_db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(seeded_db_url) as (c, _):
        yield c


async def finished(client: httpx.AsyncClient, location: str) -> dict[str, Any]:
    async with asyncio.timeout(scaled(30)):
        while True:
            status = (await client.get(f"{location}/status")).json()
            if status["status"] in {"completed", "failed"}:
                body: dict[str, Any] = (await client.get(location)).json()
                return body
            await asyncio.sleep(0.05)


def trade(a_gets: list[str], b_gets: list[str], a: str = "NYA", b: str = "LAA") -> dict[str, Any]:
    return {"team_a": a, "team_a_receives": a_gets, "team_b": b, "team_b_receives": b_gets}


async def test_star_for_replacement_player_is_f_and_reject_for_the_star_side(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(EVALUATE, json=trade([TROUT], [AROD]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["team_b"]["team"] == "LAA"
    assert body["team_b"]["grade"] == "F"
    assert body["team_b"]["recommendation"] == "reject"
    assert body["team_a"]["grade"] == "A"
    assert body["winner"] == "team_a"
    assert body["fairness"] < 20
    assert body["team_a"]["received"][0]["name"] == "Mike Trout"
    assert body["team_a"]["payroll"]["luxury_tax_threshold"] == 189_000_000
    assert "Mike Trout" in body["narrative"]
    again = await client.post(EVALUATE, json=trade([TROUT], [AROD]))
    assert again.json() == body  # the same input gives the same output


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (trade([TROUT], [AROD], a="XXX"), "body.team_a"),
        (trade(["nobody99"], [AROD]), "body.team_a_receives.0"),
        (trade([AROD], [TROUT]), "body.team_a_receives.0"),  # A-Rod is not on LAA
        (trade([TROUT], [TROUT]), "body.team_b_receives"),
        (trade([], [AROD]), "body.team_a_receives"),
        (trade([TROUT] * 11, [AROD]), "body.team_a_receives"),
        (trade([TROUT], [AROD], b="NYA"), "body.team_b"),
    ],
)
async def test_bad_trades_are_422_naming_the_field(
    client: httpx.AsyncClient, payload: dict[str, Any], field: str
) -> None:
    response = await client.post(EVALUATE, json=payload)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]


async def test_aces_on_long_contracts_are_valued_year_by_year_and_graded_fair(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(EVALUATE, json=trade([SCHERZER], [KERSHAW], a="LAN", b="WAS"))
    assert response.status_code == 200, response.text
    body = response.json()
    for side in ("team_a", "team_b"):
        years = body[side]["received"][0]["years"]
        assert len(years) > 1
        assert years[0]["basis"] == "actual"
        assert {y["basis"] for y in years[1:]} == {"estimated"}
        assert body[side]["received"][0]["contract_kind"] == "free_agent"
        assert body[side]["grade"] in {"A", "B", "C"}
    assert body["fairness"] >= 70
    assert body["salaries_estimated"] is False
    assert body["value_exchanged"] > 0
    # The deal's recommendation is for both teams and follows theirs.
    team_says = {body["team_a"]["recommendation"], body["team_b"]["recommendation"]}
    expected = "reject" if "reject" in team_says else "accept" if team_says == {"accept"} else None
    assert body["recommendation"] == (expected or "negotiate")


async def test_contract_overrides_replace_the_derived_contract(client: httpx.AsyncClient) -> None:
    override = {"player_id": TROUT, "years": 2, "salaries": [30e6, 35e6], "club_options": [40e6]}
    payload = {**trade([TROUT], [AROD]), "contract_overrides": [override]}
    response = await client.post(EVALUATE, json=payload)
    assert response.status_code == 200, response.text
    trout = response.json()["team_a"]["received"][0]
    assert trout["contract_kind"] == "stated"
    assert [(y["salary"], y["basis"]) for y in trout["years"][:2]] == [
        (30e6, "stated"), (35e6, "stated"),
    ]  # fmt: skip
    assert len(trout["years"]) == 3  # the option is worth exercising for Trout
    assert trout["years"][2]["terms"] == "club_option"
    derived = (await client.post(EVALUATE, json=trade([TROUT], [AROD]))).json()
    assert derived["team_a"]["received"][0]["surplus_value"] != trout["surplus_value"]


async def test_a_player_shows_his_derived_contract_year_by_year(client: httpx.AsyncClient) -> None:
    contract = (await client.get(f"/api/v1/players/{TROUT}")).json()["contract"]
    assert contract["kind"] == "extension"
    assert contract["signed"] == 2014
    assert [y["season"] for y in contract["years"]] == [2016, 2017, 2018, 2019, 2020]
    assert [y["basis"] for y in contract["years"]] == ["actual"] + ["estimated"] * 4
    assert contract["years"][0]["salary"] == 16_083_333
    assert contract["guaranteed_years_left"] >= 2


def _override(**fields: Any) -> dict[str, Any]:
    return {**trade([TROUT], [AROD]), "contract_overrides": [{"player_id": TROUT, **fields}]}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (_override(player_id=KERSHAW, years=1, salary=1e6), "body.contract_overrides.0.player_id"),
        (_override(years=2, salary=-1), "body.contract_overrides.0.salary"),
        (_override(years=2, salary=1e12), "body.contract_overrides.0.salary"),
        (_override(years=2, salaries=[1e6, -5]), "body.contract_overrides.0.salaries.1"),
        (_override(years=-1, salary=1e6), "body.contract_overrides.0.years"),
        (_override(years=16, salary=1e6), "body.contract_overrides.0.years"),
        (_override(years=2, salaries=[1e6]), "body.contract_overrides.0.salaries"),
        (_override(years=2), "body.contract_overrides.0.salary"),
        (_override(years=10, salary=1e6, club_options=[1e6] * 6),
         "body.contract_overrides.0.club_options"),
    ],
)  # fmt: skip
async def test_bad_contract_overrides_are_422_naming_the_field(
    client: httpx.AsyncClient, payload: dict[str, Any], field: str
) -> None:
    response = await client.post(EVALUATE, json=payload)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]


async def test_analysis_is_queued_then_completes_with_ranked_proposals(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(ANALYZE, json={**FIRST_BASE, "urgency": "high"})
    assert response.status_code == 202, response.text
    location = response.headers["location"]
    assert location == response.json()["result_url"]
    body = await finished(client, location)
    assert body["status"] == "completed"
    assert body["progress"] == 100
    result = body["result"]
    assert result["needs"]["positions"] == ["1B"]
    assert "power" in result["needs"]["attributes"]
    assert 3 <= len(result["proposals"]) <= 5
    assert [p["rank"] for p in result["proposals"]] == list(range(1, len(result["proposals"]) + 1))
    for proposal in result["proposals"]:
        assert proposal["receive"][0]["position"] == "1B"
        assert proposal["receive"][0]["team"] != "NYA"
        assert proposal["payroll_change"] <= 15_000_000
        assert set(proposal["grades"].values()) <= {"A", "B", "C"}
        assert proposal["receive"][0]["contract"][0]["basis"] in {"actual", "estimated"}
    gains = [p["net_value"]["NYA"] for p in result["proposals"]]
    assert gains == sorted(gains, reverse=True)
    assert result["ai"]["provider"] == "local"
    recent = (await client.get("/api/v1/trades/recent")).json()["items"]
    assert recent[0]["analysis_id"] == body["analysis_id"]
    assert recent[0]["proposals"] == len(result["proposals"])


async def test_request_without_a_need_completes_with_no_proposals_and_says_why(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(ANALYZE, json={"team": "BOS", "request": "make us better now"})
    body = await finished(client, response.headers["location"])
    assert body["status"] == "completed"
    assert body["result"]["proposals"] == []
    assert "no position" in body["result"]["explanation"]


async def test_idempotency_key_replays_and_refuses_another_body(client: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "order-42"}
    first = await client.post(ANALYZE, json=FIRST_BASE, headers=headers)
    replay = await client.post(ANALYZE, json=FIRST_BASE, headers=headers)
    assert replay.status_code == 202
    assert replay.json()["analysis_id"] == first.json()["analysis_id"]
    assert replay.json()["coalesced"] is True
    other = await client.post(ANALYZE, json={**FIRST_BASE, "urgency": "low"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "header.Idempotency-Key"
    await finished(client, first.headers["location"])
    after = await client.post(ANALYZE, json=FIRST_BASE, headers=headers)
    assert after.json()["analysis_id"] == first.json()["analysis_id"]


async def test_identical_requests_in_flight_coalesce(seeded_db_url: str) -> None:
    body = {"team": "SEA", "request": "a shortstop with speed", "urgency": "low"}
    # The provider holds the first analysis until all six have answered, so it is in flight
    # however slowly the machine reads the requests.
    with AIStub("hold") as stub:
        async with serving(seeded_db_url, AI_PROVIDER="openai", AI_BASE_URL=stub.base_url,
                           AI_TIMEOUT=scaled(60)) as (client, _):  # fmt: skip
            responses = await asyncio.gather(*(client.post(ANALYZE, json=body) for _ in range(6)))
            stub.release()
            ids = {r.json()["analysis_id"] for r in responses}
            assert len(ids) == 1
            assert sum(not r.json()["coalesced"] for r in responses) == 1
            done = await finished(client, responses[0].headers["location"])
    assert done["status"] == "completed"
    assert done["result"]["ai"]["provider"] == "openai"
    assert stub.calls == 1


async def test_batch_queues_each_request_and_bounds_the_size(client: httpx.AsyncClient) -> None:
    requests = [{"team": t, "request": "need a starting pitcher for the rotation"}
                for t in ("BAL", "DET", "SDN")]  # fmt: skip
    response = await client.post(f"{ANALYZE}/batch", json={"requests": requests})
    assert response.status_code == 202
    items = response.json()["items"]
    assert len({i["analysis_id"] for i in items}) == 3
    for item in items:
        done = await finished(client, item["result_url"])
        assert all(p["receive"][0]["position"] == "SP" for p in done["result"]["proposals"])
    assert (await client.post(f"{ANALYZE}/batch", json={"requests": []})).status_code == 422
    too_many = await client.post(f"{ANALYZE}/batch", json={"requests": requests * 4})
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["field"] == "body.requests"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**FIRST_BASE, "team": "ZZZ"}, "body.team"),
        ({**FIRST_BASE, "request": "short"}, "body.request"),
        ({**FIRST_BASE, "urgency": "yesterday"}, "body.urgency"),
        ({**FIRST_BASE, "max_trade_partners": 5}, "body.max_trade_partners"),
    ],
)
async def test_bad_analysis_requests_are_422(
    client: httpx.AsyncClient, payload: dict[str, Any], field: str
) -> None:
    response = await client.post(ANALYZE, json=payload)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


async def test_unknown_analysis_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/api/v1/trades/analyses/{'0' * 32}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_trade_routes_need_a_token_when_auth_is_on(seeded_sqlite_url: str) -> None:
    async with serving(seeded_sqlite_url, ENABLE_AUTH=True) as (client, _):
        response = await client.post(EVALUATE, json=trade([TROUT], [AROD]))
        assert response.status_code == 401
        assert (await client.get("/api/v1/trades/recent")).status_code == 401


async def test_failing_provider_opens_breaker_analyses_complete_locally_then_it_closes(
    seeded_sqlite_url: str,
) -> None:
    requests: Callable[[int], dict[str, Any]] = lambda n: {  # noqa: E731
        "team": "NYA", "request": f"we need a catcher, request number {n}"}  # fmt: skip
    clock = FakeClock()
    with AIStub("fail") as stub:
        async with serving(seeded_sqlite_url, AI_PROVIDER="openai", AI_BASE_URL=stub.base_url,
                           AI_BREAKER_FAILURES=2, AI_BREAKER_COOLDOWN=30,
                           AI_TIMEOUT=2.0) as (client, app):  # fmt: skip
            breaker = app.state.resources.ai.breaker
            breaker.clock = clock  # the cool-down passes when the test says so
            results = []
            for n in range(3):
                response = await client.post(ANALYZE, json=requests(n))
                results.append(await finished(client, response.headers["location"]))
            assert all(r["status"] == "completed" for r in results)
            assert [r["result"]["ai"]["provider"] for r in results] == ["local"] * 3
            assert "failed" in results[0]["result"]["ai"]["fallback_reason"]
            assert "circuit open" in results[2]["result"]["ai"]["fallback_reason"]
            assert stub.calls == 2  # the open circuit kept the third call away
            assert breaker.state is CircuitState.OPEN
            stub.mode = "answer"
            clock.now += 30
            assert breaker.state is CircuitState.HALF_OPEN
            response = await client.post(ANALYZE, json=requests(99))
            trial = await finished(client, response.headers["location"])
            assert trial["result"]["ai"]["provider"] == "openai"
            assert trial["result"]["narrative"].startswith("Stub analysis")
            assert trial["result"]["ai"]["tokens"] == {"prompt": 100, "completion": 20}
            assert breaker.state is CircuitState.CLOSED
