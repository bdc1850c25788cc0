#!/usr/bin/python3
"""Markdown tables for docs/benchmarks.md from a bench/m3/run_all.sh output folder.

    /usr/bin/python3 bench/m3/report.py DIR > report.md

Reads DIR/<step>/results.csv (almanac_m3_bench and run_r.R format), DIR/logs/almanac_all.err
(/usr/bin/time -v) and DIR/logs/steps.log (load averages). Definitions as in
bench/m3/README.md: sMAPE per series then mean over series, and pooled over all points (the
M3 paper's figure); MASE mean over series; coverage pooled over points; MSIS95 mean over
series; times are per-series CPU times (ms) unless marked wall. Standard library only.
"""
import csv
import math
import os
import re
import statistics
import sys

PERIODS = ["YEARLY", "QUARTERLY", "MONTHLY", "OTHER"]
NAN = float("nan")
# (almanac method, R method) pairs compared in the goals.
PAIRS = [("auto_ets", "ets"), ("auto_arima", "auto.arima"), ("theta", "thetaf"), ("combination", "comb")]
M3_SHOWN = ["NAIVE2", "SINGLE", "DAMPEN", "COMB S-H-D", "B-J auto", "ForecastPro", "THETA", "RBF", "ForcX"]


def num(v):
    return NAN if v in ("", "NA", None) else float(v)


def load(d, step):
    path = os.path.join(d, step, "results.csv")
    if not os.path.exists(path):
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def select(rows, engine, method, ids=None, period=None):
    return [r for r in rows if r["engine"] == engine and r["method"] == method and
            (ids is None or r["series_id"] in ids) and (period in (None, "ALL") or r["period"] == period)]


def summarise(rs):
    ok = [r for r in rs if r["status"] == "ok"]
    pts = sum(int(r["h"]) for r in ok)
    cov = [r for r in ok if not math.isnan(num(r["cov95"]))]
    cpts = sum(int(r["h"]) for r in cov)
    mase = [num(r["mase"]) for r in ok if not math.isnan(num(r["mase"]))]
    msis = [num(r["msis95"]) for r in ok if not math.isnan(num(r["msis95"]))]
    cpu = sorted(1000 * num(r.get("cpu_seconds")) for r in rs if not math.isnan(num(r.get("cpu_seconds"))))
    wall = sorted(1000 * num(r["seconds"]) for r in rs if not math.isnan(num(r["seconds"])))
    return {
        "n": len(rs), "failed": len(rs) - len(ok),
        "smape": statistics.fmean(num(r["smape"]) for r in ok) if ok else NAN,
        "pooled": sum(num(r["smape"]) * int(r["h"]) for r in ok) / pts if pts else NAN,
        "mase": statistics.fmean(mase) if mase else NAN,
        "cov80": sum(num(r["cov80"]) * int(r["h"]) for r in cov) / cpts if cpts else NAN,
        "cov95": sum(num(r["cov95"]) * int(r["h"]) for r in cov) / cpts if cpts else NAN,
        "msis": statistics.fmean(msis) if msis else NAN,
        "cpu_mean": statistics.fmean(cpu) if cpu else NAN,
        "cpu_median": statistics.median(cpu) if cpu else NAN,
        "cpu_p90": cpu[int(0.9 * (len(cpu) - 1))] if cpu else NAN,
        "cpu_max": cpu[-1] if cpu else NAN,
        "cpu_sum": sum(cpu) / 1000 if cpu else NAN,
        "wall_max": wall[-1] if wall else NAN,
        "over_1s": sum(1 for v in cpu if v > 1000),
        "wall_over_1s": sum(1 for v in wall if v > 1000),
    }


def f(v, d=3):
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{d}f}"


def ratio(a, b):
    return a / b if b and not math.isnan(a) and not math.isnan(b) else NAN


def periods_of(rows):
    present = {r["period"] for r in rows}
    return [p for p in PERIODS if p in present] + ["ALL"]


def label(engine, method):
    return f"{'R' if engine == 'R' else engine} {method}"


def accuracy_table(out, methods, periods):
    """methods: list of (engine, method, rows, ids)"""
    head = "| method | " + " | ".join(f"sMAPE {p[0] if p != 'ALL' else 'all'}" for p in periods) + \
           " | pooled sMAPE | " + " | ".join(f"MASE {p[0] if p != 'ALL' else 'all'}" for p in periods) + \
           " | cov80 | cov95 | MSIS95 |"
    out.append(head)
    out.append("|---|" + "---:|" * (2 * len(periods) + 4))
    for engine, method, rs, ids in methods:
        sel = select(rs, engine, method, ids)
        if not sel:
            continue
        by = {p: summarise(select(rs, engine, method, ids, p)) for p in periods}
        a = by["ALL"]
        cells = [f(by[p]["smape"]) for p in periods] + [f(a["pooled"])] + [f(by[p]["mase"]) for p in periods]
        cells += [f(a["cov80"]), f(a["cov95"]), f(a["msis"], 2)]
        fail = f" ({a['failed']} failed)" if a["failed"] else ""
        out.append(f"| {label(engine, method)}{fail} | " + " | ".join(cells) + " |")


