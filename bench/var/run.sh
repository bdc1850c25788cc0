#!/bin/bash
# VAR/BVAR benchmark: statsmodels and almanac on the same data, side by side in one run.
#   bench/var/run.sh BUILD_DIR [REPS]
# Prints a Markdown table (CPU milliseconds per call, medians over REPS repetitions).
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [REPS]}
reps=${2:-20}
here=$(cd "$(dirname "$0")" && pwd)
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
# One BLAS thread, like almanac (numpy's threaded OpenBLAS only adds contention on tiny matrices).
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \
  /usr/bin/python3 "$here/var_statsmodels.py" "$data" --reps "$reps" > "$data/statsmodels.csv"
"$build/bench/var_bench" "$data" --reps "$reps" > "$data/almanac.csv"
echo "| case | K x T | statsmodels CPU ms | almanac CPU ms | speed-up | order sm / almanac |"
echo "|---|---|---:|---:|---:|---|"
while IFS=, read -r name k n secs p; do
  sm=$(grep "^$name," "$data/statsmodels.csv" || true)
  if [ -n "$sm" ]; then
    IFS=, read -r _ _ _ smsecs smp <<< "$sm"
    awk -v n="$name" -v k="$k" -v t="$n" -v a="$secs" -v s="$smsecs" -v p="$p" -v sp="$smp" \
      'BEGIN { printf "| %s | %s x %s | %.3f | %.3f | %.0fx | %s / %s |\n", n, k, t, s*1000, a*1000, s/a, sp, p }'
  else
    awk -v n="$name" -v k="$k" -v t="$n" -v a="$secs" \
      'BEGIN { printf "| %s | %s x %s | - | %.3f | - | - |\n", n, k, t, a*1000 }'
  fi
done < "$data/almanac.csv"
