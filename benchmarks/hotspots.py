"""Where one endpoint's time goes, by Python function: py-spy samples of a served request loop.

Starts `btai serve` (one worker) on a free loopback port, sends the request back to back on one
keep-alive connection for `--seconds`, samples the worker with py-spy meanwhile, and prints
each function's share of the samples, inclusive (the function and what it called) and self.
callgrind (`benchmarks/instructions.sh`) says how much an endpoint costs; this says where.

    python -m benchmarks.hotspots --path '/api/v1/players?position=SS' --seconds 10
    python -m benchmarks.hotspots --method POST --body-file trade.json \\
        --path /api/v1/trades/evaluate

Needs py-spy (`pip install py-spy`) and a seeded DATABASE_URL (`btai db seed`).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from benchmarks.sidebyside import Server, start, stop

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^():]+)(?::\d+)?\)$")


def drive(port: int, args: argparse.Namespace, until: float, sent: list[int]) -> None:
    body = Path(args.body_file).read_bytes() if args.body_file else None
    headers = {"Content-Type": "application/json"} if body is not None else {}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while time.monotonic() < until:
        connection.request(args.method, args.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        if not 200 <= response.status < 300:
            raise SystemExit(f"{args.method} {args.path} answered {response.status}")
        sent[0] += 1


def short(frame: str) -> str:
    match = FRAME.match(frame)
    if match is None:
        return frame
    path = match["file"]
    for marker in ("site-packages/", "/app/", "/btai_ops/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1] if marker != "/app/" else "app/" + path.split(marker)[1]
            break
    return f"{match['function']} ({path})"


def summarize(raw: Path, top: int) -> list[str]:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [short(f) for f in stack.split(";")]
        if not any(f.startswith("RequestResponseCycle.run_asgi") for f in frames):
            continue  # the loop between requests, or background work
        total += count
        for name in set(frames[frames.index(next(f for f in frames if "run_asgi" in f)) :]):
            inclusive[name] += count
        own[frames[-1]] += count
    lines = [f"{total} samples while serving; inclusive% self%  function (file)"]
    for name, count in inclusive.most_common(top):
        lines.append(f"{100 * count / total:6.1f} {100 * own[name] / total:6.1f}  {name}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--path", default="/api/v1/health/liveness")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--body-file")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--command", default=".venv/bin/btai serve --port {port} --no-migrate")
    args = parser.parse_args(argv)
    if not shutil.which("py-spy"):
        sys.stderr.write("Error: py-spy is not on PATH (pip install py-spy)\n")
        return 2
    server = Server("btai", args.command)
    with tempfile.TemporaryDirectory(prefix="hotspots-") as tmp:
        start(server, dict(os.environ), False, "/api/v1/health/liveness", Path(tmp))
        assert server.process is not None
        try:
            sent = [0]
            drive(server.port, args, time.monotonic() + 2, sent)  # warm-up
            until = time.monotonic() + args.seconds + 1
            load = threading.Thread(target=drive, args=(server.port, args, until, sent))
            load.start()
            raw = Path(tmp) / "stacks.txt"
            subprocess.run(
                ["py-spy", "record", "--pid", str(server.process.pid), "--duration",
                 str(args.seconds), "--rate", str(args.rate), "--format", "raw",
                 "--output", str(raw), "--nonblocking"],
                check=True, capture_output=True,
            )  # fmt: skip
            load.join()
        finally:
            stop(server)
        print(f"{args.method} {args.path}: {sent[0]} requests")
        print("\n".join(summarize(raw, args.top)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
