#!/usr/bin/env bash
# pg.sh — a throwaway PostgreSQL for tests and benchmarks, from the installed binaries (no docker).
#
#   scripts/pg.sh start DIR [PORT]   initialise DIR (if new) and start a server on 127.0.0.1:PORT
#                                    (default: the first free port from 55432); prints its URL
#   scripts/pg.sh stop DIR           stop it
#   scripts/pg.sh url DIR            print the URL of a running one
#
# Durability is off (fsync, synchronous_commit, full_page_writes): this server holds test data only.
# As root, initdb and the server run as the `postgres` user, since PostgreSQL refuses to run as root.
set -euo pipefail

find_bin() {
  local name=$1
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/$name" ]; then echo "$d/$name"; return; fi
  done
  return 1
}

ensure_binaries() {
  if find_bin initdb >/dev/null && find_bin pg_ctl >/dev/null; then return; fi
  echo "pg.sh: PostgreSQL binaries not found; installing the postgresql package" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >&2
  find_bin initdb >/dev/null || { echo "pg.sh: cannot install PostgreSQL" >&2; exit 1; }
}

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    # runuser keeps the environment minimal; pass what the binaries need.
    runuser -u postgres -- env PATH="$PATH" "$@"
  else
    "$@"
  fi
}

free_port() {
  local p=${1:-55432}
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}

cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { sed -n '2,10p' "$0" >&2; exit 2; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

case "$cmd" in
start)
  ensure_binaries
  initdb=$(find_bin initdb); pg_ctl=$(find_bin pg_ctl)
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_pg "$initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  # A port found free can be taken before the server binds it (the tests open thousands of
  # connections, whose local ports come from the same range): unless the caller chose the port, try
  # the next free one.
  for attempt in 1 2 3 4 5; do
    port=${3:-$(free_port $((55432 + (attempt - 1) * 10)))}
    echo "$port" >"$dir/port"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir/port"
    if as_pg "$pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o \
      "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400 -c shared_buffers=256MB" >/dev/null; then
      echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
      exit 0
    fi
    [ -z "${3:-}" ] && grep -q "could not bind\|could not create any TCP/IP sockets" "$dir/server.log" || break
    echo "pg.sh: port $port was taken meanwhile; trying another" >&2
  done
  cat "$dir/server.log" >&2
  exit 1
  ;;
stop)
  pg_ctl=$(find_bin pg_ctl)
  [ -f "$dir/data/postmaster.pid" ] && as_pg "$pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
  ;;
url)
  echo "postgres://postgres@127.0.0.1:$(cat "$dir/port")/postgres?sslmode=disable"
  ;;
*)
  sed -n '2,10p' "$0" >&2; exit 2 ;;
esac
