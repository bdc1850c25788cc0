#!/usr/bin/env bash
# A rolling restart of the compose stack's two serve replicas under load through nginx (issue 21,
# docs/benchmarks.md "Issue 21"): wrk posts forecasts for DURATION seconds while each replica in
# turn is stopped (SIGTERM: it drains), started again, waited for, and nginx reloaded (it
# re-resolves the replica's new address; a graceful reload drops nothing). Prints wrk's report;
# exits 1 when any request failed (non-2xx or socket error).
#   bench/deploy/run.sh runs it (it brings the stack up and down); by hand:
#   bench/deploy/rolling_restart.sh COMPOSE_PROJECT HTTP_PORT TOKEN [DURATION]
set -euo pipefail
project=$1 port=$2 token=$3 duration=${4:-40}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp /tmp/almanac-rolling-XXXXXX)
trap 'rm -f "$out"' EXIT

TOKEN=$token wrk -t2 -c8 -d"${duration}s" --timeout 10s --latency -s "$here/forecast.lua" "http://127.0.0.1:$port/v1/forecast" >"$out" 2>&1 &
wrk_pid=$!
sleep 5
for r in serve-1 serve-2; do
  c=${project}_${r}_1
  t0=$(date +%s%N)
  podman stop -t 30 "$c" >/dev/null
  podman start "$c" >/dev/null
  until podman exec "$c" curl -fsS -o /dev/null http://127.0.0.1:8080/readyz 2>/dev/null; do sleep 0.1; done
  podman exec "${project}_nginx_1" nginx -s reload 2>/dev/null
  echo "rolling_restart: $r stopped, started and ready in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
  sleep 5
done
wait "$wrk_pid"
cat "$out"
failed=0
if grep -q "Non-2xx or 3xx responses" "$out"; then failed=1; fi
if grep -q "Socket errors" "$out"; then failed=1; fi
if [ "$failed" = 1 ]; then echo "rolling_restart: FAILED requests during the rolling restart"; exit 1; fi
echo "rolling_restart: zero failed requests"
