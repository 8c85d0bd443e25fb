"""Swagger UI and ReDoc render the API's operations in headless Chromium with no network.

Chromium resolves no host name but the loopback server's address, so a page that still loaded
its scripts from a CDN would render nothing and fail here.
"""

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import ServerProcess, run_server
from tests.support.tools import chromium

pytestmark = pytest.mark.slow


def _rendered_dom(url: str, profile: Path) -> str:
    command = [
        chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        f"--user-data-dir={profile}",
        # No network: every host name fails to resolve except the loopback address.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        # Let the page's scripts run (virtual time) before the DOM is printed.
        "--virtual-time-budget=20000",
        "--dump-dom", url,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with run_server(tmp_path_factory.mktemp("docs"), env={"RATE_LIMIT_ENABLED": "false"}) as s:
        yield s


def _operations(server: ServerProcess) -> list[tuple[str, str]]:
    document = httpx.get(f"{server.base_url}/openapi.json", timeout=30).json()
    return [(path, op["summary"]) for path, ops in document["paths"].items() for op in ops.values()]


def test_swagger_ui_renders_every_operation_offline(server: ServerProcess, tmp_path: Path) -> None:
    dom = _rendered_dom(f"{server.base_url}/docs", tmp_path / "profile")
    rendered = set(re.findall(r'class="opblock-summary-path" data-path="([^"]+)"', dom))
    assert {path for path, _ in _operations(server)} <= rendered
    assert "Grade a trade now" in dom


def test_redoc_renders_every_operation_offline(server: ServerProcess, tmp_path: Path) -> None:
    dom = _rendered_dom(f"{server.base_url}/redoc", tmp_path / "profile")
    missing = [summary for _, summary in _operations(server) if summary not in dom]
    assert not missing


def test_landing_page_links_docs_health_and_metrics(server: ServerProcess) -> None:
    page = httpx.get(f"{server.base_url}/", timeout=30)
    assert page.status_code == 200
    for href in ("/docs", "/redoc", "/openapi.json", "/api/v1/health", "/metrics"):
        assert f'href="{href}"' in page.text
    assert "cdn" not in httpx.get(f"{server.base_url}/docs", timeout=30).text.lower()
