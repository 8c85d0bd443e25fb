"""Service time, contract status and years of control, estimated from appearances.

MLB counts service in days on the active roster (172 days make a year). Lahman has games,
not roster days, so each season since the debut is credited as a fraction of a year:
    position players   min(1, games / 120)
    pitchers           min(1, max(games started / 25, games / 50))
A player with under 3 years is pre-arbitration, 3 to 6 is in arbitration (years 1-3), 6 or
more is a free agent (his contract was bought on the open market). Years of control left
after the season = max(0, 6 - whole years of service).

Estimated salaries (for seasons without real ones): the league minimum before arbitration,
40/60/80% of market value in arbitration years 1-3, market value for free agents; market
value = max(minimum, WAR * dollars per WAR).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

SERVICE_YEARS_FOR_ARBITRATION = 3
SERVICE_YEARS_FOR_FREE_AGENCY = 6
POSITION_PLAYER_FULL_GAMES = 120
STARTER_FULL_STARTS = 25
RELIEVER_FULL_GAMES = 50
ARBITRATION_SHARE = {1: 0.4, 2: 0.6, 3: 0.8}
DOLLARS_PER_WAR = 8_000_000
LEAGUE_MINIMUM = {2014: 500_000, 2015: 507_500, 2016: 507_500, 2017: 535_000, 2018: 545_000}


class ContractStatus(StrEnum):
    PRE_ARBITRATION = "pre-arbitration"
    ARBITRATION = "arbitration"
    FREE_AGENT = "free agent"


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


def league_minimum(season: int) -> int:
    known = [y for y in LEAGUE_MINIMUM if y <= season]
    return LEAGUE_MINIMUM[max(known)] if known else min(LEAGUE_MINIMUM.values())


def market_value(war: float, season: int) -> int:
    return max(league_minimum(season), round(war * DOLLARS_PER_WAR))


def estimated_salary(contract: Contract, war: float, season: int) -> int:
    """A salary for a season without real salaries, by contract status."""
    if contract.status is ContractStatus.PRE_ARBITRATION:
        return league_minimum(season)
    value = market_value(war, season)
    if contract.status is ContractStatus.ARBITRATION:
        share = ARBITRATION_SHARE[min(3, contract.arbitration_year or 1)]
        return max(league_minimum(season), round(value * share))
    return value
