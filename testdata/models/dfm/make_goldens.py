#!/usr/bin/python3
"""Golden values for the mixed-frequency dynamic factor model (src/models/dfm/).

Data: SIMULATED here (fixed seed), no external source. A two-block DFM ("global" factor, AR(2),
loading on every series; "real" factor, AR(1), loading on the real indicators and GDP), eight
monthly indicators and quarterly GDP growth aggregated from a latent monthly series with the
Mariano-Murasawa weights 1,2,3,2,1. Irregular gaps, a late-starting series and a ragged edge are
cut out, as in real-time data. Two vintages are written: data_old.csv (earlier) and data.csv
(later: new releases at the edge plus two revisions), for the news decomposition.

Reference: statsmodels DynamicFactorMQ (Debian python3-statsmodels, the version installed; the
version is recorded in the output), fitted by its EM algorithm with the settings in `SETTINGS`.

    /usr/bin/python3 testdata/models/dfm/make_goldens.py   # rewrites data*.csv and goldens.json
"""
import json
import os
import warnings

import numpy as np
import pandas as pd
import statsmodels
from statsmodels.tsa.statespace.dynamic_factor_mq import DynamicFactorMQ

HERE = os.path.dirname(os.path.abspath(__file__))
MONTHLY = ["ip", "sales", "emp", "hours", "cpi", "ppi", "rates", "spread"]
REAL = ["ip", "sales", "emp", "hours"]
QUARTERLY = ["gdp"]
BLOCKS = [("global", 2, MONTHLY + QUARTERLY), ("real", 1, REAL + QUARTERLY)]
START = "2012-01"
N_MONTHS = 144  # 2012-01 .. 2023-12
EM3_ITERS = 3
TOL = 1e-6  # statsmodels' default
MAXITER = 500  # statsmodels' default


def simulate():
    rng = np.random.default_rng(20251207)
    T = N_MONTHS + 10
    g = np.zeros(T)
    r = np.zeros(T)
    for t in range(2, T):
        g[t] = 0.6 * g[t - 1] + 0.2 * g[t - 2] + rng.normal()
        r[t] = 0.5 * r[t - 1] + 0.7 * rng.normal()
    data = {}
    lam_g = rng.uniform(0.4, 1.2, len(MONTHLY))
    lam_r = rng.uniform(0.4, 1.0, len(REAL))
    for j, name in enumerate(MONTHLY):
        e = np.zeros(T)
        phi = rng.uniform(-0.3, 0.6)
        for t in range(1, T):
            e[t] = phi * e[t - 1] + rng.normal(scale=0.8)
        x = lam_g[j] * g + e
        if name in REAL:
            x += lam_r[REAL.index(name)] * r
        data[name] = 2.0 + 1.5 * x
    # latent monthly GDP growth, aggregated with the tent weights, observed at quarter ends
    e = np.zeros(T)
    for t in range(1, T):
        e[t] = 0.3 * e[t - 1] + rng.normal(scale=0.3)
    m = 0.5 * g + 0.6 * r + e
    w = np.array([1, 2, 3, 2, 1])
    gdp = np.full(T, np.nan)
    for t in range(4, T):
        gdp[t] = 0.5 + 0.25 * w @ m[t - 4:t + 1][::-1]
    data["gdp"] = gdp
    df = pd.DataFrame(data).iloc[10:].reset_index(drop=True)
    df.index = pd.period_range(START, periods=N_MONTHS, freq="M")
    months = df.index.month
    df.loc[months % 3 != 0, "gdp"] = np.nan
    # gaps: a late start, scattered missing values
    df.loc[df.index[:18], "spread"] = np.nan
    for name, t in [("sales", 30), ("cpi", 55), ("cpi", 56), ("emp", 80), ("ppi", 101)]:
        df.loc[df.index[t], name] = np.nan
    df.loc[df.index[41], "gdp"] = np.nan  # one missing quarter (2015Q2)
    return df


