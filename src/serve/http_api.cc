#include "serve/http_api.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <set>

#include "almanac/core/json.h"
#include "almanac/data.h"

#include "serve/json_out.h"

namespace almanac::serve {
namespace {

constexpr size_t kMaxTarget = 4096;
constexpr size_t kMaxSegment = 256;
constexpr size_t kMaxHistory = 100000;
constexpr size_t kMaxLevels = 10;

Json Ts(int64_t micros) { return micros == 0 ? Json(nullptr) : Json(FormatTimestamp(micros)); }

bool SafePathChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == ':' || c == '@' || c == '-';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Printable(char c) {
  if (c >= 0x21 && c < 0x7f) return std::string("'") + c + "'";
  static const char* const kHex = "0123456789abcdef";
  const auto u = static_cast<unsigned char>(c);
  return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 15];
}

Result<std::string> PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    const int hi = i + 1 < s.size() ? HexValue(s[i + 1]) : -1;
    const int lo = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) return InvalidArgumentError("bad percent escape in the URL");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// ------------------------------------------------------------------------ request bodies

// Reads the fields of a JSON object body with exact types and a did-you-mean for unknown keys.
class Fields {
 public:
  static Result<Fields> Parse(std::string_view body, std::vector<std::string> allowed, bool allow_empty) {
    Fields f;
    f.allowed_ = std::move(allowed);
    if (Trim(body).empty()) {
      if (!allow_empty) return InvalidArgumentError("the request body must be a JSON object");
      f.j_ = Json::object();
      return f;
    }
    auto j = ParseJson(body);
    if (!j.ok()) return InvalidArgumentError("malformed JSON body: " + j.status().message());
    if (!j->is_object()) return InvalidArgumentError("the request body must be a JSON object");
    f.j_ = std::move(*j);
    for (auto it = f.j_.begin(); it != f.j_.end(); ++it)
      if (std::find(f.allowed_.begin(), f.allowed_.end(), it.key()) == f.allowed_.end())
        return InvalidArgumentError("unknown field " + QuoteForMessage(it.key()) + Hint(it.key(), f.allowed_) +
                                    " (fields: " + Join(f.allowed_) + ")");
    return f;
  }

  bool Has(const std::string& k) const { return j_.contains(k) && !j_[k].is_null(); }
  const Json& Raw(const std::string& k) const { return j_[k]; }

  Result<std::string> String(const std::string& k) const {
    if (!Has(k)) return InvalidArgumentError("missing field " + QuoteForMessage(k));
    if (!j_[k].is_string()) return InvalidArgumentError("field " + QuoteForMessage(k) + " must be a string");
    return j_[k].get<std::string>();
  }
  Result<int64_t> Int(const std::string& k) const {
    if (!Has(k)) return InvalidArgumentError("missing field " + QuoteForMessage(k));
    const Json& v = j_[k];
    if (!v.is_number_integer()) return InvalidArgumentError("field " + QuoteForMessage(k) + " must be an integer");
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      return InvalidArgumentError("field " + QuoteForMessage(k) + " is out of range");
    return v.get<int64_t>();
  }

 private:
  static std::string Join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  }
  Json j_;
  std::vector<std::string> allowed_;
};

Result<int> ParseHorizon(const Fields& f) {
  ALMANAC_ASSIGN_OR_RETURN(int64_t h, f.Int("horizon"));
  if (h < 1 || h > models::kMaxHorizon)
    return InvalidArgumentError("horizon must be in 1.." + std::to_string(models::kMaxHorizon) + ", got " + std::to_string(h));
  return static_cast<int>(h);
}

Result<std::vector<double>> ParseLevels(const Fields& f, const std::vector<double>& fallback) {
  if (!f.Has("levels")) return fallback.empty() ? std::vector<double>{80, 95} : fallback;
  const Json& a = f.Raw("levels");
  if (!a.is_array()) return InvalidArgumentError("field 'levels' must be an array of numbers, e.g. [80, 95]");
  if (a.size() > kMaxLevels) return InvalidArgumentError("at most " + std::to_string(kMaxLevels) + " levels");
  std::vector<double> out;
  for (const auto& v : a) {
    if (!v.is_number()) return InvalidArgumentError("field 'levels' must hold numbers");
    const double x = v.get<double>();
    if (!(x > 0 && x < 100)) return InvalidArgumentError("level " + FormatDouble(x) + " is outside (0, 100)");
    out.push_back(x);
  }
  return out;
}

Result<VersionRef> ParseVersionRef(const Fields& f) {
  VersionRef ref;
  if (f.Has("version") && f.Has("alias")) return InvalidArgumentError("give either 'version' or 'alias', not both");
  if (f.Has("version")) {
    ALMANAC_ASSIGN_OR_RETURN(int64_t v, f.Int("version"));
    if (v < 1) return InvalidArgumentError("version must be a positive integer, got " + std::to_string(v));
    ref.version = v;
  }
  if (f.Has("alias")) {
    ALMANAC_ASSIGN_OR_RETURN(ref.alias, f.String("alias"));
    if (ref.alias != "production" && ref.alias != "staging")
      return InvalidArgumentError("unknown alias " + QuoteForMessage(ref.alias) + " (use production or staging)");
  }
  return ref;
}

Result<Date> ParseAsOf(std::string_view text, const Clock& clock) {
  auto d = Date::Parse(text);
  if (!d.ok()) return InvalidArgumentError("as_of " + QuoteForMessage(text) + " is not a date (YYYY-MM-DD)");
  if (*d > clock.Today())
    return InvalidArgumentError("as_of " + d->ToString() + " is in the future (today is " + clock.Today().ToString() + ")");
  return *d;
}

// ------------------------------------------------------------------------- rendering

struct DataInfo {
  Json fields;  // rendered into "data"
};

void AppendDoubles(std::string& out, const std::vector<double>& v) {
  out += '[';
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    json_out::Number(out, v[i]);
  }
  out += ']';
}

// The forecast response up to (not including) the request id: `{...,` so the caller appends
// `"request_id":"..."}`. InternalError when the model produced a non-finite value.
Result<std::string> RenderForecast(const LoadedVersion& lv, const std::string& label, int horizon, Period first,
                                   const models::Forecast& fc, const std::string& method, const Json& data) {
  auto finite = [](const std::vector<double>& v) {
    return std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
  };
  if (static_cast<int>(fc.mean.size()) != horizon || !finite(fc.mean))
    return InternalError("model " + lv.model + "@" + std::to_string(lv.version) + " produced a non-finite forecast");
  for (const auto& pi : fc.intervals)
    if (!finite(pi.lower) || !finite(pi.upper))
      return InternalError("model " + lv.model + "@" + std::to_string(lv.version) + " produced non-finite interval bounds");
  std::string out;
  out.reserve(256 + static_cast<size_t>(horizon) * (24 + fc.intervals.size() * 48));
  out += '{';
  json_out::Key(out, "model");
  json_out::String(out, lv.model);
  out += ",\"version\":";
  json_out::Int(out, lv.version);
  out += ",\"alias\":";
  if (label == "version")
    out += "null";
  else
    json_out::String(out, label);
  out += ",\"model_type\":";
  json_out::String(out, lv.manifest.model_type);
  out += ",\"method\":";
  json_out::String(out, method);
  out += ",\"frequency\":";
  json_out::String(out, FrequencyCode(lv.frequency));
  out += ",\"horizon\":";
  json_out::Int(out, horizon);
  out += ",\"periods\":[";
  for (int i = 0; i < horizon; ++i) {
    if (i) out += ',';
    json_out::String(out, (first + i).ToString());
  }
  out += "],\"mean\":";
  AppendDoubles(out, fc.mean);
  out += ",\"intervals\":[";
  for (size_t i = 0; i < fc.intervals.size(); ++i) {
    if (i) out += ',';
    out += "{\"level\":";
    json_out::Number(out, fc.intervals[i].level);
    out += ",\"lower\":";
    AppendDoubles(out, fc.intervals[i].lower);
    out += ",\"upper\":";
    AppendDoubles(out, fc.intervals[i].upper);
    out += '}';
  }
  out += "],\"data\":";
  out += CompactJson(data);
  out += ",\"package_sha256\":";
  json_out::String(out, lv.package_sha256);
  out += ",\"notes\":[";
  for (size_t i = 0; i < fc.notes.size(); ++i) {
    if (i) out += ',';
    json_out::String(out, fc.notes[i]);
  }
  out += "],";
  return out;
}

