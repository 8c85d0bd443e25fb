"""JWT access and refresh tokens (PyJWT, HS256 only, every registered claim required).

The algorithm list is fixed here and never read from the token header, so `alg: none` and
key-confusion tokens (HS256 signed with an RSA public key) fail signature checks.
PyJWT is imported with the first token, not with the app: with the `cryptography` bindings it
loads for the asymmetric algorithms it costs a worker ~11 MB that unauthenticated traffic never
needs.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal, TypeGuard

from app.errors import ProblemError
from app.settings import Settings

ALGORITHM = "HS256"
ALGORITHMS = [ALGORITHM]
REQUIRED_CLAIMS = ["exp", "iat", "nbf", "sub", "jti", "iss", "aud", "type"]
# User ids are 32-bit integers in every database; a `sub` beyond them names no one.
MAX_USER_ID = 2**31 - 1
MAX_JTI_LENGTH = 32
LEEWAY_SECONDS = 5
TokenType = Literal["access", "refresh"]


class InvalidToken(ProblemError):
    """401 with `WWW-Authenticate: Bearer`, the answer to every token failure."""

    status = 401
    type_slug = "invalid-token"

    def __init__(self, detail: str = "The bearer token is missing or invalid.") -> None:
        super().__init__(
            detail,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )


@dataclass(frozen=True)
class TokenClaims:
    sub: str
    jti: str
    type: TokenType
    iat: float
    exp: float
    role: str
    scopes: tuple[str, ...]
    family: str | None = None

    @property
    def user_id(self) -> int:
        return int(self.sub)

    def remaining_seconds(self, now: float | None = None) -> float:
        return max(0.0, self.exp - (time.time() if now is None else now))


@dataclass(frozen=True)
class IssuedToken:
    token: str
    claims: TokenClaims


def _valid_subject(sub: object) -> TypeGuard[str]:
    """A user id: ASCII digits, at most ten, naming a user id in range."""
    return (
        isinstance(sub, str)
        and sub.isascii()
        and sub.isdigit()
        and len(sub) <= 10
        and 0 < int(sub) <= MAX_USER_ID
    )


def _valid_family(family: object, *, required: bool) -> bool:
    """A refresh-token family id: up to 32 characters, present on every refresh token."""
    if family is None:
        return not required
    return isinstance(family, str) and 0 < len(family) <= 32


class TokenService:
    """Issue and decode tokens for one Settings (secret, issuer, audience, lifetimes)."""

    def __init__(self, settings: Settings) -> None:
        self._key = settings.JWT_SECRET_KEY.get_secret_value()
        self.issuer = settings.JWT_ISSUER
        self.audience = settings.JWT_AUDIENCE
        self.access_seconds = settings.ACCESS_TOKEN_MINUTES * 60
        self.refresh_seconds = settings.REFRESH_TOKEN_DAYS * 86400

    def issue(
        self,
        *,
        user_id: int,
        role: str,
        scopes: tuple[str, ...],
        kind: TokenType,
        family: str | None = None,
        now: float | None = None,
    ) -> IssuedToken:
        # Millisecond `iat` (RFC 7519 allows fractions) lets "logout-all at T" spare a token
        # issued a moment after T within the same second.
        issued = round(time.time() if now is None else now, 3)
        access = kind == "access"
        lifetime = self.access_seconds if access else self.refresh_seconds
        claims = TokenClaims(
            sub=str(user_id),
            jti=uuid.uuid4().hex,
            type=kind,
            iat=issued,
            exp=int(issued) + lifetime,
            role=role,
            scopes=scopes,
            family=family,
        )
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": claims.sub,
            "jti": claims.jti,
            "type": kind,
            "iat": claims.iat,
            "nbf": int(issued),
            "exp": claims.exp,
            "role": role,
            "scope": " ".join(scopes),
        }
        if family is not None:
            payload["fam"] = family
        import jwt  # see the module docstring: loaded with the first token

        return IssuedToken(jwt.encode(payload, self._key, algorithm=ALGORITHM), claims)

    def decode(self, token: str, *, expected: TokenType) -> TokenClaims:
        """Verify signature and claims; raise InvalidToken on any failure."""
        import jwt

        try:
            payload = jwt.decode(
                token,
                self._key,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS, "verify_signature": True},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("The token has expired.") from None
        except jwt.PyJWTError:
            raise InvalidToken() from None
        if payload.get("type") != expected:
            raise InvalidToken(f"An {expected} token is required.")
        sub, jti, family = payload.get("sub"), payload.get("jti"), payload.get("fam")
        if not (
            _valid_subject(sub)
            and isinstance(jti, str)
            and 0 < len(jti) <= MAX_JTI_LENGTH
            and _valid_family(family, required=expected == "refresh")
        ):
            raise InvalidToken()
        scope = payload.get("scope", "")
        return TokenClaims(
            sub=sub,
            jti=jti,
            type=expected,
            iat=float(payload["iat"]),
            exp=float(payload["exp"]),
            role=str(payload.get("role", "user")),
            scopes=tuple(scope.split()) if isinstance(scope, str) else (),
            family=family if isinstance(family, str) else None,
        )

    def subject_of(self, token: str) -> str | None:
        """The verified `sub` of an access token, or None: cheap enough for rate-limit keys."""
        try:
            return self.decode(token, expected="access").sub
        except InvalidToken:
            return None
