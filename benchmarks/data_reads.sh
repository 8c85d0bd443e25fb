#!/usr/bin/env bash
# The read API beside the bare reference app: a cache hit (GET /api/v1/teams/NYA) and a
# database query (GET /api/v1/players?position=SS), then the server's RSS growth while it
# streams the NDJSON export. Run from the repository root:  bash benchmarks/data_reads.sh
# DATABASE_URL may point at PostgreSQL instead of the default fresh SQLite file.
set -euo pipefail
BIN=.venv/bin
DB_URL=${DATABASE_URL:-sqlite+aiosqlite:///$(mktemp -d)/btai.db}
DATABASE_URL=$DB_URL $BIN/btai db seed
for path in /api/v1/teams/NYA '/api/v1/players?position=SS'; do
  $BIN/python -m benchmarks.sidebyside --duration 5 --rounds 3 --connections 32 \
    --server "btai=$BIN/btai serve --port {port}" \
    --server "reference=$BIN/uvicorn benchmarks.reference_app:app --port {port} --no-access-log" \
    --env "DATABASE_URL=$DB_URL" --env RATE_LIMIT_ENABLED=false --env LOG_LEVEL=WARNING \
    --path "$path"
done
$BIN/python -m benchmarks.export_rss --repeat 20 --database-url "$DB_URL"
