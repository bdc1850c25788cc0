#!/usr/bin/env python3
"""Writes docs/openapi.json (the OpenAPI 3 document of `almanac serve`).

The JSON file is what the server embeds and serves at /openapi.json; this script is only the
convenient way to edit it. src/serve/http_api_test.cc checks that every route of the handler
is documented here and nothing else is.  Run: python3 docs/gen_openapi.py > docs/openapi.json
"""
import json

def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}

ERR = {"description": "Error", "content": {"application/json": {"schema": ref("Error")}}}

def errors(*codes):
    text = {"400": "Bad request: malformed JSON, wrong types, unknown fields, values out of range, bad path",
            "401": "Missing, invalid or revoked bearer token",
            "403": "The token's role may not do this",
            "404": "Unknown model, version, series, run or endpoint",
            "409": "Conflict with the current state (four-eyes, nothing pending, cannot refit, no data as of the date)",
            "413": "Request body or header over the limit",
            "501": "Not implemented in this build",
            "503": "Overloaded (worker queue full, too many connections) or the store is unreachable"}
    return {c: {"description": text[c], "content": {"application/json": {"schema": ref("Error")}}} for c in codes}

def ok(schema, description="OK", code="200"):
    return {code: {"description": description, "content": {"application/json": {"schema": schema}}}}

def obj(props, required=(), extra=False, description=None):
    o = {"type": "object", "properties": props, "additionalProperties": extra}
    if required:
        o["required"] = list(required)
    if description:
        o["description"] = description
    return o

# Every route: the per-client limits (docs/serving.md "Fair service") answer before routing.
TOO_MANY = {"description": "Too many requests (--rate-limit) or open connections (--max-connections-per-address) "
                           "from this client address; retry after the Retry-After header's seconds",
            "content": {"application/json": {"schema": ref("Error")}}}

def op(summary, permission, responses, *, params=None, body=None, description=None, security=True,
       body_type="application/json"):
    o = {"summary": summary, "x-almanac-permission": permission, "responses": {**responses, "429": TOO_MANY}}
    if description:
        o["description"] = description
    if params:
        o["parameters"] = params
    if body:
        o["requestBody"] = {"required": True, "content": {body_type: {"schema": body}}}
    if not security:
        o["security"] = []
    return o

def path_param(name, description, schema=None):
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": schema or {"type": "string", "pattern": "^[A-Za-z0-9_.:@-]{1,256}$"}}

NAME = path_param("name", "Registered model name")
VERSION = path_param("version", "Version number", {"type": "integer", "minimum": 1})
KEY = path_param("key", "Series key, e.g. us:realgdp")

number_array = {"type": "array", "items": {"type": "number"}}
levels = {"type": "array", "items": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100},
          "maxItems": 10, "description": "Interval levels in percent, each in (0, 100); default: the package's levels"}
horizon = {"type": "integer", "minimum": 1, "maximum": 10000, "description": "Steps ahead"}
series_info = {"key": {"type": "string"},
               "frequency": {"type": "string", "enum": ["A", "Q", "M", "W", "D", "B"]},
               "title": {"type": "string"}, "unit": {"type": "string"},
               "seasonal_adjustment": {"type": "string"}, "source": {"type": "string"}}
version_sel = {"version": {"type": "integer", "minimum": 1, "description": "A version number (served only if loaded)"},
               "alias": {"type": "string", "enum": ["production", "staging"],
                         "description": "Default production. Give version or alias, not both"}}

