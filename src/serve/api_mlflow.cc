// MLflow's tracking and model-registry REST API (issue 22), under /api/2.0/mlflow/ and
// /ajax-api/2.0/mlflow/, written from MLflow's REST API reference: the same request fields
// (GET parameters in the query string, `run_uuid` accepted beside `run_id`), response shapes,
// defaults and limits. Errors are rendered by HttpApi::Error in MLflow's
// {"error_code", "message"} shape (RouteInfo::error_format == ErrorFormat::kMlflow).
//
// Runs logged here are ordinary almanac runs (RunRecord): `almanac runs list` and /v1/runs show
// them. Every write is one store transaction with its audit entry, actor = the caller, so a
// refused request changes nothing. What differs from MLflow (docs/interop.md): a
// transition-stage to Production of a model with four-eyes policy records a promotion request
// and answers with the version still in its old stage plus the tag almanac.approval=pending;
// a second user's approval (/v1/models/{name}/versions/{v}/approve or `almanac registry
// approve`) moves it. A model version needs an almanac run (run_id), one version per run.
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <set>

#include "almanac/core/hash.h"
#include "almanac/registry.h"
#include "almanac/tracking.h"

#include "serve/api_common.h"
#include "serve/json_out.h"
#include "serve/mlflow_filter.h"

namespace almanac::serve {
// The helpers live in namespace mlflow (this family's own, with the filter grammar), not an
// anonymous one: unity builds put several files of serve into one translation unit.
namespace mlflow {

using store::ExperimentRecord;
using store::MetadataTxn;
using store::MetricPoint;
using store::RunRecord;
using store::RunStatus;

// MLflow's LogBatch limits.
constexpr size_t kMaxBatchMetrics = 1000;
constexpr size_t kMaxBatchParams = 100;
constexpr size_t kMaxBatchTags = 100;
constexpr size_t kMaxBatchTotal = 1000;
// MLflow's key and value sizes (tag keys 250 bytes, param values 6000, tag values 8000).
constexpr size_t kMaxKey = 250;
constexpr size_t kMaxParamValue = 6000;
constexpr size_t kMaxTagValue = 8000;
// Search page sizes: MLflow's defaults and maxima.
constexpr int64_t kRunsDefaultMax = 1000;
constexpr int64_t kRunsMax = 50000;
constexpr int64_t kExperimentsDefaultMax = 1000;
constexpr int64_t kExperimentsMax = 50000;
constexpr int64_t kModelsDefaultMax = 100;
constexpr int64_t kModelsMax = 1000;
constexpr int64_t kHistoryDefaultMax = 25000;
// The tag on a model version whose production request waits for a second person.
constexpr std::string_view kApprovalTag = "almanac.approval";
constexpr std::string_view kHost = "mlflow-api";

// -------------------------------------------------------------------------- requests

// MLflow's Python client serialises non-finite floats as the bare tokens NaN, Infinity and
// -Infinity (not JSON); they become the strings "NaN", "Infinity", "-Infinity", which metric
// values accept.
std::string QuoteNonFiniteTokens(std::string_view body) {
  // Most bodies have no such token at all (a log-batch of 1,000 metrics is 80 kB): one scan each.
  if (body.find("NaN") == std::string_view::npos && body.find("Infinity") == std::string_view::npos)
    return std::string(body);
  std::string out;
  out.reserve(body.size());
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < body.size()) out += body[++i];
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
      out += c;
      continue;
    }
    bool replaced = false;
    if (c == '-' || c == 'I' || c == 'N') {
      for (std::string_view tok : {"-Infinity", "Infinity", "NaN"}) {
        if (body.substr(i, tok.size()) == tok) {
          out += '"';
          out += tok;
          out += '"';
          i += tok.size() - 1;
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += c;
  }
  return out;
}

Status Missing(std::string_view field) {
  return InvalidArgumentError("Missing value for required parameter '" + std::string(field) + "'.");
}
Status BadValue(std::string_view field, const std::string& why) {
  return InvalidArgumentError("Invalid value for parameter '" + std::string(field) + "': " + why);
}

// The request's fields: the JSON body, or the query string of a GET.
class Request {
 public:
  static Result<Request> Of(const ApiCall& call) {
    Request r;
    if (call.req.method == "GET" || call.req.method == "HEAD") {
      r.j_ = Json::object();
      for (const auto& [k, v] : call.query) r.j_[k] = v;
      r.from_query_ = true;
      return r;
    }
    if (Trim(call.req.body).empty()) {
      // A DELETE may carry its fields in the query string instead of a body.
      r.j_ = Json::object();
      for (const auto& [k, v] : call.query) r.j_[k] = v;
      r.from_query_ = !call.query.empty();
      return r;
    }
    auto j = ParseJson(QuoteNonFiniteTokens(call.req.body));
    if (!j.ok()) return InvalidArgumentError("Malformed JSON request body: " + j.status().message());
    if (!j->is_object()) return InvalidArgumentError("The request body must be a JSON object.");
    r.j_ = std::move(*j);
    return r;
  }

  bool Has(const std::string& k) const { return j_.contains(k) && !j_[k].is_null(); }
  const Json& Raw(const std::string& k) const { return j_[k]; }

  Result<std::string> Str(const std::string& k) const {
    if (!Has(k)) return Missing(k);
    return OptStr(k, "");
  }
  Result<std::string> OptStr(const std::string& k, std::string fallback) const {
    if (!Has(k)) return fallback;
    if (!j_[k].is_string()) return BadValue(k, "expected a string, got " + std::string(j_[k].type_name()));
    return j_[k].get<std::string>();
  }
  // An int64 as a JSON integer or (protobuf JSON, query strings) a string of digits.
  Result<std::optional<int64_t>> OptInt(const std::string& k) const {
    if (!Has(k)) return std::optional<int64_t>();
    const Json& v = j_[k];
    if (v.is_number_integer()) {
      if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
        return BadValue(k, "out of range");
      return std::optional<int64_t>(v.get<int64_t>());
    }
    if (v.is_string()) {
      const std::string s = v.get<std::string>();
      int64_t out = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
      if (s.empty() || ec != std::errc() || p != s.data() + s.size())
        return BadValue(k, "expected an integer, got " + QuoteForMessage(s, 40));
      return std::optional<int64_t>(out);
    }
    return BadValue(k, "expected an integer, got " + std::string(v.type_name()));
  }
  Result<int64_t> Int(const std::string& k) const {
    ALMANAC_ASSIGN_OR_RETURN(auto v, OptInt(k));
    if (!v) return Missing(k);
    return *v;
  }
  // run_id, or the legacy run_uuid that older clients send.
  Result<std::string> RunId() const {
    if (Has("run_id")) return Str("run_id");
    if (Has("run_uuid")) return Str("run_uuid");
    return Missing("run_id");
  }
  // A list of strings: a JSON array, or one value of the query string.
  Result<std::vector<std::string>> Strings(const std::string& k) const {
    std::vector<std::string> out;
    if (!Has(k)) return out;
    const Json& v = j_[k];
    if (v.is_string()) {
      out.push_back(v.get<std::string>());
      return out;
    }
    if (!v.is_array()) return BadValue(k, "expected a list of strings");
    for (const Json& e : v) {
      if (!e.is_string()) return BadValue(k, "expected a list of strings");
      out.push_back(e.get<std::string>());
    }
    return out;
  }

 private:
  Json j_;
  bool from_query_ = false;
};

// [{"key":..,"value":..}, ...] of a request (tags, params).
Result<std::vector<std::pair<std::string, std::string>>> KeyValues(const Request& r, const std::string& field,
                                                                    size_t max_value) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!r.Has(field)) return out;
  const Json& a = r.Raw(field);
  if (!a.is_array()) return BadValue(field, "expected a list of {key, value} objects");
  for (const Json& e : a) {
    if (!e.is_object() || !e.contains("key") || !e["key"].is_string())
      return BadValue(field, "each entry needs a string 'key'");
    if (e.contains("value") && !e["value"].is_null() && !e["value"].is_string())
      return BadValue(field, "the value of " + QuoteForMessage(e["key"].get<std::string>()) + " must be a string");
    std::string k = e["key"].get<std::string>();
    std::string v = e.contains("value") && e["value"].is_string() ? e["value"].get<std::string>() : "";
    if (k.empty() || k.size() > kMaxKey) return BadValue(field, "keys must have 1.." + std::to_string(kMaxKey) + " bytes");
    if (v.size() > max_value)
      return BadValue(field, "the value of " + QuoteForMessage(k) + " is longer than " + std::to_string(max_value) +
                                 " bytes");
    out.emplace_back(std::move(k), std::move(v));
  }
  return out;
}

// A metric value: a number or "NaN" / "Infinity" / "-Infinity".
Result<double> MetricValue(const Json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s == "NaN" || s == "nan") return std::nan("");
    if (s == "Infinity" || s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-Infinity" || s == "-inf") return -std::numeric_limits<double>::infinity();
    double out = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (!s.empty() && ec == std::errc() && p == s.data() + s.size()) return out;
  }
  return BadValue("value", "expected a number (or NaN, Infinity, -Infinity)");
}

// Milliseconds (MLflow) to micros (almanac), refusing what does not fit.
Result<int64_t> MillisToMicros(int64_t ms, std::string_view field) {
  if (ms < 0 || ms > std::numeric_limits<int64_t>::max() / 1000) return BadValue(field, "timestamp out of range");
  return ms * 1000;
}

Result<MetricPoint> MetricOf(const Json& m, const Clock& clock) {
  if (!m.is_object()) return BadValue("metrics", "each entry must be an object");
  if (!m.contains("key") || !m["key"].is_string()) return Missing("key");
  MetricPoint p;
  p.key = m["key"].get<std::string>();
  if (p.key.empty() || p.key.size() > kMaxKey) return BadValue("key", "must have 1.." + std::to_string(kMaxKey) + " bytes");
  if (!m.contains("value") || m["value"].is_null()) return Missing("value");
  ALMANAC_ASSIGN_OR_RETURN(p.value, MetricValue(m["value"]));
  auto int_field = [&](const char* k, int64_t fallback) -> Result<int64_t> {
    if (!m.contains(k) || m[k].is_null()) return fallback;
    const Json& v = m[k];
    if (v.is_number_integer()) return v.get<int64_t>();
    if (v.is_string()) {
      const std::string s = v.get<std::string>();
      int64_t out = 0;
      auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
      if (!s.empty() && ec == std::errc() && ptr == s.data() + s.size()) return out;
    }
    return BadValue(k, "expected an integer");
  };
  ALMANAC_ASSIGN_OR_RETURN(int64_t ts, int_field("timestamp", -1));
  if (ts < 0) {
    if (m.contains("timestamp") && !m["timestamp"].is_null()) return BadValue("timestamp", "timestamp out of range");
    return Missing("timestamp");
  }
  ALMANAC_ASSIGN_OR_RETURN(p.timestamp, MillisToMicros(ts, "timestamp"));
  ALMANAC_ASSIGN_OR_RETURN(p.step, int_field("step", 0));
  (void)clock;
  return p;
}

// ------------------------------------------------------------------------ page tokens

// Opaque page tokens: the offset with a tag, SHA-256 over a fixed domain string, the offset and
// a fingerprint of the query. A token that was not issued for this query (made up, altered, or
// sent with another filter or order) is refused with INVALID_PARAMETER_VALUE. The tag has no
// per-process secret on purpose: a token stays valid across restarts and between the replicas
// behind a load balancer (deploy/compose.yaml runs two), and one who forges a token can only
// choose an offset in a search they may run anyway.
const std::string& TokenDomain() {
  static const std::string kDomain = "almanac mlflow page token v1";
  return kDomain;
}

std::string IssuePageToken(int64_t offset, const std::string& fingerprint) {
  const std::string payload = std::to_string(offset);
  const std::string tag = Sha256Hex(TokenDomain() + "|" + payload + "|" + Sha256Hex(fingerprint)).substr(0, 32);
  return "p1." + payload + "." + tag;
}

