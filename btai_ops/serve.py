"""`btai serve`: run the API under uvicorn or granian with several workers.

Before any worker starts it settles what they share: the settings (environment, an optional
`configs/` environment, flags on top), the Prometheus multiprocess directory, and the
database (migrated and seeded unless `--no-migrate`). Workers rebuild the same Settings from
the environment this command prepares.
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from btai_ops.errors import (
    BtaiError,
    ConfigError,
    InternalError,
    ServiceUnreachable,
    UsageProblem,
)
from btai_ops.output import stderr
from btai_ops.processes import listens_on
from btai_ops.settings_loader import load_settings

if TYPE_CHECKING:
    from app.settings import Settings


class ServerName(StrEnum):
    uvicorn = "uvicorn"
    granian = "granian"


def environment_settings(name: str, config_dir: Path | None = None) -> dict[str, str]:
    """The settings `btai render --env NAME` writes into the ConfigMap: the same loader and
    merge rule (maps merge, lists replace, `null` deletes), so both agree on every setting."""
    from btai_ops.render.appfacts import env_text
    from btai_ops.render.loader import find_config_dir, load_env

    env = load_env(find_config_dir(config_dir), name)
    return {setting.upper(): env_text(entry.value) for setting, entry in env.items()}


def ensure_port_free(host: str, port: int) -> None:
    """Bind once, as the server will, so a taken port is one clear line, not a traceback."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                owner = port_owner(port)
                raise UsageProblem(
                    f"port {port} on {host} is already in use" + (f" by {owner}" if owner else ""),
                    hint="stop that process or choose another --port",
                ) from None
            raise UsageProblem(f"cannot bind {host}:{port}: {exc.strerror}") from None


def port_owner(port: int) -> str | None:
    """`name (pid N)` of the process listening on `port`, when psutil may see it.

    Workers of a multi-process server hold the supervisor's socket too, and the system names
    only one of them; the supervisor (the topmost process holding it) is named instead, since
    stopping it stops them all.
    """
    import psutil

    pid = _listener_pid(port)
    if pid is None:
        return None
    try:
        holder = psutil.Process(pid)
        while (parent := holder.parent()) is not None and listens_on(parent, port):
            holder = parent
        workers = sum(1 for child in holder.children() if listens_on(child, port))
        role = f", supervising {workers} worker{'s' if workers != 1 else ''}" if workers else ""
        return f"{holder.name()} (pid {holder.pid}{role})"
    except psutil.Error:
        return f"pid {pid}"


def _listener_pid(port: int) -> int | None:
    """The pid the system names for the socket listening on `port`, if it may say."""
    import psutil

    try:
        connections = psutil.net_connections(kind="inet")
    except (psutil.AccessDenied, OSError):
        return None
    return next(
        (
            conn.pid
            for conn in connections
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port
        ),
        None,
    )


_ERRORS: dict[str, type[BtaiError]] = {
    kind.__name__: kind
    for kind in (BtaiError, ServiceUnreachable, ConfigError, UsageProblem, InternalError)
}


def prepare_database_in_child() -> None:
    """`prepare_shared_database` in a short-lived child process.

    Migrating and seeding load SQLAlchemy, alembic and the embedded dataset: tens of
    megabytes that a supervisor, which serves no request, would otherwise hold for its whole
    life. The child builds the same settings from the environment this command prepared and
    reports a failure as the error it raised.
    """
    import json
    import subprocess
    import sys

    code = "from btai_ops.serve import _prepare_and_report; _prepare_and_report()"
    done = subprocess.run(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, check=False
    )
    if done.returncode == 0:
        return
    try:
        report = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise BtaiError(
            f"preparing the database failed (exit {done.returncode})", hint="see `btai db`"
        ) from None
    error = _ERRORS.get(report["kind"], BtaiError)
    raise error(report["message"], hint=report["hint"])