void Finish(HttpResponse& res, const std::string& prefix, const std::string& request_id) {
  res.body.reserve(prefix.size() + request_id.size() + 20);
  res.body = prefix;
  res.body += "\"request_id\":";
  json_out::String(res.body, request_id);
  res.body += '}';
}

void Send(HttpResponse& res, const Json& j, const std::string& request_id, int status = 200) {
  Json out = j;
  out["request_id"] = request_id;
  res.status = status;
  res.body = CompactJson(out);
}

std::string LevelsKey(const std::vector<double>& levels) {
  std::string s;
  for (double l : levels) {
    json_out::Number(s, l);
    s += ',';
  }
  return s;
}

// Refits the version's model spec on `target` and forecasts from its end.
Result<models::Forecast> Refit(const models::ForecasterRegistry& registry, const LoadedVersion& lv, const TimeSeries& target,
                               int horizon, const std::vector<double>& levels, std::string* method) {
  models::ModelSpec spec;
  if (!lv.manifest.model_spec.is_object() || !lv.manifest.model_spec.contains("type"))
    return FailedPreconditionError("the package of " + lv.model + "@" + std::to_string(lv.version) + " records no model spec");
  spec.type = lv.manifest.model_spec.value("type", "");
  spec.params = lv.manifest.model_spec.value("params", Json::object());
  ALMANAC_ASSIGN_OR_RETURN(auto model, registry.Create(spec));
  Status fit = model->Fit(models::ToFitInput(target));
  if (!fit.ok()) return fit;
  *method = model->Describe().method;
  return model->Predict(horizon, levels);
}

Json SeriesInfoJson(const store::SeriesInfo& s) {
  return {{"key", s.key},   {"frequency", std::string(FrequencyCode(s.frequency))},
          {"title", s.title}, {"unit", s.unit},
          {"seasonal_adjustment", s.seasonal_adjustment}, {"source", s.source}};
}

Json VersionJson(const store::ModelVersionRecord& v) {
  return {{"version", v.version},       {"stage", std::string(store::StageName(v.stage))},
          {"run_id", v.run_id},         {"snapshot_id", v.snapshot_id},
          {"metrics", v.metrics},       {"description", v.description},
          {"created_at", Ts(v.created_at)}, {"created_by", v.created_by},
          {"stage_changed_at", Ts(v.stage_changed_at)}, {"package", {{"name", v.artifact_name}, {"sha256", v.artifact_sha256}}}};
}

Json RequestJson(const store::PromotionRequestRecord& r) {
  return {{"id", r.id},
          {"version", r.version},
          {"target", std::string(store::StageName(r.target))},
          {"requested_by", r.requested_by},
          {"requested_at", Ts(r.requested_at)},
          {"reason", r.reason},
          {"status", std::string(store::RequestStatusName(r.status))},
          {"decided_by", r.decided_by},
          {"decided_at", Ts(r.decided_at)},
          {"decision_reason", r.decision_reason}};
}

Json ServedJson(const ServableManager& manager, const std::string& model) {
  Json served = Json::array();
  for (const auto& s : manager.Statuses()) {
    if (s.model != model) continue;
    if (s.state == ServableState::kDisabled) continue;
    Json e = {{"version", s.version}, {"state", std::string(ServableStateName(s.state))}, {"labels", s.labels}, {"since", Ts(s.since)}};
    if (!s.error.empty()) e["error"] = s.error;
    served.push_back(e);
  }
  return served;
}

Result<int64_t> VersionParam(const std::string& text) {
  auto v = ParseInt(text);
  if (!v.ok() || *v < 1) return InvalidArgumentError("version " + QuoteForMessage(text) + " is not a positive integer");
  return *v;
}

// Splits "a=1&b=2" (percent-decoded) and refuses keys outside `allowed`.
Result<std::map<std::string, std::string>> ParseQuery(std::string_view q, const std::vector<std::string>& allowed) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start < q.size()) {
    size_t amp = q.find('&', start);
    if (amp == std::string_view::npos) amp = q.size();
    std::string_view item = q.substr(start, amp - start);
    start = amp + 1;
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    ALMANAC_ASSIGN_OR_RETURN(std::string k, PercentDecode(item.substr(0, eq)));
    std::string v;
    if (eq != std::string_view::npos) {
      ALMANAC_ASSIGN_OR_RETURN(v, PercentDecode(item.substr(eq + 1)));
    }
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
      return InvalidArgumentError("unknown query parameter " + QuoteForMessage(k) +
                                  (allowed.empty() ? std::string(" (this endpoint takes none)") : Hint(k, allowed)));
    out[k] = v;
  }
  return out;
}

// ------------------------------------------------------------------------- scenarios

// Bounds of one POST /v1/scenarios request. The work is a fit, the baseline and one forecast
// per scenario. A conditional forecast solves for the shocks over all n = horizon x series
// cells (about n^3 operations: VAR, 20 series x 12 steps, one fully fixed variable: ~40 ms;
// 500 cells: ~0.5 s) and a BVAR repeats that for every posterior draw (3 series x 16 steps,
// 2000 draws: ~0.35 s); the unconditional BVAR forecast simulates draws x n values. So the
// request is refused when n, scenarios x n^3 (x draws) or draws x n is over a budget of
// about a second of one core (measured on the development machine, see docs/serving.md).
constexpr size_t kMaxScenarioSeries = 20;
constexpr size_t kMaxScenarios = 10;
constexpr int64_t kMaxScenarioCells = 500;         // horizon x series
constexpr double kMaxScenarioWork = 2.5e8;         // conditional scenarios x cells^3 (x draws for bvar)
constexpr int64_t kMaxScenarioDrawCells = 200000;  // bvar: draws x cells
constexpr int64_t kMaxScenarioLags = 48;
constexpr size_t kMaxScenarioGrid = 20;

// One conditioned variable of a requested scenario: a list (one entry per step, NaN free) or
// period -> value.
struct RequestedPath {
  std::string variable;
  std::vector<double> steps;
  std::vector<std::pair<std::string, double>> by_period;
  bool is_list = true;
};

struct RequestedScenario {
  std::string name;
  std::vector<RequestedPath> paths;
};

