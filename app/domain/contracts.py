"""Service time, contract status, and each player's contract year by year.

**Service.** MLB counts service in days on the active roster (172 days make a year). Lahman has
games, not roster days, so each season since the debut is credited as a fraction of a year:
    position players   min(1, games / 120)
    pitchers           min(1, max(games started / 25, games / 50))
Under 3 years a player is pre-arbitration, 3 to 6 in arbitration (years 1-3), 6 or more past
team control: he plays on a contract bought on the open market (or an extension).

**Contracts** (`derive_contract`). Lahman gives each season's salary up to the season served,
never the terms, so the future years are derived from the salary history:

* *Extension*: a salary of 1.5 to 4 times the league minimum (`EXTENSION_SALARY_SIGNAL`) in a
  season entered with under 3 years of service, with the team he still plays for: nobody is paid
  that before arbitration unless he signed a long deal (from 4 times up it is more likely a
  super-two arbitration award).
  It runs until his service reaches `EXTENSION_THROUGH_SERVICE` years (the arbitration years and
  up to three free-agent years bought out); its last `EXTENSION_CLUB_OPTIONS` years past six
  years of service are club options; each later salary is the one before × (1 +
  `EXTENSION_RAISE`).
* *Free-agent contract*: a player with 6+ years of service, or paid above any arbitration award
  (signed from abroad or on the market). The deal began the year the current salary level began:
  walking back from this season while the salary stays at least `SALARY_LEVEL_SHARE` of this
  season's, and stopping where he changed teams with 6+ years of service. Its length comes from
  the wins the salary paid for (average salary ÷ that year's $/WAR) through
  `FREE_AGENT_YEARS_BY_WINS`, ends by age `FREE_AGENT_LAST_AGE`, and is at least as long as the
  level has already lasted; each later year repeats the average salary.
* *Team control*: everyone else is renewed at the league minimum until 3 years of service, then
  goes through arbitration (`arbitration_salary`) until 6.

Every future figure is `estimated`; this season's Lahman salary is `actual`; terms a request
states are `stated`.

**Arbitration** (`arbitration_salary`): the previous salary plus a share of the market value of
the platform season's WAR (`ARBITRATION_RAISE_SHARE` for years 1-3), never below the previous
salary, never above the largest award or settlement on record for that arbitration year by that
season (`ARBITRATION_CEILINGS`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

SERVICE_YEARS_FOR_ARBITRATION = 3
SERVICE_YEARS_FOR_FREE_AGENCY = 6
POSITION_PLAYER_FULL_GAMES = 120
STARTER_FULL_STARTS = 25
RELIEVER_FULL_GAMES = 50

# --- prices --------------------------------------------------------------------------------------
DOLLARS_PER_WAR_BASE_SEASON = 2016
DOLLARS_PER_WAR_BASE = 8_000_000.0
"""Free-agent market price of one win in 2016 (public estimates cluster around $8M)."""
MARKET_INFLATION = 0.05
"""Yearly growth of the price of a win."""
LEAGUE_MINIMUM: dict[int, int] = {
    2003: 300_000, 2004: 300_000, 2005: 316_000, 2006: 327_000, 2007: 380_000,
    2008: 390_000, 2009: 400_000, 2010: 400_000, 2011: 414_000, 2012: 480_000,
    2013: 490_000, 2014: 500_000, 2015: 507_500, 2016: 507_500, 2017: 535_000,
    2018: 545_000, 2019: 555_000, 2020: 563_500, 2021: 570_500, 2022: 700_000,
    2023: 720_000, 2024: 740_000, 2025: 760_000, 2026: 780_000,
}  # fmt: skip
"""MLB minimum salary by season, as set by the collective bargaining agreements."""

# --- arbitration ---------------------------------------------------------------------------------
ARBITRATION_YEARS = 3
ARBITRATION_RAISE_SHARE = (0.16, 0.14, 0.14)
"""Share of the platform season's market value (WAR × $/WAR) added to the previous salary in
arbitration years 1, 2, 3: a 3-win player goes from the minimum to about $4M, $8M, $11M (2016)."""
ARBITRATION_CEILINGS: tuple[tuple[tuple[int, int], ...], ...] = (
    ((2008, 10_000_000), (2019, 12_900_000), (2022, 17_100_000)),
    ((2011, 15_000_000), (2018, 17_750_000), (2019, 20_000_000), (2023, 23_000_000)),
    ((2015, 19_750_000), (2018, 23_000_000), (2019, 26_000_000), (2020, 27_000_000),
     (2023, 30_000_000), (2024, 31_000_000)),
)  # fmt: skip
"""(from season, largest award or settlement on record) for arbitration years 1, 2, 3:
year 1 Ryan Howard 2008, Kris Bryant 2019, Juan Soto 2022; year 2 about $15M by 2011, Nolan
Arenado 2018, Mookie Betts 2019, Juan Soto 2023; year 3 David Price 2015, Josh Donaldson 2018,
Nolan Arenado 2019, Mookie Betts 2020, Shohei Ohtani 2023, Juan Soto 2024."""

# --- contract length -----------------------------------------------------------------------------
EXTENSION_SALARY_SIGNAL = (1.5, 4.0)
"""A pre-arbitration salary from 1.5 to 4 times the league minimum marks a signed extension
(from 4 times up it is more likely a super-two arbitration award)."""
EXTENSION_THROUGH_SERVICE = 9.0
"""An extension runs until the player's service would reach nine years."""
EXTENSION_CLUB_OPTIONS = 2
"""The last two years of an extension, when past six years of service, are club options."""
EXTENSION_RAISE = 0.25
"""Each later year of an extension pays 25% more than the one before."""
SALARY_LEVEL_SHARE = 0.75
"""Earlier salaries at 75% or more of this season's belong to the same contract."""
FREE_AGENT_YEARS_BY_WINS: tuple[tuple[float, int], ...] = (
    (3.0, 7),
    (2.25, 6),
    (1.5, 5),
    (1.0, 4),
    (0.5, 2),
    (0.0, 1),
)
"""(wins the average salary pays for, years): $24M+ a year in 2016 buys seven years, $8M four,
under $4M one: the lengths free agents of each price signed for in the 2010s."""
FREE_AGENT_LAST_AGE = 36
"""A modelled free-agent contract ends by the player's age-36 season."""
MAX_CONTRACT_YEARS = 15


