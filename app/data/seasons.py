"""Turn a season extract into the rows the database holds: teams, players, player-seasons.

WAR and contracts come from app.domain; this module only groups the extract's rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.data.loader import SeasonExtract
from app.domain.contracts import (
    Contract,
    SeasonAppearances,
    contract_for,
    estimated_salary,
    service_years,
)
from app.domain.fielding import FieldingLine
from app.domain.war import (
    BattingLine,
    LeagueConstants,
    LeagueTotals,
    PitchingLine,
    fip,
    league_constants,
    woba,
)
from app.domain.war_season import SeasonWar, Stint, TeamSeason, season_war

POSITION_COLUMNS = {
    "G_p": "P", "G_c": "C", "G_1b": "1B", "G_2b": "2B", "G_3b": "3B", "G_ss": "SS",
    "G_lf": "LF", "G_cf": "CF", "G_rf": "RF", "G_dh": "DH",
}  # fmt: skip
POSITIONS = tuple(POSITION_COLUMNS.values())
# Each line's fields and the Lahman columns they are read from.
BATTING_COLUMNS = {
    "ab": "AB",
    "h": "H",
    "doubles": "2B",
    "triples": "3B",
    "hr": "HR",
    "bb": "BB",
    "ibb": "IBB",
    "hbp": "HBP",
    "sf": "SF",
    "sh": "SH",
    "sb": "SB",
    "cs": "CS",
}
PITCHING_COLUMNS = {
    "ipouts": "IPouts",
    "hr": "HR",
    "bb": "BB",
    "ibb": "IBB",
    "hbp": "HBP",
    "so": "SO",
    "er": "ER",
    "r": "R",
}
FIELDING_COLUMNS = {
    "outs": "InnOuts",
    "po": "PO",
    "a": "A",
    "e": "E",
    "dp": "DP",
    "pb": "PB",
    "sb": "SB",
    "cs": "CS",
}


@dataclass
class SeasonRows:
    season: int
    teams: list[dict[str, Any]] = field(default_factory=list)
    players: list[dict[str, Any]] = field(default_factory=list)
    player_seasons: list[dict[str, Any]] = field(default_factory=list)
    salaries: list[dict[str, Any]] = field(default_factory=list)
    salary_history: list[dict[str, Any]] = field(default_factory=list)
    """Every salary of the season's players up to it: contracts are derived from it."""
    stints: list[dict[str, Any]] = field(default_factory=list)
    """The season's player-team stints: what team needs count for each team."""
    constants: dict[int, LeagueConstants] = field(default_factory=dict)
    war: dict[int, SeasonWar] = field(default_factory=dict)


def constants_for(extract: SeasonExtract) -> dict[int, LeagueConstants]:
    result = {}
    for year, totals in extract.league.items():
        b, p = totals["batting"], totals["pitching"]
        line = BattingLine(**{name: b[column] for name, column in BATTING_COLUMNS.items()})
        pitching = PitchingLine(**{name: p[column] for name, column in PITCHING_COLUMNS.items()})
        league = LeagueTotals(line, pitching, runs=b["R"], team_games=totals["team_games"])
        result[int(year)] = league_constants(int(year), league)
    return result


def _team_seasons(extract: SeasonExtract) -> dict[int, dict[str, TeamSeason]]:
    """Park factors (Lahman BPF/PPF, 100 = neutral) and balls in play per team-season."""
    found: dict[int, dict[str, TeamSeason]] = defaultdict(dict)
    for t in extract.table("team_seasons").records():
        in_play = _int(t["IPouts"]) - _int(t["SOA"]) + _int(t["HA"]) - _int(t["HRA"])
        found[int(t["yearID"])][t["teamID"]] = TeamSeason(
            team=t["teamID"],
            league=t["lgID"],
            batting_park=_int(t["BPF"]) / 100 if t["BPF"] else 1.0,
            pitching_park=_int(t["PPF"]) / 100 if t["PPF"] else 1.0,
            balls_in_play=float(in_play),
            defensive_outs=_int(t["IPouts"]),
        )
    return found


def _fielding(r: dict[str, Any]) -> FieldingLine:
    return FieldingLine(**{name: _int(r[column]) for name, column in FIELDING_COLUMNS.items()})


