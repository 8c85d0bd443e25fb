"""Side-by-side HTTP benchmark: several servers, one request, alternating wrk rounds.

Each server command is started once (on its own free loopback port, `{port}` in the command),
warmed up, then every round drives each server in turn with the same wrk load; the order
alternates between rounds so drift on a noisy machine hits every server alike. The result is
each server's median requests/s and latency percentiles, and its ratio
(the median of the per-round ratios) to the reference server: the one named `reference`,
else the first, or `--reference NAME`.

    python -m benchmarks.sidebyside --duration 5 --rounds 3 --connections 32 \\
        --server 'btai=.venv/bin/btai serve --port {port}' \\
        --server 'reference=.venv/bin/uvicorn benchmarks.reference_app:app --port {port}' \\
        --path /api/v1/health/liveness

With two or more cores, servers run pinned to CPU 0 and wrk to CPU 1 (`--no-pin` turns it off),
so the load generator never competes with the server it measures. Needs `wrk` on PATH
(Debian package `wrk`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from btai_ops.processes import free_port

LUA = r"""
wrk.method = os.getenv("SBS_METHOD") or "GET"
local body_file = os.getenv("SBS_BODY_FILE")
if body_file and body_file ~= "" then
  local f = io.open(body_file, "rb"); wrk.body = f:read("*a"); f:close()
  wrk.headers["Content-Type"] = "application/json"
end
local extra = os.getenv("SBS_HEADERS") or ""
for name, value in string.gmatch(extra, "([^:\n]+):%s*([^\n]*)") do wrk.headers[name] = value end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'SBS_RESULT {"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


@dataclass
class Server:
    name: str
    command: str
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    rounds: list[dict[str, float]] = field(default_factory=list)


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server for {url} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (loopback)
                if response.status < 500:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server at {url} did not answer within {timeout}s")


def start(server: Server, env: dict[str, str], pin: bool, ready_path: str, logdir: Path) -> None:
    server.port = free_port()
    command = server.command.format(port=server.port)
    argv = ["bash", "-c", f"exec {command}"]
    if pin:
        argv = ["taskset", "-c", "0", *argv]
    log = (logdir / f"{server.name}.log").open("wb")
    server.process = subprocess.Popen(
        argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    wait_ready(f"http://127.0.0.1:{server.port}{ready_path}", server.process)


def stop(server: Server) -> None:
    if server.process and server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)


def run_wrk(
    args: argparse.Namespace, server: Server, script: Path, duration: float
) -> dict[str, float]:
    url = f"http://127.0.0.1:{server.port}{args.path}"
    argv = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{max(1, round(duration))}s",
        "-s",
        str(script),
        url,
    ]
    if args.pin:
        argv = ["taskset", "-c", "1", *argv]
    env = {
        **os.environ,
        "SBS_METHOD": args.method,
        "SBS_BODY_FILE": str(Path(args.body_file).resolve()) if args.body_file else "",
        "SBS_HEADERS": "\n".join(args.header),
    }
    out = subprocess.run(argv, capture_output=True, text=True, env=env, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("SBS_RESULT "))
    raw: dict[str, Any] = json.loads(line.removeprefix("SBS_RESULT "))
    seconds = raw["duration_us"] / 1e6
    return {
        "rps": raw["requests"] / seconds,
        "requests": raw["requests"],
        "non_2xx": raw["non_2xx"],
        "socket_errors": raw["socket_errors"],
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
    }


def summarize(servers: list[Server], reference: Server) -> list[dict[str, Any]]:
    rows = []
    for server in servers:
        ratios = [
            mine["rps"] / ref["rps"]
            for mine, ref in zip(server.rounds, reference.rounds, strict=True)
        ]
        rows.append(
            {
                "server": server.name,
                "rps_median": statistics.median(r["rps"] for r in server.rounds),
                "rps_rounds": [round(r["rps"], 1) for r in server.rounds],
                "p50_ms_median": statistics.median(r["p50_ms"] for r in server.rounds),
                "p99_ms_median": statistics.median(r["p99_ms"] for r in server.rounds),
                "ratio_to_reference": statistics.median(ratios),
                "non_2xx": sum(int(r["non_2xx"]) for r in server.rounds),
                "socket_errors": sum(int(r["socket_errors"]) for r in server.rounds),
            }
        )
    return rows


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--server", action="append", required=True, metavar="NAME=COMMAND",
                        help="a server to measure; {port} becomes its port")  # fmt: skip
    parser.add_argument("--reference", help="server the ratios are relative to "
                        "[default: the one named 'reference', else the first]")  # fmt: skip
    parser.add_argument("--path", default="/api/v1/health/liveness", help="request path")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--body-file", help="JSON body to send (sets Content-Type)")
    parser.add_argument("--header", action="append", default=[], metavar="NAME: VALUE")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="environment for every server")  # fmt: skip
    parser.add_argument("--duration", type=int, default=5, help="seconds per measured round")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per server")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--ready-path", default="/api/v1/health/liveness")
    parser.add_argument("--no-pin", dest="pin", action="store_false")
    parser.add_argument("--json", dest="json_out", help="write the summary as JSON to this file")
    args = parser.parse_args(argv)
    if args.pin and (os.cpu_count() or 1) < 2:
        args.pin = False
    if args.pin and not shutil.which("taskset"):
        args.pin = False
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not shutil.which("wrk"):
        sys.stderr.write("Error: wrk is not on PATH (apt-get install wrk)\n")
        return 2
    env = dict(os.environ)
    env.update(dict(item.split("=", 1) for item in args.env))
    servers = [Server(*spec.split("=", 1)) for spec in args.server]
    with tempfile.TemporaryDirectory(prefix="sidebyside-") as tmp:
        script = Path(tmp) / "request.lua"
        script.write_text(LUA)
        try:
            for server in servers:
                start(server, env, args.pin, args.ready_path, Path(tmp))
                run_wrk(args, server, script, args.warmup)
            for round_no in range(args.rounds):
                order = servers if round_no % 2 == 0 else list(reversed(servers))
                for server in order:
                    result = run_wrk(args, server, script, args.duration)
                    server.rounds.append(result)
                    print(f"round {round_no + 1} {server.name:>12}: {result['rps']:9.1f} req/s  "
                          f"p50 {result['p50_ms']:.2f} ms  p99 {result['p99_ms']:.2f} ms  "
                          f"non-2xx {int(result['non_2xx'])}", flush=True)  # fmt: skip
        finally:
            for server in servers:
                stop(server)
    names = [server.name for server in servers]
    ref_name = args.reference or ("reference" if "reference" in names else names[0])
    if ref_name not in names:
        sys.stderr.write(f"Error: --reference {ref_name} is not one of {names}\n")
        return 2
    rows = summarize(servers, servers[names.index(ref_name)])
    print(f"\nratio = requests/s relative to '{ref_name}', median of per-round ratios")
    print(f"\n{'server':>12} {'req/s (median)':>15} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>7}")
    for row in rows:
        print(f"{row['server']:>12} {row['rps_median']:15.1f} {row['p50_ms_median']:8.2f} "
              f"{row['p99_ms_median']:8.2f} {row['ratio_to_reference']:7.3f}")  # fmt: skip
    config = {k: v for k, v in vars(args).items() if k != "json_out"}
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"config": config, "results": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
