#!/usr/bin/env bash
# Serving benchmark (issue 5): wrk on loopback against, in the same run on the same machine,
#   nginx answering a fixed body of the same size (the reference ceiling), with 1 and 2 worker
#     processes,
#   almanac serve answering POST /v1/forecast from its cache, and uncached (--cache-entries 0:
#     the forecast is computed per request from the loaded ETS model, horizon 8, two levels),
#     each with --threads 1 and 2,
#   FastAPI + uvicorn serving the same forecast from a statsmodels ETS model (the Python peer).
# Every server is measured ROUNDS times, interleaved (all servers, then all again), and medians
# are reported: this machine's speed drifts by tens of percent within minutes, so ratios are
# only meaningful between runs made close together. wrk shares the 2 cores with the servers,
# so each server is reported at both settings and compared best against best and setting
# against setting (bench/serve/summarize.py).
# Prints a markdown table (also written to $OUT, default bench/serve/results.md).
#   bench/serve/run.sh     (DURATION=15s CONNECTIONS=64 ROUNDS=3 BUILD=build/default by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-64}
ROUNDS=${ROUNDS:-3}
OUT=${OUT:-$ROOT/bench/serve/results.md}

scripts/deps.sh bench
BUILD=${BUILD:-build/default}  # any configured build tree (e.g. build/ci)
if [ "$BUILD" = build/default ] && [ ! -f build/default/build.ninja ]; then cmake --preset default >/dev/null; fi
cmake --build "$BUILD" --target almanac >/dev/null
A=$ROOT/$BUILD/src/cli/almanac

TMP=$(mktemp -d /tmp/almanac-serve-bench.XXXXXX)
chmod 755 "$TMP"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 1 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "nothing listens on port $1" >&2
  return 1
}

echo "== workspace: US real GDP (sample data), ETS(A,A,N) registered and in production" >&2
WS=$TMP/ws
export ALMANAC_USER=bench
$A -w "$WS" -q init
$A -w "$WS" -q ingest examples/data/us_macro_quarterly.csv --realtime-start 2009-12-15
cat > "$TMP/bench.yaml" <<YAML
name: bench-ets
data:
  series: [us:realgdp]
  as_of: 2009-12-20
target: us:realgdp
horizon: 8
levels: [80, 95]
models:
  - name: ets
    type: ets
    params: {model: AAN, damped: false}
evaluation:
  origins: 2
register:
  model: bench-ets
  policy: {four_eyes: false}
promote:
  to: production
YAML
$A -w "$WS" -q run "$TMP/bench.yaml" >/dev/null
TOKEN=$($A -w "$WS" -q tokens create --role viewer --user bench)
export TOKEN
$A -w "$WS" --format csv series show us:realgdp --as-of 2009-12-20 > "$TMP/series.csv"

REQ='{"model":"bench-ets","horizon":8,"levels":[80,95]}'

# Not called in $(...): the server would inherit the substitution's pipe and keep it open.
start_almanac() {  # $1 port, $2 I/O threads, $3 extra flags; sets STARTED_PID
  $A -w "$WS" serve --listen "127.0.0.1:$1" --threads "$2" --workers 1 $3 >>"$TMP/serve-$1.log" 2>&1 &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
}

declare -A PORT PID
for t in 1 2; do
  for mode in cached uncached; do
    name="almanac-$mode-t$t"
    PORT[$name]=$(free_port)
    start_almanac "${PORT[$name]}" "$t" "$([ $mode = uncached ] && echo --cache-entries 0)"
    PID[$name]=$STARTED_PID
  done
done
for name in "${!PORT[@]}"; do wait_port "${PORT[$name]}"; done
BODY=$(curl -sS -H "Authorization: Bearer $TOKEN" -d "$REQ" "http://127.0.0.1:${PORT[almanac-cached-t1]}/v1/forecast")
echo "$BODY" | /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); assert j["method"].startswith("ETS(A,A,N)"), j' >&2
RSS_IDLE=$(awk '/VmRSS/ {print $2}' "/proc/${PID[almanac-cached-t1]}/status")
PACKAGE_BYTES=$(find "$WS/artifacts" -type f -size +1k -name '*' -exec grep -l almanac-model-package {} + | xargs cat | wc -c)

