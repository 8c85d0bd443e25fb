"""Docker and Compose files: a multi-stage Dockerfile, `.dockerignore`, `docker-compose.yml`
and `.env.example` (every setting with its default, read from `app.settings.Settings`)."""

from __future__ import annotations

from typing import Any

from btai_ops.render.appfacts import AppFacts, env_text
from btai_ops.render.kubernetes import grace_period
from btai_ops.render.output import to_yaml
from btai_ops.render.schema import RenderConfig

DOCKERIGNORE = """\
.git
.github
.venv
.mypy_cache
.pytest_cache
.ruff_cache
**/__pycache__
**/*.pyc
.env
.env.*
secrets/
var/
deploy/
tests/
benchmarks/
configs/
*.db
*.log
"""

# Docker has no HTTP client in a slim image; the standard library is enough.
PROBE_SCRIPT = (
    "import sys, urllib.request; "
    "sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:{port}{path}', timeout=3).status"
    " == 200 else 1)"
)

# Compose mounts each secret as /run/secrets/<SETTING_NAME>; export them, then serve.
SECRETS_TO_ENV = (
    'for f in /run/secrets/*; do [ -f "$$f" ] && export "$${f##*/}=$$(cat "$$f")"; done; '
    "exec btai serve"
)
SERVE = ("btai", "serve")


def dockerfile(config: RenderConfig, facts: AppFacts) -> str:
    sec = config.security
    extras = f"[{','.join(facts.image_extras)}]" if facts.image_extras else ""
    probe = PROBE_SCRIPT.format(port=facts.port, path=config.probes.liveness.path)
    healthcheck = ", ".join(f'"{part}"' for part in ("python", "-c", probe))
    return f"""\
# syntax=docker/dockerfile:1
# Rendered by `btai render`; edit configs/, not this file.
ARG PYTHON_VERSION={config.docker.python_version}

FROM python:${{PYTHON_VERSION}}-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY app ./app
COPY btai_ops ./btai_ops
RUN pip wheel --wheel-dir /wheels --constraint constraints.txt ".{extras}"

FROM python:${{PYTHON_VERSION}}-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1 \\
    PIP_NO_CACHE_DIR=1 \\
    PIP_DISABLE_PIP_VERSION_CHECK=1 \\
    API_HOST=0.0.0.0 \\
    API_PORT={facts.port}
RUN groupadd --system --gid {sec.run_as_group} btai \\
 && useradd --system --uid {sec.run_as_user} --gid {sec.run_as_group} --no-create-home \\
      --home-dir /nonexistent --shell /usr/sbin/nologin btai
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \\
    pip install --no-index --find-links=/wheels "btai{extras}"
WORKDIR /app
RUN mkdir -p /app/var && chown {sec.run_as_user}:{sec.run_as_group} /app/var
USER {sec.run_as_user}:{sec.run_as_group}
EXPOSE {facts.port}
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \\
  CMD [{healthcheck}]
CMD ["btai", "serve"]
"""


def compose_secret_name(setting: str) -> str:
    return setting.lower()


DEVELOPMENT_PASSWORD = "btai-development"  # noqa: S105  (a throw-away local database)
HEADER = "# Rendered by `btai render`; edit configs/, not this file.\n"
PLAIN_HTTP_NOTE = """\
# HTTPS: nothing in this stack terminates TLS, so ENFORCE_HTTPS is off (production would
# otherwise redirect every request to an HTTPS port nobody serves) and the api is published
# on 127.0.0.1 only. Put a TLS proxy on the stack's network (TRUSTED_PROXIES is that network)
# or set compose.tls_proxy_image to render one, then drop ENFORCE_HTTPS=false.
"""
TLS_PROXY_NOTE = """\
# HTTPS: the proxy service terminates TLS and is the only published port; the api trusts
# X-Forwarded-For/-Proto from the proxy's address alone (TRUSTED_PROXIES).
"""


