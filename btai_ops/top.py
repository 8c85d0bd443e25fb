"""`btai top`: a live view of a running server, all workers together, read from its /metrics."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from btai_ops.errors import ServiceUnreachable
from btai_ops.output import stdout

if TYPE_CHECKING:
    from btai_ops.metrics_view import Scrape


def top(
    url: Annotated[
        str, typer.Argument(help="Base URL of the server (its /metrics is read).")
    ] = "http://127.0.0.1:8000",
    interval: Annotated[
        float, typer.Option("--interval", "-n", min=0.2, help="Seconds between refreshes.")
    ] = 2.0,
    count: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many refreshes (default: Ctrl-C).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print each refresh as one JSON line on stdout.")
    ] = False,
) -> None:
    """Watch a running server: requests/s, p50/p95/p99 and errors per route, in-flight
    requests and queue depth, across all its workers; Ctrl-C quits."""
    import httpx

    from btai_ops.metrics_view import frame_between, frame_table

    metrics_url = url.rstrip("/") + "/metrics"
    with httpx.Client(timeout=max(interval, 5.0)) as client:
        previous = _scrape(client, metrics_url)  # unreachable at start: exit 3
        shown = 0
        try:
            if as_json or not stdout.is_terminal:
                while count is None or shown < count:
                    time.sleep(interval)
                    current = _scrape(client, metrics_url)
                    print_json_line(frame_between(previous, current).as_dict())
                    previous, shown = current, shown + 1
                return
            from rich.console import Console
            from rich.live import Live

            console = Console(highlight=False)  # Live needs a real Console, not the lazy one
            first = frame_between(None, previous)
            with Live(
                frame_table(first, url, first=True), console=console, auto_refresh=False
            ) as live:
                while count is None or shown < count:
                    time.sleep(interval)
                    try:
                        current = _scrape(client, metrics_url)
                    except ServiceUnreachable as exc:
                        live.update(f"{url}: {exc.message} (retrying)", refresh=True)
                        continue
                    live.update(
                        frame_table(frame_between(previous, current), url, first=False),
                        refresh=True,
                    )
                    previous, shown = current, shown + 1
        except KeyboardInterrupt:
            return


def print_json_line(data: dict[str, Any]) -> None:
    import json

    typer.echo(json.dumps(data, separators=(",", ":")))


def _scrape(client: Any, metrics_url: str) -> Scrape:
    import httpx

    from btai_ops.metrics_view import parse_scrape

    try:
        response = client.get(metrics_url)
    except httpx.HTTPError as exc:
        raise ServiceUnreachable(
            f"cannot read {metrics_url}: {type(exc).__name__}", hint="is `btai serve` running?"
        ) from None
    if response.status_code != 200:
        raise ServiceUnreachable(
            f"{metrics_url} answered {response.status_code}",
            hint="is ENABLE_PERFORMANCE_MONITORING on?",
        )
    return parse_scrape(response.text, time.monotonic())


__all__ = ["top"]
