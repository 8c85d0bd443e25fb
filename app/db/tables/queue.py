"""The persistent task queue: one row per task, claimed under a lease.

Times are epoch seconds (double precision) so that "due" and "lease expired" compare the same
way on SQLite and PostgreSQL, with no time-zone conversion in between.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Double, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class QueueTask(Base):
    __tablename__ = "queue_tasks"
    __table_args__ = (
        # The claim query: pending tasks of a queue, highest priority first, then oldest.
        Index("ix_queue_tasks_claim", "queue", "state", "priority", "enqueued_at"),
        Index("ix_queue_tasks_lease", "state", "lease_expires_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    queue: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # pending -> running -> completed | pending (retry) | dead
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_retries: Mapped[int] = mapped_column(Integer)
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    enqueued_at: Mapped[float] = mapped_column(Double)
    available_at: Mapped[float] = mapped_column(Double)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_token: Mapped[str | None] = mapped_column(String(32))
    lease_expires_at: Mapped[float | None] = mapped_column(Double)
    started_at: Mapped[float | None] = mapped_column(Double)
    finished_at: Mapped[float | None] = mapped_column(Double)
    result: Mapped[Any | None] = mapped_column(JSON)
    last_error: Mapped[str | None] = mapped_column(Text)