std::string JoinNames(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

Result<std::vector<std::string>> ParseSeriesList(const Fields& f) {
  if (!f.Has("series"))
    return InvalidArgumentError(
        "missing field 'series' (the series keys to model, e.g. [\"us:infl\", \"us:tbilrate\"])");
  const Json& a = f.Raw("series");
  if (!a.is_array()) return InvalidArgumentError("field 'series' must be an array of series keys");
  if (a.empty()) return InvalidArgumentError("field 'series' must name at least one series");
  if (a.size() > kMaxScenarioSeries)
    return InvalidArgumentError("at most " + std::to_string(kMaxScenarioSeries) + " series per scenario request, got " +
                                std::to_string(a.size()));
  std::vector<std::string> out;
  for (const auto& v : a) {
    if (!v.is_string()) return InvalidArgumentError("field 'series' must hold strings (series keys)");
    std::string key = v.get<std::string>();
    ALMANAC_RETURN_IF_ERROR(ValidateSeriesKey(key));
    if (std::find(out.begin(), out.end(), key) != out.end())
      return InvalidArgumentError("series " + QuoteForMessage(key) + " is named twice");
    out.push_back(std::move(key));
  }
  return out;
}

// The model spec of a scenario request: var (default) or bvar, with its parameters validated
// by the models component and capped here so that one request cannot ask for unbounded work.
Result<models::ModelSpec> ParseScenarioModel(const Fields& f) {
  models::ModelSpec spec{"var", Json::object()};
  if (f.Has("model")) {
    ALMANAC_ASSIGN_OR_RETURN(spec.type, f.String("model"));
  }
  if (spec.type != "var" && spec.type != "bvar") {
    const bool known = std::any_of(models::MultivariateModelTypes().begin(), models::MultivariateModelTypes().end(),
                                   [&](const auto& t) { return t.name == spec.type; });
    return InvalidArgumentError("model " + QuoteForMessage(spec.type) + " cannot run scenarios here" +
                                (known ? std::string(" (it needs every regressor's future path, so it has no baseline)")
                                       : Hint(spec.type, {"var", "bvar"})) +
                                "; use var or bvar");
  }
  if (f.Has("params")) {
    spec.params = f.Raw("params");
    if (!spec.params.is_object()) return InvalidArgumentError("field 'params' must be an object, e.g. {\"lags\": 2}");
  }
  ALMANAC_RETURN_IF_ERROR(models::ValidateMultivariateSpec(spec).WithContext("params"));
  for (const char* key : {"lags", "max_lags"}) {
    const Json& v = spec.params.contains(key) ? spec.params[key] : Json(nullptr);
    if (v.is_number() && v.get<double>() > kMaxScenarioLags)
      return InvalidArgumentError("params." + std::string(key) + " is at most " + std::to_string(kMaxScenarioLags) +
                                  " in a scenario request");
  }
  for (const char* key : {"lambda_grid", "theta_grid", "decay_grid"}) {
    const Json& v = spec.params.contains(key) ? spec.params[key] : Json(nullptr);
    if (v.is_array() && v.size() > kMaxScenarioGrid)
      return InvalidArgumentError("params." + std::string(key) + " holds at most " + std::to_string(kMaxScenarioGrid) +
                                  " values in a scenario request");
  }
  return spec;
}

Result<double> PathValue(const Json& v, const std::string& where) {
  if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
  if (!v.is_number()) return InvalidArgumentError(where + " must be a number or null");
  const double x = v.get<double>();
  if (!std::isfinite(x)) return InvalidArgumentError(where + " is not finite");
  return x;
}

// {name: {series key: [value or null per step] | {period: value}}}: checked against the
// request's series and horizon before any data is read. By-period paths are placed once the
// data's first forecast period is known (ResolvePaths).
Result<std::vector<RequestedScenario>> ParseScenarioPaths(const Fields& f, const std::vector<std::string>& series,
                                                          int horizon) {
  std::vector<RequestedScenario> out;
  if (!f.Has("scenarios")) return out;
  const Json& all = f.Raw("scenarios");
  if (!all.is_object())
    return InvalidArgumentError("field 'scenarios' must be an object {name: {series key: [value or null per step]}}");
  if (all.size() > kMaxScenarios)
    return InvalidArgumentError("at most " + std::to_string(kMaxScenarios) + " scenarios per request, got " +
                                std::to_string(all.size()));
  for (auto it = all.begin(); it != all.end(); ++it) {
    ALMANAC_RETURN_IF_ERROR(ValidateName(it.key(), "scenario name"));
    const std::string where = "scenarios." + it.key();
    if (!it.value().is_object())
      return InvalidArgumentError(where + " must be an object {series key: path} ({} for the unconditional forecast)");
    RequestedScenario sc{it.key(), {}};
    for (auto p = it.value().begin(); p != it.value().end(); ++p) {
      const std::string& var = p.key();
      const std::string pw = where + "." + var;
      if (std::find(series.begin(), series.end(), var) == series.end())
        return InvalidArgumentError(pw + ": unknown variable" + Hint(var, series) +
                                    "; the request's series are: " + JoinNames(series));
      RequestedPath rp{var, {}, {}, true};
      const Json& v = p.value();
      if (v.is_array()) {
        if (static_cast<int64_t>(v.size()) != horizon)
          return InvalidArgumentError(pw + ": the path has " + std::to_string(v.size()) +
                                      " values but the horizon is " + std::to_string(horizon) +
                                      " (one per step; null leaves a step free)");
        for (size_t i = 0; i < v.size(); ++i) {
          ALMANAC_ASSIGN_OR_RETURN(double x, PathValue(v[i], pw + "[" + std::to_string(i) + "]"));
          rp.steps.push_back(x);
        }
      } else if (v.is_object()) {
        rp.is_list = false;
        if (static_cast<int64_t>(v.size()) > horizon)
          return InvalidArgumentError(pw + ": " + std::to_string(v.size()) + " periods but the horizon is " +
                                      std::to_string(horizon));
        for (auto q = v.begin(); q != v.end(); ++q) {
          ALMANAC_ASSIGN_OR_RETURN(double x, PathValue(q.value(), pw + "." + q.key()));
          if (!std::isnan(x)) rp.by_period.emplace_back(q.key(), x);
        }
      } else {
        return InvalidArgumentError(pw +
                                    " must be an array (one number or null per step) or an object {period: number}");
      }
      sc.paths.push_back(std::move(rp));
    }
    out.push_back(std::move(sc));
  }
  return out;
}

Result<std::vector<models::PathCondition>> ResolvePaths(const RequestedScenario& sc, Period first, int horizon) {
  std::vector<models::PathCondition> out;
  for (const auto& rp : sc.paths) {
    models::PathCondition pc{rp.variable, rp.steps};
    if (!rp.is_list) {
      pc.values.assign(static_cast<size_t>(horizon), std::numeric_limits<double>::quiet_NaN());
      const std::string pw = "scenarios." + sc.name + "." + rp.variable;
      for (const auto& [text, x] : rp.by_period) {
        auto p = Period::Parse(text, first.frequency());
        if (!p.ok())
          return InvalidArgumentError(pw + "." + text + ": not a period of the data's frequency (" +
                                      std::string(FrequencyCode(first.frequency())) + ")");
        auto h = p->Diff(first);
        if (!h.ok() || *h < 0 || *h >= horizon)
          return InvalidArgumentError(pw + "." + text + ": outside the forecast horizon " + first.ToString() + ".." +
                                      (first + (horizon - 1)).ToString());
        pc.values[static_cast<size_t>(*h)] = x;
      }
    }
    out.push_back(std::move(pc));
  }
  return out;
}

// One forecast of the response: per variable its mean, interval bounds and (for scenarios)
// which steps were fixed. FailedPrecondition when a value is not finite (an explosive system
// over a long horizon), naming the variable and step.
Result<Json> MultiForecastJson(const models::MultiForecast& fc, const std::vector<models::PathCondition>& conditions,
                               const std::vector<std::string>& fit_notes) {
  auto check = [&](const std::vector<double>& v, size_t i, const char* what) -> Status {
    for (size_t h = 0; h < v.size(); ++h)
      if (!std::isfinite(v[h]))
        return FailedPreconditionError("the " + std::string(what) + " of " + fc.names[i] + " at step " +
                                       std::to_string(h + 1) + " is not finite" +
                                       (fit_notes.empty() ? std::string() : " (" + fit_notes.front() + ")"));
    return Status::Ok();
  };
  Json vars = Json::array();
  for (size_t i = 0; i < fc.names.size(); ++i) {
    ALMANAC_RETURN_IF_ERROR(check(fc.mean[i], i, "forecast"));
    Json intervals = Json::array();
    for (const auto& iv : fc.intervals) {
      ALMANAC_RETURN_IF_ERROR(check(iv.lower[i], i, "lower bound"));
      ALMANAC_RETURN_IF_ERROR(check(iv.upper[i], i, "upper bound"));
      intervals.push_back({{"level", iv.level}, {"lower", iv.lower[i]}, {"upper", iv.upper[i]}});
    }
    Json v = {{"name", fc.names[i]}, {"mean", fc.mean[i]}, {"intervals", intervals}};
    std::vector<bool> fixed(fc.mean[i].size(), false);
    for (const auto& c : conditions)
      if (c.variable == fc.names[i])
        for (size_t h = 0; h < c.values.size() && h < fixed.size(); ++h) fixed[h] = !std::isnan(c.values[h]);
    v["conditioned"] = fixed;
    vars.push_back(std::move(v));
  }
  Json notes = Json::array();
  for (const auto& n : fc.notes)
    if (std::find(fit_notes.begin(), fit_notes.end(), n) == fit_notes.end()) notes.push_back(n);
  return Json{{"interval_method", fc.interval_method}, {"notes", notes}, {"variables", vars}};
}

}  // namespace

// ------------------------------------------------------------------------------ routing

