"""Reach the real PostgreSQL and Redis; in CI a missing service fails, elsewhere it skips."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid

import pytest

from btai_ops.processes import free_port as free_port  # re-exported for the tests

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
    if os.environ.get("CI"):
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


def redis_url(db: int) -> str:
    """A Redis URL on database index `db`; each test area uses its own index."""
    require(REDIS_HOST, REDIS_PORT, "Redis")
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/{db}"


def flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
