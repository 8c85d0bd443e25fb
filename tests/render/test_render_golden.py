"""Golden files per environment, strict Kubernetes validation, and where environments differ.

Regenerate the golden files after an intended change with
`btai render --out tests/render/golden` (or `BTAI_UPDATE_GOLDEN=1 pytest tests/render`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from btai_ops.render import checks
from btai_ops.render.engine import render
from btai_ops.render.loader import load, merge
from btai_ops.render.output import compare, write
from tests.render.conftest import CONFIGS, ENVIRONMENTS, GOLDEN

REGENERATE = "run `btai render --out tests/render/golden` and review the diff"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_render_matches_golden_files(env: str) -> None:
    rendered = render(CONFIGS, env)
    groups = {"kubernetes", "docker", "compose", "monitoring"}
    if os.environ.get("BTAI_UPDATE_GOLDEN"):
        write(rendered.files, GOLDEN / env, groups)
    diffs = compare(rendered.files, GOLDEN / env, groups).diffs
    assert not diffs, REGENERATE + "\n" + "".join(diffs)


def _objects(env: str) -> list[dict[str, Any]]:
    files = sorted((GOLDEN / env / "kubernetes").glob("*.yaml"))
    assert files
    return [yaml.safe_load(path.read_text()) for path in files]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_golden_object_passes_kubernetes_validate_strict(env: str) -> None:
    version = checks.clamp_version(load(CONFIGS, env).config.kubernetes_version)
    kinds = set()
    for obj in _objects(env):
        kinds.add(obj["kind"])
        if obj["apiVersion"] in checks.CUSTOM_RESOURCES:
            # kubernetes-validate ships no schema for Prometheus-Operator resources.
            with pytest.raises(kubernetes_validate.SchemaNotFoundError):
                kubernetes_validate.validate(obj, version, strict=True)
            continue
        assert kubernetes_validate.validate(obj, version, strict=True) == version
    assert {"Deployment", "Service", "ConfigMap", "NetworkPolicy"} <= kinds


def test_strict_validation_catches_an_unknown_field() -> None:
    deployment = next(o for o in _objects("production") if o["kind"] == "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessprobe"] = {}
    problems = checks.validate_objects({"deployment.yaml": deployment}, "1.31")
    assert len(problems) == 1
    assert "livenessprobe" in problems[0]


def _leaves(data: Any, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    if isinstance(data, dict):
        found: dict[tuple[str, ...], Any] = {}
        for key, value in data.items():
            found.update(_leaves(value, (*prefix, key)))
        return found
    return {prefix: data}


def test_staging_and_production_differ_exactly_where_their_overlays_say() -> None:
    staging, production = load(CONFIGS, "staging"), load(CONFIGS, "production")
    merged = [_leaves(s.merged) for s in (staging, production)]
    overlay_keys = (
        _leaves(staging.sources[1].data).keys() | _leaves(production.sources[1].data).keys()
    )
    differing = {
        k for k in merged[0].keys() | merged[1].keys() if merged[0].get(k) != merged[1].get(k)
    }
    assert differing == {k for k in overlay_keys if merged[0].get(k) != merged[1].get(k)}
    assert ("env", "API_WORKERS") in differing
    assert ("ingress", "host") in differing

    # The rendered files differ only through those keys: giving staging production's values
    # for exactly those keys renders production byte for byte.
    paths = {k: ".".join(part.replace(".", "\\.") for part in k) for k in differing}
    sets = [f"{paths[k]}={json.dumps(merged[1].get(k))}" for k in sorted(differing)]
    assert render(CONFIGS, "staging", sets).files == render(CONFIGS, "production").files
    assert render(CONFIGS, "staging").files != render(CONFIGS, "production").files


def test_overlays_merge_maps_replace_lists_and_delete_nulls() -> None:
    base = {"env": {"A": 1, "B": 2}, "ports": [1, 2, 3], "gone": {"x": 1}}
    overlay = {"env": {"B": 3, "C": 4}, "ports": [9], "gone": None}
    assert merge(base, overlay) == {"env": {"A": 1, "B": 3, "C": 4}, "ports": [9]}
    dev = load(CONFIGS, "development")
    assert "TRUSTED_PROXIES" not in dev.config.env  # deleted by `null` in the overlay
    assert dev.config.env["RATE_LIMIT_REQUESTS"].value == 100  # kept from base.yaml
    assert dev.config.network_policy.allow_from_namespaces == []  # list replaced


def test_kubernetes_version_is_clamped_to_known_schemas() -> None:
    assert checks.clamp_version("1.31") == "1.31"
    assert checks.clamp_version("1.10") == "1.25"
    assert checks.clamp_version("1.99") == "1.37"


def test_old_kubernetes_gets_an_exec_prestop_and_still_validates() -> None:
    rendered = render(CONFIGS, "production", ['kubernetes_version="1.27"'])
    assert rendered.kubernetes_version == "1.27"
    deployment = yaml.safe_load(rendered.files["kubernetes/deployment.yaml"])
    pre_stop = deployment["spec"]["template"]["spec"]["containers"][0]["lifecycle"]["preStop"]
    assert pre_stop == {"exec": {"command": ["sleep", "5"]}}


def test_selector_check_catches_a_mismatch() -> None:
    objects = {
        p.name: yaml.safe_load(p.read_text())
        for p in (GOLDEN / "production/kubernetes").glob("*.yaml")
    }
    assert checks.selector_problems(objects) == []
    objects["service.yaml"]["spec"]["selector"]["app.kubernetes.io/name"] = "other"
    objects["ingress.yaml"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"][
        "name"
    ] = "x"
    problems = checks.selector_problems(objects)
    assert any(p.startswith("service.yaml: selector") for p in problems)
    assert any(p.startswith("ingress.yaml: backend x") for p in problems)


def test_golden_files_hold_no_secret_value() -> None:
    text = "".join(p.read_text() for p in GOLDEN.rglob("*") if p.is_file())
    assert "kind: Secret\n" not in text
    assert "development-only-secret-key" not in text
    assert "secretKeyRef" in text


def test_golden_tree_is_what_the_cli_checks(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from btai_ops.cli import app

    result = CliRunner().invoke(
        app, ["render", "--config-dir", str(CONFIGS), "--check", str(GOLDEN)]
    )
    assert result.exit_code == 0, result.output


def test_metric_check_refuses_a_metric_the_app_does_not_export() -> None:
    from btai_ops.errors import BtaiError
    from btai_ops.render.appfacts import exported_samples, gather
    from btai_ops.render.kubernetes import objects

    loaded = load(CONFIGS, "production")
    facts = gather(loaded)
    assert {"http_requests_total", "http_request_duration_seconds_bucket"} <= exported_samples()
    rendered = objects(loaded, facts, (1, 31))
    checks.check_rendered(rendered, ["sum(rate(http_requests_total[5m]))"], facts, "1.31")
    with pytest.raises(BtaiError, match="metrics the app does not export: http_requests_count"):
        checks.check_rendered(rendered, ["sum(rate(http_requests_count[5m]))"], facts, "1.31")


def test_several_workers_serve_the_process_metrics_the_dashboard_reads() -> None:
    assert render(CONFIGS, "development").warnings == ()
    assert render(CONFIGS, "production").warnings == ()


def test_several_workers_warn_of_runtime_metrics_the_multiprocess_exposition_lacks() -> None:
    from btai_ops.render.appfacts import gather
    from btai_ops.render.kubernetes import objects

    loaded = load(CONFIGS, "production")
    facts = gather(loaded)
    rendered = objects(loaded, facts, (1, 31))
    served = ["rate(process_cpu_seconds_total[5m])", "process_resident_memory_bytes"]
    assert checks.check_rendered(rendered, served, facts, "1.31") == []
    (warning,) = checks.check_rendered(rendered, ["process_open_fds"], facts, "1.31")
    assert "API_WORKERS=4" in warning
    assert "process_open_fds" in warning