const std::vector<RouteInfo>& HttpApi::Routes() {
  static const std::vector<RouteInfo> kRoutes = {
      {RouteId::kForecast, "POST", "/v1/forecast", Permission::kForecast, false},
      {RouteId::kPredict, "POST", "/v1/models/{name}/predict", Permission::kPredict, true},
      {RouteId::kScenarios, "POST", "/v1/scenarios", Permission::kPredict, true},
      {RouteId::kSeriesList, "GET", "/v1/series", Permission::kRead, true},
      {RouteId::kSeries, "GET", "/v1/series/{key}", Permission::kRead, true},
      {RouteId::kSeriesVintages, "GET", "/v1/series/{key}/vintages", Permission::kRead, true},
      {RouteId::kModels, "GET", "/v1/models", Permission::kRead, true},
      {RouteId::kModel, "GET", "/v1/models/{name}", Permission::kRead, true},
      {RouteId::kModelVersions, "GET", "/v1/models/{name}/versions", Permission::kRead, true},
      {RouteId::kRun, "GET", "/v1/runs/{id}", Permission::kRead, true},
      {RouteId::kLineage, "GET", "/v1/lineage/{name}/{version}", Permission::kRead, true},
      {RouteId::kIngest, "POST", "/v1/ingest", Permission::kIngest, true},
      {RouteId::kPromote, "POST", "/v1/models/{name}/versions/{version}/promote", Permission::kPromote, true},
      {RouteId::kApprove, "POST", "/v1/models/{name}/versions/{version}/approve", Permission::kDecide, true},
      {RouteId::kReject, "POST", "/v1/models/{name}/versions/{version}/reject", Permission::kDecide, true},
      {RouteId::kHealthz, "GET", "/healthz", Permission::kPublic, false},
      {RouteId::kReadyz, "GET", "/readyz", Permission::kPublic, false},
      {RouteId::kMetrics, "GET", "/metrics", Permission::kPublic, false},
      {RouteId::kOpenApi, "GET", "/openapi.json", Permission::kPublic, false},
  };
  return kRoutes;
}

Status SplitTarget(std::string_view target, std::vector<std::string>* segments, std::string* query) {
  segments->clear();
  query->clear();
  if (target.size() > kMaxTarget)
    return InvalidArgumentError("the request target is longer than " + std::to_string(kMaxTarget) + " bytes");
  if (target.empty() || target[0] != '/') return InvalidArgumentError("the request target must be an absolute path");
  const size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  if (q != std::string_view::npos) *query = std::string(target.substr(q + 1));
  if (path == "/") return Status::Ok();
  size_t start = 1;
  for (;;) {
    size_t slash = path.find('/', start);
    std::string_view raw = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (raw.empty()) return InvalidArgumentError("empty path segment in " + QuoteForMessage(path));
    ALMANAC_ASSIGN_OR_RETURN(std::string seg, PercentDecode(raw));
    if (seg.size() > kMaxSegment)
      return InvalidArgumentError("a path segment is longer than " + std::to_string(kMaxSegment) + " bytes");
    if (seg == "." || seg == "..") return InvalidArgumentError("'.' and '..' are not allowed in paths");
    for (char c : seg)
      if (!SafePathChar(c))
        return InvalidArgumentError("invalid character " + Printable(c) + " in path segment " + QuoteForMessage(seg, 40) +
                                    " (allowed: letters, digits and _ . : @ -)");
    segments->push_back(std::move(seg));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
    if (start == path.size()) return InvalidArgumentError("empty path segment in " + QuoteForMessage(path));
  }
  return Status::Ok();
}

void HttpApi::Error(const Status& status, const std::string& request_id, HttpResponse& res, bool request_too_large) {
  res.status = HttpStatusFor(status, request_too_large);
  res.content_type = "application/json";
  res.cache_hit = false;
  std::string body = "{\"code\":";
  json_out::String(body, StatusCodeName(status.code()));
  body += ",\"message\":";
  json_out::String(body, status.message());
  body += ",\"request_id\":";
  json_out::String(body, request_id);
  body += '}';
  res.body = std::move(body);
  if (res.status == 401) res.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"almanac\"");
}

HttpApi::Disposition HttpApi::Handle(const HttpRequest& req, HttpResponse& res, bool may_block) const {
  try {
    std::vector<std::string> segs;
    std::string query;
    Status split = SplitTarget(req.target, &segs, &query);
    if (!split.ok()) {
      Error(split, req.request_id, res);
      return Disposition::kDone;
    }
    // Match the path against every template, then the method.
    const RouteInfo* match = nullptr;
    std::vector<std::string> params;
    std::string allow;
    // Templates split once: {"v1", "models", "{name}", ...}.
    static const std::vector<std::vector<std::string>> kTemplates = [] {
      std::vector<std::vector<std::string>> out;
      for (const auto& r : Routes()) {
        std::vector<std::string> tpl;
        for (size_t s = 1; s < r.path.size();) {
          size_t e = r.path.find('/', s);
          if (e == std::string_view::npos) e = r.path.size();
          tpl.emplace_back(r.path.substr(s, e - s));
          s = e + 1;
        }
        out.push_back(std::move(tpl));
      }
      return out;
    }();
    for (size_t ri = 0; ri < Routes().size(); ++ri) {
      const RouteInfo& r = Routes()[ri];
      const std::vector<std::string>& tpl = kTemplates[ri];
      if (tpl.size() != segs.size()) continue;
      std::vector<std::string> p;
      bool ok = true;
      for (size_t i = 0; i < tpl.size() && ok; ++i) {
        if (!tpl[i].empty() && tpl[i][0] == '{')
          p.push_back(segs[i]);
        else
          ok = tpl[i] == segs[i];
      }
      if (!ok) continue;
      if (r.method != req.method) {
        allow += (allow.empty() ? "" : ", ") + std::string(r.method);
        continue;
      }
      match = &r;
      params = std::move(p);
      break;
    }
    if (match == nullptr) {
      if (!allow.empty()) {
        res.headers.emplace_back("Allow", allow);
        Error(Status(StatusCode::kInvalidArgument, "method " + std::string(req.method) + " is not allowed here (allowed: " + allow + ")"),
              req.request_id, res);
        res.status = 405;
        return Disposition::kDone;
      }
      Error(NotFoundError("no such endpoint: " + std::string(req.method) + " " +
                          QuoteForMessage(req.target.substr(0, req.target.find('?')), 100) + " (see /openapi.json)"),
            req.request_id, res);
      return Disposition::kDone;
    }
    res.route = match->path;

    Principal who;
    if (match->permission != Permission::kPublic) {
      if (ctx_.no_auth) {
        who = {ctx_.no_auth_user, Role::kAdmin, ""};
      } else {
        std::string why;
        switch (ctx_.auth->Check(req.authorization, &who, &why)) {
          case Authenticator::Outcome::kOk:
            break;
          case Authenticator::Outcome::kUnauthenticated:
            Error(UnauthenticatedError(why), req.request_id, res);
            return Disposition::kDone;
          case Authenticator::Outcome::kNeedsStore: {
            if (!may_block) return Disposition::kNeedsWorker;
            auto p = ctx_.auth->Lookup(req.authorization);
            if (!p.ok()) {
              Error(p.status().code() == StatusCode::kUnauthenticated ? p.status()
                                                                       : UnavailableError("cannot check the token: " + p.status().message()),
                    req.request_id, res);
              return Disposition::kDone;
            }
            who = *p;
          }
        }
      }
      res.user = who.user;
      if (!RoleAllows(who.role, match->permission)) {
        std::string roles;
        for (Role r : {Role::kViewer, Role::kAnalyst, Role::kModeler, Role::kApprover, Role::kAdmin})
          if (RoleAllows(r, match->permission)) roles += (roles.empty() ? "" : ", ") + std::string(RoleName(r));
        Error(PermissionDeniedError("role " + std::string(RoleName(who.role)) + " of user " + who.user + " may not " +
                                    std::string(PermissionName(match->permission)) + " (needs " + roles + ")"),
              req.request_id, res);
        return Disposition::kDone;
      }
    }
    if (match->blocking && !may_block) return Disposition::kNeedsWorker;
    return Dispatch(*match, params, query, req, res, who, may_block);
  } catch (const std::exception& e) {
    // Never a stack trace or exception text from a library in a response; the log has it.
    if (ctx_.logger != nullptr)
      ctx_.logger->Error(std::string("internal error: ") + e.what(), {{"trace.id", req.request_id}});
    Error(InternalError("internal error (request " + req.request_id + ")"), req.request_id, res);
    return Disposition::kDone;
  }
}

