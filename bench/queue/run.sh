#!/usr/bin/env bash
# Issue 7's worker figure: the same M3 subset trained by 1, 2 and 4 worker processes (one task
# at a time each, one fitting thread each) on this machine, against one throwaway PostgreSQL
# store on 127.0.0.1. Each task is one pipeline (one M3 MACRO series, monthly by default;
# candidates auto_ets, auto_arima and theta, a 12-origin backtest). The wall time is the span of the
# tasks in the store (first start to last finish), so process start-up and the idle exit are
# not counted. REPS interleaved repetitions, medians.
#   BUILD=build/dev bench/queue/run.sh [SERIES] [REPS]      (default 24 3)
# Data: $ALMANAC_M3_DIR/m3.csv, else ../shared/datasets/m3/m3.csv beside the repository, else
# testdata/bench/m3/m3.csv (a 6-series excerpt of the M3 competition data).
set -euo pipefail
cd "$(dirname "$0")/../.."
SERIES=${1:-24}; REPS=${2:-3}
BUILD=${BUILD:-build/default}
cmake --build "$BUILD" --target almanac >/dev/null
A=$(realpath "$BUILD/src/cli/almanac")
M3_DIR=${ALMANAC_M3_DIR:-../shared/datasets/m3}
[ -f "$M3_DIR/m3.csv" ] || M3_DIR=testdata/bench/m3
M3=$M3_DIR/m3.csv
WORK=$(mktemp -d /tmp/almanac_queue_bench.XXXXXX)
chmod 755 "$WORK"
PGDIR="$WORK/pg"
trap 'scripts/pg_test_server.sh stop "$PGDIR" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
ADMIN=$(scripts/pg_test_server.sh start "$PGDIR")
BASE=${ADMIN%/postgres}

# The first SERIES MACRO series of PERIOD (MONTHLY by default, or QUARTERLY) with at least
# MIN_LENGTH observations (default 100) as a long CSV (key m3:ID).
PERIOD=${PERIOD:-MONTHLY}; MIN_LENGTH=${MIN_LENGTH:-100}
awk -F, -v n="$SERIES" -v p="$PERIOD" -v m="$MIN_LENGTH" 'FNR == 1 { if (NR == 1) print "series,period,value"; next }
  $2 != "MACRO" || $4 != p || $5 != "train" { next }
  NR == FNR { len[$1]++; next }
  len[$1] >= m {
    if (!($1 in seen)) { if (count >= n) next; seen[$1] = 1; count++ }
    print "m3:" $1 "," $7 "," $8 }' "$M3" "$M3" > "$WORK/m3.csv"
mkdir -p "$WORK/pipelines"
for id in $(cut -d, -f1 "$WORK/m3.csv" | tail -n +2 | sort -u); do
  name=${id#m3:}
  cat > "$WORK/pipelines/$name.yaml" <<YAML
name: m3-$name
data:
  series: [$id]
target: $id
horizon: 8
levels: [80, 95]
models:
  - {name: ets, type: auto_ets}
  - {name: arima, type: auto_arima}
  - {name: theta, type: theta}
evaluation: {origins: 12, step: 1, window: expanding, horizon: 8, metrics: [mase, smape], select_by: mase}
register: {model: m3-$name, owner: bench, when: mase < 100}
seed: 1
YAML
done
NTASKS=$(ls "$WORK/pipelines" | wc -l)
echo "$NTASKS tasks (M3 MACRO $PERIOD, >= $MIN_LENGTH observations); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

span() {  # seconds from the first task start to the last finish
  psql -qtA "$1" -c "SELECT round(((max(finished_at) - min(started_at)) / 1e6)::numeric, 2) FROM tasks WHERE state = 'done'"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
for w in 1 2 4; do : > "$WORK/w$w"; done
for r in $(seq "$REPS"); do
  for w in 1 2 4; do
    db="q${w}_$r"
    psql -q "$ADMIN" -c "CREATE DATABASE $db"
    "$A" -q --store "$BASE/$db" init
    "$A" -q --store "$BASE/$db" ingest "$WORK/m3.csv" --realtime-start 2024-01-01
    "$A" -q --store "$BASE/$db" submit "$WORK"/pipelines/*.yaml >/dev/null
    pids=()
    for i in $(seq "$w"); do
      "$A" -q --store "$BASE/$db" worker --threads 1 --poll-ms 20 --idle-exit 1 >/dev/null 2>"$WORK/err$i" & pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || { cat "$WORK"/err*; exit 1; }; done
    done_count=$(psql -qtA "$BASE/$db" -c "SELECT count(*) FROM tasks WHERE state = 'done'")
    [ "$done_count" = "$NTASKS" ] || { echo "only $done_count of $NTASKS tasks done" >&2; psql -qtA "$BASE/$db" -c "SELECT id, name, state, attempts, error FROM tasks WHERE state <> 'done'" >&2; exit 1; }
    s=$(span "$BASE/$db")
    echo "$s" >> "$WORK/w$w"
    echo "rep $r: $w worker(s): $s s" >&2
  done
done
m1=$(median < "$WORK/w1"); m2=$(median < "$WORK/w2"); m4=$(median < "$WORK/w4")
echo "| workers (processes x 1 task, 1 thread) | median span (s) | vs 1 worker | vs 2 workers |"
echo "|---:|---:|---:|---:|"
for w in 1 2 4; do
  m=$(median < "$WORK/w$w")
  echo "| $w | $m | $(awk -v a="$m1" -v b="$m" 'BEGIN {printf "%.2fx", a / b}') | $(awk -v a="$m2" -v b="$m" 'BEGIN {printf "%.2f", b / a}') |"
done
