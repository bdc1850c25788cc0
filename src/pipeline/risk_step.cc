// The risk steps of a pipeline (issue 24): parsing the `risk:` and `var_backtest:` sections,
// reading their files, and running the stress test and the as-of VaR backtest for the runner.
#include "pipeline/risk_step.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "pipeline/section_parser.h"

namespace almanac::pipeline {
namespace {

// The risk sections; the helpers (errors "FILE:LINE: KEY: problem", scalars, file names) are
// section_parser.h's, shared with the simulate step.
class RiskSections : public SectionParser {
 public:
  using SectionParser::SectionParser;

  Status ParseRisk(const YAML::Node& r, PipelineSpec& spec) {
    ALMANAC_RETURN_IF_ERROR(Keys(r, "risk",
                                 {"positions", "returns", "return_series", "fx", "base_currency", "scenarios", "series",
                                  "model", "params", "only", "factors", "factor_changes", "nw_lags", "paths", "horizon",
                                  "shocks", "shock_dof", "parameter_uncertainty", "residuals", "levels", "t_dof",
                                  "seed"}));
    RiskStepSpec& rs = spec.risk;
    rs.enabled = true;
    if (!r["positions"]) return Error(r, "risk.positions", "required key is missing (a CSV or JSON positions file)");
    ALMANAC_ASSIGN_OR_RETURN(rs.positions, FileName(r["positions"], "risk.positions"));
    if (static_cast<bool>(r["returns"]) == static_cast<bool>(r["return_series"]))
      return Error(r, "risk.returns",
                   "give exactly one of 'returns' (a CSV file period,ASSET,...) and 'return_series' ({asset: series})");
    if (r["returns"]) {
      ALMANAC_ASSIGN_OR_RETURN(rs.returns, FileName(r["returns"], "risk.returns"));
    } else {
      const YAML::Node& m = r["return_series"];
      if (!m.IsMap() || m.size() == 0)
        return Error(m, "risk.return_series", "expected a mapping {asset: data series or transform}");
      for (const auto& kv : m) {
        const std::string asset = kv.first.as<std::string>("");
        const std::string key = "risk.return_series." + asset;
        if (asset.empty()) return Error(kv.first, "risk.return_series", "an asset has no name");
        for (const auto& [a, _] : rs.return_series)
          if (a == asset) return Error(kv.first, key, "asset '" + asset + "' is listed twice");
        ALMANAC_ASSIGN_OR_RETURN(std::string name, Text(kv.second, key));
        ALMANAC_RETURN_IF_ERROR(Known(kv.second, key, name));
        rs.return_series.emplace_back(asset, name);
      }
    }
    if (r["fx"]) {
      ALMANAC_ASSIGN_OR_RETURN(rs.fx, FileName(r["fx"], "risk.fx"));
    }
    if (r["base_currency"]) {
      ALMANAC_ASSIGN_OR_RETURN(rs.base_currency, Text(r["base_currency"], "risk.base_currency"));
    }
    if (r["scenarios"]) {
      ALMANAC_ASSIGN_OR_RETURN(rs.scenarios, FileName(r["scenarios"], "risk.scenarios"));
    }
    if (r["series"]) {
      ALMANAC_ASSIGN_OR_RETURN(rs.series, Names(r["series"], "risk.series", /*must_be_known=*/true));
    } else if (rs.scenarios.empty() &&
               !(r["model"] && r["model"].IsScalar() && r["model"].as<std::string>().find('@') != std::string::npos)) {
      return Error(r, "risk.series",
                   "required without a scenarios file or a registered model (the macro variables, in model order)");
    }
    if (r["model"] && r["model"].IsScalar() && r["model"].as<std::string>().find('@') != std::string::npos) {
      ALMANAC_ASSIGN_OR_RETURN(rs.registered_model, Text(r["model"], "risk.model"));
      if (auto ref = registry::SplitVersionRef(rs.registered_model); !ref.ok())
        return Error(r["model"], "risk.model", ref.status().message());
      if (r["params"])
        return Error(r["params"], "risk.params",
                     "does not apply to the registered model " + rs.registered_model + " (it is simulated as it was fitted)");
    } else if (r["model"]) {
      ALMANAC_ASSIGN_OR_RETURN(rs.model_type, Text(r["model"], "risk.model"));
      if (rs.model_type != "var" && rs.model_type != "bvar") {
        const std::string hint = DidYouMean(rs.model_type, {"var", "bvar"});
        return Error(r["model"], "risk.model",
                     "unknown macro model '" + rs.model_type + "'" +
                         (hint.empty() ? std::string(" (use var or bvar)") : " (did you mean '" + hint + "'?)"));
      }
    }
    if (r["params"]) {
      ALMANAC_ASSIGN_OR_RETURN(rs.model_params, Params(r["params"], "risk.params"));
      Status v = models::ValidateMultivariateSpec({rs.model_type.empty() ? "var" : rs.model_type, rs.model_params});
      if (!v.ok()) return Error(r["params"], "risk.params", v.message());
    }
    if (r["only"]) {
      ALMANAC_ASSIGN_OR_RETURN(rs.only, Names(r["only"], "risk.only", false));
      if (rs.scenarios.empty()) return Error(r["only"], "risk.only", "needs a scenarios file");
    }
    if (r["factors"]) {
      ALMANAC_ASSIGN_OR_RETURN(rs.factors, Names(r["factors"], "risk.factors", false));
      if (!rs.series.empty())
        for (size_t i = 0; i < rs.factors.size(); ++i)
          if (std::find(rs.series.begin(), rs.series.end(), rs.factors[i]) == rs.series.end()) {
            const std::string hint = DidYouMean(rs.factors[i], rs.series);
            return Error(r["factors"][i], "risk.factors[" + std::to_string(i) + "]",
                         "'" + rs.factors[i] + "' is not one of risk.series" +
                             (hint.empty() ? std::string() : " (did you mean '" + hint + "'?)"));
          }
    }
    if (r["factor_changes"]) {
      ALMANAC_ASSIGN_OR_RETURN(rs.factor_changes, Bool(r["factor_changes"], "risk.factor_changes"));
    }
    if (r["nw_lags"]) {
      ALMANAC_ASSIGN_OR_RETURN(int64_t v, Int(r["nw_lags"], "risk.nw_lags", -1, 100));
      rs.nw_lags = static_cast<int>(v);
    }
    if (r["paths"]) {
      ALMANAC_ASSIGN_OR_RETURN(int64_t v, Int(r["paths"], "risk.paths", 2, 1000000));
      rs.paths = static_cast<int>(v);
    }
    if (r["horizon"]) {
      ALMANAC_ASSIGN_OR_RETURN(int64_t v, Int(r["horizon"], "risk.horizon", 1, models::kMaxHorizon));
      rs.horizon = static_cast<int>(v);
    }
    if (r["shocks"]) {
      ALMANAC_ASSIGN_OR_RETURN(rs.shocks, Text(r["shocks"], "risk.shocks"));
      if (auto s = models::ParseShockDistribution(rs.shocks); !s.ok())
        return Error(r["shocks"], "risk.shocks", s.status().message());
    }
    if (r["shock_dof"]) {
      ALMANAC_ASSIGN_OR_RETURN(rs.shock_dof, Number(r["shock_dof"], "risk.shock_dof", 2, 1000, true));
    }
    if (r["parameter_uncertainty"]) {
      ALMANAC_ASSIGN_OR_RETURN(rs.parameter_uncertainty, Bool(r["parameter_uncertainty"], "risk.parameter_uncertainty"));
    }
    if (r["residuals"]) {
      ALMANAC_ASSIGN_OR_RETURN(rs.residuals, Bool(r["residuals"], "risk.residuals"));
    }
    if (r["levels"]) {
      const YAML::Node& l = r["levels"];
      if (!l.IsSequence() || l.size() == 0 || l.size() > 5)
        return Error(l, "risk.levels", "expected a list of 1 to 5 confidence levels in (0, 1), e.g. [0.95, 0.99]");
      rs.levels.clear();
      for (size_t i = 0; i < l.size(); ++i) {
        const std::string k = "risk.levels[" + std::to_string(i) + "]";
        ALMANAC_ASSIGN_OR_RETURN(double v, Number(l[i], k, 0, 1, true));
        if (std::find(rs.levels.begin(), rs.levels.end(), v) != rs.levels.end())
          return Error(l[i], k, "level " + FormatDouble(v) + " is listed twice");
        rs.levels.push_back(v);
      }
    }
    if (r["t_dof"]) {
      ALMANAC_ASSIGN_OR_RETURN(rs.t_dof, Number(r["t_dof"], "risk.t_dof", 2, 1000, true));
    }
    if (r["seed"]) {
      ALMANAC_ASSIGN_OR_RETURN(rs.seed, Int(r["seed"], "risk.seed", 0, INT64_MAX));
    }
    return Status::Ok();
  }

