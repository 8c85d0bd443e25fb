"""Refusals that keep the output applicable: labels Kubernetes accepts, a pinned image, memory
that fits the measured workers, connections PostgreSQL accepts, an image the project can build,
and secrets that never become plain values."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from btai_ops.cli import app
from btai_ops.render import labels

runner = CliRunner()
DIGEST = "sha256:" + "ab" * 32


def render(config_dir: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["render", "--config-dir", str(config_dir), *args])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("assignment", "key"),
    [
        ("labels.team=payments team", "labels.team"),
        ("labels.team=" + "x" * 64, "labels.team"),
        ("labels.bad key=ok", "labels.bad key"),
        ("labels.Example\\.com/team=ok", "labels.Example.com/team"),
        ("service_monitor.labels.release=-prom", "service_monitor.labels.release"),
        ("ingress.annotations.not a key=1", "ingress.annotations.not a key"),
    ],
)
def test_a_label_kubernetes_refuses_exits_2_naming_its_key(
    config_copy: Path, assignment: str, key: str
) -> None:
    code, output = render(config_copy, "--env", "production", "--set", assignment, "--out", "x")
    assert code == 2, output
    assert f"--set: {key}:" in output


def test_label_rules_follow_kubernetes() -> None:
    assert labels.value_problem("0.1.0") is None
    assert labels.value_problem("") is None
    assert labels.value_problem("a" * 63) is None
    assert labels.value_problem("a" * 64) is not None
    assert labels.value_problem("0.1.0@sha256:ab") is not None
    assert labels.key_problem("app.kubernetes.io/version") is None
    assert labels.key_problem("/name") is not None
    assert labels.key_problem("UPPER.example/name") is not None


def test_a_digest_in_image_tag_exits_2_naming_the_key(config_copy: Path) -> None:
    args = ("--env", "production", "--set", f"image.tag=0.1.0@{DIGEST}", "--out", "x")
    code, output = render(config_copy, *args)
    assert code == 2
    assert "--set: image.tag: expected a tag without a digest" in output
    assert "image.digest" in output


def test_image_digest_pins_the_image_and_the_version_label_keeps_the_tag(
    config_copy: Path, tmp_path: Path
) -> None:
    args = ("--env", "production", "--set", f"image.digest={DIGEST}", "--out", str(tmp_path))
    code, output = render(config_copy, *args)
    assert code == 0, output
    deployment = yaml.safe_load((tmp_path / "production/kubernetes/deployment.yaml").read_text())
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == (
        f"ghcr.io/btai/btai@{DIGEST}"
    )
    assert deployment["metadata"]["labels"]["app.kubernetes.io/version"] == "0.1.0"
    job = next((tmp_path / "production/kubernetes").glob("migration-job.yaml"))
    assert f"image: ghcr.io/btai/btai@{DIGEST}" in job.read_text()
    compose = (tmp_path / "production/compose/docker-compose.yml").read_text()
    assert f"image: ghcr.io/btai/btai@{DIGEST}" in compose


def test_a_tag_too_long_for_the_version_label_names_image_tag(config_copy: Path) -> None:
    tag = "1.0.0-" + "r" * 70
    code, output = render(
        config_copy, "--env", "staging", "--set", f"image.tag={tag}", "--out", "x"
    )
    assert code == 2
    assert "--set: image.tag is the version label app.kubernetes.io/version" in output


def test_memory_request_below_the_measured_workers_names_both_keys(config_copy: Path) -> None:
    figures = yaml.safe_load((config_copy / "measured.yaml").read_text())["worker_memory"]
    needed = figures["base_mib"] + 4 * figures["per_worker_mib"]
    low = f"{int(needed) - 20}Mi"
    args = ("--env", "production", "--set", f"resources.requests.memory={low}", "--out", "x")
    code, output = render(config_copy, *args)
    assert code == 2
    assert f"--set: resources.requests.memory {low} is below what env.API_WORKERS 4" in output
    assert "production.yaml" in output  # where API_WORKERS is set
    assert "measured.yaml" in output


def test_hpa_memory_target_at_idle_use_is_refused(config_copy: Path) -> None:
    figures = yaml.safe_load((config_copy / "measured.yaml").read_text())["worker_memory"]
    needed = figures["base_mib"] + 4 * figures["per_worker_mib"]
    request = f"{int(needed) + 8}Mi"  # fits, but 80% of it is below the idle use
    args = ("--env", "production", "--set", f"resources.requests.memory={request}")
    code, output = render(config_copy, *args, "--out", "x")
    assert code == 2
    assert "autoscaling.target_memory_utilization 80%" in output
    assert "the autoscaler would add pods to an idle service" in output


def test_more_connections_than_postgresql_accepts_is_refused(config_copy: Path) -> None:
    args = ("--env", "production", "--set", "env.DB_POOL_SIZE=20", "--out", "x")
    code, output = render(config_copy, *args)
    assert code == 2
    # 12 replicas + 1 surge, 4 workers, (20 + 2) each, + 10 reserved
    assert "database.max_connections 400 is below 13 pods" in output
    assert "env.DB_POOL_SIZE 20" in output
    assert "= 1154" in output


def test_unknown_extra_and_unsupported_python_are_refused(config_copy: Path) -> None:
    code, output = render(
        config_copy, "--env", "staging", "--set", "docker.extras=[grania]", "--out", "x"
    )
    assert code == 2
    assert "docker.extras: 'grania' is not an extra of btai" in output
    assert "did you mean granian?" in output
    args = ("--env", "staging", "--set", 'docker.python_version="3.9"', "--out", "x")
    code, output = render(config_copy, *args)
    assert code == 2
    assert "docker.python_version 3.9 is not allowed by requires-python >=3.11" in output


def test_granian_server_gets_its_extra_in_the_image(config_copy: Path, tmp_path: Path) -> None:
    args = ("--env", "staging", "--set", "env.SERVER=granian", "--only", "docker")
    code, output = render(config_copy, *args, "--out", str(tmp_path))
    assert code == 0, output
    dockerfile = (tmp_path / "staging/docker/Dockerfile").read_text()
    assert 'pip install --no-index --find-links=/wheels "btai[granian]"' in dockerfile


def test_a_secret_setting_is_never_a_plain_value_even_with_secret_false(
    config_copy: Path,
) -> None:
    value = "k" * 40 + "-plain-signing-key"
    args = ("--env", "staging", "--set", f"env.JWT_SECRET_KEY={{value: {value}, secret: false}}")
    code, output = render(config_copy, *args, "--out", "x")
    assert code == 2
    assert "env.JWT_SECRET_KEY is a secret setting" in output
    assert "secrets.JWT_SECRET_KEY" in output
    assert "plain-signing-key" not in output


def test_namespace_is_rendered_only_when_asked_and_enforces_restricted_pods(
    config_copy: Path, tmp_path: Path
) -> None:
    code, output = render(
        config_copy, "--env", "development", "--only", "k8s", "--out", str(tmp_path)
    )
    assert code == 0, output
    namespace = yaml.safe_load((tmp_path / "development/kubernetes/namespace.yaml").read_text())
    assert namespace["metadata"]["name"] == "btai-dev"
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    args = ("--env", "development", "--only", "k8s", "--set", "create_namespace=false")
    assert render(config_copy, *args, "--out", str(tmp_path))[0] == 0
    assert not (tmp_path / "development/kubernetes/namespace.yaml").exists()