schemas = {
    "Error": obj({"code": {"type": "string", "description": "Canonical status code, e.g. INVALID_ARGUMENT"},
                  "message": {"type": "string"},
                  "request_id": {"type": "string"}}, ["code", "message", "request_id"]),
    "ForecastRequest": obj({"model": {"type": "string"}, **version_sel, "horizon": horizon, "levels": levels,
                            "as_of": {"type": "string", "format": "date",
                                      "description": "Refit the version's model spec on the target as known on this date "
                                                     "(not in the future); see docs/serving.md"}},
                           ["model", "horizon"]),
    "PredictRequest": obj({**version_sel, "horizon": horizon, "levels": levels,
                           "history": obj({"start": {"type": "string", "description": "First period, e.g. 2001Q1"},
                                           "values": {"type": "array", "items": {"type": ["number", "null"]},
                                                      "maxItems": 100000}}, ["start", "values"],
                                          description="The model's target series (after the pipeline's transforms), "
                                                      "in the model's frequency; not stored")},
                          ["horizon", "history"]),
    "Interval": obj({"level": {"type": "number"}, "lower": number_array, "upper": number_array}, ["level", "lower", "upper"]),
    "Forecast": obj({"model": {"type": "string"}, "version": {"type": "integer"},
                     "alias": {"type": ["string", "null"], "description": "The alias served under; null when asked by number"},
                     "model_type": {"type": "string"}, "method": {"type": "string"},
                     "frequency": {"type": "string"}, "horizon": {"type": "integer"},
                     "periods": {"type": "array", "items": {"type": "string"}},
                     "mean": number_array,
                     "intervals": {"type": "array", "items": ref("Interval")},
                     "data": {"type": "object",
                              "description": "The data used: snapshot_id, as_of, target, history_end, refit, ... "
                                             "snapshot_id is the content id of the input series the answer was "
                                             "computed from: the version's training snapshot, or with as_of the "
                                             "inputs as known on as_of (the id `almanac snapshot create --series "
                                             "... --as-of` gives them; not stored)"},
                     "package_sha256": {"type": "string"},
                     "notes": {"type": "array", "items": {"type": "string"}},
                     "request_id": {"type": "string"}},
                    ["model", "version", "periods", "mean", "intervals", "data", "request_id"]),
    "ScenarioRequest": obj({
        "series": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 20, "uniqueItems": True,
                   "description": "Series keys, the model's variables in order; read from the store as known on as_of"},
        "model": {"type": "string", "enum": ["var", "bvar"], "description": "Default var"},
        "params": {"type": "object", "additionalProperties": True,
                   "description": "Model parameters as for `almanac var` (e.g. lags, trend, ic; bvar: lambda, draws, ...); "
                                  "lags and max_lags at most 48, grids at most 20 values"},
        "horizon": {"type": "integer", "minimum": 1, "maximum": 500,
                    "description": "Steps ahead; horizon x series at most 500, and the work limits of docs/serving.md"},
        "levels": {**levels, "description": "Interval levels in percent, each in (0, 100); default [80, 95]"},
        "as_of": {"type": "string", "format": "date",
                  "description": "Use the series as known on this date (not in the future); default: everything loaded"},
        "scenarios": {"type": "object", "maxProperties": 10,
                      "description": "Scenario name -> {series key -> path}. A path is an array of horizon entries "
                                     "(a number fixes that step, null leaves it free) or an object {period: number}. "
                                     "{} is the unconditional forecast",
                      "additionalProperties": {"type": "object", "additionalProperties": {"oneOf": [
                          {"type": "array", "items": {"type": ["number", "null"]}},
                          {"type": "object", "additionalProperties": {"type": ["number", "null"]}}]}}}},
        ["series", "horizon"]),
    "VariableForecast": obj({"name": {"type": "string"}, "mean": number_array,
                             "intervals": {"type": "array", "items": ref("Interval")},
                             "conditioned": {"type": "array", "items": {"type": "boolean"},
                                             "description": "Steps fixed by the scenario's path (mean = the path, "
                                                            "lower = upper)"}},
                            ["name", "mean", "intervals", "conditioned"]),
    "MultiForecast": obj({"name": {"type": "string", "description": "The scenario's name (not in baseline)"},
                          "paths": {"type": "object", "description": "The scenario's paths, one entry per step (not in baseline)"},
                          "interval_method": {"type": "string"},
                          "notes": {"type": "array", "items": {"type": "string"}},
                          "variables": {"type": "array", "items": ref("VariableForecast")}},
                         ["interval_method", "notes", "variables"]),
    "ScenarioForecast": obj({"model": {"type": "string"}, "params": {"type": "object"}, "method": {"type": "string"},
                             "series": {"type": "array", "items": {"type": "string"}},
                             "frequency": {"type": "string"}, "horizon": {"type": "integer"}, "levels": number_array,
                             "periods": {"type": "array", "items": {"type": "string"}},
                             "data": {"type": "object", "description": "as_of, start, end, observations, data_sha256 "
                                                                       "(of the series read, as in snapshots)"},
                             "notes": {"type": "array", "items": {"type": "string"},
                                       "description": "The fit's notes, e.g. that the system is not stable"},
                             "baseline": ref("MultiForecast"),
                             "scenarios": {"type": "array", "items": ref("MultiForecast"),
                                           "description": "In name order"},
                             "request_id": {"type": "string"}},
                            ["model", "method", "series", "periods", "data", "baseline", "scenarios", "request_id"]),
    "PromoteRequest": obj({"to": {"type": "string", "enum": ["staging", "production", "archived"],
                                  "description": "Default production"},
                           "reason": {"type": "string", "maxLength": 4096}}),
    "DecisionRequest": obj({"reason": {"type": "string", "maxLength": 4096}}),
    "Promotion": obj({"model": {"type": "string"}, "version": {"type": "integer"}, "stage": {"type": "string"},
                      "applied": {"type": "boolean"}, "needs_approval": {"type": "boolean"},
                      "actor": {"type": "string"}, "request": {"type": ["object", "null"]},
                      "archived_version": {"type": ["integer", "null"]}, "request_id": {"type": "string"}}, extra=True),
    "Object": {"type": "object", "additionalProperties": True},
    # Series (issue 19): one shape for the API and `almanac --format json series ...`; values are
    # columnar, as in forecasts: periods[i] has values[i].
    "SeriesInfo": obj(series_info, list(series_info)),
    "SeriesList": obj({"series": {"type": "array", "items": ref("SeriesInfo")}, "request_id": {"type": "string"}},
                      ["series", "request_id"]),
    "Series": obj({**series_info,
                   "as_of": {"type": ["string", "null"], "format": "date",
                             "description": "The date the values were known on; null: everything loaded"},
                   "periods": {"type": "array", "items": {"type": "string"},
                               "description": "Consecutive periods of the series' frequency, e.g. 2024Q1"},
                   "values": {"type": "array", "items": {"type": ["number", "null"]},
                              "description": "values[i] is the value of periods[i]; null: explicitly missing"},
                   "request_id": {"type": "string"}},
                  [*series_info, "as_of", "periods", "values", "request_id"],
                  description="A series as known on as_of, columnar. `almanac --format json series show KEY "
                              "[--as-of DATE]` prints the same object (without request_id)."),
    "Vintage": obj({"id": {"type": "integer"},
                    "realtime_start": {"type": "string", "format": "date",
                                       "description": "The date the values became known (the provider's vintage date)"},
                    "loaded_at": {"type": ["string", "null"], "format": "date-time", "description": "When almanac stored it"},
                    "loader": {"type": "string"}, "source": {"type": "string"}, "source_sha256": {"type": "string"},
                    "kind": {"type": "string", "enum": ["load", "restate"],
                             "description": "restate: re-records what a later vintage knew when an earlier one was back-filled"},
                    "observations": {"type": "integer", "description": "Values this vintage changed"}},
                   ["id", "realtime_start", "loaded_at", "loader", "source", "source_sha256", "kind", "observations"]),
    "SeriesVintages": obj({"key": {"type": "string"}, "vintages": {"type": "array", "items": ref("Vintage")},
                           "request_id": {"type": "string"}}, ["key", "vintages", "request_id"]),
    # Issue 23: what the Python and R clients need.
    "SeriesHistory": obj({"key": {"type": "string"}, "frequency": series_info["frequency"],
                          "period": {"type": "string", "description": "The period asked for, in the series' own form"},
                          "vintages": {"type": "array", "items": {"type": "integer"},
                                       "description": "The vintage (id) that recorded each value"},
                          "realtime_start": {"type": "array", "items": {"type": "string", "format": "date"},
                                             "description": "The date each value became known"},
                          "loaded_at": {"type": "array", "items": {"type": ["string", "null"], "format": "date-time"}},
                          "values": {"type": "array", "items": {"type": ["number", "null"]},
                                     "description": "null: recorded as explicitly missing"},
                          "request_id": {"type": "string"}},
                         ["key", "frequency", "period", "vintages", "realtime_start", "loaded_at", "values", "request_id"],
                         description="Every value recorded for one period, oldest first (as `almanac series history "
                                     "KEY PERIOD`). A vintage that did not change the period has no entry: the value "
                                     "known on a date is that of the last entry on or before it."),
    "VintageMatrix": obj({"key": {"type": "string"}, "frequency": series_info["frequency"],
                          "periods": {"type": "array", "items": {"type": "string"},
                                      "description": "Consecutive periods covering every column"},
                          "vintages": {"type": "array", "items": {"type": "string", "format": "date"},
                                       "description": "The distinct realtime_start dates of the series' vintages, "
                                                      "oldest first (the latest `limit` of them)"},
                          "values": {"type": "array", "items": {"type": "array", "items": {"type": ["number", "null"]}},
                                     "description": "values[j][i]: periods[i] as known on vintages[j] (column j "
                                                    "equals GET /v1/series/{key}?as_of=vintages[j]); null: not known "
                                                    "yet on that date, or explicitly missing"},
                          "vintages_total": {"type": "integer", "description": "Distinct vintage dates of the series"},
                          "truncated": {"type": "boolean", "description": "true when vintages_total > limit: the "
                                                                          "oldest dates were left out"},
                          "request_id": {"type": "string"}},
                         ["key", "frequency", "periods", "vintages", "values", "vintages_total", "truncated",
                          "request_id"],
                         description="Periods x vintages (ALFRED style), column-major."),
    "SnapshotContent": obj({"id": {"type": "string", "description": "SHA-256 of the canonical content"},
                            "name": {"type": "string"},
                            "as_of": {"type": ["string", "null"], "format": "date",
                                      "description": "The date the data was resolved on; null: everything loaded"},
                            "created_at": {"type": ["string", "null"], "format": "date-time"},
                            "created_by": {"type": "string"},
                            "series": {"type": "array", "items": obj(
                                {"key": {"type": "string"}, "frequency": series_info["frequency"],
                                 "periods": {"type": "array", "items": {"type": "string"}},
                                 "values": {"type": "array", "items": {"type": ["number", "null"]}}},
                                ["key", "frequency", "periods", "values"]), "description": "Sorted by key"},
                            "request_id": {"type": "string"}},
                           ["id", "name", "as_of", "created_at", "created_by", "series", "request_id"]),
    "RunSummary": obj({"id": {"type": "string"}, "experiment": {"type": "string"}, "pipeline": {"type": "string"},
                       "status": {"type": "string", "enum": ["running", "finished", "failed", "killed"]},
                       "start": {"type": ["string", "null"], "format": "date-time"},
                       "end": {"type": ["string", "null"], "format": "date-time"},
                       "user": {"type": "string"}, "host": {"type": "string"},
                       "pipeline_sha256": {"type": "string"}, "snapshot_id": {"type": "string"},
                       "git_commit": {"type": "string"}, "almanac_version": {"type": "string"},
                       "seed": {"type": "integer"}, "error": {"type": "string"},
                       "reproduces": {"type": "string", "description": "The run this one re-runs (\"\" if none)"}},
                      ["id", "experiment", "pipeline", "status", "start", "end", "user", "host", "pipeline_sha256",
                       "snapshot_id", "git_commit", "almanac_version", "seed", "error", "reproduces"]),
    "RunList": obj({"runs": {"type": "array", "items": ref("RunSummary"), "description": "Newest first"},
                    "request_id": {"type": "string"}}, ["runs", "request_id"]),
    "IngestResult": obj({"load_id": {"type": "integer"}, "records": {"type": "integer"},
                         "series": {"type": "integer"}, "series_created": {"type": "integer"},
                         "series_unchanged": {"type": "integer"}, "vintages_created": {"type": "integer"},
                         "observations_written": {"type": "integer"}, "user": {"type": "string"},
                         "vintages": {"type": "array", "items": obj({"series": {"type": "string"},
                                                                     "realtime_start": {"type": "string", "format": "date"},
                                                                     "observations": {"type": "integer"}})},
                         "request_id": {"type": "string"}},
                        ["load_id", "records", "vintages_created", "request_id"]),
}

