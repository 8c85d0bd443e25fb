"""Readiness after a black-hole stall: every check runs under its own deadline, so once the
database answers again readiness is back within two check intervals."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest

from app.main import create_app
from app.settings import Settings
from tests.support.services import PG_HOST, PG_PORT
from tests.support.tcp_proxy import tcp_proxy
from tests.support.timing import scaled

pytestmark = [pytest.mark.postgres]
INTERVAL = 2.0
CHECK_TIMEOUT = 1.0


async def readiness(client: httpx.AsyncClient) -> int:
    return (await client.get("/api/v1/health/readiness")).status_code


@pytest.mark.parametrize("revive", [True, False], ids=["held-bytes-resume", "connections-lost"])
async def test_readiness_recovers_within_two_intervals_after_a_black_hole_stall(
    make_settings: Callable[..., Settings], seeded_pg_url: str, revive: bool
) -> None:
    with tcp_proxy((PG_HOST, PG_PORT)) as proxy:
        settings = make_settings(
            DATABASE_URL=seeded_pg_url.replace(f"{PG_HOST}:{PG_PORT}/", f"{proxy.address}/"),
            HEALTH_CHECK_TIMEOUT=CHECK_TIMEOUT,
            HEALTH_CACHE_SECONDS=INTERVAL / 4,
            HEALTH_MONITOR_INTERVAL=INTERVAL,
            QUEUE_POLL_INTERVAL=0.1,
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                assert await readiness(client) == 200
                proxy.black_hole()
                # Probes keep coming during the stall; each is answered, not held.
                stalled = []
                for _ in range(4):
                    async with asyncio.timeout(scaled(CHECK_TIMEOUT * 10)):
                        stalled.append(await readiness(client))
                    await asyncio.sleep(INTERVAL / 2)
                proxy.pass_through(revive=revive)
                back_at = time.monotonic()
                budget = 2 * INTERVAL * (scaled(1.0))
                recovered = 503
                while recovered != 200 and time.monotonic() - back_at < budget:
                    await asyncio.sleep(INTERVAL / 8)
                    recovered = await readiness(client)
    assert stalled[-1] == 503
    assert recovered == 200, f"readiness still {recovered} {budget:.1f}s after the stall ended"
