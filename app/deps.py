"""Annotated dependencies, so route signatures read like prose.

Every dependency is `async def`: FastAPI runs a plain `def` dependency in the thread pool,
which costs a thread hop on every request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from app.errors import ProblemError
from app.monitoring.service import HealthService
from app.resources import AppParts, Resources, parts_of, resources_of
from app.security.accounts import Principal, authenticate
from app.security.services import SecurityServices
from app.security.tokens import InvalidToken
from app.services.analyses import AnalysisService


async def get_parts(request: Request) -> AppParts:
    return parts_of(request.app.state)


# What exists before the lifespan (`app.resources.AppParts`): settings, health, statistics.
Parts = Annotated[AppParts, Depends(get_parts)]


async def get_resources(request: Request) -> Resources:
    return resources_of(request.app.state)


# Everything the app holds (`app.resources.Resources`): the parts, database, cache, ...
AppResources = Annotated[Resources, Depends(get_resources)]


async def get_analyses(resources: AppResources) -> AnalysisService:
    return resources.analyses


# Trade evaluations and the queued analyses.
Analyses = Annotated[AnalysisService, Depends(get_analyses)]


async def get_health(parts: Parts) -> HealthService:
    return parts.health


Health = Annotated[HealthService, Depends(get_health)]


# --- security --------------------------------------------------------------------------------
# `AuthenticatedUser` (or `Depends(require_auth)` on a router) guards routes that ENABLE_AUTH
# protects: it is None when auth is off. `CurrentUser` and `AdminUser` always require a token.
bearer_token = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)
BearerToken = Annotated[str | None, Depends(bearer_token)]


async def get_security(parts: Parts) -> SecurityServices:
    return parts.security


SecurityDep = Annotated[SecurityServices, Depends(get_security)]


async def current_user(request: Request, security: SecurityDep, token: BearerToken) -> Principal:
    if not token:
        raise InvalidToken("A bearer token is required.")
    principal = await authenticate(security, token)
    request.scope.setdefault("state", {})["user_id"] = principal.id
    return principal


CurrentUser = Annotated[Principal, Depends(current_user)]


async def admin_user(user: CurrentUser) -> Principal:
    if not user.is_admin:
        raise ProblemError("This needs the admin role.", status=403, type_slug="forbidden")
    return user


AdminUser = Annotated[Principal, Depends(admin_user)]


def require_scopes(*scopes: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency giving the caller whose token carries every one of `scopes`; admins pass.

    A scope counts when the token was issued with it and the user still holds it, so taking
    a scope away takes effect before the token expires. Otherwise 403 names what is missing.
    """

    async def scoped_user(user: CurrentUser) -> Principal:
        if user.is_admin:
            return user
        granted = set(user.token.scopes) & set(user.scopes)
        missing = [scope for scope in scopes if scope not in granted]
        if missing:
            raise ProblemError(
                f"This needs the {', '.join(missing)} scope{'s' if len(missing) > 1 else ''}.",
                status=403,
                type_slug="insufficient-scope",
                headers={
                    "WWW-Authenticate": f'Bearer error="insufficient_scope", '
                    f'scope="{" ".join(scopes)}"'
                },
                missing_scopes=missing,
            )
        return user

    return scoped_user


async def require_auth(
    request: Request, security: SecurityDep, token: BearerToken
) -> Principal | None:
    if not security.settings.ENABLE_AUTH:
        return None
    return await current_user(request, security, token)


async def require_admin(
    request: Request, security: SecurityDep, token: BearerToken
) -> Principal | None:
    principal = await require_auth(request, security, token)
    return None if principal is None else await admin_user(principal)


AuthenticatedUser = Annotated[Principal | None, Depends(require_auth)]
AdminWhenAuthEnabled = Annotated[Principal | None, Depends(require_admin)]