HttpApi::Disposition HttpApi::Dispatch(const RouteInfo& route, const std::vector<std::string>& params,
                                       std::string_view query, const HttpRequest& req, HttpResponse& res,
                                       const Principal& who, bool may_block) const {
  const std::string& rid = req.request_id;
  // Query parameters: /v1/series/{key} takes as_of, /v1/ingest a source label.
  std::vector<std::string> allowed_query;
  if (route.id == RouteId::kSeries) allowed_query = {"as_of"};
  if (route.id == RouteId::kIngest) allowed_query = {"source"};
  auto q = ParseQuery(query, allowed_query);
  if (!q.ok()) {
    Error(q.status(), rid, res);
    return Disposition::kDone;
  }
  auto fail = [&](const Status& s) {
    Error(s, rid, res);
    return Disposition::kDone;
  };
  auto run = [&](const std::function<Status()>& fn) {
    Status s = fn();
    if (!s.ok()) Error(s, rid, res);
    return Disposition::kDone;
  };
  store::Store& st = *ctx_.store;
  registry::Registry reg(st, *ctx_.clock);

  switch (route.id) {
    case RouteId::kForecast:
      return Forecast(req, res, may_block);
    case RouteId::kPredict:
      return run([&] { return Predict(params[0], req, res); });
    case RouteId::kScenarios:
      return run([&] { return Scenarios(req, res); });
    case RouteId::kIngest:
      return run([&] { return Ingest(req, *q, who, res); });
    case RouteId::kHealthz:
      res.body = "{\"status\":\"ok\"}";
      return Disposition::kDone;
    case RouteId::kReadyz: {
      auto [store_ok, store_error] = ctx_.store_status ? ctx_.store_status() : std::make_pair(true, std::string());
      const bool models_ok = ctx_.manager->Ready();
      Json models = Json::array();
      for (const auto& s : ctx_.manager->Statuses()) {
        if (s.state == ServableState::kDisabled) continue;
        Json e = {{"model", s.model}, {"version", s.version}, {"state", std::string(ServableStateName(s.state))}, {"labels", s.labels}};
        if (!s.error.empty()) e["error"] = s.error;
        models.push_back(e);
      }
      Json j = {{"ready", store_ok && models_ok},
                {"store", store_ok ? Json({{"reachable", true}}) : Json({{"reachable", false}, {"error", store_error}})},
                {"models_loaded", models_ok},
                {"policy", FormatVersionPolicy(ctx_.manager->policy())},
                {"models", models}};
      Send(res, j, rid, store_ok && models_ok ? 200 : 503);
      return Disposition::kDone;
    }
    case RouteId::kMetrics:
      res.body = ctx_.metrics->Exposition();
      res.content_type = monitor::MetricRegistry::kContentType;
      return Disposition::kDone;
    case RouteId::kOpenApi:
      res.body = std::string(ctx_.openapi_json);
      return Disposition::kDone;
    case RouteId::kSeriesList:
      return run([&]() -> Status {
        ALMANAC_ASSIGN_OR_RETURN(auto list, st.series().ListSeries());
        Json a = Json::array();
        for (const auto& s : list) a.push_back(SeriesInfoJson(s));
        Send(res, {{"series", a}}, rid);
        return Status::Ok();
      });
    case RouteId::kSeries:
      return run([&]() -> Status {
        ALMANAC_RETURN_IF_ERROR(ValidateSeriesKey(params[0]));
        std::optional<Date> as_of;
        if (q->count("as_of")) {
          ALMANAC_ASSIGN_OR_RETURN(as_of, ParseAsOf(q->at("as_of"), *ctx_.clock));
        }
        ALMANAC_ASSIGN_OR_RETURN(store::SeriesInfo info, st.series().GetSeries(params[0]));
        ALMANAC_ASSIGN_OR_RETURN(TimeSeries ts, st.series().ReadAsOf(params[0], as_of));
        Json periods = Json::array(), values = Json::array();
        for (int64_t i = 0; i < ts.size(); ++i) {
          periods.push_back(ts.PeriodAt(i).ToString());
          auto v = ts.at(i);
          values.push_back(v ? Json(*v) : Json(nullptr));
        }
        Json j = SeriesInfoJson(info);
        j["as_of"] = as_of ? Json(as_of->ToString()) : Json(nullptr);
        j["periods"] = periods;
        j["values"] = values;
        Send(res, j, rid);
        return Status::Ok();
      });
    case RouteId::kSeriesVintages:
      return run([&]() -> Status {
        ALMANAC_RETURN_IF_ERROR(ValidateSeriesKey(params[0]));
        ALMANAC_ASSIGN_OR_RETURN(auto vs, st.series().ListVintages(params[0]));
        Json a = Json::array();
        for (const auto& v : vs)
          a.push_back({{"id", v.id},
                       {"realtime_start", v.realtime_start.ToString()},
                       {"loaded_at", Ts(v.loaded_at)},
                       {"loader", v.loader},
                       {"source", v.source},
                       {"source_sha256", v.source_hash},
                       {"kind", v.kind},
                       {"observations", v.num_observations}});
        Send(res, {{"key", params[0]}, {"vintages", a}}, rid);
        return Status::Ok();
      });
    case RouteId::kModels:
      return run([&]() -> Status {
        ALMANAC_ASSIGN_OR_RETURN(auto models, reg.ListModels());
        Json a = Json::array();
        for (const auto& m : models) {
          ALMANAC_ASSIGN_OR_RETURN(auto versions, reg.ListVersions(m.name));
          Json prod = nullptr, staging = nullptr;
          for (const auto& v : versions) {
            if (v.stage == store::Stage::kProduction) prod = v.version;
            if (v.stage == store::Stage::kStaging) staging = v.version;
          }
          a.push_back({{"name", m.name},
                       {"owner", m.owner},
                       {"description", m.description},
                       {"four_eyes", m.policy.value("four_eyes", true)},
                       {"production", prod},
                       {"staging", staging},
                       {"versions", versions.size()},
                       {"served", ServedJson(*ctx_.manager, m.name)}});
        }
        Send(res, {{"models", a}}, rid);
        return Status::Ok();
      });
    case RouteId::kModel:
      return run([&]() -> Status {
        ALMANAC_RETURN_IF_ERROR(ValidateName(params[0], "model name"));
        ALMANAC_ASSIGN_OR_RETURN(auto m, reg.GetModel(params[0]));
        ALMANAC_ASSIGN_OR_RETURN(auto requests, st.metadata().Transact<std::vector<store::PromotionRequestRecord>>(
                                                    [&](store::MetadataTxn& t) { return t.ListRequests(params[0]); }));
        Json reqs = Json::array();
        for (const auto& r : requests) reqs.push_back(RequestJson(r));
        Send(res,
             {{"name", m.name},
              {"owner", m.owner},
              {"description", m.description},
              {"policy", m.policy},
              {"card", m.card},
              {"created_at", Ts(m.created_at)},
              {"created_by", m.created_by},
              {"promotion_requests", reqs},
              {"served", ServedJson(*ctx_.manager, m.name)}},
             rid);
        return Status::Ok();
      });
    case RouteId::kModelVersions:
      return run([&]() -> Status {
        ALMANAC_RETURN_IF_ERROR(ValidateName(params[0], "model name"));
        ALMANAC_ASSIGN_OR_RETURN(auto versions, reg.ListVersions(params[0]));
        Json a = Json::array();
        for (const auto& v : versions) a.push_back(VersionJson(v));
        Send(res, {{"model", params[0]}, {"versions", a}}, rid);
        return Status::Ok();
      });
    case RouteId::kRun:
      return run([&]() -> Status {
        Json j;
        ALMANAC_RETURN_IF_ERROR(st.metadata().Run([&](store::MetadataTxn& t) -> Status {
          ALMANAC_ASSIGN_OR_RETURN(store::RunRecord r, t.GetRun(params[0]));
          ALMANAC_ASSIGN_OR_RETURN(auto ps, t.GetParams(r.id));
          ALMANAC_ASSIGN_OR_RETURN(auto ms, t.GetMetrics(r.id));
          ALMANAC_ASSIGN_OR_RETURN(auto tags, t.GetTags(r.id));
          ALMANAC_ASSIGN_OR_RETURN(auto arts, t.GetArtifacts(r.id));
          j = {{"id", r.id},
               {"experiment", r.experiment},
               {"pipeline", r.pipeline},
               {"status", std::string(store::RunStatusName(r.status))},
               {"start", Ts(r.start_time)},
               {"end", Ts(r.end_time)},
               {"user", r.user},
               {"host", r.host},
               {"pipeline_sha256", r.pipeline_hash},
               {"snapshot_id", r.snapshot_id},
               {"git_commit", r.git_commit},
               {"almanac_version", r.almanac_version},
               {"seed", r.seed},
               {"error", r.error},
               {"reproduces", r.reproduces}};
          j["params"] = Json::object();
          for (const auto& [k, v] : ps) j["params"][k] = v;
          j["metrics"] = Json::object();
          for (const auto& m : ms) j["metrics"][m.key] = m.value;  // ordered by step: the last wins
          j["tags"] = Json::object();
          for (const auto& [k, v] : tags) j["tags"][k] = v;
          j["artifacts"] = Json::array();
          for (const auto& a : arts) j["artifacts"].push_back({{"name", a.name}, {"kind", a.kind}, {"sha256", a.sha256}, {"size", a.size}});
          return Status::Ok();
        }));
        Send(res, j, rid);
        return Status::Ok();
      });
    case RouteId::kLineage:
      return run([&]() -> Status {
        ALMANAC_RETURN_IF_ERROR(ValidateName(params[0], "model name"));
        ALMANAC_ASSIGN_OR_RETURN(int64_t version, VersionParam(params[1]));
        ALMANAC_ASSIGN_OR_RETURN(registry::Lineage l, reg.GetLineage(params[0], version));
        Json vintages = Json::array();
        for (const auto& v : l.vintages)
          vintages.push_back({{"series", v.series_key}, {"vintage", v.id}, {"realtime_start", v.realtime_start.ToString()},
                              {"loaded_at", Ts(v.loaded_at)}, {"source", v.source}, {"source_sha256", v.source_hash}});
        Json approvals = Json::array();
        for (const auto& a : l.approvals) approvals.push_back(RequestJson(a));
        Json artifacts = Json::array();
        for (const auto& a : l.artifacts) artifacts.push_back({{"kind", a.kind}, {"name", a.name}, {"sha256", a.sha256}});
        Json audit = Json::array();
        for (const auto& e : l.audit)
          audit.push_back({{"seq", e.seq}, {"time", Ts(e.timestamp)}, {"actor", e.event.actor}, {"action", e.event.action},
                           {"object", e.event.object_type + ":" + e.event.object_id}, {"hash", e.hash}});
        Send(res,
             {{"model", l.model.name},
              {"version", l.version.version},
              {"stage", std::string(store::StageName(l.version.stage))},
              {"package", {{"name", l.version.artifact_name}, {"sha256", l.version.artifact_sha256}}},
              {"run", {{"id", l.run.id}, {"pipeline", l.run.pipeline}, {"pipeline_sha256", l.run.pipeline_hash},
                       {"git_commit", l.run.git_commit}, {"almanac_version", l.run.almanac_version}, {"user", l.run.user},
                       {"host", l.run.host}, {"start", Ts(l.run.start_time)}}},
              {"snapshot", l.snapshot ? Json({{"id", l.snapshot->id}, {"name", l.snapshot->name},
                                              {"as_of", l.snapshot->as_of ? Json(l.snapshot->as_of->ToString()) : Json(nullptr)}})
                                      : Json(nullptr)},
              {"vintages", vintages},
              {"artifacts", artifacts},
              {"approvals", approvals},
              {"audit", audit}},
             rid);
        return Status::Ok();
      });
    case RouteId::kPromote:
    case RouteId::kApprove:
    case RouteId::kReject:
      return run([&]() -> Status {
        ALMANAC_RETURN_IF_ERROR(ValidateName(params[0], "model name"));
        ALMANAC_ASSIGN_OR_RETURN(int64_t version, VersionParam(params[1]));
        const bool promote = route.id == RouteId::kPromote;
        ALMANAC_ASSIGN_OR_RETURN(Fields f, Fields::Parse(req.body, promote ? std::vector<std::string>{"to", "reason"}
                                                                            : std::vector<std::string>{"reason"},
                                                         /*allow_empty=*/true));
        std::string reason;
        if (f.Has("reason")) {
          ALMANAC_ASSIGN_OR_RETURN(reason, f.String("reason"));
        }
        if (reason.size() > 4096) return InvalidArgumentError("reason is longer than 4096 characters");
        // The token's user is the actor: the registry audits every change under that name, and
        // four-eyes compares it with the requester's.
        Result<registry::PromotionResult> r = InternalError("unreachable");
        if (promote) {
          store::Stage target = store::Stage::kProduction;
          if (f.Has("to")) {
            ALMANAC_ASSIGN_OR_RETURN(std::string to, f.String("to"));
            ALMANAC_ASSIGN_OR_RETURN(target, store::ParseStage(to));
          }
          r = reg.Promote(params[0], version, target, who.user, reason);
        } else if (route.id == RouteId::kApprove) {
          r = reg.Approve(params[0], version, who.user, reason);
        } else {
          r = reg.Reject(params[0], version, who.user, reason);
        }
        if (!r.ok()) return r.status();
        Json j = {{"model", params[0]},
                  {"version", r->version.version},
                  {"stage", std::string(store::StageName(r->version.stage))},
                  {"applied", r->applied},
                  {"needs_approval", r->needs_approval},
                  {"actor", who.user},
                  {"request", r->request.id != 0 ? RequestJson(r->request) : Json(nullptr)},
                  {"archived_version", r->replaced ? Json(r->replaced->version) : Json(nullptr)}};
        Send(res, j, rid, r->needs_approval ? 202 : 200);
        return Status::Ok();
      });
  }
  return fail(InternalError("unrouted endpoint"));
}

