#!/usr/bin/python3
"""Synthetic quarterly asset returns for the issue-24 portfolio example and tests.

The macro side is the quick-start data (examples/data/us_macro_quarterly.csv, statsmodels'
macrodata). The asset returns are NOT market data: they are made up from the quarterly changes
of the T-bill rate and the unemployment rate with fixed betas plus seeded Gaussian noise, so
the factor model has something to find. Regenerate with
  /usr/bin/python3 testdata/risk/portfolio/make_portfolio_data.py   (writes asset_returns.csv, macro_vintages.csv)
"""
import csv
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MACRO = os.path.join(HERE, "..", "..", "..", "examples", "data", "us_macro_quarterly.csv")

# asset: (alpha, beta on d tbilrate (pp), beta on d unemp (pp), residual sd)
ASSETS = {
    "us_equity": (0.020, -0.010, -0.060, 0.060),
    "us_treasury": (0.008, -0.045, 0.010, 0.012),
    "ig_credit": (0.012, -0.030, -0.020, 0.018),
    "eu_equity": (0.018, -0.008, -0.050, 0.070),
}

rows = list(csv.DictReader(open(MACRO)))
periods = [r["period"] for r in rows]
rate = np.array([float(r["us:tbilrate"]) for r in rows])
unemp = np.array([float(r["us:unemp"]) for r in rows])
start = periods.index("1985Q1")
rng = np.random.default_rng(24)
out = {}
for name, (a, br, bu, sd) in ASSETS.items():
    out[name] = a + br * np.diff(rate)[start - 1:] + bu * np.diff(unemp)[start - 1:] + sd * rng.standard_normal(len(periods) - start)
with open(os.path.join(HERE, "asset_returns.csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["period"] + list(ASSETS))
    for i, p in enumerate(periods[start:]):
        w.writerow([p] + ["%.10f" % out[n][i] for n in ASSETS])

# macro_vintages.csv: us:tbilrate, us:unemp and us:infl in long form with a realtime_start
# (first release) on the first day of the second month after each quarter -- a simple, made-up
# publication lag (no revisions), so that the as-of VaR backtest has vintages to read.
with open(os.path.join(HERE, "macro_vintages.csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["series", "period", "value", "realtime_start"])
    for key in ["us:tbilrate", "us:unemp", "us:infl"]:
        for r in rows:
            y, q = int(r["period"][:4]), int(r["period"][5])
            m = 3 * q + 2
            w.writerow([key, r["period"], r[key], "%04d-%02d-01" % (y + (m - 1) // 12, (m - 1) % 12 + 1)])
