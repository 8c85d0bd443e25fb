"""What the rendered files must agree with, read from the app itself at render time.

The config's environment variables are checked against `app.settings.Settings` (unknown names,
wrong types, secret-looking plain values); the port and graceful timeout come from the settings
the pods will run with; the routes come from `create_app`; the metric names from the registry
`app.monitoring.metrics` fills.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from btai_ops.errors import ConfigError
from btai_ops.render.capacity import MEASURED, WorkerMemory, read_measured
from btai_ops.render.image import check_python, image_extras, project_facts
from btai_ops.render.loader import LoadedConfig, packaged_config_dir, suggest

if TYPE_CHECKING:
    from app.settings import Settings

SECRET_WORDS = ("KEY", "SECRET", "TOKEN", "PASSWORD", "PASSWD", "CREDENTIAL")
# Stands in for a Secret's value only while checking types and building the app in-process.
PLACEHOLDER = "secret-reference-checked-at-render-time-" + "x" * 24
DATABASE_PLACEHOLDER = "postgresql+asyncpg://secret-reference@checked-at-render-time/btai"
DATABASE_URLS = ("DATABASE_URL", "DATABASE_READ_URL")


@dataclass(frozen=True)
class AppFacts:
    settings: Settings
    port: int
    graceful_timeout: float
    routes: frozenset[str]
    metric_samples: frozenset[str]
    runtime_samples: frozenset[str]
    image_extras: tuple[str, ...] = ()
    worker_memory: WorkerMemory | None = None

    @property
    def graceful_seconds(self) -> int:
        return math.ceil(self.graceful_timeout)


def looks_secret(name: str) -> bool:
    upper = name.upper()
    return any(word in upper for word in SECRET_WORDS)


def env_text(value: str | int | float | bool | list[str | int | float]) -> str:
    """A config value as the process will see it in its environment."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return str(value)


def check_environment(loaded: LoadedConfig) -> Settings:
    """Refuse secret values, unknown settings and wrong types; return the pods' Settings."""
    from app.settings import Settings

    config = loaded.config
    fields = Settings.model_fields
    for name, entry in config.env.items():
        secret_typed = name in fields and "SecretStr" in str(fields[name].annotation)
        _refuse_secret_value(loaded.where(("env", name)), name, entry.secret, secret_typed)
    _refuse_unknown_settings(loaded, list(fields))
    for name in config.env.keys() & config.secrets.keys():
        raise ConfigError(f"{loaded.where(('secrets', name))}: {name} is in both env and secrets")
    values = {name: env_text(entry.value) for name, entry in config.env.items()}
    # A database URL secret stands in as a URL: the settings check its scheme.
    values.update(
        {
            name: DATABASE_PLACEHOLDER if name in DATABASE_URLS else PLACEHOLDER
            for name in config.secrets
        }
    )
    _declared_settings(values, loaded)
    # The app is built (for its routes) without connection URLs: it parses them eagerly.
    for name in config.secrets:
        if name.endswith("_URL"):
            del values[name]
    return _declared_settings(values, loaded)


def _refuse_unknown_settings(loaded: LoadedConfig, fields: list[str]) -> None:
    for section in ("env", "secrets"):
        names: dict[str, Any] = getattr(loaded.config, section)
        for name in names:
            if name not in fields:
                raise ConfigError(
                    f"{loaded.where((section, name))}: {section}.{name}: unknown setting "
                    "(not a field of app.settings.Settings)",
                    hint=suggest(name, fields),
                )


def _refuse_secret_value(where: str, name: str, secret: bool | None, secret_typed: bool) -> None:
    """A secret never goes in `env:` as a value, whatever its `secret:` flag says."""
    if secret is True:
        raise ConfigError(
            f"{where}: env.{name}: secret values never go in config",
            hint=f"reference a Kubernetes Secret under secrets.{name}",
        )
    if secret_typed and secret is False:
        raise ConfigError(
            f"{where}: env.{name} is a secret setting (SecretStr in app.settings) and is "
            "never written as a plain value, `secret: false` or not",
            hint=f"reference a Kubernetes Secret under secrets.{name}",
        )
    if (looks_secret(name) or secret_typed) and secret is not False:
        raise ConfigError(
            f"{where}: env.{name} looks like a secret and is a plain value",
            hint=f"move it to secrets.{name} (a Secret reference), "
            f"or write {{value: ..., secret: false}} if it is not secret",
        )


