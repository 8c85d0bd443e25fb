"""Memory of `btai serve --workers N`: RSS and PSS of the supervisor and of each worker.

Starts the server on a free loopback port, sends `--requests` mixed requests (liveness, a team,
a players search, a trade evaluation) one after another, lets it settle, then reads
/proc/PID/smaps_rollup of every process of the server, and, with `--idle-seconds`, the CPU
seconds each spent while idle after that (utime + stime from /proc/PID/stat).

    python -m benchmarks.memory --workers 2 --requests 1000 --idle-seconds 60

DATABASE_URL names the database (migrated and seeded by `btai serve` itself, as in production).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.sidebyside import Server, start, stop

TRADE = {
    "team_a": "NYA",
    "team_a_receives": ["troutmi01"],
    "team_b": "LAA",
    "team_b_receives": ["rodrial01", "gardnbr01"],
}
MIXED = [
    ("GET", "/api/v1/health/liveness", None),
    ("GET", "/api/v1/teams/NYA", None),
    ("GET", "/api/v1/players?position=SS", None),
    ("POST", "/api/v1/trades/evaluate", json.dumps(TRADE).encode()),
]


def send_mixed(port: int, count: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for number in range(count):
        method, path, body = MIXED[number % len(MIXED)]
        headers = {"Content-Type": "application/json"} if body else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"{method} {path} answered {response.status}")
    connection.close()


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(child) for child in text]
    return found


def memory_kb(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value, *_ = line.split()
        values[name.rstrip(":")] = int(value)
    return {"rss": values["Rss"], "pss": values["Pss"]}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def command_of(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")[:60]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--idle-seconds", type=float, default=0)
    args = parser.parse_args(argv)
    env = dict(os.environ)
    env.setdefault("RATE_LIMIT_REQUESTS", "100000000")
    command = f".venv/bin/btai serve --port {{port}} --workers {args.workers}"
    server = Server("btai", command)
    with tempfile.TemporaryDirectory(prefix="memory-") as tmp:
        start(server, env, False, "/api/v1/health/liveness", Path(tmp))
        assert server.process is not None
        try:
            send_mixed(server.port, args.requests)
            time.sleep(2)
            supervisor = server.process.pid
            processes = [supervisor, *children(supervisor)]
            before = {pid: cpu_seconds(pid) for pid in processes}
            if args.idle_seconds:
                time.sleep(args.idle_seconds)
            print(f"{args.requests} mixed requests, then idle; kB per process")
            print(f"{'pid':>8} {'role':<11} {'RSS MB':>8} {'PSS MB':>8} {'idle CPU s':>11} command")
            for pid in processes:
                role = "supervisor" if pid == supervisor and len(processes) > 1 else "worker"
                if "resource_tracker" in Path(f"/proc/{pid}/cmdline").read_text():
                    role = "tracker"  # multiprocessing's resource tracker, serves nothing
                used = memory_kb(pid)
                idle = cpu_seconds(pid) - before[pid]
                print(f"{pid:>8} {role:<11} {used['rss'] / 1024:8.1f} {used['pss'] / 1024:8.1f} "
                      f"{idle:11.3f} {command_of(pid)}")  # fmt: skip
            if args.idle_seconds:
                share = max(cpu_seconds(p) - before[p] for p in processes) / args.idle_seconds
                print(f"busiest process while idle: {100 * share:.3f}% of one core "
                      f"over {args.idle_seconds:g} s")  # fmt: skip
        finally:
            stop(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
