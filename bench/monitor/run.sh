#!/usr/bin/env bash
# Monitoring benchmark (issue 9): `almanac serve` with 100 production models loaded and 1,000
# series tracked.
#   1. GET /metrics: the time of one scrape (curl, median and p99 of SCRAPES sequential scrapes)
#      and the size of the exposition.
#   2. wrk on POST /v1/forecast (cached path, the endpoint's fastest) without and with a
#      Prometheus-like scrape of /metrics every second in the background.
# Prints a markdown table (also written to $OUT, default bench/monitor/results.md).
#   bench/monitor/run.sh        (DURATION=15s CONNECTIONS=64 SCRAPES=200 ROUNDS=3 BUILD=build/default)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-64}
SCRAPES=${SCRAPES:-200}
ROUNDS=${ROUNDS:-3}
MODELS=${MODELS:-100}
SERIES=${SERIES:-1000}
OUT=${OUT:-$ROOT/bench/monitor/results.md}

BUILD=${BUILD:-build/default}
if [ "$BUILD" = build/default ] && [ ! -f build/default/build.ninja ]; then cmake --preset default >/dev/null; fi
cmake --build "$BUILD" --target almanac >/dev/null
A=$ROOT/$BUILD/src/cli/almanac
command -v wrk >/dev/null || { echo "wrk is missing: scripts/deps.sh bench" >&2; exit 1; }

TMP=$(mktemp -d /tmp/almanac-monitor-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "== workspace: $SERIES quarterly series, $MODELS naive models in production" >&2
WS=$TMP/ws
export ALMANAC_USER=bench
$A -w "$WS" -q init
/usr/bin/python3 - "$TMP/wide.csv" "$SERIES" <<'PY'
import math, sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write("period," + ",".join(f"b:s{i:04d}" for i in range(n)) + "\n")
    for t in range(80):
        y, q = 1990 + t // 4, t % 4 + 1
        f.write(f"{y}Q{q}," + ",".join(f"{100 + i + t * 0.5 + 3 * math.sin(t + i):.3f}" for i in range(n)) + "\n")
PY
$A -w "$WS" -q ingest "$TMP/wide.csv" --source bench --realtime-start 2010-01-15
for i in $(seq 0 $((MODELS - 1))); do
  m=$(printf "m%03d" "$i"); s=$(printf "b:s%04d" "$i")
  cat > "$TMP/$m.yaml" <<YAML
name: $m
data:
  series: [$s]
target: $s
horizon: 8
levels: [80, 95]
models:
  - name: naive
    type: naive
evaluation:
  origins: 0
register:
  model: $m
  policy: {four_eyes: false}
promote:
  to: production
YAML
  $A -w "$WS" -q run "$TMP/$m.yaml" >/dev/null
done
TOKEN=$($A -w "$WS" -q tokens create --role viewer --user bench)
export TOKEN

PORT=$(free_port)
$A -w "$WS" --log-format json serve --listen "127.0.0.1:$PORT" --threads 2 --workers 1 >"$TMP/serve.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 1 400); do grep -q "listening on" "$TMP/serve.log" && break; sleep 0.05; done
for _ in $(seq 1 400); do
  n=$(curl -s "http://127.0.0.1:$PORT/metrics" | grep -c '^almanac_model_version_info{' || true)
  [ "$n" -ge "$MODELS" ] && break
  sleep 0.1
done
curl -s "http://127.0.0.1:$PORT/metrics" > "$TMP/metrics.txt"
INFO=$(grep -c '^almanac_model_version_info{' "$TMP/metrics.txt")
FRESH=$(grep -c '^almanac_series_last_vintage_timestamp_seconds{' "$TMP/metrics.txt")
LINES=$(grep -vc '^#' "$TMP/metrics.txt")
BYTES=$(wc -c < "$TMP/metrics.txt")
echo "== exposition: $INFO model versions, $FRESH series, $LINES samples, $BYTES bytes" >&2

echo "== $SCRAPES sequential scrapes (load before: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
for _ in $(seq 1 "$SCRAPES"); do
  curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$PORT/metrics"
done > "$TMP/scrapes.txt"

run_wrk() {  # $1 name
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/monitor/forecast.lua "http://127.0.0.1:$PORT/v1/forecast" \
    > "$TMP/wrk-$1.txt"
}
curl -s -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" -d '{"model":"m000","horizon":8,"levels":[80,95]}' \
  "http://127.0.0.1:$PORT/v1/forecast"
# Alternating rounds (plain, scraped, plain, scraped, ...): on a shared machine the load drifts,
# and alternating keeps the drift from looking like a scrape effect.
for round in $(seq 1 "$ROUNDS"); do
  echo "== round $round: wrk without scrapes (load before: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  run_wrk "plain-$round"
  echo "== round $round: wrk with a scrape every second (load before: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  ( while true; do curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$PORT/metrics" >> "$TMP/scrapes-under-load.txt"; sleep 1; done ) &
  SCRAPER=$!
  PIDS+=("$SCRAPER")
  run_wrk "scraped-$round"
  kill "$SCRAPER" 2>/dev/null || true
  wait "$SCRAPER" 2>/dev/null || true
