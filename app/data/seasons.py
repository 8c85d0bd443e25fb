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
        line = BattingLine(
            ab=b["AB"], h=b["H"], doubles=b["2B"], triples=b["3B"], hr=b["HR"], bb=b["BB"],
            ibb=b["IBB"], hbp=b["HBP"], sf=b["SF"], sh=b["SH"], sb=b["SB"], cs=b["CS"],
        )  # fmt: skip
        pitching = PitchingLine(
            ipouts=p["IPouts"], hr=p["HR"], bb=p["BB"], ibb=p["IBB"], hbp=p["HBP"],
            so=p["SO"], er=p["ER"], r=p["R"],
        )  # fmt: skip
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
    return FieldingLine(
        outs=_int(r["InnOuts"]), po=_int(r["PO"]), a=_int(r["A"]), e=_int(r["E"]),
        dp=_int(r["DP"]), pb=_int(r["PB"]), sb=_int(r["SB"]), cs=_int(r["CS"]),
    )  # fmt: skip


def season_stints(extract: SeasonExtract) -> dict[int, list[Stint]]:
    """Every player's stints of each season in the extract, one per player and team."""
    teams = _team_seasons(extract)
    parts: dict[tuple[int, str, str], dict[str, Any]] = defaultdict(
        lambda: {
            "batting": BattingLine(), "pitching": PitchingLine(), "g": 0, "gs": 0,
            "appearances": defaultdict(int), "fielding": defaultdict(FieldingLine),
        }
    )  # fmt: skip
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
    return BattingLine(
        ab=_int(r["AB"]), h=_int(r["H"]), doubles=_int(r["2B"]), triples=_int(r["3B"]),
        hr=_int(r["HR"]), bb=_int(r["BB"]), ibb=_int(r["IBB"]), hbp=_int(r["HBP"]),
        sf=_int(r["SF"]), sh=_int(r["SH"]), sb=_int(r["SB"]), cs=_int(r["CS"]),
    )  # fmt: skip


def _pitching(r: dict[str, Any]) -> PitchingLine:
    return PitchingLine(
        ipouts=_int(r["IPouts"]), hr=_int(r["HR"]), bb=_int(r["BB"]), ibb=_int(r["IBB"]),
        hbp=_int(r["HBP"]), so=_int(r["SO"]), er=_int(r["ER"]), r=_int(r["R"]),
    )  # fmt: skip


def age_in(season: int, birth: date | None) -> int | None:
    """Baseball age: age on June 30 of the season."""
    if birth is None:
        return None
    return season - birth.year - (1 if (birth.month, birth.day) > (6, 30) else 0)


