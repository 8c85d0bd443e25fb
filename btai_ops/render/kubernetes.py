"""The Kubernetes objects of one environment, as plain dicts (one file per object)."""

from __future__ import annotations

import hashlib

from btai_ops.errors import ConfigError
from btai_ops.render.appfacts import AppFacts, env_text
from btai_ops.render.cluster import migration_job, namespace, service_account
from btai_ops.render.loader import LoadedConfig
from btai_ops.render.output import to_yaml
from btai_ops.render.pods import (
    CONTAINER,
    PORT_NAME,
    Obj,
    common_labels,
    configmap_name,
    env_sources,
    instance_labels,
    metadata,
    pod_security_context,
    security_context,
    selector_labels,
    serve_command,
)
from btai_ops.render.schema import Probe, RenderConfig


def replica_floor(config: RenderConfig) -> int:
    return config.autoscaling.min_replicas if config.autoscaling.enabled else config.replicas


def grace_period(config: RenderConfig, facts: AppFacts) -> int:
    """preStop sleep + the server's graceful timeout + a margin (or the configured value)."""
    needed = (
        config.shutdown.pre_stop_sleep_seconds
        + facts.graceful_seconds
        + config.shutdown.margin_seconds
    )
    return config.shutdown.termination_grace_period_seconds or needed


def configmap(config: RenderConfig) -> Obj:
    data = {name: env_text(entry.value) for name, entry in sorted(config.env.items())}
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(config, configmap_name(config)),
        "data": data,
    }


def _probe(probe: Probe) -> Obj:
    return {
        "httpGet": {"path": probe.path, "port": PORT_NAME, "scheme": "HTTP"},
        "periodSeconds": probe.period_seconds,
        "timeoutSeconds": probe.timeout_seconds,
        "failureThreshold": probe.failure_threshold,
        "initialDelaySeconds": probe.initial_delay_seconds,
        "successThreshold": 1,
    }


def _pre_stop(config: RenderConfig, version: tuple[int, int]) -> Obj | None:
    seconds = config.shutdown.pre_stop_sleep_seconds
    if seconds == 0:
        return None
    # The sleep action (no binary needed in the image) is on by default from 1.30.
    if version >= (1, 30):
        return {"preStop": {"sleep": {"seconds": seconds}}}
    return {"preStop": {"exec": {"command": ["sleep", str(seconds)]}}}


def _container(config: RenderConfig, facts: AppFacts, version: tuple[int, int]) -> Obj:
    env, env_from = env_sources(config)
    limits = {"memory": config.resources.limits.memory}
    if config.resources.limits.cpu:
        limits["cpu"] = config.resources.limits.cpu
    requests = {"memory": config.resources.requests.memory}
    if config.resources.requests.cpu:
        requests["cpu"] = config.resources.requests.cpu
    container: Obj = {
        "name": CONTAINER,
        "image": config.image.reference,
        "imagePullPolicy": config.image.pull_policy,
        "command": serve_command(config),
        "ports": [{"name": PORT_NAME, "containerPort": facts.port, "protocol": "TCP"}],
        "envFrom": env_from,
        "resources": {"requests": requests, "limits": limits},
        "securityContext": security_context(config),
        "startupProbe": _probe(config.probes.startup),
        "readinessProbe": _probe(config.probes.readiness),
        "livenessProbe": _probe(config.probes.liveness),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108,
    }
    if env:
        container["env"] = env
    lifecycle = _pre_stop(config, version)
    if lifecycle:
        container["lifecycle"] = lifecycle
    return container


def deployment(
    config: RenderConfig, facts: AppFacts, version: tuple[int, int], config_checksum: str
) -> Obj:
    selector = selector_labels(config)
    spread = [
        {
            "maxSkew": config.topology_spread.max_skew,
            "topologyKey": key,
            "whenUnsatisfiable": config.topology_spread.when_unsatisfiable,
            "labelSelector": {"matchLabels": selector},
        }
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]
    spec: Obj = {
        "selector": {"matchLabels": selector},
        "revisionHistoryLimit": config.rollout.revision_history_limit,
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": config.rollout.max_surge, "maxUnavailable": 0},
        },
        "template": {
            "metadata": {
                "labels": common_labels(config),
                "annotations": {"checksum/config": config_checksum},
            },
            "spec": {
                "serviceAccountName": config.name,
                "automountServiceAccountToken": False,
                "enableServiceLinks": False,
                "terminationGracePeriodSeconds": grace_period(config, facts),
                "securityContext": pod_security_context(config),
                "topologySpreadConstraints": spread,
                "containers": [_container(config, facts, version)],
                "volumes": [
                    {"name": "tmp", "emptyDir": {"sizeLimit": config.security.tmp_size_limit}}
                ],
            },
        },
    }
    if not config.autoscaling.enabled:
        spec["replicas"] = config.replicas
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(config),
        "spec": spec,
    }