Result<int64_t> ReadPageToken(const std::string& token, const std::string& fingerprint) {
  if (token.empty()) return 0;
  const Status bad = InvalidArgumentError("Invalid page token: " + QuoteForMessage(token, 60) +
                                          " was not issued by this server for this query");
  if (token.size() > 100 || token.substr(0, 3) != "p1.") return bad;
  const size_t dot = token.find('.', 3);
  if (dot == std::string::npos) return bad;
  const std::string payload = token.substr(3, dot - 3);
  const std::string tag = token.substr(dot + 1);
  int64_t offset = 0;
  auto [p, ec] = std::from_chars(payload.data(), payload.data() + payload.size(), offset);
  if (payload.empty() || ec != std::errc() || p != payload.data() + payload.size() || offset < 0) return bad;
  if (Sha256Hex(TokenDomain() + "|" + payload + "|" + Sha256Hex(fingerprint)).substr(0, 32) != tag) return bad;
  return offset;
}

// The slice [offset, offset + max) of `n` items and the next token ("" at the end).
struct Page {
  size_t begin = 0, end = 0;
  std::string next;
};
Page PageOf(size_t n, int64_t offset, int64_t max, const std::string& fingerprint) {
  Page p;
  p.begin = std::min(n, static_cast<size_t>(offset));
  p.end = std::min(n, p.begin + static_cast<size_t>(max));
  if (p.end < n) p.next = IssuePageToken(static_cast<int64_t>(p.end), fingerprint);
  return p;
}

Result<int64_t> MaxResults(const Request& r, int64_t fallback, int64_t max) {
  ALMANAC_ASSIGN_OR_RETURN(auto v, r.OptInt("max_results"));
  if (!v) return fallback;
  if (*v < 1 || *v > max)
    return BadValue("max_results", "must be in 1.." + std::to_string(max) + ", got " + std::to_string(*v));
  return *v;
}

// -------------------------------------------------------------------------- rendering

Json NumberJson(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

Json TagsJson(const std::vector<std::pair<std::string, std::string>>& tags) {
  Json a = Json::array();
  for (const auto& [k, v] : tags) a.push_back({{"key", k}, {"value", v}});
  return a;
}

std::string ExperimentId(int64_t id) { return std::to_string(id); }

std::string ArtifactLocation(const ExperimentRecord& e) {
  return e.artifact_location.empty() ? "almanac-artifacts:/" + ExperimentId(e.id) : e.artifact_location;
}

Json ExperimentJson(const ExperimentRecord& e) {
  return {{"experiment_id", ExperimentId(e.id)},
          {"name", e.name},
          {"artifact_location", ArtifactLocation(e)},
          {"lifecycle_stage", e.deleted ? "deleted" : "active"},
          {"last_update_time", e.updated_at / 1000},
          {"creation_time", e.created_at / 1000},
          {"tags", TagsJson(e.tags)}};
}

std::string_view MlflowStatus(RunStatus s) {
  switch (s) {
    case RunStatus::kRunning:
      return "RUNNING";
    case RunStatus::kFinished:
      return "FINISHED";
    case RunStatus::kFailed:
      return "FAILED";
    case RunStatus::kKilled:
      return "KILLED";
  }
  return "RUNNING";
}

Result<RunStatus> ParseMlflowStatus(const std::string& s) {
  if (s == "RUNNING" || s == "SCHEDULED") return RunStatus::kRunning;
  if (s == "FINISHED") return RunStatus::kFinished;
  if (s == "FAILED") return RunStatus::kFailed;
  if (s == "KILLED") return RunStatus::kKilled;
  return BadValue("status", "expected RUNNING, SCHEDULED, FINISHED, FAILED or KILLED, got " + QuoteForMessage(s, 40));
}

// The latest point per key, as MLflow's run data shows metrics: highest step, then timestamp,
// then value.
std::vector<MetricPoint> LatestMetrics(const std::vector<MetricPoint>& all) {
  std::map<std::string, MetricPoint> latest;
  for (const auto& m : all) {
    auto it = latest.find(m.key);
    if (it == latest.end()) {
      latest.emplace(m.key, m);
      continue;
    }
    const MetricPoint& o = it->second;
    if (std::tie(m.step, m.timestamp) >= std::tie(o.step, o.timestamp)) it->second = m;
  }
  std::vector<MetricPoint> out;
  for (auto& [k, m] : latest) out.push_back(m);
  return out;
}

Json MetricJson(const MetricPoint& m) {
  return {{"key", m.key}, {"value", NumberJson(m.value)}, {"timestamp", m.timestamp / 1000}, {"step", m.step}};
}

// Everything a run answer needs, read in one transaction.
struct RunView {
  RunRecord run;
  std::string experiment_id;
  std::string artifact_uri;
  std::vector<MetricPoint> metrics;  // latest per key
  std::vector<std::pair<std::string, std::string>> params, tags;
};

Json RunInfoJson(const RunView& v) {
  Json info = {{"run_id", v.run.id},
               {"run_uuid", v.run.id},
               {"run_name", v.run.name},
               {"experiment_id", v.experiment_id},
               {"user_id", v.run.user},
               {"status", std::string(MlflowStatus(v.run.status))},
               {"start_time", v.run.start_time / 1000},
               {"artifact_uri", v.artifact_uri},
               {"lifecycle_stage", v.run.deleted ? "deleted" : "active"}};
  if (v.run.end_time != 0) info["end_time"] = v.run.end_time / 1000;
  return info;
}

Json RunJson(const RunView& v) {
  Json metrics = Json::array();
  for (const auto& m : v.metrics) metrics.push_back(MetricJson(m));
  Json params = Json::array();
  for (const auto& [k, val] : v.params) params.push_back({{"key", k}, {"value", val}});
  return {{"info", RunInfoJson(v)},
          {"data", {{"metrics", metrics}, {"params", params}, {"tags", TagsJson(v.tags)}}},
          {"inputs", Json::object()}};
}

// The experiment record of a run's experiment name (created by Tracker::StartRun or
// migration 10 for almanac runs; NotFound only for a store written by an older almanac while
// this one ran).
Result<ExperimentRecord> ExperimentOfRun(MetadataTxn& t, const RunRecord& r) {
  return t.GetExperimentByName(r.experiment);
}

Result<RunView> ReadRun(MetadataTxn& t, const RunRecord& r, bool with_data) {
  RunView v;
  v.run = r;
  auto e = ExperimentOfRun(t, r);
  if (e.ok()) {
    v.experiment_id = ExperimentId(e->id);
    v.artifact_uri = ArtifactLocation(*e) + "/" + r.id + "/artifacts";
  } else if (e.status().code() != StatusCode::kNotFound) {
    return e.status();
  }
  if (with_data) {
    ALMANAC_ASSIGN_OR_RETURN(auto all, t.GetMetrics(r.id));
    v.metrics = LatestMetrics(all);
    ALMANAC_ASSIGN_OR_RETURN(v.params, t.GetParams(r.id));
    ALMANAC_ASSIGN_OR_RETURN(v.tags, t.GetTags(r.id));
  }
  return v;
}

// Fills the latest metrics, params and/or tags of `views` with one batched read per table
// (runs/search; RunsTxn::*OfRuns).
Status ReadRunData(MetadataTxn& t, std::vector<RunView>& views, bool metrics, bool params, bool tags) {
  if (views.empty() || !(metrics || params || tags)) return Status::Ok();
  std::vector<std::string> ids;
  ids.reserve(views.size());
  for (const auto& v : views) ids.push_back(v.run.id);
  if (metrics) {
    ALMANAC_ASSIGN_OR_RETURN(auto all, t.GetMetricsOfRuns(ids));
    for (auto& v : views)
      if (auto it = all.find(v.run.id); it != all.end()) v.metrics = LatestMetrics(it->second);
  }
  if (params) {
    ALMANAC_ASSIGN_OR_RETURN(auto all, t.GetParamsOfRuns(ids));
    for (auto& v : views)
      if (auto it = all.find(v.run.id); it != all.end()) v.params = std::move(it->second);
  }
  if (tags) {
    ALMANAC_ASSIGN_OR_RETURN(auto all, t.GetTagsOfRuns(ids));
    for (auto& v : views)
      if (auto it = all.find(v.run.id); it != all.end()) v.tags = std::move(it->second);
  }
  return Status::Ok();
}

// An active run (MLflow refuses writes to deleted runs).
Result<RunRecord> ActiveRun(MetadataTxn& t, const std::string& id) {
  auto r = t.GetRun(id);
  if (!r.ok() && r.status().code() == StatusCode::kNotFound)
    return NotFoundError("Run with id=" + id + " not found");
  if (!r.ok()) return r.status();
  if (r->deleted)
    return FailedPreconditionError("The run " + id + " must be in the 'active' state. Current state is deleted.");
  return r;
}

Result<ExperimentRecord> ExperimentById(MetadataTxn& t, const std::string& text) {
  int64_t id = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || id < 0)
    return BadValue("experiment_id", "expected a number, got " + QuoteForMessage(text, 40));
  auto e = t.GetExperiment(id);
  if (!e.ok() && e.status().code() == StatusCode::kNotFound)
    return NotFoundError("No Experiment with id=" + text + " exists");
  return e;
}

Status Audit(MetadataTxn& t, const Principal& who, std::string action, std::string type, std::string id,
             Json details) {
  details["api"] = "mlflow";
  return t.Audit({who.user, std::move(action), std::move(type), std::move(id), std::move(details)}).status();
}

// The answer of an MLflow endpoint: `j` as it is (no request_id member: MLflow's shapes).
HttpResponse Answer(const Json& j) {
  HttpResponse res;
  res.body = CompactJson(j);
  return res;
}

// ---------------------------------------------------------------------- run search

// The value a clause or an order key names, for one run.
struct RunFacts {
  const RunView* view = nullptr;
  std::optional<std::string> Text(FilterKind kind, const std::string& key) const {
    const auto& list = kind == FilterKind::kParam ? view->params : view->tags;
    if (kind == FilterKind::kParam || kind == FilterKind::kTag) {
      for (const auto& [k, v] : list)
        if (k == key) return v;
      return std::nullopt;
    }
    const RunRecord& r = view->run;
    if (key == "status") return std::string(MlflowStatus(r.status));
    if (key == "run_name") return r.name;
    if (key == "run_id") return r.id;
    if (key == "user_id") return r.user;
    if (key == "artifact_uri") return view->artifact_uri;
    return std::nullopt;
  }
  std::optional<double> Number(FilterKind kind, const std::string& key) const {
    if (kind == FilterKind::kMetric) {
      for (const auto& m : view->metrics)
        if (m.key == key) return m.value;
      return std::nullopt;
    }
    if (key == "start_time") return static_cast<double>(view->run.start_time / 1000);
    if (key == "end_time") return view->run.end_time == 0 ? std::optional<double>() : view->run.end_time / 1000;
    return std::nullopt;
  }
};

bool RunMatches(const RunView& v, const std::vector<FilterClause>& clauses) {
  RunFacts f{&v};
  for (const auto& c : clauses) {
    const bool ok = c.numeric ? mlflow::MatchNumber(c, f.Number(c.kind, c.key))
                              : mlflow::MatchString(c, f.Text(c.kind, c.key));
    if (!ok) return false;
  }
  return true;
}

enum class ViewType { kActive, kDeleted, kAll };
Result<ViewType> ParseViewType(const Request& r, const std::string& field) {
  ALMANAC_ASSIGN_OR_RETURN(std::string v, r.OptStr(field, "ACTIVE_ONLY"));
  if (v == "ACTIVE_ONLY" || v == "1") return ViewType::kActive;
  if (v == "DELETED_ONLY" || v == "2") return ViewType::kDeleted;
  if (v == "ALL" || v == "3") return ViewType::kAll;
  return BadValue(field, "expected ACTIVE_ONLY, DELETED_ONLY or ALL, got " + QuoteForMessage(v, 40));
}
bool InView(ViewType t, bool deleted) {
  return t == ViewType::kAll || (t == ViewType::kActive) != deleted;
}

