"""Database URLs as people write them, turned into the async URLs the service can open.

The service speaks to SQLite through aiosqlite and to PostgreSQL through asyncpg, nothing else.
`postgresql://` and `postgres://` (what most hosts hand out) mean asyncpg; `sqlite://` means
aiosqlite. Any other driver or dialect is refused with one line that lists what works, before
SQLAlchemy would fail on a missing DBAPI module with a long traceback.
"""

from __future__ import annotations

# The scheme each accepted spelling is rewritten to; the values are the only schemes served.
SCHEME_ALIASES = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}
SUPPORTED = "sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB"


def normalise_database_url(url: str) -> str:
    """`url` with its scheme rewritten to the async driver; ValueError naming the fix if none."""
    text = url.strip()
    scheme, sep, rest = text.partition("://")
    if not sep or not scheme or " " in scheme:
        raise ValueError(f"not a database URL; use {SUPPORTED}")
    known = SCHEME_ALIASES.get(scheme.lower())
    if known is None:
        dialect = scheme.split("+", 1)[0].lower()
        if dialect in ("postgres", "postgresql"):
            fix = f"postgresql+asyncpg://{rest}"
            raise ValueError(f"driver {scheme!r} is not supported; use {_masked(fix)}")
        raise ValueError(f"database {scheme!r} is not supported; use {SUPPORTED}")
    return f"{known}://{rest}"


def _masked(url: str) -> str:
    # The fix is shown in an error message: never print the password it carries.
    scheme, _, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if at and ":" in credentials:
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url