def _declared_settings(values: dict[str, str], loaded: LoadedConfig) -> Settings:
    from pydantic import ValidationError
    from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

    from app.settings import Settings

    class Declared(Settings):
        """Settings from the config only: this machine's environment and `.env` are ignored."""

        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings,)

    try:
        return Declared.model_validate(values)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else ""
            message = str(err["msg"]).removeprefix("Value error, ")
            if name:
                section = "secrets" if name in loaded.config.secrets else "env"
                where = loaded.where((section, name))
                given = "" if section == "secrets" else f", got {values.get(name)!r}"
                problems.append(f"{where}: {section}.{name}: {message}{given}")
            else:
                # Model-level validators name the setting first (JWT_SECRET_KEY is ...).
                named = message.split(" ", 1)[0]
                section = "env" if named in loaded.config.env else "secrets"
                hint = (
                    f" (reference a Secret under secrets.{named})" if section == "secrets" else ""
                )
                problems.append(f"{loaded.where((section, named))}: {message}{hint}")
        raise ConfigError("; ".join(problems)) from None


def app_routes(settings: Settings) -> frozenset[str]:
    """Every HTTP path of the app built for `settings` (its lifespan is not run)."""
    import logging

    from fastapi.routing import iter_route_contexts

    from app.main import create_app

    # create_app configures logging for a server; a render keeps the CLI's logging as it was.
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        application = create_app(settings)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    # Included routers are resolved lazily; their contexts carry the full paths.
    return frozenset(
        path for context in iter_route_contexts(application.routes) if (path := context.path)
    )


def exported_samples() -> frozenset[str]:
    """Sample names the app's registry produces (`x_total`, `x_bucket`, ...), by family type."""
    from prometheus_client import REGISTRY

    import app.monitoring.metrics  # noqa: F401  (registers every metric)

    return _sample_names(REGISTRY.collect())


def runtime_samples() -> frozenset[str]:
    """Samples of prometheus-client's process/platform/gc collectors that a single-process
    exposition has and the multiprocess one (several workers) does not: it serves only the
    server-wide CPU seconds and resident memory in their place."""
    from prometheus_client import GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR

    from app.monitoring.server_process import ServerProcessCollector

    runtime = _sample_names(
        family
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR)
        for family in collector.collect()
    )
    return runtime - _sample_names(ServerProcessCollector("").describe())


def _sample_names(families: Iterable[Any]) -> frozenset[str]:
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_sum", "_count", "_created"),
        "summary": ("", "_sum", "_count", "_created"),
        "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
        "info": ("_info",),
        "stateset": ("",),
    }
    names = set()
    for family in families:
        for suffix in suffixes.get(family.type, ("",)):
            names.add(family.name + suffix)
        names.update(sample.name for sample in family.samples)
    return frozenset(names)


def measured_memory(loaded: LoadedConfig) -> WorkerMemory | None:
    """The per-worker figure kept beside the configs (or shipped with btai)."""
    for folder in (loaded.config_dir, packaged_config_dir()):
        if (found := read_measured(folder / MEASURED)) is not None:
            return found
    return None


def gather(loaded: LoadedConfig) -> AppFacts:
    settings = check_environment(loaded)
    project = project_facts()
    check_python(loaded, project)
    return AppFacts(
        settings=settings,
        port=settings.API_PORT,
        graceful_timeout=settings.GRACEFUL_TIMEOUT,
        routes=app_routes(settings),
        metric_samples=exported_samples(),
        runtime_samples=runtime_samples(),
        image_extras=tuple(image_extras(loaded, settings.SERVER, project)),
        worker_memory=measured_memory(loaded),
    )
