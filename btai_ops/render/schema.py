"""The schema of `configs/*.yaml`: what `btai render` reads, every level closed to unknown keys."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

QUANTITY = r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$"
DURATION = r"^[0-9]+(ms|s|m|h)$"
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Image(Section):
    repository: str = Field(min_length=1, description="Image repository, without the tag.")
    tag: str = Field(min_length=1, description="Image tag (never `latest` in production).")
    pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"


class Amounts(Section):
    cpu: str | None = Field(None, pattern=QUANTITY, description="CPU quantity, e.g. 250m.")
    memory: str = Field(pattern=QUANTITY, description="Memory quantity, e.g. 256Mi.")


class Resources(Section):
    requests: Amounts
    limits: Amounts


class Security(Section):
    run_as_user: int = Field(ge=1, description="Numeric non-root user of the container.")
    run_as_group: int = Field(ge=1, description="Numeric group of the container.")
    tmp_size_limit: str = Field("64Mi", pattern=QUANTITY, description="Size of writable /tmp.")


class Probe(Section):
    path: str = Field(pattern=r"^/", description="HTTP path; must be a route of the app.")
    period_seconds: int = Field(ge=1)
    timeout_seconds: int = Field(1, ge=1)
    failure_threshold: int = Field(3, ge=1)
    initial_delay_seconds: int = Field(0, ge=0)


class Probes(Section):
    startup: Probe
    readiness: Probe
    liveness: Probe


class Shutdown(Section):
    pre_stop_sleep_seconds: int = Field(
        ge=0, description="Sleep before SIGTERM so endpoints stop routing to the pod."
    )
    margin_seconds: int = Field(ge=0, description="Slack after the server's graceful timeout.")
    termination_grace_period_seconds: int | None = Field(
        None, ge=1, description="Omit to compute preStop + GRACEFUL_TIMEOUT + margin."
    )


class Rollout(Section):
    max_surge: int | str = Field(1, description="Extra pods during a rollout (number or %).")
    revision_history_limit: int = Field(5, ge=0)


class Autoscaling(Section):
    enabled: bool
    min_replicas: int = Field(ge=1)
    max_replicas: int = Field(ge=1)
    target_cpu_utilization: int = Field(ge=1, le=100)
    target_memory_utilization: int | None = Field(None, ge=1, le=100)
    scale_down_stabilization_seconds: int = Field(300, ge=0, le=3600)


class TopologySpread(Section):
    max_skew: int = Field(1, ge=1)
    when_unsatisfiable: Literal["DoNotSchedule", "ScheduleAnyway"] = "ScheduleAnyway"


class NetworkPolicy(Section):
    allow_from_namespaces: list[str] = Field(
        default_factory=list, description="Namespaces (by name) whose pods may reach the app."
    )
    allow_same_namespace: bool = True
    egress_tcp_ports: list[int] = Field(
        default_factory=list, description="TCP ports the app may connect to (DNS is implied)."
    )


class Service(Section):
    port: int = Field(80, ge=1, le=65535)
    type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = "ClusterIP"


class Ingress(Section):
    enabled: bool = False
    host: str | None = None
    class_name: str = "nginx"
    path: str = Field("/", pattern=r"^/")
    tls_secret_name: str | None = Field(None, description="Name of the TLS Secret (a reference).")
    annotations: dict[str, str] = Field(default_factory=dict)


class ServiceMonitor(Section):
    enabled: bool = False
    interval: str = Field("30s", pattern=DURATION)
    scrape_timeout: str = Field("10s", pattern=DURATION)
    labels: dict[str, str] = Field(default_factory=dict)


class EnvEntry(Section):
    """A plain environment variable. Written as a bare value, or `{value: ..., secret: false}`."""

    value: str | int | float | bool
    secret: bool | None = Field(
        None, description="`false` allows a name that looks secret (PASSWORD_MIN_LENGTH)."
    )

    @model_validator(mode="before")
    @classmethod
    def _bare_value(cls, data: Any) -> Any:
        return data if isinstance(data, dict) else {"value": data}


class SecretRef(Section):
    """An environment variable read from a Kubernetes Secret (never its value)."""

    secret: str = Field(pattern=DNS_LABEL, description="Name of the Secret.")
    key: str = Field(min_length=1, description="Key inside the Secret.")
    optional: bool = False


class Docker(Section):
    python_version: str = Field("3.11", pattern=r"^3\.[0-9]+$")
    extras: list[str] = Field(default_factory=list, description="Extras installed in the image.")


class Compose(Section):
    postgres_image: str
    redis_image: str
    published_port: int = Field(8000, ge=1, le=65535)
    postgres_db: str = "btai"
    postgres_user: str = "btai"


class Alerts(Section):
    error_ratio: float = Field(gt=0, lt=1, description="5xx share of requests that pages.")
    p99_latency_seconds: float = Field(gt=0)
    queue_depth: int = Field(ge=1)
    rate_limit_rejections_per_second: float = Field(gt=0)
    for_duration: str = Field("5m", pattern=DURATION)


class Monitoring(Section):
    rate_window: str = Field("5m", pattern=DURATION)
    dashboard_uid: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,40}$")
    dashboard_title: str
    alerts: Alerts


class RenderConfig(Section):
    """One environment's deployment, after the overlay is merged onto `base.yaml`."""

    name: str = Field(pattern=DNS_LABEL, description="Name of every rendered object.")
    namespace: str = Field(pattern=DNS_LABEL)
    kubernetes_version: str = Field(pattern=r"^1\.[0-9]+$", description="Target, e.g. `1.31`.")
    labels: dict[str, str] = Field(default_factory=dict, description="Extra labels on objects.")
    image: Image
    replicas: int = Field(ge=1, description="Used when autoscaling is off.")
    autoscaling: Autoscaling
    resources: Resources
    security: Security
    probes: Probes
    shutdown: Shutdown
    rollout: Rollout = Rollout()
    topology_spread: TopologySpread = TopologySpread()
    network_policy: NetworkPolicy = NetworkPolicy()
    service: Service = Service()
    ingress: Ingress = Ingress()
    service_monitor: ServiceMonitor = ServiceMonitor()
    env: dict[str, EnvEntry] = Field(
        default_factory=dict, description="Settings of the app (names from app/settings.py)."
    )
    secrets: dict[str, SecretRef] = Field(
        default_factory=dict, description="Settings read from Kubernetes Secrets, by name."
    )
    env_from_secrets: list[str] = Field(
        default_factory=list, description="Secrets whose every key becomes a variable."
    )
    docker: Docker = Docker()
    compose: Compose
    monitoring: Monitoring