  Status ParseVarBacktest(const YAML::Node& b, PipelineSpec& spec) {
    ALMANAC_RETURN_IF_ERROR(Keys(b, "var_backtest", {"from", "to", "level", "paths"}));
    if (!spec.risk.enabled) return Error(b, "var_backtest", "needs a risk section (the portfolio to backtest)");
    if (!spec.risk.registered_model.empty())
      return Error(b, "var_backtest",
                   "refits the macro model at every origin on the data known then; it cannot use the registered "
                   "model " + spec.risk.registered_model + " of risk.model (give var or bvar there)");
    VarBacktestStepSpec& vb = spec.var_backtest;
    vb.enabled = true;
    for (const char* req : {"from", "to"})
      if (!b[req]) return Error(b, std::string("var_backtest.") + req, "required key is missing (an origin period, e.g. 2000Q1)");
    ALMANAC_ASSIGN_OR_RETURN(vb.from, Text(b["from"], "var_backtest.from"));
    ALMANAC_ASSIGN_OR_RETURN(vb.to, Text(b["to"], "var_backtest.to"));
    auto from = Period::Parse(vb.from);
    if (!from.ok()) return Error(b["from"], "var_backtest.from", from.status().message());
    auto to = Period::Parse(vb.to);
    if (!to.ok()) return Error(b["to"], "var_backtest.to", to.status().message());
    auto span = to->Diff(*from);
    if (!span.ok()) return Error(b["to"], "var_backtest.to", "'" + vb.to + "' and '" + vb.from + "' have different frequencies");
    if (*span < 0) return Error(b["to"], "var_backtest.to", "'" + vb.to + "' is before var_backtest.from '" + vb.from + "'");
    if (*span >= 500) return Error(b["to"], "var_backtest.to", "at most 500 origins");
    if (b["level"]) {
      ALMANAC_ASSIGN_OR_RETURN(vb.level, Number(b["level"], "var_backtest.level", 0, 1, true));
    }
    if (b["paths"]) {
      ALMANAC_ASSIGN_OR_RETURN(int64_t v, Int(b["paths"], "var_backtest.paths", 2, 100000));
      vb.paths = static_cast<int>(v);
    }
    // The vintages are read from the store: the macro variables must be data series.
    for (const auto& s : spec.risk.series)
      if (std::find(spec.series.begin(), spec.series.end(), s) == spec.series.end())
        return Error(b, "var_backtest", "risk.series '" + s +
                                            "' is a transform; the backtest reads the macro data as known at each origin "
                                            "from the store, so the macro variables must be data series");
    return Status::Ok();
  }
};

const RiskInputFile* FindInput(const std::vector<RiskInputFile>& files, const std::string& label) {
  for (const auto& f : files)
    if (f.label == label) return &f;
  return nullptr;
}

std::string LevelName(double level) { return FormatDouble(std::round(level * 10000) / 100); }

}  // namespace

Status ParseRiskSections(const YAML::Node& root, const std::string& file, const std::set<std::string>& available,
                         PipelineSpec& spec) {
  RiskSections p(file, available);
  if (root["risk"]) ALMANAC_RETURN_IF_ERROR(p.ParseRisk(root["risk"], spec));
  if (root["var_backtest"]) ALMANAC_RETURN_IF_ERROR(p.ParseVarBacktest(root["var_backtest"], spec));
  return Status::Ok();
}

Result<std::vector<RiskInputFile>> ReadRiskInputs(const PipelineSpec& spec, const RunOptions& options,
                                                  const VersionPackageReader& read_package) {
  const RiskStepSpec& rs = spec.risk;
  std::vector<RiskInputFile> out;
  for (const auto& [label, key, name] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"input.risk.positions", "risk.positions", rs.positions},
           {"input.risk.returns", "risk.returns", rs.returns},
           {"input.risk.fx", "risk.fx", rs.fx},
           {"input.risk.scenarios", "risk.scenarios", rs.scenarios}}) {
    if (name.empty()) continue;
    RiskInputFile f{label, name, ""};
    ALMANAC_ASSIGN_OR_RETURN(f.bytes, ReadSectionInputFile(spec, options, label, key, name));
    out.push_back(std::move(f));
  }
  if (!rs.registered_model.empty()) {
    ALMANAC_ASSIGN_OR_RETURN(RiskInputFile f, ReadRegisteredModelInput("input.risk.model", "risk.model",
                                                                       rs.registered_model, options, read_package));
    out.push_back(std::move(f));
  }
  return out;
}

