// POST /v1/risk/portfolio: the stress test of `almanac risk portfolio` (risk::RunStressTest)
// over HTTP. The request carries as JSON what the command reads from files (positions, asset
// returns, FX rates, scenarios); the macro series are read from the store as known on a date.
// The answer is risk::StressTestJson's report plus the inputs' SHA-256 and the settings, as in
// the command's -o file. Nothing is stored. docs/risk.md, "REST".
#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

#include "almanac/core.h"
#include "almanac/data.h"
#include "almanac/data/transforms.h"
#include "almanac/registry.h"
#include "almanac/risk.h"

#include "serve/api_common.h"

namespace almanac::serve {
namespace {

using api::Fields;
using api::JsonResponse;
using api::ParseAsOf;

// Bounds of one request: the work is a VAR fit, the factor regressions and, per scenario,
// paths x horizon simulated steps revalued per asset. 100,000 paths x 8 steps of a VAR(2) on
// 10 variables take about a second of one core (docs/benchmarks.md, "Issue 24"), so the
// product scenarios x paths x horizon is capped at that, and positions, assets, series,
// scenarios and lags each at a size well beyond a sample portfolio.
constexpr int64_t kMaxRiskPaths = 100000;
constexpr int64_t kMaxRiskPathSteps = 800000;  // scenarios x paths x horizon
constexpr size_t kMaxRiskSeries = 20;
constexpr size_t kMaxRiskPositions = 10000;
constexpr size_t kMaxRiskAssets = 200;
constexpr size_t kMaxRiskScenarios = 10;
constexpr int64_t kMaxRiskLags = 12;
constexpr size_t kMaxRiskLevels = 5;

Result<std::vector<std::string>> RiskStringList(const Fields& f, const std::string& key) {
  std::vector<std::string> out;
  if (!f.Has(key)) return out;
  const Json& a = f.Raw(key);
  if (!a.is_array()) return InvalidArgumentError("field '" + key + "' must be an array of strings");
  for (size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_string()) return InvalidArgumentError(key + "[" + std::to_string(i) + "] must be a string");
    std::string s = a[i].get<std::string>();
    if (std::find(out.begin(), out.end(), s) != out.end())
      return InvalidArgumentError(key + "[" + std::to_string(i) + "]: " + QuoteForMessage(s) + " is named twice");
    out.push_back(std::move(s));
  }
  return out;
}

Result<bool> RiskBool(const Fields& f, const std::string& key, bool fallback) {
  if (!f.Has(key)) return fallback;
  if (!f.Raw(key).is_boolean()) return InvalidArgumentError("field '" + key + "' must be true or false");
  return f.Raw(key).get<bool>();
}

Result<double> RiskNumber(const Fields& f, const std::string& key, double fallback, double lo, double hi) {
  if (!f.Has(key)) return fallback;
  const Json& v = f.Raw(key);
  if (!v.is_number()) return InvalidArgumentError("field '" + key + "' must be a number");
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < lo || x > hi)
    return InvalidArgumentError("field '" + key + "' must be in " + FormatDouble(lo) + ".." + FormatDouble(hi) +
                                ", got " + FormatDouble(x));
  return x;
}

Result<int64_t> RiskInt(const Fields& f, const std::string& key, int64_t fallback, int64_t lo, int64_t hi) {
  if (!f.Has(key)) return fallback;
  const Json& v = f.Raw(key);
  if (!v.is_number_integer())
    return InvalidArgumentError("field '" + key + "' must be an integer in " + std::to_string(lo) + ".." +
                                std::to_string(hi));
  const int64_t x = v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)
                        ? INT64_MAX
                        : v.get<int64_t>();
  if (x < lo || x > hi)
    return InvalidArgumentError("field '" + key + "' must be an integer in " + std::to_string(lo) + ".." +
                                std::to_string(hi) + ", got " + std::to_string(x));
  return x;
}

