"""Wins above replacement (WAR) per player-season, from counting stats and league totals.

Everything here is pure: the constants of a season are derived from that season's league
totals, then applied to one player's line.

League constants (per season, both leagues together)
    runs per out    RPO   = R / outs, outs = IPouts
    runs per win    RPW   = 9 * (R / IP) * 1.5 + 3
    wOBA weights follow Tango's derivation of linear weights from the run environment:
        rBB  = RPO + 0.14          rHBP = rBB + 0.025        r1B = rBB + 0.155
        r2B  = r1B + 0.3           r3B  = r2B + 0.27         rHR = 1.4
        rSB  = 0.2                 rCS  = 2 * RPO + 0.075
        runs = rBB*uBB + rHBP*HBP + r1B*1B + r2B*2B + r3B*3B + rHR*HR + rSB*SB - rCS*CS
        run_minus = runs / (AB - H + SF)         (value of an out, relative to average)
        raw wOBA  = sum((r_event + run_minus) * event) / (AB + uBB + HBP + SF) for the league
        scale     = lgOBP / raw wOBA            (so that lgwOBA equals lgOBP)
        w_event   = (r_event + run_minus) * scale, for uBB, HBP, 1B, 2B, 3B, HR
    with uBB = BB - IBB and lgOBP = (H + uBB + HBP) / (AB + uBB + HBP + SF).
    lgwOBA is the weights applied to the league line.

Hitters
    wOBA          = (wBB*uBB + wHBP*HBP + w1B*1B + w2B*2B + w3B*3B + wHR*HR) / (AB + uBB + HBP + SF)
    batting runs  = (wOBA - lgwOBA) / scale * PA,  PA = AB + BB + HBP + SF + SH
    positional    = sum over positions of games * adjustment / 162, adjustments in runs per 162
                    games: C +12.5, SS +7.5, 2B/3B/CF +2.5, LF/RF -7.5, 1B -12.5, DH -17.5
    replacement   = 570 position-player WAR per 2430 games, spread over the league's PA:
                    570 * (games / 2430) * RPW / lgPA runs per PA
    WAR           = (batting runs + positional + replacement) / RPW
    Fielding and base-running beyond SB/CS are not modelled (Lahman has no play-by-play).

Pitchers
    FIP           = (13*HR + 3*(BB - IBB + HBP) - 2*SO) / IP + cFIP,
    cFIP          = lgRA9 - (13*lgHR + 3*(lgBB - lgIBB + lgHBP) - 2*lgSO) / lgIP
                    (on the RA9 scale, so unearned runs are charged as in runs allowed)
    replacement   = 430 pitcher WAR per 2430 games, spread over the league's innings
    WAR           = ((lgRA9 - FIP) * IP / 9 + replacement runs per IP * IP) / RPW
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

FULL_SEASON_GAMES = 2430
POSITION_PLAYER_WAR_SHARE = 570
PITCHER_WAR_SHARE = 430

# Runs per 162 games played at the position.
POSITIONAL_ADJUSTMENT: Mapping[str, float] = {
    "C": 12.5,
    "SS": 7.5,
    "2B": 2.5,
    "3B": 2.5,
    "CF": 2.5,
    "LF": -7.5,
    "RF": -7.5,
    "1B": -12.5,
    "DH": -17.5,
    "P": 0.0,
}


@dataclass(frozen=True)
class BattingLine:
    ab: int = 0
    h: int = 0
    doubles: int = 0
    triples: int = 0
    hr: int = 0
    bb: int = 0
    ibb: int = 0
    hbp: int = 0
    sf: int = 0
    sh: int = 0
    sb: int = 0
    cs: int = 0

    @property
    def singles(self) -> int:
        return self.h - self.doubles - self.triples - self.hr

    @property
    def pa(self) -> int:
        return self.ab + self.bb + self.hbp + self.sf + self.sh

    @property
    def ubb(self) -> int:
        return self.bb - self.ibb

    def __add__(self, other: BattingLine) -> BattingLine:
        return BattingLine(
            *(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__)
        )


@dataclass(frozen=True)
class PitchingLine:
    ipouts: int = 0
    hr: int = 0
    bb: int = 0
    ibb: int = 0
    hbp: int = 0
    so: int = 0
    er: int = 0
    r: int = 0

    @property
    def ip(self) -> float:
        return self.ipouts / 3

    def __add__(self, other: PitchingLine) -> PitchingLine:
        return PitchingLine(
            *(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__)
        )


@dataclass(frozen=True)
class LeagueTotals:
    """A season's totals for all of MLB: batting, pitching and team-games played."""

    batting: BattingLine
    pitching: PitchingLine
    runs: int
    team_games: int


@dataclass(frozen=True)
class LeagueConstants:
    season: int
    runs_per_out: float
    runs_per_win: float
    woba_scale: float
    w_bb: float
    w_hbp: float
    w_1b: float
    w_2b: float
    w_3b: float
    w_hr: float
    league_woba: float
    league_ra9: float
    fip_constant: float
    replacement_runs_per_pa: float
    replacement_runs_per_ip: float


