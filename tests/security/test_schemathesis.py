"""schemathesis over the served OpenAPI document, against a live `btai serve` on SQLite and
on PostgreSQL, once without a token and once with an admin token: any 5xx, any response that
breaks its schema or headers, a status code or content type the document does not list for
the route, an ignored token or an accepted invalid input fails the run.

One check is not run: positive_data_acceptance, as the domain rules behind schema-valid data
(a team that exists, a player on the other side) are not in the document.
The case count is bounded by EXAMPLES per operation and phase (about 650 cases per run on
32 operations; the run prints the exact number).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.security.conftest import LiveServer, live_server
from tests.support.security import STRONG_PASSWORD

pytestmark = pytest.mark.slow

ST = str(Path(sys.executable).with_name("st"))
BTAI = str(Path(sys.executable).with_name("btai"))
EXAMPLES = 5
EXCLUDED = "positive_data_acceptance"


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {"RATE_LIMIT_ENABLED": "false", "REDIS_URL": ""}
    with live_server(
        backend, tmp_path_factory.mktemp(f"st-{backend}"), env, ["--workers", "1"]
    ) as live:
        yield live


def admin_token(server: LiveServer) -> str:
    created = subprocess.run(
        [BTAI, "users", "create", "st.admin", "--admin", "--password-stdin"],
        input=STRONG_PASSWORD,
        env={**os.environ, "DATABASE_URL": server.database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert created.returncode == 0, created.stderr
    login = httpx.post(
        f"{server.base_url}/api/v1/auth/login",
        json={"username": "st.admin", "password": STRONG_PASSWORD},
        timeout=60,
    )
    assert login.status_code == 200, login.text
    token: str = login.json()["access_token"]
    return token


def run_schemathesis(server: LiveServer, *headers: str) -> tuple[int, str]:
    args = [
        ST, "run", f"{server.base_url}/openapi.json",
        "--checks", "all", "--exclude-checks", EXCLUDED,
        "--max-examples", str(EXAMPLES), "--generation-deterministic",
        "--request-timeout", "60", "--no-color",
    ]  # fmt: skip
    for header in headers:
        args += ["--header", header]
    result = subprocess.run(args, capture_output=True, text=True, timeout=1800)
    output = result.stdout + result.stderr
    sys.stdout.write(output[-3000:])  # the summary, with the number of cases run
    return result.returncode, output


def test_schemathesis_finds_no_server_error_or_schema_violation(server: LiveServer) -> None:
    token = admin_token(server)  # before the fuzzing, which spends the login attempts
    anonymous, anonymous_output = run_schemathesis(server)
    admin, admin_output = run_schemathesis(server, f"Authorization: Bearer {token}")
    for code, output in ((anonymous, anonymous_output), (admin, admin_output)):
        assert code == 0, output[-6000:]
        cases = re.search(r"(\d+) generated, (\d+) passed", output)
        assert cases is not None, output[-2000:]
        assert int(cases.group(1)) == int(cases.group(2)) > 100
    assert " 500 " not in server.server.log()
