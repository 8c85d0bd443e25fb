"""Annotated dependencies, so route signatures read like prose.

Every dependency is `async def`: FastAPI runs a plain `def` dependency in the thread pool,
which costs a thread hop on every request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from fastapi.security.base import SecurityBase
from starlette.types import Scope

from app.errors import ProblemError
from app.monitoring.service import HealthService
from app.resources import AppParts, Resources, parts_of, resources_of
from app.security.accounts import Principal, authenticate
from app.security.services import SecurityServices
from app.security.tokens import InvalidToken
from app.services.analyses import AnalysisService


# Each dependency reads `app.state` itself rather than through another dependency: FastAPI
# solves every level of a dependency tree apart, on every request.
async def get_parts(request: Request) -> AppParts:
    return parts_of(request.app.state)


# What exists before the lifespan (`app.resources.AppParts`): settings, health, statistics.
Parts = Annotated[AppParts, Depends(get_parts)]


async def get_resources(request: Request) -> Resources:
    return resources_of(request.app.state)


# Everything the app holds (`app.resources.Resources`): the parts, database, cache, ...
AppResources = Annotated[Resources, Depends(get_resources)]


def resources_in(scope: Scope) -> Resources:
    """`get_resources` for code that runs before FastAPI builds a request (a cached read's
    hit, `app.api.caching.CachedReadRoute`)."""
    return resources_of(scope["app"].state)


async def get_analyses(request: Request) -> AnalysisService:
    return resources_of(request.app.state).analyses


# Trade evaluations and the queued analyses.
Analyses = Annotated[AnalysisService, Depends(get_analyses)]


async def get_health(request: Request) -> HealthService:
    return parts_of(request.app.state).health


Health = Annotated[HealthService, Depends(get_health)]


# --- security --------------------------------------------------------------------------------
# `AuthenticatedUser` (or `Depends(require_auth)` on a router) guards routes that ENABLE_AUTH
# protects: it is None when auth is off. `CurrentUser` and `AdminUser` always require a token.
bearer_token = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)
BearerToken = Annotated[str | None, Depends(bearer_token)]


async def get_security(request: Request) -> SecurityServices:
    return parts_of(request.app.state).security


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


class _AuthWhenEnabled(SecurityBase):
    """The caller when ENABLE_AUTH is on (401 without a valid token), None when it is off.

    One dependency that reads the bearer token itself, where a tree (security services ->
    parts, token) would be solved level by level on every guarded request. It is the bearer
    scheme to FastAPI, so the OpenAPI document names the same `OAuth2PasswordBearer`.
    """

    def __init__(self, scheme: OAuth2PasswordBearer, *, admin: bool) -> None:
        self.model = scheme.model
        self.scheme_name = scheme.scheme_name
        self._scheme = scheme
        self._admin = admin

    async def __call__(self, request: Request) -> Principal | None:
        security = parts_of(request.app.state).security
        if not security.settings.ENABLE_AUTH:
            return None
        principal = await current_user(request, security, await self._scheme(request))
        return await admin_user(principal) if self._admin else principal


require_auth = _AuthWhenEnabled(bearer_token, admin=False)
require_admin = _AuthWhenEnabled(bearer_token, admin=True)

AuthenticatedUser = Annotated[Principal | None, Depends(require_auth)]
AdminWhenAuthEnabled = Annotated[Principal | None, Depends(require_admin)]
