#!/usr/bin/env bash
# MLflow API benchmark (issue 22), not part of the test command:
#   runs/log-batch with 1,000 metrics (target p99 < 20 ms) and runs/search with a metric filter
#   over 100,000 runs (target < 50 ms), on SQLite and on a throwaway PostgreSQL. The stores are
#   filled by populate.sh (one INSERT ... SELECT per table); bench.py measures ROUNDS rounds of
#   CALLS log-batch and SEARCHES search calls, with the server's CPU time per request and the
#   load average of each round.
#   bench/mlflow/run.sh   (BUILD=build/default RUNS=100000 ROUNDS=5 CALLS=100 SEARCHES=20
#                          BACKENDS="sqlite postgresql")
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${BUILD:-build/default}
RUNS=${RUNS:-100000}
ROUNDS=${ROUNDS:-5}
BACKENDS=${BACKENDS:-sqlite postgresql}
export CALLS=${CALLS:-100} SEARCHES=${SEARCHES:-20}
export EXPECT=$((RUNS / 1000 < 100 ? RUNS / 1000 : 100))
if [ "$BUILD" = build/default ] && [ ! -f build/default/build.ninja ]; then cmake --preset default >/dev/null; fi
cmake --build "$BUILD" --target almanac mlflow_populate >/dev/null
A=$ROOT/$BUILD/src/cli/almanac
P=$ROOT/$BUILD/bench/mlflow_populate
TMP=$(mktemp -d /tmp/almanac-mlflow-bench.XXXXXX)
chmod 755 "$TMP"  # the PostgreSQL server runs as user postgres when started as root
PID=
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
  [ -n "${PGDIR:-}" ] && scripts/pg_test_server.sh stop "$PGDIR" >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT

bench() {  # $1: label, then the global options selecting the store
  local label=$1; shift
  "$A" "$@" --user root init >/dev/null
  local token
  token=$("$A" "$@" --user root --quiet tokens create --role analyst --user bench)
  local t0=$SECONDS
  bench/mlflow/populate.sh "$P" "$STORE" "$RUNS" >/dev/null
  echo "$label: populated $RUNS runs in $((SECONDS - t0)) s (load $(cut -d' ' -f1 /proc/loadavg))"
  "$A" "$@" --user operator serve --listen 127.0.0.1:0 >"$TMP/serve-$label.log" 2>&1 &
  PID=$!
  local url=
  for _ in $(seq 200); do
    url=$(grep -o 'http://127.0.0.1:[0-9]*' "$TMP/serve-$label.log" | head -1 || true)
    [ -n "$url" ] && break
    sleep 0.1
  done
  echo "== $label"
  SERVER_PID=$PID PG_PID=$PG_PID /usr/bin/python3 bench/mlflow/bench.py "$url" "$token" "$ROUNDS"
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
}

PG_PID=
if [[ " $BACKENDS " == *" sqlite "* ]]; then
  STORE="sqlite:$TMP/ws/almanac.db"
  bench sqlite --workspace "$TMP/ws"
fi
if [[ " $BACKENDS " == *" postgresql "* ]]; then
  PGDIR=$TMP/pg
  STORE=$(scripts/pg_test_server.sh start "$PGDIR")
  PG_PID=$(head -1 "$PGDIR/data/postmaster.pid")
  bench postgresql --workspace "$TMP/wspg" --store "$STORE"
fi
