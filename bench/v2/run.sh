#!/usr/bin/env bash
# V2 (Open Inference Protocol) infer throughput against POST /v1/forecast, issue 22: one
# almanac serve per mode (cached: the default forecast cache; uncached: --cache-entries 0,
# the ETS forecast computed per request), both endpoints asked for the same forecast
# (horizon 8, levels 80 and 95) with wrk on loopback, interleaved ROUNDS times (v1, V2, v1,
# V2, ...) so that the machine's drift hits both alike; medians and the V2/v1 ratio per mode.
# Besides requests/s, the server's own CPU time per request (utime + stime from /proc during
# each run, divided by the requests wrk completed): on a machine shared with other work, the
# wall-clock throughput swings with the load, the CPU cost per request much less, and its
# ratio v1/V2 is the throughput ratio of a server that has the cores to itself.
# Not part of the test command. The target (issue 22): V2 >= 0.9x /v1/forecast.
#   bench/v2/run.sh   (DURATION=10s CONNECTIONS=32 ROUNDS=5 THREADS=1 BUILD=build/default)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
ROUNDS=${ROUNDS:-5}
THREADS=${THREADS:-1}
BUILD=${BUILD:-build/default}  # any configured build tree
if [ "$BUILD" = build/default ] && [ ! -f build/default/build.ninja ]; then cmake --preset default >/dev/null; fi
cmake --build "$BUILD" --target almanac >/dev/null
A=$ROOT/$BUILD/src/cli/almanac
command -v wrk >/dev/null || { echo "wrk is missing: scripts/deps.sh bench" >&2; exit 1; }

TMP=$(mktemp -d /tmp/almanac-v2-bench.XXXXXX)
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

echo "== workspace: US real GDP (sample data), ETS(A,A,N) in production" >&2
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

declare -A PORT SPID
for mode in cached uncached; do
  PORT[$mode]=$(free_port)
  # Not in $(...): the server would keep the substitution's pipe open.
  $A -w "$WS" serve --listen "127.0.0.1:${PORT[$mode]}" --threads "$THREADS" --workers 1 \
    $([ $mode = uncached ] && echo --cache-entries 0) >>"$TMP/serve-$mode.log" 2>&1 &
  PIDS+=($!)
  SPID[$mode]=$!
done
for mode in cached uncached; do wait_port "${PORT[$mode]}"; done

# Both answers carry the same numbers (the conformance test checks every value; this is
# the benchmark's own sanity check).
P=${PORT[cached]}
V1=$(curl -sS -H "Authorization: Bearer $TOKEN" -d '{"model":"bench-ets","horizon":8,"levels":[80,95]}' \
  "http://127.0.0.1:$P/v1/forecast")
V2=$(curl -sS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"inputs":[{"name":"horizon","shape":[1],"datatype":"INT32","data":[8]},{"name":"levels","shape":[2],"datatype":"FP64","data":[80,95]}]}' \
  "http://127.0.0.1:$P/v2/models/bench-ets/infer")
/usr/bin/python3 - "$V1" "$V2" <<'PY' >&2
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
out = {o["name"]: o["data"] for o in b["outputs"]}
assert out["mean"] == a["mean"], (a, b)
assert out["lower_95"] == a["intervals"][1]["lower"] and out["upper_80"] == a["intervals"][0]["upper"]
print("same numbers from /v1/forecast and V2 infer")
PY

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
run_wrk() {  # $1 mode, $2 endpoint (v1|v2): prints "requests/s CPU-microseconds-per-request"
  local url script out before after requests
  if [ "$2" = v1 ]; then url=/v1/forecast; script=bench/v2/v1_forecast.lua; else
    url=/v2/models/bench-ets/infer; script=bench/v2/v2_infer.lua; fi
  before=$(cpu_ticks "${SPID[$1]}")
  out=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$script" "http://127.0.0.1:${PORT[$1]}$url")
  after=$(cpu_ticks "${SPID[$1]}")
  if grep -q "Non-2xx" <<<"$out"; then echo "non-2xx answers from $2 ($1):" >&2; echo "$out" >&2; exit 1; fi
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(( (after - before) * 1000000 / $(getconf CLK_TCK) / requests ))"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A RPS CPU
for r in $(seq 1 "$ROUNDS"); do
  for mode in cached uncached; do
    for ep in v1 v2; do
      read -r x cpu <<<"$(run_wrk "$mode" "$ep")"
      echo "== round $r/$ROUNDS $mode $ep: $x req/s, $cpu us CPU/request (load $(cut -d' ' -f1 /proc/loadavg))" >&2
      RPS[$mode-$ep]="${RPS[$mode-$ep]:-} $x"
      CPU[$mode-$ep]="${CPU[$mode-$ep]:-} $cpu"
    done
  done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
/usr/bin/python3 - "$LOAD_BEFORE" "$LOAD_AFTER" "${RPS[cached-v1]}" "${RPS[cached-v2]}" "${RPS[uncached-v1]}" \
  "${RPS[uncached-v2]}" "${CPU[cached-v1]}" "${CPU[cached-v2]}" "${CPU[uncached-v1]}" "${CPU[uncached-v2]}" <<'PY'
import statistics, sys
load_before, load_after = sys.argv[1:3]
runs = [list(map(float, s.split())) for s in sys.argv[3:11]]
print("| mode | /v1/forecast req/s | V2 infer req/s | V2/v1 req/s (per-round ratios) | /v1 CPU us/req | V2 CPU us/req | "
      "V2/v1 capacity (CPU ratio v1/V2) |")
print("|---|---:|---:|---|---:|---:|---:|")
for i, name in enumerate(("cached", "uncached")):
    v1, v2, c1, c2 = runs[2 * i], runs[2 * i + 1], runs[4 + 2 * i], runs[5 + 2 * i]
    ratios = [b / a for a, b in zip(v1, v2)]
    print(f"| {name} | {statistics.median(v1):.0f} | {statistics.median(v2):.0f} | "
          f"median {statistics.median(ratios):.2f} ({', '.join(f'{x:.2f}' for x in ratios)}) | "
          f"{statistics.median(c1):.0f} | {statistics.median(c2):.0f} | "
          f"{statistics.median(c1) / statistics.median(c2):.2f} |")
print(f"\nmedians of {len(runs[0])} interleaved rounds; load average before: {load_before}; after: {load_after}")
PY
