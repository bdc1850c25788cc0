"""The almanac HTTP client: one keep-alive connection, typed errors, bounded retries."""
import datetime
import email.utils
import http.client
import json
import math
import random
import threading
import time
import urllib.parse

from . import _periods
from .errors import AlmanacError, ConnectionFailed, InvalidArgument, Timeout, error_for

__all__ = ["Client"]

# A kept-alive connection the server closed; any failure to talk to the server.
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)
_NETWORK = (OSError, http.client.HTTPException)

_VERSION = "0.23.0"


def _date_text(d, what):
    """A date (str YYYY-MM-DD, datetime.date, datetime or pandas Timestamp) as YYYY-MM-DD."""
    if d is None:
        return None
    if isinstance(d, str):
        try:
            if len(d) != 10 or d[4] != "-" or d[7] != "-":
                raise ValueError(d)
            datetime.date.fromisoformat(d)
        except ValueError:
            raise ValueError(f"{what} {d!r} is not a date (YYYY-MM-DD)") from None
        return d
    if hasattr(d, "strftime"):
        return d.strftime("%Y-%m-%d")
    raise TypeError(f"{what} must be a date or a YYYY-MM-DD string, got {type(d).__name__}")


def _level_name(level):
    return f"{level:g}"


def _retry_after_seconds(value):
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, (when - datetime.datetime.now(datetime.timezone.utc)).total_seconds())


