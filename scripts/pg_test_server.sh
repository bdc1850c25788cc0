#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server on a free 127.0.0.1 port, for the test suite.
#   scripts/pg_test_server.sh start DIR   initdb into DIR, start, print the connection URI
#   scripts/pg_test_server.sh stop DIR    stop the server and remove DIR
# As root (as CI runs), initdb and the server run as the `postgres` user, which owns DIR.
set -euo pipefail
BIN=/usr/lib/postgresql/15/bin
cmd=${1:?usage: $0 start|stop DIR}
dir=${2:?usage: $0 start|stop DIR}
as=()
if [ "$(id -u)" -eq 0 ]; then as=(runuser -u postgres --); fi

case "$cmd" in
  start)
    [ -x "$BIN/initdb" ] || { echo "PostgreSQL 15 server binaries not found in $BIN (apt-get install postgresql-15)" >&2; exit 1; }
    mkdir -p "$dir"
    pw="almanac-ci-$$-$RANDOM"
    echo "$pw" > "$dir/pw"
    if [ "$(id -u)" -eq 0 ]; then chown -R postgres:postgres "$dir"; fi
    cd "$dir"
    "${as[@]}" "$BIN/initdb" -U postgres --auth-local=trust --auth-host=scram-sha-256 --pwfile="$dir/pw" \
      --no-sync --locale=C --encoding=UTF8 -D "$dir/data" >"$dir/setup.log" 2>&1 \
      || { cat "$dir/setup.log" >&2; exit 1; }
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "${as[@]}" "$BIN/pg_ctl" -w -t 60 -D "$dir/data" -l "$dir/server.log" start \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
      >>"$dir/setup.log" 2>&1 || { cat "$dir/setup.log" "$dir/server.log" >&2; exit 1; }
    echo "postgresql://postgres:$pw@127.0.0.1:$port/postgres"
    ;;
  stop)
    if [ -d "$dir/data" ]; then (cd /tmp && "${as[@]}" "$BIN/pg_ctl" -D "$dir/data" stop -m fast >/dev/null 2>&1) || true; fi
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