def _api_address(spec_subnet: str, host: int) -> str:
    import ipaddress

    return str(ipaddress.ip_network(spec_subnet, strict=False)[host])


def compose(config: RenderConfig, facts: AppFacts) -> str:
    """The stack: api, PostgreSQL and Redis (and a TLS proxy when configured).

    Development runs with no hand-made file: its database password and URLs are written out
    (a throw-away local stack). Other environments read every secret from ./secrets/<name>."""
    spec = config.compose
    development = facts.settings.is_development
    proxy_address = _api_address(spec.subnet, 10)
    behind_proxy = bool(spec.tls_proxy_image) and not development
    environment, note = _api_environment(config, development, proxy_address, behind_proxy)
    secret_names = [] if development else sorted(config.secrets)
    secrets: dict[str, Any] = {
        compose_secret_name(name): {"file": f"./secrets/{compose_secret_name(name)}"}
        for name in secret_names
    }
    api = _api_service(config, facts, environment, secret_names)
    services: dict[str, Any] = {"api": api}
    if behind_proxy:
        services["proxy"] = _tls_proxy(config, facts, proxy_address)
    else:
        api["ports"] = [f"127.0.0.1:{spec.published_port}:{facts.port}"]
    services["postgres"] = _postgres_service(config, development, secrets)
    services["redis"] = _redis_service(config)
    document: dict[str, Any] = {
        "name": config.namespace,
        "services": services,
        "networks": {"default": {"ipam": {"config": [{"subnet": spec.subnet}]}}},
        "volumes": {"pgdata": {}, **({"proxy_data": {}} if behind_proxy else {})},
    }
    if secrets:
        document["secrets"] = secrets
    return HEADER + note + to_yaml(document)


def _api_environment(
    config: RenderConfig, development: bool, proxy_address: str, behind_proxy: bool
) -> tuple[dict[str, str], str]:
    """The api's environment, and the note on how it is reached (TLS proxy or plain HTTP)."""
    spec = config.compose
    environment = {name: env_text(entry.value) for name, entry in config.env.items()}
    environment["API_HOST"] = "0.0.0.0"
    if behind_proxy:
        environment["TRUSTED_PROXIES"] = proxy_address
        note = TLS_PROXY_NOTE
    else:
        environment["TRUSTED_PROXIES"] = spec.subnet
        note = "" if development else PLAIN_HTTP_NOTE
        if not development:
            environment["ENFORCE_HTTPS"] = "false"
    if development:
        environment["DATABASE_URL"] = (
            f"postgresql+asyncpg://{spec.postgres_user}:{DEVELOPMENT_PASSWORD}@"
            f"postgres:5432/{spec.postgres_db}"
        )
        environment["REDIS_URL"] = "redis://redis:6379/0"
    return environment, note


def _api_service(
    config: RenderConfig, facts: AppFacts, environment: dict[str, str], secret_names: list[str]
) -> dict[str, Any]:
    probe = PROBE_SCRIPT.format(port=facts.port, path=config.probes.readiness.path)
    api: dict[str, Any] = {
        "image": config.image.reference,
        "command": ["sh", "-c", SECRETS_TO_ENV] if secret_names else list(SERVE),
        "environment": dict(sorted(environment.items())),
        "env_file": [{"path": ".env", "required": False}],
        "depends_on": {
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        },
        "healthcheck": {
            "test": ["CMD", "python", "-c", probe],
            "interval": "10s",
            "timeout": "5s",
            "retries": 3,
            "start_period": "30s",
        },
        "stop_grace_period": f"{grace_period(config, facts)}s",
        "read_only": True,
        "tmpfs": ["/tmp"],  # noqa: S108  (the container's own writable /tmp)
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
        "restart": "unless-stopped",
    }
    if secret_names:
        api["secrets"] = [
            {"source": compose_secret_name(name), "target": name} for name in secret_names
        ]
    return api