# GET /v1/runs/{id}: the summary's fields plus the run's records. `timeline` and `log`
# (issue 20) exist only for runs the pipeline runner recorded them for (not older runs).
schemas["RunTimelineStep"] = obj(
    {"step": {"type": "string", "description": "load, validate, transform, train:<model>, evaluate:<model>, register, promote"},
     "start": {"type": "number", "description": "Seconds from the run's start to the step's start"},
     "seconds": {"type": "number", "description": "Duration in seconds (train: including the parallel fit)"},
     "cached": {"type": "boolean", "description": "Outputs served from the step cache"},
     "status": {"type": "string", "enum": ["ok", "failed"]}},
    ["step", "start", "seconds", "cached", "status"])
schemas["RunDetail"] = obj(
    {**schemas["RunSummary"]["properties"],
     "params": {"type": "object", "additionalProperties": {"type": "string"}},
     "metrics": {"type": "object", "additionalProperties": {"type": "number"}, "description": "Latest value per key"},
     "tags": {"type": "object", "additionalProperties": {"type": "string"}},
     "artifacts": {"type": "array", "items": obj({"name": {"type": "string"}, "kind": {"type": "string"},
                                                  "sha256": {"type": "string"}, "size": {"type": "integer"}},
                                                 ["name", "kind", "sha256", "size"])},
     "timeline": {"type": "array", "items": ref("RunTimelineStep"),
                  "description": "The steps in the order they ended (train steps overlap: fitted in parallel)"},
     "log": {"type": "string", "description": "The run's progress lines, at most the last 64 KiB (whole lines)"},
     "log_truncated": {"type": "boolean", "description": "Whether earlier lines were left out of `log`"},
     "records_error": {"type": "string", "description": "Why the timeline or log could not be read (lost, altered)"},
     "request_id": {"type": "string"}},
    schemas["RunSummary"]["required"] + ["params", "metrics", "tags", "artifacts", "request_id"])