// POST /v1/ingest: NDJSON records, one batch = one load (one transaction, one vintage per
// series per realtime_start), audited with the token's user. Any bad line refuses the whole
// batch, naming the line; nothing is stored.
Status HttpApi::Ingest(const HttpRequest& req, const std::map<std::string, std::string>& query, const Principal& who,
                       HttpResponse& res) const {
  std::string label = "api";
  if (auto it = query.find("source"); it != query.end()) {
    ALMANAC_RETURN_IF_ERROR(ValidateName(it->second, "source"));
    label = it->second;
  }
  std::vector<data::NdjsonRecord> batch;
  std::string_view body = req.body;
  int64_t line_no = 0;
  while (!body.empty()) {
    const size_t nl = body.find('\n');
    std::string_view line = Trim(body.substr(0, nl));
    body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    ++line_no;
    if (line.empty()) continue;
    auto rec = data::ParseNdjsonRecord(line);
    if (!rec.ok()) return rec.status().WithContext("line " + std::to_string(line_no));
    batch.push_back(std::move(*rec));
  }
  if (batch.empty())
    return InvalidArgumentError("no records: send NDJSON, one {\"series\", \"period\", \"value\"} object per line");
  const std::string source = "push:" + label + " (POST /v1/ingest, request " + req.request_id + ")";
  ALMANAC_ASSIGN_OR_RETURN(store::LoadReport r, data::IngestBatch(batch, who.user, source, ctx_.store->series()));
  Json vintages = Json::array();
  for (const auto& v : r.vintages)
    vintages.push_back({{"series", v.series_key}, {"realtime_start", v.realtime_start.ToString()},
                        {"observations", v.num_observations}});
  Json j = {{"load_id", r.load_id},
            {"records", static_cast<int64_t>(batch.size())},
            {"series", r.series_seen},
            {"series_created", r.series_created},
            {"series_unchanged", r.series_unchanged},
            {"vintages_created", r.vintages_created},
            {"observations_written", r.observations_written},
            {"vintages", std::move(vintages)},
            {"user", who.user}};
  Send(res, j, req.request_id, 200);
  return Status::Ok();
}

