"""Admin endpoints: the audit log, newest first, in pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.deps import AdminUser, SecurityDep
from app.errors import request_id_of
from app.schemas.auth import AuditEntryPublic, AuditPage

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/audit", summary="Page through the audit log (admin)")
async def audit_log(
    request: Request,
    admin: AdminUser,
    security: SecurityDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    event: Annotated[str | None, Query(max_length=48, pattern=r"^[a-z_]+$")] = None,
) -> AuditPage:
    entries, total = await security.audit.page(limit=limit, offset=offset, event=event)
    await security.audit.record(
        "admin_audit_read",
        user_id=admin.id,
        username=admin.username,
        ip=security.proxies.client_ip(request.scope),
        request_id=request_id_of(request.scope),
        offset=offset,
        limit=limit,
    )
    next_offset = offset + len(entries) if offset + len(entries) < total else None
    return AuditPage(
        items=[AuditEntryPublic.model_validate(entry) for entry in entries],
        total=total,
        limit=limit,
        offset=offset,
        next_offset=next_offset,
    )
