"""What every pod of the instance shares, the API's and the migration Job's: labels,
metadata, security contexts and where the environment comes from."""

from __future__ import annotations

from typing import Any

from btai_ops.render.schema import RenderConfig

Obj = dict[str, Any]
CONTAINER = "api"
PORT_NAME = "http"


def selector_labels(config: RenderConfig) -> dict[str, str]:
    """The labels that pick the pods; never the version, so a rollout keeps its selector."""
    return {
        "app.kubernetes.io/name": config.name,
        "app.kubernetes.io/instance": config.name,
        "app.kubernetes.io/component": "api",
    }


def instance_labels(config: RenderConfig) -> dict[str, str]:
    return {"app.kubernetes.io/name": config.name, "app.kubernetes.io/instance": config.name}


def common_labels(config: RenderConfig) -> dict[str, str]:
    return {
        **config.labels,
        **selector_labels(config),
        "app.kubernetes.io/part-of": "btai",
        "app.kubernetes.io/version": config.image.tag,
        "app.kubernetes.io/managed-by": "btai-render",
    }


def metadata(config: RenderConfig, name: str | None = None, **extra: Any) -> Obj:
    return {
        "name": name or config.name,
        "namespace": config.namespace,
        "labels": common_labels(config),
        **extra,
    }


def configmap_name(config: RenderConfig) -> str:
    return f"{config.name}-env"


def serve_command(config: RenderConfig) -> list[str]:
    # With a migration Job the schema is settled before the rollout; pods only serve.
    return ["btai", "serve", "--no-migrate"] if config.migration.job else ["btai", "serve"]


def security_context(config: RenderConfig) -> Obj:
    sec = config.security
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": sec.run_as_user,
        "runAsGroup": sec.run_as_group,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def pod_security_context(config: RenderConfig) -> Obj:
    return {
        "runAsNonRoot": True,
        "runAsUser": config.security.run_as_user,
        "runAsGroup": config.security.run_as_group,
        "fsGroup": config.security.run_as_group,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def env_sources(config: RenderConfig) -> tuple[list[Obj], list[Obj]]:
    """`env` (Secret references) and `envFrom` (the ConfigMap and whole Secrets)."""
    env = [
        {
            "name": name,
            "valueFrom": {
                "secretKeyRef": {"name": ref.secret, "key": ref.key, "optional": ref.optional}
            },
        }
        for name, ref in sorted(config.secrets.items())
    ]
    env_from: list[Obj] = [{"configMapRef": {"name": configmap_name(config)}}]
    env_from += [{"secretRef": {"name": name}} for name in config.env_from_secrets]
    return env, env_from