HttpApi::Disposition HttpApi::Forecast(const HttpRequest& req, HttpResponse& res, bool may_block) const {
  const std::string& rid = req.request_id;
  auto fail = [&](const Status& s) {
    Error(s, rid, res);
    return Disposition::kDone;
  };
  auto f = Fields::Parse(req.body, {"model", "version", "alias", "horizon", "levels", "as_of"}, false);
  if (!f.ok()) return fail(f.status());
  auto model = f->String("model");
  if (!model.ok()) return fail(model.status());
  auto ref = ParseVersionRef(*f);
  if (!ref.ok()) return fail(ref.status());
  auto horizon = ParseHorizon(*f);
  if (!horizon.ok()) return fail(horizon.status());
  std::optional<Date> as_of;
  if (f->Has("as_of")) {
    auto text = f->String("as_of");
    if (!text.ok()) return fail(text.status());
    auto d = ParseAsOf(*text, *ctx_.clock);
    if (!d.ok()) return fail(d.status());
    as_of = *d;
  }
  auto handle = ctx_.manager->Get(*model, *ref);
  if (!handle.ok()) return fail(handle.status());
  const LoadedVersion& lv = *handle->version;
  auto levels = ParseLevels(*f, lv.manifest.levels);
  if (!levels.ok()) return fail(levels.status());
  if (as_of && !may_block) return Disposition::kNeedsWorker;

  // Everything the answer depends on: the version (by content), the label it was served under,
  // horizon, levels and as_of (whose data changes clear the cache).
  std::string key;
  const uint64_t generation = ctx_.cache->generation();
  if (ctx_.cache->enabled()) {
    key.reserve(lv.model.size() + 128);
    key += lv.model;
    key += '\x1f';
    json_out::Int(key, lv.version);
    key += '\x1f';
    key += lv.package_sha256;
    key += '\x1f';
    key += handle->label;
    key += '\x1f';
    json_out::Int(key, *horizon);
    key += '\x1f';
    key += LevelsKey(*levels);
    key += '\x1f';
    if (as_of) key += as_of->ToString();
    if (auto hit = ctx_.cache->Get(key)) {
      if (ctx_.cache_hits) ctx_.cache_hits->Inc();
      res.cache_hit = true;
      Finish(res, *hit, rid);
      return Disposition::kDone;
    }
    if (ctx_.cache_misses) ctx_.cache_misses->Inc();
  }

  Result<std::string> rendered = InternalError("unreachable");
  if (!as_of) {
    // The served model as fitted, forecasting from the end of its training data.
    auto fc = lv.forecaster->Predict(*horizon, *levels);
    if (!fc.ok()) return fail(fc.status());
    Json data = {{"snapshot_id", lv.manifest.snapshot_id},
                 {"as_of", lv.snapshot_as_of ? Json(lv.snapshot_as_of->ToString()) : Json(nullptr)},
                 {"target", lv.manifest.target},
                 {"history_end", lv.manifest.history_end},
                 {"refit", false}};
    rendered = RenderForecast(lv, handle->label, *horizon, lv.history_end + 1, *fc, lv.method, data);
    if (rendered.ok() && ctx_.record_forecast && handle->label == "production") ctx_.record_forecast(lv, *fc);
  } else {
    // as_of: the version's model spec refitted on the target as known on that date (the
    // recorded transforms applied to the input series read as of then); never data from later.
    if (lv.input_series.empty())
      return fail(FailedPreconditionError("cannot forecast " + lv.model + "@" + std::to_string(lv.version) +
                                          " as of a date: its training snapshot " + lv.manifest.snapshot_id.substr(0, 12) +
                                          " is not in this store, so its input series are unknown"));
    std::map<std::string, TimeSeries> inputs;
    for (const auto& key_name : lv.input_series) {
      auto ts = ctx_.store->series().ReadAsOf(key_name, *as_of);
      if (!ts.ok()) return fail(ts.status().WithContext("as_of " + as_of->ToString()));
      inputs[key_name] = std::move(*ts);
    }
    std::map<std::string, TimeSeries> all;
    const bool has_transforms = lv.manifest.transforms.is_array() && !lv.manifest.transforms.empty();
    if (has_transforms) {
      if (ctx_.transform == nullptr || !*ctx_.transform)
        return fail(FailedPreconditionError("this server cannot apply the transforms recorded in " + lv.model + "@" +
                                            std::to_string(lv.version) + "'s package, so it cannot refit as of a date"));
      auto derived = (*ctx_.transform)(lv.manifest.transforms, inputs);
      if (!derived.ok()) return fail(FailedPreconditionError("as_of " + as_of->ToString() + ": " + derived.status().message()));
      all = std::move(*derived);
    } else {
      all = inputs;
    }
    auto it = all.find(lv.manifest.target);
    if (it == all.end())
      return fail(FailedPreconditionError("the package's target " + lv.manifest.target + " cannot be derived from its inputs"));
    const TimeSeries target = it->second.Trimmed();
    if (target.size() < 4)
      return fail(FailedPreconditionError("as of " + as_of->ToString() + ", the target " + lv.manifest.target + " had " +
                                          std::to_string(target.size()) + " observations; at least 4 are needed to refit"));
    std::string method;
    auto fc = Refit(*ctx_.models, lv, target, *horizon, *levels, &method);
    if (!fc.ok())
      return fail(FailedPreconditionError("refitting " + lv.model + "@" + std::to_string(lv.version) + " as of " +
                                          as_of->ToString() + " failed: " + fc.status().message()));
    std::vector<store::SnapshotSeries> content{{lv.manifest.target, target}};
    auto target_id = store::SnapshotContentId(content);
    Json data = {{"snapshot_id", nullptr},
                 {"as_of", as_of->ToString()},
                 {"target", lv.manifest.target},
                 {"history_end", target.end().ToString()},
                 {"observations", target.size()},
                 {"target_sha256", target_id.ok() ? Json(*target_id) : Json(nullptr)},
                 {"refit", true}};
    rendered = RenderForecast(lv, handle->label, *horizon, target.end() + 1, *fc, method, data);
  }
  if (!rendered.ok()) return fail(rendered.status());
  auto shared = std::make_shared<const std::string>(std::move(*rendered));
  if (ctx_.cache->enabled()) ctx_.cache->Put(key, shared, generation);
  Finish(res, *shared, rid);
  return Disposition::kDone;
}

Status HttpApi::Predict(const std::string& model, const HttpRequest& req, HttpResponse& res) const {
  ALMANAC_RETURN_IF_ERROR(ValidateName(model, "model name"));
  ALMANAC_ASSIGN_OR_RETURN(Fields f, Fields::Parse(req.body, {"version", "alias", "horizon", "levels", "history"}, false));
  ALMANAC_ASSIGN_OR_RETURN(VersionRef ref, ParseVersionRef(f));
  ALMANAC_ASSIGN_OR_RETURN(int horizon, ParseHorizon(f));
  ALMANAC_ASSIGN_OR_RETURN(ServableHandle handle, ctx_.manager->Get(model, ref));
  const LoadedVersion& lv = *handle.version;
  ALMANAC_ASSIGN_OR_RETURN(std::vector<double> levels, ParseLevels(f, lv.manifest.levels));
  if (!f.Has("history"))
    return InvalidArgumentError("missing field 'history' ({\"start\": \"2001Q1\", \"values\": [...]}, in the model's frequency " +
                                std::string(FrequencyCode(lv.frequency)) + ")");
  const Json& h = f.Raw("history");
  if (!h.is_object()) return InvalidArgumentError("field 'history' must be an object {\"start\", \"values\"}");
  for (auto it = h.begin(); it != h.end(); ++it)
    if (it.key() != "start" && it.key() != "values")
      return InvalidArgumentError("unknown field " + QuoteForMessage("history." + it.key()) + " (fields: start, values)");
  if (!h.contains("start") || !h["start"].is_string()) return InvalidArgumentError("history.start must be a period, e.g. \"2001Q1\"");
  auto start = Period::Parse(h["start"].get<std::string>(), lv.frequency);
  if (!start.ok()) return InvalidArgumentError("history.start: " + start.status().message());
  if (!h.contains("values") || !h["values"].is_array()) return InvalidArgumentError("history.values must be an array of numbers");
  const Json& vals = h["values"];
  if (vals.size() > kMaxHistory) return InvalidArgumentError("history.values holds more than " + std::to_string(kMaxHistory) + " values");
  std::vector<double> values;
  values.reserve(vals.size());
  for (size_t i = 0; i < vals.size(); ++i) {
    if (vals[i].is_null()) {
      values.push_back(TimeSeries::kMissing);
    } else if (vals[i].is_number()) {
      const double x = vals[i].get<double>();
      if (!std::isfinite(x)) return InvalidArgumentError("history.values[" + std::to_string(i) + "] is not finite");
      values.push_back(x);
    } else {
      return InvalidArgumentError("history.values[" + std::to_string(i) + "] must be a number or null");
    }
  }
  ALMANAC_ASSIGN_OR_RETURN(TimeSeries history, TimeSeries::FromValues(*start, std::move(values)));
  const TimeSeries target = history.Trimmed();
  if (target.size() < 2) return InvalidArgumentError("history holds fewer than 2 observations");

  std::vector<store::SnapshotSeries> content{{"history", target}};
  ALMANAC_ASSIGN_OR_RETURN(std::string history_id, store::SnapshotContentId(content));
  std::string key = "predict\x1f" + lv.model + '\x1f' + std::to_string(lv.version) + '\x1f' + lv.package_sha256 + '\x1f' +
                    std::to_string(horizon) + '\x1f' + LevelsKey(levels) + '\x1f' + history_id;
  const uint64_t generation = ctx_.cache->generation();
  if (auto hit = ctx_.cache->Get(key)) {
    if (ctx_.cache_hits) ctx_.cache_hits->Inc();
    res.cache_hit = true;
    Finish(res, *hit, req.request_id);
    return Status::Ok();
  }
  if (ctx_.cache_misses && ctx_.cache->enabled()) ctx_.cache_misses->Inc();
  std::string method;
  auto fc = Refit(*ctx_.models, lv, target, horizon, levels, &method);
  if (!fc.ok()) return fc.status().WithContext("refitting " + lv.model + "@" + std::to_string(lv.version) + " on the given history");
  Json data = {{"source", "request"},
               {"history_start", target.start().ToString()},
               {"history_end", target.end().ToString()},
               {"observations", target.size()},
               {"history_sha256", history_id},
               {"refit", true}};
  ALMANAC_ASSIGN_OR_RETURN(std::string rendered, RenderForecast(lv, handle.label, horizon, target.end() + 1, *fc, method, data));
  auto shared = std::make_shared<const std::string>(std::move(rendered));
  ctx_.cache->Put(key, shared, generation);
  Finish(res, *shared, req.request_id);
  return Status::Ok();
}

