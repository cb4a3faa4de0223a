#!/usr/bin/env bash
# bench.sh — Switchboard's ingest speed measured against the machine's own limit.
#
#   1. A throwaway PostgreSQL (scripts/pg.sh). pgbench runs the SAME per-message SQL the webhook
#      ingestion runs (store/inbound.go, steady state: a known contact writing in an open
#      conversation), at the same concurrency as the load: the machine's limit for this work.
#   2. Switchboard on that PostgreSQL, driven by cmd/loadgen as fast as it answers: acknowledged
#      customer messages/s, and the ratio to pgbench (run right before and right after it, after an
#      unmeasured run that warms the cluster). Then fixed rates for the latency targets (ack
#      p99 at 1,000 msg/s, webhook → agent screen p99 at 500 msg/s); the SQL statements the running
#      code sends per message (to compare with pgbench's script); 5,000 idle agent websockets.
#   3. The same full-speed load on the embedded SQLite default.
#
# Every figure is also written as JSON under $BENCH_OUT (default /tmp/switchboard-bench). The machine is
# shared: run it when it is quiet, and read the load average printed at the start and the end.
#
#   scripts/bench.sh              everything
#   scripts/bench.sh postgres     only steps 1-2 (without the idle websockets)
#   scripts/bench.sh sqlite       only step 3
#   scripts/bench.sh idle         only the idle websockets (on PostgreSQL)
#   scripts/bench.sh statements   only the count of SQL statements per message (log_statement=all)
#   scripts/bench.sh pgbench      only the pgbench limit
#
# Knobs (environment): DURATION (20s, whole seconds), WARMUP (15s: every contact's first message, its
# routing and its greeting happen before the measured window, which is the steady state; the load
# generator then holds the window back, the load running, until no inbound job is queued: at full
# speed routing a thousand new conversations takes longer than the warm-up),
# CONCURRENCY (32: webhooks in flight, and pgbench's clients; Meta delivers concurrently, and at
# 2,000 messages/s with real network round trips of 20-100 ms a server has 40-200 deliveries open at
# once, so 32 on loopback is a conservative stand-in), AGENTS (5), CAPACITY (250, so that the agents can hold every contact's
# conversation), CONTACTS (1000), IDLE_CONNS (5000), IDLE_AGENTS (250), BENCH_OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-15s}
CONCURRENCY=${CONCURRENCY:-32}
AGENTS=${AGENTS:-5}
CAPACITY=${CAPACITY:-250}
CONTACTS=${CONTACTS:-1000}
IDLE_CONNS=${IDLE_CONNS:-5000}
IDLE_AGENTS=${IDLE_AGENTS:-250}
out=${BENCH_OUT:-${TMPDIR:-/tmp}/switchboard-bench}
mkdir -p "$out"
out=$(cd "$out" && pwd)
[[ $DURATION =~ ^[0-9]+s$ ]] || { echo "DURATION must be whole seconds, e.g. 20s (pgbench needs seconds)" >&2; exit 2; }
secs=${DURATION%s}

tmp=$(mktemp -d)
chmod 755 "$tmp" # the throwaway PostgreSQL runs as the postgres user and must reach its directory
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  [ -d "$tmp/pg" ] && scripts/pg.sh stop "$tmp/pg" || true
  rm -rf "$tmp"
}
trap cleanup EXIT

step() { printf '\n==> %s\n' "$*"; }
free_port() {
  local p=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}

machine() {
  echo "machine: $(nproc) cores, $(free -m | awk '/Mem:/ {print $2}') MB RAM, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "         $(go version | cut -d' ' -f3-), $(psql --version 2>/dev/null || echo 'psql not installed')"
}

step "building switchboard and loadgen"
CGO_ENABLED=0 go build -o "$tmp/switchboard" ./cmd/switchboard
CGO_ENABLED=0 go build -o "$tmp/loadgen" ./cmd/loadgen
machine | tee "$out/machine.txt"

admin_email=admin@example.com
admin_password=bench-admin-password
graph_port=$(free_port 19100)
app_port=$(free_port 18100)
app="http://127.0.0.1:$app_port"

