"""The MLflow REST client of this folder against a real `almanac serve` on 127.0.0.1 (issue 22):
log a run with params, metrics over steps, tags and a batch, search it back with a filter,
register a version and move it to Production through almanac's four-eyes approval, then set an
alias and read the version back by it.

Run: ALMANAC_BINARY=build/dev/src/cli/almanac python3 -m unittest discover -s tests/mlflow_client
"""
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.request

from mlflow_rest import MlflowError, MlflowRest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BINARY = os.environ.get("ALMANAC_BINARY", os.path.join(REPO, "build", "dev", "src", "cli", "almanac"))
S = {}


def cli(*args, user="tester"):
    r = subprocess.run([BINARY, "--workspace", S["ws"], "--user", user, *args], capture_output=True, text=True,
                       timeout=120)
    if r.returncode != 0:
        raise AssertionError(f"almanac {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r.stdout


def setUpModule():
    S["dir"] = tempfile.mkdtemp(prefix="almanac-mlflow-")
    S["ws"] = os.path.join(S["dir"], "ws")
    cli("init", user="root")
    S["tokens"] = {}
    for role, user in (("analyst", "carol"), ("modeler", "alice"), ("approver", "bob")):
        S["tokens"][role] = cli("--quiet", "tokens", "create", "--role", role, "--user", user, user="root").strip()
    log = os.path.join(S["dir"], "serve.log")
    with open(log, "w") as out:
        S["proc"] = subprocess.Popen([BINARY, "--workspace", S["ws"], "--user", "operator", "serve", "--listen",
                                      "127.0.0.1:0", "--poll-seconds", "0.2"], stdout=out, stderr=out)
    deadline = time.time() + 20
    while time.time() < deadline:
        with open(log) as f:
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", f.read())
        if m:
            S["url"] = f"http://127.0.0.1:{m.group(1)}"
            return
        time.sleep(0.05)
    raise RuntimeError("almanac serve did not start")


def tearDownModule():
    proc = S.get("proc")
    if proc is not None:
        proc.terminate()
        proc.wait(20)
    shutil.rmtree(S["dir"], ignore_errors=True)


class MlflowClientTest(unittest.TestCase):
    def test_log_search_register_and_transition(self):
        c = MlflowRest(S["url"], token=S["tokens"]["analyst"])
        exp = c.create_experiment("py-client", tags={"team": "macro"})
        self.assertEqual(c.get_experiment_by_name("py-client")["experiment_id"], exp)
        runs = {}
        for model, rmse in (("ets", 0.4), ("arima", 0.7), ("ets", 1.3)):
            run = c.create_run(exp, run_name=f"{model}-{rmse}", tags={"source": "py"})
            c.log_param(run, "model", model)
            for step in range(3):
                c.log_metric(run, "rmse", rmse + 0.1 * (2 - step), step=step)
            c.set_tag(run, "x", "y" if rmse > 1 else "z")
            c.log_batch(run, metrics=[("mae", rmse / 2, 0), ("odd", float("nan"), 0)], params={"horizon": "8"},
                        tags={"batch": "1"})
            c.set_terminated(run)
            runs[run] = (model, rmse)
        # The metric history comes back step by step.
        first = next(iter(runs))
        hist = c.metric_history(first, "rmse")
        self.assertEqual([h["step"] for h in hist], [0, 1, 2])
        self.assertAlmostEqual(hist[-1]["value"], runs[first][1])
        self.assertEqual(c.metric_history(first, "odd")[0]["value"], "NaN")
        # Searched back with MLflow's filter grammar, one result per page.
        found = c.search_runs([exp], "metrics.rmse < 1 and params.model = 'ets' and tags.x != 'y'", max_results=1)
        self.assertEqual([r["info"]["run_id"] for r in found],
                         [r for r, (m, v) in runs.items() if m == "ets" and v < 1])
        everything = c.search_runs([exp], "attributes.status = 'FINISHED'", order_by=["metrics.rmse ASC"],
                                   max_results=2)
        self.assertEqual([r["info"]["run_id"] for r in everything], sorted(runs, key=lambda r: runs[r][1]))
        got = c.get_run(first)
        self.assertEqual({p["key"]: p["value"] for p in got["data"]["params"]}, {"model": "ets", "horizon": "8"})
        with self.assertRaises(MlflowError) as e:
            c.search_runs([exp], "metrics.rmse <")
        self.assertEqual(e.exception.error_code, "INVALID_PARAMETER_VALUE")
        self.assertEqual(e.exception.status, 400)

        # Register and transition: a modeler requests, an approver approves (four-eyes).
        modeler = MlflowRest(S["url"], username="alice", password=S["tokens"]["modeler"])
        modeler.create_registered_model("py-gdp", "GDP growth")
        v = modeler.create_model_version("py-gdp", f"runs:/{first}/model", first)
        self.assertEqual(v["version"], "1")
        self.assertEqual(modeler.transition_stage("py-gdp", 1, "Staging")["current_stage"], "Staging")
        pending = modeler.transition_stage("py-gdp", 1, "Production")
        self.assertEqual(pending["current_stage"], "Staging")
        self.assertIn({"key": "almanac.approval", "value": "pending"}, pending["tags"])
        req = urllib.request.Request(S["url"] + "/v1/models/py-gdp/versions/1/approve",
                                     data=json.dumps({"reason": "ok"}).encode(), method="POST",
                                     headers={"Authorization": "Bearer " + S["tokens"]["approver"],
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            self.assertEqual(r.status, 200)
        self.assertEqual(modeler.get_model_version("py-gdp", 1)["current_stage"], "Production")
        self.assertEqual([x["version"] for x in modeler.latest_versions("py-gdp", ["Production"])], ["1"])
        # An alias and a tag on the version; the version read back by its alias.
        self.assertEqual(modeler.set_registered_model_alias("py-gdp", "champion", 1), {})
        self.assertEqual(modeler.set_model_version_tag("py-gdp", 1, "validated_by", "bob"), {})
        by_alias = c.get_model_version_by_alias("py-gdp", "champion")
        self.assertEqual(by_alias["version"], "1")
        self.assertEqual(by_alias["run_id"], first)
        self.assertEqual(by_alias["aliases"], ["champion"])
        self.assertIn({"key": "validated_by", "value": "bob"}, by_alias["tags"])
        self.assertEqual(modeler.get_registered_model("py-gdp")["aliases"], [{"alias": "champion", "version": "1"}])
        self.assertEqual(modeler.delete_registered_model_alias("py-gdp", "champion"), {})
        with self.assertRaises(MlflowError) as e:
            c.get_model_version_by_alias("py-gdp", "champion")
        self.assertEqual((e.exception.status, e.exception.error_code), (404, "RESOURCE_DOES_NOT_EXIST"))
        # The runs are ordinary almanac runs.
        listed = cli("runs", "list", "--experiment", "py-client")
        for run in runs:
            self.assertIn(run, listed)


if __name__ == "__main__":
    unittest.main()
