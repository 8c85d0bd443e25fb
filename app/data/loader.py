"""Read the embedded Lahman extract (gzip JSON) with the standard library alone."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent


class ExtractMissing(FileNotFoundError):
    """No extract exists for the requested season."""


@dataclass(frozen=True)
class Table:
    """A column/rows table as written by `btai data import`."""

    columns: list[str]
    rows: list[list[Any]]

    def records(self) -> Iterator[dict[str, Any]]:
        for row in self.rows:
            yield dict(zip(self.columns, row, strict=True))


@dataclass(frozen=True)
class SeasonExtract:
    season: int
    seasons: list[int]
    salaries_estimated: bool
    league: dict[str, Any]
    tables: dict[str, Table]

    def table(self, name: str) -> Table:
        return self.tables[name]


def extract_path(season: int, data_dir: Path = DATA_DIR) -> Path:
    return data_dir / f"lahman_{season}.json.gz"


def available_seasons(data_dir: Path = DATA_DIR) -> list[int]:
    found = (
        p.name.removeprefix("lahman_").split(".")[0] for p in data_dir.glob("lahman_*.json.gz")
    )
    return sorted(int(s) for s in found if s.isdigit())


def find_extract_dir(season: int, data_dir: Path | None = None) -> Path:
    """Where `season`'s extract is read from: `data_dir` when it holds one, else the embedded
    data (ExtractMissing, naming the seasons of both, when neither does)."""
    if data_dir is not None and extract_path(season, data_dir).is_file():
        return data_dir
    if extract_path(season).is_file():
        return DATA_DIR
    have = sorted(set(available_seasons()) | set(available_seasons(data_dir or DATA_DIR)))
    listed = ", ".join(str(s) for s in have) or "none"
    if data_dir is None:
        raise ExtractMissing(f"no embedded data for season {season} (available: {listed})")
    raise ExtractMissing(
        f"no data for season {season} in {data_dir} or the embedded data (available: {listed})"
    )


def load_extract(season: int, data_dir: Path = DATA_DIR) -> SeasonExtract:
    """Load the extract of `season`; raises ExtractMissing naming the seasons that exist."""
    path = extract_path(season, data_dir)
    if not path.is_file():
        have = ", ".join(str(s) for s in available_seasons(data_dir)) or "none"
        raise ExtractMissing(f"no embedded data for season {season} (available: {have})")
    with gzip.open(path, "rb") as handle:
        raw = json.load(handle)
    tables = {
        name: Table(value["columns"], value["rows"])
        for name, value in raw.items()
        if isinstance(value, dict) and "columns" in value
    }
    return SeasonExtract(
        season=int(raw["season"]),
        seasons=[int(s) for s in raw["seasons"]],
        salaries_estimated=bool(raw.get("salaries_estimated", False)),
        league=raw["league"],
        tables=tables,
    )