# start_server LABEL [DATABASE_URL]: runs Switchboard on the loadgen's fake Graph API.
start_server() {
  local label=$1 db=${2:-}
  mkdir -p "$tmp/data-$label"
  SWITCHBOARD_ADDR="127.0.0.1:$app_port" SWITCHBOARD_PUBLIC_URL="$app" SWITCHBOARD_DATA_DIR="$tmp/data-$label" \
    SWITCHBOARD_SANDBOX=false SWITCHBOARD_ADMIN_EMAIL=$admin_email SWITCHBOARD_ADMIN_PASSWORD=$admin_password \
    SWITCHBOARD_GRAPH_API_URL="http://127.0.0.1:$graph_port" SWITCHBOARD_LOG_LEVEL=error DATABASE_URL="$db" \
    "$tmp/switchboard" >"$tmp/server-$label.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 200); do
    curl -fsS "$app/readyz" >/dev/null 2>&1 && return
    sleep 0.1
  done
  cat "$tmp/server-$label.log" >&2
  echo "switchboard did not start" >&2
  exit 1
}
stop_server() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
# ticks PID...: CPU time (user + system, in clock ticks) used so far by the processes.
ticks() {
  local total=0 p
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] || continue
    total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo "$total"
}
# pg_ticks: CPU used so far by the throwaway cluster (not other clusters on the machine): its
# postmaster, the backends alive now, and those that exited (reaped by the postmaster: its cutime
# and cstime), so that short-lived connections such as pgbench's are counted too.
pg_ticks() {
  [ -f "$tmp/pg/data/postmaster.pid" ] || { echo 0; return; }
  local pm
  pm=$(head -1 "$tmp/pg/data/postmaster.pid")
  echo $(( $(awk '{print $16 + $17}' "/proc/$pm/stat") + $(ticks "$pm" $(ps -o pid= --ppid "$pm")) ))
}
# load NAME [loadgen flags...]: one loadgen run, table on stdout, JSON in $out/NAME.json, and the CPU
# each process used meanwhile (how the 2 cores were shared).
load() {
  local name=$1
  shift
  local hz s0 p0 t0 t1
  hz=$(getconf CLK_TCK)
  s0=$(ticks "$server_pid"); p0=$(pg_ticks); t0=$(date +%s.%N)
  /usr/bin/time -f "%U %S" -o "$tmp/loadgen-cpu" "$tmp/loadgen" run -url "$app" -graph-listen "127.0.0.1:$graph_port" \
    -admin-email $admin_email -admin-password $admin_password -c "$CONCURRENCY" -agents "$AGENTS" -capacity "$CAPACITY" \
    -contacts "$CONTACTS" -warmup "$WARMUP" -duration "$DURATION" -drain 15s -quiet -label "$name" -json "$out/$name.json" "$@"
  t1=$(date +%s.%N)
  python3 - "$hz" "$t0" "$t1" "$s0" "$(ticks "$server_pid")" "$p0" "$(pg_ticks)" "$(cat "$tmp/loadgen-cpu")" "$out/$name.json" <<'PY'
import json, sys
hz, t0, t1 = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
s0, s1, p0, p1 = (float(x) for x in sys.argv[4:8])
u, st = (float(x) for x in sys.argv[8].split())
wall = t1 - t0
cpu = {"server_cores": (s1 - s0) / hz / wall, "postgres_cores": (p1 - p0) / hz / wall, "loadgen_cores": (u + st) / wall, "wall_s": wall}
d = json.load(open(sys.argv[9]))
msgs = max(d["acked_messages"], 1)  # every customer message of the run (warm-up, window and drain)
cpu["server_cpu_ms_per_message"] = 1000 * (s1 - s0) / hz / msgs
cpu["postgres_cpu_ms_per_message"] = 1000 * (p1 - p0) / hz / msgs
print(f"  CPU while it ran (cores of 2)  Switchboard {cpu['server_cores']:.2f}, PostgreSQL {cpu['postgres_cores']:.2f}, loadgen {cpu['loadgen_cores']:.2f}")
print(f"  CPU per customer message       Switchboard {cpu['server_cpu_ms_per_message']:.2f} ms, PostgreSQL {cpu['postgres_cpu_ms_per_message']:.2f} ms")
d["cpu"] = cpu
json.dump(d, open(sys.argv[9], "w"), indent=2)
PY
}

