"""The audit log: security events go to the `audit_log` table and the structured log."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from app.db.engine import session_scope
from app.db.tables.security import AuditEntry

if TYPE_CHECKING:
    from app.db.engine import Database

logger = logging.getLogger("app.audit")


class AuditLog:
    """Writes each event in its own transaction, so a request that fails still leaves a trace."""

    def __init__(self, db: Database | None = None) -> None:
        self.db = db

    async def record(
        self,
        event: str,
        *,
        outcome: str = "success",
        user_id: int | None = None,
        username: str | None = None,
        ip: str | None = None,
        request_id: str | None = None,
        **detail: Any,
    ) -> None:
        fields = {
            "event": event,
            "outcome": outcome,
            "user_id": user_id,
            "username": username,
            "ip": ip,
            "request_id": request_id,
            "detail": detail,
        }
        # One line with who, from where and how it ended, readable in either log format.
        logger.info(
            "audit %s outcome=%s user_id=%s username=%s ip=%s%s",
            event,
            outcome,
            user_id,
            username,
            ip,
            "".join(f" {key}={value}" for key, value in detail.items()),
            extra={"audit": fields},
        )
        if self.db is None:
            return
        try:
            async with session_scope(self.db.sessions) as session:
                session.add(AuditEntry(**fields))
        except SQLAlchemyError:
            logger.exception("audit event %s could not be stored", event)

    async def page(
        self, *, limit: int, offset: int, event: str | None = None
    ) -> tuple[list[AuditEntry], int]:
        """Newest first; returns the entries and the total count."""
        assert self.db is not None
        query = select(AuditEntry)
        count = select(func.count()).select_from(AuditEntry)
        if event is not None:
            query = query.where(AuditEntry.event == event)
            count = count.where(AuditEntry.event == event)
        async with self.db.read_sessions() as session:
            total = int((await session.execute(count)).scalar_one())
            rows = await session.scalars(
                query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
            )
            return list(rows), total
