#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 for local clusters, installing it if needed.
#   deploy/local/postgres.sh start   -> prints the connection string (and, on stderr, its data folder and port)
#   deploy/local/postgres.sh stop
# initdb/pg_ctl refuse to run as root, so the cluster lives under /tmp owned by the postgres user.
# One server per data folder: AGENTDESK_PG_DATA (default /tmp/agentdesk-pg) chooses it, AGENTDESK_PG_PORT the first port
# tried (default 55432; the next free one is taken). ./test.sh runs its own server in /tmp/agentdesk-pg-tests, so
# stopping or resetting this one never disturbs a test run, nor the reverse. A data folder whose server is not running
# is wiped and initialised again: keep nothing here you cannot lose.
set -euo pipefail
DATA=${AGENTDESK_PG_DATA:-/tmp/agentdesk-pg}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)

install() {
  if [ -z "$BIN" ]; then
    echo "Installing PostgreSQL (apt)..." >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
}

free_port() {
  local port=${AGENTDESK_PG_PORT:-55432}
  while (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null; do port=$((port + 1)); done
  echo $port
}

case "${1:-start}" in
  start)
    install
    if [ -f "$DATA/postmaster.pid" ] && su postgres -c "$BIN/pg_ctl -D $DATA status" >/dev/null 2>&1; then
      port=$(sed -n 4p "$DATA/postmaster.pid")
    else
      rm -rf "$DATA"
      mkdir -p "$DATA" && chown postgres:postgres "$DATA"
      su postgres -c "$BIN/initdb -D $DATA -U postgres -A trust >/dev/null"
      port=$(free_port)
      su postgres -c "$BIN/pg_ctl -D $DATA -l $DATA/server.log -w -o '-p $port -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off' start >/dev/null"
    fi
    echo "PostgreSQL: data in $DATA, port $port (AGENTDESK_PG_DATA=$DATA deploy/local/postgres.sh stop stops it)" >&2
    echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
    ;;
  stop)
    [ -n "$BIN" ] && [ -d "$DATA" ] && su postgres -c "$BIN/pg_ctl -D $DATA -m fast stop" >/dev/null 2>&1 || true
    ;;
esac