pg_url=""
ensure_pg() {
  [ -n "$pg_url" ] && return
  step "throwaway PostgreSQL"
  pg_url=$(scripts/pg.sh start "$tmp/pg")
  echo "$pg_url (fsync, synchronous_commit and full_page_writes off, as in tests)"
}
db_url() { echo "${pg_url%/postgres?*}/$1?sslmode=disable"; }

# pgbench_limit [NAME]: the pgbench run; its output in $out/NAME.txt and NAME.json (default pgbench),
# its rate in $pgbench_tps.
pgbench_limit() {
  local name=${1:-pgbench}
  ensure_pg
  step "pgbench ($name): the ingestion's per-message SQL, $CONCURRENCY clients, $DURATION"
  local db
  db=$(db_url bench_pgbench)
  psql -q "$pg_url" -c "DROP DATABASE IF EXISTS bench_pgbench" -c "CREATE DATABASE bench_pgbench"
  DATABASE_URL="$db" SWITCHBOARD_DATA_DIR="$tmp/data-migrate" SWITCHBOARD_LOG_LEVEL=error "$tmp/switchboard" migrate >/dev/null
  # One channel; CONTACTS contacts with an open conversation each (ids 1..CONTACTS): the steady state
  # of an inbox, where a message comes from someone already talking to the business.
  psql -q "$db" <<SQL
INSERT INTO channels (id, name, phone_number, phone_number_id, business_account_id, api_key_enc, app_secret_enc, verify_token,
  settings, created_at, updated_at)
VALUES (1, 'Bench', '+15550001234', '106540352242922', '102290129340398', 'v1:sealed', 'v1:sealed', 'verify', '{}', now(), now());
INSERT INTO contacts (id, name, wa_id, phone, created_at, updated_at)
  SELECT i, 'Customer ' || i, '4900' || lpad(i::text, 7, '0'), '+4900' || lpad(i::text, 7, '0'), now(), now()
  FROM generate_series(1, $CONTACTS) i;
INSERT INTO conversations (id, channel_id, contact_id, status, last_inbound_at, last_message_at, created_at, updated_at)
  SELECT i, 1, i, 'open', now(), now(), now(), now() FROM generate_series(1, $CONTACTS) i;
SELECT setval(pg_get_serial_sequence('contacts', 'id'), $CONTACTS), setval(pg_get_serial_sequence('conversations', 'id'), $CONTACTS);
VACUUM ANALYZE;
SQL
  # The statements the webhook endpoint sends for one text message of a known contact in an open
  # conversation, stored alone (store.IngestInboundMany on PostgreSQL, store/ingest_postgres.go, with
  # a group of one webhook): the reads under the locks and the new message's id, then the writes and
  # the commit in one pipeline, as the server sends them; then the event notification (pipeline
  # notifyLoop). The channel comes from a 2-second cache, so it is not read per message. Payloads
  # have the same size. `scripts/bench.sh statements` lists what the running code actually sends:
  # compare when store/ingest_postgres.go changes. (JSON literals have a space after each colon:
  # pgbench would read ":false" as a variable.)
  cat >"$tmp/ingest.sql" <<'SQL'
\set c random(1, :contacts)
\set r random(1, 9000000000000000000)
BEGIN;
SELECT id AS contact_id FROM contacts WHERE wa_id = ANY(ARRAY['4900' || lpad(:c::text, 7, '0')]) ORDER BY id FOR UPDATE \gset
SELECT m.external_id FROM unnest(ARRAY['wamid.HBgMNDkwMDAwMDAwMDEVAgASGCA' || :r]::text[]) AS w(wamid)
  CROSS JOIN LATERAL (SELECT external_id FROM messages WHERE channel_id = 1 AND external_id = w.wamid LIMIT 1) m;
SELECT c.id AS conv_id, c.unread_count AS conv_unread FROM conversations c JOIN contacts k ON k.id = c.contact_id
  WHERE k.wa_id = ANY(ARRAY['4900' || lpad(:c::text, 7, '0')]) AND c.channel_id + 0 = 1 AND c.status <> 'resolved' ORDER BY c.id FOR UPDATE OF c \gset
SELECT nextval(pg_get_serial_sequence('messages', 'id')) AS msg_id FROM generate_series(1, 1) \gset
\startpipeline
INSERT INTO messages (id, conversation_id, channel_id, direction, sender, sender_name, type, text, private, external_id, status, status_rank,
  error_code, error_title, error_details, media, reactions, reply_to, payload, timestamp, created_at)
  SELECT id, conversation_id, channel_id, 'inbound', 'customer', sender_name, type, text, false, external_id, 'received', 0, error_code,
    error_title, error_details, media, reactions, reply_to, payload, timestamp, now()
  FROM unnest(ARRAY[:msg_id]::bigint[], ARRAY[:conv_id]::bigint[], ARRAY[1]::bigint[], ARRAY['text']::text[],
    ARRAY['Hi, where is my order? It was supposed to arrive yesterday.']::text[], ARRAY['wamid.HBgMNDkwMDAwMDAwMDEVAgASGCA' || :r]::text[],
    ARRAY[NULL]::text[], ARRAY['']::text[], ARRAY[now()]::timestamptz[],
    ARRAY['{"from": "4900000000001","id": "wamid.HBgMNDkwMDAwMDAwMDEVAgASGCA1234567890","text": {"body": "Hi, where is my order? It was supposed to arrive yesterday."},"timestamp": "1795300643","type": "text"}']::text[],
    ARRAY['']::text[], ARRAY[NULL]::int[], ARRAY['']::text[], ARRAY['']::text[], ARRAY['[]']::text[])
  AS v(id, conversation_id, channel_id, type, text, external_id, media, reply_to, timestamp, payload, sender_name, error_code, error_title, error_details, reactions);
UPDATE conversations SET last_inbound_at = v.last_inbound_at, unread_count = v.unread_count,
  last_message_at = COALESCE(v.last_message_at, conversations.last_message_at),
  last_message_preview = COALESCE(v.preview, conversations.last_message_preview), updated_at = now()
  FROM unnest(ARRAY[:conv_id]::bigint[], ARRAY[now()]::timestamptz[], ARRAY[:conv_unread + 1]::int[], ARRAY[now()]::timestamptz[],
    ARRAY['Hi, where is my order? It was supposed to arrive yesterday.']::text[]) AS v(id, last_inbound_at, unread_count, last_message_at, preview)
  WHERE conversations.id = v.id;
INSERT INTO events (type, channel_id, conversation_id, data, created_at)
  SELECT type, channel_id, conversation_id, data, now()
  FROM unnest(ARRAY['conversation.updated', 'message.created']::text[], ARRAY[1, 1]::bigint[], ARRAY[:conv_id, :conv_id]::bigint[], ARRAY[
  '{"id": 1,"channel_id": 1,"contact_id": 1,"contact": {"id": 1,"name": "Customer 1","wa_id": "49000000001","phone": "+49000000001","tags": [],"opted_out": false,"created_at": "2026-11-21T22:37:23.112143Z","updated_at": "2026-11-21T22:37:23.112143Z"},"status": "open","assignee": {"kind": "human","id": 3,"name": "Lena Agent 2"},"team_id": null,"ai_handed_off": false,"last_inbound_at": "2026-11-21T22:37:23Z","window_expires_at": "2026-11-22T22:37:23Z","last_message_at": "2026-11-21T22:37:23Z","last_message_preview": "Hi, where is my order? It was supposed to arrive yesterday.","unread_count": 1,"waiting_since": null,"assigned_at": null,"resolved_at": null,"resolutions": 0,"created_at": "2026-11-21T22:37:23.117682Z","updated_at": "2026-11-21T22:37:23.114507Z"}',
  '{"id": 1,"conversation_id": 1,"channel_id": 1,"direction": "inbound","sender": "customer","type": "text","text": "Hi, where is my order? It was supposed to arrive yesterday.","private": false,"external_id": "wamid.HBgMNDkwMDAwMDAwMDEVAgASGCA1234567890","status": "received","error": null,"reactions": null,"payload": {"from": "4900000000001","id": "wamid.HBgMNDkwMDAwMDAwMDEVAgASGCA1234567890","text": {"body": "Hi, where is my order? It was supposed to arrive yesterday."},"timestamp": "1795300643","type": "text"},"timestamp": "2026-11-21T22:37:23Z","created_at": "2026-11-21T22:37:23.114507Z"}'
  ]::text[]) WITH ORDINALITY AS v(type, channel_id, conversation_id, data, n) ORDER BY n RETURNING seq;
COMMIT;
\endpipeline
SELECT pg_notify('switchboard_events', '{"o": "cf4de289111eae08","s": [1,2]}');
SQL
  local p0 p1 t0 t1
  local pg_children
  pg_children=$(ps -o pid= --ppid "$(head -1 "$tmp/pg/data/postmaster.pid")" | wc -l)
  p0=$(pg_ticks); t0=$(date +%s.%N)
  /usr/bin/time -f "%U %S" -o "$tmp/pgbench-cpu" pgbench -n -M "${PGBENCH_MODE:-prepared}" -c "$CONCURRENCY" -j 2 -T "$secs" \
    -D contacts="$CONTACTS" -f "$tmp/ingest.sql" "$db" >"$tmp/pgbench.txt" 2>&1 || { cat "$tmp/pgbench.txt" >&2; exit 1; }
  t1=$(date +%s.%N)
  # pgbench's backends are counted once the postmaster has reaped them: wait until they are gone.
  for _ in $(seq 1 50); do
    [ "$(ps -o pid= --ppid "$(head -1 "$tmp/pg/data/postmaster.pid")" | wc -l)" -le "$pg_children" ] && break
    sleep 0.1
  done
  p1=$(pg_ticks)
  grep -E '^(number of clients|number of transactions actually processed|latency average|tps)' "$tmp/pgbench.txt"
  pgbench_tps=$(awk '/^tps = / {print $3; exit}' "$tmp/pgbench.txt")
  cp "$tmp/pgbench.txt" "$out/$name.txt"
  python3 - "$(getconf CLK_TCK)" "$t0" "$t1" "$p0" "$p1" "$(cat "$tmp/pgbench-cpu")" "$pgbench_tps" "$out/$name.json" <<'PY'
import json, sys
hz, t0, t1, p0, p1 = (float(x) for x in sys.argv[1:6])
u, s = (float(x) for x in sys.argv[6].split())
tps, wall = float(sys.argv[7]), t1 - t0
pg = (p1 - p0) / hz
d = {"tps": tps, "wall_s": wall, "postgres_cores": pg / wall, "pgbench_cores": (u + s) / wall,
     "postgres_cpu_ms_per_message": 1000 * pg / (tps * wall)}
print(f"CPU while it ran (cores of 2): PostgreSQL {d['postgres_cores']:.2f}, pgbench {d['pgbench_cores']:.2f}; "
      f"PostgreSQL CPU per message {d['postgres_cpu_ms_per_message']:.2f} ms")
json.dump(d, open(sys.argv[8], "w"), indent=2)
PY
}

