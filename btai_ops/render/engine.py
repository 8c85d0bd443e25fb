"""Render one environment: load the config, read the app's facts, build, check, return files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from btai_ops.errors import UsageProblem
from btai_ops.render import checks, container, kubernetes, monitoring
from btai_ops.render.appfacts import gather
from btai_ops.render.loader import load
from btai_ops.render.output import to_json, to_yaml

GROUPS = ("kubernetes", "docker", "compose", "monitoring")
GROUP_ALIASES = {"k8s": "kubernetes", "kubernetes": "kubernetes", "docker": "docker"}
GROUP_ALIASES |= {"compose": "compose", "monitoring": "monitoring"}


@dataclass(frozen=True)
class Rendered:
    environment: str
    kubernetes_version: str
    files: dict[str, str]  # path relative to the environment's directory -> text
    warnings: tuple[str, ...] = ()


def parse_only(only: str | None) -> tuple[str, ...]:
    """`k8s,docker` -> ("kubernetes", "docker"); all groups when omitted."""
    if not only:
        return GROUPS
    chosen = []
    for part in only.split(","):
        name = GROUP_ALIASES.get(part.strip().lower())
        if name is None:
            raise UsageProblem(
                f"--only {part.strip()!r} is not a group",
                hint="choose from k8s, docker, compose, monitoring",
            )
        chosen.append(name)
    return tuple(g for g in GROUPS if g in chosen)


def render(
    config_dir: Path,
    environment: str,
    sets: list[str] | None = None,
    groups: tuple[str, ...] = GROUPS,
) -> Rendered:
    """Every file of `environment`, checked; raises ConfigError or BtaiError, writes nothing."""
    loaded = load(config_dir, environment, sets)
    config = loaded.config
    facts = gather(loaded)
    checks.check_config(loaded, facts)
    version = checks.clamp_version(config.kubernetes_version)
    major, minor = (int(p) for p in version.split("."))
    objects = kubernetes.objects(loaded, facts, (major, minor))
    rules = monitoring.alert_rules(config, config.probes.readiness.path)
    board = monitoring.dashboard(config)
    warnings = checks.check_rendered(objects, monitoring.expressions(rules, board), facts, version)

    files: dict[str, str] = {}
    if "kubernetes" in groups:
        files.update({f"kubernetes/{name}": to_yaml(obj) for name, obj in objects.items()})
    container_files = container.files(config, facts)
    for group in ("docker", "compose"):
        if group in groups:
            files.update({f"{group}/{n}": text for n, text in container_files[group].items()})
    if "monitoring" in groups:
        files["monitoring/alerts.yaml"] = to_yaml(rules)
        files["monitoring/dashboard.json"] = to_json(board)
    return Rendered(environment, version, dict(sorted(files.items())), tuple(warnings))


def json_schema(kind: str = "base") -> str:
    """The JSON Schema of base.yaml (`base`) or of an environment overlay (`overlay`)."""
    from btai_ops.render.schema import RenderConfig, overlay_schema

    schema = RenderConfig.model_json_schema()
    return to_json(overlay_schema(schema) if kind == "overlay" else schema)
