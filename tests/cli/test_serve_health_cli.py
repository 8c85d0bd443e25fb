"""`btai serve` and `btai health` inputs, exit codes and output, without a running service."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from btai_ops.cli import app
from btai_ops.errors import ConfigError
from btai_ops.health_view import build_view, failing_checks, render_view
from btai_ops.serve import environment_settings
from tests.support.server import BTAI
from tests.support.services import free_port
from tests.support.timing import scaled

runner = CliRunner()


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["serve", "--workers", "0"], "--workers"),
        (["serve", "--graceful-timeout", "-1"], "--graceful-timeout"),
        (["serve", "--server", "nosuch"], "--server"),
        (["health", "127.0.0.1:8000"], "URL"),
    ],
)
def test_bad_option_is_usage_error_naming_it(argv: list[str], option: str) -> None:
    result = runner.invoke(app, argv)
    assert result.exit_code == 2
    assert option in result.output


def test_url_without_scheme_hints_at_http() -> None:
    result = runner.invoke(app, ["health", "localhost:8000"])
    assert result.exit_code == 2
    assert "http://localhost:8000" in result.output


def test_health_of_closed_port_is_unreachable_exit_3_without_traceback() -> None:
    result = subprocess.run(
        [BTAI, "health", f"http://127.0.0.1:{free_port()}"], capture_output=True, text=True
    )
    assert result.returncode == 3
    assert "unreachable" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_wait_ready_times_out_with_exit_3() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = runner.invoke(app, ["health", url, "--wait-ready", "--timeout", "0.6", "--json"])
    assert result.exit_code == 3
    assert "not ready after 0.6s" in result.output


def test_unknown_environment_is_config_error(tmp_path: Path) -> None:
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "staging.yaml").write_text("env: {}\n")
    with pytest.raises(ConfigError, match="unknown environment 'nosuch'") as info:
        environment_settings("nosuch", (tmp_path,))
    assert "staging" in (info.value.hint or "")


def test_environment_settings_merge_base_then_environment(tmp_path: Path) -> None:
    (tmp_path / "environments").mkdir()
    (tmp_path / "base.yaml").write_text("env:\n  LOG_LEVEL: INFO\n  API_WORKERS: 1\n")
    (tmp_path / "environments" / "staging.yaml").write_text(
        "env:\n"
        "  API_WORKERS: 4\n"
        "  ENABLE_AUTH: true\n"
        "  ACCESS_TOKEN_MINUTES: {value: 15, secret: false}\n"
        "  CORS_ORIGINS: [https://a.example, https://b.example]\n"
    )
    values = environment_settings("staging", (tmp_path,))
    assert values == {
        "LOG_LEVEL": "INFO",
        "API_WORKERS": "4",
        "ENABLE_AUTH": "true",
        "ACCESS_TOKEN_MINUTES": "15",
        "CORS_ORIGINS": "https://a.example,https://b.example",
    }


def test_serve_env_unknown_is_exit_2_one_line() -> None:
    result = subprocess.run([BTAI, "serve", "--env", "nosuch"], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("Error: unknown environment 'nosuch'")
    assert len(result.stderr.strip().splitlines()) == 1


def answers(
    readiness: tuple[int, dict[str, Any] | None], report: tuple[int, Any]
) -> dict[str, Any]:
    def probe(code: int, body: Any) -> dict[str, Any]:
        return {"http_status": code, "latency_ms": 1.5, "body": body}

    return {
        "liveness": probe(200, {"status": "pass"}),
        "readiness": probe(*readiness),
        "report": probe(*report),
        "alerts": [],
    }


def check(status: str, output: str = "") -> list[dict[str, Any]]:
    return [{"status": status, "durationMs": 2.25, "output": output}]


def test_routes_that_answer_404_are_not_available_and_do_not_count() -> None:
    view = build_view("http://x", answers((404, None), (404, None)))
    assert view.status == "pass"
    assert view.ready is True
    assert [p.status for p in view.probes] == ["pass", "not available", "not available"]
    assert view.exit_code == 0


def test_unready_database_fails_and_names_the_check() -> None:
    checks = {
        "database:responseTime": check("fail", "connection refused"),
        "cache:responseTime": check("pass"),
    }
    body = {"status": "fail", "checks": checks}
    view = build_view("http://x", answers((503, body), (503, body)))
    assert view.status == "fail"
    assert view.exit_code == 2
    assert view.ready is False
    assert failing_checks(view) == ["failing check database:responseTime: connection refused"]


def test_degraded_cache_warns_but_stays_ready() -> None:
    body = {"status": "warn", "checks": {"cache:responseTime": check("warn", "memory fallback")}}
    view = build_view("http://x", answers((200, body), (200, body)))
    assert (view.status, view.exit_code, view.ready) == ("warn", 1, True)


def test_table_shows_check_status_latency_message_and_alerts() -> None:
    body = {"status": "warn", "checks": {"cache:responseTime": check("warn", "memory fallback")}}
    raw = answers((200, body), (200, body))
    raw["alerts"] = [
        {
            "severity": "warning",
            "check": "cache:responseTime",
            "state": "active",
            "message": "Redis down",
        }
    ]
    out = io.StringIO()
    render_view(build_view("http://x", raw), Console(file=out, width=120))
    text = out.getvalue()
    for expected in (
        "cache:responseTime",
        "warn",
        "2.2 ms",
        "memory fallback",
        "WARN",
        "Redis down",
        "alerts",
    ):
        assert expected in text


def test_wait_ready_judges_by_readiness_not_by_full_report_warnings() -> None:
    ready = {"status": "pass", "checks": {"database:responseTime": check("pass")}}
    busy = {"status": "warn", "checks": {"system:cpuUtilization": check("warn", "97%")}}
    raw = answers((200, ready), (200, busy))
    assert build_view("http://x", raw).exit_code == 1
    view = build_view("http://x", raw, scope="readiness")
    assert (view.status, view.exit_code) == ("pass", 0)
    assert [row.name for row in view.checks] == ["database:responseTime"]


@pytest.mark.parametrize("name", ["development", "staging", "production"])
def test_project_environments_give_valid_settings(name: str) -> None:
    from app.settings import Settings

    values = environment_settings(name)
    assert values["ENVIRONMENT"] == name
    secret = {"JWT_SECRET_KEY": "x" * 40}
    settings = Settings(_env_file=None, **{**values, **secret})  # type: ignore[call-arg, arg-type]
    assert settings.ENVIRONMENT.value == name


def test_watch_repeats_until_interrupted_and_exits_with_the_last_status(tmp_path: Path) -> None:
    import signal
    import time

    url = f"http://127.0.0.1:{free_port()}"
    out_path = tmp_path / "watch.out"
    with out_path.open("w") as out_file:
        watch = subprocess.Popen(
            [BTAI, "health", url, "--watch", "0.2", "--json"], stdout=out_file, text=True
        )
    # Interrupted once it has shown two views, however long a busy machine takes to start it.
    deadline = time.monotonic() + scaled(60)
    while out_path.read_text().count('"status": "unreachable"') < 2:
        assert watch.poll() is None, out_path.read_text()
        assert time.monotonic() < deadline, out_path.read_text()
        time.sleep(0.1)
    watch.send_signal(signal.SIGINT)
    watch.wait(timeout=scaled(10))
    assert watch.returncode == 3
    assert out_path.read_text().count('"status": "unreachable"') >= 2