def ratio_table(out, arows, rrows, ids, periods, check):
    out.append("| almanac / R | " + " | ".join(f"sMAPE {p[0] if p != 'ALL' else 'all'}" for p in periods) +
               " | " + " | ".join(f"MASE {p[0] if p != 'ALL' else 'all'}" for p in periods) + " | worst |")
    out.append("|---|" + "---:|" * (2 * len(periods) + 1))
    worst_all = 0.0
    for am, rm in PAIRS:
        if not select(rrows, "R", rm, ids) or not select(arows, "almanac", am, ids):
            continue
        rs, ms = [], []
        for p in periods:
            a = summarise(select(arows, "almanac", am, ids, p))
            b = summarise(select(rrows, "R", rm, ids, p))
            rs.append(ratio(a["smape"], b["smape"]))
            ms.append(ratio(a["mase"], b["mase"]))
        worst = max(x for x in rs + ms if not math.isnan(x))
        worst_all = max(worst_all, worst)
        out.append(f"| {am} / {rm} | " + " | ".join(f(x, 4) for x in rs + ms) + f" | {f(worst, 4)} |")
    check.append(worst_all)


def main():
    d = sys.argv[1]
    macro = load(d, "almanac_macro")
    cal = load(d, "almanac_macro_cal")
    allr = load(d, "almanac_all")
    r_macro = load(d, "r_macro")
    r_rest = load(d, "r_rest")
    r_sample = load(d, "r_rest_sample")
    out = []
    goals = []

    env = open(os.path.join(d, "logs", "env.txt")).read().strip() if os.path.exists(os.path.join(d, "logs", "env.txt")) else ""
    steps = open(os.path.join(d, "logs", "steps.log")).read() if os.path.exists(os.path.join(d, "logs", "steps.log")) else ""
    loads = {}
    for m in re.finditer(r"== (\S+)\nstart (\S+) load ([\d. ]+)\nend +(\S+) load ([\d. ]+)", steps):
        loads[m.group(1)] = (m.group(2), m.group(3).split()[0], m.group(5).split()[0])
    out.append("Run: " + "; ".join(env.splitlines()))
    out.append("")
    out.append("Load average (1 min) at the start and end of each step (2 cores; other processes share them): " +
               ", ".join(f"{k} {v[1]}/{v[2]}" for k, v in loads.items()) + ".")
    out.append("")

    macro_ids = {r["series_id"] for r in macro if r["engine"] == "almanac"}
    pm = periods_of([r for r in macro if r["engine"] == "almanac"])
    out.append("### MACRO (731 series): accuracy")
    out.append("")
    methods = []
    for am, rm in [("naive2", None)] + PAIRS:
        methods.append(("almanac", am, macro, None))
        if rm:
            methods.append(("R", rm, r_macro, None))
    methods += [("M3", m, macro, None) for m in M3_SHOWN]
    accuracy_table(out, methods, pm)
    out.append("")
    if r_macro:
        out.append("Ratios almanac / R on the same series (goal: each <= 1.01):")
        out.append("")
        ratio_table(out, macro, r_macro, macro_ids, pm, goals)
        out.append("")
    comb = summarise(select(macro, "almanac", "combination"))
    theta_m3 = summarise(select(macro, "M3", "THETA"))

    # Speed on MACRO.
    out.append("### MACRO: time per series (fit + forecast, one thread, CPU ms)")
    out.append("")
    out.append("| method | mean | median | p90 | max | > 1 s | R mean | R median | R max | speed-up mean | speed-up median |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    speed = {}
    for am, rm in [("naive2", None)] + PAIRS:
        a = summarise(select(macro, "almanac", am))
        b = summarise(select(r_macro, "R", rm)) if rm and r_macro else None
        sm = ratio(b["cpu_mean"], a["cpu_mean"]) if b else NAN
        sd = ratio(b["cpu_median"], a["cpu_median"]) if b else NAN
        speed[am] = (sm, sd, a["cpu_max"], a["wall_max"])
        out.append(f"| {am}{' / ' + rm if rm else ''} | {f(a['cpu_mean'], 2)} | {f(a['cpu_median'], 2)} | "
                   f"{f(a['cpu_p90'], 2)} | {f(a['cpu_max'], 1)} | {a['over_1s']} | "
                   f"{f(b['cpu_mean'], 1) if b else '-'} | {f(b['cpu_median'], 1) if b else '-'} | "
                   f"{f(b['cpu_max'], 0) if b else '-'} | {f(sm, 1)} | {f(sd, 1)} |")
    out.append("")
    out.append("(Wall-clock maxima, almanac: " + ", ".join(f"{k} {f(v[3], 1)} ms" for k, v in speed.items()) + ".)")
    out.append("")

    # Calibration.
    if cal:
        out.append("### MACRO: interval calibration (`calibrate: true`)")
        out.append("")
        out.append("| method | sMAPE | MASE | cov80 | cov95 | cov95 Y | cov95 Q | cov95 M | MSIS95 | CPU ms mean |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for am, rm in PAIRS:
            if am == "theta":
                continue
            for eng, meth, rs in [("R", rm, r_macro), ("almanac", am, macro), ("almanac", am + "+cal", cal)]:
                s = summarise(select(rs, eng, meth))
                if not s["n"]:
                    continue
                by = {p: summarise(select(rs, eng, meth, None, p)) for p in ["YEARLY", "QUARTERLY", "MONTHLY"]}
                out.append(f"| {label(eng, meth)} | {f(s['smape'])} | {f(s['mase'])} | {f(s['cov80'])} | "
                           f"{f(s['cov95'])} | {f(by['YEARLY']['cov95'])} | {f(by['QUARTERLY']['cov95'])} | "
                           f"{f(by['MONTHLY']['cov95'])} | {f(s['msis'], 2)} | {f(s['cpu_mean'], 1)} |")
        out.append("")
        out.append("(Calibrated rows ran on 2 threads: their CPU times include contention between the two.)")
        out.append("")

    # All 3003.
    if allr:
        all_ids = {r["series_id"] for r in allr if r["engine"] == "almanac"}
        pa = periods_of([r for r in allr if r["engine"] == "almanac"])
        out.append("### All 3003 series: accuracy")
        out.append("")
        r_all = r_macro + r_rest
        methods = []
        for am, rm in [("naive2", None)] + PAIRS:
            methods.append(("almanac", am, allr, None))
            if rm in ("ets", "thetaf") and r_rest:
                methods.append(("R", rm, r_all, None))
        m3_all = sorted({r["method"] for r in allr if r["engine"] == "M3"},
                        key=lambda m: summarise(select(allr, "M3", m))["pooled"])
        methods += [("M3", m, allr, None) for m in m3_all]
        accuracy_table(out, methods, pa)
        out.append("")
        if r_rest:
            out.append("Ratios almanac / R on all 3003 series (ets and thetaf; R ran them on every series):")
            out.append("")
            ratio_table(out, allr, [r for r in r_all if r["method"] in ("ets", "thetaf")], all_ids, pa, goals)
            out.append("")
        if r_sample:
            ids = macro_ids | {r["series_id"] for r in r_sample}
            n_other = len({r["series_id"] for r in r_sample})
            out.append(f"auto.arima and the mean of the three on MACRO plus a fixed sample of {n_other} other "
                       f"series ({len(ids)} series; sample drawn by run_r.R --sample {n_other} --seed 1, "
                       "Park-Miller shuffle of the id-sorted list):")
            out.append("")
            rs = r_macro + r_sample
            methods = [("almanac", "auto_arima", allr, ids), ("R", "auto.arima", rs, ids),
                       ("almanac", "combination", allr, ids), ("R", "comb", rs, ids)]
            ps = periods_of([r for r in allr if r["series_id"] in ids and r["engine"] == "almanac"])
            accuracy_table(out, methods, ps)
            out.append("")
            ratio_table(out, [r for r in allr if r["method"] in ("auto_arima", "combination")],
                        [r for r in rs if r["method"] in ("auto.arima", "comb")], ids, ps, goals)
            out.append("")
        comb_all = summarise(select(allr, "almanac", "combination"))

        # Throughput and memory.
        tv = open(os.path.join(d, "logs", "almanac_all.err")).read() if os.path.exists(
            os.path.join(d, "logs", "almanac_all.err")) else ""
        def grab(pat):
            m = re.search(pat, tv)
            return m.group(1) if m else "?"
        wall = grab(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)")
        user = grab(r"User time \(seconds\): (\S+)")
        syst = grab(r"System time \(seconds\): (\S+)")
        rss = grab(r"Maximum resident set size \(kbytes\): (\d+)")
        parts = [float(x) for x in reversed(wall.split(":"))] if wall != "?" else []
        wall_s = sum(p * 60 ** i for i, p in enumerate(parts)) if parts else NAN
        cpu_s = float(user) + float(syst) if user != "?" else NAN
        rss_mib = int(rss) / 1024 if rss != "?" else NAN
        out.append("### All 3003 series, five methods, `--threads 2`: time and memory")
        out.append("")
        out.append("| wall time | CPU time (user + sys) | CPU / wall | peak RSS | load at start / end |")
        out.append("|---:|---:|---:|---:|---:|")
        ld = loads.get("almanac_all", ("", "?", "?"))
        out.append(f"| {f(wall_s, 1)} s | {f(cpu_s, 1)} s | {f(ratio(cpu_s, wall_s), 2)} | {f(rss_mib, 0)} MiB | "
                   f"{ld[1]} / {ld[2]} |")
        out.append("")
        out.append("CPU time per method over the 3003 series (s, as measured on the two worker threads): " +
                   ", ".join(f"{m} {f(summarise(select(allr, 'almanac', m))['cpu_sum'], 1)}"
                             for m in ["naive2", "auto_ets", "auto_arima", "theta", "combination"]) + ".")
        out.append("")
        rt = [summarise(select(rs_, "R", m)) for rs_, m in [(r_macro, "ets"), (r_macro, "auto.arima"),
                                                         (r_macro, "thetaf")]] if r_macro else []
        if r_rest and r_sample and rt:
            # R's CPU time for ets + auto.arima + thetaf on all 3003, extrapolated from the sample.
            ets = sum(1000 * num(r["cpu_seconds"]) for r in r_all if r["method"] == "ets") / 1000
            th = sum(1000 * num(r["cpu_seconds"]) for r in r_all if r["method"] == "thetaf") / 1000
            aa_m = sum(num(r["cpu_seconds"]) for r in r_macro if r["method"] == "auto.arima")
            samp = [r for r in r_sample if r["method"] == "auto.arima"]
            n_rest = len({r["series_id"] for r in r_rest})
            aa = aa_m + sum(num(r["cpu_seconds"]) for r in samp) / max(1, len(samp)) * n_rest
            out.append(f"R's CPU time for the same work (ets, auto.arima and thetaf on all 3003; auto.arima on the "
                       f"non-MACRO series extrapolated from the sample): ets {f(ets, 0)} s + auto.arima ~{f(aa, 0)} s "
                       f"+ thetaf {f(th, 0)} s = ~{f((ets + aa + th) / 60, 0)} CPU minutes, "
                       f"~{f((ets + aa + th) / 120, 0)} minutes on two cores; almanac: {f(cpu_s, 0)} CPU seconds "
                       f"(×{f(ratio(ets + aa + th, cpu_s), 0)}).")
            out.append("")

    # Goals.
    out.append("### Goals of issue 3")
    out.append("")
    out.append("| goal | measured | met |")
    out.append("|---|---|:-:|")
    yes = lambda b: "yes" if b else "**no**"
    if goals:
        out.append(f"| sMAPE and MASE <= 1.01 x R per method and period | worst ratio {f(max(goals), 4)} | "
                   f"{yes(max(goals) <= 1.01)} |")
    out.append(f"| combination below M3 THETA on MACRO (per-series sMAPE) | {f(comb['smape'])} vs "
               f"{f(theta_m3['smape'])} | {yes(comb['smape'] < theta_m3['smape'])} |")
    if allr:
        out.append(f"| combination below 13.01 pooled sMAPE on all 3003 | {f(comb_all['pooled'])} | "
                   f"{yes(comb_all['pooled'] < 13.01)} |")
    if cal and r_macro:
        for am, rm in [("auto_ets", "ets"), ("auto_arima", "auto.arima"), ("combination", "comb")]:
            c = summarise(select(cal, "almanac", am + "+cal"))
            b = summarise(select(r_macro, "R", rm))
            a = summarise(select(macro, "almanac", am))
            ok = abs(c["cov95"] - 0.95) < abs(b["cov95"] - 0.95) and c["smape"] <= a["smape"] + 1e-9
            out.append(f"| {am}+cal 95% coverage closer to 0.95 than R {rm}, same points | {f(c['cov95'])} vs "
                       f"{f(b['cov95'])} | {yes(ok)} |")
    for am in ["auto_ets", "auto_arima"]:
        sm, sd, mx, wmx = speed[am]
        out.append(f"| {am} >= 20x R (CPU, mean and median per MACRO series) | x{f(sm, 1)} mean, x{f(sd, 1)} "
                   f"median | {yes(sm >= 20 and sd >= 20)} |")
        out.append(f"| {am}: no MACRO series over 1 s | max {f(mx, 1)} ms CPU, {f(wmx, 1)} ms wall | "
                   f"{yes(mx < 1000 and wmx < 1000)} |")
    if allr:
        out.append(f"| five methods on all 3003 under 60 s wall on 2 cores | {f(wall_s, 1)} s wall "
                   f"({f(cpu_s, 1)} s CPU) | {yes(wall_s < 60)} |")
        out.append(f"| peak RSS under 500 MiB | {f(rss_mib, 0)} MiB | {yes(rss_mib < 500)} |")
    print("\n".join(out))


if __name__ == "__main__":
    main()
