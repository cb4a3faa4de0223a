#!/usr/bin/env bash
# test.sh — every test of Switchboard, on a fresh machine with Go, Node/npm and the OS package manager:
#   go vet; go test -race on SQLite and PostgreSQL; the web unit tests; the browser tests.
#
# PostgreSQL: TEST_DATABASE_URL if set; else a server answering on 127.0.0.1:5432; else a throwaway
# cluster started by scripts/pg.sh (installing the postgresql package if needed) and stopped at the end.
# Under CI (CI set) a missing PostgreSQL or browser is an error, never a skip.
#
#   scripts/test.sh            everything
#   scripts/test.sh go         only vet + Go tests
#   scripts/test.sh web        only the web unit tests and browser tests
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
what=${1:-all}
tmp=$(mktemp -d)
chmod 755 "$tmp" # the throwaway PostgreSQL runs as the postgres user and must reach its directory
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  [ -d "$tmp/pg" ] && scripts/pg.sh stop "$tmp/pg" || true
  rm -rf "$tmp"
}
trap cleanup EXIT

step() { printf '\n==> %s\n' "$*"; }

ensure_postgres() {
  if [ -n "${TEST_DATABASE_URL:-}" ]; then
    echo "PostgreSQL: TEST_DATABASE_URL"
  elif (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
    export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
    echo "PostgreSQL: the server answering on 127.0.0.1:5432"
  else
    echo "PostgreSQL: starting a throwaway cluster"
    local url
    url=$(scripts/pg.sh start "$tmp/pg")
    export TEST_DATABASE_URL=$url
  fi
}

go_tests() {
  step "go vet"
  go vet ./...
  step "go build with CGO_ENABLED=0"
  CGO_ENABLED=0 go build -o /dev/null ./...
  ensure_postgres
  step "go test -race ./... (SQLite and PostgreSQL)"
  local log="$tmp/go-test.log"
  set +e
  # The fault suite drives the real binary as a child process; the race detector adds nothing there,
  # so it runs on its own, without -race, after the rest.
  go test -race -count=1 -timeout 8m -v $(go list ./... | grep -v '/faults$') >"$log" 2>&1 &&
    go test -count=1 -timeout 5m -v ./faults/ >>"$log" 2>&1
  local status=$?
  set -e
  # Package results and failures in full; each database-backed test is summarised per database.
  grep -E '^(ok|FAIL|---|panic:|\s+--- FAIL|.*_test\.go:[0-9]+:)' "$log" | grep -vE '^\s*--- (PASS|SKIP)' || true
  local sqlite pg skipped
  sqlite=$(grep -cE -- '--- PASS: .*/sqlite ' "$log" || true)
  pg=$(grep -cE -- '--- PASS: .*/postgres ' "$log" || true)
  skipped=$(grep -cE -- '--- SKIP: .*/postgres ' "$log" || true)
  echo "database tests passed: sqlite $sqlite, postgres $pg (skipped on postgres: $skipped)"
  if [ "$status" -ne 0 ]; then
    echo "go test failed; full log follows the summary above" >&2
    grep -B2 -A30 -E -- '--- FAIL|panic:' "$log" | head -300 >&2 || true
    exit "$status"
  fi
  if [ "$pg" -eq 0 ]; then
    echo "no test ran on PostgreSQL" >&2
    exit 1
  fi
}

ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then return; fi
  echo "installing Debian's chromium for the browser tests"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium; } >"$tmp/apt.log" 2>&1; then
    cat "$tmp/apt.log" >&2
    echo "cannot install chromium" >&2
    exit 1
  fi
}

web_tests() {
  step "web: npm ci, unit tests, build"
  (cd web && { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund; } \
    && npm test && npm run build)

  step "browser tests against the real server (embedded SQLite)"
  ensure_chromium
  go build -o "$tmp/switchboard" ./cmd/switchboard
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 18181)
  local url="http://127.0.0.1:$port"
  SWITCHBOARD_ADDR="127.0.0.1:$port" SWITCHBOARD_PUBLIC_URL="$url" SWITCHBOARD_DATA_DIR="$tmp/e2e-data" \
    SWITCHBOARD_ADMIN_EMAIL=admin@example.com SWITCHBOARD_ADMIN_PASSWORD=e2e-admin-password \
    SWITCHBOARD_LOG_LEVEL=warn "$tmp/switchboard" >"$tmp/e2e-server.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    curl -fsS "$url/readyz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -fsS "$url/readyz" >/dev/null || { cat "$tmp/e2e-server.log" >&2; exit 1; }
  local suite
  for suite in run.mjs admin.mjs; do
    (cd web && SWITCHBOARD_E2E_URL="$url" SWITCHBOARD_E2E_ADMIN_EMAIL=admin@example.com \
      SWITCHBOARD_E2E_ADMIN_PASSWORD=e2e-admin-password SWITCHBOARD_E2E_SCREENSHOTS="${SWITCHBOARD_E2E_SCREENSHOTS:-$tmp/screenshots}" \
      node "e2e/$suite") || { echo "server log:" >&2; tail -50 "$tmp/e2e-server.log" >&2; exit 1; }
  done
}

case "$what" in
all) go_tests; web_tests ;;
go) go_tests ;;
web) web_tests ;;
*) sed -n '2,12p' "$0" >&2; exit 2 ;;
esac
step "all tests passed"
