"""Wins above replacement (WAR): counting lines, a season's run environment and rate formulas.

Everything here is pure. `league_constants` turns a season's MLB totals into its run
environment and linear weights; `app.domain.war_season` applies them to every stint of the
season, with park factors, fielding, positional and league adjustments and the replacement
levels that make the league add up. Every constant is listed with its source in the README
("Model constants", WAR).

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
    batting runs  = (wOBA - lgwOBA) / scale * PA + (1 - BPF/100) * lgR/PA * PA
    base running  = wSB = rSB*SB - rCS*CS - lgwSB * (1B + uBB + HBP),
                    lgwSB = (rSB*lgSB - rCS*lgCS) / (lg1B + lguBB + lgHBP)
    positional    = adjustment per 1,458 innings (162 games) at the position:
                    C +12.5, SS +7.5, 2B/3B/CF +2.5, LF/RF -7.5, 1B -12.5, DH -17.5

Pitchers
    FIP           = (13*HR + 3*(BB - IBB + HBP) - 2*SO) / IP + cFIP, divided by PPF/100,
    cFIP          = lgRA9 - (13*lgHR + 3*(lgBB - lgIBB + lgHBP) - 2*lgSO) / lgIP, per league
                    (on the RA9 scale, so unearned runs are charged as in runs allowed)
    runs          = (lgRA9 - FIP) * IP / 9
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

FULL_SEASON_GAMES = 2430
"""Games in a 162-game, 30-team season: the unit the replacement pool is stated in."""
POSITION_PLAYER_WAR_SHARE = 570
PITCHER_WAR_SHARE = 430
"""1,000 WAR per 2,430 games, 57% to position players (the level FanGraphs and
Baseball-Reference agreed on in 2013)."""
INNINGS_PER_SEASON_OUTS = 162 * 27
"""Outs in 162 nine-inning games: the playing time a positional adjustment is stated for."""

# Runs per 162 games (1,458 innings) at the position (FanGraphs' positional adjustments).
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

AL_DH_FROM = 1973
UNIVERSAL_DH_SEASONS = frozenset({2020})
"""The 2020 season played the DH in both leagues before it became permanent in 2022."""
NL_DH_FROM = 2022


def uses_dh(league: str, season: int) -> bool:
    """Whether `league` played with a designated hitter in `season`."""
    if league == "AL":
        return season >= AL_DH_FROM
    return season >= NL_DH_FROM or season in UNIVERSAL_DH_SEASONS


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

    @property
    def times_on_first(self) -> int:
        """Times the batter reached first with second base open to steal: 1B + uBB + HBP."""
        return self.singles + self.ubb + self.hbp

    def __add__(self, other: BattingLine) -> BattingLine:
        return BattingLine(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


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
        return PitchingLine(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


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
    runs_per_pa: float
    run_sb: float
    run_cs: float
    league_wsb: float
    games: float
    """Games played in the season (team-games / 2): 2,430 in a full season."""


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


def fip_core(line: PitchingLine) -> float:
    return (13 * line.hr + 3 * (line.bb - line.ibb + line.hbp) - 2 * line.so) / line.ip


def league_constants(season: int, totals: LeagueTotals) -> LeagueConstants:
    """Derive the season's run environment and wOBA weights from MLB's totals."""
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
        fip_constant=league_ra9 - fip_core(p),
        runs_per_pa=totals.runs / b.pa,
        run_sb=r_sb,
        run_cs=r_cs,
        league_wsb=(r_sb * b.sb - r_cs * b.cs) / b.times_on_first,
        games=totals.team_games / 2,
    )
    return LeagueConstants(**{**partial.__dict__, "league_woba": woba(b, partial)})


def positional_runs(outs_by_position: Mapping[str, float]) -> float:
    """Runs for where a player played, pro-rated by outs in the field (1,458 innings = 1)."""
    return sum(
        POSITIONAL_ADJUSTMENT.get(pos, 0.0) * outs / INNINGS_PER_SEASON_OUTS
        for pos, outs in outs_by_position.items()
    )


def batting_runs(line: BattingLine, c: LeagueConstants, park_factor: float = 1.0) -> float:
    """Runs above an average hitter over the player's plate appearances, park-neutral.

    `park_factor` is the batting park factor of the stint's team (Lahman BPF / 100); a hitter
    in a hitters' park gives back the runs his park added for an average hitter.
    """
    if not line.pa:
        return 0.0
    above_average = (woba(line, c) - c.league_woba) / c.woba_scale * line.pa
    return above_average + (1 - park_factor) * c.runs_per_pa * line.pa


def baserunning_runs(line: BattingLine, c: LeagueConstants) -> float:
    """Stolen-base runs (wSB): steals and caught stealing against the league's rate."""
    own = c.run_sb * line.sb - c.run_cs * line.cs
    return own - c.league_wsb * line.times_on_first


def fip(line: PitchingLine, c: LeagueConstants, fip_constant: float | None = None) -> float | None:
    """FIP on the RA9 scale; None without an out recorded."""
    if not line.ipouts:
        return None
    return fip_core(line) + (c.fip_constant if fip_constant is None else fip_constant)


def pitching_runs(
    line: PitchingLine,
    c: LeagueConstants,
    *,
    league_ra9: float | None = None,
    fip_constant: float | None = None,
    park_factor: float = 1.0,
) -> float:
    """Runs saved against an average pitcher of the league, by park-neutral FIP."""
    value = fip(line, c, fip_constant)
    if value is None:
        return 0.0
    ra9 = c.league_ra9 if league_ra9 is None else league_ra9
    return (ra9 - value / park_factor) * line.ip / 9
