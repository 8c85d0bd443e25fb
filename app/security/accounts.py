"""Registration, login with lockout, refresh-token rotation, logout and bearer authentication.

Routers stay thin: each flow here takes the SecurityServices and plain values.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import session_scope
from app.db.tables.security import (
    RefreshFamily,
    RefreshToken,
    RevokedToken,
    User,
    as_utc,
    utcnow,
)
from app.errors import Conflict, NotFound, ProblemError
from app.monitoring.metrics import AUTH_EVENTS
from app.security.lockout import attempt_keys, ip_key, user_key
from app.security.services import SecurityServices
from app.security.tokens import InvalidToken, IssuedToken, TokenClaims

ROLES = ("user", "admin")
DEFAULT_SCOPES = {"user": "trades:read trades:write", "admin": "trades:read trades:write admin"}


class InvalidCredentials(ProblemError):
    status = 401
    type_slug = "invalid-credentials"

    def __init__(self) -> None:
        super().__init__("Incorrect username or password.", headers={"WWW-Authenticate": "Bearer"})


class LoginLocked(ProblemError):
    status = 429
    type_slug = "login-locked"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "Too many failed logins; try again later.",
            headers={"Retry-After": str(retry_after)},
            retry_after=retry_after,
        )


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request."""

    id: int
    username: str
    role: str
    scopes: tuple[str, ...]
    token: TokenClaims

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class TokenPair:
    access: IssuedToken
    refresh: IssuedToken


@dataclass(frozen=True)
class RequestMeta:
    ip: str
    request_id: str | None = None


def _ms_floor(moment: datetime) -> float:
    return math.floor(moment.timestamp() * 1000) / 1000


