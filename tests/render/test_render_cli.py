"""`btai render`: what it writes, how it refuses bad input, and the --check/--set/--only modes."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from btai_ops.cli import app
from tests.render.conftest import ENVIRONMENTS

runner = CliRunner()
Edit = Callable[[str, str, str], Path]


def render(config_dir: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["render", "--config-dir", str(config_dir), *args])
    return result.exit_code, result.output


def load(path: Path) -> dict:  # type: ignore[type-arg]
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_renders_every_environment_with_its_shape(config_copy: Path, tmp_path: Path) -> None:
    code, output = render(config_copy, "--out", str(tmp_path / "out"))
    assert code == 0, output
    for env in ENVIRONMENTS:
        root = tmp_path / "out" / env
        for name in ("deployment", "service", "configmap", "networkpolicy"):
            assert (root / "kubernetes" / f"{name}.yaml").is_file()
        for name in ("docker/Dockerfile", "docker/.dockerignore", "compose/docker-compose.yml"):
            assert (root / name).is_file()
        assert (root / "compose/.env.example").is_file()
        assert (root / "monitoring/alerts.yaml").is_file()
        json.loads((root / "monitoring/dashboard.json").read_text())
    dev = tmp_path / "out/development/kubernetes"
    assert load(dev / "deployment.yaml")["spec"]["replicas"] == 1
    assert not (dev / "horizontalpodautoscaler.yaml").exists()
    assert not (dev / "poddisruptionbudget.yaml").exists()
    assert not (dev / "ingress.yaml").exists()
    prod = tmp_path / "out/production/kubernetes"
    assert "replicas" not in load(prod / "deployment.yaml")["spec"]  # the HPA owns it
    assert load(prod / "horizontalpodautoscaler.yaml")["spec"]["minReplicas"] == 3
    assert load(prod / "poddisruptionbudget.yaml")["spec"]["maxUnavailable"] == 1
    assert load(prod / "ingress.yaml")["spec"]["rules"][0]["host"] == "btai.example.com"
    assert load(prod / "servicemonitor.yaml")["spec"]["endpoints"][0]["path"] == "/metrics"


def test_rendering_twice_gives_identical_bytes(config_copy: Path, tmp_path: Path) -> None:
    assert render(config_copy, "--out", str(tmp_path / "a"))[0] == 0
    assert render(config_copy, "--out", str(tmp_path / "b"))[0] == 0
    first, second = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert len(first) == 46  # 43 rendered files and one manifest per environment
    assert first == second


def test_deployment_is_hardened_and_drains_gracefully(config_copy: Path, tmp_path: Path) -> None:
    assert render(config_copy, "--env", "production", "--out", str(tmp_path))[0] == 0
    deployment = load(tmp_path / "production/kubernetes/deployment.yaml")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    # Production migrates in its Job before the rollout; the pods only serve.
    assert container["command"] == ["btai", "serve", "--no-migrate"]
    job = load(tmp_path / "production/kubernetes/migration-job.yaml")
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["btai", "db", "upgrade"]
    assert pod["serviceAccountName"] == "btai"
    assert pod["automountServiceAccountToken"] is False
    account = load(tmp_path / "production/kubernetes/serviceaccount.yaml")
    assert account["automountServiceAccountToken"] is False
    security = container["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["runAsUser"] == 10001
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    paths = {
        kind: container[kind]["httpGet"]["path"]
        for kind in ("startupProbe", "readinessProbe", "livenessProbe")
    }
    assert paths == {
        "startupProbe": "/api/v1/health/startup",
        "readinessProbe": "/api/v1/health/readiness",
        "livenessProbe": "/api/v1/health/liveness",
    }
    assert container["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    # preStop 5 + GRACEFUL_TIMEOUT 25 (base.yaml) + margin 5
    assert container["lifecycle"]["preStop"] == {"sleep": {"seconds": 5}}
    assert pod["terminationGracePeriodSeconds"] == 35
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    keys = {c["topologyKey"] for c in pod["topologySpreadConstraints"]}
    assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"]}
    assert refs == {
        "DATABASE_URL": "btai-database",
        "JWT_SECRET_KEY": "btai-jwt",
        "REDIS_URL": "btai-redis",
    }
    assert not list((tmp_path / "production").rglob("secret*.yaml"))


def test_config_change_changes_the_pod_checksum(config_copy: Path, tmp_path: Path) -> None:
    def checksum(out: Path) -> str:
        deployment = load(out / "production/kubernetes/deployment.yaml")
        value = deployment["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
        assert isinstance(value, str)
        return value

    assert render(config_copy, "--env", "production", "--out", str(tmp_path / "a"))[0] == 0
    args = ("--env", "production", "--set", "env.CACHE_TTL=600", "--out", str(tmp_path / "b"))
    assert render(config_copy, *args)[0] == 0
    assert checksum(tmp_path / "a") != checksum(tmp_path / "b")


def test_set_overrides_and_only_limits_groups(config_copy: Path, tmp_path: Path) -> None:
    # 8 replicas (+1 surge) x 2 workers x 10 connections + 10 fit staging's 200 connections.
    args = ["--env", "staging", "--set", "autoscaling.max_replicas=8", "--only", "k8s,monitoring"]
    code, output = render(config_copy, *args, "--out", str(tmp_path))
    assert code == 0, output
    assert sorted(p.name for p in (tmp_path / "staging").iterdir()) == [
        ".btai-render.json",
        "kubernetes",
        "monitoring",
    ]
    hpa = load(tmp_path / "staging/kubernetes/horizontalpodautoscaler.yaml")
    assert hpa["spec"]["maxReplicas"] == 8
    code, output = render(config_copy, "--env", "staging", "--only", "helm", "--out", str(tmp_path))
    assert code == 2
    assert "helm" in output


def test_check_passes_when_current_and_fails_with_a_diff(config_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "deploy"
    assert render(config_copy, "--out", str(out))[0] == 0
    code, output = render(config_copy, "--check", str(out))
    assert code == 0, output
    service = out / "staging/kubernetes/service.yaml"
    service.write_text(service.read_text().replace("port: 80", "port: 8080"))
    (out / "production/kubernetes/leftover.yaml").write_text("kind: Leftover\n")
    code, output = render(config_copy, "--check", str(out))
    assert code == 1
    assert "-      port: 8080" in output
    assert "+      port: 80" in output
    # A file render never wrote is named (it is someone's), not counted as a difference.
    assert "not written by btai render, left as they are: kubernetes/leftover.yaml" in output
    assert "1 rendered file(s) differ" in output
    assert service.read_text().count("port: 8080") == 1  # --check writes nothing


def test_rerender_keeps_files_it_did_not_write_and_check_never_reads_them(
    config_copy: Path, tmp_path: Path
) -> None:
    out = tmp_path / "deploy"
    assert render(config_copy, "--env", "production", "--out", str(out))[0] == 0
    root = out / "production"
    secret_text = "postgresql+asyncpg://btai:s3cr3t-Pa55@db/btai"
    user_files = {
        root / "compose/secrets/database_url": secret_text,
        root / "compose/.env": "LOG_LEVEL=WARNING-user-dotenv\n",
        root / "kubernetes/extra.yaml": "kind: ConfigMap  # hand-written-extra\n",
    }
    for path, text in user_files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert render(config_copy, "--env", "production", "--out", str(out))[0] == 0
    for path, text in user_files.items():
        assert path.read_text() == text

    result = runner.invoke(
        app,
        ["render", "--config-dir", str(config_copy), "--env", "production", "--check", str(out)],
    )
    assert result.exit_code == 0, result.output
    shown = result.output + result.stderr
    for secret in ("s3cr3t-Pa55", "WARNING-user-dotenv", "hand-written-extra"):
        assert secret not in shown
    for name in ("compose/.env", "compose/secrets/database_url", "kubernetes/extra.yaml"):
        assert name in shown
    assert "rm " not in shown
    assert "delete" not in shown.lower()


def test_rerender_removes_only_files_it_wrote_before(config_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "deploy"
    assert render(config_copy, "--env", "staging", "--out", str(out))[0] == 0
    hpa = out / "staging/kubernetes/horizontalpodautoscaler.yaml"
    assert hpa.is_file()
    args = ("--env", "staging", "--set", "autoscaling.enabled=false", "--out", str(out))
    assert render(config_copy, *args)[0] == 0
    assert not hpa.exists()  # rendered before, no longer rendered: removed

    # A rendered file the user edited since is theirs now: left in place.
    assert render(config_copy, "--env", "staging", "--out", str(out))[0] == 0
    hpa.write_text(hpa.read_text() + "# tuned by hand\n")
    assert render(config_copy, *args)[0] == 0
    assert hpa.read_text().endswith("# tuned by hand\n")


def test_schema_is_printed_and_closed(config_copy: Path) -> None:
    code, output = render(config_copy, "schema")
    assert code == 0
    schema = json.loads(output)
    assert schema["additionalProperties"] is False
    assert {"env", "secrets", "probes", "shutdown", "autoscaling"} <= set(schema["properties"])
    assert schema["$defs"]["Probes"]["additionalProperties"] is False


@dataclass(frozen=True)
class Refusal:
    """One config mistake: an optional edit of the config copy, the render arguments (before
    `--out`), and what the one error must say (`shown`) and must not (`hidden`)."""

    args: tuple[str, ...]
    shown: tuple[str, ...]
    edit: tuple[str, str, str] | None = None
    hidden: tuple[str, ...] = ()


REFUSALS = {
    "plain_db_password": Refusal(
        (),
        ("env.DB_PASSWORD looks like a secret", "staging.yaml:17"),
        edit=(
            "environments/staging.yaml",
            "  LOG_LEVEL: DEBUG\n",
            "  LOG_LEVEL: DEBUG\n  DB_PASSWORD: hunter2\n",
        ),
        hidden=("hunter2",),
    ),
    "secret_looking_setting_needs_secret_false": Refusal(
        ("--env", "development", "--only", "k8s"),
        ("env.PASSWORD_MIN_LENGTH looks like a secret", "secret: false"),
        edit=(
            "base.yaml",
            "PASSWORD_MIN_LENGTH: {value: 12, secret: false}",
            "PASSWORD_MIN_LENGTH: 12",
        ),
    ),
    "secret_typed_setting_as_plain_value": Refusal(
        ("--env", "staging", "--set", "env.AI_API_KEY=sk-live-123"),
        ("env.AI_API_KEY", "--set: env.AI_API_KEY looks like a secret"),
        hidden=("sk-live-123",),
    ),
    "yaml_syntax_error_names_file_line_and_column": Refusal(
        ("--env", "production"),
        (
            "environments/production.yaml:7:19: YAML syntax error",
            "mapping values are not allowed here",
        ),
        edit=("environments/production.yaml", "  max_replicas: 12\n", "  max_replicas: 12: 13\n"),
    ),
    "unknown_key_names_path_line_and_allowed_keys": Refusal(
        ("--env", "production"),
        (
            "production.yaml:7: autoscaling.max_replica: unknown key",
            "allowed keys: enabled, max_replicas, min_replicas",
        ),
        edit=("environments/production.yaml", "  max_replicas: 12\n", "  max_replica: 12\n"),
    ),
    "unknown_top_level_key": Refusal(
        ("--env", "development"),
        ("development.yaml:3: replica: unknown key; allowed keys: ", ", replicas, "),
        edit=("environments/development.yaml", "replicas: 1\n", "replica: 1\n"),
    ),
    "wrong_type_names_path_line_and_expected_type": Refusal(
        ("--env", "production"),
        ("production.yaml:7: autoscaling.max_replicas: expected a valid integer", "'many'"),
        edit=("environments/production.yaml", "  max_replicas: 12\n", "  max_replicas: many\n"),
    ),
    "unknown_environment_lists_the_known_ones": Refusal(
        ("--env", "qa"), ("unknown environment 'qa'", "development, production, staging")
    ),
    "unknown_setting": Refusal(
        ("--env", "staging"),
        ("env.CACHE_TLL: unknown setting", "did you mean CACHE_TTL?"),
        edit=("base.yaml", "  CACHE_TTL: 300\n", "  CACHE_TTL: 300\n  CACHE_TLL: 30\n"),
    ),
    "setting_of_wrong_type_at_its_line": Refusal(
        ("--env", "production"),
        ("production.yaml:22: env.API_WORKERS", "integer"),
        edit=("environments/production.yaml", "  API_WORKERS: 4\n", "  API_WORKERS: lots\n"),
    ),
    "probe_path_must_be_a_route_of_the_app": Refusal(
        ("--env", "staging", "--set", "probes.readiness.path=/api/v1/health/ready"),
        (
            "probes.readiness.path /api/v1/health/ready is not a route of the app",
            "/api/v1/health/liveness",
        ),
    ),
    "grace_period_shorter_than_shutdown": Refusal(
        ("--env", "staging", "--set", "shutdown.termination_grace_period_seconds=20"),
        ("preStop 5 + GRACEFUL_TIMEOUT 25 + margin 5 = 35",),
    ),
}


@pytest.mark.parametrize("refusal", REFUSALS.values(), ids=REFUSALS.keys())
def test_config_mistake_is_one_usage_error_and_nothing_is_written(
    config_copy: Path, tmp_path: Path, edit: Edit, refusal: Refusal
) -> None:
    if refusal.edit is not None:
        edit(*refusal.edit)
    out = tmp_path / "out"
    code, output = render(config_copy, *refusal.args, "--out", str(out))
    assert code == 2, output
    for text in refusal.shown:
        assert text in output
    for text in refusal.hidden:
        assert text not in output
    assert not out.exists()


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("autoscaling.min_replicas=20", "min_replicas 20 is above max_replicas"),
        ("ingress.host=null", "ingress.host is required"),
        ("image", "expected path.to.key=value"),
        ("secrets.JWT_SECRET_KEY=null", "JWT_SECRET_KEY is a placeholder"),
        (
            "env.API_WORKERS={value: 2, secrt: false}",
            "secrt: unknown key; allowed keys: secret, value",
        ),
        ("env.LOG_LEVEL={value: x, secret: true}", "secret values never go in config"),
        ("env.LOG_LEVEL=LOUD", "env.LOG_LEVEL: Input should be 'DEBUG'"),
        ("image.tag=latest", "image.tag `latest` is not a release"),
    ],
)
def test_inconsistent_overrides_are_config_errors(
    config_copy: Path, assignment: str, message: str
) -> None:
    code, output = render(config_copy, "--env", "staging", "--set", assignment, "--out", "x")
    assert code == 2
    assert message in output


def test_out_and_check_together_is_a_usage_error(config_copy: Path) -> None:
    code, output = render(config_copy, "--out", "a", "--check", "b")
    assert code == 2
    assert "cannot be used together" in output
