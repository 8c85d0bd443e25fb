"""A steady load on one URL, run as a separate process by the zero-downtime test.

    python -m tests.support.steady_load URL --rate 100 --stop-file PATH --out results.json

Sends GETs at a fixed rate (each on its own task, over a keep-alive pool) until the stop file
appears, then writes one record per request: when it was sent (wall clock, comparable with
the signal time the test records) and its HTTP status or error. OUT with the suffix
`.started` appears at the first answer, and with `.flowing` at the FLOWING-th: from then on a
steady stream is known to be flowing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx

FLOWING = 100
"""Answers after which the load counts as flowing (a second at the default rate)."""
SENDING_EVENTS = frozenset(
    {"connection.connect_tcp.started", "http11.send_request_headers.started"}
)


async def one(
    client: httpx.AsyncClient, url: str, records: list[dict[str, Any]], out: Path
) -> None:
    record: dict[str, Any] = {"queued": time.time()}
    records.append(record)

    async def trace(event: str, info: dict[str, Any]) -> None:
        # "sent" is when the request first touched the network: the connect of a new
        # connection, or the write of its headers on a pooled one.
        if event in SENDING_EVENTS and "sent" not in record:
            record["sent"] = time.time()

    try:
        response = await client.get(url, extensions={"trace": trace})
        record["status"] = response.status_code
        answered = sum(1 for r in records if "status" in r)
        if answered == 1:
            out.with_suffix(".started").touch()
        if answered == FLOWING:
            out.with_suffix(".flowing").touch()
    except httpx.HTTPError as exc:
        record["error"] = f"{type(exc).__name__}: {exc}"
    record["done"] = time.time()


async def run(url: str, rate: float, stop_file: Path, out: Path) -> None:
    records: list[dict[str, Any]] = []
    tasks: set[asyncio.Task[None]] = set()
    interval = 1.0 / rate
    # Enough connections that no request waits in the client for a free one.
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        next_at = time.monotonic()
        while not stop_file.exists():
            task = asyncio.create_task(one(client, url, records, out))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        if tasks:
            await asyncio.wait(tasks, timeout=35)
    out.write_text(json.dumps(records))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--stop-file", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    asyncio.run(run(args.url, args.rate, args.stop_file, args.out))


if __name__ == "__main__":
    main()
