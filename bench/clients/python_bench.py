#!/usr/bin/python3
"""Benchmark of the Python client (issue 23): end-to-end time of `series(key)` for a
300-period series and `vintage_matrix(key)` for 20 vintages, from Python on loopback, against
references measured in the same run on the same URLs: a raw keep-alive http.client GET (read
the body, no JSON decoding) and curl (keep-alive, one process for all requests, its
time_total per transfer).

    /usr/bin/python3 bench/clients/python_bench.py --almanac build/rel/src/cli/almanac [--calls 500]

Sets up a fresh SQLite workspace in a temporary directory: one monthly series `bench:m300`
whose 20 vintages (realtime_start 2025-01-01 .. 2025-01-20) each add a month and revise the
previous three, ending at 300 periods; starts `almanac serve --threads 1 --workers 1` on
127.0.0.1. The Python calls are interleaved call by call (the machine's load drifts); curl
runs after them. Prints a markdown table: median and p90 per call in ms, and the ratio of the
median to the raw http.client GET's.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "clients", "python"))
import almanac  # noqa: E402

KEY = "bench:m300"


def run(binary, ws, *args, user="bench"):
    r = subprocess.run([binary, "--workspace", ws, "--user", user, *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"almanac {' '.join(args)}: {r.stderr}")
    return r.stdout


def make_data(path):
    """20 vintages: vintage k (0..19) knows 281 + k months from 2000-01; each revises the
    three months before its new one."""
    rows = ["series,period,value,realtime_start"]
    for k in range(20):
        n = 281 + k
        rt = f"2025-01-{k + 1:02d}"
        first = 0 if k == 0 else n - 4
        for i in range(first, n):
            y, m = 2000 + i // 12, i % 12 + 1
            rows.append(f"{KEY},{y:04d}-{m:02d},{100 + 0.1 * i + 0.01 * k:.4f},{rt}")
    with open(path, "w") as f:
        f.write("\n".join(rows) + "\n")


def timed(fns, calls, warmup=20):
    """Per-call times in ms of each function, interleaved (call 1 of each, then call 2 of
    each, ...) so that the machine's load drifts affect all of them alike."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    out = [[] for _ in fns]
    for i in range(calls):
        for j in range(len(fns)):
            k = (i + j) % len(fns)  # rotate the order too
            t0 = time.perf_counter()
            fns[k]()
            out[k].append((time.perf_counter() - t0) * 1000)
    return out


def curl_times(url, token, calls):
    if shutil.which("curl") is None:
        return None
    args = ["curl", "-s", "-H", f"Authorization: Bearer {token}", "-w", "%{time_total}\n"]
    for _ in range(calls + 20):
        args += ["-o", "/dev/null", url]
    r = subprocess.run(args, capture_output=True, text=True)
    times = [float(x) * 1000 for x in r.stdout.split()]
    return times[20:]  # the first ones open the connection and warm up


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--almanac", default=os.path.join(REPO, "build", "default", "src", "cli", "almanac"))
    ap.add_argument("--calls", type=int, default=500)
    a = ap.parse_args()
    binary = os.path.abspath(a.almanac)
    tmp = tempfile.mkdtemp(prefix="almanac-pybench-")
    proc = None
    try:
        ws = os.path.join(tmp, "ws")
        run(binary, ws, "init")
        make_data(os.path.join(tmp, "m300.csv"))
        run(binary, ws, "ingest", os.path.join(tmp, "m300.csv"))
        token = run(binary, ws, "--quiet", "tokens", "create", "--role", "viewer", "--user", "bench").strip()
        log = os.path.join(tmp, "serve.log")
        with open(log, "w") as out:
            proc = subprocess.Popen([binary, "--workspace", ws, "--user", "bench", "serve", "--listen", "127.0.0.1:0",
                                     "--threads", "1", "--workers", "1"], stdout=out, stderr=out)
        port = None
        for _ in range(200):
            with open(log) as f:
                m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", f.read())
            if m:
                port = int(m.group(1))
                break
            time.sleep(0.05)
        if port is None:
            sys.exit("almanac serve did not start")
        url = f"http://127.0.0.1:{port}"
        c = almanac.Client(url, token)
        plain = almanac.Client(url, token, use_pandas=False)
        s = c.series(KEY)
        m = c.vintage_matrix(KEY)
        assert len(s) == 300 and s.index.freqstr == "M", (len(s), s.index.freqstr)
        assert m.shape == (300, 20), m.shape
        raw = http.client.HTTPConnection("127.0.0.1", port)
        headers = {"Authorization": f"Bearer {token}"}
        sizes = {}

        def raw_get(path):
            def f():
                raw.request("GET", path, headers=headers)
                body = raw.getresponse().read()
                sizes[path] = len(body)
            return f

        series_path = "/v1/series/bench%3Am300"
        matrix_path = "/v1/series/bench%3Am300/vintage-matrix"
        rows = []
        for label, path, fns in (
                ("series(key), 300 periods", series_path,
                 [("client, pandas Series", lambda: c.series(KEY)),
                  ("client, use_pandas=False", lambda: plain.series(KEY))]),
                ("vintage_matrix(key), 300 x 20", matrix_path,
                 [("client, pandas DataFrame", lambda: c.vintage_matrix(KEY)),
                  ("client, use_pandas=False", lambda: plain.vintage_matrix(KEY))])):
            fns = fns + [("raw http.client GET (reference)", raw_get(path))]
            times = timed([fn for _, fn in fns], a.calls)
            measured = [(name, t) for (name, _), t in zip(fns, times)]
            ref_median = statistics.median(times[-1])
            cu = curl_times(url + path, token, a.calls)
            if cu:
                measured.append(("curl, keep-alive (time_total)", cu))
            for name, t in measured:
                t = sorted(t)
                rows.append((label, name, statistics.median(t), t[int(len(t) * 0.9)],
                             statistics.median(t) / ref_median, sizes.get(path)))
        print(f"almanac {binary}; {a.calls} calls each after 20 warm-up calls; pandas "
              f"{almanac._periods.pd.__version__ if almanac._periods.pd else 'absent'}; Python "
              f"{sys.version.split()[0]}; load average {os.getloadavg()[0]:.1f}")
        print()
        print("| call | how | median ms | p90 ms | x raw GET | body bytes |")
        print("|---|---|---:|---:|---:|---:|")
        for label, name, med, p90, ratio, size in rows:
            print(f"| {label} | {name} | {med:.3f} | {p90:.3f} | {ratio:.2f} | {size:,} |")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(20)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
