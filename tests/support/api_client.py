"""One app per test module on the seeded database, for modules that only read.

A module imports `fixture_client` (the fixture `client`) and marks itself
`pytest.mark.asyncio(loop_scope="module")`; the fixture runs once per database of
`module_db_url` (SQLite, then PostgreSQL).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from app.main import create_app
from tests.support.settings import settings_for


@pytest_asyncio.fixture(name="client", scope="module", loop_scope="module")
async def fixture_client(module_db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on one app, started once for the module, over the module's database."""
    app = create_app(settings_for(DATABASE_URL=module_db_url))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        yield c
