"""Measure the memory one `btai serve` worker really uses at idle and keep the figure beside the
config (`configs/measured.yaml`), where `btai render` checks resource requests against it.

Starts `btai serve --workers N` on a fresh SQLite database for one worker and two larger
counts, waits until readiness answers and requests warmed every worker, then sums the PSS
(proportional set size: shared pages split between the processes that share them) of the
server and all its children. One worker runs in a single process; from two on a supervisor
starts the workers, so the per-worker figure is the slope between the two larger counts and
the base (the supervisor and what the workers share) the rest:

    memory(1) = single_process;  memory(workers >= 2) = base + workers x per_worker

    .venv/bin/python -m benchmarks.worker_memory               # measures 1, 2 and 4 workers
    .venv/bin/python -m benchmarks.worker_memory --workers 2 3 --out /tmp/measured.yaml
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import yaml

from btai_ops.processes import free_port, stop_process

BTAI = str(Path(sys.executable).with_name("btai"))
MIB = 1024 * 1024
OUT = Path(__file__).resolve().parents[1] / "configs" / "measured.yaml"
HEADER = """\
# Measured by benchmarks/worker_memory.py (`python -m benchmarks.worker_memory`); do not edit
# by hand. `btai render` checks resources.requests.memory and the HPA memory target against
# single_process (one worker) or base + API_WORKERS x per_worker (PSS at idle, MiB).
"""


def tree_pss(process: psutil.Process) -> int:
    """PSS of the server and every worker (falls back to RSS where PSS is not readable)."""
    total = 0
    for proc in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            info = proc.memory_full_info()
            total += getattr(info, "pss", info.rss)
    return total


def idle_pss(workers: int, *, timeout: float, warm_requests: int) -> int:
    """Bytes of PSS of `btai serve --workers N` once ready and warmed, then idle."""
    workdir = Path(tempfile.mkdtemp(prefix="btai-mem-"))
    port = free_port()
    env = {
        **os.environ,
        "API_PORT": str(port),
        "API_WORKERS": str(workers),
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/btai.db",
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_ENABLED": "false",
    }
    log = (workdir / "server.log").open("wb")
    server = subprocess.Popen([BTAI, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=base, timeout=10) as client:
            while True:
                if server.poll() is not None:
                    raise SystemExit(f"btai serve exited; see {workdir / 'server.log'}")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get("/api/v1/health/readiness").status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise SystemExit(f"btai serve not ready after {timeout:g}s")
                time.sleep(0.2)
            # Requests spread over the workers so each has imported and built what it serves.
            for _ in range(warm_requests):
                client.get("/api/v1/teams")
        time.sleep(2)  # let the warm-up's garbage be collected before reading memory
        return tree_pss(psutil.Process(server.pid))
    finally:
        stop_process(server)
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs=2, default=[2, 4], metavar=("LOW", "HIGH"))
    parser.add_argument("--warm-requests", type=int, default=400)
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for ready")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    low, high = sorted(args.workers)
    if low == high:
        parser.error("--workers needs two different counts")
    if low < 2:
        parser.error("--workers counts start at 2 (one worker runs without a supervisor)")
    single = idle_pss(1, timeout=args.timeout, warm_requests=args.warm_requests)
    at_low = idle_pss(low, timeout=args.timeout, warm_requests=args.warm_requests)
    at_high = idle_pss(high, timeout=args.timeout, warm_requests=args.warm_requests)
    per_worker = max(at_high - at_low, 0) / (high - low)
    base = max(at_low - low * per_worker, 0)
    figures = {
        "worker_memory": {
            "single_process_mib": round(single / MIB, 1),
            "per_worker_mib": round(per_worker / MIB, 1),
            "base_mib": round(base / MIB, 1),
            "measured": {
                "pss_mib_at_1_worker": round(single / MIB, 1),
                f"pss_mib_at_{low}_workers": round(at_low / MIB, 1),
                f"pss_mib_at_{high}_workers": round(at_high / MIB, 1),
                "date": dt.datetime.now(dt.UTC).date().isoformat(),
                "python": platform.python_version(),
                "machine": platform.machine(),
            },
        }
    }
    args.out.write_text(HEADER + yaml.safe_dump(figures, sort_keys=False), encoding="utf-8")
    print(f"1 worker: {single / MIB:.1f} MiB, {low} workers: {at_low / MIB:.1f} MiB, ", end="")
    print(f"{high} workers: {at_high / MIB:.1f} MiB PSS")
    print(f"per worker {per_worker / MIB:.1f} MiB, base {base / MIB:.1f} MiB -> {args.out}")


if __name__ == "__main__":
    main()
