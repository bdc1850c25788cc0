#!/usr/bin/env bash
# Issue 25: TBATS speed and selected model, almanac against R forecast, on the same machine.
#   bench/tbats/run.sh BUILD_DIR [SERIES...]   (BUILD_DIR configured with -DALMANAC_BUILD_BENCH=ON)
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [SERIES...]}
shift
cd "$(dirname "$0")/../.."
ninja -C "$build" tbats_bench >/dev/null
"$build/bench/tbats_bench" "$@"
Rscript bench/tbats/tbats_bench.R "$@"
