#!/usr/bin/python3
"""statsmodels DynamicFactorMQ on the data written by dfm_bench (same settings: one block of 2
factors, AR(1), idiosyncratic AR(1), standardized; EM tolerance 1e-6, at most 500 iterations).
Reports wall time and CPU time of the process (all threads; run with OPENBLAS_NUM_THREADS=1 for
one core).

    dfm_bench /tmp/dfm_bench.csv && /usr/bin/python3 bench/nowcast/statsmodels_dfm.py /tmp/dfm_bench.csv
"""
import sys
import time
import warnings

import pandas as pd
from statsmodels.tsa.statespace.dynamic_factor_mq import DynamicFactorMQ

df = pd.read_csv(sys.argv[1], index_col=0)
df.index = pd.PeriodIndex(df.index, freq="M")
monthly = df.drop(columns=["gdp"])
q = df[["gdp"]]
q = q[q.index.month % 3 == 0]
q.index = q.index.asfreq("Q")
t0 = time.perf_counter()
c0 = time.process_time()
mod = DynamicFactorMQ(monthly, endog_quarterly=q, factors=1, factor_multiplicities=2, factor_orders=1,
                      idiosyncratic_ar1=True, standardize=True)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    res = mod.fit(disp=False)
t1 = time.perf_counter()
c1 = time.process_time()
it = res.mle_retvals.iter
print(f"statsmodels fit: {t1 - t0:.3f} s wall, {c1 - c0:.3f} s CPU, {it} EM iterations "
      f"({1000 * (c1 - c0) / it:.1f} ms CPU each), llf {res.llf:.4f}")
