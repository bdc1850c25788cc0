#!/usr/bin/python3
"""Reference values for src/risk/risk_reference_test.cc, from an independent implementation
(numpy, scipy). Run from the repository root:

    /usr/bin/python3 testdata/risk/make_reference.py > testdata/risk/reference.json

Conventions (docs/risk.md): P&L > 0 is a gain; VaR and ES are positive losses. Historical:
k = ceil(n (1 - level)) computed in exact rational arithmetic (at least 1), VaR = -(k-th
smallest P&L) = -np.quantile(pnl, 1 - level, method="inverted_cdf"), ES = -(mean of the k
smallest). scipy.stats.t.ppf is accurate to ~1e-10 only (3 dof, 0.99: 1.3e-10 high), well within the
1e-8 tolerance. Backtests: Kupiec and Christoffersen likelihood ratios with 0 ln 0 = 0
(scipy.special.xlogy), p-values from scipy.stats.chi2.sf, Basel zone from scipy.stats.binom.cdf.
"""
import json
import math
from fractions import Fraction

import numpy as np
import scipy
from scipy import special, stats


def historical(pnl, level):
    n = len(pnl)
    k = max(1, math.ceil(n * (1 - Fraction(str(level)))))
    order = np.argsort(pnl, kind="stable")
    x = np.asarray(pnl)[order]
    var = -x[k - 1]
    q = np.quantile(pnl, 1 - level, method="inverted_cdf")
    # inverted_cdf works in floating point; it agrees except where n (1 - level) is an integer
    # that rounding pushes up (e.g. 1000 x 0.01), which the exact k avoids.
    if abs(n * (1 - level) - round(n * (1 - level))) > 1e-9:
        assert -q == var, (n, level, q, var)
    return k, float(var), float(-np.mean(x[:k])), order[:k]


def contributions(matrix, level):
    m = np.asarray(matrix)
    total = m.sum(axis=1)
    k, var, es, tail = historical(list(total), level)
    return {"level": level, "var": var, "es": es,
            "var_by_position": [float(-v) for v in m[tail[-1]]],
            "es_by_position": [float(-v) for v in m[tail].mean(axis=0)]}


def lr_pvalue(stat, dof):
    return float(stats.chi2.sf(max(stat, 0.0), dof))


def backtest(exc, level):
    e = np.asarray(exc, dtype=int)
    n, x, p = len(e), int(e.sum()), 1 - level
    ll = lambda zeros, ones, q: special.xlogy(zeros, 1 - q) + special.xlogy(ones, q)
    uc = -2 * (ll(n - x, x, p) - ll(n - x, x, x / n))
    pairs = list(zip(e[:-1], e[1:]))
    n00 = sum(1 for a, b in pairs if a == 0 and b == 0)
    n01 = sum(1 for a, b in pairs if a == 0 and b == 1)
    n10 = sum(1 for a, b in pairs if a == 1 and b == 0)
    n11 = sum(1 for a, b in pairs if a == 1 and b == 1)
    ind = 0.0
    if n >= 2:
        pi = (n01 + n11) / (n - 1)
        l1 = 0.0
        if n00 + n01 > 0:
            l1 += ll(n00, n01, n01 / (n00 + n01))
        if n10 + n11 > 0:
            l1 += ll(n10, n11, n11 / (n10 + n11))
        ind = -2 * (ll(n00 + n10, n01 + n11, pi) - l1)
    cdf = float(stats.binom.cdf(x, n, p))
    zone = "green" if cdf < 0.95 else "yellow" if cdf < 0.9999 else "red"
    return {"level": level, "exceptions_indicators": [int(v) for v in e], "exceptions": x,
            "n00": n00, "n01": n01, "n10": n10, "n11": n11,
            "kupiec": float(max(uc, 0.0)), "kupiec_p": lr_pvalue(uc, 1),
            "independence": float(max(ind, 0.0)), "independence_p": lr_pvalue(ind, 1),
            "conditional_coverage": float(max(uc, 0.0) + max(ind, 0.0)),
            "conditional_coverage_p": lr_pvalue(max(uc, 0.0) + max(ind, 0.0), 2),
            "binomial_cdf": cdf, "zone": zone}


def main():
    rng = np.random.default_rng(20261207)
    out = {"generator": "testdata/risk/make_reference.py", "numpy": np.__version__, "scipy": scipy.__version__,
           "historical": [], "contributions": [], "parametric": [], "backtests": []}
    for n in (37, 250, 1000):
        pnl = [float(v) for v in np.round(rng.standard_t(4, n) * 1e4, 2)]
        cases = []
        for level in (0.9, 0.95, 0.975, 0.99):
            k, var, es, _ = historical(pnl, level)
            cases.append({"level": level, "k": k, "var": var, "es": es})
        out["historical"].append({"pnl": pnl, "results": cases})

    m = np.round(rng.multivariate_normal([10, -5, 0], [[100, 30, -20], [30, 400, 50], [-20, 50, 900]], 200), 3)
    out["contributions"].append({"pnl": m.tolist(),
                                 "results": [contributions(m, lv) for lv in (0.95, 0.99)]})

    # Closed forms checked against numerical integration of the tail (scipy's expect).
    for dist, dof, mean, scale in (("normal", 0, 1.5, 2.0), ("t", 3.0, -0.5, 1.25), ("t", 7.5, 0.0, 10.0)):
        for level in (0.95, 0.99):
            d = stats.norm(mean, scale) if dist == "normal" else stats.t(dof, mean, scale)
            q = d.ppf(1 - level)
            es = -d.expect(lambda v: v, ub=q, conditional=True, epsabs=1e-13, epsrel=1e-13)
            out["parametric"].append({"distribution": dist, "dof": dof, "mean": mean, "scale": scale,
                                      "level": level, "var": float(-q), "es": float(es)})

    seqs = []
    for n, p in ((250, 0.02), (250, 0.05), (500, 0.01), (30, 0.3)):
        seqs.append(((rng.random(n) < p).astype(int).tolist(), 0.99 if n != 30 else 0.95))
    seqs.append(([0] * 250, 0.99))
    seqs.append(([1] * 20, 0.99))
    seqs.append(([0] * 99 + [1], 0.99))
    seqs.append(([1], 0.95))
    seqs.append(([1, 1, 0, 0, 1, 1, 1, 0, 0, 0], 0.9))
    for exc, level in seqs:
        out["backtests"].append(backtest(exc, level))
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
