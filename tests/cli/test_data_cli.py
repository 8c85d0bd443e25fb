"""`btai db` and `btai data import`, and `btai serve` with an unreachable database."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from app.data.loader import load_extract
from tests.support.server import BTAI
from tests.support.services import free_port


def _btai(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BTAI, *args], capture_output=True, text=True, env={**os.environ, **env}, cwd=cwd
    )


def test_db_upgrade_seed_status_round_trip(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/ops.db"}
    upgraded = _btai("db", "upgrade", env=env, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    before = json.loads(_btai("db", "status", "--json", env=env, cwd=tmp_path).stdout)
    assert before["up_to_date"] is True
    assert before["seasons"] == {}
    seeded = _btai("db", "seed", "--season", "2016", env=env, cwd=tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    assert "30 teams" in seeded.stderr
    again = _btai("db", "seed", env=env, cwd=tmp_path)
    assert again.returncode == 0
    assert "already seeded" in again.stderr
    after = json.loads(_btai("db", "status", "--json", env=env, cwd=tmp_path).stdout)
    assert after["seasons"]["2016"]["teams"] == 30
    missing = _btai("db", "seed", "--season", "1999", env=env, cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.startswith("Error: no embedded data for season 1999")


def test_unreachable_database_is_one_line_with_the_password_masked(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://postgres:hunter2@127.0.0.1:{free_port()}/btai"
    env = {"DATABASE_URL": url, "API_PORT": str(free_port())}
    for args in (("serve",), ("db", "upgrade")):
        result = _btai(*args, env=env, cwd=tmp_path)
        assert result.returncode == 3, result.stderr
        lines = result.stderr.strip().splitlines()
        error = [line for line in lines if line.startswith("Error:")]
        assert len(error) == 1, result.stderr
        assert "DATABASE_URL" in error[0]
        assert "hunter2" not in result.stderr
        assert "postgres:***@" in error[0]


def test_data_import_writes_a_compact_extract(tmp_path: Path) -> None:
    result = _btai(
        "data", "import", "--season", "2016", "--out", str(tmp_path), env={}, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    path = tmp_path / "lahman_2016.json.gz"
    assert path.stat().st_size < 400_000
    with gzip.open(path) as handle:
        assert json.load(handle)["season"] == 2016
    # The importer is deterministic: the committed extract is exactly what it writes.
    embedded = Path(load_extract.__code__.co_filename).with_name("lahman_2016.json.gz")
    assert path.read_bytes() == embedded.read_bytes()


def test_a_season_without_salaries_gets_estimated_ones(tmp_path: Path) -> None:
    from app.data.seasons import build_rows
    from app.domain.contracts import league_minimum

    # No --out: the extract goes to ./data, not into the installed package.
    result = _btai("data", "import", "--season", "2019", env={}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "data"
    summary = result.stderr.strip().splitlines()[-1]
    assert summary.startswith(f"wrote {Path('data') / 'lahman_2019.json.gz'}: season 2019")
    assert "30 teams" in summary
    assert "salaries estimated" in summary
    rows = build_rows(load_extract(2019, folder))
    current = [r for r in rows.player_seasons if r["season"] == 2019]
    assert len(rows.teams) == 30
    assert rows.salaries == []
    assert {r["salary_source"] for r in current} == {"estimated"}
    pre_arb = [r for r in current if r["contract_status"] == "pre-arbitration"]
    assert pre_arb
    assert {r["salary"] for r in pre_arb} == {league_minimum(2019)}
    assert all(r["salary"] >= league_minimum(2019) for r in current)

    # `btai db seed --from` serves the imported season ...
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/from.db"}
    seeded = _btai("db", "seed", "--season", "2019", "--from", "data", env=env, cwd=tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    assert "seeded season 2019: 30 teams" in seeded.stderr
    status = json.loads(_btai("db", "status", "--json", env=env, cwd=tmp_path).stdout)
    assert status["seasons"]["2019"]["teams"] == 30
    # ... and so do DATA_DIR and DATA_SEASON, from wherever the service starts.
    url = f"sqlite+aiosqlite:///{tmp_path}/setting.db"
    env = {"DATABASE_URL": url, "DATA_DIR": str(folder), "DATA_SEASON": "2019"}
    seeded = _btai("db", "seed", env=env, cwd=tmp_path.parent)
    assert seeded.returncode == 0, seeded.stderr
    assert "seeded season 2019" in seeded.stderr
    teams = [t["team_key"] for t in rows.teams]
    payrolls = asyncio.run(_get(url, folder, [f"/api/v1/teams/{t}/payroll" for t in teams]))
    assert {p["season"] for p in payrolls} == {2019}
    assert {p["salary_source"] for p in payrolls} == {"estimated"}
    # A traded player's estimated salary is shared between his teams, never paid twice.
    # (Innings are stored to 1/100, so shares carry a few dollars of rounding; a salary paid
    # twice or dropped would be at least the league minimum.)
    league_total = sum(r["salary"] for r in current)
    assert abs(sum(int(p["total"]) for p in payrolls) - league_total) < league_minimum(2019) / 10
    missing = _btai("db", "seed", "--season", "2018", "--from", "data", env=env, cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.startswith("Error: no data for season 2018 in data")


async def _get(url: str, data_dir: Path, paths: list[str]) -> list[dict[str, Any]]:
    import httpx

    from app.main import create_app
    from tests.support.settings import settings_for

    settings = settings_for(DATABASE_URL=url, DATA_DIR=data_dir, DATA_SEASON=2019)
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        bodies = []
        for path in paths:
            response = await c.get(path)
            assert response.status_code == 200, response.text
            bodies.append(response.json())
        return bodies
