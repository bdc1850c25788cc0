#!/usr/bin/python3
"""Reference for the factor model (src/risk/factor_model_test.cc): OLS with Newey-West (HAC)
standard errors from statsmodels. Run from the repository root:

    /usr/bin/python3 testdata/risk/make_factor_reference.py > testdata/risk/factor_reference.json

Each case: returns = a + B f + AR(1) errors, fitted with
sm.OLS(y, X).fit(cov_type="HAC", cov_kwds={"maxlags": L, "use_correction": c}).
"""
import json

import numpy as np
import statsmodels
import statsmodels.api as sm


def main():
    rng = np.random.default_rng(24)
    out = {"generator": "testdata/risk/make_factor_reference.py", "statsmodels": statsmodels.__version__, "cases": []}
    for n, k, lags, intercept, correction in ((120, 3, 4, True, False), (60, 2, 0, True, True), (200, 1, None, False, False)):
        f = rng.normal(size=(n, k))
        e = np.zeros(n)
        for t in range(n):
            e[t] = (0.5 * e[t - 1] if t else 0) + rng.normal() * 0.02 * (1 + abs(f[t, 0]))
        y = 0.003 + f @ np.linspace(0.5, -0.2, k) * 0.01 + e
        x = sm.add_constant(f) if intercept else f
        maxlags = lags if lags is not None else int(np.floor(4 * (n / 100.0) ** (2.0 / 9.0)))
        r = sm.OLS(y, x).fit(cov_type="HAC", cov_kwds={"maxlags": maxlags, "use_correction": correction})
        out["cases"].append({"returns": y.tolist(), "factors": f.T.tolist(), "intercept": intercept,
                             "lags": -1 if lags is None else lags, "expected_lags": maxlags,
                             "small_sample_correction": correction,
                             "params": r.params.tolist(), "bse": r.bse.tolist(), "tvalues": r.tvalues.tolist(),
                             "cov": np.asarray(r.cov_params()).tolist(), "rsquared": float(r.rsquared),
                             "resid_sd": float(np.sqrt(r.ssr / r.df_resid))})
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
