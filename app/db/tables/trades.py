"""Trade analyses: the requests, their progress and results, keyed for idempotency."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class TradeAnalysis(Base):
    __tablename__ = "trade_analyses"
    __table_args__ = (Index("ix_trade_analyses_created_at", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    team: Mapped[str] = mapped_column(String(3))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    # sha256 of the canonical request body: identical requests share one analysis.
    request_hash: Mapped[str] = mapped_column(String(64), index=True)
    # Set while the analysis is queued or running: identical requests in flight coalesce on it.
    inflight_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    urgency: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[str] = mapped_column(String(64), default="queued")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    # How many times a result was recorded: exactly-once completion keeps this at 1.
    completions: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