# settle: each run starts from a quiet cluster: the previous run's database dropped or vacuumed and a
# checkpoint taken, so that autovacuum and the checkpointer do not work through the next run.
settle() {
  psql -q "$pg_url" -c "DROP DATABASE IF EXISTS bench_pgbench" >/dev/null
  [ -n "$server_pid" ] && psql -q "$(db_url bench_switchboard)" -c "VACUUM ANALYZE" >/dev/null
  psql -q "$pg_url" -c "CHECKPOINT" >/dev/null
}

postgres_runs() {
  ensure_pg
  psql -q "$pg_url" -c "DROP DATABASE IF EXISTS bench_switchboard" -c "CREATE DATABASE bench_switchboard"
  start_server postgres "$(db_url bench_switchboard)"
  # A cluster minutes old is slow on some machines (see docs/performance.md): one unmeasured run first,
  # as a production database has served traffic before.
  step "Switchboard on PostgreSQL: warming the cluster (${WARMUP} + ${DURATION}, not reported)"
  load pg-warm >/dev/null
  # pgbench right before and right after the full-speed run (the server idle meanwhile), so that the
  # ratio compares figures taken minutes apart at most: this machine's speed drifts.
  settle
  pgbench_limit pgbench
  local before=$pgbench_tps
  settle
  step "Switchboard on PostgreSQL: full speed, $CONCURRENCY senders, $AGENTS agents on websockets"
  load pg-max
  settle
  pgbench_limit pgbench-after
  settle
  step "Switchboard on PostgreSQL: 1,000 messages/s (ack latency)"
  load pg-1000 -rate 1000
  settle
  step "Switchboard on PostgreSQL: 500 messages/s (webhook → agent screen latency)"
  load pg-500 -rate 500
  stop_server
  step "PostgreSQL summary"
  python3 - "$before" "$pgbench_tps" "$out" <<'PY'
import json, sys
before, after, out = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
tps = max(before, after)  # the machine's limit: the better of the two
mx, r1000, r500 = (json.load(open(f"{out}/{n}.json")) for n in ("pg-max", "pg-1000", "pg-500"))
def mark(ok): return "ok  " if ok else "MISS"
print(f"pgbench (same SQL, same concurrency)   {before:8.0f} messages/s before the full-speed run, {after:.0f} after; the limit {tps:.0f}")
if abs(before - after) > 0.3 * max(before, after):
    print("  the machine's speed changed during the run: the ratio below is not reliable")
print(f"Switchboard, full speed                {mx['acked_messages_per_s']:8.0f} messages/s acked ({mx['server_stored_messages_per_s']:.0f}/s stored)")
print(f"ratio (to the limit)                   {mx['acked_messages_per_s']/tps:8.2f}")
pb = json.load(open(f"{out}/pgbench.json"))
sw_ms = mx['cpu']['server_cpu_ms_per_message'] + mx['cpu']['postgres_cpu_ms_per_message']
print(f"PostgreSQL CPU per message: pgbench {pb['postgres_cpu_ms_per_message']:.2f} ms, Switchboard {mx['cpu']['postgres_cpu_ms_per_message']:.2f} ms;"
      f" Switchboard's own CPU per message {mx['cpu']['server_cpu_ms_per_message']:.2f} ms")
print(f"CPU ceiling on 2 dedicated cores (2000 ms / CPU ms per message): Switchboard + PostgreSQL {2000 / sw_ms:.0f} messages/s,"
      f" PostgreSQL alone under pgbench {2000 / max(pb['postgres_cpu_ms_per_message'], 0.001):.0f}")
print(f"{mark(mx['acked_messages_per_s'] >= 2000)} >= 2,000 messages/s on PostgreSQL")
print(f"{mark(mx['acked_messages_per_s'] / tps >= 0.6)} >= 0.6 of pgbench")
print(f"{mark(r1000['ack_latency']['p99_ms'] <= 50)} ack p99 {r1000['ack_latency']['p99_ms']:.1f} ms at {r1000['acked_messages_per_s']:.0f} messages/s (target <= 50 ms at 1,000)")
print(f"{mark(r500['webhook_to_agent_frame_latency']['p99_ms'] <= 100)} webhook -> screen p99 {r500['webhook_to_agent_frame_latency']['p99_ms']:.1f} ms at {r500['acked_messages_per_s']:.0f} messages/s (target <= 100 ms at 500)")
json.dump({"pgbench_tps": tps, "pgbench_tps_before": before, "pgbench_tps_after": after,
           "switchboard_messages_per_s": mx['acked_messages_per_s'], "ratio": mx['acked_messages_per_s']/tps},
          open(f"{out}/pg-ratio.json", "w"), indent=2)
PY
}

