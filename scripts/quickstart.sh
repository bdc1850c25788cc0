#!/usr/bin/env bash
# The main job, end to end, on the embedded SQLite default: installs what is missing, builds,
# then creates a workspace, ingests the sample data with its metadata, loads a revision,
# snapshots the data and prints as-of views.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh build
cmake --preset default >/dev/null
cmake --build --preset default --target almanac

A=build/default/src/cli/almanac
WS=${ALMANAC_WORKSPACE:-almanac-workspace}
export ALMANAC_USER=${ALMANAC_USER:-${USER:-demo}}
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Create a workspace in $WS (a fresh one each run)"
rm -rf "$WS"
$A -w "$WS" init

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

printf '\nDone. The workspace is in %s; try: %s -w %s --help\n' "$WS" "$A" "$WS"
