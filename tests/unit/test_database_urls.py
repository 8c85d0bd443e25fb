"""Database URLs as people write them: driverless PostgreSQL means asyncpg, others are refused."""

from collections.abc import Callable

import pytest
from pydantic import ValidationError

from app.database_urls import normalise_database_url
from app.settings import Settings


@pytest.mark.parametrize(
    ("given", "served"),
    [
        ("postgresql://u:p@h:5432/db", "postgresql+asyncpg://u:p@h:5432/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("POSTGRESQL+ASYNCPG://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:///./var/btai.db", "sqlite+aiosqlite:///./var/btai.db"),
        ("sqlite+aiosqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
    ],
)
def test_accepted_urls_are_rewritten_to_the_async_driver(given: str, served: str) -> None:
    assert normalise_database_url(given) == served


@pytest.mark.parametrize(
    ("given", "fix"),
    [
        ("mysql://x", "sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB"),
        ("not a url", "sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB"),
        ("postgresql+psycopg://u:secret@h/db", "use postgresql+asyncpg://u:***@h/db"),
    ],
)
def test_other_urls_are_refused_with_the_fix(given: str, fix: str) -> None:
    with pytest.raises(ValueError, match="not") as caught:
        normalise_database_url(given)
    assert fix in str(caught.value)
    assert "secret" not in str(caught.value)


def test_settings_normalise_both_database_urls(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(
        DATABASE_URL="postgres://a@h/db", DATABASE_READ_URL="postgresql://b@r/db"
    )
    assert settings.database_url == "postgresql+asyncpg://a@h/db"
    assert settings.DATABASE_READ_URL is not None
    assert settings.DATABASE_READ_URL.get_secret_value() == "postgresql+asyncpg://b@r/db"
    with pytest.raises(ValidationError, match="DATABASE_URL"):
        make_settings(DATABASE_URL="mysql://x")


@pytest.mark.parametrize("given", ["debug", "Warning", " info "])
def test_log_level_is_read_in_any_case(make_settings: Callable[..., Settings], given: str) -> None:
    level = make_settings(LOG_LEVEL=given).LOG_LEVEL
    assert level == given.strip().upper()
