"""MLflow API figures (issue 22) against a running almanac serve: runs/log-batch with 1,000
metrics (p50/p99 over ROUNDS calls) and runs/search with a metric filter over the populated
"bench" experiment (p50/p99). Usage: bench.py URL TOKEN [ROUNDS]"""
import json
import sys
import time
import urllib.request

URL, TOKEN = sys.argv[1], sys.argv[2]
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 100


def call(path, body):
    req = urllib.request.Request(URL + "/api/2.0/mlflow/" + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"})
    t = time.perf_counter()
    with urllib.request.urlopen(req, timeout=120) as r:
        out = json.loads(r.read())
    return time.perf_counter() - t, out


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] * 1000


_, e = call("experiments/search", {"filter": "name = 'bench'"})
exp = e["experiments"][0]["experiment_id"]
_, r = call("runs/create", {"experiment_id": exp, "start_time": 1})
run = r["run"]["info"]["run_id"]
times = []
for k in range(ROUNDS):
    metrics = [{"key": f"m{i % 10}", "value": i * 0.5, "timestamp": 1700000000000 + k, "step": k * 100 + i // 10}
               for i in range(1000)]
    t, _ = call("runs/log-batch", {"run_id": run, "metrics": metrics})
    times.append(t)
print(f"log-batch 1000 metrics: p50 {pct(times, 50):.1f} ms, p99 {pct(times, 99):.1f} ms ({ROUNDS} calls)")
times = []
n = 0
for k in range(max(5, ROUNDS // 10)):
    t, out = call("runs/search", {"experiment_ids": [exp], "filter": "metrics.rmse < 0.001", "max_results": 100})
    times.append(t)
    n = len(out.get("runs", []))
print(f"runs/search metrics.rmse < 0.001 ({n} runs found): p50 {pct(times, 50):.1f} ms, p99 {pct(times, 99):.1f} ms")
