#!/usr/bin/env bash
# CPU instructions per request: the service beside the bare reference app, counted by
# valgrind's callgrind. Unlike requests/s, the count does not move with the machine's load, so
# it settles small differences that wrk rounds on a shared machine cannot.
#
# Each server runs under callgrind with counting off; after a warm-up the count runs for
# N requests sent one after another on one keep-alive connection, then stops. Same uvicorn
# settings as benchmarks/overhead.sh (one worker, the whole middleware stack on, the rate
# limiter counting every request). Needs valgrind (Debian package `valgrind`).
# Run from the repository root:  bash benchmarks/instructions.sh [PATH] [N]
set -euo pipefail
BIN=.venv/bin
REQUEST_PATH=${1:-/api/v1/health/liveness}
N=${2:-2000}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export DATABASE_URL=${DATABASE_URL:-sqlite+aiosqlite:///$WORK/btai.db}
export LOG_LEVEL=WARNING RATE_LIMIT_REQUESTS=100000000
$BIN/btai db seed >/dev/null

send() {  # send PORT COUNT: COUNT sequential GETs on one connection, each must answer 200
  $BIN/python - "$1" "$2" "$REQUEST_PATH" <<'PY'
import http.client, sys
port, count, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
for _ in range(count):
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        sys.exit(f"GET {path} answered {response.status}")
PY
}

count() {  # count NAME COMMAND...: prints instructions per request
  local name=$1 port
  shift
  port=$($BIN/python -c 'from btai_ops.processes import free_port; print(free_port())')
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$WORK/$name.%p" \
    "${@//\{port\}/$port}" >"$WORK/$name.log" 2>&1 &
  local server=$!
  for _ in $(seq 300); do
    curl -sf -o /dev/null "http://127.0.0.1:$port$REQUEST_PATH" && break
    sleep 1
  done
  send "$port" 200
  callgrind_control -i on "$server" >/dev/null 2>&1
  send "$port" "$N"
  callgrind_control -i off "$server" >/dev/null 2>&1
  callgrind_control -d "$server" >/dev/null 2>&1
  kill "$server"
  wait "$server" 2>/dev/null || true
  local total
  total=$(callgrind_annotate "$(ls -S "$WORK/$name".[0-9]* | head -1)" 2>/dev/null |
    awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}')
  echo $((total / N))
}

btai=$(count btai $BIN/btai serve --port '{port}' --no-migrate)
reference=$(count reference $BIN/uvicorn benchmarks.reference_app:app --port '{port}' \
  --no-access-log --log-level warning)
$BIN/python - "$btai" "$reference" "$REQUEST_PATH" "$N" <<'PY'
import sys
btai, reference, path, n = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
print(f"instructions per request, GET {path}, {n} requests each")
print(f"  btai       {btai:>10,}")
print(f"  reference  {reference:>10,}")
print(f"  ratio (reference / btai): {reference / btai:.3f}")
PY
