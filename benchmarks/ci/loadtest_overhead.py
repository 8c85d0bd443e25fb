"""Requests/s of `btai loadtest` against plain `locust --headless`, same user class, same host.

Alternating rounds in one sitting, so the machine's other load hits both alike:
    python -m benchmarks.ci.loadtest_overhead --host http://127.0.0.1:8001 --rounds 3 \
        --duration 10 --users 10
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BTAI = str(Path(sys.executable).with_name("btai"))


def plain_locust(host: str, duration: int, users: int, tmp: Path) -> float:
    prefix = tmp / "plain"
    subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(ROOT / "benchmarks/locustfile.py"),
         "--headless", "--host", host, "-u", str(users), "-r", str(users), "-t", f"{duration}s",
         "--only-summary", "--loglevel", "WARNING", "--csv", str(prefix), "SimpleGetUser"],
        check=True, capture_output=True, cwd=ROOT,
    )  # fmt: skip
    with prefix.with_name("plain_stats.csv").open() as handle:
        for row in csv.DictReader(handle):
            if row["Name"] == "Aggregated":
                return float(row["Requests/s"])
    raise RuntimeError("no Aggregated row in Locust's CSV")


def btai_loadtest(host: str, duration: int, users: int, tmp: Path) -> float:
    out = tmp / "btai.json"
    subprocess.run(
        [BTAI, "loadtest", "--scenario", "simple", "--host", host, "-u", str(users),
         "-t", f"{duration}s", "--output", str(out)],
        check=False, capture_output=True, cwd=ROOT,
    )  # fmt: skip
    return float(json.loads(out.read_text())["total"]["rps"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--users", type=int, default=10)
    args = parser.parse_args()
    plain, mine = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.rounds):
            runs = [(plain, plain_locust), (mine, btai_loadtest)]
            for results, run in runs if n % 2 == 0 else reversed(runs):
                results.append(run(args.host, args.duration, args.users, Path(tmp)))
            print(
                f"round {n + 1}: locust {plain[-1]:,.1f} req/s, btai loadtest "
                f"{mine[-1]:,.1f} req/s, ratio {mine[-1] / plain[-1]:.3f}"
            )
    p, m = statistics.median(plain), statistics.median(mine)
    ratio = statistics.median(b / a for a, b in zip(plain, mine, strict=True))
    print(f"median: locust {p:,.1f} req/s, btai loadtest {m:,.1f} req/s")
    print(f"median of the per-round ratios (btai loadtest / locust): {ratio:.3f}")


if __name__ == "__main__":
    main()