paths = {
    "/v1/forecast": {"post": op(
        "Forecast from a served model version", "forecast",
        {**ok(ref("Forecast")), **errors("400", "401", "403", "404", "409", "413", "503")},
        body=ref("ForecastRequest"),
        description="Default: the production version. Identical requests are answered from a bounded cache "
                    "(header X-Cache: hit) until a new version or new data arrives.")},
    "/v1/models/{name}/predict": {"post": op(
        "Refit the version's model spec on caller-supplied history (what-if; nothing is stored)", "predict",
        {**ok(ref("Forecast")), **errors("400", "401", "403", "404", "413", "503")},
        params=[NAME], body=ref("PredictRequest"))},
    "/v1/scenarios": {"post": op(
        "Scenario (conditional) forecasts from a VAR or BVAR fitted on stored series", "predict",
        {**ok(ref("ScenarioForecast")), **errors("400", "401", "403", "404", "409", "413", "503")},
        body=ref("ScenarioRequest"),
        description="Fits the model on the series as known on as_of and returns the unconditional baseline and, "
                    "for each scenario, the forecast conditional on its paths (Waggoner-Zha hard conditions: the "
                    "fixed steps equal the path exactly). Nothing is stored; answers are not cached.")},
    "/v1/ingest": {"post": op(
        "Push observations (NDJSON) into the store as new vintages", "ingest",
        {**ok(ref("IngestResult"), "Stored (vintages_created 0: nothing new)"), **errors("400", "401", "403", "413", "503")},
        params=[{"name": "source", "in": "query", "required": False,
                 "description": "A label recorded as the load's source (push:LABEL)",
                 "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.:@-]{1,256}$"}}],
        body={"type": "string", "description": "One JSON record per line"}, body_type="application/x-ndjson",
        description="Each line: {\"series\": KEY, \"period\": \"2024-01\", \"value\": 1.5 | null, "
                    "\"realtime_start\": \"2024-02-01\" (optional), \"frequency\": \"M\" (optional)}. One request "
                    "is one batch, stored as one load in one transaction (one vintage per series per "
                    "realtime_start) and audited with the token's user. A bad line refuses the whole batch, naming "
                    "the line; nothing is stored.")},
    "/v1/series": {"get": op("Series and their metadata", "read",
                             {**ok(ref("SeriesList")), **errors("401", "403", "503")})},
    "/v1/series/{key}": {"get": op(
        "A series as known on a date", "read",
        {**ok(ref("Series")), **errors("400", "401", "403", "404", "503")},
        params=[KEY, {"name": "as_of", "in": "query", "required": False,
                      "description": "YYYY-MM-DD, not in the future (default: everything loaded)",
                      "schema": {"type": "string", "format": "date"}}])},
    "/v1/series/{key}/vintages": {"get": op("A series' vintages", "read",
                                            {**ok(ref("SeriesVintages")), **errors("400", "401", "403", "404", "503")},
                                            params=[KEY])},
    "/v1/series/{key}/history": {"get": op(
        "Every value recorded for one period of a series, oldest first", "read",
        {**ok(ref("SeriesHistory")), **errors("400", "401", "403", "404", "503")},
        params=[KEY, {"name": "period", "in": "query", "required": True,
                      "description": "A period of the series' frequency, e.g. 2009Q3, 2024-03, or the ISO date of its "
                                     "first day",
                      "schema": {"type": "string"}}])},
    "/v1/series/{key}/vintage-matrix": {"get": op(
        "Periods x vintages (ALFRED style): the series as known on each vintage date", "read",
        {**ok(ref("VintageMatrix")), **errors("400", "401", "403", "404", "503")},
        params=[KEY, {"name": "limit", "in": "query", "required": False,
                      "description": "At most this many vintage dates, the latest (default 100). A matrix over "
                                     "2,000,000 cells (periods x vintages) is refused (400): ask for fewer",
                      "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}])},
    "/v1/snapshots/{id}": {"get": op(
        "A stored snapshot's content: its series as resolved when it was created", "read",
        {**ok(ref("SnapshotContent")), **errors("400", "401", "403", "404", "503")},
        params=[path_param("id", "Snapshot content id: 64 lowercase hex digits, or a unique prefix of at least 6",
                           {"type": "string", "pattern": "^[0-9a-f]{6,64}$"})])},
    "/v1/models": {"get": op("Registered models and the versions this server serves", "read",
                             {**ok(ref("Object")), **errors("401", "403", "503")})},
    "/v1/models/{name}": {"get": op("One model: owner, policy, card, promotion requests, served versions", "read",
                                    {**ok(ref("Object")), **errors("400", "401", "403", "404", "503")},
                                    params=[NAME])},
    "/v1/models/{name}/versions": {"get": op("A model's versions", "read",
                                             {**ok(ref("Object")), **errors("400", "401", "403", "404", "503")},
                                             params=[NAME])},
    "/v1/runs": {"get": op(
        "Tracked runs, newest first (as `almanac runs list`)", "read",
        {**ok(ref("RunList")), **errors("400", "401", "403", "503")},
        params=[{"name": "experiment", "in": "query", "required": False, "schema": {"type": "string"}},
                {"name": "pipeline", "in": "query", "required": False, "schema": {"type": "string"}},
                {"name": "status", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": ["running", "finished", "failed", "killed"]}},
                {"name": "limit", "in": "query", "required": False, "description": "Default 100",
                 "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}],
        description="Read-only: a run whose process died shows as the store has it (`almanac runs list` marks "
                    "such runs killed first).")},
    "/v1/runs/{id}": {"get": op("One tracked run: context, parameters, latest metrics, tags, artifacts, steps, log", "read",
                                {**ok(ref("RunDetail")), **errors("400", "401", "403", "404", "503")},
                                params=[path_param("id", "Run id")])},
    "/v1/lineage/{name}/{version}": {"get": op(
        "Lineage: vintages, snapshot, run, artifacts, version, approvals, audit entries", "read",
        {**ok(ref("Object")), **errors("400", "401", "403", "404", "503")}, params=[NAME, VERSION])},
    "/v1/models/{name}/versions/{version}/promote": {"post": op(
        "Request a stage change (production needs an approval by someone else under four-eyes)", "promote",
        {**ok(ref("Promotion"), "Applied"), **ok(ref("Promotion"), "Waiting for approval", "202"),
         **errors("400", "401", "403", "404", "409", "503")},
        params=[NAME, VERSION], body=ref("PromoteRequest"),
        description="Audited with the token's user as the actor. The body may be empty.")},
    "/v1/models/{name}/versions/{version}/approve": {"post": op(
        "Approve a pending promotion (not by its requester: 409)", "approve",
        {**ok(ref("Promotion")), **errors("400", "401", "403", "404", "409", "503")},
        params=[NAME, VERSION], body=ref("DecisionRequest"))},
    "/v1/models/{name}/versions/{version}/reject": {"post": op(
        "Reject a pending promotion", "approve",
        {**ok(ref("Promotion")), **errors("400", "401", "403", "404", "409", "503")},
        params=[NAME, VERSION], body=ref("DecisionRequest"))},
    "/healthz": {"get": op("The process is alive", "public",
                           ok(obj({"status": {"type": "string"}}, ["status"])), security=False)},
    "/readyz": {"get": op("The store is reachable and every version the policy wants is loaded", "public",
                          {**ok(ref("Object")), "503": {"description": "Not ready (same body)",
                                                        "content": {"application/json": {"schema": ref("Object")}}}},
                          security=False)},
    "/metrics": {"get": op("Prometheus metrics (text exposition format 0.0.4)", "public",
                           {"200": {"description": "OK", "content": {"text/plain": {"schema": {"type": "string"}}}}},
                           security=False)},
    "/openapi.json": {"get": op("This document", "public", ok(ref("Object")), security=False)},
}

# Issue 20, the web console (src/serve/api_ui.cc; its files under /ui/ are not API routes).
paths.update({
    "/v1/audit": {"get": op(
        "The audit log, newest first, with filters, and whether its hash chain verifies", "read",
        {**ok(obj({"entries": {"type": "array", "items": ref("Object")},
                   "matched": {"type": "integer", "description": "entries matching the filters"},
                   "total": {"type": "integer"},
                   "verify": obj({"intact": {"type": "boolean"}, "entries": {"type": "integer"},
                                  "head_hash": {"type": "string"},
                                  "message": {"type": "string", "description": "the first bad entry, when broken"}},
                                 ["intact"]),
                   "request_id": {"type": "string"}}, ["entries", "matched", "total", "verify", "request_id"])),
         **errors("400", "401", "403", "503")},
        params=[{"name": "actor", "in": "query", "required": False, "schema": {"type": "string"}},
                {"name": "action", "in": "query", "required": False, "description": "A prefix: model. matches model.*",
                 "schema": {"type": "string"}},
                {"name": "object", "in": "query", "required": False,
                 "description": "An object type, or text in the object id", "schema": {"type": "string"}},
                {"name": "limit", "in": "query", "required": False, "description": "Default 200",
                 "schema": {"type": "integer", "minimum": 1, "maximum": 10000}}],
        description="Entries as `almanac audit list` shows them; verify is `almanac audit verify` "
                    "(intact, or the message naming the first bad entry).")},
    "/v1/whoami": {"get": op(
        "The user and role the bearer token acts as", "read",
        {**ok(obj({"user": {"type": "string"}, "role": {"type": "string"},
                   "expires_at": {"type": ["string", "null"]}, "request_id": {"type": "string"}},
                  ["user", "role", "expires_at", "request_id"])),
         **errors("401", "403")})},
    "/v1/snapshots": {"get": op(
        "Stored snapshots, newest first (as `almanac snapshot list`); GET /v1/snapshots/{id} has the content", "read",
        {**ok(obj({"snapshots": {"type": "array", "items": obj(
                       {"id": {"type": "string"}, "name": {"type": "string"}, "as_of": {"type": ["string", "null"]},
                        "created_at": {"type": ["string", "null"]}, "created_by": {"type": "string"},
                        "series": {"type": "integer"}, "observations": {"type": "integer"}})},
                   "total": {"type": "integer"}, "request_id": {"type": "string"}},
                  ["snapshots", "total", "request_id"])),
         **errors("400", "401", "403", "503")},
        params=[{"name": "limit", "in": "query", "required": False, "description": "Default 1000",
                 "schema": {"type": "integer", "minimum": 1, "maximum": 10000}}])},
})

# Open Inference Protocol (KServe V2) REST, issue 22 (docs/interop.md). Its errors are the
# protocol's {"error": "..."} with the same statuses as the rest of the API.
def v2_errors(*codes):
    return {c: {**e, "content": {"application/json": {"schema": ref("V2Error")}}} for c, e in errors(*codes).items()}

V2_VERSION = path_param("version", "Model version number (default, without /versions/: the served production version)",
                        {"type": "string", "pattern": "^[1-9][0-9]*$"})
v2_parameters = {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]},
                 "description": "$parameters: name -> string, number or boolean"}
v2_tensor_meta = obj({"name": {"type": "string"},
                      "datatype": {"type": "string", "enum": ["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8",
                                                              "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES"]},
                      "shape": {"type": "array", "items": {"type": "integer"}, "description": "-1: variable size"}},
                     ["name", "datatype", "shape"])
schemas.update({
    "V2Error": obj({"error": {"type": "string"}}, ["error"],
                   description="The Open Inference Protocol's error object (the request id is in X-Request-Id)"),
    "V2ServerMetadata": obj({"name": {"type": "string"}, "version": {"type": "string"},
                             "extensions": {"type": "array", "items": {"type": "string"}}},
                            ["name", "version", "extensions"]),
    "V2TensorMetadata": v2_tensor_meta,
    "V2ModelMetadata": obj({"name": {"type": "string"},
                            "versions": {"type": "array", "items": {"type": "string"},
                                         "description": "The versions of the model this server serves"},
                            "platform": {"type": "string", "description": "almanac_ + the model type, e.g. almanac_auto_ets"},
                            "inputs": {"type": "array", "items": ref("V2TensorMetadata"),
                                       "description": "horizon (INT32 [1]), as_of (BYTES [1]), levels (FP64 [-1])"},
                            "outputs": {"type": "array", "items": ref("V2TensorMetadata"),
                                        "description": "mean, lower_L and upper_L for the package's levels L "
                                                       "(FP64 [-1]), periods (BYTES [-1])"},
                            "parameters": v2_parameters},
                           ["name", "platform", "inputs", "outputs"]),
    "V2InferInput": obj({"name": {"type": "string", "enum": ["horizon", "as_of", "levels"]},
                         "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                         "datatype": {"type": "string"},
                         "parameters": v2_parameters,
                         "data": {"type": "array", "description": "Row-major, flat or nested"}},
                        ["name", "shape", "datatype", "data"],
                        description="horizon: INT32 or INT64, shape [1], 1..10000. as_of: BYTES, shape [1], "
                                    "YYYY-MM-DD, not in the future (refit on the data known then, as /v1/forecast). "
                                    "levels: FP64 or FP32, shape [k], 1 <= k <= 10, each in (0, 100)"),
    "V2InferRequest": obj({"id": {"type": "string", "description": "Echoed in the response"},
                           "parameters": v2_parameters,
                           "inputs": {"type": "array", "items": ref("V2InferInput"), "minItems": 1},
                           "outputs": {"type": "array", "items": obj({"name": {"type": "string"},
                                                                      "parameters": v2_parameters}, ["name"]),
                                       "description": "The outputs wanted, in this order (default: all)"}},
                          ["inputs"]),
    "V2Tensor": obj({"name": {"type": "string"}, "shape": {"type": "array", "items": {"type": "integer"}},
                     "datatype": {"type": "string"}, "parameters": v2_parameters,
                     "data": {"type": "array", "items": {"type": ["number", "string"]}}},
                    ["name", "shape", "datatype", "data"]),
    "V2InferResponse": obj({"model_name": {"type": "string"}, "model_version": {"type": "string"},
                            "id": {"type": "string", "description": "The request's id, when it had one"},
                            "parameters": {**v2_parameters, "description": "The request's parameters, passed back"},
                            "outputs": {"type": "array", "items": ref("V2Tensor")}},
                           ["model_name", "model_version", "outputs"]),
})

def v2_model(summary, *, version):
    params = [NAME, V2_VERSION] if version else [NAME]
    return {"get": op(summary, "read", {**ok(ref("V2ModelMetadata")), **v2_errors("400", "401", "403", "404")},
                      params=params)}

def v2_ready(version):
    return {"get": op("Whether the model (version) is ready for inference", "read",
                      {**ok(obj({"name": {"type": "string"}, "version": {"type": "string"},
                                 "ready": {"type": "boolean"}}, ["name", "version", "ready"]), "Ready"),
                       **{"400": {"description": "Known but not ready (loading, or failed to load)",
                                  "content": {"application/json": {"schema": ref("V2Error")}}}},
                       **v2_errors("401", "403", "404")},
                      params=[NAME, V2_VERSION] if version else [NAME])}

def v2_infer(version):
    return {"post": op(
        "Open Inference Protocol inference: a forecast, as POST /v1/forecast answers it", "forecast",
        {**ok(ref("V2InferResponse")), **v2_errors("400", "401", "403", "404", "409", "413", "503")},
        params=[NAME, V2_VERSION] if version else [NAME], body=ref("V2InferRequest"),
        description="The same numbers, cache, metrics and roles as POST /v1/forecast with the same model, "
                    "version, horizon, levels and as_of. Outputs: mean, lower_L, upper_L per level (FP64, shape "
                    "[horizon]) and periods (BYTES). The binary tensor data extension is not supported.")}

paths.update({
    "/v2": {"get": op("Open Inference Protocol server metadata", "public", ok(ref("V2ServerMetadata")), security=False)},
    "/v2/health/live": {"get": op("Open Inference Protocol liveness", "public",
                                  ok(obj({"live": {"type": "boolean"}}, ["live"])), security=False)},
    "/v2/health/ready": {"get": op(
        "Open Inference Protocol readiness (as /readyz)", "public",
        {**ok(obj({"ready": {"type": "boolean"}}, ["ready"])),
         "400": {"description": "Not ready (the protocol's 4xx)", "content": {"application/json": {"schema": ref("V2Error")}}}},
        security=False)},
    "/v2/models/{name}": v2_model("Open Inference Protocol model metadata (the served production version)", version=False),
    "/v2/models/{name}/versions/{version}": v2_model("Open Inference Protocol model metadata of one version",
                                                     version=True),
    "/v2/models/{name}/ready": v2_ready(False),
    "/v2/models/{name}/versions/{version}/ready": v2_ready(True),
    "/v2/models/{name}/infer": v2_infer(False),
    "/v2/models/{name}/versions/{version}/infer": v2_infer(True),
})
for path, item in paths.items():
    if path == "/v2" or path.startswith("/v2/"):
        for operation in item.values():  # the per-client limits answer in the protocol's shape too
            operation["responses"]["429"] = {**TOO_MANY, "content": {"application/json": {"schema": ref("V2Error")}}}
# ---- Issue 22: MLflow's tracking and model-registry REST API (src/serve/api_mlflow.cc), under
# both of MLflow's prefixes. Bodies and answers are MLflow's (its REST API reference); errors are
# {error_code, message}. GET requests take their fields in the query string.
schemas["MlflowError"] = obj({"error_code": {"type": "string", "description": "e.g. RESOURCE_DOES_NOT_EXIST, "
                                             "INVALID_PARAMETER_VALUE, RESOURCE_ALREADY_EXISTS, INVALID_STATE"},
                              "message": {"type": "string"}}, ["error_code", "message"])
MLFLOW_ERRORS = {c: {"description": d, "content": {"application/json": {"schema": ref("MlflowError")}}}
                 for c, d in {"400": "INVALID_PARAMETER_VALUE, RESOURCE_ALREADY_EXISTS or INVALID_STATE",
                              "401": "UNAUTHENTICATED: missing or invalid Bearer token or Basic credentials",
                              "403": "PERMISSION_DENIED: the token's role may not do this",
                              "404": "RESOURCE_DOES_NOT_EXIST (or ENDPOINT_NOT_FOUND)"}.items()}
MLFLOW = [
    ("post", "experiments/create", "ingest", "Create an experiment"),
    ("get", "experiments/get", "read", "An experiment by experiment_id"),
    ("get", "experiments/get-by-name", "read", "An experiment by experiment_name"),
    ("post", "experiments/search", "read", "Search experiments (filter, order_by, max_results, page_token)"),
    ("get", "experiments/search", "read", "Search experiments (query-string form)"),
    ("get", "experiments/list", "read", "List experiments (older clients)"),
    ("post", "experiments/update", "ingest", "Rename an experiment"),
    ("post", "experiments/delete", "ingest", "Mark an experiment deleted"),
    ("post", "experiments/restore", "ingest", "Restore a deleted experiment"),
    ("post", "experiments/set-experiment-tag", "ingest", "Set a tag on an experiment"),
    ("post", "runs/create", "ingest", "Create a run (an ordinary almanac run)"),
    ("get", "runs/get", "read", "A run by run_id (or run_uuid)"),
    ("post", "runs/update", "ingest", "Update a run's status, end time or name"),
    ("post", "runs/delete", "ingest", "Mark a run deleted"),
    ("post", "runs/restore", "ingest", "Restore a deleted run"),
    ("post", "runs/search", "read", "Search runs with MLflow's filter grammar, order_by and page tokens"),
    ("post", "runs/log-metric", "ingest", "Log a metric (NaN and +-Infinity accepted)"),
    ("post", "runs/log-parameter", "ingest", "Log a parameter"),
    ("post", "runs/log-batch", "ingest", "Log up to 1000 metrics, 100 params and 100 tags (1000 in total) at once"),
    ("post", "runs/set-tag", "ingest", "Set a tag on a run"),
    ("post", "runs/delete-tag", "ingest", "Delete a tag of a run"),
    ("get", "metrics/get-history", "read", "Every value of a metric of a run"),
    ("get", "artifacts/list", "read", "A run's artifacts"),
    ("post", "registered-models/create", "promote", "Create a registered model"),
    ("get", "registered-models/get", "read", "A registered model with its latest versions"),
    ("get", "registered-models/search", "read", "Search registered models by name"),
    ("patch", "registered-models/update", "promote", "Update a registered model's description"),
    ("post", "registered-models/get-latest-versions", "read", "The latest version per stage"),
    ("get", "registered-models/get-latest-versions", "read", "The latest version per stage (query-string form)"),
    ("post", "model-versions/create", "promote", "Create a model version from an almanac run"),
    ("get", "model-versions/get", "read", "A model version"),
    ("get", "model-versions/search", "read", "Search model versions (name, run_id, source)"),
    ("patch", "model-versions/update", "promote", "Update a model version's description"),
    ("post", "model-versions/transition-stage", "promote",
     "Move a version to a stage; to Production of a four-eyes model it records a request (tag almanac.approval="
     "pending) that a second person approves"),
    # Issue 22, second part: rename, delete, tags, aliases. DELETE bodies are JSON objects (as
    # MLflow's clients send them); the query string works too.
    ("post", "registered-models/rename", "promote",
     "Rename a registered model (refused when a version was approved, is pending or may have been served)"),
    ("delete", "registered-models/delete", "promote",
     "Delete a registered model with its versions (refused when a version was approved, is pending or may have been "
     "served)"),
    ("post", "registered-models/set-tag", "promote", "Set a tag on a registered model (keys almanac.* are reserved)"),
    ("delete", "registered-models/delete-tag", "promote", "Delete a tag of a registered model"),
    ("post", "registered-models/alias", "promote", "Point an alias at a version (name, alias, version)"),
    ("delete", "registered-models/alias", "promote", "Delete an alias"),
    ("get", "registered-models/alias", "read", "The version an alias points at: {model_version}"),
    ("delete", "model-versions/delete", "promote",
     "Delete a version (a tombstone; refused when approved, pending, in Production, archived or it issued forecasts)"),
    ("post", "model-versions/set-tag", "promote", "Set a tag on a model version (keys almanac.* are reserved)"),
    ("delete", "model-versions/delete-tag", "promote", "Delete a tag of a model version"),
]
for prefix in ("/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/"):
    for method, path, permission, summary in MLFLOW:
        o = op(summary, permission, {**ok(ref("Object")), **MLFLOW_ERRORS},
               body=ref("Object") if method != "get" else None,
               description="MLflow REST API (docs/interop.md); fields, answers and errors as MLflow's reference")
        o["security"] = [{"bearer": []}, {"basic": []}]
        if method == "delete":
            o["requestBody"]["required"] = False  # the fields may come in the query string instead
        paths.setdefault(prefix + path, {})[method] = o


# Investment risk (issue 24; docs/risk.md, "REST"): POST /v1/risk/portfolio.
schemas.update({
    "RiskPortfolioRequest": obj({
        "series": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 20, "uniqueItems": True,
                   "description": "The macro model's series keys, read from the store as known on as_of; default: "
                                  "the scenarios' series list"},
        "as_of": {"type": "string", "format": "date",
                  "description": "Use the series as known on this date (not in the future)"},
        "model": {"type": "string",
                  "description": "var or bvar (default: the scenarios' model, else var), or NAME@VERSION as "
                                 "registered_model"},
        "registered_model": {"type": "string",
                             "description": "NAME@VERSION (a number, production, staging or latest) of a var/bvar "
                                            "registered with `almanac var ... --register`: simulated as fitted, no "
                                            "refit; the series default to its variables; 404 for an unknown model "
                                            "or version, 409 for a univariate one"},
        "params": {"type": "object", "additionalProperties": True,
                   "description": "Model parameters as for `almanac var`, over the scenarios' (lags at most 12); "
                                  "not with registered_model"},
        "positions": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "object"}},
                                {"type": "object"}],
                      "description": "CSV text (asset, exposure, currency?, id?) or JSON: an array of "
                                     "{asset, exposure, currency?, id?} or {positions: [...]}; at most 10000"},
        "returns": {"type": "string",
                    "description": "Asset return history as CSV text: period,ASSET1,ASSET2,... (one of returns "
                                   "and return_series)"},
        "return_series": {"type": "object", "additionalProperties": {"type": "string"},
                          "description": "Asset -> series key of its return history in the store (as of as_of; "
                                         "the periods where every asset has a value; assets in name order)"},
        "fx": {"oneOf": [{"type": "string"}, {"type": "object", "additionalProperties": {"type": "number"}}],
               "description": "CSV text currency,rate or {currency: rate}: units of base_currency per unit"},
        "base_currency": {"type": "string", "description": "Default USD"},
        "scenarios": {"oneOf": [{"type": "string"}, {"type": "object"}],
                      "description": "The scenario YAML of `almanac scenario` as text, or its mapping as JSON "
                                     "(horizon, series, model, scenarios: {name: {description, paths}}); at most "
                                     "10 scenarios. Absent: one unconditional run"},
        "only": {"type": "array", "items": {"type": "string"}, "description": "Run only these scenarios"},
        "factors": {"type": "array", "items": {"type": "string"},
                    "description": "Model variables used as factors (default: all)"},
        "factor_changes": {"type": "boolean", "description": "Regress on the factors' period changes"},
        "nw_lags": {"type": "integer", "minimum": -1, "maximum": 100,
                    "description": "Newey-West lags (-1: the default rule)"},
        "paths": {"type": "integer", "minimum": 2, "maximum": 100000,
                  "description": "Paths per scenario, default 10000; scenarios x paths x horizon at most 800000"},
        "horizon": {"type": "integer", "minimum": 1, "description": "Default: the scenarios', else 8"},
        "shocks": {"type": "string", "enum": ["gaussian", "t", "bootstrap"], "description": "Default gaussian"},
        "shock_dof": {"type": "number"},
        "model_parameter_uncertainty": {"type": "boolean", "description": "bvar: posterior draws per path"},
        "parameter_uncertainty": {"type": "boolean", "description": "Draw factor coefficients per path (default true)"},
        "residuals": {"type": "boolean", "description": "Add asset residuals (default true)"},
        "levels": {"type": "array", "items": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
                   "minItems": 1, "maxItems": 5, "description": "Confidence levels in (0, 1); default [0.95, 0.99]"},
        "t_dof": {"type": "number", "description": "Student-t degrees of freedom of the parametric method (> 2)"},
        "seed": {"type": "integer", "minimum": 0, "description": "Default 42; the answer depends only on the inputs "
                                                                  "and the seed"}},
        ["positions"]),
    "RiskPortfolio": obj({
        "macro_model": {"type": "object"}, "factor_model": {"type": "object"},
        "historical": {"type": "array", "items": {"type": "object"}},
        "scenarios": {"type": "array", "items": {"type": "object"},
                      "description": "Per scenario: horizons with mean, point, percentiles, histogram and "
                                     "figures (monte_carlo, normal, t per level, with contributions)"},
        "inputs": {"type": "object", "description": "SHA-256 of each input, the series and as_of"},
        "settings": {"type": "object"}, "request_id": {"type": "string"}},
        ["macro_model", "factor_model", "historical", "scenarios", "inputs", "settings", "request_id"],
        extra=True, description="The report of `almanac risk portfolio -o` (risk::StressTestJson)"),
})
paths.update({
    "/v1/risk/portfolio": {"post": op(
        "Stress test of a portfolio: VaR/ES per scenario and horizon from a VAR/BVAR on stored series", "predict",
        {**ok(ref("RiskPortfolio")), **errors("400", "401", "403", "404", "409", "413", "503")},
        body=ref("RiskPortfolioRequest"),
        description="What `almanac risk portfolio` computes, with the files' content in the request. Bad input "
                    "(unknown assets, duplicated or non-numeric exposures, scenarios naming unknown variables or of "
                    "the wrong length, too few observations, too many paths) is a 400 naming the place. Nothing is "
                    "stored; answers are not cached.")},
})

