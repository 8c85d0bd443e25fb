"""The supervisor of several workers loads the HTTP server and the logging set-up, nothing of
the app: its memory is what the server needs, for as long as the server runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from app.server.options import HeadLimits, ServeOptions
from app.server.supervisor import options_of, plan

# What a supervisor that serves no request must never hold.
APP_LIBRARIES = frozenset(
    {"pydantic", "pydantic_settings", "fastapi", "sqlalchemy", "alembic", "redis"}
    | {"prometheus_client", "app.settings", "app.main"}
)


def modules_loaded_by(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running `code` (imported, not blocked)."""
    script = (
        f"import sys, json\n{code}"
        "print(json.dumps(sorted(n for n, m in sys.modules.items() if m is not None)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-P", "-c", script], capture_output=True, text=True, check=True
    )
    return set(json.loads(done.stdout))


def test_the_supervisor_modules_load_no_app_library() -> None:
    loaded = modules_loaded_by(
        "import app.server.supervisor, app.server.uvicorn_runner, app.server.granian_runner\n"
        "import app.logging_config\n"
    )
    assert "uvicorn" in loaded
    heavy = sorted(m for m in loaded if m.split(".")[0] in APP_LIBRARIES or m in APP_LIBRARIES)
    assert heavy == []


def test_the_plan_carries_every_option_to_the_supervisor() -> None:
    options = ServeOptions(
        host="127.0.0.1",
        port=8123,
        workers=3,
        graceful_timeout=7.5,
        limit_concurrency=50,
        backlog=64,
        trusted_proxies=["10.0.0.0/8"],
        log_level="warning",
        readable_logs=True,
        metrics_dir=Path("/tmp/metrics-here"),
        head_limits=HeadLimits(request_line=1000, header_bytes=2000, headers=30),
    )
    text = plan(options, server="granian", remove_metrics_dir=True)
    assert options_of(text) == (options, "granian", True)
    assert options_of(plan(ServeOptions("::1", 1), server="uvicorn", remove_metrics_dir=False)) == (
        ServeOptions("::1", 1),
        "uvicorn",
        False,
    )


def test_a_worker_child_does_not_load_the_file_watching_reloader() -> None:
    # multiprocessing runs the parent's main module as __mp_main__ in each spawned worker.
    loaded = modules_loaded_by(
        "import runpy\n"
        "import app.server.supervisor as parent\n"
        "runpy.run_path(parent.__file__, run_name='__mp_main__')\n"
        "import app.server.uvicorn_runner\n"
    )
    assert "uvicorn" in loaded
    assert not any(name.split(".")[0] == "watchfiles" for name in loaded)


def test_the_supervisor_itself_keeps_the_file_watching_reloader() -> None:
    code = "import app.server.supervisor, uvicorn.supervisors as s; print(s.ChangeReload.__name__)"
    done = subprocess.run(
        [sys.executable, "-P", "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "WatchFilesReload"