idle_run() {
  ensure_pg
  psql -q "$pg_url" -c "DROP DATABASE IF EXISTS bench_idle" -c "CREATE DATABASE bench_idle"
  start_server idle "$(db_url bench_idle)"
  step "$IDLE_CONNS idle agent websockets ($IDLE_AGENTS agents), on a fresh server process"
  # Creating agents hashes their passwords (argon2id, 19 MiB each): do it first, then restart the
  # server so that the memory measured is that of a fresh process holding the connections.
  "$tmp/loadgen" idle -url "$app" -admin-email $admin_email -admin-password $admin_password -agents "$IDLE_AGENTS" \
    -save-agents "$tmp/idle-agents.json" -quiet
  stop_server
  start_server idle "$(db_url bench_idle)"
  "$tmp/loadgen" idle -url "$app" -agents-file "$tmp/idle-agents.json" -conns "$IDLE_CONNS" -hold 30s -pid "$server_pid" \
    -quiet -label idle -json "$out/idle.json"
  stop_server
  python3 - "$out" <<'PY'
import json, sys
r = json.load(open(f"{sys.argv[1]}/idle.json"))
peak = max(r["rss_connected_bytes"], r["rss_end_bytes"], r.get("proc_vmhwm_bytes", 0)) / 2**20
ok = r["connected"] >= r["requested"] and peak <= 300
print(f"{'ok  ' if ok else 'MISS'} {r['connected']} idle websockets, server peak RSS {peak:.0f} MB (target 5,000 within 300 MB)")
PY
}

