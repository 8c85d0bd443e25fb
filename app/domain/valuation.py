"""Player valuation: projected WAR per year of control, salary, surplus value, fit, risk.

Pure and deterministic: no I/O, no clock, no randomness. The model, year by year of control:

* **Projection** (Marcel-style). WAR of the last three seasons weighted 5/4/3 (latest first)
  becomes a rate per unit of playing time (plate appearances; innings pitched are converted to
  batters faced). The rate is regressed toward the league-mean rate by adding
  `REGRESSION_PLAYING_TIME` units of league-average play, so a short sample says little.
  Playing time projects as half of last season plus a tenth of the one before plus a base.
* **Aging.** Each later year of control adds the aging-curve step for the player's age then.
* **Price.** Dollars per WAR for the season (`dollars_per_war`), rising with market inflation.
* **Salary** per year of control: this season's actual salary; then the league minimum while
  pre-arbitration, 40/60/80% of market value in arbitration years 1-3, and the actual salary
  for players under a free-agent contract (market value when no salary is known).
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

# --- projection ------------------------------------------------------------------------------
SEASON_WEIGHTS = (5.0, 4.0, 3.0)
"""Weights of the last three seasons, latest first (Marcel's 5/4/3)."""
BATTERS_FACED_PER_INNING = 4.3
"""Converts innings pitched to plate appearances so hitters and pitchers share one scale."""
REGRESSION_PLAYING_TIME = 1200.0
"""League-average plate appearances added to the weighted sample (Marcel's 1,200 PA)."""
LEAGUE_MEAN_WAR_PER_PA = 1.0 / 600.0
"""The mean everyone regresses toward: about 1 WAR per full season of playing time."""
PROJECTED_PT_LAST, PROJECTED_PT_PREVIOUS, PROJECTED_PT_BASE = 0.5, 0.1, 200.0
"""Projected playing time = 0.5 × last season + 0.1 × the season before + 200 PA."""
MAX_PROJECTED_PT = 720.0
"""No one projects past a full, healthy season's worth of plate appearances."""
REPLACEMENT_WAR = 0.0
"""A projection below replacement is floored: a team would replace such a player."""

PEAK_AGE = 27
AGING_STEPS: tuple[tuple[int, float], ...] = (
    (24, 0.6),  # age <= 24: still improving fast
    (26, 0.3),
    (29, 0.0),  # the plateau of the prime years
    (32, -0.4),
    (35, -0.6),
    (200, -0.8),  # 36 and older
)
"""WAR gained (lost) from one season to the next, by the age reached: (max age, step)."""
AGING_GAIN_FULL_AT_WAR = 2.0
"""Young players gain the full step only from an everyday player's level (2 WAR); a
replacement-level youngster gains in proportion, so youth alone does not create value."""

# --- price and salaries ------------------------------------------------------------------------
DOLLARS_PER_WAR_BASE_SEASON = 2016
DOLLARS_PER_WAR_BASE = 8_000_000.0
"""Free-agent market price of one win in 2016 (public estimates cluster around $8M)."""
MARKET_INFLATION = 0.05
"""Yearly growth of the price of a win."""
DISCOUNT_RATE = 0.08
"""Future surplus is worth 8% less per year of waiting."""
LEAGUE_MINIMUM: dict[int, float] = {
    2012: 480_000, 2013: 490_000, 2014: 500_000, 2015: 507_500, 2016: 507_500,
    2017: 535_000, 2018: 545_000, 2019: 555_000, 2020: 563_500, 2021: 570_500,
    2022: 700_000, 2023: 720_000, 2024: 740_000,
}  # fmt: skip
"""MLB minimum salary by season (collective bargaining agreements)."""
ARBITRATION_SHARE = (0.40, 0.60, 0.80)
"""Share of market value an arbitration-eligible player earns in arbitration years 1-3."""
ARBITRATION_YEARS = len(ARBITRATION_SHARE)

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
    salary_source: str = "lahman"
    """Where this season's salary comes from, in the player routes' words (lahman, estimated)."""

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

    @property
    def war_this_season(self) -> float:
        return self.years[0].projected_war if self.years else 0.0

    @property
    def war_over_control(self) -> float:
        return sum(y.projected_war for y in self.years)

    @property
    def salary_this_season(self) -> float:
        return self.years[0].salary if self.years else 0.0

    @property
    def risk_adjusted_surplus(self) -> float:
        return self.surplus_value - RISK_VALUE_DISCOUNT * self.risk * max(self.war_value, 0.0)


def dollars_per_war(season: int) -> float:
    """The market price of one WAR in `season`."""
    return DOLLARS_PER_WAR_BASE * (1 + MARKET_INFLATION) ** (season - DOLLARS_PER_WAR_BASE_SEASON)


def league_minimum(season: int) -> float:
    if season in LEAGUE_MINIMUM:
        return float(LEAGUE_MINIMUM[season])
    edge = max(LEAGUE_MINIMUM) if season > max(LEAGUE_MINIMUM) else min(LEAGUE_MINIMUM)
    return LEAGUE_MINIMUM[edge] * (1 + MARKET_INFLATION) ** (season - edge)


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


def project_first_year(seasons: Sequence[SeasonLine]) -> float:
    """Projected WAR for the first year of control from the last three seasons."""
    recent = _recent(seasons)
    weighted_war = sum(w * s.war for w, s in zip(SEASON_WEIGHTS, recent, strict=False))
    weighted_pt = sum(w * s.playing_time for w, s in zip(SEASON_WEIGHTS, recent, strict=False))
    rate = (weighted_war + REGRESSION_PLAYING_TIME * LEAGUE_MEAN_WAR_PER_PA) / (
        weighted_pt + REGRESSION_PLAYING_TIME
    )
    last = recent[0].playing_time if recent else 0.0
    previous = recent[1].playing_time if len(recent) > 1 else 0.0
    playing_time = min(
        PROJECTED_PT_LAST * last + PROJECTED_PT_PREVIOUS * previous + PROJECTED_PT_BASE,
        MAX_PROJECTED_PT,
    )
    return rate * playing_time


def _salary_for_year(
    player: PlayerValuationInput, index: int, season: int, market_value: float
) -> tuple[float, str]:
    if index == 0 and player.salary is not None:
        # The player routes' vocabulary: the same salary is never "lahman" there, "actual" here.
        return player.salary, player.salary_source
    status = player.contract_status
    if status is ContractStatus.FREE_AGENT:
        if player.salary is not None:
            return player.salary, "contract"
        return market_value, "market"
    # Arbitration covers the last ARBITRATION_YEARS years of control.
    years_left_after = player.years_of_control - index - 1
    arb_year = ARBITRATION_YEARS - years_left_after  # 1-based once in arbitration
    if arb_year < 1:
        return league_minimum(season), "league_minimum"
    share = ARBITRATION_SHARE[min(arb_year, ARBITRATION_YEARS) - 1]
    floor = player.salary if player.salary is not None else league_minimum(season)
    return max(share * market_value, floor, league_minimum(season)), "arbitration_estimate"


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
    """Project and price `player` for each remaining year of control, starting in `season`.

    Pure, and its input is immutable and hashable, so results are memoised: a league's worth
    of players fits in the cache, and a repeated evaluation costs a dictionary look-up."""
    first = project_first_year(player.seasons)
    years: list[ControlYear] = []
    war = first
    surplus_total = war_value_total = 0.0
    for index in range(max(player.years_of_control, 1)):
        year_season, age = season + index, player.age + index
        if index > 0:
            step = aging_step(age)
            if step > 0:
                step *= min(max(war / AGING_GAIN_FULL_AT_WAR, 0.0), 1.0)
            war += step
        projected = max(war, REPLACEMENT_WAR)
        price = dollars_per_war(year_season)
        market = projected * price
        salary, source = _salary_for_year(player, index, year_season, market)
        surplus = market - salary
        discount = (1 + DISCOUNT_RATE) ** index
        years.append(
            ControlYear(
                season=year_season,
                age=age,
                projected_war=round(projected, 3),
                dollars_per_war=round(price, 2),
                salary=round(salary, 2),
                salary_source=source,
                surplus=round(surplus, 2),
                discounted_surplus=round(surplus / discount, 2),
            )
        )
        surplus_total += surplus / discount
        war_value_total += market / discount
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
    )


def need_rank(position: str, needs: Sequence[str]) -> int | None:
    """1-based rank of the need `position` fills, if any (OF fills LF/CF/RF, P fills SP/RP)."""
    aliases = {position}
    if position in {"LF", "CF", "RF"}:
        aliases.add("OF")
    if position == "OF":
        aliases.update({"LF", "CF", "RF"})
    if position in PITCHER_POSITIONS:
        aliases.update(PITCHER_POSITIONS)
    for rank, need in enumerate(needs, start=1):
        if need in aliases:
            return rank
    return None


def fit_bonus(value: PlayerValue, needs: Sequence[str]) -> float:
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
