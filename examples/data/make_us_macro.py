#!/usr/bin/python3
"""Regenerates us_macro_quarterly.csv from the copy of statsmodels' `macrodata` data set that
Debian's python3-statsmodels installs (public domain; compiled by Skipper Seabold from FRED and
BLS, accessed 2009-12-15). Run with Debian's interpreter: /usr/bin/python3 make_us_macro.py"""
import csv
import sys

SRC = "/usr/lib/python3/dist-packages/statsmodels/datasets/macrodata/macrodata.csv"
COLUMNS = ["realgdp", "realcons", "realinv", "realgovt", "realdpi", "cpi", "m1", "tbilrate", "unemp", "pop",
           "infl", "realint"]

with open(SRC, newline="") as f:
    rows = list(csv.DictReader(f))
out = csv.writer(sys.stdout, lineterminator="\n")
out.writerow(["period"] + ["us:" + c for c in COLUMNS])
for r in rows:
    out.writerow([f"{int(float(r['year']))}Q{int(float(r['quarter']))}"] + [r[c] for c in COLUMNS])
