"""Real server processes: a cache shared through Redis, and serving on when Redis is down."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from tests.support.server import run_server
from tests.support.services import flush_redis, free_port, redis_url

pytestmark = pytest.mark.slow
REDIS_DB = 1


def _database_copy(seeded_sqlite_url: str, folder: Path) -> str:
    folder.mkdir()
    source = Path(seeded_sqlite_url.removeprefix("sqlite+aiosqlite:///"))
    shutil.copyfile(source, folder / "btai.db")
    return f"sqlite+aiosqlite:///{folder / 'btai.db'}"


@pytest.mark.redis
def test_two_servers_share_cached_entries_through_redis(
    tmp_path: Path, seeded_sqlite_url: str
) -> None:
    url = redis_url()
    flush_redis(url)
    first_db = _database_copy(seeded_sqlite_url, tmp_path / "a")
    second_db = _database_copy(seeded_sqlite_url, tmp_path / "b")
    try:
        with (
            run_server(tmp_path / "a", env={"REDIS_URL": url, "DATABASE_URL": first_db}) as a,
            run_server(tmp_path / "b", env={"REDIS_URL": url, "DATABASE_URL": second_db}) as b,
        ):
            miss = httpx.get(f"{a.base_url}/api/v1/teams/BOS", timeout=10)
            assert miss.status_code == 200
            assert miss.headers["x-cache"] == "miss"
            hit = httpx.get(f"{b.base_url}/api/v1/teams/BOS", timeout=10)
            assert hit.headers["x-cache"] == "hit"
            assert hit.content == miss.content
            assert hit.headers["etag"] == miss.headers["etag"]
            player = httpx.get(f"{b.base_url}/api/v1/players/troutmi01", timeout=10)
            assert player.headers["x-cache"] == "miss"
            again = httpx.get(f"{a.base_url}/api/v1/players/troutmi01", timeout=10)
            assert again.headers["x-cache"] == "hit"
    finally:
        flush_redis(url)


def test_closed_redis_port_still_serves_every_request(
    tmp_path: Path, seeded_sqlite_url: str
) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/{REDIS_DB}"
    database = _database_copy(seeded_sqlite_url, tmp_path / "a")
    with run_server(tmp_path / "a", env={"REDIS_URL": closed, "DATABASE_URL": database}) as s:
        paths = [
            "/api/v1/teams",
            "/api/v1/teams/NYA",
            "/api/v1/teams/NYA",
            "/api/v1/teams/NYA/roster",
            "/api/v1/players?position=SS",
            "/api/v1/players/troutmi01",
            "/api/v1/stream/teams",
            "/api/v1/players/export",
        ]
        for path in paths:
            response = httpx.get(s.base_url + path, timeout=10)
            assert response.status_code == 200, path
        # Served from process memory while Redis is down.
        assert httpx.get(f"{s.base_url}/api/v1/teams/NYA").headers["x-cache"] == "hit"
        ready = httpx.get(f"{s.base_url}/api/v1/health/readiness", timeout=10)
        assert ready.status_code == 200  # degraded, still ready
        cache_check = ready.json()["checks"]["cache:responseTime"][0]
        assert cache_check["status"] == "warn"
        log = s.log()
    assert log.count("cache degraded") == 1
