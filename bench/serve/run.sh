#!/usr/bin/env bash
# Serving benchmark (issue 5): wrk on loopback against, in the same run on the same machine,
#   nginx answering a fixed body of the same size (the reference ceiling),
#   almanac serve answering POST /v1/forecast from its cache, and uncached (--cache-entries 0:
#     the forecast is computed per request from the loaded ETS model, horizon 8, two levels),
#   FastAPI + uvicorn serving the same forecast from a statsmodels ETS model (the Python peer).
# Prints a markdown table (also written to $OUT, default bench/serve/results.md).
#   bench/serve/run.sh            (DURATION=15s CONNECTIONS=64 BUILD=build/default by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-64}
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
start_almanac() {  # $1 port, $2 extra flags; sets STARTED_PID
  $A -w "$WS" serve --listen "127.0.0.1:$1" --threads 2 --workers 1 $2 >>"$TMP/serve-$1.log" 2>&1 &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
}

P_CACHED=$(free_port)
start_almanac "$P_CACHED" ""
PID_CACHED=$STARTED_PID
wait_port "$P_CACHED"
BODY=$(curl -sS -H "Authorization: Bearer $TOKEN" -d "$REQ" "http://127.0.0.1:$P_CACHED/v1/forecast")
echo "$BODY" | /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); assert j["method"].startswith("ETS(A,A,N)"), j' >&2
RSS_IDLE=$(awk '/VmRSS/ {print $2}' /proc/$PID_CACHED/status)
PACKAGE_BYTES=$(find "$WS/artifacts" -type f -size +1k -name '*' -exec grep -l almanac-model-package {} + | xargs cat | wc -c)

echo "== nginx with a fixed body of the same size (${#BODY} bytes)" >&2
P_NGINX=$(free_port)
mkdir -p "$TMP/nginx/logs" "$TMP/nginx/tmp"
chmod 777 "$TMP/nginx/tmp"
printf '%s' "$BODY" > "$TMP/nginx/body.json"
ESCAPED=$(printf '%s' "$BODY" | sed "s/'/\\\\'/g")
cat > "$TMP/nginx/nginx.conf" <<NGINX
worker_processes 2;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/tmp/body;
  proxy_temp_path $TMP/nginx/tmp/proxy;
  fastcgi_temp_path $TMP/nginx/tmp/fastcgi;
  uwsgi_temp_path $TMP/nginx/tmp/uwsgi;
  scgi_temp_path $TMP/nginx/tmp/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$P_NGINX;
    location / { default_type application/json; return 200 '$ESCAPED'; }
  }
}
NGINX
/usr/sbin/nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" &
PIDS+=($!)
wait_port "$P_NGINX"

echo "== almanac serve without the cache" >&2
P_UNCACHED=$(free_port)
start_almanac "$P_UNCACHED" "--cache-entries 0"
PID_UNCACHED=$STARTED_PID
wait_port "$P_UNCACHED"

echo "== FastAPI + uvicorn (statsmodels ETS)" >&2
P_PY=$(free_port)
(cd bench/serve && SERIES_CSV=$TMP/series.csv exec /usr/bin/python3 -m uvicorn fastapi_peer:app --host 127.0.0.1 \
   --port "$P_PY" --log-level warning) &
PIDS+=($!)
wait_port "$P_PY"
curl -sS -d "$REQ" -H 'Content-Type: application/json' "http://127.0.0.1:$P_PY/v1/forecast" >/dev/null

run_wrk() {  # $1 name, $2 port
  local out
  out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/serve/forecast.lua "http://127.0.0.1:$2/v1/forecast")
  echo "$out" > "$TMP/wrk-$1.txt"
  local rps p50 p99 non2xx errors
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  errors=$(awk '/Socket errors/ {print $0}' <<<"$out")
  echo "$1|$rps|$p50|$p99|${non2xx:-0}|${errors:-none}"
}

echo "== wrk -t2 -c$CONNECTIONS -d$DURATION --latency (load before: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
R_NGINX=$(run_wrk nginx "$P_NGINX")
R_CACHED=$(run_wrk almanac-cached "$P_CACHED")
RSS_CACHED=$(awk '/VmRSS/ {print $2}' /proc/$PID_CACHED/status)
R_UNCACHED=$(run_wrk almanac-uncached "$P_UNCACHED")
RSS_UNCACHED=$(awk '/VmRSS/ {print $2}' /proc/$PID_UNCACHED/status)
R_PY=$(run_wrk fastapi "$P_PY")
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
HITS=$(curl -s "http://127.0.0.1:$P_CACHED/metrics" | awk '/^almanac_forecast_cache_hits_total/ {print $2}')

/usr/bin/python3 - "$R_NGINX" "$R_CACHED" "$R_UNCACHED" "$R_PY" "$RSS_IDLE" "$RSS_CACHED" "$RSS_UNCACHED" \
  "$PACKAGE_BYTES" "${#BODY}" "$LOAD_AFTER" "$HITS" "$DURATION" "$CONNECTIONS" > "$OUT" <<'PY'
import sys
rows = [r.split("|") for r in sys.argv[1:5]]
rss_idle, rss_cached, rss_uncached, pkg, body, load, hits, dur, conns = sys.argv[5:]
def ms(t):
    t = t.strip()
    for unit, f in (("us", 1e-3), ("ms", 1), ("s", 1e3)):
        if t.endswith(unit):
            return float(t[: -len(unit)]) * f
    return float("nan")
nginx = float(rows[0][1])
py = float(rows[3][1])
print(f"wrk -t2 -c{conns} -d{dur} --latency, POST /v1/forecast (horizon 8, levels 80 and 95), "
      f"{body}-byte JSON answer, all on 127.0.0.1 in one run; load average after: {load}")
print()
print("| server | requests/s | × nginx | × FastAPI | p50 ms | p99 ms | non-2xx | socket errors |")
print("|---|---|---|---|---|---|---|---|")
for name, rps, p50, p99, non2xx, err in rows:
    r = float(rps)
    print(f"| {name} | {r:,.0f} | {r / nginx:.2f} | {r / py:.1f} | {ms(p50):.2f} | {ms(p99):.2f} | {non2xx} | {err.replace('Socket errors: ', '')} |")
print()
print(f"almanac serve resident memory: {int(rss_idle) / 1024:.1f} MiB idle with the model loaded, "
      f"{int(rss_cached) / 1024:.1f} MiB after the cached run, {int(rss_uncached) / 1024:.1f} MiB after the uncached run "
      f"(the model package is {int(pkg)} bytes); cache hits counted by the server: {hits}.")
PY
cat "$OUT"