# Investment risk (issue 24; docs/risk.md, "REST"): POST /v1/risk/var-backtest.
schemas.update({
    "RiskVarBacktestRequest": obj({
        "series": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 20, "uniqueItems": True,
                   "description": "The macro model's series keys; at each origin read as known on the first day "
                                  "after it (vintages)"},
        "as_of": {"type": "string", "format": "date",
                  "description": "Read return_series as known on this date (default: latest)"},
        "model": {"type": "string", "enum": ["var", "bvar"], "description": "Default var"},
        "params": {"type": "object", "additionalProperties": True,
                   "description": "Model parameters as for `almanac var` (lags at most 12)"},
        "positions": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "object"}},
                                {"type": "object"}],
                      "description": "As for /v1/risk/portfolio"},
        "returns": {"type": "string", "description": "CSV text period,ASSET1,... (one of returns and return_series)"},
        "return_series": {"type": "object", "additionalProperties": {"type": "string"},
                          "description": "Asset -> series key of its return history in the store"},
        "fx": {"oneOf": [{"type": "string"}, {"type": "object", "additionalProperties": {"type": "number"}}]},
        "base_currency": {"type": "string", "description": "Default USD"},
        "factors": {"type": "array", "items": {"type": "string"},
                    "description": "Model variables used as factors (default: all)"},
        "factor_changes": {"type": "boolean"},
        "nw_lags": {"type": "integer", "minimum": -1, "maximum": 100},
        "from": {"type": "string", "description": "First origin period, e.g. 2005Q1"},
        "to": {"type": "string", "description": "Last origin period (its as-of date not in the future)"},
        "level": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1, "description": "Default 0.99"},
        "paths": {"type": "integer", "minimum": 2, "maximum": 100000,
                  "description": "Paths per origin, default 2000; origins x paths at most 800000"},
        "parameter_uncertainty": {"type": "boolean"}, "residuals": {"type": "boolean"},
        "t_dof": {"type": "number"}, "seed": {"type": "integer", "minimum": 0, "description": "Default 42"}},
        ["positions", "series", "from", "to"]),
    "RiskVarBacktest": obj({
        "inputs": {"type": "object", "description": "SHA-256 of each input, the series and as_of"},
        "settings": {"type": "object"},
        "points": {"type": "array", "items": {"type": "object"},
                   "description": "Per origin: origin, as_of, target, var, es, pnl, exception"},
        "skipped": {"type": "array", "items": {"type": "string"},
                    "description": "Origins without a realised return for their target period"},
        "backtest": {"type": "object",
                     "description": "observations, exceptions, expected_exceptions, Kupiec, Christoffersen "
                                    "independence and conditional coverage (LR and p), zone (risk::AsOfBacktestJson, as the "
                                    "CLI and the pipeline's var_backtest.json)"},
        "request_id": {"type": "string"}},
        ["inputs", "settings", "points", "skipped", "backtest", "request_id"],
        description="What `almanac --format json risk var-backtest` prints"),
})
paths.update({
    "/v1/risk/var-backtest": {"post": op(
        "As-of VaR backtest of a portfolio: the one-step VaR at each origin from the vintages known then, "
        "Kupiec, Christoffersen and the Basel zone", "predict",
        {**ok(ref("RiskVarBacktest")), **errors("400", "401", "403", "404", "409", "413", "503")},
        body=ref("RiskVarBacktestRequest"),
        description="What `almanac risk var-backtest` computes (risk::BacktestPortfolioAsOf), with the files' "
                    "content in the request. Bad input is a 400 naming the place, an unknown series a 404. "
                    "Nothing is stored; answers are not cached.")},
})