async def create_user(
    security: SecurityServices, *, username: str, password: str, role: str = "user"
) -> User:
    """Check the password policy, hash off the loop and insert; Conflict if the name is taken."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    await security.passwords.check_policy(password, user_inputs=[username])
    password_hash = await security.passwords.hash(password)
    user = User(
        username=username,
        password_hash=password_hash,
        role=role,
        scopes=DEFAULT_SCOPES[role],
        is_active=True,
        created_at=utcnow(),
    )
    try:
        async with session_scope(security.database().sessions) as session:
            session.add(user)
    except IntegrityError:
        raise Conflict("That username is taken.") from None
    return user


async def reset_password(security: SecurityServices, *, username: str, password: str) -> User:
    """Set a new password under the same policy as `create_user` and end every session.

    Every token issued before now stops working (as after logout-all) and every refresh
    family is revoked, so whoever knew the old password is signed out everywhere.
    """
    async with security.database().sessions() as session:
        user = await session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"No user {username!r}.")
    await security.passwords.check_policy(password, user_inputs=[username])
    password_hash = await security.passwords.hash(password)
    now = utcnow()
    async with session_scope(security.database().sessions) as session:
        await session.execute(
            update(User)
            .where(User.id == user.id)
            .values(password_hash=password_hash, tokens_valid_after=now)
        )
        await session.execute(
            update(RefreshFamily)
            .where(RefreshFamily.user_id == user.id, RefreshFamily.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason="password_reset")
        )
    return user


async def register(
    security: SecurityServices, *, username: str, password: str, meta: RequestMeta
) -> User:
    user = await create_user(security, username=username, password=password)
    AUTH_EVENTS.labels("register").inc()
    await security.audit.record(
        "register", user_id=user.id, username=user.username, ip=meta.ip, request_id=meta.request_id
    )
    return user


async def login(
    security: SecurityServices, *, username: str, password: str, meta: RequestMeta
) -> TokenPair:
    """Tokens for a correct password; 401 otherwise, 429 while the name or IP is locked."""
    audit, settings = security.audit, security.settings
    db = security.database()
    keys = attempt_keys(username=username, ip=meta.ip)
    claim = await security.lockout.claim(db, keys)
    if not claim.granted:
        AUTH_EVENTS.labels("login_locked").inc()
        await audit.record(
            "login_locked",
            outcome="denied",
            username=username,
            ip=meta.ip,
            request_id=meta.request_id,
            retry_after=claim.retry_after,
        )
        raise LoginLocked(claim.retry_after)
    async with db.sessions() as session:
        user = await session.scalar(select(User).where(User.username == username))
    usable = user is not None and user.is_active
    verdict = await security.passwords.verify(
        user.password_hash if usable and user else None, password
    )
    if not verdict.ok or user is None:
        AUTH_EVENTS.labels("login_failure").inc()
        await audit.record(
            "login_failure",
            outcome="failure",
            username=username,
            ip=meta.ip,
            request_id=meta.request_id,
        )
        if claim.exhausted:
            AUTH_EVENTS.labels("lockout").inc()
            await audit.record(
                "lockout",
                outcome="denied",
                username=username,
                ip=meta.ip,
                request_id=meta.request_id,
                lockout_seconds=settings.LOCKOUT_DURATION,
                locked=[key.split(":", 1)[0] for key in claim.exhausted],
            )
        raise InvalidCredentials()
    family = uuid.uuid4().hex
    now = utcnow()
    await security.lockout.succeeded(db, username_key=user_key(username), ip_key=ip_key(meta.ip))
    async with session_scope(db.sessions) as session:
        values: dict[str, object] = {"last_login_at": now}
        if verdict.new_hash is not None:
            values["password_hash"] = verdict.new_hash
        await session.execute(update(User).where(User.id == user.id).values(**values))
        session.add(RefreshFamily(id=family, user_id=user.id, created_at=now))
        pair = await _issue_pair(session, security, user, family)
    AUTH_EVENTS.labels("login_success").inc()
    await audit.record(
        "login_success",
        user_id=user.id,
        username=user.username,
        ip=meta.ip,
        request_id=meta.request_id,
        rehashed=verdict.new_hash is not None,
    )
    return pair


async def _issue_pair(
    session: AsyncSession, security: SecurityServices, user: User, family: str
) -> TokenPair:
    scopes = user.scope_list
    # The access token names its login family too, so revoking the family revokes it.
    access = security.tokens.issue(
        user_id=user.id, role=user.role, scopes=scopes, kind="access", family=family
    )
    refresh = security.tokens.issue(
        user_id=user.id, role=user.role, scopes=scopes, kind="refresh", family=family
    )
    session.add(
        RefreshToken(
            jti=refresh.claims.jti,
            family_id=family,
            user_id=user.id,
            issued_at=datetime.fromtimestamp(refresh.claims.iat, UTC),
            expires_at=datetime.fromtimestamp(refresh.claims.exp, UTC),
        )
    )
    return TokenPair(access=access, refresh=refresh)


def _valid_for(user: User | None, claims: TokenClaims) -> bool:
    """Active, and the token was issued to this account: never before it was created (an id
    reused by a new account cannot inherit old tokens) nor before its last logout-all."""
    if user is None or not user.is_active:
        return False
    if claims.iat < _ms_floor(as_utc(user.created_at)):
        return False
    cutoff = user.tokens_valid_after
    return cutoff is None or claims.iat >= _ms_floor(as_utc(cutoff))


async def refresh(security: SecurityServices, *, token: str, meta: RequestMeta) -> TokenPair:
    """Rotate a refresh token; a second use of one revokes its whole family."""
    claims = security.tokens.decode(token, expected="refresh")
    assert claims.family is not None
    db = security.database()
    async with session_scope(db.sessions) as session:
        family = await session.get(RefreshFamily, claims.family)
        user = await session.get(User, claims.user_id)
        if family is None or family.revoked_at is not None or not _valid_for(user, claims):
            raise InvalidToken("The refresh token has been revoked.")
        # Claiming the token with a conditional UPDATE is atomic across workers and replicas.
        claimed = await session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.jti == claims.jti,
                RefreshToken.family_id == claims.family,
                RefreshToken.used_at.is_(None),
            )
            .values(used_at=utcnow())
        )
        reused = claimed.rowcount != 1  # type: ignore[attr-defined]
        if not reused:
            assert user is not None
            pair = await _issue_pair(session, security, user, claims.family)
    if reused:
        await _revoke_families(security, [claims.family], reason="reuse")
        AUTH_EVENTS.labels("refresh_reuse").inc()
        await security.audit.record(
            "refresh_reuse",
            outcome="denied",
            user_id=claims.user_id,
            ip=meta.ip,
            request_id=meta.request_id,
            family=claims.family,
        )
        raise InvalidToken("The refresh token was already used; its session is revoked.")
    AUTH_EVENTS.labels("refresh").inc()
    return pair


async def _revoke_families(security: SecurityServices, families: list[str], *, reason: str) -> None:
    async with session_scope(security.database().sessions) as session:
        await session.execute(
            update(RefreshFamily)
            .where(RefreshFamily.id.in_(families), RefreshFamily.revoked_at.is_(None))
            .values(revoked_at=utcnow(), revoked_reason=reason)
        )


async def logout(
    security: SecurityServices,
    principal: Principal,
    *,
    refresh_token: str | None,
    meta: RequestMeta,
) -> None:
    """Deny the access token for the rest of its life and end the refresh token's family."""
    family = None
    if refresh_token:
        claims = security.tokens.decode(refresh_token, expected="refresh")
        if claims.user_id != principal.id or claims.family is None:
            raise InvalidToken("The refresh token belongs to another user.")
        family = claims.family
    await security.denylist.revoke(principal.token.jti, expires_at=principal.token.exp)
    # The session ends whole: the access token's own login family and the one named.
    families = sorted({f for f in (family, principal.token.family) if f is not None})
    if families:
        await _revoke_families(security, families, reason="logout")
    AUTH_EVENTS.labels("logout").inc()
    await security.audit.record(
        "logout",
        user_id=principal.id,
        username=principal.username,
        ip=meta.ip,
        request_id=meta.request_id,
    )