def season_stints(extract: SeasonExtract) -> dict[int, list[Stint]]:
    """Every player's stints of each season in the extract, one per player and team."""
    teams = _team_seasons(extract)
    parts: dict[tuple[int, str, str], dict[str, Any]] = defaultdict(
        lambda: {
            "batting": BattingLine(),
            "pitching": PitchingLine(),
            "g": 0,
            "gs": 0,
            "appearances": defaultdict(int),
            "fielding": defaultdict(FieldingLine),
        }
    )
    for r in extract.table("batting").records():
        parts[(r["yearID"], r["playerID"], r["teamID"])]["batting"] += _batting(r)
    for r in extract.table("pitching").records():
        part = parts[(r["yearID"], r["playerID"], r["teamID"])]
        part["pitching"] += _pitching(r)
        part["g"] += _int(r["G"])
        part["gs"] += _int(r["GS"])
    for r in extract.table("appearances").records():
        part = parts[(r["yearID"], r["playerID"], r["teamID"])]
        for column, pos in POSITION_COLUMNS.items():
            part["appearances"][pos] += _int(r[column])
    for r in extract.table("fielding").records():
        if r["POS"] != "P":
            part = parts[(r["yearID"], r["playerID"], r["teamID"])]
            part["fielding"][r["POS"]] += _fielding(r)
    found: dict[int, list[Stint]] = defaultdict(list)
    for (year, pid, team), part in sorted(parts.items()):
        team_season = teams.get(year, {}).get(team)
        found[year].append(
            Stint(
                player_id=pid,
                team=team,
                league=team_season.league if team_season else "",
                batting=part["batting"],
                pitching=part["pitching"],
                games_pitched=part["g"],
                games_started=part["gs"],
                appearances=dict(part["appearances"]),
                fielding=dict(part["fielding"]),
            )
        )
    return found


def war_by_season(
    extract: SeasonExtract,
) -> tuple[dict[int, LeagueConstants], dict[int, SeasonWar]]:
    """The league constants and every stint's WAR for each season of the extract."""
    constants = constants_for(extract)
    teams = _team_seasons(extract)
    stints = season_stints(extract)
    return constants, {
        year: season_war(year, constants[year], stints.get(year, []), teams.get(year, {}))
        for year in sorted(constants)
    }


def _int(value: Any) -> int:
    return int(value) if value is not None else 0


def _batting(r: dict[str, Any]) -> BattingLine:
    return BattingLine(**{name: _int(r[column]) for name, column in BATTING_COLUMNS.items()})


def _pitching(r: dict[str, Any]) -> PitchingLine:
    return PitchingLine(**{name: _int(r[column]) for name, column in PITCHING_COLUMNS.items()})


def age_in(season: int, birth: date | None) -> int | None:
    """Baseball age: age on June 30 of the season."""
    if birth is None:
        return None
    return season - birth.year - (1 if (birth.month, birth.day) > (6, 30) else 0)


PlayerSeasonKey = tuple[str, int]
"""(player id, season)."""


