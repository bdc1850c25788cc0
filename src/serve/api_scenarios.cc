// POST /v1/scenarios: VAR/BVAR/ARIMAX baseline and conditional (scenario) forecasts on series of
// the store, as known on a date.
#include <algorithm>
#include <cmath>
#include <optional>

#include "serve/api_common.h"

namespace almanac::serve {
namespace {

using api::Fields;
using api::JsonResponse;
using api::ParseAsOf;
using api::ParseHorizon;
using api::ParseLevels;

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
                                    "; the request's series are: " + JoinList(series));
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

Result<HttpResponse> HttpApi::Scenarios(ApiCall& call) const {
  const HttpRequest& req = call.req;
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
  ALMANAC_RETURN_IF_ERROR(model->Fit(data).WithContext("fitting " + spec.type + " on " + JoinList(keys)));
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
      for (double x : c.values) p.push_back(FiniteOrNull(x));
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
  return JsonResponse(j, req.request_id);
}

}  // namespace almanac::serve