// A field that is either the text of the file the CLI reads (a string) or its JSON form
// (positions: an array or {"positions": [...]}; scenarios: the YAML's mapping as an object,
// which is YAML too). Returns the text the parser reads.
Result<std::string> RiskText(const Fields& f, const std::string& key, bool allow_json) {
  const Json& v = f.Raw(key);
  if (v.is_string()) return v.get<std::string>();
  if (allow_json && (v.is_array() || v.is_object())) return v.dump();
  return InvalidArgumentError("field '" + key + "' must be " +
                              (allow_json ? std::string("a string (the file's text) or JSON") : std::string("a string")));
}

// "fx": CSV text currency,rate or an object {currency: rate}.
Result<risk::FxRates> ParseRiskFx(const Fields& f, const std::string& base) {
  std::string text = "currency,rate\n";
  if (f.Has("fx")) {
    const Json& v = f.Raw("fx");
    if (v.is_string()) {
      text = v.get<std::string>();
    } else if (v.is_object()) {
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!it.value().is_number())
          return InvalidArgumentError("fx." + it.key() + " must be a number (units of " + base + " per unit)");
        if (it.key().find_first_of(",\n\r") != std::string::npos)
          return InvalidArgumentError("fx: " + QuoteForMessage(it.key()) + " is not a currency code");
        text += it.key() + "," + FormatDouble(it.value().get<double>()) + "\n";
      }
    } else {
      return InvalidArgumentError("field 'fx' must be CSV text (currency,rate) or an object {currency: rate}");
    }
  }
  return risk::ParseFxRates(text, "fx", base);
}

// "return_series": {asset: series key}: each asset's return history from the store (as of the
// request's date), on the periods where every asset has a value.
Result<risk::AssetReturns> ReadReturnSeries(const Json& spec, store::SeriesStore& series,
                                            const std::optional<Date>& as_of) {
  if (!spec.is_object() || spec.empty())
    return InvalidArgumentError("field 'return_series' must be an object {asset: series key}");
  if (spec.size() > kMaxRiskAssets)
    return InvalidArgumentError("at most " + std::to_string(kMaxRiskAssets) + " assets per request");
  risk::AssetReturns out;
  std::vector<TimeSeries> all;
  for (auto it = spec.begin(); it != spec.end(); ++it) {
    const std::string where = "return_series." + it.key();
    if (!it.value().is_string()) return InvalidArgumentError(where + " must be a series key");
    const std::string key = it.value().get<std::string>();
    ALMANAC_RETURN_IF_ERROR(ValidateSeriesKey(key).WithContext(where));
    Result<TimeSeries> ts = series.ReadAsOf(key, as_of);
    if (!ts.ok()) return ts.status().WithContext(where);
    TimeSeries t = ts->Trimmed();
    if (t.empty()) return InvalidArgumentError(where + ": series " + key + " has no observations");
    out.assets.push_back(it.key());
    all.push_back(std::move(t));
  }
  // The periods where every asset has a finite value, in order.
  auto aligned = risk::AlignAssetReturns(out.assets, all);
  if (!aligned.ok()) return aligned.status().WithContext("return_series");
  return aligned;
}

// ---------------------------------------------------------- parts shared by the risk routes

// Positions and FX rates: what both routes read first.
Status ParsePortfolioFields(const Fields& f, risk::StressTestRequest& sreq, Json& inputs) {
  if (!f.Has("positions"))
    return InvalidArgumentError(
        "missing field 'positions' (an array of {asset, exposure, currency?, id?}, or CSV text)");
  ALMANAC_ASSIGN_OR_RETURN(std::string positions_text, RiskText(f, "positions", /*allow_json=*/true));
  ALMANAC_ASSIGN_OR_RETURN(sreq.positions, risk::ParsePositions(positions_text, "positions"));
  if (sreq.positions.size() > kMaxRiskPositions)
    return InvalidArgumentError("at most " + std::to_string(kMaxRiskPositions) + " positions per request, got " +
                                std::to_string(sreq.positions.size()));
  inputs["positions"] = {{"sha256", Sha256Hex(positions_text)}};
  std::string base = "USD";
  if (f.Has("base_currency")) {
    ALMANAC_ASSIGN_OR_RETURN(base, f.String("base_currency"));
  }
  ALMANAC_ASSIGN_OR_RETURN(sreq.fx, ParseRiskFx(f, base));
  if (f.Has("fx"))
    inputs["fx"] = {{"sha256", Sha256Hex(f.Raw("fx").is_string() ? f.Raw("fx").get<std::string>() : f.Raw("fx").dump())}};
  return Status::Ok();
}

