"""Configuration an attacker would love, caught by `btai config validate` (exit 2), and the
edges of the stack: a refused CORS preflight names its request."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from typer.testing import CliRunner

from app.main import create_app
from app.settings import Settings
from btai_ops.cli import app as cli

runner = CliRunner()


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"ENVIRONMENT": "production", "JWT_SECRET_KEY": " " * 40}, "JWT_SECRET_KEY"),
        ({"ENVIRONMENT": "staging", "JWT_SECRET_KEY": "\t" * 20 + "short"}, "JWT_SECRET_KEY"),
        (
            {"ENVIRONMENT": "production", "JWT_SECRET_KEY": "k" * 48, "CORS_ORIGINS": "*"},
            "CORS_ORIGINS",
        ),
        ({"CORS_ORIGINS": "https://a.example,*"}, "CORS_ORIGINS"),
    ],
)
def test_config_validate_refuses_dangerous_settings_with_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object, env: dict[str, str], named: str
) -> None:
    monkeypatch.chdir(str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = runner.invoke(cli, ["config", "validate"])
    assert result.exit_code == 2
    assert named in result.output
    assert "Traceback" not in result.output


async def test_a_refused_cors_preflight_names_its_request(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings(CORS_ORIGINS="https://good.example"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        refused = await client.options(
            "/api/v1/teams",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
    assert refused.status_code == 400
    assert refused.headers["content-type"] == "application/problem+json"
    body = refused.json()
    assert body["request_id"]
    assert body["request_id"] == refused.headers["x-request-id"]
    assert body["instance"] == "/api/v1/teams"
