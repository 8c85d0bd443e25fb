#!/bin/sh
# Serve the API, wait until it is ready, load-test it with thresholds, compare the result with
# the stored baseline, and write the comparison as markdown (for a pull-request comment).
#
# Usage: benchmarks/ci/run.sh [OUT_DIR]
# Environment (all optional):
#   BTAI                   the btai command            (default: btai)
#   BTAI_CI_PORT           port for `btai serve`       (default: 8000)
#   BTAI_CI_SCENARIO       loadtest scenario           (default: simple)
#   BTAI_CI_USERS          users                       (default: 20)
#   BTAI_CI_DURATION       load duration               (default: 30s)
#   BTAI_CI_THRESHOLDS     space-separated thresholds  (default: "p95<100ms fail_ratio<0.01")
#   BTAI_CI_BASELINE       baseline for compare        (default: benchmarks/baselines/report.yaml)
#   GITHUB_STEP_SUMMARY    when set, the markdown is appended to it
# Exit status: 0 all good, 1 a threshold failed or a metric regressed, 2 the run failed.
set -u

OUT=${1:-benchmark-out}
BTAI=${BTAI:-btai}
PORT=${BTAI_CI_PORT:-8000}
SCENARIO=${BTAI_CI_SCENARIO:-simple}
USERS=${BTAI_CI_USERS:-20}
DURATION=${BTAI_CI_DURATION:-30s}
THRESHOLDS=${BTAI_CI_THRESHOLDS:-"p95<100ms fail_ratio<0.01"}
URL="http://127.0.0.1:$PORT"
mkdir -p "$OUT"

# The load test measures the service, not its rate limiter (unless you set it yourself).
RATE_LIMIT_ENABLED=${RATE_LIMIT_ENABLED:-false} \
    $BTAI serve --host 127.0.0.1 --port "$PORT" >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null' EXIT INT TERM

if $BTAI health --help >/dev/null 2>&1; then
    $BTAI health "$URL" --wait-ready --timeout 120 >"$OUT/health.txt" 2>&1
    ready=$?
else
    # Fallback for builds without `btai health`: poll the liveness probe.
    ready=1
    for _ in $(seq 1 240); do
        if curl -fsS "$URL/api/v1/health/liveness" >/dev/null 2>&1; then ready=0; break; fi
        sleep 0.5
    done
fi
if [ "$ready" -ne 0 ]; then
    echo "Error: the service at $URL did not become ready (see $OUT/server.log)" >&2
    exit 2
fi

set --
for expression in $THRESHOLDS; do set -- "$@" --threshold "$expression"; done
$BTAI loadtest --scenario "$SCENARIO" --host "$URL" --users "$USERS" --duration "$DURATION" \
    "$@" --output "$OUT/loadtest.json" >"$OUT/loadtest.txt"
load_status=$?
cat "$OUT/loadtest.txt"
if [ "$load_status" -eq 2 ] || [ ! -f "$OUT/loadtest.json" ]; then
    echo "Error: the load test itself failed" >&2
    exit 2
fi

$BTAI benchmark compare "$OUT/loadtest.json" ${BTAI_CI_BASELINE:+"$BTAI_CI_BASELINE"} \
    --format markdown --html "$OUT/comparison.html" >"$OUT/comparison.md"
compare_status=$?
cat "$OUT/comparison.md"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat "$OUT/comparison.md" >>"$GITHUB_STEP_SUMMARY"; fi
if [ "$compare_status" -eq 2 ]; then exit 2; fi

if [ "$load_status" -ne 0 ] || [ "$compare_status" -ne 0 ]; then exit 1; fi
exit 0
