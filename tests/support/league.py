"""The 2016 league as the trade model sees it, built from the embedded extract in memory.

The same `build_league` the service runs after its queries, fed from `build_rows` instead of
the database, so model tests on real players need no database.
"""

from __future__ import annotations

from collections import defaultdict

from app.data.loader import load_extract
from app.data.seasons import build_rows
from app.services.trade_data import (
    HISTORY_SEASONS,
    League,
    LeagueRows,
    SeasonRecord,
    build_league,
    history_row,
    salary_row,
)


def league_from_extract(season: int = 2016) -> League:
    rows = build_rows(load_extract(season))
    names = {p["player_id"]: p["full_name"] for p in rows.players}
    history = [
        history_row(r["player_id"], names[r["player_id"]], *(r[f] for f in SeasonRecord.__slots__))
        for r in rows.player_seasons
        if r["season"] > season - HISTORY_SEASONS
    ]
    payrolls: dict[str, float] = defaultdict(float)
    for salary in rows.salaries:
        payrolls[salary["team_key"]] += salary["amount"]
    war: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for r in rows.player_seasons:
        if r["season"] == season:
            war[r["team_key"]][r["position"] if r["position"] != "P" else "SP"] += r["war"]
    salary_history = [
        salary_row(h["player_id"], h["season"], h["team_key"], h["amount"], h["service_years"])
        for h in rows.salary_history
    ]
    return build_league(
        LeagueRows(
            season=season,
            history=history,
            teams=[(t["team_key"], t["name"]) for t in rows.teams],
            payrolls=dict(payrolls),
            war_by_position={k: dict(v) for k, v in war.items()},
            salary_history=salary_history,
        )
    )