async def logout_all(
    security: SecurityServices, principal: Principal, *, meta: RequestMeta
) -> None:
    """Every token of the user issued before now stops working, on every device."""
    now = utcnow()
    async with session_scope(security.database().sessions) as session:
        await session.execute(
            update(User).where(User.id == principal.id).values(tokens_valid_after=now)
        )
        await session.execute(
            update(RefreshFamily)
            .where(RefreshFamily.user_id == principal.id, RefreshFamily.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason="logout_all")
        )
    await security.denylist.revoke(principal.token.jti, expires_at=principal.token.exp)
    AUTH_EVENTS.labels("logout_all").inc()
    await security.audit.record(
        "logout_all",
        user_id=principal.id,
        username=principal.username,
        ip=meta.ip,
        request_id=meta.request_id,
    )


async def authenticate(security: SecurityServices, token: str) -> Principal:
    """The Principal of a bearer access token; InvalidToken for any failure.

    One query reads the user, whether the token's id was revoked (logout, on any worker) and
    whether its login family was revoked (refresh reuse, logout, logout-all).
    """
    claims = security.tokens.decode(token, expected="access")
    if security.denylist.revoked_here(claims.jti):
        raise InvalidToken("The token has been revoked.")
    revoked = select(RevokedToken.jti).where(RevokedToken.jti == claims.jti).exists()
    family_revoked = (
        select(RefreshFamily.revoked_at)
        .where(RefreshFamily.id == claims.family)
        .scalar_subquery()
        .isnot(None)
        if claims.family is not None
        else literal(False)
    )
    async with security.database().sessions() as session:
        row = (
            await session.execute(
                select(
                    User, revoked.label("revoked"), family_revoked.label("family_revoked")
                ).where(User.id == claims.user_id)
            )
        ).one_or_none()
    if row is None or row.revoked or row.family_revoked or not _valid_for(row.User, claims):
        raise InvalidToken("The token has been revoked.")
    user = row.User
    return Principal(
        id=user.id, username=user.username, role=user.role, scopes=user.scope_list, token=claims
    )
