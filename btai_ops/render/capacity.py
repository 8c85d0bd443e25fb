"""Does the deployment fit: memory requests against what a worker really uses, and database
connections against what PostgreSQL accepts.

The per-worker figure is measured (`benchmarks/worker_memory.py` writes `measured.yaml` beside
the configs), never guessed: a request below it gets the pod evicted or, with a memory target,
has the autoscaler add pods to a service that is idle.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from btai_ops.errors import ConfigError
from btai_ops.render.loader import LoadedConfig

MEASURED = "measured.yaml"
MIB = 1024 * 1024
UNITS = {
    "": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "m": 1e-3,
}  # fmt: skip
QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$")


@dataclass(frozen=True)
class WorkerMemory:
    """Idle PSS of `btai serve` in MiB: one worker is a single process; from two on,
    base (the supervisor and what workers share) + workers x per_worker."""

    per_worker_mib: float
    base_mib: float
    source: str
    single_process_mib: float | None = None

    def at(self, workers: int) -> float:
        if workers == 1 and self.single_process_mib is not None:
            return self.single_process_mib
        return self.base_mib + workers * self.per_worker_mib

    def formula(self, workers: int) -> str:
        if workers == 1 and self.single_process_mib is not None:
            return f"one worker (a single process) uses {self.single_process_mib:g} MiB"
        return (
            f"{self.base_mib:g} MiB + {workers} x {self.per_worker_mib:g} MiB per worker "
            f"= {self.at(workers):.0f} MiB"
        )


def quantity_bytes(text: str) -> float:
    match = QUANTITY.match(text)
    if match is None:
        raise ValueError(f"not a quantity: {text!r}")
    return float(match.group(1)) * UNITS[match.group(2) or ""]


def read_measured(path: Path) -> WorkerMemory | None:
    """The figure in `path`, or None when the file is absent."""
    if not path.is_file():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        figures = data["worker_memory"]
        single = figures.get("single_process_mib")
        return WorkerMemory(
            per_worker_mib=float(figures["per_worker_mib"]),
            base_mib=float(figures["base_mib"]),
            source=str(path),
            single_process_mib=None if single is None else float(single),
        )
    except (yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            f"{path}: expected worker_memory.per_worker_mib and base_mib ({exc})",
            hint="rewrite it with `python -m benchmarks.worker_memory`",
        ) from None


def surge_pods(max_surge: int | str, replicas: int) -> int:
    """Extra pods a rolling update may start (a percentage rounds up, as Kubernetes does)."""
    if isinstance(max_surge, int):
        return max_surge
    return math.ceil(replicas * float(max_surge.rstrip("%")) / 100)


def check_memory(loaded: LoadedConfig, workers: int, memory: WorkerMemory | None) -> None:
    if memory is None:
        return
    config = loaded.config
    needed_mib = memory.at(workers)
    request_mib = quantity_bytes(config.resources.requests.memory) / MIB
    figure = f"{memory.formula(workers)} PSS measured at idle ({memory.source})"
    request_at = loaded.where(("resources", "requests", "memory"))
    if request_mib < needed_mib:
        raise ConfigError(
            f"{request_at}: resources.requests.memory {config.resources.requests.memory} is "
            f"below what env.API_WORKERS {workers} ({loaded.where(('env', 'API_WORKERS'))}) "
            f"uses: {figure}",
            hint="raise resources.requests.memory or lower env.API_WORKERS",
        )
    limit_mib = quantity_bytes(config.resources.limits.memory) / MIB
    if limit_mib < request_mib:
        raise ConfigError(
            f"{loaded.where(('resources', 'limits', 'memory'))}: resources.limits.memory "
            f"{config.resources.limits.memory} is below resources.requests.memory "
            f"{config.resources.requests.memory}"
        )
    scaling = config.autoscaling
    target = scaling.target_memory_utilization
    if scaling.enabled and target is not None and needed_mib >= request_mib * target / 100:
        raise ConfigError(
            f"{loaded.where(('autoscaling', 'target_memory_utilization'))}: "
            f"autoscaling.target_memory_utilization {target}% of resources.requests.memory "
            f"{config.resources.requests.memory} is {request_mib * target / 100:.0f} MiB, "
            f"at or below the idle use with env.API_WORKERS {workers}: {figure}; "
            "the autoscaler would add pods to an idle service",
            hint="raise resources.requests.memory or the target, or scale on CPU alone",
        )


def check_connections(loaded: LoadedConfig, workers: int, pool: int, overflow: int) -> None:
    """Every pod at its peak (max replicas + the rollout's surge) must fit PostgreSQL."""
    config = loaded.config
    limit = config.database.max_connections
    if limit is None:
        return
    scaling = config.autoscaling
    replicas = scaling.max_replicas if scaling.enabled else config.replicas
    pods = replicas + surge_pods(config.rollout.max_surge, replicas)
    per_worker = pool + overflow
    total = pods * workers * per_worker + config.database.reserved_connections
    if total > limit:
        replicas_key = "autoscaling.max_replicas" if scaling.enabled else "replicas"
        raise ConfigError(
            f"{loaded.where(('database', 'max_connections'))}: database.max_connections "
            f"{limit} is below {pods} pods ({replicas_key} {replicas} + rollout.max_surge) x "
            f"env.API_WORKERS {workers} x (env.DB_POOL_SIZE {pool} + env.DB_MAX_OVERFLOW "
            f"{overflow}) + database.reserved_connections "
            f"{config.database.reserved_connections} = {total}",
            hint="lower the pool or the replicas, or put a pooler (PgBouncer) in front",
        )
