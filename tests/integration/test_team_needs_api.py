"""Team needs on the seeded 2016 season follow the league's rules and each team's own stints."""

from __future__ import annotations

import httpx
import pytest

from app.data.loader import load_extract
from app.data.seasons import build_rows
from tests.support.api_client import fixture_client  # noqa: F401  (the fixture `client`)

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def _positions(client: httpx.AsyncClient, team: str) -> dict[str, dict[str, float]]:
    body = (await client.get(f"/api/v1/teams/{team}/needs")).json()
    return {n["position"]: n for n in body["needs"] + body["strengths"]}


async def test_no_nl_team_lists_a_dh_in_2016(client: httpx.AsyncClient) -> None:
    teams = (await client.get("/api/v1/teams", params={"limit": 50})).json()["items"]
    assert len(teams) == 30
    for team in teams:
        positions = await _positions(client, team["team_key"])
        assert ("DH" in positions) == (team["league"] == "AL"), team["team_key"]


async def test_team_relief_war_counts_only_innings_pitched_for_that_team(
    client: httpx.AsyncClient,
) -> None:
    rows = build_rows(load_extract(2016))
    stints = {(s["player_id"], s["team_key"]): s for s in rows.stints}
    chapman_cubs = stints[("chapmar01", "CHN")]
    chapman_season = next(
        r["war"]
        for r in rows.player_seasons
        if r["player_id"] == "chapmar01" and r["season"] == 2016
    )
    cubs_relief = sum(s["war"] for s in rows.stints if s["team_key"] == "CHN" and s["role"] == "RP")
    yankees_relief = sum(
        s["war"] for s in rows.stints if s["team_key"] == "NYA" and s["role"] == "RP"
    )
    served = await _positions(client, "CHN")
    assert served["RP"]["team_war"] == pytest.approx(cubs_relief, abs=0.01)
    # With his whole season the Cubs would hold his Yankee innings too.
    assert chapman_season - chapman_cubs["war"] > 0.5
    assert served["RP"]["team_war"] < cubs_relief + (chapman_season - chapman_cubs["war"]) - 0.5
    assert (await _positions(client, "NYA"))["RP"]["team_war"] == pytest.approx(
        yankees_relief, abs=0.01
    )
