import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from btai_ops import __version__
from btai_ops.cli import app
from tests.support.server import BTAI

runner = CliRunner()
HEAVY = ("fastapi", "starlette", "sqlalchemy", "uvicorn", "locust", "granian", "pandas", "app")
# `--version` prints one line: it needs neither rich nor asyncio nor any of the libraries above.
LIGHT_VERSION = (*HEAVY, "rich", "asyncio", "pydantic", "yaml", "httpx", "psutil")


@pytest.mark.parametrize(
    ("argv", "forbidden"), [(["--help"], HEAVY), (["--version"], LIGHT_VERSION)]
)
def test_help_and_version_import_no_heavy_module(
    argv: list[str], forbidden: tuple[str, ...]
) -> None:
    code = (
        "import sys\n"
        f"sys.argv = ['btai', *{argv!r}]\n"
        "from btai_ops.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {forbidden!r})\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY=\n" in out.stdout, out.stdout


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_unknown_command_is_usage_error() -> None:
    result = subprocess.run([BTAI, "no-such-command"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "No such command" in result.stderr


def test_bad_port_in_environment_is_one_error_line() -> None:
    env = {"PATH": "/usr/bin:/bin", "API_PORT": "abc"}
    result = subprocess.run([BTAI, "serve"], capture_output=True, text=True, env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: API_PORT")
    assert "integer" in lines[0]
    assert "Traceback" not in result.stderr


def test_production_with_short_secret_refuses_to_serve() -> None:
    env = {"PATH": "/usr/bin:/bin", "ENVIRONMENT": "production", "JWT_SECRET_KEY": "short"}
    result = subprocess.run([BTAI, "serve"], capture_output=True, text=True, env=env)
    assert result.returncode == 2
    assert "JWT_SECRET_KEY" in result.stderr
    assert "short" not in result.stderr.replace("shorter", "")


def test_config_show_json_masks_secrets_and_names_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET_KEY", "a-very-secret-value-that-is-long-enough")
    monkeypatch.setenv("API_WORKERS", "3")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://app:hunter2@db/btai")
    result = runner.invoke(app, ["config", "show", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["API_WORKERS"] == {"value": 3, "source": "environment"}
    assert data["CACHE_TTL"]["source"] == "default"
    assert data["JWT_SECRET_KEY"]["value"] == "**********"
    assert data["DATABASE_URL"]["value"] == "postgresql+asyncpg://app:***@db/btai"
    assert "hunter2" not in result.stdout


def test_config_validate_lists_every_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_PORT", "abc")
    monkeypatch.setenv("CACHE_TTL", "-5")
    result = runner.invoke(app, ["config", "validate"])
    assert result.exit_code == 2
    assert "API_PORT" in result.output
    assert "CACHE_TTL" in result.output
