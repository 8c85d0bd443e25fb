"""The read cache on the real Redis (DB index 1), and its fallback when Redis is down."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest

from app.services.cache import KEY_PREFIX, Cache, MemoryCache
from app.settings import Settings
from tests.support.services import flush_redis, free_port, redis_url

REDIS_DB = 1


@pytest.fixture
def data_redis_url() -> Iterator[str]:
    url = redis_url()
    flush_redis(url)
    yield url
    flush_redis(url)


def test_memory_cache_expires_and_evicts_least_recently_used() -> None:
    cache = MemoryCache(max_entries=2)
    cache.set("a", b"1", ttl=60)
    cache.set("b", b"2", ttl=60)
    assert cache.get("a") == b"1"  # a is now the most recent
    cache.set("c", b"3", ttl=60)
    assert cache.get("b") is None
    assert cache.get("a") == b"1"
    cache.set("old", b"x", ttl=-1)
    assert cache.get("old") is None


@pytest.mark.redis
async def test_entries_are_shared_through_redis(
    make_settings: Callable[..., Settings], data_redis_url: str
) -> None:
    settings = make_settings(REDIS_URL=data_redis_url)
    async with Cache.open(settings) as one, Cache.open(settings) as two:
        await one.set("team:2016:NYA", b'{"team_key":"NYA"}', ttl=30)
        assert await two.get("team:2016:NYA") == b'{"team_key":"NYA"}'
        assert not two.degraded
        assert two.status()["status"] == "pass"
        assert await two.redis.ttl(KEY_PREFIX + "team:2016:NYA") > 0  # type: ignore[union-attr]
        # `two` keeps a local copy for a few seconds: Redis is asked once per process.
        await two.redis.delete(KEY_PREFIX + "team:2016:NYA")  # type: ignore[union-attr]
        assert await two.get("team:2016:NYA") == b'{"team_key":"NYA"}'
        # What a process holds is read without asking Redis: its copy, not another's entry.
        assert two.held("team:2016:NYA") == b'{"team_key":"NYA"}'
        await one.set("team:2016:BOS", b"{}", ttl=30)
        assert two.held("team:2016:BOS") is None
        await one.set("player:2016:troutmi01", b"{}", ttl=30)
        await two.clear()
        assert await two.get("player:2016:troutmi01") is None
        assert await two.redis.exists(KEY_PREFIX + "player:2016:troutmi01") == 0  # type: ignore[union-attr]


async def test_unreachable_redis_falls_back_to_memory_and_warns_once(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    closed = free_port()
    settings = make_settings(REDIS_URL=f"redis://:secret@127.0.0.1:{closed}/{REDIS_DB}")
    with caplog.at_level(logging.WARNING, logger="app.services.cache"):
        async with Cache.open(settings) as cache:
            assert cache.degraded
            await cache.set("k", b"v")
            assert await cache.get("k") == b"v"
            assert await cache.get("missing") is None
            assert await cache.ping() is False
            status = cache.status()
    assert status["status"] == "warn"
    assert status["degraded"] is True
    warnings = [r for r in caplog.records if "cache degraded" in r.getMessage()]
    assert len(warnings) == 1
    assert "secret" not in warnings[0].getMessage()


async def test_disabled_cache_stores_nothing(make_settings: Callable[..., Settings]) -> None:
    async with Cache.open(make_settings(ENABLE_CACHING=False)) as cache:
        await cache.set("k", b"v")
        assert await cache.get("k") is None
        assert cache.held("k") is None