Result<RiskInputFile> ReadRegisteredModelInput(const std::string& label, const std::string& key, const std::string& ref,
                                               const RunOptions& options, const VersionPackageReader& read_package) {
  RiskInputFile f{label, ref, ""};
  if (auto it = options.recorded_inputs.find(label); it != options.recorded_inputs.end()) {
    f.bytes = it->second;
  } else if (!options.reproduces.empty()) {
    return FailedPreconditionError(key + ": run " + options.reproduces + " did not store the package of " + ref +
                                   " (" + label + ")");
  } else {
    if (!read_package) return InternalError(key + ": no registry to read " + ref + " from");
    Result<registry::VersionPackage> vp = read_package(ref);
    if (!vp.ok()) return vp.status().WithContext(key);
    f.bytes = std::move(vp->bytes);
  }
  return f;
}

Result<RegisteredMacroModel> LoadRegisteredMacroModel(const RiskInputFile& package, const std::string& key) {
  Result<registry::ParsedPackage> parsed_or = registry::ParsePackage(package.bytes);
  if (!parsed_or.ok()) return parsed_or.status().WithContext(key + " " + package.name);
  const registry::ParsedPackage& parsed = *parsed_or;
  RegisteredMacroModel out;
  ALMANAC_ASSIGN_OR_RETURN(out.model,
                           risk::LoadMacroModel(package.name, parsed.manifest.model_type, parsed.model_envelope));
  if (!parsed.manifest.transforms.empty() && !parsed.manifest.transforms.is_null())
    return FailedPreconditionError(key + ": " + package.name + " was fitted on transformed series (" +
                                   CompactJson(parsed.manifest.transforms) +
                                   "); a pipeline simulates versions fitted on its series as they are");
  out.variables = parsed.manifest.variables;
  out.input = {{"version", package.name}, {"sha256", Sha256Hex(package.bytes)}};
  return out;
}

