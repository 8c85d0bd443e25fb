"""Player valuation: projected WAR per contract year, salary, surplus value, fit, risk.

Pure and deterministic: no I/O, no clock, no randomness. The model, year by year of the
player's contract (`app.domain.contracts`: guaranteed years, club options, renewals and
arbitration years until free agency):

* **Projection** (Marcel-style). WAR of the last three seasons weighted 5/4/3 (latest first)
  becomes a rate per unit of playing time (plate appearances; innings pitched are converted to
  batters faced). The rate is regressed toward the league's real mean rate for the player's role
  (hitter, starter, reliever; `mean_war_rate`, measured from the season) by adding
  `REGRESSION_PLAYING_TIME` units of league-average play, so a short sample says little.
  Playing time projects as half of last season plus a tenth of the one before plus a base.
* **Aging.** Each later year adds the aging-curve step for the age reached to the rate (the step
  is wins per full season, `FULL_SEASON_PLAYING_TIME`), so a young player grows from any
  starting point, and young players' playing time grows by `YOUNG_PLAYING_TIME_GROWTH` a year.
* **Price.** Dollars per WAR for the season (`dollars_per_war`), rising with market inflation.
* **Salary** per contract year: the contract's figure (actual this season, estimated later,
  or stated by the request); an arbitration year is priced by `arbitration_salary` from the
  salary before it and the WAR projected for the platform year before. A club option is
  exercised only when the projected market value exceeds its salary; declined, the player goes.
* **Surplus value** = Σ (projected WAR × $/WAR − salary) / (1 + DISCOUNT_RATE)^year.
* **Team fit.** A player who fills one of a team's ranked needs is worth `NEED_FIT_BONUS[rank]`
  more of his discounted WAR value to that team.
* **Risk** (0..1): age past the peak, volatility of recent WAR, a drop in games played.
* **Payroll** against the season's luxury-tax (Competitive Balance Tax) threshold.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from app.domain.contracts import (
    ARBITRATION_YEARS,
    ContractKind,
    ContractYear,
    PlayerContract,
    SalaryBasis,
    YearTerms,
    arbitration_salary,
    dollars_per_war,
)
from app.domain.contracts import league_minimum as _league_minimum

# --- projection ------------------------------------------------------------------------------
SEASON_WEIGHTS = (5.0, 4.0, 3.0)
"""Weights of the last three seasons, latest first (Marcel's 5/4/3)."""
BATTERS_FACED_PER_INNING = 4.3
"""Converts innings pitched to plate appearances so hitters and pitchers share one scale."""
REGRESSION_PLAYING_TIME = 1200.0
"""League-average plate appearances added to the weighted sample (Marcel's 1,200 PA)."""
LEAGUE_MEAN_WAR_PER_PA = 1.0 / 600.0
"""The mean a player regresses toward when his role's league mean is not given."""
FULL_SEASON_PLAYING_TIME = 600.0
"""An aging step is wins per this much playing time (a full season's plate appearances)."""
YOUNG_PLAYING_TIME_GROWTH = 50.0
YOUNG_PLAYING_TIME_AGE = 25
"""Through age 25 a player's projected playing time grows by 50 PA a year (to the cap)."""
PROJECTED_PT_LAST, PROJECTED_PT_PREVIOUS, PROJECTED_PT_BASE = 0.5, 0.1, 200.0
"""Projected playing time = 0.5 × last season + 0.1 × the season before + 200 PA."""
MAX_PROJECTED_PT = 720.0
"""No one projects past a full, healthy season's worth of plate appearances."""
REPLACEMENT_WAR = 0.0
"""A projection below replacement is floored: a team would replace such a player."""

AGING_STEPS: tuple[tuple[int, float], ...] = (
    (24, 0.6),  # age <= 24: still improving fast
    (26, 0.3),
    (29, 0.0),  # the plateau of the prime years
    (32, -0.4),
    (35, -0.6),
    (200, -0.8),  # 36 and older
)
"""WAR gained (lost) from one season to the next, by the age reached: (max age, step)."""

# --- price: dollars_per_war, league_minimum and arbitration live in contracts ------------
DISCOUNT_RATE = 0.08
"""Future surplus is worth 8% less per year of waiting."""

# --- team fit, risk, payroll -------------------------------------------------------------------
NEED_FIT_BONUS = (0.25, 0.15, 0.10, 0.05)
"""Extra share of discounted WAR value for filling need rank 1, 2, 3, 4 (0 beyond)."""
RISK_AGE_START = 31
RISK_PER_YEAR_OF_AGE = 0.05
MAX_AGE_RISK = 0.40
VOLATILITY_SCALE = 4.0
"""A standard deviation of recent WAR of 4 wins counts as the full volatility risk."""
MAX_VOLATILITY_RISK = 0.30
GAMES_DROP_THRESHOLD = 0.25
"""A fall of more than 25% in games played from one season to the next is a warning."""
MAX_GAMES_RISK = 0.30
RISK_VALUE_DISCOUNT = 0.25
"""At full risk (1.0) a quarter of the positive WAR value is written off."""
LUXURY_TAX_THRESHOLD: dict[int, float] = {
    2012: 178_000_000, 2013: 178_000_000, 2014: 189_000_000, 2015: 189_000_000,
    2016: 189_000_000, 2017: 195_000_000, 2018: 197_000_000, 2019: 206_000_000,
    2020: 208_000_000, 2021: 210_000_000, 2022: 230_000_000, 2023: 233_000_000,
    2024: 237_000_000,
}  # fmt: skip
"""Competitive Balance Tax threshold by season."""
FIRST_TIME_TAX_RATE = 0.175
"""Tax on payroll over the threshold for a first-time payor (2012-2016 agreement)."""

PITCHER_POSITIONS = frozenset({"P", "SP", "RP"})
VALUE_CACHE_SIZE = 4096
"""Memoised valuations: more than every player of a season."""


class ContractStatus(StrEnum):
    PRE_ARBITRATION = "pre_arbitration"
    ARBITRATION = "arbitration"
    FREE_AGENT = "free_agent"


@dataclass(frozen=True, slots=True)
class SeasonLine:
    """One past season: WAR and playing time (PA for hitters, IP for pitchers)."""

    season: int
    war: float
    pa: int = 0
    ip: float = 0.0
    games: int = 0

    @property
    def playing_time(self) -> float:
        return self.pa + self.ip * BATTERS_FACED_PER_INNING


@dataclass(frozen=True, slots=True)
class PlayerValuationInput:
    """What the model needs to know about a player; independent of how it is stored."""

    player_id: str
    name: str
    age: int
    position: str
    team: str
    salary: float | None
    contract_status: ContractStatus
    years_of_control: int
    seasons: tuple[SeasonLine, ...]
    attributes: frozenset[str] = field(default_factory=frozenset)
    """Skills the player stands out in (power, speed, contact, defense, ...)."""
    contract: PlayerContract | None = None
    """Year-by-year terms; without them, `years_of_control` years by `contract_status`."""
    mean_war_rate: float = LEAGUE_MEAN_WAR_PER_PA
    """The league's WAR per unit of playing time for the player's role."""
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # `value_player` is memoised on the player: hash the seasons and contract once here,
        # not again on every look-up.
        compared = (
            self.player_id, self.name, self.age, self.position, self.team, self.salary,
            self.contract_status, self.years_of_control, self.seasons, self.attributes,
            self.contract, self.mean_war_rate,
        )  # fmt: skip
        object.__setattr__(self, "_hash", hash(compared))

    def __hash__(self) -> int:
        return self._hash

    @property
    def is_pitcher(self) -> bool:
        return self.position in PITCHER_POSITIONS


@dataclass(frozen=True, slots=True)
class ControlYear:
    season: int
    age: int
    projected_war: float
    dollars_per_war: float
    salary: float
    salary_source: str
    surplus: float
    discounted_surplus: float
    basis: str = SalaryBasis.ESTIMATED.value
    """Whether the salary is `actual` (Lahman), `estimated` (the model) or `stated`."""
    terms: str = YearTerms.GUARANTEED.value


@dataclass(frozen=True, slots=True)
class PlayerValue:
    player_id: str
    name: str
    team: str
    position: str
    age: int
    years: tuple[ControlYear, ...]
    surplus_value: float
    war_value: float
    """Discounted value of the projected WAR alone, before salaries."""
    risk: float
    risk_factors: tuple[str, ...]
    contract_kind: str = ContractKind.UNKNOWN.value
    contract_signed: int | None = None
    # Derived once: a memoised valuation is read by every trade that moves the player.
    war_this_season: float = field(init=False, repr=False, compare=False)
    war_over_control: float = field(init=False, repr=False, compare=False)
    salary_this_season: float = field(init=False, repr=False, compare=False)
    risk_adjusted_surplus: float = field(init=False, repr=False, compare=False)
    risk_adjusted_war_value: float = field(init=False, repr=False, compare=False)
    """What the player's wins are worth, before salary, less the risk write-off."""

    def __post_init__(self) -> None:
        years = self.years
        write_off = RISK_VALUE_DISCOUNT * self.risk * max(self.war_value, 0.0)
        derived = {
            "war_this_season": years[0].projected_war if years else 0.0,
            "war_over_control": sum(y.projected_war for y in years),
            "salary_this_season": years[0].salary if years else 0.0,
            "risk_adjusted_surplus": self.surplus_value - write_off,
            "risk_adjusted_war_value": self.war_value - write_off,
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)


def league_minimum(season: int) -> float:
    return float(_league_minimum(season))


def luxury_tax_threshold(season: int) -> float:
    if season in LUXURY_TAX_THRESHOLD:
        return LUXURY_TAX_THRESHOLD[season]
    edge = (
        max(LUXURY_TAX_THRESHOLD)
        if season > max(LUXURY_TAX_THRESHOLD)
        else min(LUXURY_TAX_THRESHOLD)
    )
    return LUXURY_TAX_THRESHOLD[edge]


def aging_step(age: int) -> float:
    for max_age, step in AGING_STEPS:
        if age <= max_age:
            return step
    return AGING_STEPS[-1][1]


def _recent(seasons: Sequence[SeasonLine]) -> list[SeasonLine]:
    return sorted(seasons, key=lambda s: s.season, reverse=True)[: len(SEASON_WEIGHTS)]


def _first_year_rate_and_time(
    seasons: Sequence[SeasonLine], mean_rate: float = LEAGUE_MEAN_WAR_PER_PA
) -> tuple[float, float]:
    recent = _recent(seasons)
    weighted_war = sum(w * s.war for w, s in zip(SEASON_WEIGHTS, recent, strict=False))
    weighted_pt = sum(w * s.playing_time for w, s in zip(SEASON_WEIGHTS, recent, strict=False))
    rate = (weighted_war + REGRESSION_PLAYING_TIME * mean_rate) / (
        weighted_pt + REGRESSION_PLAYING_TIME
    )
    last = recent[0].playing_time if recent else 0.0
    previous = recent[1].playing_time if len(recent) > 1 else 0.0
    playing_time = min(
        PROJECTED_PT_LAST * last + PROJECTED_PT_PREVIOUS * previous + PROJECTED_PT_BASE,
        MAX_PROJECTED_PT,
    )
    return rate, playing_time


def project_first_year(
    seasons: Sequence[SeasonLine], mean_rate: float = LEAGUE_MEAN_WAR_PER_PA
) -> float:
    """Projected WAR for the first contract year from the last three seasons."""
    rate, playing_time = _first_year_rate_and_time(seasons, mean_rate)
    return rate * playing_time


def contract_of(player: PlayerValuationInput, season: int) -> PlayerContract:
    """The player's contract, or one built from his status and years of control."""
    if player.contract is not None:
        return player.contract
    first = ContractYear(
        season,
        player.salary,
        SalaryBasis.ACTUAL if player.salary is not None else SalaryBasis.ESTIMATED,
        YearTerms.GUARANTEED,
    )
    years = [first]
    control = max(player.years_of_control, 1)
    for index in range(1, control):
        year = season + index
        if player.contract_status is ContractStatus.FREE_AGENT:
            years.append(
                ContractYear(year, player.salary, SalaryBasis.ESTIMATED, YearTerms.GUARANTEED)
            )
            continue
        # Arbitration covers the last ARBITRATION_YEARS years of control.
        arb_year = ARBITRATION_YEARS - (control - index - 1)
        if arb_year < 1:
            years.append(
                ContractYear(
                    year, league_minimum(year), SalaryBasis.ESTIMATED, YearTerms.PRE_ARBITRATION
                )
            )
        else:
            years.append(
                ContractYear(year, None, SalaryBasis.ESTIMATED, YearTerms.ARBITRATION, arb_year)
            )
    kind = (
        ContractKind.FREE_AGENT
        if player.contract_status is ContractStatus.FREE_AGENT
        else ContractKind.TEAM_CONTROL
    )
    return PlayerContract(kind, None, tuple(years))


_SOURCES = {
    YearTerms.PRE_ARBITRATION: "league_minimum",
    YearTerms.ARBITRATION: "arbitration_estimate",
    YearTerms.GUARANTEED: "contract_estimate",
    YearTerms.CLUB_OPTION: "club_option_estimate",
}


def _salary_of(
    year: ContractYear, previous_salary: float, platform_war: float, market: float
) -> tuple[float, str]:
    if year.basis is SalaryBasis.ACTUAL and year.salary is not None:
        return year.salary, "actual"
    if year.basis is SalaryBasis.STATED and year.salary is not None:
        return year.salary, "stated"
    if year.terms is YearTerms.ARBITRATION and year.salary is None:
        arb_year = year.arbitration_year or 1
        return arbitration_salary(previous_salary, platform_war, arb_year, year.season), (
            "arbitration_estimate"
        )
    if year.salary is None:
        return max(market, league_minimum(year.season)), "market"
    return year.salary, _SOURCES[year.terms]


def risk_of(player: PlayerValuationInput) -> tuple[float, tuple[str, ...]]:
    """A 0..1 risk score and the reasons behind it."""
    factors: list[str] = []
    age_risk = min(max(player.age - RISK_AGE_START + 1, 0) * RISK_PER_YEAR_OF_AGE, MAX_AGE_RISK)
    if age_risk > 0:
        factors.append(f"age {player.age}: decline years")
    recent = _recent(player.seasons)
    volatility_risk = 0.0
    if len(recent) >= 2:
        wars = [s.war for s in recent]
        mean = sum(wars) / len(wars)
        stdev = math.sqrt(sum((w - mean) ** 2 for w in wars) / (len(wars) - 1))
        volatility_risk = min(stdev / VOLATILITY_SCALE, 1.0) * MAX_VOLATILITY_RISK
        if stdev >= VOLATILITY_SCALE / 2:
            factors.append(f"volatile WAR (sd {stdev:.1f} over {len(wars)} seasons)")
    games_risk = 0.0
    if len(recent) >= 2 and recent[1].games > 0:
        drop = (recent[1].games - recent[0].games) / recent[1].games
        if drop > GAMES_DROP_THRESHOLD:
            games_risk = min(drop, 1.0) * MAX_GAMES_RISK
            factors.append(f"games played fell {drop:.0%} ({recent[1].games} to {recent[0].games})")
    if not recent:
        factors.append("no recent major-league seasons")
        volatility_risk = MAX_VOLATILITY_RISK
    return round(min(age_risk + volatility_risk + games_risk, 1.0), 4), tuple(factors)


@functools.lru_cache(maxsize=VALUE_CACHE_SIZE)
def value_player(player: PlayerValuationInput, season: int) -> PlayerValue:
    """Project and price `player` for each remaining year of his contract from `season`.

    Pure, and its input is immutable and hashable, so results are memoised: a league's worth
    of players fits in the cache, and a repeated evaluation costs a dictionary look-up."""
    contract = contract_of(player, season)
    rate, playing_time = _first_year_rate_and_time(player.seasons, player.mean_war_rate)
    recent = _recent(player.seasons)
    platform = recent[0].war if recent else 0.0
    previous_salary = player.salary if player.salary is not None else league_minimum(season)
    years: list[ControlYear] = []
    surplus_total = war_value_total = 0.0
    for index, year in enumerate(contract.years):
        age = player.age + index
        if index > 0:
            rate += aging_step(age) / FULL_SEASON_PLAYING_TIME
            if age <= YOUNG_PLAYING_TIME_AGE:
                playing_time = min(playing_time + YOUNG_PLAYING_TIME_GROWTH, MAX_PROJECTED_PT)
        projected = max(rate * playing_time, REPLACEMENT_WAR)
        price = dollars_per_war(year.season)
        market = projected * price
        salary, source = _salary_of(year, previous_salary, platform, market)
        if year.terms is YearTerms.CLUB_OPTION and market <= salary:
            break  # the club declines the option: he leaves, and so do the later years
        surplus = market - salary
        discount = (1 + DISCOUNT_RATE) ** index
        years.append(
            ControlYear(
                season=year.season,
                age=age,
                projected_war=round(projected, 3),
                dollars_per_war=round(price, 2),
                salary=round(salary, 2),
                salary_source=source,
                surplus=round(surplus, 2),
                discounted_surplus=round(surplus / discount, 2),
                basis=year.basis.value,
                terms=year.terms.value,
            )
        )
        surplus_total += surplus / discount
        war_value_total += market / discount
        previous_salary, platform = salary, projected
    risk, factors = risk_of(player)
    return PlayerValue(
        player_id=player.player_id,
        name=player.name,
        team=player.team,
        position=player.position,
        age=player.age,
        years=tuple(years),
        surplus_value=round(surplus_total, 2),
        war_value=round(war_value_total, 2),
        risk=risk,
        risk_factors=factors,
        contract_kind=contract.kind.value,
        contract_signed=contract.signed,
    )


@functools.cache
def _needs_filled(position: str) -> frozenset[str]:
    """The needs a player at `position` fills: OF fills LF/CF/RF and back, P fills SP/RP."""
    aliases = {position}
    if position in {"LF", "CF", "RF"}:
        aliases.add("OF")
    if position == "OF":
        aliases.update({"LF", "CF", "RF"})
    if position in PITCHER_POSITIONS:
        aliases.update(PITCHER_POSITIONS)
    return frozenset(aliases)


@functools.cache
def need_rank(position: str, needs: tuple[str, ...]) -> int | None:
    """1-based rank of the need `position` fills, if any (OF fills LF/CF/RF, P fills SP/RP)."""
    aliases = _needs_filled(position)
    for rank, need in enumerate(needs, start=1):
        if need in aliases:
            return rank
    return None


def fit_bonus(value: PlayerValue, needs: tuple[str, ...]) -> float:
    """Extra dollars `value` is worth to a team with `needs` (positions, weakest first)."""
    rank = need_rank(value.position, needs)
    if rank is None or rank > len(NEED_FIT_BONUS):
        return 0.0
    return round(NEED_FIT_BONUS[rank - 1] * max(value.war_value, 0.0), 2)


@dataclass(frozen=True, slots=True)
class PayrollImpact:
    payroll_before: float
    payroll_after: float
    change: float
    luxury_tax_threshold: float
    room_under_threshold: float
    over_threshold: bool
    estimated_tax: float


def payroll_impact(
    payroll: float, salary_in: float, salary_out: float, season: int
) -> PayrollImpact:
    """This season's payroll before and after a trade, measured against the tax threshold."""
    after = payroll + salary_in - salary_out
    threshold = luxury_tax_threshold(season)
    over = max(after - threshold, 0.0)
    return PayrollImpact(
        payroll_before=round(payroll, 2),
        payroll_after=round(after, 2),
        change=round(salary_in - salary_out, 2),
        luxury_tax_threshold=threshold,
        room_under_threshold=round(threshold - after, 2),
        over_threshold=after > threshold,
        estimated_tax=round(over * FIRST_TIME_TAX_RATE, 2),
    )