def _postgres_service(
    config: RenderConfig, development: bool, secrets: dict[str, Any]
) -> dict[str, Any]:
    """PostgreSQL with a health check; outside development its password is a secret file,
    added to `secrets`."""
    spec = config.compose
    postgres_env = {"POSTGRES_DB": spec.postgres_db, "POSTGRES_USER": spec.postgres_user}
    postgres: dict[str, Any] = {
        "image": spec.postgres_image,
        "environment": postgres_env,
        "volumes": ["pgdata:/var/lib/postgresql/data"],
        "healthcheck": {
            "test": ["CMD", "pg_isready", "-U", spec.postgres_user, "-d", spec.postgres_db],
            "interval": "5s",
            "timeout": "3s",
            "retries": 10,
        },
        "stop_grace_period": "30s",
        "restart": "unless-stopped",
    }
    if development:
        postgres_env["POSTGRES_PASSWORD"] = DEVELOPMENT_PASSWORD
    else:
        postgres_env["POSTGRES_PASSWORD_FILE"] = "/run/secrets/postgres_password"  # noqa: S105
        postgres["secrets"] = ["postgres_password"]
        secrets["postgres_password"] = {"file": "./secrets/postgres_password"}
    return postgres


def _redis_service(config: RenderConfig) -> dict[str, Any]:
    return {
        "image": config.compose.redis_image,
        "command": ["redis-server", "--save", "", "--appendonly", "no"],
        "healthcheck": {
            "test": ["CMD", "redis-cli", "ping"],
            "interval": "5s",
            "timeout": "3s",
            "retries": 10,
        },
        "restart": "unless-stopped",
    }


def _tls_proxy(config: RenderConfig, facts: AppFacts, address: str) -> dict[str, Any]:
    """Caddy terminating TLS for compose.tls_host and passing requests to the api."""
    spec = config.compose
    return {
        "image": spec.tls_proxy_image,
        "command": ["caddy", "reverse-proxy", "--from", spec.tls_host, "--to", f"api:{facts.port}"],
        "ports": ["443:443", "80:80"],
        "networks": {"default": {"ipv4_address": address}},
        "volumes": ["proxy_data:/data"],
        "depends_on": {"api": {"condition": "service_healthy"}},
        "cap_drop": ["ALL"],
        "cap_add": ["NET_BIND_SERVICE"],
        "security_opt": ["no-new-privileges:true"],
        "restart": "unless-stopped",
    }


def _default_text(value: Any) -> str | None:
    """A default as an environment value; None when it is unset."""
    if value is None:
        return None
    if hasattr(value, "value"):  # enums
        value = value.value
    return env_text(value)


def env_example(config: RenderConfig) -> str:
    """Every setting with its description and default; secrets are named, never filled in."""
    from pydantic import SecretStr

    from app.settings import Settings

    lines = [
        "# Every setting of the service with its default (from app/settings.py).",
        "# Copy to .env and change what you need; the environment wins over .env.",
        "# Secrets never go here: Compose reads them from ./secrets/<name> "
        f"({', '.join(sorted(compose_secret_name(n) for n in config.secrets)) or 'none'}).",
        "",
    ]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        lines.append(f"# {field.description or name}")
        if isinstance(default, SecretStr) or "SecretStr" in str(field.annotation):
            lines.append(f"# {name}=  (secret: ./secrets/{compose_secret_name(name)})")
        elif (text := _default_text(default)) is None:
            lines.append(f"# {name}=  (unset by default)")
        else:
            lines.append(f"{name}={text}")
    return "\n".join(lines) + "\n"


def files(config: RenderConfig, facts: AppFacts) -> dict[str, dict[str, str]]:
    return {
        "docker": {"Dockerfile": dockerfile(config, facts), ".dockerignore": DOCKERIGNORE},
        "compose": {
            "docker-compose.yml": compose(config, facts),
            ".env.example": env_example(config),
        },
    }