// -1, 0, 1 comparing two optional values; a missing value sorts last (as MLflow's NULLs).
template <typename T>
int CompareOptional(const std::optional<T>& a, const std::optional<T>& b) {
  if (!a && !b) return 0;
  if (!a) return 1;
  if (!b) return -1;
  if (*a < *b) return -1;
  if (*b < *a) return 1;
  return 0;
}


// ------------------------------------------------------------------------ runs/search

Result<HttpResponse> SearchRuns(const ApiContext& ctx, const Request& req) {
  ALMANAC_ASSIGN_OR_RETURN(auto ids, req.Strings("experiment_ids"));
  ALMANAC_ASSIGN_OR_RETURN(std::string filter, req.OptStr("filter", ""));
  ALMANAC_ASSIGN_OR_RETURN(ViewType view, ParseViewType(req, "run_view_type"));
  ALMANAC_ASSIGN_OR_RETURN(int64_t max, MaxResults(req, kRunsDefaultMax, kRunsMax));
  ALMANAC_ASSIGN_OR_RETURN(auto order_by, req.Strings("order_by"));
  ALMANAC_ASSIGN_OR_RETURN(std::string token, req.OptStr("page_token", ""));
  ALMANAC_ASSIGN_OR_RETURN(auto clauses, mlflow::ParseFilter(filter, FilterTarget::kRuns));
  std::vector<mlflow::OrderKey> keys;
  for (const auto& o : order_by) {
    ALMANAC_ASSIGN_OR_RETURN(auto k, mlflow::ParseOrderBy(o, FilterTarget::kRuns));
    keys.push_back(k);
  }
  std::string fp = "runs|" + filter + "|" + std::to_string(static_cast<int>(view));
  for (const auto& i : ids) fp += "|e:" + i;
  for (const auto& o : order_by) fp += "|o:" + o;
  ALMANAC_ASSIGN_OR_RETURN(int64_t offset, ReadPageToken(token, fp));
  bool need_metrics = false, need_params = false, need_tags = false;
  auto note = [&](FilterKind k) {
    need_metrics |= k == FilterKind::kMetric;
    need_params |= k == FilterKind::kParam;
    need_tags |= k == FilterKind::kTag;
  };
  for (const auto& c : clauses) note(c.kind);
  for (const auto& k : keys) note(k.kind);
  const FilterClause* indexed = nullptr;
  for (const auto& c : clauses)
    if (c.kind == FilterKind::kMetric && c.op != "!=") {
      indexed = &c;
      break;
    }
  Json runs = Json::array();
  std::string next;
  ALMANAC_RETURN_IF_ERROR(ctx.store->metadata().Run([&](MetadataTxn& t) -> Status {
    std::vector<RunView> found;
    std::set<std::string> done;
    for (const auto& id : ids) {
      auto e = ExperimentById(t, id);
      if (!e.ok() && e.status().code() == StatusCode::kNotFound) continue;  // MLflow: no runs
      if (!e.ok()) return e.status();
      if (!done.insert(e->name).second) continue;
      // The candidates: with a metric comparison the store's index finds the runs that pass
      // it (a selective filter reads few runs); otherwise every run of the experiment.
      std::vector<RunRecord> list;
      if (indexed != nullptr) {
        ALMANAC_ASSIGN_OR_RETURN(auto run_ids,
                                 t.RunsWithLatestMetric(e->name, indexed->key, indexed->op, indexed->number));
        ALMANAC_ASSIGN_OR_RETURN(list, t.GetRuns(run_ids));
      } else {
        ALMANAC_ASSIGN_OR_RETURN(list, t.ListRuns({e->name, "", std::nullopt, 0}));
      }
      std::vector<RunView> candidates;
      for (auto& r : list) {
        if (!InView(view, r.deleted)) continue;
        RunView v;
        v.run = std::move(r);
        v.experiment_id = ExperimentId(e->id);
        v.artifact_uri = ArtifactLocation(*e) + "/" + v.run.id + "/artifacts";
        candidates.push_back(std::move(v));
      }
      // What the filter and order need, for all candidates at once (one read per table).
      ALMANAC_RETURN_IF_ERROR(ReadRunData(t, candidates, need_metrics, need_params, need_tags));
      for (auto& v : candidates)
        if (RunMatches(v, clauses)) found.push_back(std::move(v));
    }
    // order_by keys first, then MLflow's default: start time descending, then run id.
    std::stable_sort(found.begin(), found.end(), [&](const RunView& a, const RunView& b) {
      RunFacts fa{&a}, fb{&b};
      for (const auto& k : keys) {
        const bool numeric = k.kind == FilterKind::kMetric ||
                             (k.kind == FilterKind::kAttribute && (k.key == "start_time" || k.key == "end_time"));
        int c = numeric ? CompareOptional(fa.Number(k.kind, k.key), fb.Number(k.kind, k.key))
                        : CompareOptional(fa.Text(k.kind, k.key), fb.Text(k.kind, k.key));
        // Missing values sort last in either direction.
        const bool a_missing = numeric ? !fa.Number(k.kind, k.key) : !fa.Text(k.kind, k.key);
        const bool b_missing = numeric ? !fb.Number(k.kind, k.key) : !fb.Text(k.kind, k.key);
        if (a_missing != b_missing) return b_missing;
        if (c != 0) return k.ascending ? c < 0 : c > 0;
      }
      if (a.run.start_time != b.run.start_time) return a.run.start_time > b.run.start_time;
      return a.run.id < b.run.id;
    });
    Page page = PageOf(found.size(), offset, max, fp);
    next = page.next;
    // Only the page's runs are read in full (what the filter did not need yet).
    std::vector<RunView> shown(std::make_move_iterator(found.begin() + static_cast<std::ptrdiff_t>(page.begin)),
                               std::make_move_iterator(found.begin() + static_cast<std::ptrdiff_t>(page.end)));
    ALMANAC_RETURN_IF_ERROR(ReadRunData(t, shown, !need_metrics, !need_params, !need_tags));
    for (const RunView& v : shown) runs.push_back(RunJson(v));
    return Status::Ok();
  }));
  Json out = {{"runs", std::move(runs)}};
  if (!next.empty()) out["next_page_token"] = next;
  return Answer(out);
}

// ---------------------------------------------------------------------------- registry

std::string_view MlflowStage(store::Stage s) {
  switch (s) {
    case store::Stage::kNone:
      return "None";
    case store::Stage::kStaging:
      return "Staging";
    case store::Stage::kProduction:
      return "Production";
    case store::Stage::kArchived:
      return "Archived";
  }
  return "None";
}

Result<store::Stage> ParseMlflowStage(const std::string& s) {
  std::string l = s;
  for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (l == "none") return store::Stage::kNone;
  if (l == "staging") return store::Stage::kStaging;
  if (l == "production") return store::Stage::kProduction;
  if (l == "archived") return store::Stage::kArchived;
  return BadValue("stage", "expected None, Staging, Production or Archived, got " + QuoteForMessage(s, 40));
}

// Tags and aliases of one model (migration 11), read in the answer's transaction.
struct ModelExtras {
  std::vector<std::pair<std::string, std::string>> tags;                        // of the model
  std::map<int64_t, std::vector<std::pair<std::string, std::string>>> version_tags;  // by version
  std::vector<std::pair<std::string, int64_t>> aliases;                         // (alias, version), by alias
};

Result<ModelExtras> ReadExtras(MetadataTxn& t, const std::string& model,
                               const std::vector<store::ModelVersionRecord>& versions) {
  ModelExtras x;
  ALMANAC_ASSIGN_OR_RETURN(x.tags, t.GetModelTags(model, 0));
  ALMANAC_ASSIGN_OR_RETURN(x.aliases, t.ListAliases(model));
  for (const auto& v : versions) {
    ALMANAC_ASSIGN_OR_RETURN(auto tags, t.GetModelTags(model, v.version));
    if (!tags.empty()) x.version_tags[v.version] = std::move(tags);
  }
  return x;
}

Json VersionJson(const store::ModelVersionRecord& v, const std::vector<store::PromotionRequestRecord>& requests,
                 const ModelExtras& extras) {
  Json tags = Json::array();
  if (auto it = extras.version_tags.find(v.version); it != extras.version_tags.end()) tags = TagsJson(it->second);
  Json aliases = Json::array();
  for (const auto& [alias, version] : extras.aliases)
    if (version == v.version) aliases.push_back(alias);
  for (const auto& r : requests)
    if (r.version == v.version && r.status == store::RequestStatus::kPending) {
      tags.push_back({{"key", std::string(kApprovalTag)}, {"value", "pending"}});
      tags.push_back({{"key", std::string(kApprovalTag) + ".requested_by"}, {"value", r.requested_by}});
      tags.push_back({{"key", std::string(kApprovalTag) + ".target"}, {"value", std::string(MlflowStage(r.target))}});
    }
  return {{"name", v.model},
          {"version", std::to_string(v.version)},
          {"creation_timestamp", v.created_at / 1000},
          {"last_updated_timestamp", std::max(v.created_at, v.stage_changed_at) / 1000},
          {"user_id", v.created_by},
          {"current_stage", std::string(MlflowStage(v.stage))},
          {"description", v.description},
          {"source", v.artifact_name},
          {"run_id", v.run_id},
          {"status", "READY"},
          {"run_link", ""},
          {"tags", tags},
          {"aliases", aliases}};
}

// The latest version in each stage (of `stages`, all when empty), by stage.
std::vector<store::ModelVersionRecord> LatestPerStage(const std::vector<store::ModelVersionRecord>& all,
                                                      const std::vector<store::Stage>& stages) {
  std::map<int, store::ModelVersionRecord> latest;
  for (const auto& v : all) {
    if (!stages.empty() && std::find(stages.begin(), stages.end(), v.stage) == stages.end()) continue;
    auto& slot = latest[static_cast<int>(v.stage)];
    if (slot.version < v.version) slot = v;
  }
  std::vector<store::ModelVersionRecord> out;
  for (auto& [s, v] : latest) out.push_back(v);
  return out;
}

Json ModelJson(const store::RegisteredModelRecord& m, const std::vector<store::ModelVersionRecord>& versions,
               const std::vector<store::PromotionRequestRecord>& requests, const ModelExtras& extras) {
  int64_t updated = m.created_at;
  for (const auto& v : versions) updated = std::max({updated, v.created_at, v.stage_changed_at});
  Json latest = Json::array();
  for (const auto& v : LatestPerStage(versions, {})) latest.push_back(VersionJson(v, requests, extras));
  Json aliases = Json::array();
  for (const auto& [alias, version] : extras.aliases)
    aliases.push_back({{"alias", alias}, {"version", std::to_string(version)}});
  return {{"name", m.name},
          {"creation_timestamp", m.created_at / 1000},
          {"last_updated_timestamp", updated / 1000},
          {"user_id", m.created_by},
          {"description", m.description},
          {"latest_versions", latest},
          {"tags", TagsJson(extras.tags)},
          {"aliases", aliases}};
}

Status ModelMissing(const std::string& name) {
  return NotFoundError("Registered Model with name=" + name + " not found");
}

Result<store::RegisteredModelRecord> GetModel(MetadataTxn& t, const std::string& name) {
  auto m = t.GetModel(name);
  if (!m.ok() && m.status().code() == StatusCode::kNotFound) return ModelMissing(name);
  return m;
}

Result<store::ModelVersionRecord> GetVersion(MetadataTxn& t, const std::string& name, int64_t version) {
  ALMANAC_RETURN_IF_ERROR(GetModel(t, name).status());
  auto v = t.GetVersion(name, version);
  if (!v.ok() && v.status().code() == StatusCode::kNotFound)
    return NotFoundError("Model Version (name=" + name + ", version=" + std::to_string(version) + ") not found");
  return v;
}