class ContractStatus(StrEnum):
    PRE_ARBITRATION = "pre-arbitration"
    ARBITRATION = "arbitration"
    FREE_AGENT = "free agent"


class SalaryBasis(StrEnum):
    ACTUAL = "actual"
    ESTIMATED = "estimated"
    STATED = "stated"


class YearTerms(StrEnum):
    GUARANTEED = "guaranteed"
    CLUB_OPTION = "club_option"
    PRE_ARBITRATION = "pre_arbitration"
    ARBITRATION = "arbitration"


class ContractKind(StrEnum):
    TEAM_CONTROL = "team_control"
    EXTENSION = "extension"
    FREE_AGENT = "free_agent"
    STATED = "stated"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class SeasonAppearances:
    year: int
    games: int
    games_started: int
    games_pitched: int


@dataclass(frozen=True)
class Contract:
    service_years: float
    status: ContractStatus
    arbitration_year: int | None
    years_of_control: int


@dataclass(frozen=True, slots=True)
class ContractYear:
    """One season of a contract. `salary` is None for an arbitration year: the award depends
    on the platform season, which the valuation projects."""

    season: int
    salary: float | None
    basis: SalaryBasis
    terms: YearTerms
    arbitration_year: int | None = None


@dataclass(frozen=True, slots=True)
class PlayerContract:
    kind: ContractKind
    signed: int | None
    """First season of the deal (estimated), None under plain team control."""
    years: tuple[ContractYear, ...]

    @property
    def guaranteed_years_left(self) -> int:
        """Years after the current one that the club must pay (options and renewals aside)."""
        return sum(1 for y in self.years[1:] if y.terms is YearTerms.GUARANTEED)


