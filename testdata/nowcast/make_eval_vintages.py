#!/usr/bin/env python3
"""Simulated real-time vintages for `almanac nowcast evaluate` (issue 25).

A monthly dynamic factor model with known parameters (seed fixed, numpy only, no external
data) and a release calendar with realistic publication lags and revisions, written as a long
CSV (series,period,value,realtime_start) that `almanac ingest` loads as vintages:

  factor       f_t = 0.5 f_{t-1} + 0.2 f_{t-2} + u_t,            u ~ N(0, 1)
  indicator i  x_it = mu_i + lambda_i f_t + e_it,  e_it = rho_i e_{i,t-1} + v_it
  GDP growth   monthly latent g_t = 0.5 + 0.6 f_t + e_gt (AR(1) idiosyncratic, rho 0.2),
               quarterly y_q = (g_t + 2 g_{t-1} + 3 g_{t-2} + 2 g_{t-3} + g_{t-4}) / 3 at the
               quarter's last month t (Mariano-Murasawa, as the model of docs/nowcasting.md).

Release calendar (what a vintage holds on each date):
  - indicator i for month m: published on day 3 + (7 i mod 24) of month m + 1; every third
    indicator (i = 2, 5, ...) is "hard data" published one month later (month m + 2); even
    indicators are first published with noise (sd 0.3 lambda_i) and revised to their final value
    with the next month's release.
  - GDP of quarter q: a first estimate on day 28 of the month after the quarter (e.g. 2018Q4 on
    2019-01-28) = final + N(0, 0.30), a second one a month later (+ N(0, 0.15)), a third one a
    month after that (+ N(0, 0.05)); the final value comes with the annual revision on July 30,
    which revises every quarter of the three previous calendar years not yet final.
Everything published before --vintage-start is written as one vintage on that date (the values
known then); later releases are one row per (series, period, date).

Committed: testdata/nowcast/eval_vintages.csv (the defaults: 4 indicators, data from 2008-01,
vintages 2017-07-01 .. 2019-09-30, keys rt:ind01.. and rt:gdp), with eval.yaml. The benchmark
(bench/nowcast/eval_bench.sh) writes a larger set to the build tree (30 indicators, 1995..2020).
"""
import argparse
import datetime as dt

import numpy as np


def month_index(text):
    y, m = text.split("-")
    return int(y) * 12 + int(m) - 1


def month_label(i):
    return "%04d-%02d" % (i // 12, i % 12 + 1)


def quarter_label(i):  # i: the quarter's last month
    return "%04dQ%d" % (i // 12, (i % 12) // 3 + 1)


def date_in(month, day):  # day `day` of month index `month` (clamped to the month's end)
    y, m = month // 12, month % 12 + 1
    nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
    return min(dt.date(y, m, day), nxt - dt.timedelta(days=1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--indicators", type=int, default=4)
    ap.add_argument("--start", default="2008-01", help="first month of data")
    ap.add_argument("--vintage-start", default="2017-07-01", help="date of the first vintage")
    ap.add_argument("--end", default="2019-09-30", help="date of the last vintage")
    ap.add_argument("--prefix", default="rt")
    ap.add_argument("--seed", type=int, default=25)
    ap.add_argument("--out", default="eval_vintages.csv")
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    first = month_index(args.start)
    end_date = dt.date.fromisoformat(args.end)
    vintage_start = dt.date.fromisoformat(args.vintage_start)
    last = end_date.year * 12 + end_date.month - 1  # simulate through the last vintage's month
    n_months = last - first + 1
    burn = 50

    # Factor AR(2) and the latent series.
    f = np.zeros(n_months + burn)
    u = rng.standard_normal(n_months + burn)
    for t in range(2, n_months + burn):
        f[t] = 0.5 * f[t - 1] + 0.2 * f[t - 2] + u[t]
    f = f[burn:]
    k = args.indicators
    lam = rng.uniform(0.5, 1.2, size=k) * rng.choice([1.0, -1.0], size=k, p=[0.8, 0.2])
    mu = rng.uniform(-1.0, 2.0, size=k)
    rho = rng.uniform(0.0, 0.5, size=k)
    sd = rng.uniform(0.5, 1.0, size=k)
    x = np.zeros((k, n_months))
    for i in range(k):
        e = 0.0
        for t in range(n_months):
            e = rho[i] * e + sd[i] * rng.standard_normal()
            x[i, t] = mu[i] + lam[i] * f[t] + e
    g = np.zeros(n_months)
    e = 0.0
    for t in range(n_months):
        e = 0.2 * e + 0.4 * rng.standard_normal()
        g[t] = 0.5 + 0.6 * f[t] + e

    events = []  # (date, key, period label, value)
    names = ["%s:ind%02d" % (args.prefix, i + 1) for i in range(k)]
    for i in range(k):
        lag = 2 if i % 3 == 2 else 1
        day = 3 + (7 * i) % 24
        noisy = i % 2 == 0
        for t in range(n_months):
            d = date_in(first + t + lag, day)
            if noisy:
                events.append((d, names[i], month_label(first + t), x[i, t] + 0.3 * abs(lam[i]) * rng.standard_normal()))
                events.append((date_in(first + t + lag + 1, day), names[i], month_label(first + t), x[i, t]))
            else:
                events.append((d, names[i], month_label(first + t), x[i, t]))
    gdp = args.prefix + ":gdp"
    for t in range(4, n_months):
        m = first + t
        if m % 12 % 3 != 2:
            continue
        y = (g[t] + 2 * g[t - 1] + 3 * g[t - 2] + 2 * g[t - 3] + g[t - 4]) / 3
        for j, noise in enumerate([0.30, 0.15, 0.05]):
            events.append((date_in(m + 1 + j, 28), gdp, quarter_label(m), y + noise * rng.standard_normal()))
        # The annual revision (July 30) after the third estimate revises it to the final value.
        third = date_in(m + 3, 28)
        july = dt.date(third.year if third < dt.date(third.year, 7, 30) else third.year + 1, 7, 30)
        events.append((july, gdp, quarter_label(m), y))

    # What was known on vintage_start becomes one vintage on that date; later events as they are.
    known = {}
    later = {}
    for d, key, period, value in sorted(events, key=lambda e: e[0]):
        if d > end_date:
            continue
        if d < vintage_start:
            known[(key, period)] = value
        else:
            later[(key, period, d)] = value  # one value per (series, period, date)
    rows = [(vintage_start, key, period, value) for (key, period), value in known.items()]
    rows += [(d, key, period, value) for (key, period, d), value in later.items()]
    order = {n: i for i, n in enumerate(names + [gdp])}
    rows.sort(key=lambda r: (r[0], order[r[1]], r[2]))
    with open(args.out, "w") as out:
        out.write("series,period,value,realtime_start\n")
        for d, key, period, value in rows:
            out.write("%s,%s,%.6f,%s\n" % (key, period, value, d.isoformat()))


if __name__ == "__main__":
    main()
