import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from btai_ops import __version__
from btai_ops.cli import app
from tests.support.server import BTAI

runner = CliRunner()

# What `btai --help` and `btai --version` may import, by top-level name: the CLI's own package,
# Typer and what Typer itself loads, and the standard library modules those need. A module not
# listed fails the test: FastAPI, SQLAlchemy, uvicorn, Locust, rich, asyncio, `app` and the
# like are imported inside the command that needs them. Private modules (`_io`, `_socket`, the
# editable-install finder) are left out: they come with the interpreter or the install.
ALLOWED_IMPORTS = frozenset(
    {
        # the CLI and its one dependency at start-up
        "btai_ops",
        "typer",
        "shellingham",
        "annotated_doc",
        # the standard library
        "abc", "array", "ast", "bisect", "builtins", "bz2", "codecs", "collections",
        "contextlib", "copy", "copyreg", "dataclasses", "datetime", "difflib", "dis",
        "encodings", "enum", "errno", "fcntl", "fnmatch", "functools", "genericpath", "gettext",
        "gzip", "heapq", "importlib", "inspect", "io", "ipaddress", "itertools", "json",
        "keyword", "linecache", "locale", "lzma", "marshal", "math", "ntpath", "numbers",
        "opcode", "operator", "os", "pathlib", "platform", "posix", "posixpath", "random", "re",
        "reprlib", "select", "selectors", "shutil", "signal", "site", "socket", "stat",
        "struct", "subprocess", "sys", "tempfile", "textwrap", "threading", "time", "token",
        "tokenize", "traceback", "types", "typing", "urllib", "uuid", "warnings", "weakref",
        "zipimport", "zlib",
    }
)  # fmt: skip


@pytest.mark.parametrize("argv", [["--help"], ["--version"]])
def test_help_and_version_import_only_the_allowed_modules(argv: list[str]) -> None:
    code = (
        "import json, sys\n"
        f"sys.argv = ['btai', *{argv!r}]\n"
        "from btai_ops.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "names = {m.split('.')[0] for m in sys.modules if not m.startswith('_')}\n"
        "print('IMPORTED=' + json.dumps(sorted(names)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("IMPORTED="))
    imported = set(json.loads(line.removeprefix("IMPORTED=")))
    assert imported - ALLOWED_IMPORTS == set()
    assert "btai_ops" in imported  # the probe saw the CLI load


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