@dataclass(frozen=True, slots=True)
class SalaryRecord:
    """One season of a player's salary history."""

    season: int
    team: str
    amount: float
    service_entering: float


def season_service(season: SeasonAppearances) -> float:
    """The fraction of a service year a season's games are worth."""
    if season.games_pitched and season.games_pitched * 2 >= season.games:
        credit = max(
            season.games_started / STARTER_FULL_STARTS, season.games_pitched / RELIEVER_FULL_GAMES
        )
    else:
        credit = season.games / POSITION_PLAYER_FULL_GAMES
    return min(1.0, credit)


def service_years(history: Iterable[SeasonAppearances], through: int) -> float:
    """Estimated service years up to and including season `through`."""
    return round(sum(season_service(s) for s in history if s.year <= through), 3)


def contract_for(service: float) -> Contract:
    whole = math.floor(service)
    if whole < SERVICE_YEARS_FOR_ARBITRATION:
        status, arb_year = ContractStatus.PRE_ARBITRATION, None
    elif whole < SERVICE_YEARS_FOR_FREE_AGENCY:
        status = ContractStatus.ARBITRATION
        arb_year = whole - SERVICE_YEARS_FOR_ARBITRATION + 1
    else:
        status, arb_year = ContractStatus.FREE_AGENT, None
    return Contract(
        service_years=service,
        status=status,
        arbitration_year=arb_year,
        years_of_control=max(0, SERVICE_YEARS_FOR_FREE_AGENCY - whole),
    )


def dollars_per_war(season: int) -> float:
    """The market price of one WAR in `season`."""
    return DOLLARS_PER_WAR_BASE * (1 + MARKET_INFLATION) ** (season - DOLLARS_PER_WAR_BASE_SEASON)


def league_minimum(season: int) -> int:
    """The real minimum salary; outside the table the nearest season's, grown by inflation."""
    if season in LEAGUE_MINIMUM:
        return LEAGUE_MINIMUM[season]
    edge = max(LEAGUE_MINIMUM) if season > max(LEAGUE_MINIMUM) else min(LEAGUE_MINIMUM)
    return round(LEAGUE_MINIMUM[edge] * (1 + MARKET_INFLATION) ** (season - edge))


def market_value(war: float, season: int) -> int:
    return max(league_minimum(season), round(war * dollars_per_war(season)))


def arbitration_ceiling(arbitration_year: int, season: int) -> float:
    """The largest award or settlement on record for that arbitration year by `season`."""
    records = ARBITRATION_CEILINGS[min(max(arbitration_year, 1), ARBITRATION_YEARS) - 1]
    ceiling = records[0][1]
    for since, amount in records:
        if season >= since:
            ceiling = amount
    return float(ceiling)


def arbitration_salary(
    previous_salary: float, platform_war: float, arbitration_year: int, season: int
) -> float:
    """The estimated award: the previous salary raised by the platform season, capped."""
    year = min(max(arbitration_year, 1), ARBITRATION_YEARS)
    raise_ = ARBITRATION_RAISE_SHARE[year - 1] * max(platform_war, 0.0) * dollars_per_war(season)
    award = max(previous_salary, float(league_minimum(season))) + raise_
    return round(min(award, arbitration_ceiling(year, season)), 2)


def estimated_salary(contract: Contract, war: float, season: int) -> int:
    """A salary for a season without real ones: the minimum, arbitration from the minimum with
    the season's WAR as every platform, or market value past six years of service."""
    if contract.status is ContractStatus.PRE_ARBITRATION:
        return league_minimum(season)
    if contract.status is ContractStatus.ARBITRATION:
        salary = float(league_minimum(season))
        for year in range(1, (contract.arbitration_year or 1) + 1):
            salary = arbitration_salary(salary, war, year, season)
        return round(salary)
    return market_value(war, season)