def _prepare_and_report() -> None:
    """The child's side of `prepare_database_in_child`: the error goes back as one JSON line."""
    import json
    import sys

    try:
        prepare_shared_database(load_settings())
    except BtaiError as exc:
        report = {"kind": type(exc).__name__, "message": exc.message, "hint": exc.hint}
        sys.stdout.write(json.dumps(report) + "\n")
        sys.exit(1)


def prepare_shared_database(settings: Settings) -> None:
    """Migrate and seed before workers start, so they never race each other to do it."""
    from app.db.seed import prepare_database
    from app.settings import mask_url

    url = mask_url(settings.database_url)
    try:
        import asyncio

        asyncio.run(prepare_database(settings))
    except (OSError, TimeoutError) as exc:
        detail = str(exc) if url in str(exc) else f"database {url} is unreachable: {exc}"
        raise ServiceUnreachable(detail, hint="or start with --no-migrate") from None
    except Exception as exc:
        raise BtaiError(f"preparing database {url} failed: {exc}", hint="see `btai db`") from None


def describe(settings: Settings, server: str, workers: int) -> list[str]:
    """Where the service listens and which database, cache and queue it uses, passwords masked."""
    from app.settings import mask_url

    database = mask_url(settings.database_url)
    cache = mask_url(settings.redis_url) if settings.redis_url else "in-process memory"
    return [
        f"btai serving on http://{settings.API_HOST}:{settings.API_PORT} "
        f"({server}, {workers} worker{'s' if workers != 1 else ''}, "
        f"{settings.ENVIRONMENT.value}, pid {os.getpid()})",
        f"  database: {database}",
        f"  cache:    {cache}",
        f"  queue:    {database} (database-backed)",
    ]


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default: API_HOST).")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="TCP port (default: API_PORT).")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="Worker processes (default: API_WORKERS)."),
    ] = None,
    server: Annotated[
        ServerName | None,
        typer.Option(help="HTTP server (default: SERVER); granian needs the `granian` extra."),
    ] = None,
    env: Annotated[
        str | None,
        typer.Option(
            "--env",
            help="Take settings from configs/environments/NAME.yaml over base.yaml (their "
            "`env:` maps, merged as `btai render` merges them); variables already in the "
            "environment and these flags win.",
        ),
    ] = None,
    config_dir: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="Where --env finds base.yaml and environments/ (default: as `btai render`).",
        ),
    ] = None,
    reload: Annotated[
        bool, typer.Option(help="Restart on code changes (development only, one process).")
    ] = False,
    graceful_timeout: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="Seconds in-flight requests and queue tasks get after SIGTERM/SIGINT "
            "(default: GRACEFUL_TIMEOUT).",
        ),
    ] = None,
    migrate: Annotated[
        bool, typer.Option(help="Apply migrations and seed the data before workers start.")
    ] = True,
    limit_concurrency: Annotated[
        int | None,
        typer.Option(min=1, help="Connections per worker before 503 (default: LIMIT_CONCURRENCY)."),
    ] = None,
    backlog: Annotated[
        int | None, typer.Option(min=1, help="Listen backlog (default: BACKLOG).")
    ] = None,
) -> None:
    """Serve the Baseball Trade AI API.

    SIGTERM or SIGINT: stop accepting, finish in-flight requests and queue tasks, exit 0.
    A worker that dies is replaced. A port already in use exits 2.
    """
    if env is not None:
        for name, value in environment_settings(env, config_dir).items():
            os.environ.setdefault(name, value)
    _export_overrides(
        {
            "API_HOST": host,
            "API_PORT": port,
            "API_WORKERS": workers,
            "SERVER": server.value if server else None,
            "GRACEFUL_TIMEOUT": graceful_timeout,
            "LIMIT_CONCURRENCY": limit_concurrency,
            "BACKLOG": backlog,
        }
    )
    settings = load_settings()
    _check_can_serve(settings, reload=reload)
    ensure_port_free(settings.API_HOST, settings.API_PORT)
    workers_n = 1 if reload else settings.API_WORKERS
    metrics_dir, temporary = _metrics_dir(settings, workers_n)
    try:
        _run(settings, workers_n, metrics_dir, reload=reload, migrate=migrate)
    finally:
        if temporary and metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _export_overrides(overrides: dict[str, object]) -> None:
    """The flags given, as settings in the environment the workers build their Settings from."""
    for setting, given in overrides.items():
        if given is not None:
            os.environ[setting] = str(given)


