"""A server worker, once its app is built, holds the modules every request needs and none of
those only some requests (or no request) need: each of these is loaded on first use, if ever,
so an idle worker does not carry it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# Loaded on first use only: password hashing and strength, migrations, the AI provider's and
# the webhooks' HTTP client, OpenTelemetry's SDK (only with an OTLP endpoint), WebSockets
# (no route uses them), and pydantic.v1 (no model is one).
FIRST_USE_ONLY = frozenset(
    {"argon2", "zxcvbn", "alembic", "httpx", "jinja2", "websockets", "pydantic.v1"}
    | {"opentelemetry.sdk", "opentelemetry.exporter"}
)


def test_a_built_worker_loads_no_module_it_needs_only_on_first_use(tmp_path: Path) -> None:
    code = (
        "import sys, json\n"
        "from app.server.options import ServeOptions\n"
        "from app.server.uvicorn_runner import uvicorn_config\n"
        "config = uvicorn_config(ServeOptions('127.0.0.1', 0, log_level='warning'))\n"
        "config.load()  # imports and builds the app, as a uvicorn worker does\n"
        "assert config.loaded_app is not None\n"
        "print(json.dumps(sorted(n for n, m in sys.modules.items() if m is not None)))\n"
    )
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"}
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    done = subprocess.run(
        [sys.executable, "-P", "-c", code], capture_output=True, text=True, check=True, env=env
    )
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    assert "app.main" in loaded
    early = sorted(
        name
        for name in loaded
        if any(name == lazy or name.startswith(lazy + ".") for lazy in FIRST_USE_ONLY)
    )
    assert early == []