Status HttpApi::Scenarios(const HttpRequest& req, HttpResponse& res) const {
  ALMANAC_ASSIGN_OR_RETURN(
      Fields f, Fields::Parse(req.body, {"series", "model", "params", "horizon", "levels", "as_of", "scenarios"},
                              /*allow_empty=*/false));
  ALMANAC_ASSIGN_OR_RETURN(std::vector<std::string> keys, ParseSeriesList(f));
  ALMANAC_ASSIGN_OR_RETURN(models::ModelSpec spec, ParseScenarioModel(f));
  ALMANAC_ASSIGN_OR_RETURN(int horizon, ParseHorizon(f));
  const int64_t cells = static_cast<int64_t>(horizon) * static_cast<int64_t>(keys.size());
  if (cells > kMaxScenarioCells)
    return InvalidArgumentError("horizon x series is at most " + std::to_string(kMaxScenarioCells) +
                                " in a scenario request; got " + std::to_string(horizon) + " x " +
                                std::to_string(keys.size()));
  ALMANAC_ASSIGN_OR_RETURN(std::vector<double> levels, ParseLevels(f, {}));
  std::optional<Date> as_of;
  if (f.Has("as_of")) {
    ALMANAC_ASSIGN_OR_RETURN(std::string text, f.String("as_of"));
    ALMANAC_ASSIGN_OR_RETURN(as_of, ParseAsOf(text, *ctx_.clock));
  }
  ALMANAC_ASSIGN_OR_RETURN(std::vector<RequestedScenario> requested, ParseScenarioPaths(f, keys, horizon));
  const int64_t conditional =
      std::count_if(requested.begin(), requested.end(), [](const auto& r) { return !r.paths.empty(); });
  const std::string size = "horizon " + std::to_string(horizon) + " x " + std::to_string(keys.size()) + " series";
  int64_t draws = 1;
  if (spec.type == "bvar") {
    const Json& d = spec.params.contains("draws") ? spec.params["draws"] : Json(nullptr);
    draws = d.is_number_integer() ? d.get<int64_t>() : 2000;  // the model's default
    if (draws * cells > kMaxScenarioDrawCells)
      return InvalidArgumentError("the request is too large: " + std::to_string(draws) + " draws x " + size +
                                  " is over " + std::to_string(kMaxScenarioDrawCells) +
                                  " (lower params.draws or the horizon)");
  }
  const double work =
      static_cast<double>(conditional) * std::pow(static_cast<double>(cells), 3) * static_cast<double>(draws);
  if (work > kMaxScenarioWork)
    return InvalidArgumentError(
        "the request is too large: " + std::to_string(conditional) + " conditional scenario(s) x (" + size + ")^3" +
        (spec.type == "bvar" ? " x " + std::to_string(draws) + " draws" : std::string()) + " is over the budget of " +
        FormatDouble(kMaxScenarioWork) + "; use fewer scenarios, steps, series or draws");

  // The series as known on as_of (the store's real-time read, as for /v1/forecast with as_of):
  // nothing known later is used.
  std::vector<TimeSeries> series;
  std::vector<store::SnapshotSeries> content;
  for (const auto& key : keys) {
    Result<TimeSeries> ts = ctx_.store->series().ReadAsOf(key, as_of);
    if (!ts.ok()) return as_of ? ts.status().WithContext("as_of " + as_of->ToString()) : ts.status();
    TimeSeries t = ts->Trimmed();
    if (t.empty())
      return FailedPreconditionError("series " + key + " has no observations" +
                                     (as_of ? " known on " + as_of->ToString() : std::string()));
    content.push_back({key, t});
    series.push_back(std::move(t));
  }
  ALMANAC_ASSIGN_OR_RETURN(models::MultiInput data, models::AlignSeries(keys, series));
  ALMANAC_ASSIGN_OR_RETURN(std::string data_id, store::SnapshotContentId(content));
  ALMANAC_ASSIGN_OR_RETURN(std::unique_ptr<models::MultivariateForecaster> model, models::CreateMultivariate(spec));
  ALMANAC_RETURN_IF_ERROR(model->Fit(data).WithContext("fitting " + spec.type + " on " + JoinNames(keys)));
  ALMANAC_ASSIGN_OR_RETURN(models::MultiDescription desc, model->Describe());
  const Period first = *data.start + data.size();

  ALMANAC_ASSIGN_OR_RETURN(models::MultiForecast base, model->Predict({.horizon = horizon, .levels = levels}));
  auto baseline = MultiForecastJson(base, {}, desc.notes);
  if (!baseline.ok()) return baseline.status().WithContext("baseline");
  Json scenarios = Json::array();
  for (const auto& sc : requested) {
    ALMANAC_ASSIGN_OR_RETURN(std::vector<models::PathCondition> conditions, ResolvePaths(sc, first, horizon));
    auto fc = model->Predict({.horizon = horizon, .levels = levels, .conditions = conditions});
    if (!fc.ok()) return fc.status().WithContext("scenario " + sc.name);
    auto j = MultiForecastJson(*fc, conditions, desc.notes);
    if (!j.ok()) return j.status().WithContext("scenario " + sc.name);
    Json paths = Json::object();
    for (const auto& c : conditions) {
      Json p = Json::array();
      for (double x : c.values) p.push_back(std::isnan(x) ? Json(nullptr) : Json(x));
      paths[c.variable] = std::move(p);
    }
    (*j)["name"] = sc.name;
    (*j)["paths"] = std::move(paths);
    scenarios.push_back(std::move(*j));
  }
  Json periods = Json::array();
  for (int h = 0; h < horizon; ++h) periods.push_back((first + h).ToString());
  Json j = {{"model", spec.type},
            {"params", spec.params},
            {"method", desc.method},
            {"series", keys},
            {"frequency", std::string(FrequencyCode(first.frequency()))},
            {"horizon", horizon},
            {"levels", levels},
            {"periods", periods},
            {"data",
             {{"as_of", as_of ? Json(as_of->ToString()) : Json(nullptr)},
              {"start", data.start->ToString()},
              {"end", (first - 1).ToString()},
              {"observations", data.size()},
              {"data_sha256", data_id}}},
            {"notes", desc.notes},
            {"baseline", std::move(*baseline)},
            {"scenarios", std::move(scenarios)}};
  Send(res, j, req.request_id);
  return Status::Ok();
}

}  // namespace almanac::serve
