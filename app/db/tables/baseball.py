"""Teams, players, player-seasons (stats, WAR, contract) and salaries from the Lahman data."""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (
        UniqueConstraint("season", "team_key", name="uq_teams_season_team_key"),
        Index("ix_teams_season_league_division", "season", "league", "division"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    season: Mapped[int] = mapped_column(Integer)
    team_key: Mapped[str] = mapped_column(String(3))
    franchise: Mapped[str] = mapped_column(String(3))
    name: Mapped[str] = mapped_column(String(64))
    league: Mapped[str] = mapped_column(String(2))
    division: Mapped[str | None] = mapped_column(String(1))
    wins: Mapped[int] = mapped_column(Integer)
    losses: Mapped[int] = mapped_column(Integer)
    runs_scored: Mapped[int] = mapped_column(Integer)
    runs_allowed: Mapped[int] = mapped_column(Integer)
    park: Mapped[str | None] = mapped_column(String(64))


class Player(Base):
    __tablename__ = "players"

    player_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    first_name: Mapped[str] = mapped_column(String(64))
    last_name: Mapped[str] = mapped_column(String(64))
    full_name: Mapped[str] = mapped_column(String(128))
    # Lower-cased "last, first": the name sort key and the target of `q` searches.
    sort_name: Mapped[str] = mapped_column(String(130), index=True)
    birth_date: Mapped[date | None] = mapped_column(Date)
    bats: Mapped[str | None] = mapped_column(String(1))
    throws: Mapped[str | None] = mapped_column(String(1))
    debut: Mapped[date | None] = mapped_column(Date)
    primary_position: Mapped[str] = mapped_column(String(2))


class PlayerSeason(Base):
    __tablename__ = "player_seasons"
    __table_args__ = (
        Index("ix_player_seasons_season_war", "season", "war", "player_id"),
        Index("ix_player_seasons_season_team", "season", "team_key"),
        Index("ix_player_seasons_season_position", "season", "position"),
    )

    player_id: Mapped[str] = mapped_column(
        String(16), ForeignKey("players.player_id", ondelete="CASCADE"), primary_key=True
    )
    season: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_key: Mapped[str] = mapped_column(String(3))
    league: Mapped[str] = mapped_column(String(2))
    position: Mapped[str] = mapped_column(String(2))
    age: Mapped[int | None] = mapped_column(Integer)
    games: Mapped[int] = mapped_column(Integer)
    plate_appearances: Mapped[int] = mapped_column(Integer)
    home_runs: Mapped[int] = mapped_column(Integer)
    stolen_bases: Mapped[int] = mapped_column(Integer)
    woba: Mapped[float | None] = mapped_column(Float)
    batting_runs: Mapped[float] = mapped_column(Float)
    innings_pitched: Mapped[float] = mapped_column(Float)
    strikeouts: Mapped[int] = mapped_column(Integer)
    fip: Mapped[float | None] = mapped_column(Float)
    war: Mapped[float] = mapped_column(Float)
    salary: Mapped[int | None] = mapped_column(BigInteger)
    salary_source: Mapped[str | None] = mapped_column(String(16))
    service_years: Mapped[float] = mapped_column(Float)
    contract_status: Mapped[str] = mapped_column(String(16))
    years_of_control: Mapped[int] = mapped_column(Integer)


class Salary(Base):
    """One Lahman salary row: what a team paid a player in a season."""

    __tablename__ = "salaries"
    __table_args__ = (Index("ix_salaries_season_team", "season", "team_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    season: Mapped[int] = mapped_column(Integer)
    player_id: Mapped[str] = mapped_column(
        String(16), ForeignKey("players.player_id", ondelete="CASCADE")
    )
    team_key: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)


class PlayerStint(Base):
    """A player's season with one team: a traded player has one row per team he played for.

    Team needs, payroll and fit read the stint with the team; a player's value reads his
    whole season (`PlayerSeason`)."""

    __tablename__ = "player_stints"
    __table_args__ = (Index("ix_player_stints_season_team", "season", "team_key"),)

    player_id: Mapped[str] = mapped_column(
        String(16), ForeignKey("players.player_id", ondelete="CASCADE"), primary_key=True
    )
    season: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_key: Mapped[str] = mapped_column(String(3), primary_key=True)
    league: Mapped[str] = mapped_column(String(2))
    role: Mapped[str] = mapped_column(String(2))
    plate_appearances: Mapped[int] = mapped_column(Integer)
    innings_pitched: Mapped[float] = mapped_column(Float)
    war: Mapped[float] = mapped_column(Float)
