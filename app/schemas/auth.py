"""Request and response models of the auth and admin endpoints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.security.sanitize import Username


def _utc(value: datetime) -> datetime:
    """SQLite hands stored times back without their zone; every stored time is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]

# A hard ceiling on what is even parsed; the configurable policy (PASSWORD_MAX_LENGTH) is
# checked after, and nothing longer is ever hashed.
PASSWORD_CEILING = 4096


class Credentials(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"username": "casey.stengel", "password": "ninety feet of chalk"}]
        },
    )

    username: Username = Field(max_length=64, examples=["casey.stengel"])
    password: str = Field(min_length=1, max_length=PASSWORD_CEILING)


class RegisterRequest(Credentials):
    pass


class LoginRequest(Credentials):
    pass


class RefreshRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"refresh_token": "eyJhbGciOiJIUzI1NiJ9"}]}
    )

    refresh_token: str = Field(min_length=1, max_length=4096)


class LogoutRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"refresh_token": "eyJhbGciOiJIUzI1NiJ9"}]}
    )

    refresh_token: str | None = Field(None, max_length=4096)


class TokenResponse(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105  (OAuth2 names the scheme, not a secret)
    expires_in: int = Field(description="Seconds the access token lives.")
    refresh_expires_in: int = Field(description="Seconds the refresh token lives.")


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    role: str
    scopes: list[str]
    created_at: UtcDatetime | None = None


class AuditEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: UtcDatetime
    event: str
    outcome: str
    user_id: int | None
    username: str | None
    ip: str | None
    request_id: str | None
    detail: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditEntryPublic]
    total: int
    limit: int
    offset: int
    next_offset: int | None
