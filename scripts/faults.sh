#!/usr/bin/env bash
# faults.sh — the long form of the fault suite (faults/): the real server, built and run as a child
# process under load, is broken on purpose and its database is checked against what it acknowledged.
#
#   kill -9 during load, restarted each time (SQLite and PostgreSQL)   ≥ 10 cycles each (FAULTS_KILL_CYCLES)
#   Graph API down for 30 s while replies are queued                   delivered once, in order
#   PostgreSQL restarted 3 times during load                           recovers alone; no 200 for a lost webhook
#
# The short form (3 cycles, 5 s outage, 1 restart) runs in scripts/test.sh as `go test ./faults/`.
# PostgreSQL: TEST_DATABASE_URL if set, else a throwaway cluster from scripts/pg.sh; the restart test
# always starts its own private cluster, so nothing else is disturbed.
#
#   scripts/faults.sh                  every fault, long form
#   scripts/faults.sh kill             only the kill -9 cycles (also: graph, postgres)
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
tmp=$(mktemp -d)
chmod 755 "$tmp" # the throwaway PostgreSQL runs as the postgres user and must reach its directory
cleanup() {
  [ -d "$tmp/pg" ] && scripts/pg.sh stop "$tmp/pg" || true
  rm -rf "$tmp"
}
trap cleanup EXIT

if [ -z "${TEST_DATABASE_URL:-}" ]; then
  echo "PostgreSQL: starting a throwaway cluster"
  TEST_DATABASE_URL=$(scripts/pg.sh start "$tmp/pg")
  export TEST_DATABASE_URL
fi
export FAULTS_LONG=1
case "$what" in
all) run='.' ;;
kill) run='TestKillDuringLoad' ;;
graph) run='TestGraphAPIOutage' ;;
postgres) run='TestPostgresRestart' ;;
*) sed -n '2,15p' "$0" >&2; exit 2 ;;
esac

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); kill cycles: ${FAULTS_KILL_CYCLES:-12}"
log="$tmp/faults.log"
set +e
go test -count=1 -v -timeout 40m -run "$run" ./faults/ >"$log" 2>&1
status=$?
set -e
# The suite's findings (its t.Logf lines) and the verdicts.
grep -E '^\s+(kill|graph|postgres)_test\.go:[0-9]+: |^(---|ok|FAIL|PASS)|^\s+--- ' "$log" | sed -E 's/^\s+//' || true
if [ "$status" -ne 0 ]; then
  echo "fault suite FAILED; the log follows" >&2
  tail -150 "$log" >&2
  exit "$status"
fi
echo "fault suite passed: 0 lost, 0 duplicated (see the counts above)"
