#!/usr/bin/env bash
# Issue 25: MSTL speed, almanac against R forecast, on the same machine in the same run.
#   bench/mstl/run.sh BUILD_DIR [REPS]     (BUILD_DIR configured with -DALMANAC_BUILD_BENCH=ON)
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [REPS]}
reps=${2:-20}
cd "$(dirname "$0")/../.."
ninja -C "$build" mstl_bench >/dev/null
"$build/bench/mstl_bench" "$reps"
Rscript bench/mstl/mstl_bench.R "$reps"
