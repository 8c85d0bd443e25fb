"""A server worker builds the app without pydantic.v1, which FastAPI imports only to refuse
v1 models: the app has none (a module of it importing pydantic.v1 would fail the build here),
and each worker is the smaller for it."""

from __future__ import annotations

import json
import subprocess
import sys


def test_a_worker_app_is_built_without_pydantic_v1() -> None:
    code = (
        "import sys, json\n"
        "from app.server.factory import create_worker_app\n"
        "app = create_worker_app()\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('pydantic.v1'))\n"
        "paths = sorted(r.path for r in app.routes if r.path.startswith('/api/v1/trades'))\n"
        "print(json.dumps({'loaded': loaded, 'blocked': sys.modules['pydantic.v1'] is None,"
        " 'trades': paths}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-P", "-c", code], capture_output=True, text=True, check=True
    )
    found = json.loads(done.stdout.splitlines()[-1])
    assert found["loaded"] == ["pydantic.v1"]
    assert found["blocked"] is True
    assert "/api/v1/trades/evaluate" in found["trades"]
