"""How close `btai loadtest`'s latencies are to the server's own, beside wrk's.

A server that answers every request after a fixed delay (10 ms by default) times each
answer itself, from the end of the request head to the write of the answer. Each round runs
`btai loadtest -u 16` and `wrk -c 16` against it in turn (the order alternates), and after each
run reads the server's own timings of exactly the requests that run sent; the table gives
p50/p99 of all three and the ratio of each generator's p50 to the server's.

    python -m benchmarks.generator_accuracy --rounds 3 --duration 15 --users 16

With two or more cores the server runs pinned to CPU 0 and the generators to CPU 1. Needs
`wrk` on PATH (Debian package `wrk`). A busy machine moves every figure: quote ratios from
one sitting, and say the machine was busy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks.sidebyside import LUA
from btai_ops.processes import free_port, stop_process

ROOT = Path(__file__).resolve().parents[1]
BODY = b'{"status":"pass"}'
ANSWER = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (
    len(BODY),
    BODY,
)


async def serve(port: int, delay_ms: float) -> None:
    """The fixed-delay server; GET /__timings returns (and clears) its own timings in ms."""
    timings: list[float] = []
    delay = delay_ms / 1000.0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                started = time.perf_counter()
                if head.startswith(b"GET /__timings"):
                    body = json.dumps(timings).encode()
                    timings.clear()
                    writer.write(
                        b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
                    )
                    await writer.drain()
                    continue
                await asyncio.sleep(delay)
                writer.write(ANSWER)
                timings.append((time.perf_counter() - started) * 1000.0)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1] if ordered else 0.0


def server_timings(base: str) -> list[float]:
    with urllib.request.urlopen(f"{base}/__timings", timeout=30) as response:  # noqa: S310
        data: list[float] = json.loads(response.read())
    return data


def pinned(argv: list[str], cpu: int, pin: bool) -> list[str]:
    return ["taskset", "-c", str(cpu), *argv] if pin else argv


def run_btai(base: str, users: int, duration: float, pin: bool) -> dict[str, float]:
    btai = str(Path(sys.executable).with_name("btai"))
    argv = [btai, "loadtest", "--host", base, "-u", str(users), "-t", f"{duration:g}s"]
    argv += ["--json", "-", "--threshold", "fail_ratio<1%"]
    out = subprocess.run(pinned(argv, 1, pin), capture_output=True, text=True, cwd=ROOT).stdout
    summary = json.loads(out)
    total = summary["total"]
    return {
        "requests": total["requests"],
        "rps": total["rps"],
        "p50_ms": total["latency_ms"]["p50"],
        "p99_ms": total["latency_ms"]["p99"],
        "valid": summary["valid"],
    }


def run_wrk(base: str, users: int, duration: float, pin: bool) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(LUA)
    argv = ["wrk", "-t1", f"-c{users}", f"-d{max(1, round(duration))}s", "-s", handle.name, base]
    out = subprocess.run(pinned(argv, 1, pin), capture_output=True, text=True).stdout
    Path(handle.name).unlink()
    raw: dict[str, Any] = json.loads(
        next(x for x in out.splitlines() if x.startswith("SBS_RESULT ")).removeprefix("SBS_RESULT ")
    )
    return {
        "requests": raw["requests"],
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "valid": True,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--delay-ms", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-pin", dest="pin", action="store_false")
    args = parser.parse_args(argv)
    if args.serve:
        asyncio.run(serve(args.serve, args.delay_ms))
        return 0
    pin = args.pin and (os.cpu_count() or 1) >= 2
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server_argv = [sys.executable, "-m", "benchmarks.generator_accuracy", "--serve", str(port)]
    server_argv += ["--delay-ms", str(args.delay_ms)]
    server = subprocess.Popen(pinned(server_argv, 0, pin), cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                server_timings(base)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        runners = {"btai": run_btai, "wrk": run_wrk}
        rows: dict[str, list[dict[str, float]]] = {name: [] for name in runners}
        for round_no in range(args.rounds):
            order = list(runners) if round_no % 2 == 0 else list(reversed(runners))
            for name in order:
                server_timings(base)  # clears what came before
                result = runners[name](base, args.users, args.duration, pin)
                own = server_timings(base)
                result["server_p50_ms"] = nearest_rank(own, 50)
                result["server_p99_ms"] = nearest_rank(own, 99)
                result["server_requests"] = len(own)
                rows[name].append(result)
                print(f"round {round_no + 1} {name}: {json.dumps(result)}", file=sys.stderr)
    finally:
        stop_process(server)
    print(f"{args.delay_ms:g} ms server, {args.users} connections, {args.rounds} rounds of "
          f"{args.duration:g}s (medians over rounds)")  # fmt: skip
    print(f"{'generator':<10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}"
          f"{'server p50':>12}{'server p99':>12}{'p50/server':>12}")  # fmt: skip
    for name, results in rows.items():

        def med(key: str, results: list[dict[str, float]] = results) -> float:
            return statistics.median(r[key] for r in results)

        print(f"{name:<10}{med('rps'):>10,.0f}{med('p50_ms'):>10.2f}{med('p99_ms'):>10.2f}"
              f"{med('server_p50_ms'):>12.2f}{med('server_p99_ms'):>12.2f}"
              f"{med('p50_ms') / med('server_p50_ms'):>12.3f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