echo "== nginx with a fixed body of the same size (${#BODY} bytes), 1 and 2 worker processes" >&2
ESCAPED=$(printf '%s' "$BODY" | sed "s/'/\\\\'/g")
for w in 1 2; do
  name="nginx-w$w"
  PORT[$name]=$(free_port)
  D=$TMP/nginx$w
  mkdir -p "$D/logs" "$D/tmp"
  chmod 777 "$D/tmp"
  cat > "$D/nginx.conf" <<NGINX
worker_processes $w;
daemon off;
pid $D/nginx.pid;
error_log $D/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $D/tmp/body;
  proxy_temp_path $D/tmp/proxy;
  fastcgi_temp_path $D/tmp/fastcgi;
  uwsgi_temp_path $D/tmp/uwsgi;
  scgi_temp_path $D/tmp/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${PORT[$name]};
    location / { default_type application/json; return 200 '$ESCAPED'; }
  }
}
NGINX
  /usr/sbin/nginx -p "$D" -c "$D/nginx.conf" &
  PIDS+=($!)
  wait_port "${PORT[$name]}"
done

echo "== FastAPI + uvicorn (statsmodels ETS)" >&2
PORT[fastapi]=$(free_port)
(cd bench/serve && SERIES_CSV=$TMP/series.csv exec /usr/bin/python3 -m uvicorn fastapi_peer:app --host 127.0.0.1 \
   --port "${PORT[fastapi]}" --log-level warning) &
PIDS+=($!)
wait_port "${PORT[fastapi]}"
curl -sS -d "$REQ" -H 'Content-Type: application/json' "http://127.0.0.1:${PORT[fastapi]}/v1/forecast" >/dev/null

run_wrk() {  # $1 name, $2 round: prints "name|round|rps|p50|p99|non2xx|errors"
  local out
  out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/serve/forecast.lua "http://127.0.0.1:${PORT[$1]}/v1/forecast")
  echo "$out" > "$TMP/wrk-$1-$2.txt"
  local rps p50 p99 non2xx errors
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  errors=$(awk '/Socket errors/ {print $0}' <<<"$out")
  echo "$1|$2|$rps|$p50|$p99|${non2xx:-0}|${errors:-none}"
}

ORDER=(nginx-w1 nginx-w2 almanac-cached-t1 almanac-cached-t2 almanac-uncached-t1 almanac-uncached-t2)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
RESULTS=()
for r in $(seq 1 "$ROUNDS"); do
  for name in "${ORDER[@]}"; do
    echo "== round $r/$ROUNDS: $name (wrk -t2 -c$CONNECTIONS -d$DURATION --latency; load $(cut -d' ' -f1 /proc/loadavg))" >&2
    RESULTS+=("$(run_wrk "$name" "$r")")
  done
done
echo "== FastAPI peer (one run: it is two orders of magnitude slower; its spread does not matter)" >&2
RESULTS+=("$(run_wrk fastapi 1)")
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
RSS=()
for name in almanac-cached-t1 almanac-cached-t2 almanac-uncached-t1 almanac-uncached-t2; do
  RSS+=("$name=$(awk '/VmRSS/ {print $2}' "/proc/${PID[$name]}/status")")
done
HITS=$(curl -s "http://127.0.0.1:${PORT[almanac-cached-t1]}/metrics" | awk '/^almanac_forecast_cache_hits_total/ {print $2}')

/usr/bin/python3 bench/serve/summarize.py "$RSS_IDLE" "$PACKAGE_BYTES" "${#BODY}" "$LOAD_BEFORE" "$LOAD_AFTER" "$HITS" \
  "$DURATION" "$CONNECTIONS" "$ROUNDS" "${RSS[*]}" "${RESULTS[@]}" > "$OUT"
cat "$OUT"
