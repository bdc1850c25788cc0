#!/usr/bin/env bash
# PostgreSQL back-end figures (issue 7), against a throwaway server on 127.0.0.1:
#   1. ingest of a long CSV (SERIES x PERIODS rows) through almanac (COPY, vintage logic on)
#      against psql's \copy of the same file into a plain table, REPS times interleaved
#      (medians), and the same file loaded again (no change);
#   2. as-of reads of 1,000 series x 300 periods x 20 vintages (pg_asof_bench).
#   BUILD=build/ci bench/pg/run.sh [SERIES] [PERIODS] [REPS]     (default 1000 10000 3)
#   ASOF=0 skips part 2. BASELINE=path/to/another/almanac also times that binary's first load in
#   each repetition (e.g. a build of main, for before/after figures under the same load).
set -euo pipefail
cd "$(dirname "$0")/../.."
SERIES=${1:-1000}; PERIODS=${2:-10000}; REPS=${3:-3}
BUILD=${BUILD:-build/default}
ASOF=${ASOF:-1}
targets=(almanac gen_long_csv)
[ "$ASOF" = 0 ] || targets+=(pg_asof_bench)
cmake --build "$BUILD" --target "${targets[@]}" >/dev/null
A=$BUILD/src/cli/almanac
WORK=$(mktemp -d /tmp/almanac_pg_bench.XXXXXX)
chmod 755 "$WORK"
PGDIR="$WORK/pg"
trap 'scripts/pg_test_server.sh stop "$PGDIR"; rm -rf "$WORK"' EXIT
ADMIN=$(scripts/pg_test_server.sh start "$PGDIR")
BASE=${ADMIN%/postgres}
CSV=$WORK/long.csv
"$BUILD/bench/gen_long_csv" "$SERIES" "$PERIODS" > "$CSV"
chmod 644 "$CSV"
ROWS=$((SERIES * PERIODS))
echo "file: $ROWS rows, $(du -m "$CSV" | cut -f1) MiB; $(psql --version); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

measure() {  # prints "seconds max_rss_kib"
  /usr/bin/time -f "%e %M" -o "$WORK/t" "$@" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
  cat "$WORK/t"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

: > "$WORK/copy"; : > "$WORK/first"; : > "$WORK/again"; : > "$WORK/base"
for r in $(seq "$REPS"); do
  psql -q "$ADMIN" -c "DROP DATABASE IF EXISTS plain" -c "CREATE DATABASE plain" -c "DROP DATABASE IF EXISTS alm" -c "CREATE DATABASE alm"
  psql -q "$BASE/plain" -c "CREATE TABLE obs (key text, period text, value double precision)"
  measure psql -q "$BASE/plain" -c "\\copy obs FROM '$CSV' WITH (FORMAT csv, HEADER true)" >> "$WORK/copy"
  "$A" -q --store "$BASE/alm" init
  measure "$A" -q --store "$BASE/alm" ingest "$CSV" --realtime-start 2024-01-01 >> "$WORK/first"
  measure "$A" -q --store "$BASE/alm" ingest "$CSV" --realtime-start 2024-02-01 >> "$WORK/again"
  base=""
  if [ -n "${BASELINE:-}" ]; then
    psql -q "$ADMIN" -c "DROP DATABASE IF EXISTS base" -c "CREATE DATABASE base"
    "$BASELINE" -q --store "$BASE/base" init
    measure "$BASELINE" -q --store "$BASE/base" ingest "$CSV" --realtime-start 2024-01-01 >> "$WORK/base"
    base=", baseline first $(tail -1 "$WORK/base")"
  fi
  echo "rep $r: \\copy $(tail -1 "$WORK/copy"), first $(tail -1 "$WORK/first"), again $(tail -1 "$WORK/again")$base" >&2
done
cp=$(cut -d' ' -f1 "$WORK/copy" | median); first=$(cut -d' ' -f1 "$WORK/first" | median)
again=$(cut -d' ' -f1 "$WORK/again" | median); rss=$(cut -d' ' -f2 "$WORK/first" | sort -n | tail -1)
awk -v rows="$ROWS" -v cp="$cp" -v first="$first" -v again="$again" -v rss="$rss" 'BEGIN {
  printf "| run | median wall (s) | rows/s | vs psql \\\\copy | peak RSS (MiB) |\n|---|---:|---:|---:|---:|\n";
  printf "| psql \\\\copy into a plain table | %.2f | %.0f | 1.00 | |\n", cp, rows/cp;
  printf "| almanac ingest into PostgreSQL, first load (vintages on) | %.2f | %.0f | %.2f | %.0f |\n", first, rows/first, cp/first, rss/1024;
  printf "| almanac ingest, same file again (no change) | %.2f | %.0f | %.2f | |\n", again, rows/again, cp/again }'
if [ -n "${BASELINE:-}" ]; then
  base=$(cut -d' ' -f1 "$WORK/base" | median)
  awk -v rows="$ROWS" -v cp="$cp" -v b="$base" -v bin="$BASELINE" 'BEGIN {
    printf "| baseline (%s), first load | %.2f | %.0f | %.2f | |\n", bin, b, rows/b, cp/b }'
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

[ "$ASOF" = 0 ] && exit 0
echo >&2; echo "as-of reads (loading 6 million observations first)..." >&2
psql -q "$ADMIN" -c "CREATE DATABASE asof"
ALMANAC_BENCH_PG_URI="$BASE/asof" "$BUILD/bench/pg_asof_bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only
