"""The configs are found from any working directory, and `btai serve --env` reads them through
the same loader and merge rule as `btai render`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from btai_ops.render.appfacts import env_text
from btai_ops.render.engine import render
from btai_ops.render.loader import find_config_dir, load, packaged_config_dir
from btai_ops.serve import environment_settings
from tests.render.conftest import CONFIGS, ENVIRONMENTS

BTAI = str(Path(sys.executable).with_name("btai"))


def test_render_from_an_empty_folder_uses_the_packaged_configs(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "BTAI_CONFIG_DIR"}
    result = subprocess.run(
        [BTAI, "render", "--env", "production", "--out", str(tmp_path / "out")],
        cwd=empty,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    deployment = tmp_path / "out/production/kubernetes/deployment.yaml"
    assert yaml.safe_load(deployment.read_text())["kind"] == "Deployment"
    assert list(empty.iterdir()) == []


def test_packaged_configs_are_the_project_configs() -> None:
    for name in ("base.yaml", *(f"environments/{e}.yaml" for e in ENVIRONMENTS)):
        assert (packaged_config_dir() / name).read_bytes() == (CONFIGS / name).read_bytes()


def test_config_dir_order_flag_then_variable_then_project_then_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BTAI_CONFIG_DIR", raising=False)
    assert find_config_dir(tmp_path / "given") == tmp_path / "given"
    project = tmp_path / "project"
    (project / "configs").mkdir(parents=True)
    (project / "configs/base.yaml").write_text("name: x\n")
    (project / "deep/er").mkdir(parents=True)
    monkeypatch.chdir(project / "deep/er")
    assert find_config_dir() == project / "configs"
    monkeypatch.setenv("BTAI_CONFIG_DIR", str(tmp_path / "named"))
    assert find_config_dir() == tmp_path / "named"
    monkeypatch.delenv("BTAI_CONFIG_DIR")
    monkeypatch.chdir(tmp_path)
    assert find_config_dir() == packaged_config_dir()


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_serve_env_and_render_agree_on_every_setting(env: str) -> None:
    served = environment_settings(env, CONFIGS)
    configmap = yaml.safe_load(render(CONFIGS, env).files["kubernetes/configmap.yaml"])["data"]
    assert served == configmap
    loaded = load(CONFIGS, env)
    assert served == {name: env_text(e.value) for name, e in loaded.config.env.items()}


def test_development_null_deletes_for_serve_as_for_render() -> None:
    # development.yaml sets TRUSTED_PROXIES: null over base.yaml's value.
    assert "TRUSTED_PROXIES" in yaml.safe_load((CONFIGS / "base.yaml").read_text())["env"]
    assert "TRUSTED_PROXIES" not in environment_settings("development", CONFIGS)
    assert "TRUSTED_PROXIES" not in load(CONFIGS, "development").config.env