def vintages(full):
    """New vintage: ragged edge at 2023-12; old vintage: one month earlier, two values unrevised."""
    new = full.copy()
    # release lags at the edge of the new vintage
    new.loc["2023-12", ["ip", "sales", "emp", "hours", "ppi"]] = np.nan
    new.loc["2023-12", "gdp"] = np.nan  # the quarter to nowcast
    new.loc["2023-11", ["sales", "hours"]] = np.nan
    old = new.copy()
    old.loc["2023-12", :] = np.nan
    old.loc["2023-11", ["ip", "emp", "cpi"]] = np.nan
    old.loc["2023-10", "sales"] = np.nan
    # revisions: the new vintage changed two values the old one already had
    old.loc["2023-09", "gdp"] = new.loc["2023-09", "gdp"] - 0.2
    old.loc["2023-08", "ip"] = new.loc["2023-08", "ip"] + 0.5
    return old, new


def make_model(df):
    factors = {}
    for name in df.columns:
        factors[name] = [b for b, _, members in BLOCKS if name in members]
    orders = {b: p for b, p, _ in BLOCKS}
    monthly = df[MONTHLY]
    quarterly = df[QUARTERLY].copy()
    quarterly = quarterly[quarterly.index.month % 3 == 0]
    quarterly.index = quarterly.index.asfreq("Q")
    return DynamicFactorMQ(monthly, endog_quarterly=quarterly, factors=factors, factor_orders=orders,
                           idiosyncratic_ar1=True, standardize=True)


def structured(mod, params):
    """Parameters by name, independent of statsmodels' state ordering."""
    mod.update(params)
    s = mod._s
    names = mod.endog_names
    Z, T, Q = mod["design"], mod["transition"], mod["state_cov"]
    out = {"loadings": {}, "factor_ar": {}, "factor_cov": {}, "idio_ar": {}, "idio_var": {}}
    for b in s.factor_blocks:
        key = "+".join(b.factor_names)
        l1 = np.arange(b["factors_L1"].start, b["factors_L1"].stop)
        ar = np.arange(b["factors_ar"].start, b["factors_ar"].stop)
        out["factor_ar"][key] = T[np.ix_(l1, ar)].tolist()
        for i, name in enumerate(names):
            for j, fname in enumerate(b.factor_names):
                out["loadings"].setdefault(name, {})[fname] = float(Z[i, l1[j]])
    # factor innovation covariances: state_cov rows/cols are the factors in block order
    off = 0
    for b in s.factor_blocks:
        key = "+".join(b.factor_names)
        k = b.k_factors
        out["factor_cov"][key] = Q[off:off + k, off:off + k].tolist()
        off += k
    idio = np.arange(s["idio_ar_L1"].start, s["idio_ar_L1"].stop) if isinstance(s["idio_ar_L1"], slice) \
        else np.asarray(s["idio_ar_L1"])
    for i, name in enumerate(names):
        out["idio_ar"][name] = float(T[idio[i], idio[i]])
        out["idio_var"][name] = float(Q[mod.k_factors + i, mod.k_factors + i])
    return out


def smoothed_factors(mod, res):
    s = mod._s
    out = {}
    for b in s.factor_blocks:
        for j, fname in enumerate(b.factor_names):
            out[fname] = res.smoothed_state[b["factors_L1"].start + j].tolist()
    return out


def nowcast(mod, res, date, name="gdp"):
    i = mod.endog_names.index(name)
    t = list(pd.period_range(START, periods=N_MONTHS, freq="M")).index(pd.Period(date, "M"))
    z = mod["design"][i]
    return float(z @ res.smoothed_state[:, t] * mod._endog_std.iloc[i] + mod._endog_mean.iloc[i])


