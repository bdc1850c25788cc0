"""Tests of the almanac Python client against a real `almanac serve` on 127.0.0.1.

The module starts one server on a fresh SQLite workspace in a temporary directory, loaded
through the CLI as scripts/quickstart.sh loads it (the sample data known on 2009-12-15, the
revision of 2009Q3 GDP known on 2009-12-22, a snapshot, a small pipeline registering
us-gdp-growth@1 in production) with a viewer and an analyst token. Local http.server
instances stand in for a server answering 503 or too slowly.

    ALMANAC_BINARY=build/dev/src/cli/almanac /usr/bin/python3 -m unittest discover -s clients/python/tests -t clients/python

ctest runs it (python_client_test). Without pandas the pandas-specific tests are skipped
and the plain-Python ones still run.
"""
import http.server
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # clients/python: the package under test

import almanac  # noqa: E402
from almanac import _periods  # noqa: E402

try:
    import pandas as pd
except ImportError:  # pragma: no cover
    pd = None

REPO = os.environ.get("ALMANAC_SOURCE_DIR") or os.path.abspath(os.path.join(HERE, "..", "..", ".."))
BINARY = os.environ.get("ALMANAC_BINARY") or os.path.join(REPO, "build", "dev", "src", "cli", "almanac")

PIPELINE = """name: us-gdp-growth
experiment: us-macro
data:
  series: [us:realgdp]
  as_of: 2009-12-20
transforms:
  - name: gdp_growth
    op: pct_change
    input: us:realgdp
    periods: 1
target: gdp_growth
horizon: 8
levels: [80, 95]
models:
  - name: ets
    type: auto_ets
evaluation:
  origins: 2
  horizon: 2
register:
  model: us-gdp-growth
  policy:
    four_eyes: false
promote:
  to: production
seed: 42
"""

S = {}  # the module's server: dir, ws, url, tokens, proc


def read(path):
    with open(path) as f:
        return f.read()


