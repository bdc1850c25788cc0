#!/usr/bin/env bash
# Real-time nowcast evaluation benchmark (issue 25; docs/benchmarks.md, "Issue 25: real-time
# nowcast evaluation"). Simulates 30 monthly indicators and quarterly GDP over 1995..2020 with the
# release calendar of testdata/nowcast/make_eval_vintages.py (vintages from 2014-12-01), ingests
# them into a fresh workspace, and evaluates the DFM against the random walk and the AR(2) on the
# held-out window 2015..2019 (60 month ends), in real time and pseudo-real time, re-estimating the
# DFM at each date. Writes the JSON results and a summary (markdown) to OUT.
#
#   bench/nowcast/eval_bench.sh build/default/almanac /tmp/nowcast-eval
set -euo pipefail
ALMANAC=$(realpath "${1:?usage: eval_bench.sh ALMANAC_BINARY OUT_DIR}")
OUT=${2:?usage: eval_bench.sh ALMANAC_BINARY OUT_DIR}
FROM=${FROM:-2015-01-01}
TO=${TO:-2019-12-31}
REFIT=${REFIT:-every}
MAXIT=${MAXIT:-200}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
mkdir -p "$OUT"
rm -rf "$OUT/ws" "$OUT/timings.txt"
/usr/bin/python3 "$ROOT/testdata/nowcast/make_eval_vintages.py" --indicators 30 --start 1995-01 \
  --vintage-start 2014-12-01 --end 2020-12-31 --prefix bench --out "$OUT/vintages.csv"
{
  echo "target: bench:gdp"
  printf "indicators: ["
  for i in $(seq 1 30); do printf "%sbench:ind%02d" "$([ "$i" -gt 1 ] && echo ', ')" "$i"; done
  echo "]"
  echo "blocks: [{name: global, factors: 1, order: 2}]"
  echo "max_iterations: $MAXIT"
  echo "tolerance: 1.0e-5"
} > "$OUT/config.yaml"
"$ALMANAC" --workspace "$OUT/ws" init > /dev/null
"$ALMANAC" --workspace "$OUT/ws" ingest "$OUT/vintages.csv" > /dev/null
for mode in real-time pseudo; do
  start=$(date +%s.%N)
  "$ALMANAC" --workspace "$OUT/ws" --quiet --format json nowcast evaluate --config "$OUT/config.yaml" \
    --from "$FROM" --to "$TO" --mode "$mode" --refit "$REFIT" > "$OUT/$mode.json"
  end=$(date +%s.%N)
  echo "$mode: $(echo "$end - $start" | bc) s" >> "$OUT/timings.txt"
done
/usr/bin/python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
lines = ["| data | DFM RMSE | RW RMSE | AR(2) RMSE | DFM/RW | DM vs RW (p) | DFM/AR(2) | DM vs AR(2) (p) |",
         "|---|---|---|---|---|---|---|---|"]
months = ["| data | month | DFM RMSE | RW RMSE | AR(2) RMSE | DFM/RW | DM vs RW (p) | DFM/AR(2) | DM vs AR(2) (p) |",
          "|---|---|---|---|---|---|---|---|---|"]
def dm(d):
    return "n/a" if "statistic" not in d else "%.2f (%.3f)" % (d["statistic"], d["pvalue"])
for mode in ["real-time", "pseudo"]:
    r = json.load(open("%s/%s.json" % (out, mode)))
    a = {x["method"]: x for x in r["accuracy"]}
    t = {x["benchmark"]: x for x in r["tests"]}
    lines.append("| %s (%d dates, DM h=%d) | %.3f | %.3f | %.3f | %.2f | %s | %.2f | %s |" % (
        mode, a["dfm"]["n"], r["dm_horizon"], a["dfm"]["rmse"], a["rw"]["rmse"], a["ar2"]["rmse"],
        t["rw"]["relative_rmse"], dm(t["rw"]["dm"]), t["ar2"]["relative_rmse"], dm(t["ar2"]["dm"])))
    for m in range(3):
        months.append("| %s | %d | %.3f | %.3f | %.3f | %.2f | %s | %.2f | %s |" % (
            mode, m + 1, a["dfm"]["rmse_by_month"][m], a["rw"]["rmse_by_month"][m], a["ar2"]["rmse_by_month"][m],
            t["rw"]["by_month"][m]["relative_rmse"], dm(t["rw"]["by_month"][m]["dm"]),
            t["ar2"]["by_month"][m]["relative_rmse"], dm(t["ar2"]["by_month"][m]["dm"])))
open("%s/summary.md" % out, "w").write("\n".join(lines) + "\n\n" + "\n".join(months) + "\n")
print("\n".join(lines) + "\n\n" + "\n".join(months))
PY
cat "$OUT/timings.txt"
