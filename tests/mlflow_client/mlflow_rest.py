"""A small MLflow REST client, written only from MLflow's REST API reference (not from MLflow's
code), standard library only. It talks to any server of that API: MLflow's own, or `almanac
serve` (docs/interop.md). Authentication as MLflow clients send it: MLFLOW_TRACKING_TOKEN as
"Authorization: Bearer", or MLFLOW_TRACKING_USERNAME/PASSWORD as HTTP basic.

    c = MlflowRest("http://127.0.0.1:5000", token="...")
    exp = c.create_experiment("gdp")
    run = c.create_run(exp, run_name="ets")
    c.log_metric(run, "rmse", 0.4, step=1)
"""
import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request


class MlflowError(Exception):
    """An error answer: the HTTP status, MLflow's error_code and message."""

    def __init__(self, status, error_code, message):
        super().__init__(f"{status} {error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message


def now_ms():
    return int(time.time() * 1000)


class MlflowRest:
    def __init__(self, url, token=None, username=None, password=None, prefix="/api/2.0/mlflow/", timeout=30):
        self.base = url.rstrip("/") + prefix
        self.headers = {}
        if token:
            self.headers["Authorization"] = "Bearer " + token
        elif username is not None:
            raw = f"{username}:{password}".encode()
            self.headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        self.timeout = timeout

    # ------------------------------------------------------------------------- transport

    def call(self, method, endpoint, body=None, params=None):
        url = self.base + endpoint
        data = None
        headers = dict(self.headers)
        if method == "GET":
            if params:
                url += "?" + urllib.parse.urlencode(params, doseq=True)
        else:
            # json.dumps writes NaN and Infinity as bare tokens, as MLflow's Python client does.
            data = json.dumps(body or {}).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                return json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            text = e.read()
            try:
                j = json.loads(text)
            except ValueError:
                j = {}
            raise MlflowError(e.code, j.get("error_code", ""), j.get("message", text.decode(errors="replace")))

    # ----------------------------------------------------------------------- experiments

    def create_experiment(self, name, artifact_location=None, tags=None):
        body = {"name": name}
        if artifact_location:
            body["artifact_location"] = artifact_location
        if tags:
            body["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
        return self.call("POST", "experiments/create", body)["experiment_id"]

    def get_experiment_by_name(self, name):
        return self.call("GET", "experiments/get-by-name", params={"experiment_name": name})["experiment"]

    def search_experiments(self, filter_string=None, max_results=None, page_token=None):
        body = {}
        if filter_string:
            body["filter"] = filter_string
        if max_results:
            body["max_results"] = max_results
        if page_token:
            body["page_token"] = page_token
        return self.call("POST", "experiments/search", body)

    # ------------------------------------------------------------------------------ runs

    def create_run(self, experiment_id, run_name=None, tags=None, start_time=None):
        body = {"experiment_id": experiment_id, "start_time": start_time or now_ms()}
        if run_name:
            body["run_name"] = run_name
        if tags:
            body["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
        return self.call("POST", "runs/create", body)["run"]["info"]["run_id"]

    def get_run(self, run_id):
        return self.call("GET", "runs/get", params={"run_id": run_id})["run"]

    def log_metric(self, run_id, key, value, step=0, timestamp=None):
        self.call("POST", "runs/log-metric", {"run_id": run_id, "run_uuid": run_id, "key": key, "value": value,
                                              "timestamp": timestamp or now_ms(), "step": step})

    def log_param(self, run_id, key, value):
        self.call("POST", "runs/log-parameter", {"run_id": run_id, "run_uuid": run_id, "key": key, "value": value})

    def set_tag(self, run_id, key, value):
        self.call("POST", "runs/set-tag", {"run_id": run_id, "run_uuid": run_id, "key": key, "value": value})

    def log_batch(self, run_id, metrics=(), params=None, tags=None):
        self.call("POST", "runs/log-batch", {
            "run_id": run_id,
            "metrics": [{"key": k, "value": v, "timestamp": now_ms(), "step": s} for k, v, s in metrics],
            "params": [{"key": k, "value": v} for k, v in (params or {}).items()],
            "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]})

    def set_terminated(self, run_id, status="FINISHED"):
        return self.call("POST", "runs/update", {"run_id": run_id, "status": status, "end_time": now_ms()})["run_info"]

    def metric_history(self, run_id, key):
        out, token = [], None
        while True:
            params = {"run_id": run_id, "metric_key": key}
            if token:
                params["page_token"] = token
            page = self.call("GET", "metrics/get-history", params=params)
            out += page.get("metrics", [])
            token = page.get("next_page_token")
            if not token:
                return out

    def search_runs(self, experiment_ids, filter_string="", order_by=None, max_results=1000):
        """Every matching run, following next_page_token."""
        out, token = [], None
        while True:
            body = {"experiment_ids": list(experiment_ids), "filter": filter_string, "max_results": max_results,
                    "order_by": order_by or []}
            if token:
                body["page_token"] = token
            page = self.call("POST", "runs/search", body)
            out += page.get("runs", [])
            token = page.get("next_page_token")
            if not token:
                return out

    # -------------------------------------------------------------------------- registry

    def create_registered_model(self, name, description=""):
        return self.call("POST", "registered-models/create", {"name": name, "description": description})[
            "registered_model"]

    def create_model_version(self, name, source, run_id):
        return self.call("POST", "model-versions/create", {"name": name, "source": source, "run_id": run_id})[
            "model_version"]

    def get_model_version(self, name, version):
        return self.call("GET", "model-versions/get", params={"name": name, "version": str(version)})["model_version"]

    def transition_stage(self, name, version, stage, archive_existing_versions=False):
        return self.call("POST", "model-versions/transition-stage",
                         {"name": name, "version": str(version), "stage": stage,
                          "archive_existing_versions": archive_existing_versions})["model_version"]

    def latest_versions(self, name, stages=()):
        return self.call("POST", "registered-models/get-latest-versions",
                         {"name": name, "stages": list(stages)}).get("model_versions", [])

    # ---------------------------------------------------------------- aliases and tags
    # The reference's shapes: set answers {}, get-by-alias {"model_version": ...}; DELETE
    # requests carry their fields in a JSON body.

    def set_registered_model_alias(self, name, alias, version):
        return self.call("POST", "registered-models/alias", {"name": name, "alias": alias, "version": str(version)})

    def get_model_version_by_alias(self, name, alias):
        return self.call("GET", "registered-models/alias", params={"name": name, "alias": alias})["model_version"]

    def delete_registered_model_alias(self, name, alias):
        return self.call("DELETE", "registered-models/alias", {"name": name, "alias": alias})

    def set_model_version_tag(self, name, version, key, value):
        return self.call("POST", "model-versions/set-tag",
                         {"name": name, "version": str(version), "key": key, "value": value})

    def get_registered_model(self, name):
        return self.call("GET", "registered-models/get", params={"name": name})["registered_model"]