sqlite_run() {
  start_server sqlite ""
  step "Switchboard on the embedded SQLite: full speed, $CONCURRENCY senders, $AGENTS agents on websockets"
  load sqlite-max
  stop_server
  python3 - "$out" <<'PY'
import json, sys
r = json.load(open(f"{sys.argv[1]}/sqlite-max.json"))
v = r["acked_messages_per_s"]
print(f"{'ok  ' if v >= 1000 else 'MISS'} SQLite {v:.0f} messages/s acked ({r['server_stored_messages_per_s']:.0f}/s stored; target >= 1,000)")
PY
}

# statements: how many SQL statements Switchboard sends PostgreSQL per customer message, in steady
# state (known contacts, open conversations, text only, no replies): a low, steady load with
# log_statement=all for a few seconds. pgbench's script sends 10 per message (9 in the transaction).
statements_run() {
  ensure_pg
  psql -q "$pg_url" -c "DROP DATABASE IF EXISTS bench_statements" -c "CREATE DATABASE bench_statements"
  start_server statements "$(db_url bench_statements)"
  step "SQL statements per customer message (steady state, 50 messages/s, text only)"
  "$tmp/loadgen" run -url "$app" -graph-listen "127.0.0.1:$graph_port" -admin-email $admin_email -admin-password $admin_password \
    -c 4 -agents 2 -capacity 100 -contacts 50 -mix text=1 -reply-rate 0 -greeting=false -rate 50 -warmup 8s -duration 6s \
    -drain 5s -quiet -json "$out/statements-load.json" >/dev/null &
  local lg=$!
  sleep 9
  local log="$tmp/pg/server.log" from n0 n1
  local count="SELECT count(*) FROM messages WHERE direction = 'inbound'"
  from=$(wc -l <"$log")
  n0=$(psql -At "$(db_url bench_statements)" -c "$count")
  psql -q "$pg_url" -c "ALTER SYSTEM SET log_statement = 'all'" -c "SELECT pg_reload_conf()" >/dev/null
  sleep 4
  psql -q "$pg_url" -c "ALTER SYSTEM RESET log_statement" -c "SELECT pg_reload_conf()" >/dev/null
  n1=$(psql -At "$(db_url bench_statements)" -c "$count")
  wait "$lg"
  stop_server
  # Customer messages stored while statements were logged (the counts bracket the window, so the
  # figure is approximate by a message or two).
  tail -n +"$((from + 1))" "$log" | MESSAGES=$((n1 - n0)) python3 -c '
import os, re, sys, collections
c = collections.Counter()
for line in sys.stdin:
    m = re.search(r"LOG:  (?:execute [^:]+|statement): (.*)", line)
    if m and "pg_reload_conf" not in m.group(1) and "ALTER SYSTEM" not in m.group(1):
        c[re.sub(r"\s+", " ", m.group(1))[:90]] += 1
msgs = int(os.environ["MESSAGES"])
total = sum(c.values())
print(f"{total} statements for {msgs} customer messages: {total / max(msgs, 1):.1f} per message (pgbench script: 10)")
for k, v in c.most_common():
    print(f"  {v / max(msgs, 1):5.2f}  {k}")
' | tee "$out/statements.txt"
}

case "$what" in
all) postgres_runs; statements_run; idle_run; sqlite_run ;;
statements) statements_run ;;
pgbench) pgbench_limit ;;
postgres) postgres_runs ;;
sqlite) sqlite_run ;;
idle) idle_run ;;
*) sed -n '2,25p' "$0" >&2; exit 2 ;;
esac
step "done; results in $out"
machine
