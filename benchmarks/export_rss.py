"""Measure how much the server's memory grows while it streams GET /api/v1/players/export.

Starts `btai serve` on a seeded database (SQLite by default, or `--database-url`), records the
RSS of the server process and its children with psutil every 10 ms while the export is
downloaded `--repeat` times (each download read in small chunks and thrown away), and prints
the baseline, the peak and the growth in MiB.

    .venv/bin/python -m benchmarks.export_rss --repeat 20
    .venv/bin/python -m benchmarks.export_rss --database-url postgresql+asyncpg://postgres@127.0.0.1/db
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

from btai_ops.processes import free_port, stop_process

BTAI = str(Path(sys.executable).with_name("btai"))
MIB = 1024 * 1024


def tree_rss(process: psutil.Process) -> int:
    total = 0
    for proc in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += proc.memory_info().rss
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="exports to stream")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="btai-rss-"))
    port = free_port()
    env = {
        **os.environ,
        "API_PORT": str(port),
        "DATABASE_URL": args.database_url or f"sqlite+aiosqlite:///{workdir}/btai.db",
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_ENABLED": "false",
    }
    log = (workdir / "server.log").open("wb")
    server = subprocess.Popen([BTAI, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/v1/health/liveness", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"server did not start; see {workdir / 'server.log'}")
            time.sleep(0.1)
        proc = psutil.Process(server.pid)
        with httpx.Client(timeout=60) as client:
            # One warm-up export so imports, pools and caches are in place before the baseline.
            rows = sum(1 for _ in client.get(f"{base}/api/v1/players/export").iter_lines())
            time.sleep(0.5)
            baseline = tree_rss(proc)
            peak = baseline
            stop = threading.Event()

            def sample() -> None:
                nonlocal peak
                while not stop.is_set():
                    peak = max(peak, tree_rss(proc))
                    time.sleep(0.01)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            streamed = 0
            for _ in range(args.repeat):
                with client.stream("GET", f"{base}/api/v1/players/export") as response:
                    for chunk in response.iter_bytes(4096):
                        streamed += len(chunk)
            stop.set()
            sampler.join()
            after = tree_rss(proc)
        print(
            json.dumps(
                {
                    "rows_per_export": rows,
                    "exports": args.repeat,
                    "bytes_streamed": streamed,
                    "rss_baseline_mib": round(baseline / MIB, 2),
                    "rss_peak_mib": round(peak / MIB, 2),
                    "rss_after_mib": round(after / MIB, 2),
                    "rss_growth_mib": round((peak - baseline) / MIB, 2),
                },
                indent=2,
            )
        )
    finally:
        stop_process(server)
        log.close()


if __name__ == "__main__":
    main()