@dataclass
class SeasonTotals:
    """Each player-season's lines, games and games by position, summed over his stints."""

    batting: dict[PlayerSeasonKey, BattingLine] = field(
        default_factory=lambda: defaultdict(BattingLine)
    )
    pitching: dict[PlayerSeasonKey, PitchingLine] = field(
        default_factory=lambda: defaultdict(PitchingLine)
    )
    last_team: dict[PlayerSeasonKey, tuple[int, str, str]] = field(default_factory=dict)
    """The (stint, team, league) of the player's last stint of the season."""
    positions: dict[PlayerSeasonKey, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    games: dict[PlayerSeasonKey, int] = field(default_factory=lambda: defaultdict(int))

    def note_stint(self, r: dict[str, Any]) -> None:
        key = (r["playerID"], r["yearID"])
        if key not in self.last_team or r["stint"] > self.last_team[key][0]:
            self.last_team[key] = (r["stint"], r["teamID"], r["lgID"])


@dataclass
class SeasonSalaries:
    """The season's salary rows, each player's total and the team (and league) paying it."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    total: dict[str, int] = field(default_factory=dict)
    team: dict[str, tuple[str, str]] = field(default_factory=dict)


def build_rows(extract: SeasonExtract) -> SeasonRows:
    season = extract.season
    constants, wars = war_by_season(extract)
    rows = SeasonRows(season=season, constants=constants, war=wars)
    rows.stints = _stint_rows(season, wars[season])
    rows.teams = _team_rows(extract)
    totals = _season_totals(extract)
    history = _appearance_history(extract)
    salaries = _season_salaries(extract, rows.teams)
    rows.salaries = salaries.rows
    rows.salary_history = _salary_history(extract, history)
    war_of = {year: w.by_player() for year, w in wars.items()}
    batting_runs_of = {year: _batting_runs(w) for year, w in wars.items()}
    for p in extract.table("people").records():
        player = _player_row(p, _primary_position(p["playerID"], extract.seasons, totals.positions))
        rows.players.append(player)
        for year in extract.seasons:
            key = (player["player_id"], year)
            if key not in totals.games and not (
                year == season and player["player_id"] in salaries.total
            ):
                continue
            rows.player_seasons.append(
                _player_season_row(
                    player,
                    year,
                    extract,
                    totals,
                    salaries,
                    constants[year],
                    war=war_of[year].get(player["player_id"], 0.0),
                    batting_runs=batting_runs_of[year].get(player["player_id"], 0.0),
                    history=history[player["player_id"]],
                )
            )
    return rows


def _batting_runs(war: SeasonWar) -> dict[str, float]:
    runs: dict[str, float] = defaultdict(float)
    for stint in war.stints:
        runs[stint.player_id] += stint.batting
    return dict(runs)


def _stint_rows(season: int, war: SeasonWar) -> list[dict[str, Any]]:
    return [
        {
            "player_id": stint.player_id,
            "season": season,
            "team_key": stint.team,
            "league": stint.league,
            "role": stint.role,
            "plate_appearances": stint.plate_appearances,
            "innings_pitched": round(stint.innings_pitched, 2),
            "war": round(stint.war, 2),
        }
        for stint in war.stints
    ]


def _team_rows(extract: SeasonExtract) -> list[dict[str, Any]]:
    return [
        {
            "season": extract.season,
            "team_key": t["teamID"],
            "franchise": t["franchID"],
            "name": t["name"],
            "league": t["lgID"],
            "division": t["divID"],
            "wins": _int(t["W"]),
            "losses": _int(t["L"]),
            "runs_scored": _int(t["R"]),
            "runs_allowed": _int(t["RA"]),
            "park": t["park"],
        }
        for t in extract.table("teams").records()
    ]


def _season_totals(extract: SeasonExtract) -> SeasonTotals:
    totals = SeasonTotals()
    for r in extract.table("batting").records():
        totals.batting[(r["playerID"], r["yearID"])] += _batting(r)
        totals.note_stint(r)
    for r in extract.table("pitching").records():
        totals.pitching[(r["playerID"], r["yearID"])] += _pitching(r)
        totals.note_stint(r)
    for r in extract.table("appearances").records():
        key = (r["playerID"], r["yearID"])
        totals.games[key] += _int(r["G_all"])
        for column, pos in POSITION_COLUMNS.items():
            totals.positions[key][pos] += _int(r[column])
    return totals


def _appearance_history(extract: SeasonExtract) -> dict[str, list[SeasonAppearances]]:
    history: dict[str, list[SeasonAppearances]] = defaultdict(list)
    for r in extract.table("history").records():
        history[r["playerID"]].append(
            SeasonAppearances(r["yearID"], _int(r["G_all"]), _int(r["GS"]), _int(r["G_p"]))
        )
    return history


def _season_salaries(extract: SeasonExtract, teams: list[dict[str, Any]]) -> SeasonSalaries:
    found = SeasonSalaries()
    league_of_team = {t["team_key"]: t["league"] for t in teams}
    for r in extract.table("salaries").records():
        pid, team, amount = r["playerID"], r["teamID"], int(r["salary"])
        found.rows.append(
            {"season": extract.season, "player_id": pid, "team_key": team, "amount": amount}
        )
        found.total[pid] = found.total.get(pid, 0) + amount
        found.team[pid] = (team, league_of_team.get(team, ""))
    return found


def _player_row(p: dict[str, Any], primary_position: str) -> dict[str, Any]:
    first, last = p["nameFirst"] or "", p["nameLast"] or ""
    return {
        "player_id": p["playerID"],
        "first_name": first,
        "last_name": last,
        "full_name": f"{first} {last}".strip(),
        "sort_name": f"{last}, {first}".lower(),
        "birth_date": date.fromisoformat(p["birth"]) if p["birth"] else None,
        "bats": p["bats"],
        "throws": p["throws"],
        "debut": date.fromisoformat(p["debut"]) if p["debut"] else None,
        "primary_position": primary_position,
    }


def _player_season_row(
    player: dict[str, Any],
    year: int,
    extract: SeasonExtract,
    totals: SeasonTotals,
    salaries: SeasonSalaries,
    constants: LeagueConstants,
    *,
    war: float,
    batting_runs: float,
    history: list[SeasonAppearances],
) -> dict[str, Any]:
    """One player's season: where he ended it, his lines, WAR, salary and contract."""
    pid = player["player_id"]
    key = (pid, year)
    team = totals.last_team.get(key)
    team_key, league = (team[1], team[2]) if team else salaries.team[pid]
    by_pos = totals.positions.get(key, {})
    bline = totals.batting.get(key, BattingLine())
    pline = totals.pitching.get(key, PitchingLine())
    contract = contract_for(service_years(history, year))
    salary, salary_source = (
        _season_salary(extract, salaries.total.get(pid), contract, war)
        if year == extract.season
        else (None, None)
    )
    active = [pos for pos in POSITIONS if by_pos.get(pos, 0)]
    return {
        "player_id": pid,
        "season": year,
        "team_key": team_key,
        "league": league,
        "position": (
            max(active, key=lambda pos: by_pos[pos]) if active else player["primary_position"]
        ),
        "age": age_in(year, player["birth_date"]),
        "games": totals.games.get(key, 0),
        "plate_appearances": bline.pa,
        "home_runs": bline.hr,
        "stolen_bases": bline.sb,
        "woba": round(woba(bline, constants), 4) if bline.pa else None,
        "batting_runs": round(batting_runs, 2),
        "innings_pitched": round(pline.ip, 2),
        "strikeouts": pline.so,
        "fip": _round(fip(pline, constants), 3),
        "war": round(war, 2),
        "salary": salary,
        "salary_source": salary_source,
        "service_years": contract.service_years,
        "contract_status": contract.status.value,
        "years_of_control": contract.years_of_control,
    }


def _season_salary(
    extract: SeasonExtract, paid: int | None, contract: Contract, war: float
) -> tuple[int | None, str | None]:
    """The data season's salary and where it came from: Lahman's, or an estimate when the
    extract has no real salaries."""
    if paid is not None:
        return paid, "lahman"
    if extract.salaries_estimated:
        return estimated_salary(contract, war, extract.season), "estimated"
    return None, None


def _salary_history(
    extract: SeasonExtract, history: dict[str, list[SeasonAppearances]]
) -> list[dict[str, Any]]:
    """Every salary of the season's players up to it, with the service each had entering it
    (extracts written before the section existed have none)."""
    if "salary_history" not in extract.tables:
        return []
    return [
        {
            "data_season": extract.season,
            "player_id": r["playerID"],
            "season": r["yearID"],
            "team_key": r["teamID"],
            "amount": int(r["salary"]),
            "service_years": service_years(history[r["playerID"]], r["yearID"] - 1),
        }
        for r in extract.table("salary_history").records()
    ]


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _primary_position(
    pid: str, seasons: list[int], positions: dict[tuple[str, int], dict[str, int]]
) -> str:
    """The position with most games over the extract's seasons (a pitcher when unknown)."""
    totals: dict[str, int] = defaultdict(int)
    for year in seasons:
        for pos, g in positions.get((pid, year), {}).items():
            totals[pos] += g
    played = [pos for pos in POSITIONS if totals.get(pos, 0)]
    return max(played, key=lambda pos: totals[pos]) if played else "P"
