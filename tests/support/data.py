"""Seeded databases for tests: the 2016 Lahman season, migrated and loaded once per session.

`seeded_sqlite_url` copies a template SQLite file into the test's tmp_path; `seeded_pg_url`
clones a template PostgreSQL database (CREATE DATABASE ... TEMPLATE), so each test gets its
own writable, fully seeded database while the seeding cost is paid once per session.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.db.seed import prepare_database
from tests.support.services import (
    PG_HOST,
    PG_PORT,
    _admin,
    create_pg_database,
    drop_pg_database,
    require,
)
from tests.support.settings import settings_for


def _seed(url: str) -> None:
    settings = settings_for(DATABASE_URL=url)
    asyncio.run(prepare_database(settings))


@pytest.fixture(scope="session")
def seeded_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("seeded-sqlite") / "template.db"
    _seed(f"sqlite+aiosqlite:///{path}")
    return path


def copy_sqlite(template: Path, folder: Path) -> str:
    """Copy the seeded template to `folder/btai.db`; returns its URL."""
    target = folder / "btai.db"
    shutil.copyfile(template, target)
    return f"sqlite+aiosqlite:///{target}"


def clone_pg(template: str) -> tuple[str, str]:
    """A new PostgreSQL database copied from `template`; returns (name, URL)."""
    require(PG_HOST, PG_PORT, "PostgreSQL")
    name = f"btai_data_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    return name, f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{name}"


@pytest.fixture
def seeded_sqlite_url(seeded_sqlite_template: Path, tmp_path: Path) -> str:
    """A private SQLite file (`tmp_path/btai.db`) with every migration and season 2016."""
    return copy_sqlite(seeded_sqlite_template, tmp_path)


@pytest.fixture(scope="session")
def seeded_pg_template() -> Iterator[str]:
    name, url = create_pg_database(prefix="btai_data_tmpl")
    try:
        _seed(url)
        yield name
    finally:
        drop_pg_database(name)


@pytest.fixture
def seeded_pg_url(seeded_pg_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database cloned from the migrated and seeded template."""
    name, url = clone_pg(seeded_pg_template)
    try:
        yield url
    finally:
        drop_pg_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def seeded_db_url(request: pytest.FixtureRequest) -> str:
    """Each test that takes this runs twice: on seeded SQLite and on seeded PostgreSQL."""
    fixture = "seeded_sqlite_url" if request.param == "sqlite" else "seeded_pg_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def module_db_url(
    request: pytest.FixtureRequest,
    seeded_sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """One seeded database per test module, on SQLite and on PostgreSQL, for modules that
    only read and so share one app per database."""
    if request.param == "sqlite":
        folder = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
        yield copy_sqlite(seeded_sqlite_template, folder)
        return
    name, url = clone_pg(request.getfixturevalue("seeded_pg_template"))
    try:
        yield url
    finally:
        drop_pg_database(name)
