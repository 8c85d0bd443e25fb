"""No password, token or key in any output: every setting that can hold one is set to a
recognisable secret, then `btai config show` (table and --json), every health output, the
server's log lines and error bodies are searched for it."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.security.masking import mask_secrets, mask_setting
from tests.security.conftest import SERVER_START_SECONDS
from tests.support.server import BTAI, ServerProcess, run_server
from tests.support.services import (
    PG_HOST,
    PG_PORT,
    create_pg_database,
    drop_pg_database,
    free_port,
)

MARK = "s3cr3t"  # every secret below contains it; no setting name or default does
CLOSED = free_port()  # nothing listens here: the outbound calls fail and report errors


def secret_settings(pg_database: str, sqlite_path: Path) -> dict[str, str]:
    pg = f"postgresql+asyncpg://postgres:{MARK}-db-pw@{PG_HOST}:{PG_PORT}/{pg_database}"
    return {
        # PostgreSQL trusts loopback here, so the passwords are sent and ignored.
        "DATABASE_URL": pg,
        "DATABASE_READ_URL": pg.replace("-db-pw", "-read-pw"),
        "REDIS_URL": f"redis://:{MARK}-redis-pw@127.0.0.1:{CLOSED}/0",
        "JWT_SECRET_KEY": f"{MARK}-jwt-0123456789abcdef0123456789abcdef",
        "AI_PROVIDER": "openai",
        "AI_BASE_URL": f"http://aiuser:{MARK}-ai-pw@127.0.0.1:{CLOSED}/v1?api_key={MARK}-ai-q",
        "AI_API_KEY": f"sk-{MARK}-ai-key",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://otel:{MARK}-otel-pw@127.0.0.1:{CLOSED}"
        f"/v1/traces?token={MARK}-otel-q",
        "ALERT_WEBHOOK_URL": f"http://127.0.0.1:{CLOSED}/services/T01/B02/{MARK}0hook0token42",
        "EXTERNAL_SERVICES": f"http://svc:{MARK}-ext-pw@127.0.0.1:{CLOSED}/ping"
        f"?access_token={MARK}-ext-q,https://{MARK}0ghp0token0123456@127.0.0.1:{CLOSED}/",
        "HEALTH_MONITOR_INTERVAL": "0.5",
        "RATE_LIMIT_ENABLED": "false",
    }


@pytest.fixture(scope="module")
def secrets_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    name, _ = create_pg_database(prefix="btai_mask")
    try:
        yield secret_settings(name, tmp_path_factory.mktemp("mask") / "unused.db")
    finally:
        drop_pg_database(name)


@pytest.fixture(scope="module")
def server(
    secrets_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    tmp_path = tmp_path_factory.mktemp("mask-server")
    with run_server(
        tmp_path, env=secrets_env, args=["--workers", "1"], timeout=SERVER_START_SECONDS
    ) as running:
        yield running


def test_config_show_masks_every_secret_capable_setting(
    secrets_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**os.environ, **secrets_env, "COLUMNS": "400"}
    for args in (["config", "show"], ["config", "show", "--json"]):
        result = subprocess.run(
            [BTAI, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        output = result.stdout + result.stderr
        assert MARK not in output, [line for line in output.splitlines() if MARK in line]
        # What stays shown is still useful: hosts and user names.
        assert "127.0.0.1" in output
        assert "aiuser" in output


@pytest.mark.slow
@pytest.mark.postgres
def test_health_outputs_logs_and_error_bodies_show_no_secret(server: ServerProcess) -> None:
    base = server.base_url
    bodies: list[str] = []
    for path in (
        "/api/v1/health",
        "/api/v1/health/liveness",
        "/api/v1/health/readiness",
        "/api/v1/health/startup",
        "/api/v1/health/alerts",
        "/api/v1/health/trends",
        "/api/v1/metrics",
        "/metrics",
    ):
        response = httpx.get(f"{base}{path}", timeout=60)
        assert response.status_code < 600
        bodies.append(response.text)
    full = httpx.get(f"{base}/api/v1/health", timeout=60).json()
    # The checks really ran against the secret-bearing URLs (and failed to reach them).
    assert "external:reachability" in full["checks"]
    # Error bodies, including ones provoked with secrets in the request.
    for method, path, headers in (
        ("GET", f"/api/v1/nowhere?api_key={MARK}-q", {}),
        ("GET", "/api/v1/auth/me", {"Authorization": f"Bearer {MARK}.{MARK}.{MARK}"}),
        ("GET", "/api/v1/auth/me", {"Authorization": f"Basic {MARK}"}),
        ("POST", "/api/v1/auth/login", {"Content-Type": "application/json"}),
    ):
        response = httpx.request(method, f"{base}{path}", headers=headers, timeout=60)
        assert response.status_code >= 400
        bodies.append(response.text)
    for args in (["health", base], ["health", base, "--json"]):
        result = subprocess.run(
            [BTAI, *args], capture_output=True, text=True, timeout=120, env={**os.environ}
        )
        bodies.append(result.stdout + result.stderr)
    for body in bodies:
        assert MARK not in body, [line for line in body.splitlines() if MARK in line][:5]
    log = server.log()
    assert MARK not in log, [line for line in log.splitlines() if MARK in line][:5]


@pytest.mark.parametrize(
    ("text", "hidden", "kept"),
    [
        ("postgresql://u:pw1@db/x", "pw1", "u:***@db/x"),
        ("https://h/v1?api_key=k9&page=2", "k9", "page=2"),
        ("https://h/v1?X-Amz-Signature=abc123", "abc123", "https://h/v1"),
        ("https://hooks.example/services/T1/B2/Ab12Cd34Ef56Gh78", "Ab12Cd34Ef56Gh78", "/T1/B2/"),
        ("https://ghp0123456789abcdefghij@github.com/o/r", "ghp0123456789abcdefghij", "github"),
        ("see https://u:pw2@h/x, then", "pw2", "then"),
        ("Authorization: Bearer abc.def-123_ghi", "abc.def-123_ghi", "Bearer ***"),
        ("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "eyJzdWIi", "token"),
        ("sqlite+aiosqlite:///./var/btai.db", "", "sqlite+aiosqlite:///./var/btai.db"),
        ("redis://:pw3@h:bad/0", "pw3", "redis://"),
    ],
)
def test_mask_secrets_hides_credentials_and_keeps_the_rest(
    text: str, hidden: str, kept: str
) -> None:
    masked = mask_secrets(text)
    if hidden:
        assert hidden not in masked
    assert kept in masked


def test_mask_setting_hides_secret_strings_and_masks_lists() -> None:
    from pydantic import SecretStr

    assert mask_setting(SecretStr("plain-key-value")) == "**********"
    assert mask_setting(["http://a:pw@h/", "http://h/"]) == ["http://a:***@h/", "http://h/"]
    assert mask_setting(8000) == 8000