def cli(*args, user="tester", check=True):
    r = subprocess.run([BINARY, "--workspace", S["ws"], "--user", user, *args], capture_output=True, text=True,
                       timeout=120)
    if check and r.returncode != 0:
        raise AssertionError(f"almanac {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r


def cli_json(*args):
    return json.loads(cli("--format", "json", *args).stdout)


def setUpModule():
    if not os.access(BINARY, os.X_OK):
        raise RuntimeError(f"no almanac binary at {BINARY}: build it, or set ALMANAC_BINARY")
    S["dir"] = tempfile.mkdtemp(prefix="almanac-pyclient-")
    S["ws"] = os.path.join(S["dir"], "ws")
    data = os.path.join(REPO, "examples", "data")
    cli("init", user="root")
    cli("ingest", os.path.join(data, "us_macro_quarterly.csv"), "--metadata",
        os.path.join(data, "us_macro_quarterly.meta.yaml"), "--realtime-start", "2009-12-15")
    cli("ingest", os.path.join(data, "us_gdp_revision_illustrative.csv"))
    cli("snapshot", "create", "macro-2009-12-20", "--series", "us:realgdp,us:cpi,us:unemp", "--as-of", "2009-12-20")
    with open(os.path.join(S["dir"], "gdp.yaml"), "w") as f:
        f.write(PIPELINE)
    cli("run", os.path.join(S["dir"], "gdp.yaml"), user="alice")
    S["tokens"] = {}
    for role in ("viewer", "analyst"):
        S["tokens"][role] = cli("--quiet", "tokens", "create", "--role", role, "--user", role + "-user",
                                user="root").stdout.strip()
    log = os.path.join(S["dir"], "serve.log")
    with open(log, "w") as out:
        S["proc"] = subprocess.Popen([BINARY, "--workspace", S["ws"], "--user", "operator", "serve", "--listen",
                                      "127.0.0.1:0", "--poll-seconds", "0.2", "--threads", "1"],
                                     stdout=out, stderr=out)
    deadline = time.time() + 20
    while time.time() < deadline:
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", read(log))
        if m:
            S["url"] = f"http://127.0.0.1:{m.group(1)}"
            return
        if S["proc"].poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError("almanac serve did not start: " + read(log))


def tearDownModule():
    proc = S.get("proc")
    if proc is not None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if S.get("dir"):
        shutil.rmtree(S["dir"], ignore_errors=True)


def viewer(**kw):
    return almanac.Client(S["url"], S["tokens"]["viewer"], **kw)


def analyst(**kw):
    return almanac.Client(S["url"], S["tokens"]["analyst"], **kw)


@unittest.skipIf(pd is None, "pandas is not installed")
class SeriesTest(unittest.TestCase):
    def test_series_as_of_equals_the_cli(self):
        with viewer() as c:
            for as_of in ("2009-12-20", "2009-12-22", None):
                s = c.series("us:realgdp", as_of=as_of)
                args = ["series", "show", "us:realgdp"] + (["--as-of", as_of] if as_of else [])
                shown = cli_json(*args)
                self.assertEqual([_periods.format_period(p, "Q") for p in s.index], shown["periods"])
                self.assertEqual([None if math.isnan(v) else v for v in s.tolist()], shown["values"])
                self.assertEqual(s.attrs["as_of"], as_of)
                self.assertEqual(s.attrs["title"], shown["title"])
            self.assertIsInstance(s.index, pd.PeriodIndex)
            self.assertEqual(s.index.freqstr, "Q-DEC")
            self.assertEqual(str(s.index[0]), "1959Q1")
            self.assertEqual(s.name, "us:realgdp")
            # The revision of 2009Q3, known from 2009-12-22.
            self.assertEqual(c.series("us:realgdp", as_of="2009-12-22")[pd.Period("2009Q3", "Q")], 12971.884)
            self.assertNotEqual(c.series("us:realgdp", as_of="2009-12-20")[pd.Period("2009Q3", "Q")], 12971.884)
            import datetime
            self.assertTrue(c.series("us:realgdp", as_of=datetime.date(2009, 12, 20)).equals(
                c.series("us:realgdp", as_of="2009-12-20")))

    def test_vintages_history_and_matrix(self):
        with viewer() as c:
            v = c.vintages("us:realgdp")
            self.assertEqual([d.strftime("%Y-%m-%d") for d in v["realtime_start"]], ["2009-12-15", "2009-12-22"])
            self.assertEqual(list(v["id"]), [e["id"] for e in cli_json("series", "vintages", "us:realgdp")["vintages"]])
            h = c.history("us:realgdp", "2009Q3")
            rows = cli_json("series", "history", "us:realgdp", "2009Q3")
            self.assertEqual([d.strftime("%Y-%m-%d") for d in h.index], [r["realtime_start"] for r in rows])
            self.assertEqual(list(h["value"]), [r["value"] for r in rows])
            self.assertTrue(h.equals(c.history("us:realgdp", pd.Period("2009Q3", "Q"))))
            m = c.vintage_matrix("us:realgdp")
            self.assertEqual(m.index.freqstr, "Q-DEC")
            self.assertEqual([d.strftime("%Y-%m-%d") for d in m.columns], ["2009-12-15", "2009-12-22"])
            self.assertFalse(m.attrs["truncated"])
            for d in m.columns:
                s = c.series("us:realgdp", as_of=d)
                pd.testing.assert_series_equal(m[d], s, check_names=False)
            last = c.vintage_matrix("us:realgdp", limit=1)
            self.assertEqual(list(last.columns), [m.columns[1]])
            self.assertTrue(last.attrs["truncated"])
            self.assertEqual(last.attrs["vintages_total"], 2)

    def test_series_list_snapshot_runs_models_lineage_and_forecast(self):
        with viewer() as c:
            keys = list(c.series_list()["key"])
            sample = read(os.path.join(REPO, "examples", "data", "us_macro_quarterly.csv")).split("\n")[0]
            self.assertLessEqual(set(sample.strip().split(",")[1:]), set(keys))  # and what other tests pushed
            snap_id = cli("snapshot", "create", "cpi-latest", "--series", "us:cpi").stdout.strip()
            snaps = {s["name"]: s["id"] for s in cli_json("snapshot", "list")}
            exported = cli_json("snapshot", "export", snaps["macro-2009-12-20"])
            df = c.snapshot(snaps["macro-2009-12-20"])
            self.assertEqual(list(df.columns), ["us:cpi", "us:realgdp", "us:unemp"])
            self.assertEqual(df.index.freqstr, "Q-DEC")
            self.assertEqual(df.attrs["as_of"], "2009-12-20")
            for s in exported["series"]:
                self.assertEqual([[_periods.format_period(p, "Q"), v] for p, v in df[s["key"]].items()],
                                 s["observations"])
            self.assertEqual(c.snapshot(snap_id[:10]).attrs["name"], "cpi-latest")
            long = c.snapshot(snap_id, layout="long")
            self.assertEqual(list(long.columns), ["series", "period", "value"])
            runs = c.runs()
            listed = cli_json("runs", "list")
            self.assertEqual(list(runs["id"]), [r["run"] for r in listed])
            self.assertEqual(len(c.runs(status="failed")), 0)
            self.assertEqual(len(c.runs(pipeline="us-gdp-growth", limit=1)), 1)
            run = c.run(runs["id"][0])
            self.assertEqual(run["pipeline"], "us-gdp-growth")
            self.assertIn("mase", " ".join(run["metrics"]))
            models = c.models()
            self.assertEqual(list(models["name"]), ["us-gdp-growth"])
            self.assertEqual(models["production"][0], 1)
            self.assertEqual(c.versions("us-gdp-growth")[0]["stage"], "production")
            lin = c.lineage("us-gdp-growth", 1)
            self.assertEqual(lin["run"]["id"], runs["id"][0])
            fc = c.forecast("us-gdp-growth", horizon=8)
            self.assertEqual(list(fc.columns), ["mean", "lower_80", "upper_80", "lower_95", "upper_95"])
            self.assertEqual(fc.index.freqstr, "Q-DEC")
            self.assertEqual(str(fc.index[0]), "2009Q4")
            self.assertEqual(len(fc), 8)
            self.assertTrue(((fc["lower_95"] < fc["lower_80"]) & (fc["upper_80"] < fc["upper_95"])).all())
            self.assertEqual(fc.attrs["version"], 1)
            refit = c.forecast("us-gdp-growth", horizon=4, as_of="2009-12-20", levels=(90,))
            self.assertEqual(list(refit.columns), ["mean", "lower_90", "upper_90"])
            self.assertTrue(refit.attrs["data"]["refit"])
            # as_of the training date reproduces the served numbers (docs/serving.md).
            self.assertEqual(list(refit["mean"]), list(c.forecast("us-gdp-growth", 4, levels=(90,))["mean"]))


@unittest.skipIf(pd is None, "pandas is not installed")
class IngestTest(unittest.TestCase):
    def test_dataframe_round_trip_through_ingest_and_series(self):
        idx = pd.period_range("2020-01", periods=24, freq="M")
        df = pd.DataFrame({"nb:a": [100.0 + i * 0.25 for i in range(24)],
                           "nb:b": [float("nan")] * 3 + [2.0 + i for i in range(20)] + [float("nan")]}, index=idx)
        df.iloc[10, 0] = float("nan")  # explicitly missing inside the series
        with analyst() as c:
            report = c.ingest(df, realtime_start="2021-02-01", source="notebook")
            self.assertEqual(report["vintages_created"], 2)
            self.assertEqual(report["records"], 24 + 20)
            self.assertEqual(report["user"], "analyst-user")
            a = c.series("nb:a")
            pd.testing.assert_series_equal(a, df["nb:a"].rename_axis("period"), check_freq=False)
            self.assertEqual(a.index.freqstr, "M")
            b = c.series("nb:b")
            pd.testing.assert_series_equal(b, df["nb:b"].iloc[3:23].rename_axis("period"), check_freq=False)
            # Unchanged data is no new vintage; a revision is, and the past stays as it was.
            self.assertEqual(c.ingest(df, realtime_start="2021-02-01")["vintages_created"], 0)
            revised = df["nb:a"].copy()
            revised.iloc[-1] = 999.5
            self.assertEqual(c.ingest(revised, realtime_start="2021-03-01")["vintages_created"], 1)
            self.assertEqual(c.series("nb:a")[pd.Period("2021-12", "M")], 999.5)
            pd.testing.assert_series_equal(c.series("nb:a", as_of="2021-02-15"), a)
            h = c.history("nb:a", "2021-12")
            self.assertEqual(list(h["value"]), [105.75, 999.5])
            m = c.vintage_matrix("nb:a")
            self.assertEqual(m.shape, (24, 2))
            # The CLI sees what the client pushed.
            self.assertEqual(cli_json("series", "show", "nb:a", "--as-of", "2021-02-15")["values"][10], None)
            with viewer() as v:
                pd.testing.assert_series_equal(v.series("nb:a"), c.series("nb:a"))

    def test_every_frequency_gets_its_period_index(self):
        cases = {
            "A": pd.period_range("2001", periods=5, freq="A"),
            "Q": pd.period_range("2001Q3", periods=5, freq="Q"),
            "M": pd.period_range("2001-11", periods=5, freq="M"),
            "W": pd.period_range("2020-12-21", periods=5, freq="W"),  # across ISO week 53
            "D": pd.period_range("2024-02-27", periods=5, freq="D"),
            "B": pd.period_range("2024-03-07", periods=5, freq="B"),
        }
        with analyst() as c:
            for code, idx in cases.items():
                key = "freq:" + code.lower()
                s = pd.Series([1.5 * i for i in range(5)], index=idx, name=key)
                c.ingest(s, realtime_start="2025-01-02")
                back = c.series(key)
                self.assertEqual(back.attrs["frequency"], code)
                self.assertEqual(back.index.freqstr, idx.freqstr, code)
                self.assertTrue(back.index.equals(idx), f"{code}: {list(back.index)} != {list(idx)}")
                self.assertEqual(list(back), list(s))
        # A long frame with its own realtime_start per row, and a DatetimeIndex with a frequency.
        long = pd.DataFrame({"series": ["nb:long", "nb:long"], "period": ["2024-01", "2024-02"],
                             "value": [1.0, 2.0], "realtime_start": ["2024-03-01", "2024-04-01"]})
        with analyst() as c:
            c.ingest(long)
            self.assertEqual(len(c.series("nb:long", as_of="2024-03-15")), 1)
            self.assertEqual(len(c.series("nb:long")), 2)
            ts = pd.Series([1.0, 2.0, 3.0], index=pd.date_range("2024-01-01", periods=3, freq="MS"))
            c.ingest(ts, key="nb:dt", realtime_start="2024-05-01")
            self.assertEqual(str(c.series("nb:dt").index[0]), "2024-01")

    def test_ingest_refusals(self):
        idx = pd.period_range("2020-01", periods=3, freq="M")
        with analyst() as c:
            with self.assertRaisesRegex(ValueError, "name the series"):
                c.ingest(pd.Series([1.0, 2.0, 3.0], index=idx))
            with self.assertRaisesRegex(ValueError, "needs a frequency"):
                c.ingest(pd.Series([1.0, 2.0], index=pd.DatetimeIndex(["2020-01-01", "2020-03-05"]), name="x:y"))
            with self.assertRaisesRegex(ValueError, "no almanac equivalent"):
                c.ingest(pd.Series([1.0], index=pd.period_range("2020-01-01", periods=1, freq="H"), name="x:y"))
            with self.assertRaisesRegex(ValueError, "not a date"):
                c.ingest(pd.Series([1.0, 2.0, 3.0], index=idx, name="x:y"), realtime_start="2020-13-01")
            with self.assertRaisesRegex(ValueError, "nothing to ingest"):
                c.ingest(pd.Series([float("nan")] * 3, index=idx, name="x:y"))
            # The server refuses a bad key, naming the line; nothing is stored.
            with self.assertRaises(almanac.InvalidArgument) as e:
                c.ingest(pd.DataFrame({"ok:key": [1.0, 2.0, 3.0], "bad key": [1.0, 2.0, 3.0]}, index=idx))
            self.assertIn("line 4", e.exception.message)
            with self.assertRaises(almanac.NotFound):
                c.series("ok:key")
        with viewer() as v:
            with self.assertRaises(almanac.PermissionDenied) as e:
                v.ingest(pd.Series([1.0, 2.0, 3.0], index=idx, name="x:y"))
            self.assertEqual(e.exception.status, 403)
            self.assertEqual(e.exception.code, "PERMISSION_DENIED")


class ErrorsTest(unittest.TestCase):
    def test_typed_errors_carry_code_message_and_request_id(self):
        with viewer() as c:
            cases = [
                (lambda: c.series("us:nope"), almanac.NotFound, 404, "NOT_FOUND", "us:nope"),
                (lambda: c.series("us:realgdp", as_of="2999-01-01"), almanac.InvalidArgument, 400,
                 "INVALID_ARGUMENT", "in the future"),
                (lambda: c.vintage_matrix("us:realgdp", limit=0), almanac.InvalidArgument, 400, "INVALID_ARGUMENT",
                 "limit must be an integer in 1..1000"),
                (lambda: c.history("us:realgdp", "2009M07"), almanac.InvalidArgument, 400, "INVALID_ARGUMENT",
                 "is not a period of series us:realgdp"),
                (lambda: c.snapshot("zzzzzz"), almanac.InvalidArgument, 400, "INVALID_ARGUMENT", "not a content id"),
                (lambda: c.snapshot("f" * 64), almanac.NotFound, 404, "NOT_FOUND", "snapshot"),
                (lambda: c.runs(status="sleeping"), almanac.InvalidArgument, 400, "INVALID_ARGUMENT", "run status"),
                (lambda: c.run("r404"), almanac.NotFound, 404, "NOT_FOUND", "r404"),
                (lambda: c.lineage("us-gdp-growth", 9), almanac.NotFound, 404, "NOT_FOUND", ""),
                (lambda: c.forecast("nope", 4), almanac.NotFound, 404, "NOT_FOUND", "not served"),
                (lambda: c.forecast("us-gdp-growth", 0), almanac.InvalidArgument, 400, "INVALID_ARGUMENT", "horizon"),
                (lambda: c.forecast("us-gdp-growth", 4, levels=(100,)), almanac.InvalidArgument, 400,
                 "INVALID_ARGUMENT", "outside (0, 100)"),
            ]
            for call, cls, status, code, text in cases:
                with self.assertRaises(cls) as e:
                    call()
                err = e.exception
                self.assertIsInstance(err, almanac.AlmanacError)
                self.assertEqual(err.status, status, err)
                self.assertEqual(err.code, code, err)
                self.assertIn(text, err.message)
                self.assertRegex(err.request_id or "", r"^[0-9a-f]{16}$")
                self.assertIn(err.request_id, str(err))
        for token in (None, "garbage", "alm_" + "0" * 64):
            with almanac.Client(S["url"], token) as c:
                with self.assertRaises(almanac.Unauthenticated) as e:
                    c.series("us:realgdp")
                self.assertEqual(e.exception.status, 401)
        with self.assertRaises(ValueError):
            viewer().series("us:realgdp", as_of="20091220")
        with self.assertRaises(ValueError):
            almanac.Client("ftp://127.0.0.1:1")

    def test_plain_python_without_pandas(self):
        with viewer(use_pandas=False) as c:
            s = c.series("us:realgdp", as_of="2009-12-20")
            self.assertEqual(s, cli_json("series", "show", "us:realgdp", "--as-of", "2009-12-20"))
            m = c.vintage_matrix("us:realgdp")
            self.assertEqual(m["vintages"], ["2009-12-15", "2009-12-22"])
            self.assertEqual(m["values"][0], cli_json("series", "show", "us:realgdp", "--as-of", "2009-12-15")["values"])
            self.assertIsInstance(c.runs(), list)
            self.assertIsInstance(c.models(), list)
            self.assertIsInstance(c.forecast("us-gdp-growth", 2)["mean"], list)
        # With pandas impossible to import, the package still works (and says so when asked).
        code = ("import sys; sys.modules['pandas'] = None; sys.path.insert(0, sys.argv[1]); import almanac\n"
                "c = almanac.Client(sys.argv[2], sys.argv[3]); assert not c.use_pandas\n"
                "s = c.series('us:realgdp'); print(len(s['periods']), s['frequency'])\n"
                "try:\n    almanac.Client(sys.argv[2], use_pandas=True)\nexcept ImportError as e:\n    print('refused')\n"
                "c.ingest([{'series': 'plain:x', 'period': '2024-01', 'value': 1.5}], realtime_start='2024-02-01')\n"
                "print(c.series('plain:x')['values'])\n")
        r = subprocess.run([sys.executable, "-c", code, os.path.dirname(HERE), S["url"], S["tokens"]["analyst"]],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split("\n")[:3], ["203 Q", "refused", "[1.5]"])

    def test_keep_alive_reuses_one_connection(self):
        with viewer() as c:
            c.series("us:realgdp")
            sock = c._conn.sock
            for _ in range(5):
                c.vintages("us:realgdp")
            self.assertIs(c._conn.sock, sock)


class V2Test(unittest.TestCase):
    """The Open Inference Protocol (KServe V2) calls, issue 22: the same numbers as forecast()."""

    def test_health_metadata_and_infer_equal_the_forecast(self):
        with viewer(use_pandas=False) as c:
            self.assertTrue(c.v2_live())
            self.assertTrue(c.v2_ready())
            self.assertTrue(c.v2_ready("us-gdp-growth"))
            self.assertTrue(c.v2_ready("us-gdp-growth", version=1))
            server = c.v2_server_metadata()
            self.assertEqual(server["name"], "almanac")
            self.assertEqual(server["extensions"], [])
            meta = c.v2_model_metadata("us-gdp-growth")
            self.assertEqual(meta["name"], "us-gdp-growth")
            self.assertEqual(meta["versions"], ["1"])
            self.assertEqual([t["name"] for t in meta["inputs"]], ["horizon", "as_of", "levels"])
            self.assertEqual([t["name"] for t in meta["outputs"]],
                             ["mean", "lower_80", "upper_80", "lower_95", "upper_95", "periods"])
            self.assertEqual(c.v2_model_metadata("us-gdp-growth", version=1)["versions"], ["1"])

            fc = c.forecast("us-gdp-growth", 6)
            r = c.v2_infer("us-gdp-growth", 6, id="abc", parameters={"team": "macro", "n": 2})
            self.assertEqual(r["model_name"], "us-gdp-growth")
            self.assertEqual(r["model_version"], "1")
            self.assertEqual(r["id"], "abc")
            self.assertEqual(r["parameters"], {"team": "macro", "n": 2})
            out = {o["name"]: o for o in r["outputs"]}
            self.assertEqual(out["mean"]["data"], fc["mean"])
            self.assertEqual(out["mean"]["shape"], [6])
            self.assertEqual(out["mean"]["datatype"], "FP64")
            self.assertEqual(out["lower_80"]["data"], fc["intervals"][0]["lower"])
            self.assertEqual(out["upper_95"]["data"], fc["intervals"][1]["upper"])
            self.assertEqual(out["periods"]["data"], fc["periods"])
            # By version, other levels, as of a date, chosen outputs in their order.
            a = c.forecast("us-gdp-growth", 4, as_of="2009-12-20", levels=(90,), version=1)
            b = c.v2_infer("us-gdp-growth", 4, as_of="2009-12-20", levels=(90,), version=1,
                           outputs=["upper_90", "mean"])
            self.assertEqual([o["name"] for o in b["outputs"]], ["upper_90", "mean"])
            self.assertEqual(b["outputs"][0]["data"], a["intervals"][0]["upper"])
            self.assertEqual(b["outputs"][1]["data"], a["mean"])

            cases = [
                (lambda: c.v2_infer("nope", 4), almanac.NotFound, 404, "not served"),
                (lambda: c.v2_infer("us-gdp-growth", 0), almanac.InvalidArgument, 400, "horizon must be in 1.."),
                (lambda: c.v2_infer("us-gdp-growth", 4, levels=(100,)), almanac.InvalidArgument, 400,
                 "outside (0, 100)"),
                (lambda: c.v2_infer("us-gdp-growth", 4, outputs=["median"]), almanac.InvalidArgument, 400,
                 "unknown output 'median'"),
                (lambda: c.v2_infer("us-gdp-growth", 4, as_of="1950-01-01"), almanac.Conflict, 409, "1950-01-01"),
                (lambda: c.v2_ready("us-gdp-growth", version=9), almanac.NotFound, 404, "version 9"),
                (lambda: c.v2_model_metadata("nope"), almanac.NotFound, 404, "not served"),
            ]
            for call, cls, status, text in cases:
                with self.assertRaises(cls) as e:
                    call()
                self.assertEqual(e.exception.status, status, e.exception)
                self.assertIn(text, e.exception.message)
                self.assertRegex(e.exception.request_id or "", r"^[0-9a-f]{16}$")
            with self.assertRaises(TypeError):
                c.v2_infer("us-gdp-growth", 1.5)
        with almanac.Client(S["url"], None) as anonymous:
            self.assertTrue(anonymous.v2_live())  # the health probes need no token
            with self.assertRaises(almanac.Unauthenticated):
                anonymous.v2_infer("us-gdp-growth", 4)

    @unittest.skipIf(pd is None, "pandas is not installed")
    def test_infer_as_a_dataframe(self):
        with viewer() as c:
            df = c.v2_infer("us-gdp-growth", 3, id="x")
            fc = c.forecast("us-gdp-growth", 3)
            self.assertEqual(list(df.columns), ["mean", "lower_80", "upper_80", "lower_95", "upper_95"])
            self.assertEqual(list(df.index), [str(p) for p in fc.index])
            self.assertEqual(list(df["mean"]), list(fc["mean"]))
            self.assertEqual(list(df["upper_95"]), list(fc["upper_95"]))
            self.assertEqual(df.attrs["model_version"], "1")
            self.assertEqual(df.attrs["id"], "x")


class _Fake(http.server.BaseHTTPRequestHandler):
    """Answers from the server's script: a list of (status, headers, delay) per request."""
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        srv = self.server
        srv.count += 1
        status, headers, delay = srv.script[min(srv.count, len(srv.script)) - 1]
        if delay:
            time.sleep(delay)
        body = (json.dumps({"key": "x:y", "frequency": "M", "title": "", "unit": "", "seasonal_adjustment": "",
                            "source": "", "as_of": None, "periods": ["2024-01"], "values": [1.0],
                            "request_id": "0123456789abcdef"}) if status == 200 else
                json.dumps({"code": "UNAVAILABLE", "message": "overloaded", "request_id": "fedcba9876543210"})).encode()
        try:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        if srv.close_after_each:
            self.close_connection = True

    def log_message(self, *args):
        pass


class FakeServer:
    def __init__(self, script, close_after_each=False):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Fake)
        self.httpd.daemon_threads = True
        self.httpd.script = script
        self.httpd.count = 0
        self.httpd.close_after_each = close_after_each
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def count(self):
        return self.httpd.count


