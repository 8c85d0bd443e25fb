"""Auth endpoints: register, login (OAuth2 password form or JSON), refresh, logout, me."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response, status
from pydantic import ValidationError

from app.deps import CurrentUser, SecurityDep
from app.errors import InvalidFields, InvalidInput, ProblemError, request_id_of
from app.schemas.auth import (
    LoginRequest,
    LogoutRequest,
    RefreshRequest,
    RegisterRequest,
    TokenResponse,
    UserPublic,
)
from app.security import accounts
from app.security.accounts import Principal, RequestMeta, TokenPair
from app.security.services import SecurityServices

router = APIRouter(prefix="/auth", tags=["auth"])

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
LOGIN_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": LoginRequest.model_json_schema()},
        "application/x-www-form-urlencoded": {"schema": LoginRequest.model_json_schema()},
    },
}


def _meta(request: Request, security: SecurityServices) -> RequestMeta:
    return RequestMeta(
        ip=security.proxies.client_ip(request.scope), request_id=request_id_of(request.scope)
    )


async def _spend_account(request: Request, security: SecurityServices, username: str) -> None:
    await security.auth_limits.spend_account(
        method=request.method, path=request.url.path, username=username
    )


def _tokens(pair: TokenPair, security: SecurityServices) -> TokenResponse:
    return TokenResponse(
        access_token=pair.access.token,
        refresh_token=pair.refresh.token,
        expires_in=security.tokens.access_seconds,
        refresh_expires_in=security.tokens.refresh_seconds,
    )


def _public(user: Principal) -> UserPublic:
    return UserPublic(id=user.id, username=user.username, role=user.role, scopes=list(user.scopes))


async def _login_fields(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in FORM_TYPES:
        form = await request.form(max_files=0, max_fields=16)
        return {key: form.get(key) for key in ("username", "password") if key in form}
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            fields = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            raise InvalidInput("The body is not valid JSON.", field="body") from None
        if not isinstance(fields, dict):
            raise InvalidInput("The body must be a JSON object.", field="body")
        return fields
    raise ProblemError(
        "Send the credentials as JSON or as an OAuth2 password form.",
        status=415,
        type_slug="unsupported-media-type",
    )


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    summary="Create a user account",
    responses={409: {"description": "That username is taken."}},
)
async def register(body: RegisterRequest, request: Request, security: SecurityDep) -> UserPublic:
    await _spend_account(request, security, body.username)
    user = await accounts.register(
        security, username=body.username, password=body.password, meta=_meta(request, security)
    )
    return UserPublic(
        id=user.id,
        username=user.username,
        role=user.role,
        scopes=list(user.scope_list),
        created_at=user.created_at,
    )


@router.post(
    "/login",
    summary="Exchange a username and password for tokens",
    openapi_extra={"requestBody": LOGIN_BODY},
    # The body is read by the route itself (JSON or a form), so its errors are listed here.
    responses={
        401: {"description": "Wrong username or password."},
        415: {"description": "The body is neither JSON nor an OAuth2 password form."},
        422: {"description": "Invalid credentials fields; `errors` names each."},
    },
)
async def login(request: Request, security: SecurityDep) -> TokenResponse:
    """Accepts the OAuth2 password form (as Swagger's Authorize button sends it) or JSON."""
    try:
        credentials = LoginRequest.model_validate(await _login_fields(request))
    except ValidationError as exc:
        # Not a RequestValidationError: that one answers a form body with 415 (JSON expected),
        # while this route takes the OAuth2 password form too.
        errors = [{**err, "loc": ("body", *err["loc"])} for err in exc.errors()]
        raise InvalidFields(errors) from None
    if len(credentials.password) > security.settings.PASSWORD_MAX_LENGTH:
        raise InvalidInput(
            f"Password must be at most {security.settings.PASSWORD_MAX_LENGTH} characters.",
            field="body.password",
        )
    await _spend_account(request, security, credentials.username)
    pair = await accounts.login(
        security,
        username=credentials.username,
        password=credentials.password,
        meta=_meta(request, security),
    )
    return _tokens(pair, security)


@router.post(
    "/refresh",
    summary="Rotate a refresh token for a new token pair",
    responses={401: {"description": "The refresh token is invalid, expired or reused."}},
)
async def refresh(body: RefreshRequest, request: Request, security: SecurityDep) -> TokenResponse:
    pair = await accounts.refresh(security, token=body.refresh_token, meta=_meta(request, security))
    return _tokens(pair, security)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="End this session")
async def logout(
    request: Request,
    user: CurrentUser,
    security: SecurityDep,
    body: LogoutRequest | None = None,
) -> Response:
    await accounts.logout(
        security,
        user,
        refresh_token=body.refresh_token if body else None,
        meta=_meta(request, security),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/logout-all",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End every session of this user",
)
async def logout_all(request: Request, user: CurrentUser, security: SecurityDep) -> Response:
    await accounts.logout_all(security, user, meta=_meta(request, security))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", summary="The authenticated user")
async def me(user: CurrentUser) -> UserPublic:
    return _public(user)