// The macro model: `model` and `params` over the scenario file's (type and params), if any.
Result<models::ModelSpec> ParseModelFields(const Fields& f, const std::optional<models::ScenarioSet>& scenarios) {
  std::string type;
  Json base_params = Json::object();
  if (f.Has("model")) {
    ALMANAC_ASSIGN_OR_RETURN(type, f.String("model"));
  }
  if (scenarios && (type.empty() || type == scenarios->model_type.value_or(""))) {
    type = scenarios->model_type.value_or("var");
    base_params = scenarios->model_params;
  }
  if (type.empty()) type = "var";
  if (type != "var" && type != "bvar")
    return InvalidArgumentError("model " + QuoteForMessage(type) + " cannot run a stress test" +
                                Hint(type, {"var", "bvar"}) + "; use var or bvar");
  Json params = base_params.is_object() ? base_params : Json::object();
  if (f.Has("params")) {
    const Json& p = f.Raw("params");
    if (!p.is_object()) return InvalidArgumentError("field 'params' must be an object, e.g. {\"lags\": 2}");
    for (auto it = p.begin(); it != p.end(); ++it) params[it.key()] = it.value();
  }
  models::ModelSpec spec{type, params};
  ALMANAC_RETURN_IF_ERROR(models::ValidateMultivariateSpec(spec).WithContext("params"));
  for (const char* key : {"lags", "max_lags"})
    if (params.contains(key) && params[key].is_number() && params[key].get<double>() > kMaxRiskLags)
      return InvalidArgumentError("params." + std::string(key) + " is at most " + std::to_string(kMaxRiskLags) +
                                  " in a risk request");
  if (type == "bvar" && params.contains("draws") && params["draws"].is_number() &&
      params["draws"].get<double>() > 10000)
    return InvalidArgumentError("params.draws is at most 10000 in a risk request");
  return spec;
}

// The macro series keys (default: `fallback`, the scenario file's list) and `as_of`.
Result<std::vector<std::string>> ParseSeriesField(const Fields& f, const std::vector<std::string>& fallback) {
  ALMANAC_ASSIGN_OR_RETURN(std::vector<std::string> keys, RiskStringList(f, "series"));
  if (keys.empty()) keys = fallback;
  if (keys.empty())
    return InvalidArgumentError("missing field 'series' (the macro series keys; or the scenarios' 'series' list)");
  if (keys.size() > kMaxRiskSeries)
    return InvalidArgumentError("at most " + std::to_string(kMaxRiskSeries) + " series per risk request, got " +
                                std::to_string(keys.size()));
  for (const auto& k : keys) ALMANAC_RETURN_IF_ERROR(ValidateSeriesKey(k).WithContext("series"));
  return keys;
}

// Factor and simulation settings common to both routes (the command's options and defaults).
Status ParseFactorFields(const Fields& f, risk::StressTestRequest& sreq) {
  ALMANAC_ASSIGN_OR_RETURN(sreq.factors, RiskStringList(f, "factors"));
  ALMANAC_ASSIGN_OR_RETURN(sreq.factor_changes, RiskBool(f, "factor_changes", false));
  ALMANAC_ASSIGN_OR_RETURN(int64_t nw_lags, RiskInt(f, "nw_lags", -1, -1, 100));
  sreq.factor_options.lags = static_cast<int>(nw_lags);
  ALMANAC_ASSIGN_OR_RETURN(sreq.risk.parameter_uncertainty, RiskBool(f, "parameter_uncertainty", true));
  ALMANAC_ASSIGN_OR_RETURN(sreq.risk.residuals, RiskBool(f, "residuals", true));
  ALMANAC_ASSIGN_OR_RETURN(sreq.risk.t_dof, RiskNumber(f, "t_dof", 5, 2.0001, 1000));
  ALMANAC_ASSIGN_OR_RETURN(int64_t seed, RiskInt(f, "seed", 42, 0, INT64_MAX));
  sreq.risk.seed = static_cast<std::uint64_t>(seed);
  sreq.risk.threads = 1;  // one worker thread per request; the result does not depend on it
  return Status::Ok();
}

