"""Outside judges of the rendered output: the config files against `btai render schema`, the
Compose files against the Compose Specification's schema, and checkov on the manifests and
Dockerfiles of every environment, with the exceptions the config lists (each with a reason)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from btai_ops.cli import app
from btai_ops.render.loader import load
from tests.render.conftest import CONFIGS, ENVIRONMENTS
from tests.support.tools import checkov

runner = CliRunner()
BIN = Path(sys.executable).parent


def schema(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["render", "schema", *args])
    assert result.exit_code == 0, result.output
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


def test_shipped_configs_validate_against_the_printed_schemas() -> None:
    base, overlay = schema(), schema("--overlay")
    jsonschema.validate(yaml.safe_load((CONFIGS / "base.yaml").read_text()), base)
    for env in ENVIRONMENTS:
        data = yaml.safe_load((CONFIGS / "environments" / f"{env}.yaml").read_text())
        jsonschema.validate(data, overlay)
    # An overlay may delete (null) and leave out keys; it may not invent them.
    jsonschema.validate({"env": {"TRUSTED_PROXIES": None}, "ingress": {"host": "x"}}, overlay)
    with pytest.raises(jsonschema.ValidationError, match="'replica' was unexpected"):
        jsonschema.validate({"replica": 1}, overlay)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "btai"}, base)  # the base must be complete


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rendered")
    result = runner.invoke(app, ["render", "--config-dir", str(CONFIGS), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_compose_files_follow_the_compose_specification(rendered: Path) -> None:
    files = [str(rendered / env / "compose/docker-compose.yml") for env in ENVIRONMENTS]
    result = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_development_compose_needs_no_hand_made_file(rendered: Path) -> None:
    compose = yaml.safe_load((rendered / "development/compose/docker-compose.yml").read_text())
    assert "secrets" not in compose
    for service in compose["services"].values():
        assert "secrets" not in service
        for env_file in service.get("env_file", []):
            assert env_file["required"] is False
    api = compose["services"]["api"]["environment"]
    assert api["DATABASE_URL"].startswith("postgresql+asyncpg://btai:")
    assert api["DATABASE_URL"].endswith("@postgres:5432/btai")
    assert api["REDIS_URL"] == "redis://redis:6379/0"


def test_production_compose_serves_https_through_its_proxy(rendered: Path) -> None:
    compose = yaml.safe_load((rendered / "production/compose/docker-compose.yml").read_text())
    proxy, api = compose["services"]["proxy"], compose["services"]["api"]
    address = proxy["networks"]["default"]["ipv4_address"]
    assert api["environment"]["TRUSTED_PROXIES"] == address
    assert "ports" not in api  # only the proxy is published
    assert "ENFORCE_HTTPS" not in api["environment"]  # production's default: on
    subnet = compose["networks"]["default"]["ipam"]["config"][0]["subnet"]
    import ipaddress

    assert ipaddress.ip_address(address) in ipaddress.ip_network(subnet)


def test_staging_compose_without_a_proxy_turns_https_enforcement_off_and_says_why(
    rendered: Path,
) -> None:
    text = (rendered / "staging/compose/docker-compose.yml").read_text()
    compose = yaml.safe_load(text)
    api = compose["services"]["api"]
    assert api["environment"]["ENFORCE_HTTPS"] == "false"
    assert "# HTTPS: nothing in this stack terminates TLS" in text
    assert api["ports"] == ["127.0.0.1:8000:8000"]
    subnet = compose["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert api["environment"]["TRUSTED_PROXIES"] == subnet


def test_checkov_fails_exactly_the_checks_the_config_lists_with_a_reason(rendered: Path) -> None:
    skips: dict[str, str] = {}
    for env in ENVIRONMENTS:
        skips |= load(CONFIGS, env).config.checkov_skips
    assert skips, "the config lists the deliberate exceptions"
    assert all(len(reason) > 20 for reason in skips.values()), "each needs a reason"
    # One run over the three environments, nothing skipped: every failure must be a listed
    # exception, and every listed exception must still be needed.
    command = [checkov(), "--directory", str(rendered), "--framework", "kubernetes", "dockerfile"]
    result = subprocess.run(
        [*command, "--output", "json", "--quiet"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = {
        check["check_id"]: check["file_path"]
        for report in reports
        for check in report["results"]["failed_checks"]
    }
    unexpected = {check: path for check, path in failed.items() if check not in skips}
    assert unexpected == {}
    assert set(failed) == set(skips), f"no longer failing: {set(skips) - set(failed)}"
    assert {r["check_type"] for r in reports} == {"kubernetes", "dockerfile"}
