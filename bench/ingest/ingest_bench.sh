#!/usr/bin/env bash
# Ingest throughput against SQLite's own CSV import, measured in the same run:
#   1. sqlite3 .import of the file into a plain table (the reference),
#   2. almanac ingest of the same file into a new workspace (vintage logic on),
#   3. almanac ingest of the same file again (no changes: no vintage is written).
# Each is repeated REPS times (interleaved); medians of wall time and peak RSS are reported.
#   bench/ingest/ingest_bench.sh [SERIES] [PERIODS] [REPS]     (default 1000 10000 3)
set -euo pipefail
cd "$(dirname "$0")/../.."
SERIES=${1:-1000}; PERIODS=${2:-10000}; REPS=${3:-3}
BUILD=${BUILD:-build/default}
cmake --build "$BUILD" --target almanac gen_long_csv >/dev/null
A=$BUILD/src/cli/almanac
WORK=$(mktemp -d /tmp/almanac_ingest_bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
CSV=$WORK/long.csv
"$BUILD/bench/gen_long_csv" "$SERIES" "$PERIODS" > "$CSV"
ROWS=$((SERIES * PERIODS))
echo "file: $ROWS rows, $(du -m "$CSV" | cut -f1) MiB; sqlite3 $(sqlite3 --version | cut -d' ' -f1); $(nproc) cores" >&2

measure() {  # prints "seconds max_rss_kib"
  /usr/bin/time -f "%e %M" -o "$WORK/t" "$@" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
  cat "$WORK/t"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

: > "$WORK/import"; : > "$WORK/first"; : > "$WORK/again"
for r in $(seq "$REPS"); do
  rm -f "$WORK/plain.db"
  measure sqlite3 "$WORK/plain.db" ".mode csv" ".import $CSV obs" >> "$WORK/import"
  rm -rf "$WORK/ws"; "$A" -q -w "$WORK/ws" init
  measure "$A" -q -w "$WORK/ws" ingest "$CSV" --realtime-start 2024-01-01 >> "$WORK/first"
  measure "$A" -q -w "$WORK/ws" ingest "$CSV" --realtime-start 2024-02-01 >> "$WORK/again"
  echo "rep $r: import $(tail -1 "$WORK/import"), first $(tail -1 "$WORK/first"), again $(tail -1 "$WORK/again")" >&2
done
imp=$(cut -d' ' -f1 "$WORK/import" | median); first=$(cut -d' ' -f1 "$WORK/first" | median)
again=$(cut -d' ' -f1 "$WORK/again" | median); rss=$(cut -d' ' -f2 "$WORK/first" | sort -n | tail -1)
rss_again=$(cut -d' ' -f2 "$WORK/again" | sort -n | tail -1)
awk -v rows="$ROWS" -v imp="$imp" -v first="$first" -v again="$again" -v rss="$rss" -v rss2="$rss_again" 'BEGIN {
  printf "| run | median wall (s) | rows/s | vs sqlite3 .import | peak RSS (MiB) |\n|---|---:|---:|---:|---:|\n";
  printf "| sqlite3 .import into a plain table | %.2f | %.0f | 1.00 | |\n", imp, rows/imp;
  printf "| almanac ingest, first load (vintages on) | %.2f | %.0f | %.2f | %.0f |\n", first, rows/first, imp/first, rss/1024;
  printf "| almanac ingest, same file again (no change) | %.2f | %.0f | %.2f | %.0f |\n", again, rows/again, imp/again, rss2/1024;
  printf "\nre-ingest speed-up over the first load: %.1fx\n", first/again }'