class Client:
    """A client of one ``almanac serve``.

    ``Client("http://127.0.0.1:8080", token)``: every call is one HTTP request on a kept-alive
    connection (reopened when the server closed it). Return values are pandas objects when
    pandas is importable (``use_pandas=None``), plain lists and dicts otherwise or with
    ``use_pandas=False``.

    Errors: :class:`almanac.AlmanacError` subclasses carrying the server's code, message and
    request id. Retries: an answer 503 (overloaded, store unreachable) or a connection that
    cannot be made is retried up to ``retries`` times, waiting what ``Retry-After`` asks (at
    most ``max_retry_wait`` seconds: a longer wait raises at once), or ``backoff`` x 2^attempt
    (with jitter) when it does not say. ``timeout``: seconds for connecting and for each read
    (:class:`almanac.Timeout` when exceeded; a timed-out request is not retried).

    Not for concurrent use from several threads at once (calls are serialized by a lock); use
    one Client per thread for parallel requests.
    """

    def __init__(self, url, token=None, *, timeout=30.0, retries=3, backoff=0.25, max_retry_wait=30.0,
                 use_pandas=None):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"url {url!r} must be http://HOST[:PORT] or https://HOST[:PORT]")
        if retries < 0 or backoff < 0 or max_retry_wait < 0 or (timeout is not None and timeout <= 0):
            raise ValueError("timeout must be positive; retries, backoff and max_retry_wait not negative")
        self.url = url.rstrip("/")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._prefix = parts.path.rstrip("/")
        self._token = token
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_retry_wait = max_retry_wait
        if use_pandas is None:
            use_pandas = _periods.pd is not None
        elif use_pandas and _periods.pd is None:
            raise ImportError("use_pandas=True but pandas is not installed (apt-get install python3-pandas)")
        self.use_pandas = use_pandas
        self._conn = None
        self._lock = threading.Lock()
        self._headers = {"Accept": "application/json", "User-Agent": f"almanac-python/{_VERSION}"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"

    # ------------------------------------------------------------------ connection

    def close(self):
        """Closes the kept-alive connection (a later call opens a new one)."""
        with self._lock:
            self._drop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()

    def __repr__(self):
        return f"almanac.Client({self.url!r})"

    def _drop(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self):
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=self.timeout)
        return self._conn

    def _wait(self, attempt, retry_after):
        """Seconds to wait before retry `attempt` (0-based), or None to give up now."""
        if attempt >= self.retries:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_wait else None
        return min(self.max_retry_wait, self.backoff * (2 ** attempt) * (0.5 + random.random()))

    def _request(self, method, path, query=None, body=None, content_type=None):
        """One call: the decoded JSON answer, or a typed error."""
        target = self._prefix + path
        if query:
            query = {k: v for k, v in query.items() if v is not None}
            if query:
                target += "?" + urllib.parse.urlencode(query)
        headers = self._headers
        if body is not None:
            headers = dict(headers)
            headers["Content-Type"] = content_type or "application/json"
        with self._lock:
            attempt = 0
            while True:
                reused = self._conn is not None
                try:
                    resp, data = self._exchange(method, target, body, headers, path)
                except _STALE as e:
                    error = e
                    if reused:
                        # The server closed the kept-alive connection (idle timeout, restart):
                        # one immediate retry on a new connection, not counted as an attempt.
                        try:
                            resp, data = self._exchange(method, target, body, headers, path)
                            error = None
                        except _NETWORK as e2:
                            error = e2
                except _NETWORK as e:
                    error = e
                else:
                    error = None
                if error is not None:
                    wait = self._wait(attempt, None)
                    if wait is None:
                        raise ConnectionFailed("UNAVAILABLE", f"cannot reach {self.url}: {error}") from None
                    time.sleep(wait)
                    attempt += 1
                    continue
                if resp.status == 503:
                    wait = self._wait(attempt, _retry_after_seconds(resp.getheader("Retry-After")))
                    if wait is not None:
                        time.sleep(wait)
                        attempt += 1
                        continue
                return self._decode(resp, data, method, path)

    def _exchange(self, method, target, body, headers, path):
        """One request and its answer on the kept-alive connection (dropped after an error or
        when the server closes it). Timeout when no answer comes in time."""
        try:
            conn = self._connection()
            conn.request(method, target, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except TimeoutError:
            self._drop()
            raise Timeout("DEADLINE_EXCEEDED", f"no answer from {self.url} within {self.timeout} s "
                          f"({method} {path})") from None
        except _NETWORK:
            self._drop()
            raise
        if resp.will_close:
            self._drop()
        return resp, data

    def _decode(self, resp, data, method, path):
        status = resp.status
        if 200 <= status < 300:
            try:
                return json.loads(data)
            except ValueError:
                raise AlmanacError("INTERNAL", f"{method} {path}: the answer is not JSON",
                                   resp.getheader("X-Request-Id"), status) from None
        request_id = resp.getheader("X-Request-Id")
        code, message = None, None
        try:
            j = json.loads(data)
            if isinstance(j, dict):
                # almanac's {"code", "message", "request_id"}, or the V2 protocol's {"error"}
                code, message = j.get("code"), j.get("message") or j.get("error")
                request_id = j.get("request_id") or request_id
        except ValueError:
            pass
        if not code:
            code = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                    405: "INVALID_ARGUMENT", 409: "FAILED_PRECONDITION", 413: "RESOURCE_EXHAUSTED",
                    429: "RESOURCE_EXHAUSTED", 501: "UNIMPLEMENTED", 503: "UNAVAILABLE",
                    504: "DEADLINE_EXCEEDED"}.get(status, "UNKNOWN")
        if not message:
            message = f"{method} {path}: HTTP {status} {resp.reason}: {data[:200].decode('utf-8', 'replace')}"
        raise error_for(status, code, message, request_id)

    def _get(self, path, query=None):
        return self._request("GET", path, query)

    @staticmethod
    def _seg(text, what):
        if not isinstance(text, str) or not text:
            raise TypeError(f"{what} must be a non-empty string")
        return urllib.parse.quote(text, safe="")

    @staticmethod
    def _strip(j):
        j.pop("request_id", None)
        return j

    # ------------------------------------------------------------------ data

    def series_list(self):
        """Every series and its metadata: a DataFrame (one row per series) or a list of dicts."""
        rows = self._get("/v1/series")["series"]
        if not self.use_pandas:
            return rows
        pd = _periods.pd
        return pd.DataFrame(rows, columns=["key", "frequency", "title", "unit", "seasonal_adjustment", "source"])

    def series(self, key, as_of=None):
        """The series as known on `as_of` (a date; default: everything loaded).

        pandas: a float Series named `key` with a PeriodIndex of the series' frequency (NaN:
        explicitly missing) and the metadata in ``.attrs`` (frequency, title, unit,
        seasonal_adjustment, source, as_of). Without pandas: the server's object
        ``{key, frequency, ..., as_of, periods, values}``.
        """
        j = self._get("/v1/series/" + self._seg(key, "key"), {"as_of": _date_text(as_of, "as_of")})
        if not self.use_pandas:
            return self._strip(j)
        pd = _periods.pd
        index = _periods.period_index(j["periods"], j["frequency"])
        s = pd.Series([math.nan if v is None else v for v in j["values"]], index=index, name=j["key"],
                      dtype="float64")
        s.attrs = {k: j[k] for k in ("key", "frequency", "title", "unit", "seasonal_adjustment", "source", "as_of")}
        return s

    def vintages(self, key):
        """The series' vintages, oldest first: a DataFrame (id, realtime_start, loaded_at,
        loader, source, source_sha256, kind, observations) or a list of dicts."""
        rows = self._get("/v1/series/" + self._seg(key, "key") + "/vintages")["vintages"]
        if not self.use_pandas:
            return rows
        pd = _periods.pd
        df = pd.DataFrame(rows, columns=["id", "realtime_start", "loaded_at", "loader", "source", "source_sha256",
                                         "kind", "observations"])
        df["realtime_start"] = pd.to_datetime(df["realtime_start"])
        df["loaded_at"] = pd.to_datetime(df["loaded_at"], utc=True)
        return df

    def history(self, key, period):
        """Every value recorded for one period, oldest first (a vintage that did not change
        the period has no entry). pandas: a DataFrame indexed by realtime_start with columns
        value, vintage, loaded_at. Without pandas: the server's columnar object."""
        if not isinstance(period, str):
            if not hasattr(period, "freqstr"):
                raise TypeError("period must be a string such as '2009Q3' or a pandas Period")
            period = _periods.format_period(period, _periods.frequency_code(period.freqstr))
        j = self._get("/v1/series/" + self._seg(key, "key") + "/history", {"period": period})
        if not self.use_pandas:
            return self._strip(j)
        pd = _periods.pd
        df = pd.DataFrame({"value": pd.array([math.nan if v is None else v for v in j["values"]], dtype="float64"),
                           "vintage": j["vintages"],
                           "loaded_at": pd.to_datetime(j["loaded_at"], utc=True)},
                          index=pd.DatetimeIndex(pd.to_datetime(j["realtime_start"]), name="realtime_start"))
        df.attrs = {"key": j["key"], "frequency": j["frequency"], "period": j["period"]}
        return df

    def vintage_matrix(self, key, limit=None):
        """Periods x vintages (ALFRED style): column j is the series as known on the j-th
        vintage date (equal to ``series(key, as_of=that date)``); NaN: not known yet on that
        date, or explicitly missing. At most `limit` vintage dates, the latest (server
        default 100, at most 1000); ``.attrs["truncated"]`` says when older ones were left out.

        pandas: a DataFrame with a PeriodIndex and a DatetimeIndex of vintage dates as
        columns (named realtime_start). Without pandas: the server's object ``{key, frequency,
        periods, vintages, values (one list per vintage), vintages_total, truncated}``.
        """
        j = self._get("/v1/series/" + self._seg(key, "key") + "/vintage-matrix", {"limit": limit})
        if not self.use_pandas:
            return self._strip(j)
        pd = _periods.pd
        import numpy as np  # a pandas dependency
        index = _periods.period_index(j["periods"], j["frequency"])
        columns = pd.DatetimeIndex(pd.to_datetime(j["vintages"]), name="realtime_start")
        if j["values"]:
            data = np.array(j["values"], dtype="float64").T
        else:
            data = np.empty((len(index), 0))
        df = pd.DataFrame(data, index=index, columns=columns)
        df.attrs = {"key": j["key"], "frequency": j["frequency"], "vintages_total": j["vintages_total"],
                    "truncated": j["truncated"]}
        return df

    def snapshot(self, id, layout="auto"):
        """A stored snapshot's content, by content id (64 hex digits) or a unique prefix of at
        least 6.

        pandas: ``layout="wide"`` (the default ``"auto"`` when every series has one frequency):
        a DataFrame with a PeriodIndex and one column per series key; ``layout="long"`` (also
        ``"auto"`` when frequencies differ): columns series, period (almanac text), value.
        ``.attrs`` has id, name, as_of, created_at, created_by. Without pandas: the server's
        object ``{id, name, as_of, created_at, created_by, series: [{key, frequency, periods,
        values}]}``.
        """
        if layout not in ("auto", "wide", "long"):
            raise ValueError(f"layout must be 'auto', 'wide' or 'long', got {layout!r}")
        j = self._get("/v1/snapshots/" + self._seg(id, "id"))
        if not self.use_pandas:
            return self._strip(j)
        pd = _periods.pd
        attrs = {k: j[k] for k in ("id", "name", "as_of", "created_at", "created_by")}
        freqs = {s["frequency"] for s in j["series"]}
        if layout == "wide" and len(freqs) > 1:
            raise ValueError(f"snapshot {j['id'][:12]} mixes frequencies {sorted(freqs)}: use layout='long'")
        if layout == "long" or len(freqs) > 1:
            rows = [(s["key"], p, math.nan if v is None else v)
                    for s in j["series"] for p, v in zip(s["periods"], s["values"])]
            df = pd.DataFrame(rows, columns=["series", "period", "value"])
        else:
            cols = {}
            for s in j["series"]:
                cols[s["key"]] = pd.Series([math.nan if v is None else v for v in s["values"]],
                                           index=_periods.period_index(s["periods"], s["frequency"]),
                                           dtype="float64")
            df = pd.DataFrame(cols)
            if freqs:
                df.index = df.index.asfreq(_periods.pandas_freq(next(iter(freqs))))
                df.index.name = "period"
        df.attrs = attrs
        return df

    def ingest(self, data, realtime_start=None, *, key=None, source=None):
        """Pushes observations as one load (POST /v1/ingest: one transaction, one vintage per
        series per realtime_start, audited with the token's user; needs the ingest role:
        analyst, modeler or admin). Returns the server's report (a dict: load_id, records,
        vintages_created, observations_written, vintages, ...).

        `data`: a pandas Series (named by `key` or its name) or a wide DataFrame (one column
        per series key) with a PeriodIndex (or a DatetimeIndex with a frequency); a long
        DataFrame with columns series, period, value (and optionally realtime_start); or a
        list of dicts {series, period, value[, realtime_start, frequency]}. NaN inside a
        series is sent as explicitly missing; leading and trailing NaN are not sent.
        `realtime_start`: the date the values became known (default: the server's today);
        a record's own realtime_start wins. `source`: a label recorded as the load's source.
        """
        rt = _date_text(realtime_start, "realtime_start")
        records = list(self._records(data, key, rt))
        if not records:
            raise ValueError("nothing to ingest: no values")
        body = ("\n".join(json.dumps(r, separators=(",", ":"), allow_nan=False) for r in records) + "\n").encode()
        return self._strip(self._request("POST", "/v1/ingest", {"source": source}, body, "application/x-ndjson"))

    def _records(self, data, key, rt):
        pd = _periods.pd
        if isinstance(data, (list, tuple)):
            for r in data:
                if not isinstance(r, dict):
                    raise TypeError("records must be dicts {series, period, value[, realtime_start, frequency]}")
                r = dict(r)
                if rt and "realtime_start" not in r:
                    r["realtime_start"] = rt
                v = r.get("value")
                if isinstance(v, float) and math.isnan(v):
                    r["value"] = None
                yield r
            return
        if pd is None:
            raise TypeError("without pandas, ingest takes a list of dicts {series, period, value}")
        if isinstance(data, pd.Series):
            name = key if key is not None else data.name
            if not isinstance(name, str) or not name:
                raise ValueError("name the series: ingest(s, key='...') or s.name = '...'")
            yield from self._series_records(name, data, rt)
            return
        if isinstance(data, pd.DataFrame):
            if key is not None:
                raise ValueError("key= is for a Series; a DataFrame's columns are the series keys")
            if {"series", "period", "value"} <= set(data.columns):
                yield from self._long_records(data, rt)
                return
            for col in data.columns:
                if not isinstance(col, str):
                    raise ValueError(f"column {col!r}: a wide DataFrame's columns must be series keys (strings)")
                yield from self._series_records(col, data[col], rt)
            return
        raise TypeError(f"cannot ingest a {type(data).__name__}: give a pandas Series or DataFrame, or a list of dicts")

    @staticmethod
    def _as_period_index(index, what):
        pd = _periods.pd
        if isinstance(index, pd.DatetimeIndex):
            if index.freq is None:
                raise ValueError(f"{what}: a DatetimeIndex needs a frequency (or use a PeriodIndex, e.g. "
                                 "df.to_period('Q'))")
            index = index.to_period()
        if not isinstance(index, pd.PeriodIndex):
            raise ValueError(f"{what}: the index must be a PeriodIndex (or a DatetimeIndex with a frequency)")
        return index

    def _series_records(self, name, s, rt):
        index = self._as_period_index(s.index, f"series {name}")
        code = _periods.frequency_code(index.freqstr)
        values = s.to_numpy(dtype="float64", na_value=math.nan)
        present = [i for i, v in enumerate(values) if not math.isnan(v)]
        if not present:
            return
        for i in range(present[0], present[-1] + 1):
            v = values[i]
            r = {"series": name, "period": _periods.format_period(index[i], code),
                 "value": None if math.isnan(v) else float(v), "frequency": code}
            if rt:
                r["realtime_start"] = rt
            yield r

    def _long_records(self, df, rt):
        pd = _periods.pd
        has_rt = "realtime_start" in df.columns
        for row in df.itertuples(index=False):
            p = row.period
            r = {"series": row.series}
            if isinstance(p, pd.Period):
                code = _periods.frequency_code(p.freqstr)
                r["period"] = _periods.format_period(p, code)
                r["frequency"] = code
            else:
                r["period"] = str(p)
            v = row.value
            r["value"] = None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
            own = getattr(row, "realtime_start") if has_rt else None
            if own is not None and not (isinstance(own, float) and math.isnan(own)) and own is not pd.NaT:
                r["realtime_start"] = _date_text(own, "realtime_start")
            elif rt:
                r["realtime_start"] = rt
            yield r

    # ------------------------------------------------------------------ forecasts

    def forecast(self, model, horizon, as_of=None, levels=(80, 95), *, version=None, alias=None):
        """A forecast from a served version of `model` (default its production version;
        `version` a number, or `alias` "production"/"staging"). With `as_of`, the version's
        model spec is refitted on the data known on that date (docs/serving.md).

        pandas: a DataFrame with a PeriodIndex and columns mean, lower_L, upper_L for each
        level L (e.g. lower_80); ``.attrs`` has model, version, alias, model_type, method,
        frequency, data (snapshot_id, as_of, ...), package_sha256, notes. Without pandas: the
        server's object.
        """
        body = {"model": model, "horizon": horizon}
        if levels is not None:
            body["levels"] = list(levels)
        if as_of is not None:
            body["as_of"] = _date_text(as_of, "as_of")
        if version is not None:
            body["version"] = version
        if alias is not None:
            body["alias"] = alias
        j = self._request("POST", "/v1/forecast", None, json.dumps(body).encode())
        if not self.use_pandas:
            return self._strip(j)
        pd = _periods.pd
        cols = {"mean": j["mean"]}
        for iv in j["intervals"]:
            cols[f"lower_{_level_name(iv['level'])}"] = iv["lower"]
            cols[f"upper_{_level_name(iv['level'])}"] = iv["upper"]
        df = pd.DataFrame(cols, index=_periods.period_index(j["periods"], j["frequency"]), dtype="float64")
        df.attrs = {k: j.get(k) for k in ("model", "version", "alias", "model_type", "method", "frequency", "horizon",
                                          "data", "package_sha256", "notes")}
        return df

    # ------------------------------------------------------------------ registry and tracking

    def models(self):
        """Registered models: a DataFrame (name, owner, description, four_eyes, production,
        staging, versions, served) or a list of dicts."""
        rows = self._get("/v1/models")["models"]
        if not self.use_pandas:
            return rows
        return _periods.pd.DataFrame(rows, columns=["name", "owner", "description", "four_eyes", "production",
                                                    "staging", "versions", "served"])

    def model(self, name):
        """One model: owner, policy, card, promotion requests, served versions (a dict)."""
        return self._strip(self._get("/v1/models/" + self._seg(name, "name")))

    def versions(self, name):
        """A model's versions (a list of dicts)."""
        return self._get("/v1/models/" + self._seg(name, "name") + "/versions")["versions"]

    def runs(self, experiment=None, pipeline=None, status=None, limit=None):
        """Tracked runs, newest first (as ``almanac runs list``): a DataFrame with start and
        end as UTC timestamps, or a list of dicts. `status`: running, finished, failed or
        killed; `limit`: at most this many (server default 100, at most 1000)."""
        rows = self._get("/v1/runs", {"experiment": experiment, "pipeline": pipeline, "status": status,
                                      "limit": limit})["runs"]
        if not self.use_pandas:
            return rows
        pd = _periods.pd
        df = pd.DataFrame(rows, columns=["id", "experiment", "pipeline", "status", "start", "end", "user", "host",
                                         "pipeline_sha256", "snapshot_id", "git_commit", "almanac_version", "seed",
                                         "error", "reproduces"])
        df["start"] = pd.to_datetime(df["start"], utc=True)
        df["end"] = pd.to_datetime(df["end"], utc=True)
        return df

    def run(self, id):
        """One run: context, params, latest metrics, tags and artifacts (a dict)."""
        return self._strip(self._get("/v1/runs/" + self._seg(id, "id")))

    def lineage(self, model, version):
        """Lineage of model@version: vintages, snapshot, run, artifacts, approvals, audit (a dict)."""
        if isinstance(version, bool) or not isinstance(version, int):
            raise TypeError("version must be an int")
        return self._strip(self._get(f"/v1/lineage/{self._seg(model, 'model')}/{version}"))

    # ------------------------------------------------------------------ Open Inference Protocol (V2)

    def v2_server_metadata(self):
        """The Open Inference Protocol server metadata: {"name", "version", "extensions"}."""
        return self._get("/v2")

    def v2_live(self):
        """True when the server answers its V2 liveness probe."""
        return self._v2_health("/v2/health/live")

    def v2_ready(self, model=None, version=None):
        """V2 readiness: of the server (no `model`: the store reachable and every version the
        policy selects loaded), or of `model` (its served production version, or `version`).
        False for the protocol's not-ready answer (400); NotFound for a model or version this
        server does not serve."""
        if model is None:
            if version is not None:
                raise TypeError("version needs a model")
            return self._v2_health("/v2/health/ready")
        return self._v2_health(self._v2_model_path(model, version) + "/ready")

    def v2_model_metadata(self, model, version=None):
        """V2 model metadata: name, versions, platform, inputs and outputs (tensor metadata:
        name, datatype, shape) and parameters (a dict)."""
        return self._get(self._v2_model_path(model, version))

    def v2_infer(self, model, horizon, as_of=None, levels=None, *, version=None, outputs=None, id=None,
                 parameters=None):
        """A forecast through the Open Inference Protocol: the same numbers as :meth:`forecast`
        (docs/interop.md). Inputs: `horizon` (INT32), `as_of` (BYTES, a date) and `levels`
        (FP64; default the package's levels). `outputs`: names to return (mean, lower_L,
        upper_L, periods; default all). `id` is echoed; `parameters` (str, number or bool
        values) are passed back.

        pandas: a DataFrame indexed by the periods (a plain index of their names) with one
        column per FP64 output; ``.attrs`` has model_name, model_version, id, parameters.
        Without pandas: the server's response object."""
        if isinstance(horizon, bool) or not isinstance(horizon, int):
            raise TypeError("horizon must be an int")
        inputs = [{"name": "horizon", "shape": [1], "datatype": "INT32", "data": [horizon]}]
        if as_of is not None:
            inputs.append({"name": "as_of", "shape": [1], "datatype": "BYTES", "data": [_date_text(as_of, "as_of")]})
        if levels is not None:
            levels = [float(x) for x in levels]
            inputs.append({"name": "levels", "shape": [len(levels)], "datatype": "FP64", "data": levels})
        body = {"inputs": inputs}
        if id is not None:
            body["id"] = id
        if parameters is not None:
            body["parameters"] = dict(parameters)
        if outputs is not None:
            body["outputs"] = [{"name": name} for name in outputs]
        j = self._request("POST", self._v2_model_path(model, version) + "/infer", None, json.dumps(body).encode())
        if not self.use_pandas:
            return j
        pd = _periods.pd
        tensors = {o["name"]: o for o in j["outputs"]}
        periods = tensors.get("periods", {}).get("data")
        cols = {name: t["data"] for name, t in tensors.items() if t["datatype"] == "FP64"}
        df = pd.DataFrame(cols, index=pd.Index(periods, name="period") if periods is not None else None,
                          dtype="float64")
        df.attrs = {k: j.get(k) for k in ("model_name", "model_version", "id", "parameters")}
        return df

    def _v2_model_path(self, model, version):
        path = "/v2/models/" + self._seg(model, "model")
        if version is not None:
            if isinstance(version, bool) or not isinstance(version, int):
                raise TypeError("version must be an int")
            path += f"/versions/{version}"
        return path

    def _v2_health(self, path):
        try:
            self._get(path)
            return True
        except InvalidArgument as e:
            if e.status == 400:  # the protocol's "not ready"
                return False
            raise