# Nowcasting (issue 25; docs/nowcasting.md, "Platform"): GET /v1/nowcast/{model}.
nowcast_news = obj({
    "compare_run": {"type": "string", "description": "The earlier run whose vintage the change is measured from"},
    "compare_snapshot": {"type": "string"}, "compare_as_of": {"type": ["string", "null"], "format": "date"},
    "old_value": {"type": "number"}, "new_value": {"type": "number"}, "change": {"type": "number"},
    "revision_impact": {"type": "number", "description": "The effect of revised values"},
    "news_impact": {"type": "number", "description": "The sum of the releases' impacts"},
    "revised": {"type": "array", "items": {"type": "string"}, "description": "series@period of each revision"},
    "releases": {"type": "array", "items": obj({
        "series": {"type": "string"}, "period": {"type": "string"}, "actual": {"type": "number"},
        "forecast": {"type": "number"}, "news": {"type": "number"}, "weight": {"type": "number"},
        "impact": {"type": "number", "description": "news x weight"}},
        ["series", "period", "actual", "forecast", "news", "weight", "impact"])}},
    ["compare_run", "compare_snapshot", "compare_as_of", "old_value", "new_value", "change", "revision_impact",
     "news_impact", "revised", "releases"])
schemas.update({
    "Nowcast": obj({
        "name": {"type": "string", "description": "The nowcast pipeline's name"},
        "run_id": {"type": "string"}, "finished": {"type": ["string", "null"]},
        "type": {"type": "string", "enum": ["dfm_nowcast"]},
        "target": {"type": "string"}, "quarter": {"type": "string"},
        "as_of": {"type": ["string", "null"], "format": "date",
                  "description": "The as-of date of the data (null: the latest data when the run read it)"},
        "snapshot_id": {"type": "string"},
        "nowcast": obj({"value": {"type": "number"}, "std_error": {"type": "number"}}, ["value", "std_error"]),
        "model": obj({"variables": {"type": "array", "items": {"type": "string"}},
                      "factors": {"type": "array", "items": {"type": "string"}},
                      "sample": {"type": "string"}, "iterations": {"type": "integer"},
                      "converged": {"type": "boolean"}, "loglik": {"type": "number"},
                      "notes": {"type": "array", "items": {"type": "string"}}},
                     ["variables", "factors", "sample", "iterations", "converged", "loglik", "notes"]),
        "news": {"oneOf": [nowcast_news, {"type": "null"}],
                 "description": "The change since the previous run's vintage: revisions and each release's news, "
                                "weight and impact (null for a pipeline's first run)"},
        "request_id": {"type": "string"}},
        ["name", "run_id", "finished", "type", "target", "quarter", "as_of", "snapshot_id", "nowcast", "model", "news",
         "request_id"]),
})
paths.update({
    "/v1/nowcast/{model}": {"get": op(
        "The latest nowcast of a nowcast pipeline, with its news decomposition", "predict",
        {**ok(ref("Nowcast")), **errors("400", "401", "403", "404", "503")},
        params=[path_param("model", "The nowcast pipeline's name (a pipeline file with a nowcast: section)"),
                {"name": "as_of", "in": "query", "required": False,
                 "description": "The newest nowcast made on data as known on this date (not in the future)",
                 "schema": {"type": "string", "format": "date"}}],
        description="What the newest finished run of the pipeline stored (its nowcast.json artifact, as "
                    "`almanac nowcast --format json` prints it). 404 for a name with no such run.")},
})

doc = {
    "openapi": "3.1.0",
    "info": {"title": "almanac serve", "version": "1",
             "description": "Projections from the production versions of the model registry, the registry, "
                            "tracking and data, with bearer-token roles. Roles: viewer (read, forecast), analyst "
                            "(+ predict, scenarios, ingest), modeler (+ promote), approver (predict, scenarios + "
                            "approve/reject; not ingest), admin "
                            "(everything). x-almanac-permission names what each operation needs. Errors are "
                            "{code, message, request_id}. Every response carries X-Request-Id and a W3C traceparent "
                            "(the caller's trace when its traceparent is valid, with its tracestate passed back)."},
    "servers": [{"url": "http://127.0.0.1:8080"}],
    "security": [{"bearer": []}],
    "paths": paths,
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                  "description": "almanac tokens create --role ROLE --user NAME"},
                                       "basic": {"type": "http", "scheme": "basic",
                                                 "description": "MLflow routes: user = the token's user, "
                                                                "password = the token"}},
                   "schemas": schemas},
}
print(json.dumps(doc, indent=2))
