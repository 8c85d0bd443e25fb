"""Checks on rendered output: kubernetes-validate (strict) and the project's own rules.

Own rules: selectors match the pod labels, probe paths are routes of the app, the grace period
covers preStop + the server's graceful timeout + a margin, and every metric an alert or panel
reads is one the app exports.
"""

from __future__ import annotations

from typing import Any

from btai_ops.errors import BtaiError, ConfigError
from btai_ops.render import capacity, labels
from btai_ops.render.appfacts import AppFacts
from btai_ops.render.loader import LoadedConfig

Obj = dict[str, Any]
# Custom resources kubernetes-validate has no schema for; checked by our own rules only.
CUSTOM_RESOURCES = frozenset({"monitoring.coreos.com/v1"})


def clamp_version(requested: str) -> str:
    """The newest Kubernetes version kubernetes-validate knows that is not newer than
    `requested` (or its oldest, when `requested` is older than all)."""
    from kubernetes_validate.utils import all_versions

    def key(text: str) -> tuple[int, ...]:
        return tuple(int(p) for p in text.split(".")[:2])

    known = sorted({".".join(v.split(".")[:2]) for v in all_versions()}, key=key)
    older = [v for v in known if key(v) <= key(requested)]
    return older[-1] if older else known[0]


def validate_objects(objects: dict[str, Obj], version: str) -> list[str]:
    """Validate each object in strict mode; returns the problems (empty when all pass)."""
    import kubernetes_validate

    problems = []
    for file, obj in sorted(objects.items()):
        if obj["apiVersion"] in CUSTOM_RESOURCES:
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path) or "(object)"
            problems.append(f"{file}: {obj['kind']} {path}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            problems.append(f"{file}: {exc.message}")
    return problems


def _subset(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def selector_problems(objects: dict[str, Obj]) -> list[str]:
    """Every selector that misses the pods, and every reference to a wrong target or port."""
    pod_labels = objects["deployment.yaml"]["spec"]["template"]["metadata"]["labels"]
    problems = [
        f"{where}: selector {selector} does not match the pod labels"
        for where, selector in _pod_selectors(objects).items()
        if not _subset(selector, pod_labels)
    ]
    return problems + _target_problems(objects)


def _pod_selectors(objects: dict[str, Obj]) -> dict[str, dict[str, str]]:
    """Each selector that must choose the Deployment's pods, by where it is."""
    deployment = objects["deployment.yaml"]
    selectors = {
        "deployment.yaml": deployment["spec"]["selector"]["matchLabels"],
        "service.yaml": objects["service.yaml"]["spec"]["selector"],
        "networkpolicy.yaml": objects["networkpolicy.yaml"]["spec"]["podSelector"]["matchLabels"],
    }
    for i, spread in enumerate(deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]):
        selectors[f"deployment.yaml topologySpreadConstraints[{i}]"] = spread["labelSelector"][
            "matchLabels"
        ]
    if "poddisruptionbudget.yaml" in objects:
        pdb = objects["poddisruptionbudget.yaml"]
        selectors["poddisruptionbudget.yaml"] = pdb["spec"]["selector"]["matchLabels"]
    return selectors


def _target_problems(objects: dict[str, Obj]) -> list[str]:
    """The autoscaler's target, the ServiceMonitor's and the Ingress's Service and ports."""
    problems = []
    name = objects["deployment.yaml"]["metadata"]["name"]
    if "horizontalpodautoscaler.yaml" in objects:
        target = objects["horizontalpodautoscaler.yaml"]["spec"]["scaleTargetRef"]
        if target["name"] != name or target["kind"] != "Deployment":
            problems.append(f"horizontalpodautoscaler.yaml: targets {target}, not {name}")
    service = objects["service.yaml"]
    if "servicemonitor.yaml" in objects:
        problems += _monitor_problems(objects["servicemonitor.yaml"]["spec"], service)
    if "ingress.yaml" in objects:
        problems += _ingress_problems(objects["ingress.yaml"]["spec"], service)
    return problems


def _monitor_problems(monitor: Obj, service: Obj) -> list[str]:
    port_names = {p["name"] for p in service["spec"]["ports"]}
    problems = []
    if not _subset(monitor["selector"]["matchLabels"], service["metadata"]["labels"]):
        problems.append("servicemonitor.yaml: selector does not match the Service labels")
    for endpoint in monitor["endpoints"]:
        if endpoint["port"] not in port_names:
            problems.append(f"servicemonitor.yaml: no Service port named {endpoint['port']}")
    return problems


def _ingress_problems(ingress: Obj, service: Obj) -> list[str]:
    port_names = {p["name"] for p in service["spec"]["ports"]}
    problems = []
    for rule in ingress["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            if backend["name"] != service["metadata"]["name"]:
                problems.append(f"ingress.yaml: backend {backend['name']} is not the Service")
            if backend["port"].get("name") not in port_names:
                problems.append(f"ingress.yaml: no Service port {backend['port']}")
    return problems


def check_labels(loaded: LoadedConfig) -> None:
    """Every label and annotation Kubernetes would refuse, named by its config key."""
    config = loaded.config
    problems = []
    labelled = {
        ("labels",): config.labels,
        ("service_monitor", "labels"): config.service_monitor.labels,
    }
    for section, mapping in labelled.items():
        for key, value in mapping.items():
            for problem in (labels.key_problem(key), labels.value_problem(value)):
                if problem:
                    dotted = ".".join((*section, key))
                    problems.append(f"{loaded.where((*section, key))}: {dotted}: {problem}")
    for key in config.ingress.annotations:
        if problem := labels.key_problem(key):
            where = loaded.where(("ingress", "annotations", key))
            problems.append(f"{where}: ingress.annotations.{key}: {problem}")
    if problem := labels.annotations_problem(config.ingress.annotations):
        problems.append(f"{loaded.where(('ingress', 'annotations'))}: {problem}")
    if problem := labels.value_problem(config.image.tag):
        problems.append(
            f"{loaded.where(('image', 'tag'))}: image.tag is the version label "
            f"app.kubernetes.io/version: {problem}"
        )
    if problems:
        raise ConfigError("; ".join(problems))


def check_config(loaded: LoadedConfig, facts: AppFacts) -> None:
    """Rules on the config itself; raises ConfigError at the offending key's line."""
    config = loaded.config
    check_labels(loaded)
    _check_probes(loaded, facts)
    _check_grace_period(loaded, facts)
    if config.image.tag == "latest" and not facts.settings.is_development:
        raise ConfigError(
            f"{loaded.where(('image', 'tag'))}: image.tag `latest` is not a release",
            hint="pin a version tag outside development so rollouts are reproducible",
        )
    scaling = config.autoscaling
    if scaling.enabled and scaling.min_replicas > scaling.max_replicas:
        raise ConfigError(
            f"{loaded.where(('autoscaling', 'min_replicas'))}: autoscaling.min_replicas "
            f"{scaling.min_replicas} is above max_replicas {scaling.max_replicas}"
        )
    workers = facts.settings.API_WORKERS
    capacity.check_memory(loaded, workers, facts.worker_memory)
    capacity.check_connections(
        loaded, workers, facts.settings.DB_POOL_SIZE, facts.settings.DB_MAX_OVERFLOW
    )
    if scaling.enabled and config.resources.requests.cpu is None:
        raise ConfigError(
            f"{loaded.where(('resources', 'requests'))}: resources.requests.cpu is required "
            "when autoscaling on CPU utilisation"
        )


def _check_probes(loaded: LoadedConfig, facts: AppFacts) -> None:
    for probe in ("startup", "readiness", "liveness"):
        path = getattr(loaded.config.probes, probe).path
        if path not in facts.routes:
            health = sorted(r for r in facts.routes if "health" in r)
            raise ConfigError(
                f"{loaded.where(('probes', probe, 'path'))}: probes.{probe}.path {path} "
                "is not a route of the app",
                hint=f"health routes: {', '.join(health) or 'none'}",
            )


def _check_grace_period(loaded: LoadedConfig, facts: AppFacts) -> None:
    """Kubernetes must wait for preStop, the app's own grace and a margin before SIGKILL."""
    shutdown = loaded.config.shutdown
    needed = shutdown.pre_stop_sleep_seconds + facts.graceful_seconds + shutdown.margin_seconds
    configured = shutdown.termination_grace_period_seconds
    if configured is not None and configured < needed:
        raise ConfigError(
            f"{loaded.where(('shutdown', 'termination_grace_period_seconds'))}: "
            f"termination_grace_period_seconds {configured} is less than preStop "
            f"{shutdown.pre_stop_sleep_seconds} + GRACEFUL_TIMEOUT {facts.graceful_timeout:g} "
            f"+ margin {shutdown.margin_seconds} = {needed}"
        )


def check_rendered(
    objects: dict[str, Obj], expressions: list[str], facts: AppFacts, version: str
) -> list[str]:
    """Validate the rendered objects and metric names; raises BtaiError listing problems.

    Returns warnings: metrics that exist, but not in the exposition this environment's
    worker count gives (several workers serve no process_* metrics)."""
    from btai_ops.render.monitoring import metric_names

    problems = validate_objects(objects, version)
    problems += selector_problems(objects)
    used = {n for e in expressions for n in metric_names(e)}
    unknown = sorted(used - facts.metric_samples)
    if unknown:
        problems.append(f"metrics the app does not export: {', '.join(unknown)}")
    if problems:
        raise BtaiError(f"rendered output failed {len(problems)} check(s): " + "; ".join(problems))
    workers = facts.settings.API_WORKERS
    absent = sorted(used & facts.runtime_samples) if workers > 1 else []
    if absent:
        return [
            f"with API_WORKERS={workers} /metrics is the multiprocess exposition, which has no "
            f"{', '.join(absent)}: the panels that read them stay empty"
        ]
    return []