Result<RiskPlan> BuildRiskPlan(const PipelineSpec& spec, const std::vector<RiskInputFile>& files,
                               const std::map<std::string, TimeSeries>& series, int threads) {
  const RiskStepSpec& rs = spec.risk;
  RiskPlan plan;
  risk::StressTestRequest& req = plan.request;
  auto sha = [](const RiskInputFile& f) { return Json{{"file", f.name}, {"sha256", Sha256Hex(f.bytes)}}; };

  const RiskInputFile* positions = FindInput(files, "input.risk.positions");
  if (positions == nullptr) return InternalError("risk step: the positions file was not read");
  ALMANAC_ASSIGN_OR_RETURN(req.positions, risk::ParsePositions(positions->bytes, positions->name));
  plan.inputs["positions"] = sha(*positions);

  if (const RiskInputFile* fx = FindInput(files, "input.risk.fx")) {
    ALMANAC_ASSIGN_OR_RETURN(req.fx, risk::ParseFxRates(fx->bytes, fx->name, rs.base_currency));
    plan.inputs["fx"] = sha(*fx);
  } else {
    ALMANAC_ASSIGN_OR_RETURN(req.fx, risk::ParseFxRates("currency,rate\n", "(no risk.fx)", rs.base_currency));
  }

  std::string type = rs.model_type;
  Json base_params = Json::object();
  std::optional<int> file_horizon;
  plan.series = rs.series;
  if (const RiskInputFile* sc = FindInput(files, "input.risk.scenarios")) {
    ALMANAC_ASSIGN_OR_RETURN(req.scenarios, models::ParseScenarios(sc->bytes, sc->name));
    plan.inputs["scenarios"] = sha(*sc);
    if (plan.series.empty()) plan.series = req.scenarios->series;
    if (type.empty() || type == req.scenarios->model_type.value_or("")) {
      type = req.scenarios->model_type.value_or("var");
      base_params = req.scenarios->model_params;
    }
    file_horizon = req.scenarios->horizon;
  }
  if (type.empty()) type = "var";
  Json params = base_params.is_object() ? base_params : Json::object();
  for (auto it = rs.model_params.begin(); it != rs.model_params.end(); ++it) params[it.key()] = it.value();
  req.model = {type, params};
  if (const RiskInputFile* pkg = FindInput(files, "input.risk.model")) {
    // A registered var/bvar (issue 24): simulated as it was fitted; the series default to its
    // variables and must be them, in its order (RunStressTest checks).
    ALMANAC_ASSIGN_OR_RETURN(RegisteredMacroModel reg, LoadRegisteredMacroModel(*pkg, "risk.model"));
    req.fitted_model = reg.model;
    req.model = req.fitted_model->spec();
    if (rs.series.empty()) plan.series = reg.variables;
    plan.inputs["registered_model"] = reg.input;
  }
  ALMANAC_RETURN_IF_ERROR(models::ValidateMultivariateSpec(req.model).WithContext("risk.params"));
  if (plan.series.empty()) return InvalidArgumentError("risk.series: no macro variable (name them, or list them in the scenarios file)");

  // The macro data: the pipeline's series (data or transforms), aligned.
  std::vector<TimeSeries> macro;
  for (const auto& name : plan.series) {
    auto it = series.find(name);
    if (it == series.end())
      return InvalidArgumentError("risk.series: '" + name + "' (from " + (rs.series.empty() ? "the scenarios file" : "risk.series") +
                                  ") is neither a data series nor a transform of this pipeline");
    TimeSeries t = it->second.Trimmed();
    if (t.empty()) return InvalidArgumentError("risk.series: '" + name + "' has no observations");
    macro.push_back(std::move(t));
  }
  ALMANAC_ASSIGN_OR_RETURN(req.data, models::AlignSeries(plan.series, macro));

  // Asset returns: the file, or the pipeline's series.
  if (const RiskInputFile* ret = FindInput(files, "input.risk.returns")) {
    ALMANAC_ASSIGN_OR_RETURN(req.returns, risk::ParseAssetReturns(ret->bytes, ret->name));
    plan.inputs["returns"] = sha(*ret);
  } else {
    std::vector<std::string> assets;
    std::vector<TimeSeries> rets;
    Json named = Json::object();
    for (const auto& [asset, name] : rs.return_series) {
      auto it = series.find(name);
      if (it == series.end())
        return InvalidArgumentError("risk.return_series." + asset + ": '" + name + "' is not a series of this pipeline");
      assets.push_back(asset);
      rets.push_back(it->second);
      named[asset] = name;
    }
    auto aligned = risk::AlignAssetReturns(assets, rets, 3);
    if (!aligned.ok()) return aligned.status().WithContext("risk.return_series");
    req.returns = std::move(*aligned);
    plan.inputs["return_series"] = named;
  }

  req.horizon = rs.horizon > 0 ? rs.horizon : file_horizon.value_or(models::kDefaultHorizon);
  if (req.horizon < 1 || req.horizon > models::kMaxHorizon)
    return InvalidArgumentError("risk.horizon: " + std::to_string(req.horizon) + " is outside 1.." +
                                std::to_string(models::kMaxHorizon));
  req.only = rs.only;
  req.factors = rs.factors;
  req.factor_changes = rs.factor_changes;
  req.factor_options.lags = rs.nw_lags;
  req.num_paths = rs.paths;
  ALMANAC_ASSIGN_OR_RETURN(req.shocks, models::ParseShockDistribution(rs.shocks));
  req.shock_dof = rs.shock_dof;
  req.risk.levels = rs.levels;
  req.risk.parameter_uncertainty = rs.parameter_uncertainty;
  req.risk.residuals = rs.residuals;
  req.risk.t_dof = rs.t_dof;
  req.risk.seed = static_cast<std::uint64_t>(rs.seed.value_or(spec.seed));
  req.risk.threads = threads;  // the result does not depend on it

  plan.inputs["series"] = plan.series;
  plan.settings = {{"model", rs.registered_model.empty() ? Json{{"type", req.model.type}, {"params", req.model.params}}
                                                          : Json{{"type", req.model.type},
                                                                 {"params", req.model.params},
                                                                 {"registered", rs.registered_model}}},
                   {"paths", req.num_paths},
                   {"horizon", req.horizon},
                   {"seed", req.risk.seed},
                   {"shocks", std::string(models::ShockDistributionName(req.shocks))},
                   {"shock_dof", req.shock_dof},
                   {"factors", req.factors},
                   {"factor_changes", req.factor_changes},
                   {"nw_lags", rs.nw_lags},
                   {"only", req.only},
                   {"base_currency", rs.base_currency},
                   {"parameter_uncertainty", req.risk.parameter_uncertainty},
                   {"residuals", req.risk.residuals},
                   {"levels", req.risk.levels},
                   {"t_dof", req.risk.t_dof}};
  return plan;
}

