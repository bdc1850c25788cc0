"""MLflow API figures (issue 22) against a running almanac serve, in ROUNDS rounds: per round
CALLS runs/log-batch calls with 1,000 metrics each and SEARCHES runs/search calls with a metric
filter (`metrics.rmse < 0.001`) over the populated "bench" experiment. Prints, per round, p50
and p99 (wall clock, one keep-alive connection, request bodies encoded before the clock starts),
the CPU time per request of the server process (and of the PostgreSQL server's processes when
PG_PID names its postmaster), read from /proc before and after each batch of calls, and the load
average; then the medians over the rounds and the p99 of all calls pooled. On a shared machine
the wall-clock figures follow the load; the CPU time per request much less.
Usage: bench.py URL TOKEN [ROUNDS]   env: SERVER_PID, PG_PID, CALLS=100, SEARCHES=20, EXPECT (runs
the search must find; checked), SHOW_SLOW=1 (list the calls over 3 times the round's median)"""
import http.client
import json
import os
import statistics
import sys
import time
import urllib.parse

URL, TOKEN = sys.argv[1], sys.argv[2]
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 5
CALLS = int(os.environ.get("CALLS", "100"))
SEARCHES = int(os.environ.get("SEARCHES", "20"))
EXPECT = os.environ.get("EXPECT")
SERVER_PID = os.environ.get("SERVER_PID")
PG_PID = os.environ.get("PG_PID")
SHOW_SLOW = os.environ.get("SHOW_SLOW") == "1"
TICK = os.sysconf("SC_CLK_TCK")

u = urllib.parse.urlparse(URL)
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
HEADERS = {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"}


def call(path, body):
    """(seconds, answer) of one POST; the body is bytes already."""
    global conn
    for attempt in range(2):
        try:
            t = time.perf_counter()
            conn.request("POST", "/api/2.0/mlflow/" + path, body=body, headers=HEADERS)
            r = conn.getresponse()
            data = r.read()
            dt = time.perf_counter() - t
            break
        except (http.client.HTTPException, ConnectionError):
            if attempt:
                raise
            conn.close()
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    if r.status != 200:
        sys.exit(f"{path}: HTTP {r.status}: {data[:300]!r}")
    return dt, json.loads(data)


def ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime (fields 14 and 15)


def cpu_ticks():
    """utime + stime of the server, and of the postmaster and its children (the backends)."""
    total = 0
    if SERVER_PID:
        total += ticks(SERVER_PID)
    if PG_PID:
        total += ticks(PG_PID)
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/stat") as f:
                    rest = f.read().rsplit(")", 1)[1].split()
                if rest[1] == PG_PID:
                    total += int(rest[11]) + int(rest[12])
            except (OSError, IndexError):
                pass  # gone meanwhile
    return total


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] * 1000


def load():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def measure(path, bodies):
    before = cpu_ticks()
    times, last = [], None
    for b in bodies:
        t, last = call(path, b)
        times.append(t)
    cpu_ms = (cpu_ticks() - before) * 1000 / TICK / len(bodies)
    return times, cpu_ms, last


_, e = call("experiments/search", json.dumps({"filter": "name = 'bench'"}).encode())
exp = e["experiments"][0]["experiment_id"]
_, r = call("runs/create", json.dumps({"experiment_id": exp, "start_time": 1}).encode())
run = r["run"]["info"]["run_id"]
search = json.dumps({"experiment_ids": [exp], "filter": "metrics.rmse < 0.001", "max_results": 100}).encode()
# Warm-up (connection pools, caches, prepared statements), not counted.
call("runs/search", search)

stats = {"log-batch": {"all": [], "p50": [], "p99": [], "cpu": [], "load": []},
         "search": {"all": [], "p50": [], "p99": [], "cpu": [], "load": []}}
step = 0
found = None
for rnd in range(1, ROUNDS + 1):
    bodies = []
    for _ in range(CALLS):
        bodies.append(json.dumps({"run_id": run, "metrics": [
            {"key": f"m{i % 10}", "value": i * 0.5, "timestamp": 1700000000000 + step, "step": step * 100 + i // 10}
            for i in range(1000)]}).encode())
        step += 1
    for name, path, bs in (("log-batch", "runs/log-batch", bodies), ("search", "runs/search", [search] * SEARCHES)):
        la = load()
        times, cpu_ms, last = measure(path, bs)
        s = stats[name]
        s["all"] += times
        s["p50"].append(pct(times, 50))
        s["p99"].append(pct(times, 99))
        s["cpu"].append(cpu_ms)
        s["load"].append(la)
        if name == "search":
            found = len(last.get("runs", []))
            if EXPECT is not None and found != int(EXPECT):
                sys.exit(f"runs/search found {found} runs, expected {EXPECT}")
        print(f"round {rnd}/{ROUNDS} {name}: p50 {pct(times, 50):.1f} ms, p99 {pct(times, 99):.1f} ms, "
              f"CPU {cpu_ms:.1f} ms/request, load {la:.1f} ({len(times)} calls)", flush=True)
        if SHOW_SLOW:  # which calls of the round took more than 3 times the median, and how long
            slow = [f"#{i} {t * 1000:.0f}" for i, t in enumerate(times) if t * 1000 > 3 * pct(times, 50)]
            print(f"  slow calls (ms): {', '.join(slow) or 'none'}", flush=True)

for name, s in stats.items():
    what = "runs/log-batch, 1,000 metrics" if name == "log-batch" else f"runs/search metrics.rmse < 0.001 ({found} runs)"
    print(f"SUMMARY {what}: median of round p50s {statistics.median(s['p50']):.1f} ms, median of round p99s "
          f"{statistics.median(s['p99']):.1f} ms, p99 of all {len(s['all'])} calls {pct(s['all'], 99):.1f} ms, "
          f"CPU {statistics.median(s['cpu']):.1f} ms/request (median of rounds), load {min(s['load']):.1f}-"
          f"{max(s['load']):.1f}")