// Tag keys starting with "almanac." are almanac's own (the approval tags above): a client may
// not set or delete them, so a pending approval cannot be faked or hidden.
constexpr std::string_view kReservedTagPrefix = "almanac.";
// MLflow's alias rules: 1..255 characters, not "latest" and not a version reference ("v3").
constexpr size_t kMaxAlias = 255;

Status ValidateRegistryTagKey(const std::string& key) {
  if (key.empty()) return Missing("key");
  if (key.size() > kMaxKey) return BadValue("key", "must have 1.." + std::to_string(kMaxKey) + " bytes");
  if (key.rfind(kReservedTagPrefix, 0) == 0)
    return BadValue("key", "tags starting with 'almanac.' are set by almanac itself (" + QuoteForMessage(key, 60) + ")");
  return Status::Ok();
}

// The `tags` of a create request, validated (duplicates: the last value wins).
Result<std::vector<std::pair<std::string, std::string>>> RegistryTags(const Request& req) {
  ALMANAC_ASSIGN_OR_RETURN(auto tags, KeyValues(req, "tags", kMaxTagValue));
  for (const auto& [k, v] : tags) ALMANAC_RETURN_IF_ERROR(ValidateRegistryTagKey(k).WithContext("tags"));
  return tags;
}

Status SetRegistryTags(MetadataTxn& t, const Principal& who, const std::string& model, int64_t version,
                       const std::vector<std::pair<std::string, std::string>>& tags) {
  if (tags.empty()) return Status::Ok();
  Json details = Json::object();
  for (const auto& [k, v] : tags) {
    ALMANAC_RETURN_IF_ERROR(t.SetModelTag(model, version, k, v));
    details["tags"][k] = v;
  }
  return version == 0 ? Audit(t, who, "model.tag.set", "model", model, details)
                      : Audit(t, who, "model.version.tag.set", "model_version", model + "@" + std::to_string(version),
                              details);
}

