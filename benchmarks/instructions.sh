#!/usr/bin/env bash
# CPU instructions per request: the service beside the bare reference app, counted by
# valgrind's callgrind. Unlike requests/s, the count does not move with the machine's load, so
# it settles small differences that wrk rounds on a shared machine cannot.
#
# Each server starts once under callgrind with counting off. For every endpoint in turn it gets
# a warm-up, then the count runs for N requests sent one after another on one keep-alive
# connection, and is dumped; so one call measures several endpoints, each from its own dump.
# A server also runs timers while it serves (the queue's poll, the health monitor), and under
# valgrind on a busy machine a request takes long enough for them to fire often: each server
# is first counted idle, and "net" subtracts that idle rate over each endpoint's wall time
# ("gross" keeps it). The reference app has no timers, so its net equals its gross.
# Same uvicorn settings as benchmarks/overhead.sh (one worker, the whole middleware stack on,
# the rate limiter counting every request). Needs valgrind (Debian package `valgrind`).
#
# Run from the repository root:
#   bash benchmarks/instructions.sh                      # the report's four endpoint types
#   bash benchmarks/instructions.sh /api/v1/teams/NYA 'POST /api/v1/trades/evaluate BODY.json'
# An endpoint is `[METHOD ]PATH[ BODY_FILE]`; a body is sent as JSON. Environment:
#   REQUESTS   requests counted per endpoint (default 1000)
#   IDLE_SECONDS  how long each server is first counted idle (default 20)
#   KEEP_DIR   keep the callgrind dumps there, one per server and endpoint, for
#              `callgrind_annotate --inclusive=yes FILE`
#   QUEUE_POLL_INTERVAL (default 3600: the queue's idle poll is left out of the count),
#   ENVIRONMENT, LOG_LEVEL, JWT_SECRET_KEY, DATABASE_URL, HEALTH_MONITOR_INTERVAL (default 0:
#   the 15-second background health run is off while counting) are passed to the service
#   (LOG_LEVEL defaults to WARNING; ENVIRONMENT=staging LOG_LEVEL=INFO counts the JSON access
#   line production writes per request).
set -euo pipefail
BIN=.venv/bin
N=${REQUESTS:-1000}
IDLE=${IDLE_SECONDS:-20}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
echo '{"team_a":"NYA","team_a_receives":["troutmi01"],"team_b":"LAA","team_b_receives":["rodrial01","gardnbr01"]}' >"$WORK/trade.json"
if [ $# -eq 0 ]; then
  set -- /api/v1/health/liveness /api/v1/teams/NYA '/api/v1/players?position=SS' \
    "POST /api/v1/trades/evaluate $WORK/trade.json"
fi
ENDPOINTS=("$@")
export DATABASE_URL=${DATABASE_URL:-sqlite+aiosqlite:///$WORK/btai.db}
export LOG_LEVEL=${LOG_LEVEL:-WARNING} RATE_LIMIT_REQUESTS=100000000
# The background health monitor runs every 15 s: a timer, not request work, and too rare for
# the idle count to sample; one run inside an endpoint's short window added up to 90,000
# instructions a request. Off while counting, unless set.
export HEALTH_MONITOR_INTERVAL=${HEALTH_MONITOR_INTERVAL:-0}
# The queue's idle poll (QUEUE_POLL_INTERVAL) is a timer too; under valgrind a request takes so
# long that the poll's share of it moves with the machine's load. Once an hour while counting.
export QUEUE_POLL_INTERVAL=${QUEUE_POLL_INTERVAL:-3600}
if [ "${ENVIRONMENT:-development}" != development ]; then
  export JWT_SECRET_KEY=${JWT_SECRET_KEY:-instructions-benchmark-signing-key-0123456789}
fi
$BIN/btai db seed >/dev/null

send() {  # send PORT COUNT ENDPOINT: COUNT sequential requests on one connection, each 2xx
  $BIN/python - "$1" "$2" "$3" <<'PY'
import http.client, sys
port, count, spec = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].split()
method = spec.pop(0) if spec[0].isupper() else "GET"
path = spec[0]
body = open(spec[1], "rb").read() if len(spec) > 1 else None
headers = {"Content-Type": "application/json"} if body is not None else {}
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
for _ in range(count):
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    if not 200 <= response.status < 300:
        sys.exit(f"{method} {path} answered {response.status}")
PY
}

dumped() {  # dumped SERVER NAME NUMBER: dump the count so far, print its total instructions
  callgrind_control -d "$1" >/dev/null 2>&1
  local file="$WORK/$2.out.$3"
  for _ in $(seq 120); do [ -s "$file" ] && break; sleep 1; done
  [ -n "${KEEP_DIR:-}" ] && mkdir -p "$KEEP_DIR" && cp "$file" "$KEEP_DIR/$2.$3.callgrind"
  callgrind_annotate "$file" 2>/dev/null |
    awk '/PROGRAM TOTALS/ && !seen {gsub(",", "", $1); print $1; seen = 1}'
}

count() {  # count NAME COMMAND...: per endpoint "gross net" instructions per request
  local name=$1 port dump=0
  shift
  port=$($BIN/python -c 'from btai_ops.processes import free_port; print(free_port())')
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$WORK/$name.out" \
    "${@//\{port\}/$port}" >"$WORK/$name.log" 2>&1 &
  local server=$!
  # count runs in its own subshell: stop its server however that subshell ends
  trap "kill $server 2>/dev/null || true" EXIT
  for _ in $(seq 300); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/api/v1/health/liveness" && break
    sleep 1
  done
  # What the idle server runs in a second (its timers: queue poll, health monitor, ...).
  callgrind_control -i on "$server" >/dev/null 2>&1
  sleep "$IDLE"
  callgrind_control -i off "$server" >/dev/null 2>&1
  local idle_rate
  dump=$((dump + 1))
  idle_rate=$(( $(dumped "$server" "$name" "$dump") / IDLE ))
  for endpoint in "${ENDPOINTS[@]}"; do
    send "$port" 200 "$endpoint"
    local started total
    started=$(date +%s%N)
    callgrind_control -i on "$server" >/dev/null 2>&1
    send "$port" "$N" "$endpoint"
    callgrind_control -i off "$server" >/dev/null 2>&1
    dump=$((dump + 1))
    total=$(dumped "$server" "$name" "$dump")
    local idle=$(( idle_rate * ($(date +%s%N) - started) / 1000000000 ))
    echo "$((total / N)) $(( (total - idle) / N ))"
  done
  kill "$server"
  wait "$server" 2>/dev/null || true
}

mapfile -t btai < <(count btai $BIN/btai serve --port '{port}' --no-migrate)
mapfile -t reference < <(count reference $BIN/uvicorn benchmarks.reference_app:app \
  --port '{port}' --no-access-log --log-level warning)
$BIN/python - "$N" "${#ENDPOINTS[@]}" "${ENDPOINTS[@]}" "${btai[@]}" "${reference[@]}" <<'PY'
import sys
n, k = sys.argv[1], int(sys.argv[2])
endpoints = sys.argv[3 : 3 + k]
btai = [[int(x) for x in line.split()] for line in sys.argv[3 + k : 3 + 2 * k]]
reference = [[int(x) for x in line.split()] for line in sys.argv[3 + 2 * k : 3 + 3 * k]]
print(f"instructions per request, {n} requests per endpoint (ratio = reference / btai)")
print(f"  {'endpoint':<40} {'btai net':>11} {'gross':>11} {'reference':>10} {'ratio':>6} {'gross':>6}")
for endpoint, (gross, net), (ref, _) in zip(endpoints, btai, reference, strict=True):
    name = " ".join(endpoint.split()[:2])
    print(f"  {name:<40} {net:>11,} {gross:>11,} {ref:>10,} {ref / net:>6.3f} {ref / gross:>6.3f}")
PY
