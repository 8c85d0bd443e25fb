"""Forged, expired and misused tokens: each gets 401 problem+json with WWW-Authenticate."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.security.tokens import InvalidToken, TokenService
from app.settings import Settings
from tests.support.security import (  # noqa: F401  (fixtures)
    RunningApp,
    bearer,
    fixture_migrated_sqlite_template,
    fixture_migrated_sqlite_url,
    running_app,
)

SECRET = "s" * 48


@pytest.fixture
def settings(make_settings: Callable[..., Settings], migrated_sqlite_url: str) -> Settings:
    return make_settings(
        JWT_SECRET_KEY=SECRET, RATE_LIMIT_ENABLED=False, DATABASE_URL=migrated_sqlite_url
    )


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[RunningApp]:
    async with running_app(settings, migrate=False) as running:
        yield running


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(user_id: int, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": "btai",
        "aud": "btai-api",
        "sub": str(user_id),
        "jti": uuid.uuid4().hex,
        "type": "access",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "role": "admin",
        "scope": "admin",
    }
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not None}


def hs256_with_key(payload: dict[str, Any], key: bytes) -> str:
    """Sign by hand: PyJWT itself refuses to use a PEM public key as an HMAC secret."""
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(payload).encode())
    signature = hmac.new(key, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64(signature)}"


def rsa_keys() -> tuple[Any, bytes]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public_pem


async def assert_refused(api: RunningApp, token: str) -> None:
    response = await api.client.get("/api/v1/auth/me", headers=bearer(token))
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401


async def test_a_genuine_token_passes(api: RunningApp) -> None:
    await api.tokens("honest.abe")
    # Issued after the account was created (to the millisecond, as the service issues them):
    # a token older than its account is refused.
    token = jwt.encode(claims(1, role="user", iat=round(time.time(), 3)), SECRET, algorithm="HS256")
    response = await api.client.get("/api/v1/auth/me", headers=bearer(token))
    assert response.status_code == 200
    # Role comes from the database, not from the token's claim.
    assert response.json()["role"] == "user"


def forged_tokens() -> dict[str, Callable[[], str]]:
    private, public_pem = rsa_keys()
    return {
        "alg_none": lambda: jwt.encode(claims(1), None, algorithm="none"),
        "alg_none_uppercase": lambda: (
            b64(json.dumps({"alg": "NONE", "typ": "JWT"}).encode())
            + "."
            + b64(json.dumps(claims(1)).encode())
            + "."
        ),
        "hs256_signed_with_rsa_public_pem": lambda: hs256_with_key(claims(1), public_pem),
        "rs256_signed_with_rsa_private_key": lambda: jwt.encode(
            claims(1), private, algorithm="RS256"
        ),
        "expired": lambda: jwt.encode(
            claims(
                1,
                iat=int(time.time()) - 7200,
                nbf=int(time.time()) - 7200,
                exp=int(time.time()) - 3600,
            ),
            SECRET,
            algorithm="HS256",
        ),
        "not_yet_valid": lambda: jwt.encode(
            claims(1, nbf=int(time.time()) + 3600), SECRET, algorithm="HS256"
        ),
        "other_issuer": lambda: jwt.encode(claims(1, iss="evil"), SECRET, algorithm="HS256"),
        "other_audience": lambda: jwt.encode(claims(1, aud="other-api"), SECRET, algorithm="HS256"),
        "wrong_secret": lambda: jwt.encode(claims(1), "x" * 48, algorithm="HS256"),
        "missing_jti": lambda: jwt.encode(claims(1, jti=None), SECRET, algorithm="HS256"),
        "missing_type": lambda: jwt.encode(claims(1, type=None), SECRET, algorithm="HS256"),
        "missing_exp": lambda: jwt.encode(claims(1, exp=None), SECRET, algorithm="HS256"),
        "refresh_type_as_access": lambda: jwt.encode(
            claims(1, type="refresh", fam="f" * 32), SECRET, algorithm="HS256"
        ),
        "unknown_user": lambda: jwt.encode(claims(999), SECRET, algorithm="HS256"),
        "garbage": lambda: "not.a.token",
    }


async def test_forged_and_misused_tokens_are_refused(api: RunningApp) -> None:
    await api.tokens("target.user")
    for kind, forge in forged_tokens().items():
        response = await api.client.get("/api/v1/auth/me", headers=bearer(forge()))
        assert response.status_code == 401, kind
        assert response.headers["content-type"] == "application/problem+json", kind
        assert response.headers["www-authenticate"].startswith("Bearer"), kind


async def test_tampered_signature_and_payload_are_refused(api: RunningApp) -> None:
    tokens = await api.tokens("tamper.target")
    header, payload, signature = tokens["access_token"].split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    await assert_refused(api, f"{header}.{payload}.{flipped}")
    raised = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raised["role"] = "admin"
    await assert_refused(api, f"{header}.{b64(json.dumps(raised).encode())}.{signature}")


async def test_missing_or_non_bearer_credentials_are_refused(api: RunningApp) -> None:
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}):
        response = await api.client.get("/api/v1/auth/me", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_token_service_round_trip_and_type_check(settings: Settings) -> None:
    service = TokenService(settings)
    issued = service.issue(
        user_id=7, role="user", scopes=("trades:read",), kind="refresh", family="f1"
    )
    decoded = service.decode(issued.token, expected="refresh")
    assert (decoded.sub, decoded.family, decoded.scopes) == ("7", "f1", ("trades:read",))
    assert 0 < decoded.remaining_seconds() <= settings.REFRESH_TOKEN_DAYS * 86400
    with pytest.raises(InvalidToken):
        service.decode(issued.token, expected="access")
    assert service.subject_of(issued.token) is None
