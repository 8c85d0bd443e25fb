"""The dependencies other routers use: AuthenticatedUser / require_auth follow ENABLE_AUTH,
AdminWhenAuthEnabled adds the admin role, CurrentUser and AdminUser always need a token."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import APIRouter, Depends

from app.deps import AdminUser, AdminWhenAuthEnabled, AuthenticatedUser, require_auth
from app.settings import Settings
from tests.support.security import (  # noqa: F401  (fixtures)
    bearer,
    fixture_migrated_sqlite_template,
    fixture_migrated_sqlite_url,
    running_app,
)

router = APIRouter(prefix="/api/v1/guarded")


@router.get("/user")
async def user_route(user: AuthenticatedUser) -> dict[str, str | None]:
    return {"user": user.username if user else None}


@router.get("/admin")
async def admin_route(admin: AdminWhenAuthEnabled) -> dict[str, str | None]:
    return {"admin": admin.username if admin else None}


@router.get("/always-admin")
async def always_admin(admin: AdminUser) -> dict[str, str]:
    return {"admin": admin.username}


@router.get("/whole-router", dependencies=[Depends(require_auth)])
async def whole_router() -> dict[str, bool]:
    return {"ok": True}


@pytest.mark.parametrize("enabled", [False, True])
async def test_routes_follow_enable_auth(
    make_settings: Callable[..., Settings], enabled: bool
) -> None:
    settings = make_settings(ENABLE_AUTH=enabled, RATE_LIMIT_ENABLED=False)
    async with running_app(settings) as api:
        api.app.include_router(router)
        user = await api.tokens("plain.user")
        admin = await api.tokens("the.boss", role="admin")
        paths = ["/user", "/admin", "/whole-router"]
        anonymous = [(await api.client.get(f"/api/v1/guarded{p}")).status_code for p in paths]
        as_user = await api.client.get("/api/v1/guarded/user", headers=bearer(user["access_token"]))
        user_on_admin = await api.client.get(
            "/api/v1/guarded/admin", headers=bearer(user["access_token"])
        )
        admin_on_admin = await api.client.get(
            "/api/v1/guarded/admin", headers=bearer(admin["access_token"])
        )
        always = await api.client.get("/api/v1/guarded/always-admin")
    assert always.status_code == 401  # AdminUser needs a token whatever ENABLE_AUTH says
    if not enabled:
        assert anonymous == [200, 200, 200]
        assert as_user.json() == {"user": None}
        assert user_on_admin.json() == {"admin": None}
        return
    assert anonymous == [401, 401, 401]
    assert as_user.json() == {"user": "plain.user"}
    assert user_on_admin.status_code == 403
    assert user_on_admin.headers["content-type"] == "application/problem+json"
    assert admin_on_admin.json() == {"admin": "the.boss"}


async def test_rejections_still_carry_security_headers_and_request_id(
    make_settings: Callable[..., Settings], migrated_sqlite_url: str
) -> None:
    settings = make_settings(
        RATE_LIMIT_REQUESTS=1,
        RATE_LIMIT_BURST=0,
        MAX_BODY_SIZE=1024,
        DATABASE_URL=migrated_sqlite_url,
    )
    async with running_app(settings, migrate=False) as api:
        too_large = await api.client.post("/api/v1/auth/register", content=b"x" * 4096)
        await api.client.get("/api/v1/auth/me")
        limited = await api.client.get("/api/v1/auth/me")
    for response, status in ((too_large, 413), (limited, 429)):
        assert response.status_code == status
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
        assert response.json()["request_id"] == response.headers["x-request-id"]
