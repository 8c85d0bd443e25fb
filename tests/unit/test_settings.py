from collections.abc import Callable

import pytest
from pydantic import ValidationError

from app.settings import Settings, mask_url


def test_report_variables_are_all_settings() -> None:
    report_vars = {
        "API_WORKERS", "API_HOST", "API_PORT", "QUEUE_MAX_WORKERS", "JWT_SECRET_KEY",
        "RATE_LIMIT_REQUESTS", "RATE_LIMIT_WINDOW", "ENABLE_AUTH",
        "ENABLE_PERFORMANCE_MONITORING", "ENABLE_REQUEST_TRACING", "SLOW_REQUEST_THRESHOLD",
        "REDIS_URL", "ENABLE_CACHING", "CACHE_TTL", "ENVIRONMENT", "DATABASE_URL", "LOG_LEVEL",
    }  # fmt: skip
    assert report_vars <= set(Settings.model_fields)


def test_secrets_are_masked_in_repr(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(JWT_SECRET_KEY="x" * 40, REDIS_URL="redis://:pw@localhost:6379/0")
    assert "x" * 40 not in repr(settings)
    assert "pw" not in repr(settings)


@pytest.mark.parametrize("secret", ["your-production-secret-key", "short", "", "a" * 31])
def test_production_refuses_weak_jwt_secret(
    make_settings: Callable[..., Settings], secret: str
) -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET_KEY"):
        make_settings(ENVIRONMENT="production", JWT_SECRET_KEY=secret)


def test_production_refuses_the_development_default(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET_KEY"):
        make_settings(ENVIRONMENT="staging")


def test_production_accepts_a_long_random_secret(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(ENVIRONMENT="production", JWT_SECRET_KEY="k" * 32)
    assert settings.https_enforced


def test_environment_variables_are_read(
    monkeypatch: pytest.MonkeyPatch, make_settings: Callable[..., Settings]
) -> None:
    monkeypatch.setenv("API_PORT", "9001")
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example,https://b.example")
    settings = make_settings()
    assert settings.API_PORT == 9001
    assert settings.CORS_ORIGINS == ["https://a.example", "https://b.example"]


def test_bad_port_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, make_settings: Callable[..., Settings]
) -> None:
    monkeypatch.setenv("API_PORT", "abc")
    with pytest.raises(ValidationError, match="API_PORT"):
        make_settings()


def test_mask_url_hides_only_the_password() -> None:
    assert (
        mask_url("postgresql+asyncpg://u:secret@db:5432/x")
        == "postgresql+asyncpg://u:***@db:5432/x"
    )
    assert mask_url("sqlite+aiosqlite:///./var/btai.db") == "sqlite+aiosqlite:///./var/btai.db"
