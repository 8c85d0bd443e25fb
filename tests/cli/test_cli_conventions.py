"""`config show` speaks plain values with descriptions; `db status` on nothing creates nothing."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from btai_ops.cli import app

runner = CliRunner()


def test_config_show_prints_plain_values_and_descriptions(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    result = runner.invoke(app, ["config", "show"])
    assert result.exit_code == 0, result.output
    assert "description" in result.output
    assert "Lowest level that is logged" in result.output
    assert "127.0.0.1,::1" in result.output  # TRUSTED_PROXIES, as the environment writes it
    assert "['" not in result.output
    assert "None" not in result.output
    assert "(unset)" in result.output


def test_db_status_in_an_empty_folder_creates_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = runner.invoke(app, ["db", "status"])
    assert result.exit_code == 0, result.output
    assert "not initialised" in result.output
    assert "False" not in result.output
    as_json = runner.invoke(app, ["db", "status", "--json"])
    assert json.loads(as_json.stdout)["initialised"] is False
    assert list(tmp_path.iterdir()) == []


def test_db_status_after_upgrade_says_up_to_date_in_words(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/btai.db")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, ["db", "status"])
    assert "up to date yes" in result.output
