"""A steady load on one URL, run as a separate process by the zero-downtime test.

    python -m tests.support.steady_load URL --rate 100 --stop-file PATH --out results.json

Sends GETs at a fixed rate (each on its own task, over a keep-alive pool) until the stop file
appears, then writes one record per request: when it was sent (wall clock, comparable with
the signal time the test records) and its HTTP status or error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx


async def one(client: httpx.AsyncClient, url: str, records: list[dict[str, Any]]) -> None:
    record: dict[str, Any] = {"sent": time.time()}
    records.append(record)
    try:
        response = await client.get(url)
        record["status"] = response.status_code
    except httpx.HTTPError as exc:
        record["error"] = f"{type(exc).__name__}: {exc}"
    record["done"] = time.time()


async def run(url: str, rate: float, stop_file: Path, out: Path) -> None:
    records: list[dict[str, Any]] = []
    tasks: set[asyncio.Task[None]] = set()
    interval = 1.0 / rate
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        next_at = time.monotonic()
        while not stop_file.exists():
            task = asyncio.create_task(one(client, url, records))
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