def _check_can_serve(settings: Settings, *, reload: bool) -> None:
    if reload and not settings.is_development:
        raise UsageProblem("--reload is for development only", hint="ENVIRONMENT=development")
    if settings.SERVER == "granian":
        try:
            import granian  # noqa: F401
        except ImportError:
            raise ConfigError(
                "granian is not installed", hint="pip install 'btai[granian]' or --server uvicorn"
            ) from None


def _metrics_dir(settings: Settings, workers: int) -> tuple[Path | None, bool]:
    """Several workers share counters through files: METRICS_DIR, or a directory of this run.

    This process itself keeps in-memory metrics: the variable that switches prometheus-client
    to files is set only just before the workers start (see `_share_metrics_dir`).
    """
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if workers == 1:
        os.environ["METRICS_DIR"] = ""  # one process has nothing to share
        return None, False
    temporary = not settings.METRICS_DIR
    path = Path(settings.METRICS_DIR or tempfile.mkdtemp(prefix="btai-metrics-")).resolve()
    return path, temporary


def _share_metrics_dir(path: Path) -> None:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    os.environ["METRICS_DIR"] = str(path)


def _run(
    settings: Settings, workers: int, metrics_dir: Path | None, *, reload: bool, migrate: bool
) -> None:
    from app.server.factory import configure_process_logging
    from app.server.metrics_dir import prepare_multiprocess_dir
    from app.server.options import HeadLimits, ServeOptions

    if metrics_dir is not None:
        prepare_multiprocess_dir(metrics_dir)
    configure_process_logging(settings)
    if migrate:
        if workers > 1:
            prepare_database_in_child()  # the supervisor stays small
        else:
            prepare_shared_database(settings)
    if metrics_dir is not None:
        _share_metrics_dir(metrics_dir)
    for line in describe(settings, settings.SERVER, workers):
        stderr.print(line, markup=False)
    options = ServeOptions(
        host=settings.API_HOST,
        port=settings.API_PORT,
        workers=workers,
        graceful_timeout=settings.GRACEFUL_TIMEOUT,
        worker_healthcheck_timeout=settings.WORKER_HEALTHCHECK_TIMEOUT,
        limit_concurrency=settings.LIMIT_CONCURRENCY,
        backlog=settings.BACKLOG,
        reload=reload,
        trusted_proxies=list(settings.TRUSTED_PROXIES),
        log_level=settings.LOG_LEVEL.lower(),
        readable_logs=settings.is_development,
        metrics_dir=metrics_dir,
        head_limits=HeadLimits(
            request_line=settings.HTTP_MAX_REQUEST_LINE,
            header_bytes=settings.HTTP_MAX_HEADER_BYTES,
            headers=settings.HTTP_MAX_HEADERS,
        ),
    )
    if workers > 1:
        # The supervisor serves no request: it goes on in a fresh interpreter without the
        # settings and the app loaded here (same pid), and removes this run's metrics dir.
        from app.server.supervisor import become_supervisor

        temporary = not settings.METRICS_DIR  # as `_metrics_dir` decided
        become_supervisor(options, server=settings.SERVER, remove_metrics_dir=temporary)
    if settings.SERVER == "granian":
        from app.server.granian_runner import run_granian

        started = run_granian(options)
    else:
        from app.server.uvicorn_runner import run_uvicorn

        started = run_uvicorn(options)
    if not started:
        raise ServiceUnreachable("the server did not start", hint="see the log lines above")