Result<std::string> RiskReportBytes(const RiskPlan& plan) {
  ALMANAC_ASSIGN_OR_RETURN(risk::StressTestResult result, risk::RunStressTest(plan.request));
  Json report = risk::StressTestJson(result);
  report["inputs"] = plan.inputs;
  report["settings"] = plan.settings;
  return CanonicalJson(report);
}

Result<std::string> RiskQuantilesCsv(const Json& report) {
  if (!report.contains("scenarios") || !report["scenarios"].is_array())
    return InternalError("risk.json has no scenarios");
  const std::vector<double> levels = report["settings"]["levels"].get<std::vector<double>>();
  std::string out = "scenario,h,period,mean,sd,point,p01,p05,p25,p50,p75,p95,p99";
  for (double l : levels) out += ",var" + LevelName(l) + ",es" + LevelName(l);
  out += "\n";
  auto num = [](const Json& v) { return v.is_number() ? FormatDouble(v.get<double>()) : std::string(); };
  for (const auto& s : report["scenarios"])
    for (const auto& h : s["horizons"]) {
      out += s["scenario"].get<std::string>() + "," + std::to_string(h["h"].get<int>()) + "," +
             (h["period"].is_string() ? h["period"].get<std::string>() : std::string()) + "," + num(h["mean"]) + "," +
             num(h["sd"]) + "," + num(h["point"]);
      const Json pct = h.contains("percentiles") ? h["percentiles"].value("pnl", Json::array()) : Json::array();
      for (size_t i = 0; i < 7; ++i) out += "," + (i < pct.size() ? num(pct[i]) : std::string());
      for (double l : levels)
        for (const auto& f : h["figures"])
          if (f["method"] == "monte_carlo" && f["level"].get<double>() == l) out += "," + num(f["var"]) + "," + num(f["es"]);
      out += "\n";
    }
  return out;
}