Status ValidateAlias(const std::string& alias) {
  if (alias.empty()) return Missing("alias");
  if (alias.size() > kMaxAlias) return BadValue("alias", "must have 1.." + std::to_string(kMaxAlias) + " characters");
  std::string lower = alias;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "latest") return BadValue("alias", "'latest' is reserved and cannot be used as an alias");
  if (lower.size() > 1 && lower[0] == 'v' &&
      std::all_of(lower.begin() + 1, lower.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return BadValue("alias", QuoteForMessage(alias, 40) + " looks like a version reference (v<number>) and cannot be an alias");
  return Status::Ok();
}

// Why almanac keeps version `v` (its name and its row), or "" when it may be deleted or its
// model renamed: nothing that was approved, is waiting for approval or may have been served
// (production, archived, or forecasts issued) goes.
Result<std::string> WhyKept(MetadataTxn& t, const store::ModelVersionRecord& v,
                            const std::vector<store::PromotionRequestRecord>& requests) {
  const std::string id = "version " + std::to_string(v.version);
  if (v.stage == store::Stage::kProduction) return id + " is in Production";
  if (v.stage == store::Stage::kArchived) return id + " is archived (it may have been in Production)";
  for (const auto& r : requests) {
    if (r.version != v.version) continue;
    if (r.status == store::RequestStatus::kPending)
      return id + " has a promotion request by " + r.requested_by + " waiting for approval";
    if (r.status == store::RequestStatus::kApproved)
      return id + " was approved for " + std::string(MlflowStage(r.target)) + " by " + r.decided_by;
  }
  ALMANAC_ASSIGN_OR_RETURN(auto forecasts, t.ListForecasts(v.model, v.version));
  if (!forecasts.empty()) return id + " issued forecasts";
  return std::string();
}

Result<HttpResponse> MlflowRegistry(const ApiContext& ctx, const ApiCall& call, const Request& req) {
  store::MetadataStore& md = ctx.store->metadata();
  registry::Registry reg(*ctx.store, *ctx.clock);
  const Principal& who = call.who;
  Json out = Json::object();
  switch (call.route) {
    case RouteId::kMlflowModelCreate: {
      ALMANAC_ASSIGN_OR_RETURN(std::string name, req.Str("name"));
      ALMANAC_ASSIGN_OR_RETURN(std::string description, req.OptStr("description", ""));
      ALMANAC_ASSIGN_OR_RETURN(auto tags, RegistryTags(req));
      ALMANAC_RETURN_IF_ERROR(ValidateName(name, "registered model name"));
      auto existing = reg.GetModel(name);
      if (existing.ok()) return AlreadyExistsError("Registered Model (name=" + name + ") already exists.");
      if (existing.status().code() != StatusCode::kNotFound) return existing.status();
      store::RegisteredModelRecord m;
      m.name = name;
      m.description = description;
      ALMANAC_ASSIGN_OR_RETURN(m, reg.EnsureModel(m, who.user));
      ModelExtras extras;
      ALMANAC_RETURN_IF_ERROR(md.Run([&](MetadataTxn& t) -> Status {
        ALMANAC_RETURN_IF_ERROR(SetRegistryTags(t, who, name, 0, tags));
        ALMANAC_ASSIGN_OR_RETURN(extras, ReadExtras(t, name, {}));
        return Status::Ok();
      }));
      out["registered_model"] = ModelJson(m, {}, {}, extras);
      return Answer(out);
    }
    case RouteId::kMlflowModelGet:
    case RouteId::kMlflowModelUpdate:
    case RouteId::kMlflowLatestVersions: {
      ALMANAC_ASSIGN_OR_RETURN(std::string name, req.Str("name"));
      std::optional<std::string> description;
      if (call.route == RouteId::kMlflowModelUpdate && req.Has("description")) {
        ALMANAC_ASSIGN_OR_RETURN(description, req.Str("description"));
      }
      std::vector<store::Stage> stages;
      if (call.route == RouteId::kMlflowLatestVersions) {
        ALMANAC_ASSIGN_OR_RETURN(auto names, req.Strings("stages"));
        for (const auto& s : names) {
          ALMANAC_ASSIGN_OR_RETURN(store::Stage st, ParseMlflowStage(s));
          stages.push_back(st);
        }
      }
      ALMANAC_RETURN_IF_ERROR(md.Run([&](MetadataTxn& t) -> Status {
        ALMANAC_ASSIGN_OR_RETURN(store::RegisteredModelRecord m, GetModel(t, name));
        if (description) {
          m.description = *description;
          ALMANAC_RETURN_IF_ERROR(t.UpdateModel(m));
          ALMANAC_RETURN_IF_ERROR(Audit(t, who, "model.update", "model", name, {{"description", m.description}}));
        }
        ALMANAC_ASSIGN_OR_RETURN(auto versions, t.ListVersions(name));
        ALMANAC_ASSIGN_OR_RETURN(auto requests, t.ListRequests(name));
        ALMANAC_ASSIGN_OR_RETURN(ModelExtras extras, ReadExtras(t, name, versions));
        if (call.route == RouteId::kMlflowLatestVersions) {
          out["model_versions"] = Json::array();
          for (const auto& v : LatestPerStage(versions, stages))
            out["model_versions"].push_back(VersionJson(v, requests, extras));
        } else {
          out["registered_model"] = ModelJson(m, versions, requests, extras);
        }
        return Status::Ok();
      }));
      return Answer(out);
    }
    case RouteId::kMlflowModelSearch:
    case RouteId::kMlflowVersionSearch: {
      const bool versions_search = call.route == RouteId::kMlflowVersionSearch;
      const FilterTarget target = versions_search ? FilterTarget::kModelVersions : FilterTarget::kModels;
      ALMANAC_ASSIGN_OR_RETURN(std::string filter, req.OptStr("filter", ""));
      ALMANAC_ASSIGN_OR_RETURN(auto clauses, mlflow::ParseFilter(filter, target));
      ALMANAC_ASSIGN_OR_RETURN(int64_t max, MaxResults(req, versions_search ? 10000 : kModelsDefaultMax,
                                                       versions_search ? 200000 : kModelsMax));
      ALMANAC_ASSIGN_OR_RETURN(auto order_by, req.Strings("order_by"));
      bool descending = false;
      for (const auto& o : order_by) {
        ALMANAC_ASSIGN_OR_RETURN(auto k, mlflow::ParseOrderBy(o, target));
        if (k.key != "name") return BadValue("order_by", "almanac orders registered models and versions by name only");
        descending = !k.ascending;
      }
      std::string fp = std::string(versions_search ? "versions|" : "models|") + filter;
      for (const auto& o : order_by) fp += "|o:" + o;
      ALMANAC_ASSIGN_OR_RETURN(std::string token, req.OptStr("page_token", ""));
      ALMANAC_ASSIGN_OR_RETURN(int64_t offset, ReadPageToken(token, fp));
      std::vector<Json> found;
      ALMANAC_RETURN_IF_ERROR(md.Run([&](MetadataTxn& t) -> Status {
        ALMANAC_ASSIGN_OR_RETURN(auto models, t.ListModels());
        std::sort(models.begin(), models.end(), [&](const auto& a, const auto& b) {
          return descending ? a.name > b.name : a.name < b.name;
        });
        for (const auto& m : models) {
          ALMANAC_ASSIGN_OR_RETURN(auto versions, t.ListVersions(m.name));
          ALMANAC_ASSIGN_OR_RETURN(auto requests, t.ListRequests(m.name));
          ALMANAC_ASSIGN_OR_RETURN(ModelExtras extras, ReadExtras(t, m.name, versions));
          // tags.<key> clauses: absent tags never match (as in MLflow).
          auto tag_value = [](const std::vector<std::pair<std::string, std::string>>& tags,
                              const std::string& key) -> std::optional<std::string> {
            for (const auto& [k, v] : tags)
              if (k == key) return v;
            return std::nullopt;
          };
          if (!versions_search) {
            bool ok = true;
            for (const auto& c : clauses)
              ok = ok && mlflow::MatchString(c, c.kind == FilterKind::kTag ? tag_value(extras.tags, c.key)
                                                                          : std::optional<std::string>(m.name));
            if (ok) found.push_back(ModelJson(m, versions, requests, extras));
            continue;
          }
          std::sort(versions.begin(), versions.end(), [](const auto& a, const auto& b) { return a.version > b.version; });
          for (const auto& v : versions) {
            bool ok = true;
            for (const auto& c : clauses) {
              if (c.kind == FilterKind::kTag) {
                auto it = extras.version_tags.find(v.version);
                ok = ok && mlflow::MatchString(c, it == extras.version_tags.end() ? std::nullopt : tag_value(it->second, c.key));
              } else if (c.key == "version_number") ok = ok && mlflow::MatchNumber(c, static_cast<double>(v.version));
              else ok = ok && mlflow::MatchString(c, c.key == "name" ? v.model : c.key == "run_id" ? v.run_id : v.artifact_name);
            }
            if (ok) found.push_back(VersionJson(v, requests, extras));
          }
        }
        return Status::Ok();
      }));
      Page page = PageOf(found.size(), offset, max, fp);
      const char* field = versions_search ? "model_versions" : "registered_models";
      out[field] = Json::array();
      for (size_t i = page.begin; i < page.end; ++i) out[field].push_back(found[i]);
      if (!page.next.empty()) out["next_page_token"] = page.next;
      return Answer(out);
    }
    case RouteId::kMlflowVersionCreate: {
      ALMANAC_ASSIGN_OR_RETURN(std::string name, req.Str("name"));
      ALMANAC_ASSIGN_OR_RETURN(std::string source, req.Str("source"));
      ALMANAC_ASSIGN_OR_RETURN(std::string run_id, req.OptStr("run_id", ""));
      ALMANAC_ASSIGN_OR_RETURN(std::string description, req.OptStr("description", ""));
      ALMANAC_ASSIGN_OR_RETURN(auto tags, RegistryTags(req));
      if (run_id.empty())
        return BadValue("run_id", "almanac creates a model version from a run: run_id is required");
      registry::NewVersion nv;
      nv.model = name;
      nv.run_id = run_id;
      nv.package.name = source;
      nv.package.kind = "mlflow-source";
      nv.description = description;
      // The run must exist (RESOURCE_DOES_NOT_EXIST otherwise), checked with the model.
      ALMANAC_RETURN_IF_ERROR(md.Run([&](MetadataTxn& t) -> Status {
        ALMANAC_RETURN_IF_ERROR(GetModel(t, name).status());
        auto r = t.GetRun(run_id);
        if (!r.ok() && r.status().code() == StatusCode::kNotFound) return NotFoundError("Run with id=" + run_id + " not found");
        return r.status();
      }));
      ALMANAC_ASSIGN_OR_RETURN(store::ModelVersionRecord v, reg.CreateVersion(nv, who.user));
      ModelExtras extras;
      ALMANAC_RETURN_IF_ERROR(md.Run([&](MetadataTxn& t) -> Status {
        ALMANAC_RETURN_IF_ERROR(SetRegistryTags(t, who, name, v.version, tags));
        ALMANAC_ASSIGN_OR_RETURN(extras, ReadExtras(t, name, {v}));
        return Status::Ok();
      }));
      out["model_version"] = VersionJson(v, {}, extras);
      return Answer(out);
    }
    case RouteId::kMlflowVersionGet:
    case RouteId::kMlflowVersionUpdate: {
      ALMANAC_ASSIGN_OR_RETURN(std::string name, req.Str("name"));
      ALMANAC_ASSIGN_OR_RETURN(int64_t version, req.Int("version"));
      std::optional<std::string> description;
      if (call.route == RouteId::kMlflowVersionUpdate && req.Has("description")) {
        ALMANAC_ASSIGN_OR_RETURN(description, req.Str("description"));
      }
      ALMANAC_RETURN_IF_ERROR(md.Run([&](MetadataTxn& t) -> Status {
        ALMANAC_ASSIGN_OR_RETURN(store::ModelVersionRecord v, GetVersion(t, name, version));
        if (description) {
          v.description = *description;
          ALMANAC_RETURN_IF_ERROR(t.UpdateVersion(v));
          ALMANAC_RETURN_IF_ERROR(Audit(t, who, "model.version.update", "model_version",
                                        name + "@" + std::to_string(version), {{"description", v.description}}));
        }
        ALMANAC_ASSIGN_OR_RETURN(auto requests, t.ListRequests(name));
        ALMANAC_ASSIGN_OR_RETURN(ModelExtras extras, ReadExtras(t, name, {v}));
        out["model_version"] = VersionJson(v, requests, extras);
        return Status::Ok();
      }));
      return Answer(out);
    }
    case RouteId::kMlflowTransitionStage: {
      ALMANAC_ASSIGN_OR_RETURN(std::string name, req.Str("name"));
      ALMANAC_ASSIGN_OR_RETURN(int64_t version, req.Int("version"));
      ALMANAC_ASSIGN_OR_RETURN(std::string stage_text, req.Str("stage"));
      ALMANAC_ASSIGN_OR_RETURN(store::Stage stage, ParseMlflowStage(stage_text));
      if (req.Has("archive_existing_versions") && !req.Raw("archive_existing_versions").is_boolean() &&
          !req.Raw("archive_existing_versions").is_string())
        return BadValue("archive_existing_versions", "expected a boolean");
      if (stage == store::Stage::kNone)
        return BadValue("stage", "almanac does not move a version back to None (archive it instead)");
      ALMANAC_RETURN_IF_ERROR(md.Run([&](MetadataTxn& t) { return GetVersion(t, name, version).status(); }));
      ALMANAC_ASSIGN_OR_RETURN(registry::PromotionResult p,
                               reg.Promote(name, version, stage, who.user, "MLflow transition-stage"));
      (void)p;  // the answer re-reads the version: pending requests show as its tags
      ALMANAC_RETURN_IF_ERROR(md.Run([&](MetadataTxn& t) -> Status {
        ALMANAC_ASSIGN_OR_RETURN(store::ModelVersionRecord v, GetVersion(t, name, version));
        ALMANAC_ASSIGN_OR_RETURN(auto requests, t.ListRequests(name));
        ALMANAC_ASSIGN_OR_RETURN(ModelExtras extras, ReadExtras(t, name, {v}));
        out["model_version"] = VersionJson(v, requests, extras);
        return Status::Ok();
      }));
      return Answer(out);
    }
    // ------------------------------------------------- rename, delete, tags, aliases
    // Each one store transaction with its audit entry: a refused request changes nothing.
    case RouteId::kMlflowModelRename: {
      ALMANAC_ASSIGN_OR_RETURN(std::string name, req.Str("name"));
      ALMANAC_ASSIGN_OR_RETURN(std::string new_name, req.Str("new_name"));
      ALMANAC_RETURN_IF_ERROR(ValidateName(new_name, "new_name"));
      ALMANAC_RETURN_IF_ERROR(md.Run([&](MetadataTxn& t) -> Status {
        ALMANAC_RETURN_IF_ERROR(GetModel(t, name).status());
        if (new_name != name) {
          ALMANAC_ASSIGN_OR_RETURN(auto versions, t.ListVersions(name));
          ALMANAC_ASSIGN_OR_RETURN(auto requests, t.ListRequests(name));
          for (const auto& v : versions) {
            ALMANAC_ASSIGN_OR_RETURN(std::string why, WhyKept(t, v, requests));
            if (!why.empty())
              return BadValue("name", "almanac does not rename registered model " + QuoteForMessage(name) + ": " + why +
                                          ", and its approvals, forecasts and audit trail refer to it by name");
          }
          Status renamed = t.RenameModel(name, new_name);
          if (renamed.code() == StatusCode::kAlreadyExists)
            return AlreadyExistsError("Registered Model (name=" + new_name + ") already exists.");
          ALMANAC_RETURN_IF_ERROR(renamed);
          ALMANAC_RETURN_IF_ERROR(Audit(t, who, "model.rename", "model", name, {{"new_name", new_name}}));
        }
        ALMANAC_ASSIGN_OR_RETURN(store::RegisteredModelRecord m, GetModel(t, new_name));
        ALMANAC_ASSIGN_OR_RETURN(auto versions, t.ListVersions(new_name));
        ALMANAC_ASSIGN_OR_RETURN(auto requests, t.ListRequests(new_name));
        ALMANAC_ASSIGN_OR_RETURN(ModelExtras extras, ReadExtras(t, new_name, versions));
        out["registered_model"] = ModelJson(m, versions, requests, extras);
        return Status::Ok();
      }));
      return Answer(out);
    }
    case RouteId::kMlflowModelDelete: {
      ALMANAC_ASSIGN_OR_RETURN(std::string name, req.Str("name"));
      ALMANAC_RETURN_IF_ERROR(md.Run([&](MetadataTxn& t) -> Status {
        ALMANAC_RETURN_IF_ERROR(GetModel(t, name).status());
        ALMANAC_ASSIGN_OR_RETURN(auto versions, t.ListVersions(name));
        ALMANAC_ASSIGN_OR_RETURN(auto requests, t.ListRequests(name));
        Json removed = Json::array();
        for (const auto& v : versions) {
          ALMANAC_ASSIGN_OR_RETURN(std::string why, WhyKept(t, v, requests));
          if (!why.empty())
            return BadValue("name", "almanac does not delete registered model " + QuoteForMessage(name) + ": " + why +
                                        " (archive versions instead; approved and served versions stay for the audit trail)");
          removed.push_back({{"version", v.version}, {"run_id", v.run_id}, {"source", v.artifact_name},
                             {"sha256", v.artifact_sha256}, {"stage", std::string(store::StageName(v.stage))}});
        }
        ALMANAC_ASSIGN_OR_RETURN(auto tags, t.GetModelTags(name, 0));
        ALMANAC_RETURN_IF_ERROR(t.DeleteModel(name));
        Json tag_json = Json::object();
        for (const auto& [k, v] : tags) tag_json[k] = v;
        return Audit(t, who, "model.delete", "model", name, {{"versions", removed}, {"tags", tag_json}});
      }));
      return Answer(out);
    }
    case RouteId::kMlflowVersionDelete: {
      ALMANAC_ASSIGN_OR_RETURN(std::string name, req.Str("name"));
      ALMANAC_ASSIGN_OR_RETURN(int64_t version, req.Int("version"));
      ALMANAC_RETURN_IF_ERROR(md.Run([&](MetadataTxn& t) -> Status {
        ALMANAC_ASSIGN_OR_RETURN(store::ModelVersionRecord v, GetVersion(t, name, version));
        ALMANAC_ASSIGN_OR_RETURN(auto requests, t.ListRequests(name));
        ALMANAC_ASSIGN_OR_RETURN(std::string why, WhyKept(t, v, requests));
        if (!why.empty())
          return BadValue("version", "almanac does not delete " + name + "@" + std::to_string(version) + ": " + why +
                                         " (archive it instead; approved and served versions stay for the audit trail)");
        ALMANAC_RETURN_IF_ERROR(t.DeleteVersion(name, version, ctx.clock->NowMicros()));
        return Audit(t, who, "model.version.delete", "model_version", name + "@" + std::to_string(version),
                     {{"run_id", v.run_id}, {"source", v.artifact_name}, {"sha256", v.artifact_sha256},
                      {"stage", std::string(store::StageName(v.stage))}});
      }));
      return Answer(out);
    }
    case RouteId::kMlflowModelSetTag:
    case RouteId::kMlflowVersionSetTag:
    case RouteId::kMlflowModelDeleteTag:
    case RouteId::kMlflowVersionDeleteTag: {
      const bool of_version = call.route == RouteId::kMlflowVersionSetTag || call.route == RouteId::kMlflowVersionDeleteTag;
      const bool set = call.route == RouteId::kMlflowModelSetTag || call.route == RouteId::kMlflowVersionSetTag;
      ALMANAC_ASSIGN_OR_RETURN(std::string name, req.Str("name"));
      int64_t version = 0;
      if (of_version) {
        ALMANAC_ASSIGN_OR_RETURN(version, req.Int("version"));
      }
      ALMANAC_ASSIGN_OR_RETURN(std::string key, req.Str("key"));
      ALMANAC_RETURN_IF_ERROR(ValidateRegistryTagKey(key));
      std::string value;
      if (set) {
        ALMANAC_ASSIGN_OR_RETURN(value, req.Str("value"));
        if (value.size() > kMaxTagValue)
          return BadValue("value", "longer than " + std::to_string(kMaxTagValue) + " bytes");
      }
      ALMANAC_RETURN_IF_ERROR(md.Run([&](MetadataTxn& t) -> Status {
        if (of_version) {
          ALMANAC_RETURN_IF_ERROR(GetVersion(t, name, version).status());
        } else {
          ALMANAC_RETURN_IF_ERROR(GetModel(t, name).status());
        }
        if (set) return SetRegistryTags(t, who, name, version, {{key, value}});
        Status deleted = t.DeleteModelTag(name, version, key);
        // Deleting a tag that is not there changes nothing and is not an error (MLflow's store).
        if (deleted.code() == StatusCode::kNotFound) return Status::Ok();
        ALMANAC_RETURN_IF_ERROR(deleted);
        return of_version ? Audit(t, who, "model.version.tag.delete", "model_version",
                                  name + "@" + std::to_string(version), {{"key", key}})
                          : Audit(t, who, "model.tag.delete", "model", name, {{"key", key}});
      }));
      return Answer(out);
    }
    case RouteId::kMlflowAliasSet:
    case RouteId::kMlflowAliasDelete:
    case RouteId::kMlflowAliasGet: {
      ALMANAC_ASSIGN_OR_RETURN(std::string name, req.Str("name"));
      ALMANAC_ASSIGN_OR_RETURN(std::string alias, req.Str("alias"));
      ALMANAC_RETURN_IF_ERROR(ValidateAlias(alias));
      int64_t version = 0;
      if (call.route == RouteId::kMlflowAliasSet) {
        ALMANAC_ASSIGN_OR_RETURN(version, req.Int("version"));
      }
      ALMANAC_RETURN_IF_ERROR(md.Run([&](MetadataTxn& t) -> Status {
        ALMANAC_RETURN_IF_ERROR(GetModel(t, name).status());
        ALMANAC_ASSIGN_OR_RETURN(auto aliases, t.ListAliases(name));
        std::optional<int64_t> current;
        for (const auto& [a, v] : aliases)
          if (a == alias) current = v;
        switch (call.route) {
          case RouteId::kMlflowAliasSet: {
            ALMANAC_RETURN_IF_ERROR(GetVersion(t, name, version).status());
            ALMANAC_RETURN_IF_ERROR(t.SetAlias(name, alias, version));
            return Audit(t, who, "model.alias.set", "model", name,
                         {{"alias", alias}, {"version", version}, {"previous", current ? Json(*current) : Json(nullptr)}});
          }
          case RouteId::kMlflowAliasDelete: {
            if (!current) return Status::Ok();  // nothing to delete: not an error (MLflow's store)
            ALMANAC_RETURN_IF_ERROR(t.DeleteAlias(name, alias));
            return Audit(t, who, "model.alias.delete", "model", name, {{"alias", alias}, {"version", *current}});
          }
          default: {
            if (!current) return NotFoundError("Registered model alias " + alias + " not found.");
            ALMANAC_ASSIGN_OR_RETURN(store::ModelVersionRecord v, GetVersion(t, name, *current));
            ALMANAC_ASSIGN_OR_RETURN(auto requests, t.ListRequests(name));
            ALMANAC_ASSIGN_OR_RETURN(ModelExtras extras, ReadExtras(t, name, {v}));
            out["model_version"] = VersionJson(v, requests, extras);
            return Status::Ok();
          }
        }
      }));
      return Answer(out);
    }
    default:
      return InternalError("MLflow route without a handler");
  }
}
}  // namespace mlflow

