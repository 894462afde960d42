#!/usr/bin/env bash
# Runs `epom bench noticeboard` on a fresh, dedicated database (docs/benchmarks.md): create it,
# migrate it, then seed, serve and measure in one process. Extra arguments go to the bench.
#   EPOM_BENCH_DB=epom_bench EPOM_BENCH_REDIS_URL=redis://127.0.0.1:6379/4 scripts/bench-noticeboard.sh -duration 20s
set -euo pipefail
cd "$(dirname "$0")/.."

db="${EPOM_BENCH_DB:-epom_bench}"
case "$db" in *bench*) ;; *) echo "EPOM_BENCH_DB must contain \"bench\"" >&2; exit 2 ;; esac
owner_base="${EPOM_OWNER_DATABASE_URL:-postgres://epom_owner:epom_owner@127.0.0.1:5432/epom?sslmode=disable}"
with_db() { python3 -c 'import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(u.urlunparse(p._replace(path="/"+sys.argv[2])))' "$1" "$2"; }

if [ "${EPOM_BENCH_KEEP:-}" = "" ]; then
  psql "$owner_base" -qAt -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" \
    -c "GRANT CONNECT ON DATABASE $db TO epom_app, epom_platform" >/dev/null
fi
export EPOM_OWNER_DATABASE_URL="$(with_db "$owner_base" "$db")"
export EPOM_DATABASE_URL="$(with_db "${EPOM_DATABASE_URL:-postgres://epom_app:epom_app@127.0.0.1:5432/epom?sslmode=disable}" "$db")"
export EPOM_PLATFORM_DATABASE_URL="$(with_db "${EPOM_PLATFORM_DATABASE_URL:-postgres://epom_platform:epom_platform@127.0.0.1:5432/epom?sslmode=disable}" "$db")"
export EPOM_REDIS_URL="${EPOM_BENCH_REDIS_URL:-redis://127.0.0.1:6379/4}"
export EPOM_BASE_URL="${EPOM_BASE_URL:-http://127.0.0.1:8080}"

go build -o bin/epom ./cmd/epom
./bin/epom migrate up >/dev/null
exec ./bin/epom bench noticeboard "$@"