// Asset returns: CSV text, or series of the store as known on `as_of`.
Status ParseReturnsFields(const Fields& f, store::SeriesStore& series, const std::optional<Date>& as_of,
                          risk::StressTestRequest& sreq, Json& inputs) {
  if (f.Has("returns") == f.Has("return_series"))
    return InvalidArgumentError(
        "give exactly one of 'returns' (CSV text period,ASSET,...) and 'return_series' ({asset: series key})");
  if (f.Has("returns")) {
    ALMANAC_ASSIGN_OR_RETURN(std::string text, RiskText(f, "returns", /*allow_json=*/false));
    ALMANAC_ASSIGN_OR_RETURN(sreq.returns, risk::ParseAssetReturns(text, "returns"));
    inputs["returns"] = {{"sha256", Sha256Hex(text)}};
  } else {
    ALMANAC_ASSIGN_OR_RETURN(sreq.returns, ReadReturnSeries(f.Raw("return_series"), series, as_of));
    inputs["return_series"] = f.Raw("return_series");
  }
  if (sreq.returns.assets.size() > kMaxRiskAssets)
    return InvalidArgumentError("at most " + std::to_string(kMaxRiskAssets) + " assets per request, got " +
                                std::to_string(sreq.returns.assets.size()));
  return Status::Ok();
}

// The macro data as known on `as_of`, as `almanac risk portfolio` reads the workspace, each
// series transformed by `transform` (a registered version's, e.g. dlog; "none" by default).
Result<models::MultiInput> ReadMacroSeries(store::SeriesStore& store, const std::vector<std::string>& keys,
                                           const std::optional<Date>& as_of, const std::string& transform = "none") {
  std::vector<TimeSeries> series;
  for (const auto& key : keys) {
    Result<TimeSeries> ts = store.ReadAsOf(key, as_of);
    if (!ts.ok()) return as_of ? ts.status().WithContext("as_of " + as_of->ToString()) : ts.status();
    TimeSeries t = ts->Trimmed();
    if (t.empty())
      return InvalidArgumentError("series " + key + " has no observations" +
                                  (as_of ? " known on " + as_of->ToString() : std::string()));
    if (transform != "none") {
      ALMANAC_ASSIGN_OR_RETURN(t, data::TransformSeries(t, transform, key));
    }
    series.push_back(std::move(t));
  }
  return models::AlignSeries(keys, series);
}

// A registered var/bvar version named by "registered_model" (or by "model") as NAME@VERSION
// (issue 24): the model, its variables and the transform they were fitted on.
struct RegisteredMacro {
  std::shared_ptr<const models::MultivariateForecaster> model;
  std::string id;  // NAME@N
  std::string sha256;
  std::vector<std::string> variables;
  std::string transform = "none";
};

// Null when the request names no registered version. NotFound for an unknown model or
// version, FailedPrecondition naming the version and its type for a univariate one;
// InvalidArgument when 'params' is also given. Reads only.
Result<std::optional<RegisteredMacro>> ParseRegisteredModel(const Fields& f, store::Store& store,
                                                            store::ArtifactStore* artifacts, const Clock& clock) {
  std::string ref;
  if (f.Has("registered_model")) {
    ALMANAC_ASSIGN_OR_RETURN(ref, f.String("registered_model"));
    if (f.Has("model"))
      return InvalidArgumentError("give one of 'model' (var or bvar, fitted on the series) and 'registered_model'");
  } else if (f.Has("model") && f.Raw("model").is_string() &&
             f.Raw("model").get<std::string>().find('@') != std::string::npos) {
    ref = f.Raw("model").get<std::string>();
  } else {
    return std::optional<RegisteredMacro>();
  }
  if (f.Has("params"))
    return InvalidArgumentError("field 'params' does not apply to the registered model " + ref +
                                " (it is simulated as it was fitted)");
  if (artifacts == nullptr) return UnavailableError("this server has no artifact store to read " + ref + " from");
  registry::Registry reg(store, clock);
  ALMANAC_ASSIGN_OR_RETURN(registry::VersionPackage vp, registry::ReadVersionPackage(reg, *artifacts, ref));
  RegisteredMacro out;
  ALMANAC_ASSIGN_OR_RETURN(out.model,
                           risk::LoadMacroModel(vp.id, vp.package.manifest.model_type, vp.package.model_envelope));
  out.id = vp.id;
  out.sha256 = vp.version.artifact_sha256;
  out.variables = vp.package.manifest.variables;
  ALMANAC_ASSIGN_OR_RETURN(out.transform, data::RecordedSeriesTransform(vp.package.manifest.transforms));
  return std::optional<RegisteredMacro>(std::move(out));
}

}  // namespace

