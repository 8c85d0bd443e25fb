"""`btai health [URL]`: liveness, readiness and the full health report, for people and for CI.

Exit codes: 0 pass, 1 warn, 2 fail, 3 unreachable or timed out.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from btai_ops.errors import EXIT_INTERRUPTED, ServiceUnreachable
from btai_ops.health_view import (
    EXIT_CODES,
    HealthView,
    build_view,
    failing_checks,
    render_view,
)
from btai_ops.output import print_json, stderr, stdout

if TYPE_CHECKING:
    import httpx

PROBES = {
    "liveness": "/api/v1/health/liveness",
    "readiness": "/api/v1/health/readiness",
    "report": "/api/v1/health",
}


def _check_url(value: str | None) -> str | None:
    if value is None:
        return None
    if not value.startswith(("http://", "https://")):
        raise typer.BadParameter(
            f"{value!r} has no scheme (did you mean http://{value}?)", param_hint="URL"
        )
    return value.rstrip("/")


def default_url() -> str:
    """The local server from the settings (a wildcard bind address is reached on loopback)."""
    from btai_ops.settings_loader import load_settings

    settings = load_settings()
    host = settings.API_HOST
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.API_PORT}"


def fetch(client: httpx.Client, url: str) -> dict[str, Any]:
    """GET every probe once: its HTTP status, body and round-trip latency."""
    probes: dict[str, Any] = {}
    for name, path in PROBES.items():
        start = time.perf_counter_ns()
        response = client.get(url + path, headers={"Accept": "application/health+json"})
        latency_ms = round((time.perf_counter_ns() - start) / 1e6, 3)
        try:
            body = response.json()
        except ValueError:
            body = None
        probes[name] = {
            "http_status": response.status_code,
            "latency_ms": latency_ms,
            "body": body if isinstance(body, dict) else None,
        }
    alerts = probes["report"]["body"].get("alerts") if probes["report"]["body"] else None
    if alerts is None:
        response = client.get(url + "/api/v1/health/alerts", params={"state": "active"})
        if response.status_code == 200:
            data = response.json()
            alerts = data.get("alerts", data) if isinstance(data, dict) else data
    probes["alerts"] = alerts if isinstance(alerts, list) else []
    return probes


def probe(url: str, timeout: float, scope: str = "full") -> HealthView:
    """One round of probes against the server at `url`; unreachable raises ServiceUnreachable."""
    import httpx

    try:
        with httpx.Client(timeout=timeout) as client:
            return build_view(url, fetch(client, url), scope=scope)
    except httpx.TimeoutException:
        raise ServiceUnreachable(
            f"{url} timed out after {timeout:g}s", hint="is the service overloaded?"
        ) from None
    except httpx.HTTPError as exc:
        raise ServiceUnreachable(
            f"{url} is unreachable ({type(exc).__name__}: {exc})", hint="is `btai serve` running?"
        ) from None


def local_probe() -> HealthView:
    """The same probes answered in-process, against the configured database and Redis."""
    from btai_ops.health_local import local_probes
    from btai_ops.settings_loader import load_settings

    return build_view("local", local_probes(load_settings()))


def wait_ready(url: str, timeout: float, request_timeout: float, quiet: bool) -> HealthView:
    """Poll until readiness answers 2xx, or raise ServiceUnreachable after `timeout` seconds.

    The view returned is judged by readiness, the thing waited for.
    """
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    status_line = None if quiet else stderr.status(f"waiting for {url} to be ready")
    if status_line is not None:
        status_line.start()
    try:
        while True:
            remaining = deadline - time.monotonic()
            try:
                view = probe(url, min(request_timeout, max(remaining, 0.1)), "readiness")
                if view.ready:
                    return view
                last = f"not ready: {view.status}"
            except ServiceUnreachable as exc:
                last = exc.message
            if time.monotonic() + 0.25 >= deadline:
                raise ServiceUnreachable(f"{url} not ready after {timeout:g}s ({last})")
            time.sleep(0.25)
    finally:
        if status_line is not None:
            status_line.stop()


def _show(view: HealthView, as_json: bool) -> None:
    if as_json:
        print_json(view.as_dict())
        return
    render_view(view, stdout)
    for line in failing_checks(view):
        stderr.print(line, markup=False)


def health(
    url: Annotated[
        str | None,
        typer.Argument(
            callback=_check_url,
            help="Base URL of the service (default: http://API_HOST:API_PORT).",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON to stdout.")] = False,
    watch: Annotated[
        float | None,
        typer.Option(min=0.2, help="Refresh every SECONDS until interrupted (a live view)."),
    ] = None,
    wait_ready_: Annotated[
        bool,
        typer.Option(
            "--wait-ready",
            help="Wait until the service is ready (up to --timeout); judge by readiness.",
        ),
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(min=0.1, help="Seconds to wait: per request, or in total with --wait-ready."),
    ] = 5.0,
    local: Annotated[
        bool,
        typer.Option(
            "--local",
            help="Run the checks in-process against the configured database and "
            "Redis, without a server.",
        ),
    ] = False,
) -> None:
    """Check the service's liveness, readiness and full health report.

    Exit codes: 0 pass, 1 warn, 2 fail, 3 unreachable or timed out, 130 Ctrl-C.
    """
    if local and (url or wait_ready_):
        raise typer.BadParameter("--local runs without a server", param_hint="--local")
    target = "local" if local else (url or default_url())
    request_timeout = min(timeout, 5.0)

    def once() -> HealthView:
        return local_probe() if local else probe(target, timeout)

    if watch is not None:
        code = _watch(once, watch, as_json)
        raise typer.Exit(code)
    view = wait_ready(target, timeout, request_timeout, as_json) if wait_ready_ else once()
    _show(view, as_json)
    raise typer.Exit(EXIT_CODES[view.status])


def _watch(once: Any, interval: float, as_json: bool) -> int:
    """Refresh until Ctrl-C, which ends the watch quietly with exit code 130."""
    from rich.live import Live

    from btai_ops.health_view import view_renderable

    try:
        if as_json or not stdout.is_terminal:  # a pipe gets every view, not a redrawn one
            while True:
                view = _try(once)
                if as_json:
                    print_json(view.as_dict() if view else {"status": "unreachable"})
                else:
                    stdout.print(view_renderable(view) if view else "unreachable")
                time.sleep(interval)
        with Live(console=stdout, auto_refresh=False) as live:
            while True:
                view = _try(once)
                live.update(view_renderable(view) if view else "unreachable", refresh=True)
                time.sleep(interval)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def _try(once: Any) -> HealthView | None:
    try:
        view: HealthView = once()
    except ServiceUnreachable:
        return None
    return view
