#!/usr/bin/env bash
# The main job, end to end, on the embedded SQLite default: installs what is missing, builds,
# then creates a workspace, ingests the sample data with its metadata, loads a revision,
# snapshots the data and prints as-of views, runs a pipeline with four-eyes approval, and ends
# by starting the HTTP service, asking it for a forecast with curl, and stopping it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh build
cmake --preset default >/dev/null
cmake --build --preset default --target almanac

A=build/default/src/cli/almanac

# The web console (docs/ui.md): built with npm when it is there; the demo goes on without it.
UI_ARGS=()
if command -v npm >/dev/null 2>&1; then
  if (cd ui && npm ci --prefer-offline --no-audit --no-fund --loglevel=error && npm run build --silent); then
    UI_ARGS=(--ui-dir ui/dist)
  else
    echo "(the web console did not build; the demo goes on without it: docs/ui.md)" >&2
  fi
else
  echo "(npm not found: the web console is not built; the demo goes on without it: docs/ui.md)" >&2
fi
WS=${ALMANAC_WORKSPACE:-almanac-workspace}
export ALMANAC_USER=${ALMANAC_USER:-${USER:-demo}}
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Create a workspace in $WS (a fresh one each run)"
rm -rf "$WS"
$A -w "$WS" init
# Who creates a workspace is its first admin: the demo plays alice and bob with ALMANAC_USER,
# which only an admin may do; every audit entry records both names (docs/operations.md).
ALMANAC_USER= $A -w "$WS" whoami

step "Ingest the sample data: 12 US quarterly series, known on 2009-12-15"
$A -w "$WS" ingest examples/data/us_macro_quarterly.csv \
  --metadata examples/data/us_macro_quarterly.meta.yaml --realtime-start 2009-12-15
$A -w "$WS" series list

step "Ingest the same file again: nothing changed, so no new vintage"
$A -w "$WS" ingest examples/data/us_macro_quarterly.csv --realtime-start 2009-12-18

step "Ingest a revision of 2009Q3 GDP (illustrative value) known from 2009-12-22"
$A -w "$WS" ingest examples/data/us_gdp_revision_illustrative.csv
$A -w "$WS" series vintages us:realgdp
$A -w "$WS" series history us:realgdp 2009Q3

step "Snapshot the data as known on 2009-12-20, and as known now"
$A -w "$WS" snapshot create macro-2009-12-20 --series us:realgdp,us:realcons,us:realinv,us:cpi,us:unemp --as-of 2009-12-20
$A -w "$WS" snapshot create macro-latest --series us:realgdp,us:realcons,us:realinv,us:cpi,us:unemp
$A -w "$WS" snapshot list
$A -w "$WS" snapshot diff macro-2009-12-20 macro-latest

step "As-of views of real GDP: what was known on 2009-12-20, and what is known now"
$A -w "$WS" series show us:realgdp --as-of 2009-12-20 | tail -n 4
$A -w "$WS" series show us:realgdp | tail -n 2

step "Forecast real GDP 8 quarters ahead from the data known on 2009-12-20 (auto_ets)"
$A -w "$WS" forecast us:realgdp --model auto_ets --horizon 8 --as-of 2009-12-20

step "Run the GDP growth pipeline as alice: backtest four models, register the best, request production"
ALMANAC_USER=alice $A -w "$WS" run examples/pipelines/us_gdp_growth.yaml
$A -w "$WS" models versions us-gdp-growth

step "alice cannot approve her own promotion (four-eyes); bob can"
ALMANAC_USER=alice $A -w "$WS" models approve us-gdp-growth@1 --reason "mine" || echo "(refused, as it should be)"
ALMANAC_USER=bob $A -w "$WS" models approve us-gdp-growth@1 --reason "backtest reviewed"
$A -w "$WS" models list

step "Run it again: every step comes from the cache, and the identical model is not registered twice"
ALMANAC_USER=alice $A -w "$WS" run examples/pipelines/us_gdp_growth.yaml

step "Reproduce the first run from its recorded inputs: every artifact byte-identical"
RUN=$($A -w "$WS" --format csv runs list --pipeline us-gdp-growth | tail -n 1 | cut -d, -f1)
ALMANAC_USER=auditor $A -w "$WS" reproduce "$RUN"

step "Lineage of the production model: vintages, snapshot, run, artifacts, version, approvals"
$A -w "$WS" lineage us-gdp-growth@1

step "Verify the hash-chained audit log"
$A -w "$WS" audit list --limit 12
$A -w "$WS" audit verify

step "Serve the production model over HTTP: a token for a viewer, a forecast with curl, then SIGTERM"
TOKEN=$($A -w "$WS" --quiet tokens create --role viewer --user dashboard)
$A -w "$WS" serve --listen 127.0.0.1:0 --poll-seconds 1 "${UI_ARGS[@]}" 2> "$WS/serve.log" &
SERVE_PID=$!
trap 'kill $SERVE_PID 2>/dev/null || true' EXIT
PORT=""
for _ in $(seq 1 100); do
  PORT=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WS/serve.log" | head -n 1)
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "$PORT" ] || { cat "$WS/serve.log"; echo "the server did not start" >&2; exit 1; }
echo "+ curl -H 'Authorization: Bearer ...' -d '{\"model\":\"us-gdp-growth\",\"horizon\":4}' http://127.0.0.1:$PORT/v1/forecast"
curl -sS --fail-with-body -H "Authorization: Bearer $TOKEN" \
  -d '{"model":"us-gdp-growth","horizon":4,"levels":[80,95]}' "http://127.0.0.1:$PORT/v1/forecast"
echo
kill -TERM $SERVE_PID
wait $SERVE_PID
trap - EXIT
cat "$WS/serve.log"

printf '\nDone. The workspace is in %s; try: %s -w %s --help\n' "$WS" "$A" "$WS"
if [ ${#UI_ARGS[@]} -gt 0 ]; then
  printf 'Web console: %s -w %s serve --ui-dir ui/dist, then open http://127.0.0.1:8080/ui/\n' "$A" "$WS"
  printf '  and sign in with a token (%s -w %s tokens create --role viewer --user you).\n' "$A" "$WS"
else
  printf 'Web console: not built (needs npm: cd ui && npm ci && npm run build; docs/ui.md).\n'
fi
