"""Admin endpoints: the audit log, newest first, in pages (admins or scope `audit:read`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from app.deps import SecurityDep, require_scopes
from app.errors import request_id_of
from app.schemas.auth import AuditEntryPublic, AuditPage
from app.security.accounts import Principal

router = APIRouter(prefix="/admin", tags=["admin"])

# Admins, or users granted the `audit:read` scope.
AuditReader = Annotated[Principal, Depends(require_scopes("audit:read"))]


@router.get("/audit", summary="Page through the audit log (admin or scope audit:read)")
async def audit_log(
    request: Request,
    reader: AuditReader,
    security: SecurityDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    event: Annotated[str | None, Query(max_length=48, pattern=r"^[a-z_]+$")] = None,
) -> AuditPage:
    entries, total = await security.audit.page(limit=limit, offset=offset, event=event)
    await security.audit.record(
        "admin_audit_read",
        user_id=reader.id,
        username=reader.username,
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
