#!/usr/bin/env bash
# The service beside the bare reference app (benchmarks/reference_app.py) for the report's four
# endpoint types: simple GET (liveness), cache hit (a team), database query (players by
# position) and complex POST (a trade evaluation). Same uvicorn settings, one worker each,
# alternating wrk rounds, the whole middleware stack on (the rate limiter counts every request,
# its limit set above the load). Needs wrk (Debian package `wrk`).
# Run from the repository root:  bash benchmarks/overhead.sh [OUT_DIR]
set -euo pipefail
BIN=.venv/bin
OUT=${1:-var/benchmarks/overhead}
mkdir -p "$OUT"
DB_URL=${DATABASE_URL:-sqlite+aiosqlite:///$(mktemp -d)/btai.db}
DATABASE_URL=$DB_URL $BIN/btai db seed >/dev/null
PAYLOAD=$(mktemp)
echo '{"team_a":"NYA","team_a_receives":["troutmi01"],"team_b":"LAA","team_b_receives":["rodrial01","gardnbr01"]}' >"$PAYLOAD"
for spec in "liveness|/api/v1/health/liveness|GET" "teams|/api/v1/teams/NYA|GET" \
            "players|/api/v1/players?position=SS|GET" "evaluate|/api/v1/trades/evaluate|POST"; do
  IFS='|' read -r name path method <<<"$spec"
  extra=()
  [ "$method" = POST ] && extra=(--method POST --body-file "$PAYLOAD")
  echo "== $name: $method $path"
  $BIN/python -m benchmarks.sidebyside --duration "${DURATION:-5}" --rounds "${ROUNDS:-5}" \
    --connections 32 --env "DATABASE_URL=$DB_URL" --env LOG_LEVEL=WARNING \
    --env RATE_LIMIT_REQUESTS=100000000 \
    --server "btai=$BIN/btai serve --port {port} --no-migrate" \
    --server "reference=$BIN/uvicorn benchmarks.reference_app:app --port {port} --no-access-log --log-level warning" \
    --path "$path" "${extra[@]}" --json "$OUT/$name.json" | tail -3
done
