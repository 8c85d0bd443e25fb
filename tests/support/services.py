"""Reach the real PostgreSQL and Redis; in CI a missing service fails, elsewhere it skips."""

from __future__ import annotations

import asyncio
import atexit
import socket
import uuid

import pytest

from btai_ops.processes import free_port as free_port  # re-exported for the tests
from tests.support.tools import in_ci

PG_HOST, PG_PORT = "127.0.0.1", 5432
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
PG_ADMIN_DSN = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/test"


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require(host: str, port: int, what: str) -> None:
    """Skip when the service is absent on a developer machine; fail in CI."""
    if port_open(host, port):
        return
    message = f"{what} is not reachable at {host}:{port}"
    if in_ci():
        pytest.fail(message + " (CI must have it)")
    pytest.skip(message)


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_pg_database(prefix: str = "btai") -> tuple[str, str]:
    """Create a fresh, uniquely named database; returns (name, SQLAlchemy async URL)."""
    require(PG_HOST, PG_PORT, "PostgreSQL")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    return name, f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{name}"


def drop_pg_database(name: str) -> None:
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


LEASE_DB = 0
"""Where each test run's lease on its Redis database index is kept."""
RUN_DBS = range(4, 16)
"""Indexes handed out to test runs (1-3 stay with code that names an index itself)."""
LEASE_SECONDS = 3 * 3600
_run_db: int | None = None
_run_token = uuid.uuid4().hex


def _lease_run_db() -> int:
    """Lease a Redis database index for this test run alone, so concurrent runs on one
    machine never flush each other's keys; released when the run ends."""
    global _run_db
    if _run_db is not None:
        return _run_db
    import redis

    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=LEASE_DB)
    try:
        for index in RUN_DBS:
            if client.set(f"btai-test:redis-db:{index}", _run_token, nx=True, ex=LEASE_SECONDS):
                _run_db = index
                break
    finally:
        client.close()
    if _run_db is None:
        pytest.fail(f"every Redis database index in {RUN_DBS} is leased by another test run")
    atexit.register(_release_run_db, _run_db)
    return _run_db


def _release_run_db(index: int) -> None:
    import redis

    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=LEASE_DB)
    try:
        key = f"btai-test:redis-db:{index}"
        if client.get(key) == _run_token.encode():
            redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=index).flushdb()
            client.delete(key)
    except redis.RedisError:
        pass  # the lease expires by itself
    finally:
        client.close()


def redis_url() -> str:
    """A Redis URL on this test run's own database index (tests within a run run one by one)."""
    require(REDIS_HOST, REDIS_PORT, "Redis")
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/{_lease_run_db()}"


def redis_db() -> int:
    """This run's Redis database index, for URLs that point elsewhere (a proxy, a closed port)."""
    require(REDIS_HOST, REDIS_PORT, "Redis")
    return _lease_run_db()


def flush_redis(url: str) -> None:
    """Empty this run's own database index (never one another run may be using)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        index = client.connection_pool.connection_kwargs.get("db", 0)
        if index != _run_db:
            raise ValueError(f"refusing to flush Redis database {index}: not this run's")
        client.flushdb()
    finally:
        client.close()
