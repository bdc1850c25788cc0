#!/usr/bin/python3
"""statsmodels side of the VAR benchmark (bench/var/run.sh).

    /usr/bin/python3 var_statsmodels.py DATA_DIR [--reps N]

Writes the benchmark data sets to DATA_DIR (so almanac times exactly the same numbers) and
prints one line per case: case, variables, observations, CPU seconds per call (median of
repetitions; run with one BLAS thread, see run.sh). Cases:
  select_fit_K_nostab  VAR(y).fit(maxlags=8, ic="aic")  (select_order over p = 0..8, then the fit)
  select_fit_K         the same plus .is_stable() (companion eigenvalues, as almanac's default)
  fit2_macro    VAR(macrodata log-differences).fit(2)
Data: a stable VAR(1) y_t = 0.5 y_{t-1} + 0.1 (cyclic neighbour) + e_t, e ~ N(0, I), 200
quarters, numpy default_rng(20261127 + K).
"""
import os
import sys
import time

import numpy as np
import pandas as pd
from statsmodels.tsa.api import VAR

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))


def simulate(k, n=200):
    rng = np.random.default_rng(20261127 + k)
    a = 0.5 * np.eye(k) + 0.1 * np.roll(np.eye(k), 1, axis=1)
    y = np.zeros((n + 50, k))
    e = rng.standard_normal((n + 50, k))
    for t in range(1, n + 50):
        y[t] = a @ y[t - 1] + e[t]
    return y[50:]


def timed(fn, reps):
    """Median process CPU seconds per call (the machine is shared: CPU time is what the call
    itself costs; wall time also counts waiting for the other processes)."""
    fn()  # warm up
    times = []
    for _ in range(reps):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return float(np.median(times))


def main():
    out_dir = sys.argv[1]
    reps = int(sys.argv[sys.argv.index("--reps") + 1]) if "--reps" in sys.argv else 20
    os.makedirs(out_dir, exist_ok=True)
    for k in (3, 5, 10, 20):
        y = simulate(k)
        np.savetxt(os.path.join(out_dir, f"var_{k}.csv"), y, delimiter=",", fmt="%.17g")
        model = VAR(y)
        s = timed(lambda: VAR(y).fit(maxlags=8, ic="aic"), reps)
        p = model.fit(maxlags=8, ic="aic").k_ar
        print(f"select_fit_{k}_nostab,{k},{len(y)},{s:.9f},{p}")
        s = timed(lambda: VAR(y).fit(maxlags=8, ic="aic").is_stable(), reps)
        print(f"select_fit_{k},{k},{len(y)},{s:.9f},{p}")
    d = pd.read_csv(os.path.join(REPO, "examples", "data", "us_macro_quarterly.csv"))
    x = np.diff(np.log(d[["us:realgdp", "us:realcons", "us:realinv"]].values), axis=0)
    np.savetxt(os.path.join(out_dir, "macro.csv"), x, delimiter=",", fmt="%.17g")
    s = timed(lambda: VAR(x).fit(2), reps * 5)
    print(f"fit2_macro,3,{len(x)},{s:.9f},2")
    s = timed(lambda: VAR(x).fit(maxlags=8, ic="aic"), reps)
    print(f"select_fit_macro,3,{len(x)},{s:.9f},{VAR(x).fit(maxlags=8, ic='aic').k_ar}")


if __name__ == "__main__":
    main()
