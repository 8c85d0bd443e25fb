"""`btai serve` and `btai health` inputs, exit codes and output, without a running service."""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from app.settings import Settings
from btai_ops.cli import app
from btai_ops.errors import ConfigError
from btai_ops.health_view import build_view, failing_checks, render_view
from btai_ops.serve import environment_settings
from tests.support.loadtest import stall_server
from tests.support.server import BTAI
from tests.support.services import free_port
from tests.support.terminal import terminal

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
        environment_settings("nosuch", tmp_path)
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
    values = environment_settings("staging", tmp_path)
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
def test_project_environments_give_valid_settings(
    name: str, make_settings: Callable[..., Settings]
) -> None:
    values = environment_settings(name)
    assert values["ENVIRONMENT"] == name
    secret = {"JWT_SECRET_KEY": "x" * 40}
    settings = make_settings(**{**values, **secret})
    assert settings.ENVIRONMENT.value == name


def test_piped_watch_prints_every_view_and_ctrl_c_exits_130_quietly() -> None:
    import signal

    url = f"http://127.0.0.1:{free_port()}"
    watch = subprocess.Popen(
        [BTAI, "health", url, "--watch", "0.2", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert watch.stdout is not None
    seen = 0
    for line in watch.stdout:  # each view ends with its closing brace
        seen += line.startswith('  "status": "unreachable"')
        if seen == 2:
            break
    watch.send_signal(signal.SIGINT)
    _, err = watch.communicate(timeout=30)
    assert watch.returncode == 130
    assert err == ""


def test_watch_on_a_terminal_redraws_in_place_and_ctrl_c_exits_130(tmp_path: Path) -> None:
    with (
        stall_server(tmp_path) as server,
        terminal("btai", "health", server.base_url, "--watch", "1") as term,
    ):
        term.wait_for(lambda t: t.output.count(server.base_url) >= 3)
        screen = term.text()
        term.interrupt()
        code = term.finish()
    assert code == 130
    assert screen.count(server.base_url) == 1  # redrawn over itself, not scrolled
    assert "PASS  (ready)" in screen
    assert "readiness: pass (HTTP 200" in screen
    assert max(len(line) for line in screen.splitlines()) <= 80
    assert "Error" not in term.text()
    assert "Traceback" not in term.output


def test_watch_under_no_color_draws_no_colour(tmp_path: Path) -> None:
    with (
        stall_server(tmp_path) as server,
        terminal("btai", "health", server.base_url, "--watch", "1", env={"NO_COLOR": "1"}) as term,
    ):
        term.wait_for(lambda t: t.output.count(server.base_url) >= 2)
        term.interrupt()
        assert term.finish() == 130
    assert "PASS" in term.text()
    colours = re.findall(r"\x1b\[[0-9;]*m", term.output)
    assert not [c for c in colours if re.search(r"[;\[](3[0-8]|9[0-7])[;m]", c)]


def test_wait_ready_on_a_terminal_shows_the_wait_and_then_the_ready_view(
    tmp_path: Path,
) -> None:
    with (
        stall_server(tmp_path) as server,
        terminal("btai", "health", server.base_url, "--wait-ready", "--timeout", "30") as term,
    ):
        code = term.finish()
    assert code == 0, term.text()
    assert "PASS  (ready)" in term.text()


def test_wait_ready_on_a_terminal_ctrl_c_exits_130_quietly() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with terminal("btai", "health", url, "--wait-ready", "--timeout", "120") as term:
        term.wait_for_text(f"waiting for {url} to be ready")
        term.interrupt()
        code = term.finish()
    assert code == 130
    assert "Traceback" not in term.output
    assert "Error" not in term.text()


def test_serve_on_a_terminal_shows_its_banner_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/btai.db",
        "API_HOST": "127.0.0.1",
        "API_PORT": str(port),
    }
    with terminal("btai", "serve", env=env, cwd=tmp_path) as term:
        term.wait_for_text(f"btai serving on http://127.0.0.1:{port}", timeout=120)
        url = f"http://127.0.0.1:{port}/api/v1/health/liveness"
        term.wait_for(lambda _: _answers(url), timeout=120)
        term.interrupt()
        code = term.finish()
    assert code == 0, term.text()
    assert "Traceback" not in term.output
    assert not _answers(url)


def _answers(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_an_unexpected_exception_is_one_error_line_with_exit_4(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from btai_ops import health as health_module

    def broken(*_: object, **__: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(health_module, "probe", broken)
    result = runner.invoke(app, ["health", "http://127.0.0.1:1"])
    assert result.exit_code == 4
    lines = result.output.strip().splitlines()
    assert lines == [
        "Error: internal error ZeroDivisionError: division by zero (a bug in btai; run "
        "with --debug for the traceback)"
    ]
    debug = runner.invoke(app, ["--debug", "health", "http://127.0.0.1:1"])
    assert debug.exit_code == 4
    assert "Traceback" in debug.output
    assert 'raise ZeroDivisionError("division by zero")' in debug.output