// ----------------------------------------------------------------------------- routes

std::vector<RouteInfo> HttpApi::WithMlflowRoutes(const std::vector<RouteInfo>& base) {
  using P = Permission;
  struct Row {
    RouteId id;
    std::string_view method;
    std::string_view path;
    Permission permission;
    std::vector<std::string> query;
  };
  // Tracking writes need the ingest permission (analyst, modeler, admin: not an approver, who
  // must not feed what is approved); registry writes need promote (modeler, admin).
  const std::vector<Row> rows = {
      {RouteId::kMlflowExperimentCreate, "POST", "experiments/create", P::kIngest, {}},
      {RouteId::kMlflowExperimentGet, "GET", "experiments/get", P::kRead, {"experiment_id"}},
      {RouteId::kMlflowExperimentGetByName, "GET", "experiments/get-by-name", P::kRead, {"experiment_name"}},
      {RouteId::kMlflowExperimentSearch, "POST", "experiments/search", P::kRead, {}},
      {RouteId::kMlflowExperimentSearch, "GET", "experiments/search", P::kRead,
       {"max_results", "page_token", "filter", "order_by", "view_type"}},
      {RouteId::kMlflowExperimentList, "GET", "experiments/list", P::kRead, {"view_type", "max_results", "page_token"}},
      {RouteId::kMlflowExperimentUpdate, "POST", "experiments/update", P::kIngest, {}},
      {RouteId::kMlflowExperimentDelete, "POST", "experiments/delete", P::kIngest, {}},
      {RouteId::kMlflowExperimentRestore, "POST", "experiments/restore", P::kIngest, {}},
      {RouteId::kMlflowExperimentSetTag, "POST", "experiments/set-experiment-tag", P::kIngest, {}},
      {RouteId::kMlflowRunCreate, "POST", "runs/create", P::kIngest, {}},
      {RouteId::kMlflowRunGet, "GET", "runs/get", P::kRead, {"run_id", "run_uuid"}},
      {RouteId::kMlflowRunUpdate, "POST", "runs/update", P::kIngest, {}},
      {RouteId::kMlflowRunDelete, "POST", "runs/delete", P::kIngest, {}},
      {RouteId::kMlflowRunRestore, "POST", "runs/restore", P::kIngest, {}},
      {RouteId::kMlflowRunSearch, "POST", "runs/search", P::kRead, {}},
      {RouteId::kMlflowLogMetric, "POST", "runs/log-metric", P::kIngest, {}},
      {RouteId::kMlflowLogParam, "POST", "runs/log-parameter", P::kIngest, {}},
      {RouteId::kMlflowLogBatch, "POST", "runs/log-batch", P::kIngest, {}},
      {RouteId::kMlflowSetTag, "POST", "runs/set-tag", P::kIngest, {}},
      {RouteId::kMlflowDeleteTag, "POST", "runs/delete-tag", P::kIngest, {}},
      {RouteId::kMlflowMetricHistory, "GET", "metrics/get-history", P::kRead,
       {"run_id", "run_uuid", "metric_key", "page_token", "max_results"}},
      {RouteId::kMlflowArtifactsList, "GET", "artifacts/list", P::kRead, {"run_id", "run_uuid", "path", "page_token"}},
      {RouteId::kMlflowModelCreate, "POST", "registered-models/create", P::kPromote, {}},
      {RouteId::kMlflowModelGet, "GET", "registered-models/get", P::kRead, {"name"}},
      {RouteId::kMlflowModelSearch, "GET", "registered-models/search", P::kRead,
       {"filter", "max_results", "order_by", "page_token"}},
      {RouteId::kMlflowModelUpdate, "PATCH", "registered-models/update", P::kPromote, {}},
      {RouteId::kMlflowLatestVersions, "POST", "registered-models/get-latest-versions", P::kRead, {}},
      {RouteId::kMlflowLatestVersions, "GET", "registered-models/get-latest-versions", P::kRead, {"name", "stages"}},
      {RouteId::kMlflowVersionCreate, "POST", "model-versions/create", P::kPromote, {}},
      {RouteId::kMlflowVersionGet, "GET", "model-versions/get", P::kRead, {"name", "version"}},
      {RouteId::kMlflowVersionSearch, "GET", "model-versions/search", P::kRead,
       {"filter", "max_results", "order_by", "page_token"}},
      {RouteId::kMlflowVersionUpdate, "PATCH", "model-versions/update", P::kPromote, {}},
      {RouteId::kMlflowTransitionStage, "POST", "model-versions/transition-stage", P::kPromote, {}},
      // DELETE requests carry their fields in a JSON body (MLflow's clients) or the query string.
      {RouteId::kMlflowModelRename, "POST", "registered-models/rename", P::kPromote, {}},
      {RouteId::kMlflowModelDelete, "DELETE", "registered-models/delete", P::kPromote, {"name"}},
      {RouteId::kMlflowModelSetTag, "POST", "registered-models/set-tag", P::kPromote, {}},
      {RouteId::kMlflowModelDeleteTag, "DELETE", "registered-models/delete-tag", P::kPromote, {"name", "key"}},
      {RouteId::kMlflowAliasSet, "POST", "registered-models/alias", P::kPromote, {}},
      {RouteId::kMlflowAliasDelete, "DELETE", "registered-models/alias", P::kPromote, {"name", "alias"}},
      {RouteId::kMlflowAliasGet, "GET", "registered-models/alias", P::kRead, {"name", "alias"}},
      {RouteId::kMlflowVersionDelete, "DELETE", "model-versions/delete", P::kPromote, {"name", "version"}},
      {RouteId::kMlflowVersionSetTag, "POST", "model-versions/set-tag", P::kPromote, {}},
      {RouteId::kMlflowVersionDeleteTag, "DELETE", "model-versions/delete-tag", P::kPromote, {"name", "version", "key"}},
  };
  // The route table keeps string_views: the paths live as long as the process.
  static std::vector<std::string> paths = [&] {
    std::vector<std::string> out;
    for (std::string_view prefix : {"/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/"})
      for (const auto& r : rows) out.push_back(std::string(prefix) + std::string(r.path));
    return out;
  }();
  std::vector<RouteInfo> out = base;
  size_t i = 0;
  for (int prefix = 0; prefix < 2; ++prefix)
    for (const auto& r : rows)
      out.push_back(RouteInfo{r.id, r.method, paths[i++], r.permission, true, &HttpApi::Mlflow, r.query,
                              ErrorFormat::kMlflow});
  return out;
}

HttpResponse MlflowError(const Status& status, int http_status, HttpResponse res) {
  std::string_view code = "INTERNAL_ERROR";
  int st = 500;
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      code = "INVALID_PARAMETER_VALUE";
      st = 400;
      break;
    case StatusCode::kNotFound:
      code = status.message().rfind("no such endpoint", 0) == 0 ? "ENDPOINT_NOT_FOUND" : "RESOURCE_DOES_NOT_EXIST";
      st = 404;
      break;
    case StatusCode::kAlreadyExists:
      code = "RESOURCE_ALREADY_EXISTS";
      st = 400;
      break;
    case StatusCode::kFailedPrecondition:
      code = "INVALID_STATE";
      st = 400;
      break;
    case StatusCode::kPermissionDenied:
      code = "PERMISSION_DENIED";
      st = 403;
      break;
    case StatusCode::kUnauthenticated:
      code = "UNAUTHENTICATED";
      st = 401;
      break;
    case StatusCode::kResourceExhausted:
      code = "RESOURCE_EXHAUSTED";
      st = http_status == 413 ? 413 : 429;
      break;
    case StatusCode::kUnimplemented:
      code = "NOT_IMPLEMENTED";
      st = 501;
      break;
    case StatusCode::kUnavailable:
      code = "TEMPORARILY_UNAVAILABLE";
      st = 503;
      break;
    case StatusCode::kDeadlineExceeded:
      code = "DEADLINE_EXCEEDED";
      st = 504;
      break;
    default:
      break;
  }
  res.status = st;
  res.error_code = code;
  std::string body = "{\"error_code\":";
  json_out::String(body, code);
  body += ",\"message\":";
  json_out::String(body, status.message());
  body += '}';
  res.body = std::move(body);
  res.headers.clear();
  if (st == 401) {
    res.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"almanac\"");
    res.headers.emplace_back("WWW-Authenticate", "Basic realm=\"almanac\"");
  }
  return res;
}

// ---------------------------------------------------------------------------- handler