def service(config: RenderConfig) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(config),
        "spec": {
            "type": config.service.type,
            "selector": selector_labels(config),
            "ports": [
                {
                    "name": PORT_NAME,
                    "port": config.service.port,
                    "targetPort": PORT_NAME,
                    "protocol": "TCP",
                }
            ],
        },
    }


def autoscaler(config: RenderConfig) -> Obj:
    scaling = config.autoscaling
    metrics = [
        {
            "type": "Resource",
            "resource": {"name": name, "target": {"type": "Utilization", "averageUtilization": n}},
        }
        for name, n in (
            ("cpu", scaling.target_cpu_utilization),
            ("memory", scaling.target_memory_utilization),
        )
        if n is not None
    ]
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata(config),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": config.name},
            "minReplicas": scaling.min_replicas,
            "maxReplicas": scaling.max_replicas,
            "metrics": metrics,
            "behavior": {
                "scaleDown": {
                    "stabilizationWindowSeconds": scaling.scale_down_stabilization_seconds
                }
            },
        },
    }


def disruption_budget(config: RenderConfig) -> Obj:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(config),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector_labels(config)}},
    }


def network_policy(config: RenderConfig) -> Obj:
    policy = config.network_policy
    sources: list[Obj] = [{"podSelector": {}}] if policy.allow_same_namespace else []
    sources += [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}
        for name in policy.allow_from_namespaces
    ]
    ingress = (
        [{"from": sources, "ports": [{"port": PORT_NAME, "protocol": "TCP"}]}] if sources else []
    )
    dns = {
        "to": [
            {
                "namespaceSelector": {
                    "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                },
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
            }
        ],
        "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
    }
    egress: list[Obj] = [dns]
    if policy.egress_tcp_ports:
        egress.append({"ports": [{"port": p, "protocol": "TCP"} for p in policy.egress_tcp_ports]})
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(config),
        "spec": {
            # Every pod of the instance: the API and the migration Job, which needs the same
            # egress (DNS, the database) and no more ingress than the API.
            "podSelector": {"matchLabels": instance_labels(config)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": egress,
        },
    }


def ingress(loaded: LoadedConfig) -> Obj:
    config = loaded.config
    spec = config.ingress
    if not spec.host:
        raise ConfigError(f"{loaded.where(('ingress',))}: ingress.host is required when enabled")
    backend = {"service": {"name": config.name, "port": {"name": PORT_NAME}}}
    body: Obj = {
        "ingressClassName": spec.class_name,
        "rules": [
            {
                "host": spec.host,
                "http": {"paths": [{"path": spec.path, "pathType": "Prefix", "backend": backend}]},
            }
        ],
    }
    if spec.tls_secret_name:
        body["tls"] = [{"hosts": [spec.host], "secretName": spec.tls_secret_name}]
    meta = metadata(config)
    if spec.annotations:
        meta["annotations"] = dict(spec.annotations)
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta, "spec": body}


def service_monitor(config: RenderConfig) -> Obj:
    meta = metadata(config)
    meta["labels"] = {**meta["labels"], **config.service_monitor.labels}
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": meta,
        "spec": {
            "selector": {"matchLabels": selector_labels(config)},
            "namespaceSelector": {"matchNames": [config.namespace]},
            "endpoints": [
                {
                    "port": PORT_NAME,
                    "path": "/metrics",
                    "interval": config.service_monitor.interval,
                    "scrapeTimeout": config.service_monitor.scrape_timeout,
                }
            ],
        },
    }


def objects(loaded: LoadedConfig, facts: AppFacts, version: tuple[int, int]) -> dict[str, Obj]:
    """File name -> object for every Kubernetes object this environment deploys."""
    config = loaded.config
    cm = configmap(config)
    checksum = hashlib.sha256(to_yaml(cm["data"]).encode()).hexdigest()
    rendered = {
        "configmap.yaml": cm,
        "deployment.yaml": deployment(config, facts, version, checksum),
        "service.yaml": service(config),
        "serviceaccount.yaml": service_account(config),
        "networkpolicy.yaml": network_policy(config),
    }
    if config.create_namespace:
        rendered["namespace.yaml"] = namespace(config)
    if config.migration.job:
        release = hashlib.sha256(f"{config.image.reference}\n{checksum}".encode()).hexdigest()
        rendered["migration-job.yaml"] = migration_job(config, release)
    if config.autoscaling.enabled:
        rendered["horizontalpodautoscaler.yaml"] = autoscaler(config)
    if replica_floor(config) >= 2:
        rendered["poddisruptionbudget.yaml"] = disruption_budget(config)
    if config.ingress.enabled:
        rendered["ingress.yaml"] = ingress(loaded)
    if config.service_monitor.enabled:
        rendered["servicemonitor.yaml"] = service_monitor(config)
    return rendered
