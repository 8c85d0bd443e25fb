"""`require_scopes`: a token must carry the scope (and its user still hold it); admins pass."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import update

from app.db.tables.security import User
from app.deps import require_scopes
from app.security.accounts import Principal
from app.settings import Settings
from tests.support.security import (  # noqa: F401  (fixtures)
    RunningApp,
    bearer,
    fixture_migrated_sqlite_template,
    fixture_migrated_sqlite_url,
    running_app,
)

router = APIRouter(prefix="/api/v1/scoped")


@router.get("/pair")
async def pair(
    user: Annotated[Principal, Depends(require_scopes("trades:read", "reports:export"))],
) -> dict[str, str]:
    return {"user": user.username}


async def set_scopes(api: RunningApp, username: str, scopes: str) -> None:
    async with api.security.database().sessions() as session:
        await session.execute(update(User).where(User.username == username).values(scopes=scopes))
        await session.commit()


def settings_for(make_settings: Callable[..., Settings], url: str) -> Settings:
    return make_settings(DATABASE_URL=url, RATE_LIMIT_ENABLED=False)


async def test_missing_scope_is_403_problem_naming_it(
    make_settings: Callable[..., Settings], migrated_sqlite_url: str
) -> None:
    async with running_app(settings_for(make_settings, migrated_sqlite_url), migrate=False) as api:
        api.app.include_router(router)
        user = await api.tokens("bleacher.fan")
        admin = await api.tokens("commissioner", role="admin")
        denied = await api.client.get("/api/v1/scoped/pair", headers=bearer(user["access_token"]))
        anonymous = await api.client.get("/api/v1/scoped/pair")
        allowed = await api.client.get("/api/v1/scoped/pair", headers=bearer(admin["access_token"]))
    assert denied.status_code == 403
    assert denied.headers["content-type"] == "application/problem+json"
    body = denied.json()
    assert body["status"] == 403
    assert body["missing_scopes"] == ["reports:export"]
    assert "reports:export" in body["detail"]
    assert "trades:read" not in body["detail"]  # the user has that one
    assert 'error="insufficient_scope"' in denied.headers["www-authenticate"]
    assert anonymous.status_code == 401
    assert allowed.json() == {"user": "commissioner"}


async def test_audit_log_opens_to_the_audit_read_scope(
    make_settings: Callable[..., Settings], migrated_sqlite_url: str
) -> None:
    async with running_app(settings_for(make_settings, migrated_sqlite_url), migrate=False) as api:
        await api.tokens("auditor")
        await set_scopes(api, "auditor", "trades:read audit:read")
        granted = (await api.login("auditor")).json()
        await api.tokens("bleacher.fan")
        plain = (await api.login("bleacher.fan")).json()
        admin = await api.tokens("commissioner", role="admin")

        as_auditor = await api.client.get(
            "/api/v1/admin/audit", headers=bearer(granted["access_token"])
        )
        as_user = await api.client.get("/api/v1/admin/audit", headers=bearer(plain["access_token"]))
        as_admin = await api.client.get(
            "/api/v1/admin/audit", headers=bearer(admin["access_token"])
        )

        # A scope taken away stops working at once, though the token still names it.
        await set_scopes(api, "auditor", "trades:read")
        revoked = await api.client.get(
            "/api/v1/admin/audit", headers=bearer(granted["access_token"])
        )
        audit = await api.audit_events()

    assert as_auditor.status_code == 200
    assert as_admin.status_code == 200
    assert as_user.status_code == 403
    assert as_user.json()["missing_scopes"] == ["audit:read"]
    assert revoked.status_code == 403
    assert audit.count("admin_audit_read") == 2