# --- deriving a contract from the salary history -------------------------------------------------
def _free_agent_years(average_salary: float, start: int, age_at_start: int) -> int:
    wins = average_salary / dollars_per_war(start)
    years = next(n for floor, n in FREE_AGENT_YEARS_BY_WINS if wins >= floor)
    return max(1, min(years, FREE_AGENT_LAST_AGE - age_at_start + 1))


def _by_season(history: Sequence[SalaryRecord]) -> dict[int, SalaryRecord]:
    """One record per season: amounts summed, the team paying the most (a traded player)."""
    merged: dict[int, SalaryRecord] = {}
    for record in sorted(history, key=lambda r: (r.season, r.amount)):
        before = merged.get(record.season)
        if before is None:
            merged[record.season] = record
        else:
            merged[record.season] = SalaryRecord(
                record.season,
                record.team,
                before.amount + record.amount,
                min(before.service_entering, record.service_entering),
            )
    return merged


def _extension_start(paid: dict[int, SalaryRecord], season: int, team: str) -> int | None:
    """The season an extension began, if the salary history shows one with this team."""
    for year in sorted(paid):
        record = paid[year]
        if year > season:
            break
        if (
            record.service_entering < SERVICE_YEARS_FOR_ARBITRATION
            and EXTENSION_SALARY_SIGNAL[0] * league_minimum(year)
            <= record.amount
            < EXTENSION_SALARY_SIGNAL[1] * league_minimum(year)
            and all(paid[y].team == team for y in range(year, season + 1) if y in paid)
        ):
            return year
    return None


def _signed_abroad_or_on_market(paid: dict[int, SalaryRecord], season: int) -> bool:
    """Paid above any arbitration award: a contract from the open market or from abroad."""
    current = paid[season]
    if current.amount > arbitration_ceiling(ARBITRATION_YEARS, season):
        return True
    return any(
        r.service_entering < SERVICE_YEARS_FOR_ARBITRATION
        and r.amount >= arbitration_ceiling(1, r.season)
        for r in paid.values()
        if r.season <= season
    )


def _level_start(paid: dict[int, SalaryRecord], season: int) -> int:
    current = paid[season].amount
    start = season
    while (start - 1) in paid:
        earlier, later = paid[start - 1], paid[start]
        if earlier.amount < SALARY_LEVEL_SHARE * current:
            break
        if earlier.team != later.team and later.service_entering >= SERVICE_YEARS_FOR_FREE_AGENCY:
            break  # a new club after six years: he signed as a free agent
        start -= 1
    return start


def _control_years(
    season: int, service_through: float, salary: float | None, basis: SalaryBasis
) -> list[ContractYear]:
    """This season, then the renewals and arbitration years left before free agency."""
    whole = math.floor(service_through)
    if whole < SERVICE_YEARS_FOR_ARBITRATION:
        first_terms, arb_first = YearTerms.PRE_ARBITRATION, None
        if salary is None:  # called up during the season: paid the minimum
            salary = float(league_minimum(season))
    else:
        first_terms, arb_first = YearTerms.ARBITRATION, whole - SERVICE_YEARS_FOR_ARBITRATION + 1
    years = [ContractYear(season, salary, basis, first_terms, arb_first)]
    for ahead in range(1, SERVICE_YEARS_FOR_FREE_AGENCY - math.floor(service_through) + 1):
        entering = math.floor(service_through) + ahead - 1
        if entering >= SERVICE_YEARS_FOR_FREE_AGENCY:
            break
        if entering < SERVICE_YEARS_FOR_ARBITRATION:
            years.append(
                ContractYear(
                    season + ahead,
                    # a renewal pays no less than the season before (after a super-two award)
                    max(float(league_minimum(season + ahead)), salary or 0.0),
                    SalaryBasis.ESTIMATED,
                    YearTerms.PRE_ARBITRATION,
                )
            )
        else:
            arb_year = entering - SERVICE_YEARS_FOR_ARBITRATION + 1
            years.append(
                ContractYear(
                    season + ahead, None, SalaryBasis.ESTIMATED, YearTerms.ARBITRATION, arb_year
                )
            )
    return years