Result<HttpResponse> HttpApi::Mlflow(ApiCall& call) const {
  using namespace mlflow;  // NOLINT: this family's helpers, in function scope only
  ALMANAC_ASSIGN_OR_RETURN(Request req, Request::Of(call));
  store::MetadataStore& md = ctx_.store->metadata();
  const Clock& clock = *ctx_.clock;
  const Principal& who = call.who;
  Json out = Json::object();

  switch (call.route) {
    // ------------------------------------------------------------------ experiments
    case RouteId::kMlflowExperimentCreate: {
      ALMANAC_ASSIGN_OR_RETURN(std::string name, req.Str("name"));
      if (name.empty()) return Missing("name");
      ALMANAC_ASSIGN_OR_RETURN(std::string location, req.OptStr("artifact_location", ""));
      ALMANAC_ASSIGN_OR_RETURN(auto tags, KeyValues(req, "tags", kMaxTagValue));
      ALMANAC_RETURN_IF_ERROR(md.Run([&](MetadataTxn& t) -> Status {
        ExperimentRecord e;
        e.name = name;
        e.artifact_location = location;
        e.created_at = e.updated_at = clock.NowMicros();
        for (auto& kv : tags) {
          auto it = std::find_if(e.tags.begin(), e.tags.end(), [&](const auto& x) { return x.first == kv.first; });
          if (it != e.tags.end()) it->second = kv.second;
          else e.tags.push_back(kv);
        }
        auto id = t.InsertExperiment(e);
        if (!id.ok() && id.status().code() == StatusCode::kAlreadyExists)
          return AlreadyExistsError("Experiment '" + name + "' already exists.");
        if (!id.ok()) return id.status();
        out["experiment_id"] = ExperimentId(*id);
        return Audit(t, who, "experiment.create", "experiment", name, {{"experiment_id", ExperimentId(*id)}});
      }));
      return Answer(out);
    }
    case RouteId::kMlflowExperimentGet:
    case RouteId::kMlflowExperimentGetByName: {
      const bool by_name = call.route == RouteId::kMlflowExperimentGetByName;
      ALMANAC_ASSIGN_OR_RETURN(std::string key, req.Str(by_name ? "experiment_name" : "experiment_id"));
      ALMANAC_RETURN_IF_ERROR(md.Run([&](MetadataTxn& t) -> Status {
        Result<ExperimentRecord> e = InternalError("unset");
        if (by_name) {
          e = t.GetExperimentByName(key);
          if (!e.ok() && e.status().code() == StatusCode::kNotFound)
            return NotFoundError("Could not find experiment with name '" + key + "'");
        } else {
          e = ExperimentById(t, key);
        }
        if (!e.ok()) return e.status();
        out["experiment"] = ExperimentJson(*e);
        return Status::Ok();
      }));
      return Answer(out);
    }
    case RouteId::kMlflowExperimentSearch:
    case RouteId::kMlflowExperimentList: {
      const bool list = call.route == RouteId::kMlflowExperimentList;
      ALMANAC_ASSIGN_OR_RETURN(int64_t max, MaxResults(req, kExperimentsDefaultMax, kExperimentsMax));
      ALMANAC_ASSIGN_OR_RETURN(ViewType view, ParseViewType(req, "view_type"));
      ALMANAC_ASSIGN_OR_RETURN(std::string filter, list ? Result<std::string>(std::string()) : req.OptStr("filter", ""));
      ALMANAC_ASSIGN_OR_RETURN(auto clauses, mlflow::ParseFilter(filter, FilterTarget::kExperiments));
      ALMANAC_ASSIGN_OR_RETURN(auto order_by, list ? Result<std::vector<std::string>>(std::vector<std::string>())
                                                   : req.Strings("order_by"));
      std::vector<mlflow::OrderKey> keys;
      for (const auto& o : order_by) {
        ALMANAC_ASSIGN_OR_RETURN(auto k, mlflow::ParseOrderBy(o, FilterTarget::kExperiments));
        keys.push_back(k);
      }
      std::string fp = "experiments|" + filter + "|" + std::to_string(static_cast<int>(view));
      for (const auto& o : order_by) fp += "|" + o;
      ALMANAC_ASSIGN_OR_RETURN(std::string token, req.OptStr("page_token", ""));
      ALMANAC_ASSIGN_OR_RETURN(int64_t offset, ReadPageToken(token, fp));
      std::vector<ExperimentRecord> found;
      ALMANAC_RETURN_IF_ERROR(md.Run([&](MetadataTxn& t) -> Status {
        ALMANAC_ASSIGN_OR_RETURN(auto all, t.ListExperiments());
        for (auto& e : all) {
          if (!InView(view, e.deleted)) continue;
          bool ok = true;
          for (const auto& c : clauses) {
            if (c.kind == FilterKind::kTag) {
              std::optional<std::string> v;
              for (const auto& [k, val] : e.tags)
                if (k == c.key) v = val;
              ok = mlflow::MatchString(c, v);
            } else if (c.numeric) {
              ok = mlflow::MatchNumber(c, static_cast<double>((c.key == "creation_time" ? e.created_at : e.updated_at) / 1000));
            } else {
              ok = mlflow::MatchString(c, e.name);
            }
            if (!ok) break;
          }
          if (ok) found.push_back(std::move(e));
        }
        return Status::Ok();
      }));
      // Default order: creation time descending, then id (MLflow's search default).
      std::stable_sort(found.begin(), found.end(), [&](const ExperimentRecord& a, const ExperimentRecord& b) {
        for (const auto& k : keys) {
          int c = 0;
          if (k.kind == FilterKind::kTag) continue;
          if (k.key == "name") c = a.name.compare(b.name);
          else if (k.key == "creation_time") c = a.created_at < b.created_at ? -1 : (a.created_at > b.created_at ? 1 : 0);
          else c = a.updated_at < b.updated_at ? -1 : (a.updated_at > b.updated_at ? 1 : 0);
          if (c != 0) return k.ascending ? c < 0 : c > 0;
        }
        if (keys.empty() && a.created_at != b.created_at) return a.created_at > b.created_at;
        return a.id < b.id;
      });
      Page page = PageOf(found.size(), offset, max, fp);
      out["experiments"] = Json::array();
      for (size_t i = page.begin; i < page.end; ++i) out["experiments"].push_back(ExperimentJson(found[i]));
      if (!page.next.empty()) out["next_page_token"] = page.next;
      return Answer(out);
    }
    case RouteId::kMlflowExperimentUpdate:
    case RouteId::kMlflowExperimentDelete:
    case RouteId::kMlflowExperimentRestore:
    case RouteId::kMlflowExperimentSetTag: {
      ALMANAC_ASSIGN_OR_RETURN(std::string id, req.Str("experiment_id"));
      std::string new_name, key, value;
      if (call.route == RouteId::kMlflowExperimentUpdate) {
        ALMANAC_ASSIGN_OR_RETURN(new_name, req.OptStr("new_name", ""));
      }
      if (call.route == RouteId::kMlflowExperimentSetTag) {
        ALMANAC_ASSIGN_OR_RETURN(key, req.Str("key"));
        ALMANAC_ASSIGN_OR_RETURN(value, req.OptStr("value", ""));
        if (key.empty() || key.size() > kMaxKey) return BadValue("key", "must have 1.." + std::to_string(kMaxKey) + " bytes");
        if (value.size() > kMaxTagValue) return BadValue("value", "longer than " + std::to_string(kMaxTagValue) + " bytes");
      }
      ALMANAC_RETURN_IF_ERROR(md.Run([&](MetadataTxn& t) -> Status {
        ALMANAC_ASSIGN_OR_RETURN(ExperimentRecord e, ExperimentById(t, id));
        std::string action;
        Json details = {{"experiment_id", id}};
        switch (call.route) {
          case RouteId::kMlflowExperimentUpdate:
            if (e.deleted) return FailedPreconditionError("Cannot rename a non-active experiment.");
            if (!new_name.empty()) {
              details["old_name"] = e.name;
              details["new_name"] = new_name;
              e.name = new_name;
            }
            action = "experiment.rename";
            break;
          case RouteId::kMlflowExperimentDelete:
            if (e.id == 0) return BadValue("experiment_id", "the Default experiment cannot be deleted");
            e.deleted = true;
            action = "experiment.delete";
            break;
          case RouteId::kMlflowExperimentRestore:
            e.deleted = false;
            action = "experiment.restore";
            break;
          default: {
            if (e.deleted) return FailedPreconditionError("The experiment " + id + " must be in the 'active' state.");
            auto it = std::find_if(e.tags.begin(), e.tags.end(), [&](const auto& x) { return x.first == key; });
            if (it != e.tags.end()) it->second = value;
            else e.tags.emplace_back(key, value);
            details["key"] = key;
            details["value"] = value;
            action = "experiment.set_tag";
          }
        }
        e.updated_at = clock.NowMicros();
        Status s = t.UpdateExperiment(e);
        if (s.code() == StatusCode::kAlreadyExists)
          return AlreadyExistsError("Experiment '" + e.name + "' already exists.");
        ALMANAC_RETURN_IF_ERROR(s);
        return Audit(t, who, action, "experiment", e.name, details);
      }));
      return Answer(out);
    }

    // ------------------------------------------------------------------------- runs
    case RouteId::kMlflowRunCreate: {
      ALMANAC_ASSIGN_OR_RETURN(std::string exp_id, req.OptStr("experiment_id", "0"));
      ALMANAC_ASSIGN_OR_RETURN(std::string user_id, req.OptStr("user_id", ""));
      ALMANAC_ASSIGN_OR_RETURN(std::string run_name, req.OptStr("run_name", ""));
      ALMANAC_ASSIGN_OR_RETURN(auto start, req.OptInt("start_time"));
      ALMANAC_ASSIGN_OR_RETURN(auto tags, KeyValues(req, "tags", kMaxTagValue));
      for (const auto& [k, v] : tags)
        if (k == "mlflow.runName" && run_name.empty()) run_name = v;
      RunView view;
      ALMANAC_RETURN_IF_ERROR(md.Run([&](MetadataTxn& t) -> Status {
        ALMANAC_ASSIGN_OR_RETURN(ExperimentRecord e, ExperimentById(t, exp_id));
        if (e.deleted)
          return FailedPreconditionError("The experiment " + exp_id + " must be in the 'active' state.");
        RunRecord r;
        r.id = tracking::NewRunId(clock);
        r.experiment = e.name;
        r.status = RunStatus::kRunning;
        if (start) {
          ALMANAC_ASSIGN_OR_RETURN(r.start_time, MillisToMicros(*start, "start_time"));
        } else {
          r.start_time = clock.NowMicros();
        }
        // The run acts for the caller; user_id is what the client says (MLflow's field).
        r.user = user_id.empty() ? who.user : user_id;
        r.host = std::string(kHost);
        r.almanac_version = "mlflow-api";
        r.name = run_name;
        ALMANAC_RETURN_IF_ERROR(t.InsertRun(r));
        std::vector<std::pair<std::string, std::string>> all = tags;
        if (!run_name.empty()) all.emplace_back("mlflow.runName", run_name);
        all.emplace_back("mlflow.user", r.user);
        ALMANAC_RETURN_IF_ERROR(t.SetTags(r.id, all));
        ALMANAC_RETURN_IF_ERROR(Audit(t, who, "run.start", "run", r.id,
                                      {{"experiment", e.name}, {"run_name", run_name}, {"user_id", r.user}}));
        ALMANAC_ASSIGN_OR_RETURN(view, ReadRun(t, r, true));
        return Status::Ok();
      }));
      out["run"] = RunJson(view);
      return Answer(out);
    }
    case RouteId::kMlflowRunGet: {
      ALMANAC_ASSIGN_OR_RETURN(std::string id, req.RunId());
      ALMANAC_RETURN_IF_ERROR(md.Run([&](MetadataTxn& t) -> Status {
        auto r = t.GetRun(id);
        if (!r.ok() && r.status().code() == StatusCode::kNotFound) return NotFoundError("Run '" + id + "' not found");
        if (!r.ok()) return r.status();
        ALMANAC_ASSIGN_OR_RETURN(RunView v, ReadRun(t, *r, true));
        out["run"] = RunJson(v);
        return Status::Ok();
      }));
      return Answer(out);
    }
    case RouteId::kMlflowRunUpdate: {
      ALMANAC_ASSIGN_OR_RETURN(std::string id, req.RunId());
      std::optional<RunStatus> status;
      if (req.Has("status")) {
        ALMANAC_ASSIGN_OR_RETURN(std::string s, req.Str("status"));
        ALMANAC_ASSIGN_OR_RETURN(status, ParseMlflowStatus(s));
      }
      ALMANAC_ASSIGN_OR_RETURN(auto end, req.OptInt("end_time"));
      ALMANAC_ASSIGN_OR_RETURN(std::string run_name, req.OptStr("run_name", ""));
      std::optional<int64_t> end_us;
      if (end) {
        ALMANAC_ASSIGN_OR_RETURN(end_us, MillisToMicros(*end, "end_time"));
      }
      ALMANAC_RETURN_IF_ERROR(md.Run([&](MetadataTxn& t) -> Status {
        ALMANAC_ASSIGN_OR_RETURN(RunRecord r, ActiveRun(t, id));
        Json details = Json::object();
        if (status) {
          r.status = *status;
          details["status"] = std::string(MlflowStatus(*status));
          if (*status != RunStatus::kRunning && !end_us) r.end_time = clock.NowMicros();
        }
        if (end_us) r.end_time = *end_us;
        if (!run_name.empty()) {
          r.name = run_name;
          details["run_name"] = run_name;
          ALMANAC_RETURN_IF_ERROR(t.SetTags(r.id, {{"mlflow.runName", run_name}}));
        }
        ALMANAC_RETURN_IF_ERROR(t.UpdateRun(r));
        const bool finished = status && *status != RunStatus::kRunning;
        ALMANAC_RETURN_IF_ERROR(Audit(t, who, finished ? (*status == RunStatus::kFailed ? "run.fail" : "run.finish")
                                                       : "run.update",
                                      "run", r.id, details));
        ALMANAC_ASSIGN_OR_RETURN(RunView v, ReadRun(t, r, false));
        out["run_info"] = RunInfoJson(v);
        return Status::Ok();
      }));
      return Answer(out);
    }
    case RouteId::kMlflowRunDelete:
    case RouteId::kMlflowRunRestore: {
      ALMANAC_ASSIGN_OR_RETURN(std::string id, req.RunId());
      const bool del = call.route == RouteId::kMlflowRunDelete;
      ALMANAC_RETURN_IF_ERROR(md.Run([&](MetadataTxn& t) -> Status {
        auto r = t.GetRun(id);
        if (!r.ok() && r.status().code() == StatusCode::kNotFound) return NotFoundError("Run with id=" + id + " not found");
        if (!r.ok()) return r.status();
        r->deleted = del;
        ALMANAC_RETURN_IF_ERROR(t.UpdateRun(*r));
        return Audit(t, who, del ? "run.delete" : "run.restore", "run", id, Json::object());
      }));
      return Answer(out);
    }
    case RouteId::kMlflowLogMetric:
    case RouteId::kMlflowLogParam:
    case RouteId::kMlflowSetTag:
    case RouteId::kMlflowDeleteTag:
    case RouteId::kMlflowLogBatch: {
      ALMANAC_ASSIGN_OR_RETURN(std::string id, req.RunId());
      std::vector<MetricPoint> metrics;
      std::vector<std::pair<std::string, std::string>> params, tags;
      std::string delete_key;
      switch (call.route) {
        case RouteId::kMlflowLogMetric: {
          Json m = Json::object();
          for (const char* k : {"key", "value", "timestamp", "step"})
            if (req.Has(k)) m[k] = req.Raw(k);
          ALMANAC_ASSIGN_OR_RETURN(MetricPoint p, MetricOf(m, clock));
          metrics.push_back(std::move(p));
          break;
        }
        case RouteId::kMlflowLogParam:
        case RouteId::kMlflowSetTag: {
          const bool param = call.route == RouteId::kMlflowLogParam;
          ALMANAC_ASSIGN_OR_RETURN(std::string k, req.Str("key"));
          if (!req.Has("value")) return Missing("value");
          ALMANAC_ASSIGN_OR_RETURN(std::string v, req.Str("value"));
          if (k.empty() || k.size() > kMaxKey) return BadValue("key", "must have 1.." + std::to_string(kMaxKey) + " bytes");
          const size_t max_value = param ? kMaxParamValue : kMaxTagValue;
          if (v.size() > max_value) return BadValue("value", "longer than " + std::to_string(max_value) + " bytes");
          (param ? params : tags).emplace_back(std::move(k), std::move(v));
          break;
        }
        case RouteId::kMlflowDeleteTag: {
          ALMANAC_ASSIGN_OR_RETURN(delete_key, req.Str("key"));
          break;
        }
        default: {
          if (req.Has("metrics")) {
            const Json& a = req.Raw("metrics");
            if (!a.is_array()) return BadValue("metrics", "expected a list of metrics");
            if (a.size() > kMaxBatchMetrics)
              return BadValue("metrics", "A batch logging request can contain at most " +
                                             std::to_string(kMaxBatchMetrics) + " metrics. Got " +
                                             std::to_string(a.size()) + " metrics.");
            for (const Json& m : a) {
              ALMANAC_ASSIGN_OR_RETURN(MetricPoint p, MetricOf(m, clock));
              metrics.push_back(std::move(p));
            }
          }
          ALMANAC_ASSIGN_OR_RETURN(params, KeyValues(req, "params", kMaxParamValue));
          ALMANAC_ASSIGN_OR_RETURN(tags, KeyValues(req, "tags", kMaxTagValue));
          if (params.size() > kMaxBatchParams)
            return BadValue("params", "A batch logging request can contain at most " + std::to_string(kMaxBatchParams) +
                                          " params. Got " + std::to_string(params.size()) + " params.");
          if (tags.size() > kMaxBatchTags)
            return BadValue("tags", "A batch logging request can contain at most " + std::to_string(kMaxBatchTags) +
                                        " tags. Got " + std::to_string(tags.size()) + " tags.");
          if (metrics.size() + params.size() + tags.size() > kMaxBatchTotal)
            return BadValue("metrics", "A batch logging request can contain at most " + std::to_string(kMaxBatchTotal) +
                                           " metrics, params and tags in total.");
          // One value per param key within the request.
          std::map<std::string, std::string> seen;
          for (const auto& [k, v] : params) {
            auto [it, fresh] = seen.emplace(k, v);
            if (!fresh && it->second != v)
              return BadValue("params", "Duplicate parameter keys with different values: " + QuoteForMessage(k));
          }
        }
      }
      ALMANAC_RETURN_IF_ERROR(md.Run([&](MetadataTxn& t) -> Status {
        ALMANAC_ASSIGN_OR_RETURN(RunRecord r, ActiveRun(t, id));
        Json details = Json::object();
        if (!delete_key.empty()) {
          Status s = t.DeleteTag(r.id, delete_key);
          if (s.code() == StatusCode::kNotFound)
            return NotFoundError("No tag with name: " + delete_key + " in run with id " + id);
          ALMANAC_RETURN_IF_ERROR(s);
          return Audit(t, who, "run.delete_tag", "run", id, {{"key", delete_key}});
        }
        if (!params.empty()) {
          // Logging the same value again is allowed (idempotent); another value is refused.
          ALMANAC_ASSIGN_OR_RETURN(auto existing, t.GetParams(r.id));
          std::map<std::string, std::string> have(existing.begin(), existing.end());
          std::vector<std::pair<std::string, std::string>> fresh;
          std::set<std::string> added;
          for (const auto& [k, v] : params) {
            auto it = have.find(k);
            if (it != have.end()) {
              if (it->second != v)
                return BadValue("params", "Changing param values is not allowed. Param with key='" + k +
                                              "' was already logged with value='" + it->second +
                                              "' for run ID='" + id + "'. Attempted logging new value '" + v + "'.");
              continue;
            }
            if (added.insert(k).second) fresh.emplace_back(k, v);
          }
          ALMANAC_RETURN_IF_ERROR(t.InsertParams(r.id, fresh));
          details["params"] = static_cast<int64_t>(params.size());
        }
        if (!metrics.empty()) {
          ALMANAC_RETURN_IF_ERROR(t.InsertMetrics(r.id, metrics));
          details["metrics"] = static_cast<int64_t>(metrics.size());
        }
        if (!tags.empty()) {
          ALMANAC_RETURN_IF_ERROR(t.SetTags(r.id, tags));
          details["tags"] = static_cast<int64_t>(tags.size());
          for (const auto& [k, v] : tags)
            if (k == "mlflow.runName" && v != r.name) {
              r.name = v;
              ALMANAC_RETURN_IF_ERROR(t.UpdateRun(r));
            }
        }
        const char* action = call.route == RouteId::kMlflowLogMetric  ? "run.log_metric"
                             : call.route == RouteId::kMlflowLogParam ? "run.log_param"
                             : call.route == RouteId::kMlflowSetTag   ? "run.set_tag"
                                                                      : "run.log_batch";
        return Audit(t, who, action, "run", id, details);
      }));
      return Answer(out);
    }
    case RouteId::kMlflowMetricHistory: {
      ALMANAC_ASSIGN_OR_RETURN(std::string id, req.RunId());
      ALMANAC_ASSIGN_OR_RETURN(std::string key, req.Str("metric_key"));
      ALMANAC_ASSIGN_OR_RETURN(int64_t max, MaxResults(req, kHistoryDefaultMax, kHistoryDefaultMax));
      const std::string fp = "history|" + id + "|" + key;
      ALMANAC_ASSIGN_OR_RETURN(std::string token, req.OptStr("page_token", ""));
      ALMANAC_ASSIGN_OR_RETURN(int64_t offset, ReadPageToken(token, fp));
      std::vector<MetricPoint> points;
      ALMANAC_RETURN_IF_ERROR(md.Run([&](MetadataTxn& t) -> Status {
        auto r = t.GetRun(id);
        if (!r.ok() && r.status().code() == StatusCode::kNotFound) return NotFoundError("Run '" + id + "' not found");
        if (!r.ok()) return r.status();
        ALMANAC_ASSIGN_OR_RETURN(auto all, t.GetMetrics(id));
        for (auto& m : all)
          if (m.key == key) points.push_back(std::move(m));
        return Status::Ok();
      }));
      Page page = PageOf(points.size(), offset, max, fp);
      out["metrics"] = Json::array();
      for (size_t i = page.begin; i < page.end; ++i) out["metrics"].push_back(MetricJson(points[i]));
      if (!page.next.empty()) out["next_page_token"] = page.next;
      return Answer(out);
    }
    case RouteId::kMlflowArtifactsList: {
      ALMANAC_ASSIGN_OR_RETURN(std::string id, req.RunId());
      ALMANAC_ASSIGN_OR_RETURN(std::string path, req.OptStr("path", ""));
      while (!path.empty() && path.back() == '/') path.pop_back();
      if (path.find("..") != std::string::npos) return BadValue("path", "must not contain '..'");
      ALMANAC_ASSIGN_OR_RETURN(std::string token, req.OptStr("page_token", ""));
      const std::string fp = "artifacts|" + id + "|" + path;
      ALMANAC_ASSIGN_OR_RETURN(int64_t offset, ReadPageToken(token, fp));
      RunView view;
      std::vector<store::ArtifactRecord> arts;
      ALMANAC_RETURN_IF_ERROR(md.Run([&](MetadataTxn& t) -> Status {
        auto r = t.GetRun(id);
        if (!r.ok() && r.status().code() == StatusCode::kNotFound) return NotFoundError("Run '" + id + "' not found");
        if (!r.ok()) return r.status();
        ALMANAC_ASSIGN_OR_RETURN(view, ReadRun(t, *r, false));
        ALMANAC_ASSIGN_OR_RETURN(arts, t.GetArtifacts(id));
        return Status::Ok();
      }));
      // Names relative to the run ("runs/<id>/" stripped); one level below `path`, with
      // directories collapsed, sorted by path.
      std::map<std::string, Json> files;
      const std::string own = "runs/" + id + "/";
      for (const auto& a : arts) {
        std::string rel = a.name.rfind(own, 0) == 0 ? a.name.substr(own.size()) : a.name;
        if (!path.empty()) {
          if (rel.rfind(path + "/", 0) != 0) continue;
          rel = rel.substr(path.size() + 1);
        }
        const std::string prefix = path.empty() ? "" : path + "/";
        const size_t slash = rel.find('/');
        if (slash != std::string::npos) {
          const std::string dir = prefix + rel.substr(0, slash);
          files[dir] = {{"path", dir}, {"is_dir", true}};
        } else {
          files[prefix + rel] = {{"path", prefix + rel}, {"is_dir", false}, {"file_size", a.size}};
        }
      }
      std::vector<Json> list;
      for (auto& [p, f] : files) list.push_back(std::move(f));
      Page page = PageOf(list.size(), offset, 1000, fp);
      out["root_uri"] = view.artifact_uri;
      out["files"] = Json::array();
      for (size_t i = page.begin; i < page.end; ++i) out["files"].push_back(list[i]);
      if (!page.next.empty()) out["next_page_token"] = page.next;
      return Answer(out);
    }
    case RouteId::kMlflowRunSearch:
      return SearchRuns(ctx_, req);

    // ------------------------------------------------------------------- registry
    default:
      return MlflowRegistry(ctx_, call, req);
  }
}

}  // namespace almanac::serve
