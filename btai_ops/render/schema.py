"""The schema of `configs/*.yaml`: what `btai render` reads, every level closed to unknown keys."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

QUANTITY = r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$"
DURATION = r"^[0-9]+(ms|s|m|h)$"
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
DOCKER_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Image(Section):
    repository: str = Field(min_length=1, description="Image repository, without the tag.")
    tag: str = Field(
        min_length=1,
        description="Image tag (never `latest` in production); also the version label.",
    )
    digest: str | None = Field(
        None,
        pattern=r"^sha256:[a-f0-9]{64}$",
        description="Pins the image: rendered as `repository@sha256:...` (the tag stays the "
        "version label).",
    )
    pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"

    @field_validator("tag")
    @classmethod
    def _tag_without_digest(cls, tag: str) -> str:
        if "@" in tag or "sha256:" in tag:
            raise ValueError(
                "a tag without a digest (pin the digest with image.digest: sha256:...)"
            )
        if not DOCKER_TAG.match(tag):
            raise ValueError(
                "a Docker tag: at most 128 letters, digits, '_', '.' and '-', "
                "not starting with '.' or '-'"
            )
        return tag

    @property
    def reference(self) -> str:
        """What a pod or Compose service pulls: by digest when pinned, else by tag."""
        if self.digest:
            return f"{self.repository}@{self.digest}"
        return f"{self.repository}:{self.tag}"


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

    value: str | int | float | bool | list[str | int | float] = Field(
        description="The value; a list is written comma-separated (CORS_ORIGINS)."
    )
    secret: bool | None = Field(
        None, description="`false` allows a name that looks secret (PASSWORD_MIN_LENGTH)."
    )

    @model_validator(mode="before")
    @classmethod
    def _bare_value(cls, data: Any) -> Any:
        return data if isinstance(data, dict) else {"value": data}

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # The files mostly hold the bare value (`API_WORKERS: 2`); the schema says so too.
        entry = handler.resolve_ref_schema(handler(core_schema))
        return {
            "anyOf": [
                {"type": ["string", "integer", "number", "boolean"]},
                {"type": "array", "items": {"type": ["string", "integer", "number"]}},
                entry,
            ],
            "description": cls.__doc__,
        }


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
    subnet: str = Field(
        "172.30.0.0/24",
        description="The stack's network; TRUSTED_PROXIES is set to it (the proxy lives there).",
    )
    tls_proxy_image: str | None = Field(
        None,
        description="A TLS-terminating proxy (Caddy) in front of the api outside development; "
        "without one HTTPS enforcement is off and the api is published on 127.0.0.1 only.",
    )
    tls_host: str = Field("localhost", description="Host name the TLS proxy serves.")


class Database(Section):
    max_connections: int | None = Field(
        None,
        ge=1,
        description="PostgreSQL's max_connections, shared by every pod; unset skips "
        "the check of replicas x API_WORKERS x (DB_POOL_SIZE + DB_MAX_OVERFLOW) against it.",
    )
    reserved_connections: int = Field(
        10, ge=0, description="Connections kept free for administration, migrations, monitoring."
    )


class Migration(Section):
    job: bool = Field(
        False,
        description="Render a Job that runs `btai db upgrade` once per release; the pods then "
        "start with `btai serve --no-migrate`.",
    )
    backoff_limit: int = Field(2, ge=0)
    active_deadline_seconds: int = Field(600, ge=1)


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
    create_namespace: bool = Field(False, description="Render the Namespace object too.")
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
    database: Database = Database()
    migration: Migration = Migration()
    checkov_skips: dict[str, Annotated[str, Field(min_length=10)]] = Field(
        default_factory=dict,
        description="checkov checks the rendered output deliberately fails: id -> the reason.",
    )
    monitoring: Monitoring


def overlay_schema(base: dict[str, Any]) -> dict[str, Any]:
    """The schema of an environment overlay: the base schema with every key optional and
    `null` allowed everywhere (an overlay's `null` deletes the key it names)."""

    def loosen(node: Any) -> Any:
        if isinstance(node, list):
            return [loosen(item) for item in node]
        if not isinstance(node, dict):
            return node
        loose = {key: loosen(value) for key, value in node.items() if key != "required"}
        if isinstance(loose.get("properties"), dict):
            loose["properties"] = {k: _nullable(v) for k, v in loose["properties"].items()}
        if isinstance(loose.get("additionalProperties"), dict):
            loose["additionalProperties"] = _nullable(loose["additionalProperties"])
        return loose

    overlay: dict[str, Any] = loosen(base)
    overlay["title"] = "Overlay"
    overlay["description"] = (
        "configs/environments/<name>.yaml: merged onto base.yaml (maps merge, lists replace, "
        "null deletes)."
    )
    return overlay


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}
