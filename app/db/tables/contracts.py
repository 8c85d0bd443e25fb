"""Salary history: every earlier Lahman salary of a seeded season's players.

Contracts are derived from it when the league is built (`app.domain.contracts`): the year a
salary level began, with the player's service time entering that year, dates a contract.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class SalaryHistory(Base):
    """One salary a team paid a player in `season`, kept for the seeded season `data_season`."""

    __tablename__ = "salary_history"
    __table_args__ = (Index("ix_salary_history_data_season_player", "data_season", "player_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    data_season: Mapped[int] = mapped_column(Integer)
    player_id: Mapped[str] = mapped_column(
        String(16), ForeignKey("players.player_id", ondelete="CASCADE")
    )
    season: Mapped[int] = mapped_column(Integer)
    team_key: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    service_years: Mapped[float] = mapped_column(Float)
    """Estimated service years entering `season`."""
