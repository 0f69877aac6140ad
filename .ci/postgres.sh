#!/usr/bin/env bash
# A throwaway PostgreSQL server on localhost for the history store's tests: Debian's package,
# a fresh cluster in a temporary folder, trust authentication on 127.0.0.1 only.
# Prints the URL to use on its last line; exits non-zero if the server cannot be had.
# With --stop: stops it and removes its folder.
set -euo pipefail
PORT="${CARBON_PG_PORT:-54329}"
ROOT="${CARBON_PG_ROOT:-/tmp/carbon-pg}"
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null 2>&1
fi
BIN="$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")"
RUN_AS=()
if [ "$(id -u)" = 0 ]; then RUN_AS=(runuser -u postgres --); fi  # initdb refuses to run as root
if [ -f "$ROOT/data/postmaster.pid" ]; then "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$ROOT/data" stop -m fast >/dev/null 2>&1 || true; fi
if [ "${1:-}" = "--stop" ]; then rm -rf "$ROOT"; exit 0; fi
rm -rf "$ROOT" && mkdir -p "$ROOT"
if [ "$(id -u)" = 0 ]; then chown postgres "$ROOT"; fi
"${RUN_AS[@]}" "$BIN/initdb" -D "$ROOT/data" -A trust -U postgres >/dev/null
"${RUN_AS[@]}" "$BIN/pg_ctl" -D "$ROOT/data" -l "$ROOT/log" -w start \
  -o "-p $PORT -k $ROOT -c listen_addresses=127.0.0.1 -c fsync=off" >/dev/null
"${RUN_AS[@]}" "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres carbon
echo "postgresql://postgres@127.0.0.1:$PORT/carbon"