done

/usr/bin/python3 - "$TMP" "$INFO" "$FRESH" "$LINES" "$BYTES" "$CONNECTIONS" "$DURATION" "$(nproc)" "$ROUNDS" > "$OUT" <<'PY'
import re, statistics, sys
tmp, info, fresh, lines, size, conns, dur, cpus, rounds = sys.argv[1:]
def times(name):
    return sorted(float(x) * 1000 for x in open(f"{tmp}/{name}") if x.strip())
def pct(v, p):
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]
def wrk(name):
    t = open(f"{tmp}/wrk-{name}.txt").read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    lat = {m.group(1): m.group(2) for m in re.finditer(r"^\s+(50|90|99)%\s+(\S+)", t, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    return rps, lat, int(errors.group(1)) if errors else 0
s = times("scrapes.txt")
u = times("scrapes-under-load.txt")
print(f"almanac serve with {info} production model versions loaded and {fresh} series tracked; "
      f"/metrics = {lines} samples, {size} bytes; {cpus} CPUs, loopback.\n")
print("| measurement | median | p99 | max | n |")
print("|---|---|---|---|---|")
print(f"| GET /metrics, sequential (curl time_total, ms) | {statistics.median(s):.2f} | {pct(s, 99):.2f} | {max(s):.2f} | {len(s)} |")
print(f"| GET /metrics every 1 s during the wrk runs (ms) | {statistics.median(u):.2f} | {pct(u, 99):.2f} | {max(u):.2f} | {len(u)} |")
print()
print(f"wrk -t2 -c{conns} -d{dur} --latency, POST /v1/forecast (cached, horizon 8, levels 80 and 95), "
      f"{rounds} alternating rounds:\n")
print("| run | requests/s | p50 | p90 | p99 | non-2xx |")
print("|---|---|---|---|---|---|")
plain, scraped = [], []
for r in range(1, int(rounds) + 1):
    for name, acc in (("plain", plain), ("scraped", scraped)):
        rps, lat, err = wrk(f"{name}-{r}")
        acc.append(rps)
        label = "no scrapes" if name == "plain" else "scrape every 1 s"
        print(f"| round {r}, {label} | {rps:,.0f} | {lat.get('50')} | {lat.get('90')} | {lat.get('99')} | {err} |")
mp, ms = statistics.median(plain), statistics.median(scraped)
print(f"\nmedian requests/s: {mp:,.0f} without, {ms:,.0f} with scrapes; ratio {ms / mp:.3f} "
      f"(round-to-round spread without scrapes: {min(plain):,.0f}..{max(plain):,.0f})")
PY
cat "$OUT"
