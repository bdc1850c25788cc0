#!/usr/bin/python3
"""Reference values for the portfolio example (src/risk/stress_test.cc, PortfolioReference*),
from an independent implementation: numpy for the historical revaluation VaR/ES and the Euler
ES contributions, statsmodels' OLS with HAC (Newey-West) covariance for each asset's factor
regression on the changes of us:tbilrate and us:unemp. Run from the repository root:

    /usr/bin/python3 testdata/risk/portfolio/make_portfolio_reference.py > testdata/risk/portfolio/reference.json
"""
import csv
import json
import math
import os
from fractions import Fraction

import numpy as np
import statsmodels.api as sm

HERE = os.path.dirname(os.path.abspath(__file__))
macro = list(csv.DictReader(open(os.path.join(HERE, "..", "..", "..", "examples", "data", "us_macro_quarterly.csv"))))
returns = list(csv.DictReader(open(os.path.join(HERE, "asset_returns.csv"))))
positions = list(csv.DictReader(line for line in open(os.path.join(HERE, "positions.csv")) if not line.startswith("#")))
fx = {r["currency"]: float(r["rate"]) for r in csv.DictReader(open(os.path.join(HERE, "fx.csv")))}
fx["USD"] = 1.0

assets = [c for c in returns[0].keys() if c != "period"]
index = {r["period"]: i for i, r in enumerate(macro)}
X, R = [], {a: [] for a in assets}
for r in returns:
    t = index[r["period"]]
    X.append([float(macro[t][k]) - float(macro[t - 1][k]) for k in ("us:tbilrate", "us:unemp")])
    for a in assets:
        R[a].append(float(r[a]))
X = sm.add_constant(np.asarray(X))
n = X.shape[0]
lags = int(math.floor(4 * (n / 100.0) ** (2.0 / 9.0)))
fits = {}
for a in assets:
    res = sm.OLS(np.asarray(R[a]), X).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
    fits[a] = {"coefficients": [float(v) for v in res.params], "std_errors": [float(v) for v in res.bse]}

exposure = np.array([float(p["exposure"]) * fx[p["currency"]] for p in positions])
pos_returns = np.array([[float(r[p["asset"]]) for p in positions] for r in returns])  # T x J
pnl_matrix = pos_returns * exposure
pnl = pnl_matrix.sum(axis=1)
hist = []
for level in (0.95, 0.99):
    k = max(1, math.ceil(len(pnl) * (1 - Fraction(str(level)))))
    order = np.argsort(pnl, kind="stable")
    var = -float(np.quantile(pnl, 1 - level, method="inverted_cdf"))
    assert var == -pnl[order[k - 1]]
    hist.append({"level": level, "var": var, "es": float(-pnl[order[:k]].mean()),
                 "es_by_position": [float(-v) for v in pnl_matrix[order[:k]].mean(axis=0)]})
print(json.dumps({"lags": lags, "observations": n, "factor_model": fits, "historical": hist}, indent=1))