def to_csv(df, path):
    with open(path, "w") as f:
        f.write("period," + ",".join(df.columns) + "\n")
        for p, row in df.iterrows():
            f.write(str(p) + "," + ",".join("" if np.isnan(v) else repr(float(v)) for v in row) + "\n")


def main():
    full = simulate()
    old, new = vintages(full)
    to_csv(new, os.path.join(HERE, "data.csv"))
    to_csv(old, os.path.join(HERE, "data_old.csv"))

    mod = make_model(new)
    sp = mod.start_params
    out = {
        "source": "simulated by make_goldens.py (seed 20251207); reference statsmodels "
                  f"{statsmodels.__version__} DynamicFactorMQ",
        "settings": {"blocks": [{"name": b, "order": p, "variables": v} for b, p, v in BLOCKS],
                     "quarterly": QUARTERLY, "idiosyncratic_ar1": True, "standardize": True},
        "standardize": {"mean": {n: float(mod._endog_mean[n]) for n in mod.endog_names},
                        "std": {n: float(mod._endog_std[n]) for n in mod.endog_names}},
        "start_params": structured(mod, sp),
    }
    # A few EM iterations from statsmodels' own start values: checks each E and M step exactly.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res3 = mod.fit_em(start_params=sp, maxiter=EM3_ITERS, tolerance=0.0)
    out["em3"] = {"iterations": EM3_ITERS, "llf_path": res3.mle_retvals.llf[:-1].tolist(),
                  "llf": float(res3.llf), "params": structured(mod, res3.params),
                  "factors": smoothed_factors(mod, res3),
                  "nowcast_2023Q4": nowcast(mod, res3, "2023-12")}
    # Converged fit.
    res = mod.fit_em(maxiter=MAXITER, tolerance=TOL)
    out["converged"] = {"tolerance": TOL, "iterations": int(res.mle_retvals.iter), "llf": float(res.llf),
                        "params": structured(mod, res.params), "factors": smoothed_factors(mod, res),
                        "nowcast_2023Q4": nowcast(mod, res, "2023-12")}
    # The initial state of the final smoothing pass (EM initialization: the smoothed state at t = 0
    # of the last E step), in the same state order as src/models/dfm/ (blocks in the given order).
    init = res.mle_retvals.inits[-1]
    out["converged"]["initial_state"] = {"mean": [[float(v)] for v in init.constant],
                                         "cov": np.asarray(init.stationary_cov).tolist()}
    # News between the vintages with the converged parameters of the new vintage (NY Fed practice).
    mod_old = make_model(old)
    mod_old = DynamicFactorMQ(mod_old.data.orig_endog, k_endog_monthly=len(MONTHLY),
                              factors=mod_old.factors, factor_orders=mod_old.factor_orders,
                              idiosyncratic_ar1=True,
                              standardize=(mod._endog_mean, mod._endog_std))
    # the initial state of the final smoothing pass (EM initialization), as for the new vintage
    mod_old.ssm.initialization = res.mle_retvals.inits[-1]
    res_old = mod_old.smooth(res.params)
    news = res.news(res_old, impact_date="2023-12", impacted_variable="gdp", comparison_type="previous")
    out["news"] = {
        "impact_date": "2023-12",
        "old_nowcast": float(news.impacts["estimate (prev)"].iloc[0]),
        "new_nowcast": float(news.impacts["estimate (new)"].iloc[0]),
        "revision_impact": float(news.impacts["impact of revisions"].iloc[0]),
        "news_impact": float(news.impacts["impact of news"].iloc[0]),
    }
    items = []
    details = news.details_by_impact.reset_index()
    for _, row in details.iterrows():
        items.append({"period": str(row["update date"]), "variable": row["updated variable"],
                      "observed": float(row["observed"]), "forecast": float(row["forecast (prev)"]),
                      "news": float(row["news"]), "weight": float(row["weight"]),
                      "impact": float(row["impact"])})
    out["news"]["items"] = items
    with open(os.path.join(HERE, "goldens.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