class RetryAndTimeoutTest(unittest.TestCase):
    def test_503_is_retried_after_retry_after(self):
        with FakeServer([(503, {"Retry-After": "1"}, 0), (200, {}, 0)]) as srv:
            c = almanac.Client(srv.url, "t", use_pandas=False)
            t0 = time.monotonic()
            self.assertEqual(c.series("x:y")["values"], [1.0])
            self.assertGreaterEqual(time.monotonic() - t0, 1.0)
            self.assertEqual(srv.count, 2)

    def test_503_without_retry_after_backs_off_then_gives_up(self):
        with FakeServer([(503, {}, 0)]) as srv:
            c = almanac.Client(srv.url, "t", retries=2, backoff=0.05, use_pandas=False)
            with self.assertRaises(almanac.Unavailable) as e:
                c.series("x:y")
            self.assertEqual(srv.count, 3)  # the first try and two retries
            self.assertEqual(e.exception.status, 503)
            self.assertEqual(e.exception.message, "overloaded")
            self.assertEqual(e.exception.request_id, "fedcba9876543210")

    def test_retry_after_beyond_the_bound_is_not_waited_for(self):
        with FakeServer([(503, {"Retry-After": "120"}, 0), (200, {}, 0)]) as srv:
            c = almanac.Client(srv.url, "t", max_retry_wait=5, use_pandas=False)
            t0 = time.monotonic()
            with self.assertRaises(almanac.Unavailable):
                c.series("x:y")
            self.assertLess(time.monotonic() - t0, 1.0)
            self.assertEqual(srv.count, 1)
        with FakeServer([(503, {"Retry-After": "1"}, 0), (200, {}, 0)]) as srv:
            with self.assertRaises(almanac.Unavailable):
                almanac.Client(srv.url, "t", retries=0, use_pandas=False).series("x:y")
            self.assertEqual(srv.count, 1)

    def test_timeout(self):
        with FakeServer([(200, {}, 1.5)]) as srv:
            c = almanac.Client(srv.url, "t", timeout=0.3, use_pandas=False)
            t0 = time.monotonic()
            with self.assertRaises(almanac.Timeout) as e:
                c.series("x:y")
            self.assertLess(time.monotonic() - t0, 1.2)
            self.assertIsNone(e.exception.status)
            self.assertEqual(e.exception.code, "DEADLINE_EXCEEDED")
            self.assertIsInstance(e.exception, almanac.DeadlineExceeded)
            self.assertEqual(srv.count, 1)  # not retried

    def test_connection_refused_and_a_connection_closed_by_the_server(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()  # nothing listens there now
        with self.assertRaises(almanac.ConnectionFailed) as e:
            almanac.Client(f"http://127.0.0.1:{port}", "t", retries=1, backoff=0.01).series("x:y")
        self.assertIsNone(e.exception.status)
        self.assertIsInstance(e.exception, almanac.Unavailable)
        # A server that closes every connection after answering (without saying so): the
        # client notices the stale connection and asks again on a new one.
        with FakeServer([(200, {}, 0)], close_after_each=True) as srv:
            c = almanac.Client(srv.url, "t", retries=0, use_pandas=False)
            for _ in range(3):
                self.assertEqual(c.series("x:y")["values"], [1.0])
            self.assertEqual(srv.count, 3)


if __name__ == "__main__":
    unittest.main()
