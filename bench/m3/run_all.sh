#!/bin/bash
# Issue 3's M3 figures in one run: almanac and R forecast side by side on this machine, then
# the markdown tables of docs/benchmarks.md ("Issue 3: forecasting engine I (M3)").
#
#   bench/m3/run_all.sh [--out DIR] [--build DIR] [--skip-r | --r-from DIR] [--r-sample N]
#                       [--seed S]
#
# Data: $ALMANAC_M3_DIR, else ../shared/datasets/m3 next to the repository, else
# /work/shared/datasets/m3 (m3.csv and m3_original_submissions.csv; see its README).
# Steps (results.csv of each in DIR/<step>/, logs in DIR/logs/):
#   almanac_macro      naive2, auto_ets, auto_arima, theta, combination on MACRO (731),
#                      one thread (per-series CPU times), plus the 24 original M3 entries
#   almanac_macro_cal  auto_ets, auto_arima, combination with calibrate: true, MACRO, 2 threads
#   almanac_all        the five methods on all 3003 series with --threads 2 under
#                      /usr/bin/time -v (wall time and peak RSS), plus the original entries
#   r_macro            R ets, auto.arima, thetaf and their mean on MACRO
#   r_rest             R ets and thetaf on the 2272 other series (with r_macro: all 3003)
#   r_rest_sample      R auto.arima and the mean of the three on a fixed sample of N (default
#                      300, seed 1) of the other series (auto.arima on all of them would take
#                      over an hour)
# then bench/m3/report.py DIR > DIR/report.md. With --skip-r the R steps are left out (the
# report omits R columns unless DIR already holds them); --r-from DIR2 copies R results of an
# earlier run. R steps take about an hour on the 2-core machine; the almanac ones minutes.
# The cores are shared with whatever else runs: the report records the load average before
# and after each step, and per-series speed ratios use CPU time.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$repo/build/m3_run"
build="$repo/build/dev"
skip_r=0
r_from=""
r_sample=300
seed=1
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --skip-r) skip_r=1; shift ;;
    --r-from) r_from="$2"; shift 2 ;;
    --r-sample) r_sample="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "run_all.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

m3dir="${ALMANAC_M3_DIR:-}"
if [ -z "$m3dir" ]; then
  for d in "$repo/../shared/datasets/m3" /work/shared/datasets/m3; do
    if [ -f "$d/m3.csv" ]; then m3dir="$d"; break; fi
  done
fi
if [ -z "$m3dir" ] || [ ! -f "$m3dir/m3.csv" ]; then
  echo "run_all.sh: M3 data not found (set ALMANAC_M3_DIR to the folder holding m3.csv)" >&2
  exit 1
fi
m3="$m3dir/m3.csv"
mkdir -p "$out/logs"
log="$out/logs/steps.log"
: > "$log"

step() {  # step NAME COMMAND...: runs and records the time and load around it
  local name="$1"; shift
  echo "== $name" | tee -a "$log"
  echo "start $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$log"
  "$@" > "$out/logs/$name.out" 2> "$out/logs/$name.err" || {
    echo "run_all.sh: step $name failed; see $out/logs/$name.err" >&2; exit 1; }
  echo "end   $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$log"
}

echo "building almanac_m3_bench in $build" >&2
cmake --build "$build" --target almanac_m3_bench -j2 > "$out/logs/build.log"
bench="$build/bench/almanac_m3_bench"
five="naive2,auto_ets,auto_arima,theta,combination"
{
  echo "host $(hostname) cores $(nproc) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
  echo "commit $(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet || echo '+dirty')"
  echo "data $m3"
} > "$out/logs/env.txt"

step almanac_macro "$bench" "$m3" --methods "$five" --category MACRO --threads 1 --rescore \
  --out "$out/almanac_macro"
step almanac_macro_cal "$bench" "$m3" \
  --method 'auto_ets+cal={"type":"auto_ets","params":{"calibrate":true}}' \
  --method 'auto_arima+cal={"type":"auto_arima","params":{"calibrate":true}}' \
  --method 'combination+cal={"type":"combination","params":{"calibrate":true}}' \
  --category MACRO --threads 2 --out "$out/almanac_macro_cal"
step almanac_all /usr/bin/time -v "$bench" "$m3" --methods "$five" --threads 2 --rescore \
  --out "$out/almanac_all"

if [ -n "$r_from" ]; then
  for d in r_macro r_rest r_rest_sample; do
    if [ -d "$r_from/$d" ]; then rm -rf "${out:?}/$d"; cp -r "$r_from/$d" "$out/$d"; fi
  done
  grep -A2 "== r_" "$r_from/logs/steps.log" >> "$log" 2>/dev/null || true
elif [ "$skip_r" = 0 ]; then
  others="MICRO,INDUSTRY,FINANCE,DEMOGRAPHIC,OTHER"
  step r_macro Rscript "$here/run_r.R" "$m3" --methods ets,auto.arima,thetaf,comb --category MACRO \
    --out "$out/r_macro"
  step r_rest Rscript "$here/run_r.R" "$m3" --methods ets,thetaf --category "$others" --out "$out/r_rest"
  step r_rest_sample Rscript "$here/run_r.R" "$m3" --methods auto.arima,comb --category "$others" \
    --sample "$r_sample" --seed "$seed" --out "$out/r_rest_sample"
fi

/usr/bin/python3 "$here/report.py" "$out" > "$out/report.md"
echo "run_all.sh: wrote $out/report.md" >&2