def build_rows(extract: SeasonExtract) -> SeasonRows:
    season = extract.season
    constants, wars = war_by_season(extract)
    rows = SeasonRows(season=season, constants=constants, war=wars)
    war_of = {year: w.by_player() for year, w in wars.items()}
    batting_runs_of: dict[int, dict[str, float]] = {}
    for year, w in wars.items():
        runs: dict[str, float] = defaultdict(float)
        for stint in w.stints:
            runs[stint.player_id] += stint.batting
        batting_runs_of[year] = dict(runs)
    for stint in wars[season].stints:
        rows.stints.append(
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
        )
    for t in extract.table("teams").records():
        rows.teams.append(
            {
                "season": season,
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
        )

    batting: dict[tuple[str, int], BattingLine] = defaultdict(BattingLine)
    pitching: dict[tuple[str, int], PitchingLine] = defaultdict(PitchingLine)
    last_team: dict[tuple[str, int], tuple[int, str, str]] = {}
    for r in extract.table("batting").records():
        key = (r["playerID"], r["yearID"])
        batting[key] += _batting(r)
        if key not in last_team or r["stint"] > last_team[key][0]:
            last_team[key] = (r["stint"], r["teamID"], r["lgID"])
    for r in extract.table("pitching").records():
        key = (r["playerID"], r["yearID"])
        pitching[key] += _pitching(r)
        if key not in last_team or r["stint"] > last_team[key][0]:
            last_team[key] = (r["stint"], r["teamID"], r["lgID"])
    positions: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    games: dict[tuple[str, int], int] = defaultdict(int)
    for r in extract.table("appearances").records():
        key = (r["playerID"], r["yearID"])
        games[key] += _int(r["G_all"])
        for column, pos in POSITION_COLUMNS.items():
            positions[key][pos] += _int(r[column])

    history: dict[str, list[SeasonAppearances]] = defaultdict(list)
    for r in extract.table("history").records():
        history[r["playerID"]].append(
            SeasonAppearances(r["yearID"], _int(r["G_all"]), _int(r["GS"]), _int(r["G_p"]))
        )

    salary_of: dict[str, int] = {}
    team_of_salary: dict[str, tuple[str, str]] = {}
    league_of_team = {t["team_key"]: t["league"] for t in rows.teams}
    for r in extract.table("salaries").records():
        rows.salaries.append(
            {"season": season, "player_id": r["playerID"], "team_key": r["teamID"],
             "amount": int(r["salary"])}
        )  # fmt: skip
        salary_of[r["playerID"]] = salary_of.get(r["playerID"], 0) + int(r["salary"])
        team_of_salary[r["playerID"]] = (r["teamID"], league_of_team.get(r["teamID"], ""))

    rows.salary_history = _salary_history(extract, history)

    for p in extract.table("people").records():
        pid = p["playerID"]
        birth = date.fromisoformat(p["birth"]) if p["birth"] else None
        first, last = p["nameFirst"] or "", p["nameLast"] or ""
        primary = _primary_position(pid, extract.seasons, positions)
        rows.players.append(
            {
                "player_id": pid,
                "first_name": first,
                "last_name": last,
                "full_name": f"{first} {last}".strip(),
                "sort_name": f"{last}, {first}".lower(),
                "birth_date": birth,
                "bats": p["bats"],
                "throws": p["throws"],
                "debut": date.fromisoformat(p["debut"]) if p["debut"] else None,
                "primary_position": primary,
            }
        )
        for year in extract.seasons:
            key = (pid, year)
            if key not in games and not (year == season and pid in salary_of):
                continue
            team = last_team.get(key)
            team_key, league = (team[1], team[2]) if team else team_of_salary[pid]
            by_pos = positions.get(key, {})
            c = rows.constants[year]
            bline, pline = batting.get(key, BattingLine()), pitching.get(key, PitchingLine())
            war = war_of[year].get(pid, 0.0)
            contract = contract_for(service_years(history[pid], year))
            salary = salary_of.get(pid) if year == season else None
            salary_source = "lahman" if salary is not None else None
            if year == season and salary is None and extract.salaries_estimated:
                salary, salary_source = estimated_salary(contract, war, year), "estimated"
            active = [pos for pos in POSITIONS if by_pos.get(pos, 0)]
            rows.player_seasons.append(
                {
                    "player_id": pid,
                    "season": year,
                    "team_key": team_key,
                    "league": league,
                    "position": (max(active, key=lambda pos: by_pos[pos]) if active else primary),
                    "age": age_in(year, birth),
                    "games": games.get(key, 0),
                    "plate_appearances": bline.pa,
                    "home_runs": bline.hr,
                    "stolen_bases": bline.sb,
                    "woba": round(woba(bline, c), 4) if bline.pa else None,
                    "batting_runs": round(batting_runs_of[year].get(pid, 0.0), 2),
                    "innings_pitched": round(pline.ip, 2),
                    "strikeouts": pline.so,
                    "fip": _round(fip(pline, c), 3),
                    "war": round(war, 2),
                    "salary": salary,
                    "salary_source": salary_source,
                    "service_years": contract.service_years,
                    "contract_status": contract.status.value,
                    "years_of_control": contract.years_of_control,
                }
            )
    return rows


def _salary_history(
    extract: SeasonExtract, history: dict[str, list[SeasonAppearances]]
) -> list[dict[str, Any]]:
    """Every salary of the season's players up to it, with the service each had entering it
    (extracts written before the section existed have none)."""
    if "salary_history" not in extract.tables:
        return []
    return [
        {"data_season": extract.season, "player_id": r["playerID"], "season": r["yearID"],
         "team_key": r["teamID"], "amount": int(r["salary"]),
         "service_years": service_years(history[r["playerID"]], r["yearID"] - 1)}
        for r in extract.table("salary_history").records()
    ]  # fmt: skip


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