std::vector<store::MetricPoint> RiskMetrics(const Json& report) {
  std::vector<store::MetricPoint> points;
  for (const auto& [name, value] : risk::StressTestMetrics(report)) points.push_back({name, 0, value, 0});
  return points;
}

Result<std::vector<Period>> VarBacktestOrigins(const VarBacktestStepSpec& spec) {
  ALMANAC_ASSIGN_OR_RETURN(Period from, Period::Parse(spec.from));
  ALMANAC_ASSIGN_OR_RETURN(Period to, Period::Parse(spec.to));
  ALMANAC_ASSIGN_OR_RETURN(int64_t span, to.Diff(from));
  std::vector<Period> out;
  for (int64_t i = 0; i <= span; ++i) out.push_back(from + i);
  return out;
}

Result<std::string> VarBacktestBytes(const PipelineSpec& spec, const RiskPlan& plan,
                                     const std::map<Date, models::MultiInput>& vintages) {
  risk::AsOfBacktestRequest bt;
  bt.base = plan.request;
  bt.base.num_paths = spec.var_backtest.paths;
  bt.level = spec.var_backtest.level;
  ALMANAC_ASSIGN_OR_RETURN(bt.origins, VarBacktestOrigins(spec.var_backtest));
  bt.data_as_of = [&](Date as_of) -> Result<models::MultiInput> {
    auto it = vintages.find(as_of);
    if (it == vintages.end()) return InternalError("var_backtest: no macro data read for " + as_of.ToString());
    return it->second;
  };
  ALMANAC_ASSIGN_OR_RETURN(risk::AsOfBacktestResult r, risk::BacktestPortfolioAsOf(bt));
  Json out = risk::AsOfBacktestJson(r);
  out["inputs"] = plan.inputs;
  out["settings"] = plan.settings;
  out["settings"]["paths"] = bt.base.num_paths;
  out["settings"]["from"] = spec.var_backtest.from;
  out["settings"]["to"] = spec.var_backtest.to;
  out["settings"]["level"] = bt.level;
  return CanonicalJson(out);
}

std::vector<store::MetricPoint> VarBacktestMetrics(const Json& report) {
  std::vector<store::MetricPoint> points;
  const Json& b = report["backtest"];
  for (const char* k : {"observations", "exceptions", "expected_exceptions", "kupiec_lr", "kupiec_p", "independence_lr",
                        "independence_p", "conditional_coverage_lr", "conditional_coverage_p"})
    if (b.contains(k) && b[k].is_number()) points.push_back({std::string("var_backtest.") + k, 0, b[k].get<double>(), 0});
  int64_t step = 0;
  for (const auto& p : report["points"]) {
    points.push_back({"var_backtest.var.by_origin", step, p["var"].get<double>(), 0});
    points.push_back({"var_backtest.pnl.by_origin", step, p["pnl"].get<double>(), 0});
    ++step;
  }
  return points;
}

}  // namespace almanac::pipeline
