#!/usr/bin/env bash
# Runs the browser tests against a real `epom dev` on a fresh database: start the server on a
# free port, wait until /readyz answers, run the Playwright tests in Debian's Chromium, stop.
set -euo pipefail
cd "$(dirname "$0")/.."

# EPOM_E2E_DB lets several checkouts on one machine run their browser tests side by side.
db="${EPOM_E2E_DB:-epom_e2e}"
owner_base="${EPOM_OWNER_DATABASE_URL:-postgres://epom_owner:epom_owner@127.0.0.1:5432/epom?sslmode=disable}"
with_db() { python3 -c 'import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(u.urlunparse(p._replace(path="/"+sys.argv[2])))' "$1" "$2"; }

psql "$owner_base" -qAt -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" \
  -c "GRANT CONNECT ON DATABASE $db TO epom_app, epom_platform" >/dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export EPOM_HTTP_ADDR="127.0.0.1:$port" EPOM_BASE_URL="http://127.0.0.1:$port"
export EPOM_OWNER_DATABASE_URL="$(with_db "$owner_base" "$db")"
export EPOM_DATABASE_URL="$(with_db "${EPOM_DATABASE_URL:-postgres://epom_app:epom_app@127.0.0.1:5432/epom?sslmode=disable}" "$db")"
export EPOM_PLATFORM_DATABASE_URL="$(with_db "${EPOM_PLATFORM_DATABASE_URL:-postgres://epom_platform:epom_platform@127.0.0.1:5432/epom?sslmode=disable}" "$db")"
export EPOM_REDIS_URL="${EPOM_E2E_REDIS_URL:-redis://127.0.0.1:6379/3}"
# The fresh database starts with an empty Redis DB: jobs and rate-limit counters of the last run
# (the subscription form allows 10 POSTs an hour per IP) belong to the dropped database.
redis-cli -u "$EPOM_REDIS_URL" FLUSHDB >/dev/null

log=$(mktemp)
./bin/epom dev >"$log" 2>&1 &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  psql "$owner_base" -qAt -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -f "$log"
}
trap cleanup EXIT

for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then echo "epom dev exited:" >&2; cat "$log" >&2; exit 1; fi
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { echo "epom dev did not become ready:" >&2; cat "$log" >&2; exit 1; }

cd frontend
BASE_URL="http://127.0.0.1:$port" E2E_REQUIRED=1 npm run e2e
