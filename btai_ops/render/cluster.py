"""Objects around the Deployment: the Namespace, the pods' ServiceAccount and the migration
Job."""

from __future__ import annotations

from btai_ops.render.pods import (
    Obj,
    common_labels,
    env_sources,
    metadata,
    pod_security_context,
    security_context,
)
from btai_ops.render.schema import RenderConfig


def namespace(config: RenderConfig) -> Obj:
    """The namespace, enforcing the `restricted` Pod Security Standard the pods already meet
    (non-root, no privilege escalation, every capability dropped, RuntimeDefault seccomp)."""
    labels = {k: v for k, v in common_labels(config).items() if k != "app.kubernetes.io/component"}
    labels |= {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
    }
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": config.namespace, "labels": labels},
    }


def service_account(config: RenderConfig) -> Obj:
    """The pods' own identity: the API needs no Kubernetes API access, so no token at all."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata(config),
        "automountServiceAccountToken": False,
    }


def migration_job(config: RenderConfig, version_checksum: str) -> Obj:
    """`btai db upgrade` once per release, before the Deployment rolls (apply it first and
    wait for it: `kubectl wait --for=condition=complete job/<name>`). Its name carries the
    release so a new image gets a new Job; a finished one is removed after a day."""
    env, env_from = env_sources(config)
    container: Obj = {
        "name": "migrate",
        "image": config.image.reference,
        "imagePullPolicy": config.image.pull_policy,
        "command": ["btai", "db", "upgrade"],
        "envFrom": env_from,
        "resources": {
            "requests": {"memory": config.resources.requests.memory},
            "limits": {"memory": config.resources.limits.memory},
        },
        "securityContext": security_context(config),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108
    }
    if config.resources.requests.cpu:
        container["resources"]["requests"]["cpu"] = config.resources.requests.cpu
    if env:
        container["env"] = env
    labels = {**common_labels(config), "app.kubernetes.io/component": "migration"}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": f"{config.name}-migrate-{version_checksum[:10]}",
            "namespace": config.namespace,
            "labels": labels,
        },
        "spec": {
            "backoffLimit": config.migration.backoff_limit,
            "activeDeadlineSeconds": config.migration.active_deadline_seconds,
            "ttlSecondsAfterFinished": 86_400,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": config.name,
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "restartPolicy": "Never",
                    "securityContext": pod_security_context(config),
                    "containers": [container],
                    "volumes": [
                        {"name": "tmp", "emptyDir": {"sizeLimit": config.security.tmp_size_limit}}
                    ],
                },
            },
        },
    }