Result<HttpResponse> HttpApi::RiskPortfolio(ApiCall& call) const {
  const HttpRequest& req = call.req;
  ALMANAC_ASSIGN_OR_RETURN(
      Fields f, Fields::Parse(req.body,
                              {"series", "as_of", "model", "registered_model", "params", "positions", "returns",
                               "return_series", "fx", "base_currency", "scenarios", "only", "factors",
                               "factor_changes", "nw_lags", "paths", "horizon", "shocks", "shock_dof",
                               "model_parameter_uncertainty", "parameter_uncertainty", "residuals", "levels", "t_dof",
                               "seed"},
                              /*allow_empty=*/false));
  risk::StressTestRequest sreq;
  Json inputs = Json::object();
  ALMANAC_RETURN_IF_ERROR(ParsePortfolioFields(f, sreq, inputs));

  // Scenarios (the scenario YAML of `almanac scenario`, as text or as a JSON object).
  std::optional<int> file_horizon;
  if (f.Has("scenarios")) {
    ALMANAC_ASSIGN_OR_RETURN(std::string text, RiskText(f, "scenarios", /*allow_json=*/true));
    ALMANAC_ASSIGN_OR_RETURN(sreq.scenarios, models::ParseScenarios(text, "scenarios"));
    if (sreq.scenarios->scenarios.size() > kMaxRiskScenarios)
      return InvalidArgumentError("at most " + std::to_string(kMaxRiskScenarios) + " scenarios per request, got " +
                                  std::to_string(sreq.scenarios->scenarios.size()));
    inputs["scenarios"] = {{"sha256", Sha256Hex(text)}};
    file_horizon = sreq.scenarios->horizon;
  }
  ALMANAC_ASSIGN_OR_RETURN(std::optional<RegisteredMacro> registered,
                           ParseRegisteredModel(f, *ctx_.store, ctx_.artifacts, *ctx_.clock));
  if (registered) {
    sreq.model = registered->model->spec();
    sreq.fitted_model = registered->model;
    inputs["registered_model"] = {{"version", registered->id}, {"sha256", registered->sha256}};
  } else {
    ALMANAC_ASSIGN_OR_RETURN(sreq.model, ParseModelFields(f, sreq.scenarios));
  }

  // Macro series (default: the registered version's variables, else the scenarios' list).
  ALMANAC_ASSIGN_OR_RETURN(
      std::vector<std::string> keys,
      ParseSeriesField(f, registered ? registered->variables
                                     : sreq.scenarios ? sreq.scenarios->series : std::vector<std::string>{}));
  std::optional<Date> as_of;
  if (f.Has("as_of")) {
    ALMANAC_ASSIGN_OR_RETURN(std::string text, f.String("as_of"));
    ALMANAC_ASSIGN_OR_RETURN(as_of, ParseAsOf(text, *ctx_.clock));
  }

  // Settings (the command's options and defaults).
  ALMANAC_ASSIGN_OR_RETURN(int64_t horizon, RiskInt(f, "horizon", file_horizon.value_or(models::kDefaultHorizon), 1,
                                                    models::kMaxHorizon));
  sreq.horizon = static_cast<int>(horizon);
  ALMANAC_ASSIGN_OR_RETURN(int64_t paths, RiskInt(f, "paths", 10000, 2, kMaxRiskPaths));
  sreq.num_paths = static_cast<int>(paths);
  const int64_t runs = sreq.scenarios ? static_cast<int64_t>(sreq.scenarios->scenarios.size()) : 1;
  if (runs * paths * horizon > kMaxRiskPathSteps)
    return InvalidArgumentError("the request is too large: " + std::to_string(runs) + " scenario(s) x " +
                                std::to_string(paths) + " paths x horizon " + std::to_string(horizon) + " is over " +
                                std::to_string(kMaxRiskPathSteps) + "; use fewer paths, scenarios or steps");
  ALMANAC_ASSIGN_OR_RETURN(sreq.only, RiskStringList(f, "only"));
  ALMANAC_RETURN_IF_ERROR(ParseFactorFields(f, sreq));
  std::string shocks = "gaussian";
  if (f.Has("shocks")) {
    ALMANAC_ASSIGN_OR_RETURN(shocks, f.String("shocks"));
  }
  ALMANAC_ASSIGN_OR_RETURN(sreq.shocks, models::ParseShockDistribution(shocks));
  ALMANAC_ASSIGN_OR_RETURN(sreq.shock_dof, RiskNumber(f, "shock_dof", 5, 2.0001, 1000));
  ALMANAC_ASSIGN_OR_RETURN(sreq.model_parameter_uncertainty, RiskBool(f, "model_parameter_uncertainty", false));
  if (f.Has("levels")) {
    const Json& l = f.Raw("levels");
    if (!l.is_array() || l.empty() || l.size() > kMaxRiskLevels)
      return InvalidArgumentError("field 'levels' must be an array of 1 to " + std::to_string(kMaxRiskLevels) +
                                  " confidence levels in (0, 1), e.g. [0.95, 0.99]");
    sreq.risk.levels.clear();
    for (size_t i = 0; i < l.size(); ++i) {
      if (!l[i].is_number() || !(l[i].get<double>() > 0 && l[i].get<double>() < 1))
        return InvalidArgumentError("levels[" + std::to_string(i) +
                                    "] must be a confidence level in (0, 1), e.g. 0.99 (not 99)");
      sreq.risk.levels.push_back(l[i].get<double>());
    }
  }
  ALMANAC_RETURN_IF_ERROR(ParseReturnsFields(f, ctx_.store->series(), as_of, sreq, inputs));
  ALMANAC_ASSIGN_OR_RETURN(sreq.data, ReadMacroSeries(ctx_.store->series(), keys, as_of,
                                                      registered ? registered->transform : std::string("none")));

  ALMANAC_ASSIGN_OR_RETURN(risk::StressTestResult result, risk::RunStressTest(sreq));
  Json report = risk::StressTestJson(result);
  inputs["series"] = keys;
  inputs["as_of"] = as_of ? Json(as_of->ToString()) : Json(nullptr);
  report["inputs"] = inputs;
  report["settings"] = {{"paths", sreq.num_paths},
                        {"horizon", sreq.horizon},
                        {"seed", sreq.risk.seed},
                        {"shocks", std::string(models::ShockDistributionName(sreq.shocks))},
                        {"factor_changes", sreq.factor_changes},
                        {"parameter_uncertainty", sreq.risk.parameter_uncertainty},
                        {"residuals", sreq.risk.residuals},
                        {"levels", sreq.risk.levels},
                        {"t_dof", sreq.risk.t_dof}};
  return JsonResponse(report, req.request_id);
}

