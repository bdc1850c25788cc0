#!/bin/sh
# Side-by-side markdown tables from M3 benchmark results (for docs/benchmarks.md).
#
#   bench/m3/compare.sh [--pair ENGINE:METHOD=ENGINE:METHOD]... RESULTS.csv [RESULTS.csv ...]
#
# RESULTS.csv are results.csv files of almanac_m3_bench and/or bench/m3/run_r.R (same
# columns). Prints to stdout:
#   1. accuracy and speed per (engine, method) and period, with the definitions of
#      almanac_m3_bench's summary.md (sMAPE mean over series and pooled over points, MASE mean
#      over series, coverage pooled over points, mean ms per series);
#   2. for each --pair A=B (e.g. almanac:theta=R:thetaf), the same figures on the series where
#      both succeeded, with ratios A/B for sMAPE and MASE and the speed-up B/A (time of B over
#      time of A; > 1 means A is faster).
# Needs only Python 3's standard library (/usr/bin/python3 on Debian).
set -eu
exec /usr/bin/python3 - "$@" <<'PY'
import csv
import math
import sys

pairs, files = [], []
args = sys.argv[1:]
i = 0
while i < len(args):
    if args[i] == "--pair":
        a, b = args[i + 1].split("=")
        pairs.append((tuple(a.split(":", 1)), tuple(b.split(":", 1))))
        i += 2
    else:
        files.append(args[i])
        i += 1
if not files:
    sys.exit("usage: compare.sh [--pair ENGINE:METHOD=ENGINE:METHOD]... RESULTS.csv...")

rows = []
for f in files:
    with open(f, newline="") as fh:
        rows.extend(csv.DictReader(fh))

def num(v):
    return float("nan") if v in ("", "NA", None) else float(v)

PERIODS = ["YEARLY", "QUARTERLY", "MONTHLY", "OTHER", "ALL"]

def summarise(rs):
    ok = [r for r in rs if r["status"] == "ok"]
    pts = sum(int(r["h"]) for r in ok)
    cov = [r for r in ok if not math.isnan(num(r["cov95"]))]
    cpts = sum(int(r["h"]) for r in cov)
    mase = [num(r["mase"]) for r in ok if not math.isnan(num(r["mase"]))]
    secs = [num(r["seconds"]) for r in rs if not math.isnan(num(r["seconds"]))]
    nan = float("nan")
    return {
        "n": len(rs), "failed": len(rs) - len(ok),
        "smape": sum(num(r["smape"]) for r in ok) / len(ok) if ok else nan,
        "pooled": sum(num(r["smape"]) * int(r["h"]) for r in ok) / pts if pts else nan,
        "mase": sum(mase) / len(mase) if mase else nan,
        "cov80": sum(num(r["cov80"]) * int(r["h"]) for r in cov) / cpts if cpts else nan,
        "cov95": sum(num(r["cov95"]) * int(r["h"]) for r in cov) / cpts if cpts else nan,
        "ms": 1000 * sum(secs) / len(secs) if secs else nan,
    }

def fmt(v, d=3):
    return "-" if v is None or math.isnan(v) else f"{v:.{d}f}"

keys = []
for r in rows:
    k = (r["engine"], r["method"])
    if k not in keys:
        keys.append(k)

print("| engine | method | period | series | failed | sMAPE | pooled sMAPE | MASE | cov80 | cov95 | ms/series |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for k in keys:
    for p in PERIODS:
        rs = [r for r in rows if (r["engine"], r["method"]) == k and (p == "ALL" or r["period"] == p)]
        if not rs:
            continue
        s = summarise(rs)
        print(f"| {k[0]} | {k[1]} | {p} | {s['n']} | {s['failed']} | {fmt(s['smape'])} | {fmt(s['pooled'])} | "
              f"{fmt(s['mase'])} | {fmt(s['cov80'])} | {fmt(s['cov95'])} | {fmt(s['ms'])} |")

for a, b in pairs:
    ra = {r["series_id"]: r for r in rows if (r["engine"], r["method"]) == a}
    rb = {r["series_id"]: r for r in rows if (r["engine"], r["method"]) == b}
    common = sorted(s for s in ra if s in rb and ra[s]["status"] == "ok" and rb[s]["status"] == "ok")
    print()
    print(f"**{a[0]} {a[1]} vs {b[0]} {b[1]}** ({len(common)} series where both succeeded; "
          f"ratios A/B, speed-up = time B / time A)")
    print()
    print("| period | series | sMAPE A | sMAPE B | ratio | MASE A | MASE B | ratio | cov95 A | cov95 B | "
          "ms A | ms B | speed-up |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for p in PERIODS:
        ids = [s for s in common if p == "ALL" or ra[s]["period"] == p]
        if not ids:
            continue
        sa, sb = summarise([ra[s] for s in ids]), summarise([rb[s] for s in ids])
        ratio = lambda x, y: x / y if y and not math.isnan(x) and not math.isnan(y) else float("nan")
        print(f"| {p} | {len(ids)} | {fmt(sa['smape'])} | {fmt(sb['smape'])} | {fmt(ratio(sa['smape'], sb['smape']))} | "
              f"{fmt(sa['mase'])} | {fmt(sb['mase'])} | {fmt(ratio(sa['mase'], sb['mase']))} | {fmt(sa['cov95'])} | "
              f"{fmt(sb['cov95'])} | {fmt(sa['ms'])} | {fmt(sb['ms'])} | {fmt(ratio(sb['ms'], sa['ms']), 1)} |")
PY