def _extension(
    paid: dict[int, SalaryRecord], start: int, season: int, service_through: float
) -> PlayerContract | None:
    length = max(1, math.ceil(EXTENSION_THROUGH_SERVICE - paid[start].service_entering))
    end = start + length - 1
    if end < season:
        return None
    salary = paid[season].amount
    years = [ContractYear(season, salary, SalaryBasis.ACTUAL, YearTerms.GUARANTEED)]
    entering_first = service_through  # entering next season, assuming full seasons
    for ahead, year in enumerate(range(season + 1, end + 1)):
        salary *= 1 + EXTENSION_RAISE
        entering = entering_first + ahead
        option = year > end - EXTENSION_CLUB_OPTIONS and entering >= SERVICE_YEARS_FOR_FREE_AGENCY
        terms = YearTerms.CLUB_OPTION if option else YearTerms.GUARANTEED
        years.append(ContractYear(year, round(salary, 2), SalaryBasis.ESTIMATED, terms))
    return PlayerContract(ContractKind.EXTENSION, start, tuple(years))


def _free_agent(paid: dict[int, SalaryRecord], season: int, age: int) -> PlayerContract:
    start = _level_start(paid, season)
    average = sum(paid[y].amount for y in range(start, season + 1)) / (season - start + 1)
    length = max(_free_agent_years(average, start, age - (season - start)), season - start + 1)
    years = [ContractYear(season, paid[season].amount, SalaryBasis.ACTUAL, YearTerms.GUARANTEED)]
    years += [
        ContractYear(year, round(average, 2), SalaryBasis.ESTIMATED, YearTerms.GUARANTEED)
        for year in range(season + 1, start + length)
    ]
    return PlayerContract(ContractKind.FREE_AGENT, start, tuple(years))


def derive_contract(
    *,
    season: int,
    age: int,
    team: str,
    service_through: float,
    salary: float | None,
    history: Sequence[SalaryRecord],
) -> PlayerContract:
    """The player's contract from `season` on, each year's salary actual or estimated.

    `service_through` counts `season` itself; `history` is his salary history up to `season`
    (any order, several teams in one season allowed)."""
    paid = _by_season([r for r in history if r.season <= season])
    if salary is None or season not in paid:
        # No real salary this season: status alone, every figure estimated.
        basis = SalaryBasis.ESTIMATED
        if math.floor(service_through) >= SERVICE_YEARS_FOR_FREE_AGENCY:
            year = ContractYear(season, salary, basis, YearTerms.GUARANTEED)
            return PlayerContract(ContractKind.UNKNOWN, None, (year,))
        years = _control_years(season, service_through, salary, basis)
        return PlayerContract(ContractKind.TEAM_CONTROL, None, tuple(years))
    start = _extension_start(paid, season, team)
    if start is not None:
        extension = _extension(paid, start, season, service_through)
        if extension is not None:
            return extension
    if math.floor(service_through) >= SERVICE_YEARS_FOR_FREE_AGENCY or _signed_abroad_or_on_market(
        paid, season
    ):
        return _free_agent(paid, season, age)
    years = _control_years(season, service_through, salary, SalaryBasis.ACTUAL)
    return PlayerContract(ContractKind.TEAM_CONTROL, None, tuple(years))


def stated_contract(
    season: int, salaries: Sequence[float], club_options: Sequence[float] = ()
) -> PlayerContract:
    """Terms a request states: one salary per guaranteed season from `season`, then options."""
    years = [
        ContractYear(season + i, float(s), SalaryBasis.STATED, YearTerms.GUARANTEED)
        for i, s in enumerate(salaries)
    ]
    years += [
        ContractYear(
            season + len(salaries) + i, float(s), SalaryBasis.STATED, YearTerms.CLUB_OPTION
        )
        for i, s in enumerate(club_options)
    ]
    return PlayerContract(ContractKind.STATED, season, tuple(years))