// POST /v1/risk/var-backtest: risk::BacktestPortfolioAsOf, the as-of VaR backtest of
// `almanac risk var-backtest`, on the store's vintages. Each origin's macro data are the
// series as known on the first day after it (never after today); the returns are CSV text or
// series read as of `as_of` (default: latest). Nothing is stored; answers are not cached.
Result<HttpResponse> HttpApi::RiskVarBacktest(ApiCall& call) const {
  const HttpRequest& req = call.req;
  ALMANAC_ASSIGN_OR_RETURN(
      Fields f, Fields::Parse(req.body,
                              {"series", "as_of", "model", "params", "positions", "returns", "return_series", "fx",
                               "base_currency", "factors", "factor_changes", "nw_lags", "paths", "from", "to", "level",
                               "parameter_uncertainty", "residuals", "t_dof", "seed"},
                              /*allow_empty=*/false));
  risk::AsOfBacktestRequest bt;
  risk::StressTestRequest& sreq = bt.base;
  Json inputs = Json::object();
  ALMANAC_RETURN_IF_ERROR(ParsePortfolioFields(f, sreq, inputs));
  ALMANAC_ASSIGN_OR_RETURN(sreq.model, ParseModelFields(f, std::nullopt));
  ALMANAC_ASSIGN_OR_RETURN(std::vector<std::string> keys, ParseSeriesField(f, {}));
  std::optional<Date> as_of;
  if (f.Has("as_of")) {
    ALMANAC_ASSIGN_OR_RETURN(std::string text, f.String("as_of"));
    ALMANAC_ASSIGN_OR_RETURN(as_of, ParseAsOf(text, *ctx_.clock));
  }
  // Origins.
  for (const char* key : {"from", "to"})
    if (!f.Has(key)) return InvalidArgumentError(std::string("missing field '") + key + "' (an origin period, e.g. 2005Q1)");
  ALMANAC_ASSIGN_OR_RETURN(std::string from_text, f.String("from"));
  ALMANAC_ASSIGN_OR_RETURN(std::string to_text, f.String("to"));
  auto from = Period::Parse(from_text);
  if (!from.ok()) return from.status().WithContext("field 'from'");
  auto to = Period::Parse(to_text);
  if (!to.ok()) return to.status().WithContext("field 'to'");
  auto span = to->Diff(*from);
  if (!span.ok()) return InvalidArgumentError("fields 'from' and 'to' must be periods of one frequency");
  if (*span < 0) return InvalidArgumentError("field 'to' (" + to_text + ") is before 'from' (" + from_text + ")");
  const Date last_as_of = (*to + 1).StartDate();
  if (last_as_of > ctx_.clock->Today())
    return InvalidArgumentError("field 'to': origin " + to_text + " needs the data as known on " +
                                last_as_of.ToString() + ", which is in the future (today is " +
                                ctx_.clock->Today().ToString() + ")");
  ALMANAC_ASSIGN_OR_RETURN(int64_t paths, RiskInt(f, "paths", 2000, 2, kMaxRiskPaths));
  if ((*span + 1) * paths > kMaxRiskPathSteps)
    return InvalidArgumentError("the request is too large: " + std::to_string(*span + 1) + " origin(s) x " +
                                std::to_string(paths) + " paths is over " + std::to_string(kMaxRiskPathSteps) +
                                "; use fewer paths or origins");
  sreq.num_paths = static_cast<int>(paths);
  for (int64_t i = 0; i <= *span; ++i) bt.origins.push_back(*from + i);
  ALMANAC_ASSIGN_OR_RETURN(bt.level, RiskNumber(f, "level", 0.99, 0, 1));
  if (!(bt.level > 0 && bt.level < 1))
    return InvalidArgumentError("field 'level' must be a confidence level in (0, 1), e.g. 0.99 (not 99)");
  sreq.risk.levels = {bt.level};
  ALMANAC_RETURN_IF_ERROR(ParseFactorFields(f, sreq));
  ALMANAC_RETURN_IF_ERROR(ParseReturnsFields(f, ctx_.store->series(), as_of, sreq, inputs));
  // Every series must exist before the origins are walked (a 404 names it).
  for (const auto& key : keys) ALMANAC_RETURN_IF_ERROR(ctx_.store->series().ReadAsOf(key, std::nullopt).status());
  store::SeriesStore& store = ctx_.store->series();
  bt.data_as_of = [&](Date date) { return ReadMacroSeries(store, keys, date); };

  ALMANAC_ASSIGN_OR_RETURN(risk::AsOfBacktestResult r, risk::BacktestPortfolioAsOf(bt));
  inputs["series"] = keys;
  inputs["as_of"] = as_of ? Json(as_of->ToString()) : Json(nullptr);
  Json out = risk::AsOfBacktestJson(r);
  out["inputs"] = inputs;
  out["settings"] = {{"from", from_text}, {"to", to_text}, {"level", bt.level}, {"paths", sreq.num_paths},
                     {"seed", sreq.risk.seed}, {"factors", sreq.factors}, {"factor_changes", sreq.factor_changes},
                     {"model", {{"type", sreq.model.type}, {"params", sreq.model.params}}}};
  return JsonResponse(out, req.request_id);
}

}  // namespace almanac::serve
