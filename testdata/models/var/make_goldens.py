#!/usr/bin/python3
"""Regenerates the VAR goldens from statsmodels (Debian python3-statsmodels 0.13.5).

    cd testdata/models/var && /usr/bin/python3 make_goldens.py > macrodata_goldens.json

Data: the classic statsmodels VAR example, log-differences of realgdp, realcons and realinv
from statsmodels' bundled macrodata (examples/data/us_macro_quarterly.csv is a copy of it;
the script checks that they agree). Everything the C++ tests compare is written with full
double precision (repr), including the transformed data, so the tests do not depend on
the platform's log().
"""
import json
import os
import sys

import numpy as np
import pandas as pd
import statsmodels
from statsmodels.tsa.api import VAR

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
NAMES = ["us:realgdp", "us:realcons", "us:realinv"]


def load():
    d = pd.read_csv(os.path.join(REPO, "examples", "data", "us_macro_quarterly.csv"))
    levels = d[NAMES].values.astype(float)
    sm = os.path.join(os.path.dirname(statsmodels.__file__), "datasets", "macrodata", "macrodata.csv")
    if os.path.exists(sm):
        ref = pd.read_csv(sm)[["realgdp", "realcons", "realinv"]].values
        assert np.array_equal(ref, levels), "examples/data differs from statsmodels' macrodata"
    return np.diff(np.log(levels), axis=0)


def mat(a):
    return np.asarray(a, dtype=float).tolist()


def case(x, lags, trend, full):
    r = VAR(pd.DataFrame(x, columns=NAMES)).fit(lags, trend=trend)
    out = {
        "lags": lags,
        "trend": trend,
        "nobs": int(r.nobs),
        # rows: deterministic terms (const, trend), then lag 1 vars..., lag 2 vars...; cols: equations
        "params": mat(r.params),
        "sigma_u": mat(r.sigma_u),
        "sigma_u_mle": mat(r.sigma_u_mle),
        "llf": float(r.llf),
        "aic": float(r.aic),
        "bic": float(r.bic),
        "hqic": float(r.hqic),
        "fpe": float(r.fpe),
        "stderr": mat(r.stderr),
    }
    fc = {"steps": 8}
    for alpha, lvl in ((0.05, "95"), (0.2, "80")):
        mean, lo, hi = r.forecast_interval(x[-lags:] if lags > 0 else x[:0], 8, alpha=alpha)
        fc["mean"] = mat(mean)
        fc["lower" + lvl] = mat(lo)
        fc["upper" + lvl] = mat(hi)
    fc["mse"] = mat(r.mse(8))
    out["forecast"] = fc
    if full:
        irf = r.irf(10)
        out["irf"] = mat(irf.irfs)            # (11, k, k): [h][response][impulse]
        out["orth_irf"] = mat(irf.orth_irfs)  # Cholesky of sigma_u
        out["fevd"] = mat(r.fevd(10).decomp)  # (k, 10, k): [variable][h][shock]
        moduli = sorted((float(abs(1.0 / z)) for z in r.roots), reverse=True)
        out["eigen_moduli"] = moduli
        out["is_stable"] = bool(r.is_stable())
        tests = []
        for caused, causing in ((["us:realinv"], ["us:realgdp"]),
                                (["us:realgdp"], ["us:realcons", "us:realinv"]),
                                (["us:realgdp", "us:realcons"], ["us:realinv"])):
            t = r.test_causality(caused, causing, kind="f")
            tests.append({"caused": caused, "causing": causing, "statistic": float(t.test_statistic),
                          "pvalue": float(t.pvalue), "df": [int(t.df[0]), int(t.df[1])],
                          "crit_value": float(t.crit_value)})
        out["granger"] = tests
    return out


def main():
    x = load()
    selections = []
    for trend in ("c", "n", "ct"):
        s = VAR(x).select_order(8, trend=trend)
        selections.append({"trend": trend, "maxlags": 8,
                           "aic": [float(v) for v in s.ics["aic"]],
                           "bic": [float(v) for v in s.ics["bic"]],
                           "hqic": [float(v) for v in s.ics["hqic"]],
                           "fpe": [float(v) for v in s.ics["fpe"]],
                           "selected": {k: int(v) for k, v in s.selected_orders.items()}})
    doc = {
        "source": "statsmodels " + statsmodels.__version__ + " VAR on log-differences of macrodata",
        "names": NAMES,
        "data": mat(x),
        "cases": [case(x, 2, "c", True), case(x, 3, "n", True), case(x, 1, "ct", True), case(x, 4, "c", False)],
        "select_order": selections,
    }
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
