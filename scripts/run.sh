#!/usr/bin/env bash
# run.sh — run Switchboard on its embedded default (SQLite in ./data, sandbox on), building the web
# app first when it is missing or older than its sources. Extra arguments go to the server.
set -euo pipefail
cd "$(dirname "$0")/.."

needs_build() {
  [ -f web/dist/index.html ] || return 0
  [ -n "$(find web/src web/index.html web/package.json -newer web/dist/index.html -print -quit 2>/dev/null)" ]
}
if needs_build; then
  echo "==> building the web app"
  (cd web && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build)
fi

export SWITCHBOARD_ADDR=${SWITCHBOARD_ADDR:-:8080}
port=${SWITCHBOARD_ADDR##*:}
export SWITCHBOARD_PUBLIC_URL=${SWITCHBOARD_PUBLIC_URL:-http://localhost:$port}
export SWITCHBOARD_DATA_DIR=${SWITCHBOARD_DATA_DIR:-./data}
if [ -z "${SWITCHBOARD_ADMIN_EMAIL:-}" ] && [ ! -f "$SWITCHBOARD_DATA_DIR/switchboard.db" ]; then
  export SWITCHBOARD_ADMIN_EMAIL=admin@example.com
  export SWITCHBOARD_ADMIN_PASSWORD=${SWITCHBOARD_ADMIN_PASSWORD:-switchboard-admin}
  first_admin="Sign in as $SWITCHBOARD_ADMIN_EMAIL with password $SWITCHBOARD_ADMIN_PASSWORD (change it under your profile)."
fi

echo "==> building the server"
mkdir -p bin
go build -o bin/switchboard ./cmd/switchboard
echo "==> Switchboard on $SWITCHBOARD_PUBLIC_URL (data in $SWITCHBOARD_DATA_DIR, SQLite, sandbox on)"
[ -n "${first_admin:-}" ] && echo "    $first_admin"
exec bin/switchboard serve "$@"
