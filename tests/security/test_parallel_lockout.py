"""The login lockout under a real attacker: 40 wrong passwords sent at once to a two-worker
`btai serve`, on SQLite and on PostgreSQL, check at most MAX_LOGIN_ATTEMPTS passwords."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.security.conftest import LiveServer, live_server
from tests.support.security import STRONG_PASSWORD

pytestmark = pytest.mark.slow

MAX_ATTEMPTS = 5
PARALLEL = 40


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {
        # The rate limiter would refuse most of the burst first; the lockout alone is tested.
        "RATE_LIMIT_ENABLED": "false",
        "MAX_LOGIN_ATTEMPTS": str(MAX_ATTEMPTS),
        "LOCKOUT_DURATION": "600",
    }
    with live_server(
        backend, tmp_path_factory.mktemp(f"lockout-{backend}"), env, ["--workers", "2"]
    ) as live:
        yield live


def register(server: LiveServer, username: str) -> None:
    response = httpx.post(
        f"{server.base_url}/api/v1/auth/register",
        json={"username": username, "password": STRONG_PASSWORD},
        headers={"X-Forwarded-For": "192.0.2.250"},
        timeout=60,
    )
    assert response.status_code == 201, response.text


def login_all_at_once(server: LiveServer, attempts: list[tuple[str, str]]) -> list[int]:
    """Send every (username, client IP) wrong-password login at the same moment, each on its
    own connection; the client IP travels in X-Forwarded-For from the trusted loopback."""
    barrier = threading.Barrier(len(attempts), timeout=60)

    def attempt(item: tuple[str, str]) -> int:
        username, ip = item
        with httpx.Client(base_url=server.base_url, timeout=120) as client:
            barrier.wait()
            response = client.post(
                "/api/v1/auth/login",
                json={"username": username, "password": "not the password at all"},
                headers={"X-Forwarded-For": ip},
            )
        assert response.headers["content-type"] == "application/problem+json"
        return response.status_code

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        return list(pool.map(attempt, attempts))


def test_forty_parallel_wrong_passwords_against_one_account_check_at_most_the_limit(
    server: LiveServer,
) -> None:
    register(server, "lockout.target")
    # Forty different client IPs: only the account's own count can hold them back.
    codes = login_all_at_once(
        server, [("lockout.target", f"198.51.100.{n}") for n in range(1, PARALLEL + 1)]
    )
    assert sorted(set(codes)) == [401, 429]
    assert codes.count(401) == MAX_ATTEMPTS
    assert codes.count(429) == PARALLEL - MAX_ATTEMPTS
    checked = server.scalar(
        "SELECT count(*) FROM audit_log WHERE event = 'login_failure' AND username = :u",
        u="lockout.target",
    )
    assert checked == MAX_ATTEMPTS
    # The account stays locked for the right password too.
    locked = httpx.post(
        f"{server.base_url}/api/v1/auth/login",
        json={"username": "lockout.target", "password": STRONG_PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.200"},
        timeout=60,
    )
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0


def test_forty_parallel_wrong_passwords_from_one_ip_across_ten_accounts_check_at_most_the_limit(
    server: LiveServer,
) -> None:
    accounts = [f"spray.{n}" for n in range(10)]
    for username in accounts:
        register(server, username)
    ip = "203.0.113.99"
    codes = login_all_at_once(server, [(accounts[n % 10], ip) for n in range(PARALLEL)])
    assert codes.count(401) == MAX_ATTEMPTS
    assert codes.count(429) == PARALLEL - MAX_ATTEMPTS
    checked = server.scalar(
        "SELECT count(*) FROM audit_log WHERE event = 'login_failure' AND ip = :ip", ip=ip
    )
    assert checked == MAX_ATTEMPTS
