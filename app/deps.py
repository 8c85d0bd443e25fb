"""Annotated dependencies, so route signatures read like prose.

Every dependency is `async def`: FastAPI runs a plain `def` dependency in the thread pool,
which costs a thread hop on every request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import Database, session_scope
from app.errors import ProblemError
from app.security.accounts import Principal, authenticate
from app.security.services import SecurityServices
from app.security.tokens import InvalidToken
from app.services.cache import Cache as CacheService
from app.services.queue import TaskQueue
from app.settings import Settings


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


AppSettings = Annotated[Settings, Depends(get_app_settings)]


async def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session on the primary database that commits when the request succeeds."""
    async with session_scope(request.app.state.db.sessions) as session:
        yield session


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session on the read replica (the primary when DATABASE_READ_URL is unset)."""
    async with request.app.state.db.read_sessions() as session:
        yield session


async def get_cache(request: Request) -> CacheService:
    cache: CacheService = request.app.state.cache
    return cache


Db = Annotated[Database, Depends(get_database)]
DbSession = Annotated[AsyncSession, Depends(get_db_session)]
ReadSession = Annotated[AsyncSession, Depends(get_read_session)]
Cache = Annotated[CacheService, Depends(get_cache)]


async def get_task_queue(request: Request) -> TaskQueue:
    queue: TaskQueue = request.app.state.queue
    return queue


# The persistent task queue: `await queue.enqueue(kind, payload)`, `await queue.stats()`.
Queue = Annotated[TaskQueue, Depends(get_task_queue)]


# --- security --------------------------------------------------------------------------------
# `AuthenticatedUser` (or `Depends(require_auth)` on a router) guards routes that ENABLE_AUTH
# protects: it is None when auth is off. `CurrentUser` and `AdminUser` always require a token.
bearer_token = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)
BearerToken = Annotated[str | None, Depends(bearer_token)]


async def get_security(request: Request) -> SecurityServices:
    security: SecurityServices = request.app.state.security
    return security


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