def _woba_numerator(line: BattingLine, c: LeagueConstants) -> float:
    return (
        c.w_bb * line.ubb
        + c.w_hbp * line.hbp
        + c.w_1b * line.singles
        + c.w_2b * line.doubles
        + c.w_3b * line.triples
        + c.w_hr * line.hr
    )


def woba(line: BattingLine, c: LeagueConstants) -> float:
    denominator = line.ab + line.ubb + line.hbp + line.sf
    return _woba_numerator(line, c) / denominator if denominator else 0.0


def _fip_core(line: PitchingLine) -> float:
    return (13 * line.hr + 3 * (line.bb - line.ibb + line.hbp) - 2 * line.so) / line.ip


def league_constants(season: int, totals: LeagueTotals) -> LeagueConstants:
    """Derive the season's run environment, wOBA weights and replacement levels."""
    b, p = totals.batting, totals.pitching
    runs_per_out = totals.runs / p.ipouts
    runs_per_win = 9 * (totals.runs / p.ip) * 1.5 + 3
    r_bb = runs_per_out + 0.14
    r_hbp = r_bb + 0.025
    r_1b = r_bb + 0.155
    r_2b = r_1b + 0.3
    r_3b = r_2b + 0.27
    r_hr = 1.4
    r_sb, r_cs = 0.2, 2 * runs_per_out + 0.075
    runs = (
        (r_bb * b.ubb + r_hbp * b.hbp + r_1b * b.singles + r_2b * b.doubles + r_3b * b.triples)
        + r_hr * b.hr
        + r_sb * b.sb
        - r_cs * b.cs
    )
    run_minus = runs / (b.ab - b.h + b.sf)
    league_obp = (b.h + b.ubb + b.hbp) / (b.ab + b.ubb + b.hbp + b.sf)
    raw = r_bb * b.ubb + r_hbp * b.hbp + r_1b * b.singles + r_2b * b.doubles
    raw += r_3b * b.triples + r_hr * b.hr + run_minus * (b.ubb + b.hbp + b.h)
    scale = league_obp / (raw / (b.ab + b.ubb + b.hbp + b.sf))
    games = totals.team_games / 2
    league_ra9 = 9 * totals.runs / p.ip
    partial = LeagueConstants(
        season=season,
        runs_per_out=runs_per_out,
        runs_per_win=runs_per_win,
        woba_scale=scale,
        w_bb=(r_bb + run_minus) * scale,
        w_hbp=(r_hbp + run_minus) * scale,
        w_1b=(r_1b + run_minus) * scale,
        w_2b=(r_2b + run_minus) * scale,
        w_3b=(r_3b + run_minus) * scale,
        w_hr=(r_hr + run_minus) * scale,
        league_woba=0.0,
        league_ra9=league_ra9,
        fip_constant=league_ra9 - _fip_core(p),
        replacement_runs_per_pa=POSITION_PLAYER_WAR_SHARE
        * (games / FULL_SEASON_GAMES)
        * runs_per_win
        / b.pa,
        replacement_runs_per_ip=PITCHER_WAR_SHARE
        * (games / FULL_SEASON_GAMES)
        * runs_per_win
        / p.ip,
    )
    return LeagueConstants(**{**partial.__dict__, "league_woba": woba(b, partial)})


def positional_runs(games_by_position: Mapping[str, int]) -> float:
    """Runs for where a player played, pro-rated by games (162 games at SS = +7.5)."""
    return sum(
        POSITIONAL_ADJUSTMENT.get(pos, 0.0) * games / 162
        for pos, games in games_by_position.items()
    )


def batting_runs(line: BattingLine, c: LeagueConstants) -> float:
    """Runs above an average hitter over the player's plate appearances."""
    if not line.pa:
        return 0.0
    return (woba(line, c) - c.league_woba) / c.woba_scale * line.pa


def batting_war(
    line: BattingLine, games_by_position: Mapping[str, int], c: LeagueConstants
) -> float:
    runs = (
        batting_runs(line, c)
        + positional_runs(games_by_position)
        + c.replacement_runs_per_pa * line.pa
    )
    return runs / c.runs_per_win


def fip(line: PitchingLine, c: LeagueConstants) -> float | None:
    """FIP on the RA9 scale; None without an out recorded."""
    return _fip_core(line) + c.fip_constant if line.ipouts else None


def pitching_war(line: PitchingLine, c: LeagueConstants) -> float:
    value = fip(line, c)
    if value is None:
        return 0.0
    runs = (c.league_ra9 - value) * line.ip / 9 + c.replacement_runs_per_ip * line.ip
    return runs / c.runs_per_win


def player_war(
    batting: BattingLine,
    pitching: PitchingLine,
    games_by_position: Mapping[str, int],
    c: LeagueConstants,
) -> float:
    """A season's WAR: pitchers by FIP; everyone else by batting (pitchers' hitting ignored)."""
    pitched = games_by_position.get("P", 0)
    fielded = sum(g for pos, g in games_by_position.items() if pos != "P")
    if pitched and pitched >= fielded:
        return pitching_war(pitching, c)
    hitting = batting_war(batting, games_by_position, c)
    return hitting + (pitching_war(pitching, c) if pitching.ipouts else 0.0)
