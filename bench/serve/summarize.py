"""Summarizes bench/serve/run.sh's wrk runs as a markdown table (medians over the rounds)."""
import statistics
import sys

rss_idle, pkg, body, load_before, load_after, hits, dur, conns, rounds, rss = sys.argv[1:11]


def ms(t):
    t = t.strip()
    for unit, f in (("us", 1e-3), ("ms", 1), ("s", 1e3)):
        if t.endswith(unit):
            return float(t[: -len(unit)]) * f
    return float("nan")


runs = {}
for line in sys.argv[11:]:
    name, _, rps, p50, p99, non2xx, err = line.split("|")
    runs.setdefault(name, []).append((float(rps), ms(p50), ms(p99), int(non2xx), err.replace("Socket errors: ", "")))
med = {n: {"rps": statistics.median(r[0] for r in v), "p50": statistics.median(r[1] for r in v),
           "p99": statistics.median(r[2] for r in v), "p99max": max(r[2] for r in v),
           "non2xx": sum(r[3] for r in v), "err": "; ".join(sorted({r[4] for r in v})), "all": [r[0] for r in v]}
       for n, v in runs.items()}
labels = {"nginx-w1": "nginx, 1 worker", "nginx-w2": "nginx, 2 workers",
          "almanac-cached-t1": "almanac cached, --threads 1", "almanac-cached-t2": "almanac cached, --threads 2",
          "almanac-uncached-t1": "almanac uncached, --threads 1", "almanac-uncached-t2": "almanac uncached, --threads 2",
          "fastapi": "FastAPI + uvicorn + statsmodels"}
nginx_best = max(("nginx-w1", "nginx-w2"), key=lambda n: med[n]["rps"])
py = med["fastapi"]["rps"]
print(f"wrk -t2 -c{conns} -d{dur} --latency, POST /v1/forecast (horizon 8, levels 80 and 95), {body}-byte JSON answer, "
      f"all on 127.0.0.1; medians of {rounds} interleaved rounds (FastAPI: one run); load average before {load_before}, "
      f"after {load_after}")
print()
print("| server | requests/s (median) | each round | x best nginx | x nginx, same setting | x FastAPI | p50 ms | "
      "p99 ms (median; max) | non-2xx | socket errors |")
print("|---|---:|---|---:|---:|---:|---:|---:|---:|---|")
for n, label in labels.items():
    m = med[n]
    same = "nginx-w" + n[-1] if n.startswith("almanac") else None
    same_ratio = f"{m['rps'] / med[same]['rps']:.2f}" if same else ""
    each = ", ".join(f"{x:,.0f}" for x in m["all"])
    print(f"| {label} | {m['rps']:,.0f} | {each} | {m['rps'] / med[nginx_best]['rps']:.2f} | {same_ratio} | "
          f"{m['rps'] / py:.1f} | {m['p50']:.2f} | {m['p99']:.2f}; {m['p99max']:.2f} | {m['non2xx']} | {m['err']} |")
print()
for mode in ("cached", "uncached"):
    best = max((f"almanac-{mode}-t1", f"almanac-{mode}-t2"), key=lambda n: med[n]["rps"])
    print(f"- almanac {mode} at its best setting ({labels[best].split(', ')[1]}) against nginx at its best "
          f"({labels[nginx_best].split(', ')[1]}): {med[best]['rps'] / med[nginx_best]['rps']:.2f}x, "
          f"p99 {med[best]['p99']:.2f} ms, {med[best]['rps'] / py:.0f}x FastAPI")
print()
rss_kib = dict(x.split("=") for x in rss.split())
print(f"almanac serve resident memory: {int(rss_idle) / 1024:.1f} MiB idle with the model loaded; after the runs: "
      + ", ".join(f"{labels[n].replace('almanac ', '')} {int(v) / 1024:.1f} MiB" for n, v in rss_kib.items())
      + f" (the model package is {int(pkg)} bytes); cache hits counted by one cached server: {hits}.")
