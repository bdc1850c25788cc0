// almanac risk: VaR, expected shortfall and contributions of a P&L file, and VaR backtests
// (issue 24; docs/risk.md).
#include "cli/commands_risk.h"

#include <fstream>
#include <iostream>
#include <sstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "almanac/core/hash.h"
#include "almanac/data.h"
#include "almanac/data/transforms.h"
#include "almanac/models.h"
#include "almanac/registry.h"
#include "almanac/risk.h"
#include "almanac/tracking.h"
#include "cli/commands_pipeline.h"
#include "cli/csv_table.h"

#include "cli/arguments.h"
#include "cli/multi_data.h"

namespace almanac::cli {
namespace {

Result<std::vector<double>> ParseLevels(const std::string& text, std::string_view option) {
  std::vector<double> out;
  for (const auto& part : SplitList({text})) {
    auto v = ParseFiniteDouble(part);
    if (!v.ok()) return InvalidArgumentError(std::string(option) + ": " + v.status().message());
    if (!(*v > 0 && *v < 1))
      return InvalidArgumentError(std::string(option) + ": level " + QuoteForMessage(part) +
                                  " must be in (0, 1), e.g. 0.99 for 99%");
    out.push_back(*v);
  }
  if (out.empty()) return InvalidArgumentError(std::string(option) + ": give at least one level, e.g. 0.99");
  return out;
}

Result<std::vector<std::string>> ParseMethods(const std::string& m) {
  if (m == "all") return std::vector<std::string>{"historical", "normal", "t"};
  if (m == "historical" || m == "normal" || m == "t") return std::vector<std::string>{m};
  return InvalidArgumentError("--method: unknown method " + QuoteForMessage(m) + ": expected historical, normal, t or all");
}

risk::ParametricOptions RiskOptions(const std::string& method, double dof) {
  return {.distribution = method == "t" ? risk::Distribution::kStudentT : risk::Distribution::kNormal, .dof = dof};
}

bool IsLabelColumn(const std::string& c) {
  const std::string l = ToLower(c);
  return l == "scenario" || l == "date" || l == "id";
}

Result<Table> VarTable(const CsvTable& csv, const RiskVarArgs& a, const std::vector<double>& levels,
                       const std::vector<std::string>& methods) {
  size_t col = 0;
  if (!a.column.empty()) {
    ALMANAC_ASSIGN_OR_RETURN(col, csv.Find(a.column));
  } else if (auto pnl = csv.Find("pnl"); pnl.ok()) {
    col = *pnl;
  } else if (csv.columns.size() != 1) {
    return InvalidArgumentError(csv.name + ": which column is the P&L? Name it with --column (columns: " + csv.ColumnList() +
                                "), or pass --positions for a scenario x position matrix");
  }
  ALMANAC_ASSIGN_OR_RETURN(std::vector<double> pnl, csv.Column(col));
  Table t{{"method", "level", "var", "es", "scenarios"}, {}};
  for (const auto& m : methods)
    for (double level : levels) {
      Result<risk::VaREs> r = m == "historical" ? risk::HistoricalVaREs(pnl, level)
                                                : risk::ParametricVaREs(pnl, level, RiskOptions(m, a.dof));
      if (!r.ok()) return r.status().WithContext(csv.name + ", column " + QuoteForMessage(csv.columns[col]) + ", " + m);
      t.Add({m, level, r->var, r->es, static_cast<int64_t>(pnl.size())});
    }
  return t;
}

Result<Table> ContributionTable(const CsvTable& csv, const RiskVarArgs& a, const std::vector<double>& levels,
                                const std::vector<std::string>& methods) {
  std::vector<size_t> cols;
  for (size_t c = 0; c < csv.columns.size(); ++c)
    if (!IsLabelColumn(csv.columns[c])) cols.push_back(c);
  if (cols.empty())
    return InvalidArgumentError(csv.name + ": --positions needs at least one position column besides scenario/date/id");
  risk::PositionPnl d{.scenarios = static_cast<int64_t>(csv.rows.size()), .positions = static_cast<int64_t>(cols.size())};
  d.pnl.reserve(csv.rows.size() * cols.size());
  for (size_t r = 0; r < csv.rows.size(); ++r)
    for (size_t c : cols) {
      ALMANAC_ASSIGN_OR_RETURN(double v, csv.Number(r, c));
      d.pnl.push_back(v);
    }
  Table t{{"method", "level", "position", "var", "es"}, {}};
  for (const auto& m : methods)
    for (double level : levels) {
      Result<risk::Contributions> r = m == "historical" ? risk::HistoricalContributions(d, level)
                                                        : risk::ParametricContributions(d, level, RiskOptions(m, a.dof));
      if (!r.ok()) return r.status().WithContext(csv.name + ", " + m);
      t.Add({m, level, "portfolio", r->total.var, r->total.es});
      for (size_t j = 0; j < cols.size(); ++j) t.Add({m, level, csv.columns[cols[j]], r->var[j], r->es[j]});
    }
  return t;
}

Result<bool> ParseIndicator(const CsvTable& csv, size_t row, size_t col) {
  const std::string v = ToLower(Trim(csv.rows[row][col]));
  if (v == "1" || v == "true") return true;
  if (v == "0" || v == "false") return false;
  return InvalidArgumentError(csv.name + " line " + std::to_string(csv.lines[row]) + ", column " +
                              QuoteForMessage(csv.columns[col]) + ": " + QuoteForMessage(csv.rows[row][col]) +
                              " is not an exception indicator (0, 1, true or false)");
}

}  // namespace

int RunRiskVar(const GlobalOptions& g, const RiskVarArgs& a) {
  auto levels = ParseLevels(a.levels, "--level");
  if (!levels.ok()) return ReportError(levels.status());
  auto methods = ParseMethods(a.method);
  if (!methods.ok()) return ReportError(methods.status());
  auto csv = ReadCsvTable(a.pnl, "--pnl");
  if (!csv.ok()) return ReportError(csv.status());
  auto t = a.positions ? ContributionTable(*csv, a, *levels, *methods) : VarTable(*csv, a, *levels, *methods);
  if (!t.ok()) return ReportError(t.status());
  Print(std::cout, *t, g.format);
  return kExitOk;
}

int RunRiskBacktest(const GlobalOptions& g, const RiskBacktestArgs& a) {
  if (a.var_column.empty() == a.exception_column.empty())
    return ReportError(InvalidArgumentError("name exactly one of --var-column and --exception-column"));
  auto levels = ParseLevels(a.level, "--level");
  if (!levels.ok()) return ReportError(levels.status());
  if (levels->size() != 1) return ReportError(InvalidArgumentError("--level: give one level for a backtest, e.g. 0.99"));
  const double level = levels->front();
  auto csv = ReadCsvTable(a.pnl, "--pnl");
  if (!csv.ok()) return ReportError(csv.status());
  Result<risk::VaRBacktest> bt = InternalError("unset");
  if (!a.var_column.empty()) {
    auto pc = csv->Find(a.pnl_column);
    if (!pc.ok()) return ReportError(pc.status());
    auto vc = csv->Find(a.var_column);
    if (!vc.ok()) return ReportError(vc.status());
    auto pnl = csv->Column(*pc);
    if (!pnl.ok()) return ReportError(pnl.status());
    auto var = csv->Column(*vc);
    if (!var.ok()) return ReportError(var.status());
    bt = risk::BacktestVaR(*pnl, *var, level);
  } else {
    auto ec = csv->Find(a.exception_column);
    if (!ec.ok()) return ReportError(ec.status());
    std::vector<bool> e(csv->rows.size());
    for (size_t r = 0; r < csv->rows.size(); ++r) {
      auto v = ParseIndicator(*csv, r, *ec);
      if (!v.ok()) return ReportError(v.status());
      e[r] = *v;
    }
    bt = risk::BacktestExceptions(e, level);
  }
  if (!bt.ok()) return ReportError(bt.status().WithContext(csv->name));
  PrintRecord(std::cout,
              {{"observations", bt->observations},
               {"level", bt->level},
               {"exceptions", bt->exceptions},
               {"expected_exceptions", bt->expected_exceptions},
               {"kupiec_lr", bt->kupiec.statistic},
               {"kupiec_p", bt->kupiec.p_value},
               {"independence_lr", bt->independence.statistic},
               {"independence_p", bt->independence.p_value},
               {"conditional_coverage_lr", bt->conditional_coverage.statistic},
               {"conditional_coverage_p", bt->conditional_coverage.p_value},
               {"n00", bt->n00},
               {"n01", bt->n01},
               {"n10", bt->n10},
               {"n11", bt->n11},
               {"binomial_cdf", bt->binomial_cdf},
               {"zone", std::string(risk::TrafficLightName(bt->zone))}},
              g.format);
  return kExitOk;
}

Result<std::string> ReadInputFile(const std::string& path, std::string_view option) {
  if (path.empty()) return InvalidArgumentError(std::string(option) + ": name a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError(std::string(option) + ": cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

namespace {

using ReturnSeries = std::vector<std::pair<std::string, std::string>>;  // asset, series key

// --return-series ASSET=SERIES,...: the assets and their series keys, in the order given.
Result<ReturnSeries> ParseReturnSeriesOption(const std::string& text) {
  ReturnSeries out;
  for (const auto& part : SplitList({text})) {
    const size_t eq = part.find('=');
    const std::string asset(Trim(part.substr(0, eq == std::string::npos ? 0 : eq)));
    const std::string key(eq == std::string::npos ? "" : Trim(part.substr(eq + 1)));
    if (asset.empty() || key.empty())
      return InvalidArgumentError("--return-series: " + QuoteForMessage(part) +
                                  " is not ASSET=SERIES (e.g. us_equity=mkt:us_equity)");
    ALMANAC_RETURN_IF_ERROR(ValidateSeriesKey(key).WithContext("--return-series " + asset));
    for (const auto& [a, k] : out)
      if (a == asset) return InvalidArgumentError("--return-series: asset " + QuoteForMessage(asset) + " is named twice");
    out.emplace_back(asset, key);
  }
  if (out.empty()) return InvalidArgumentError("--return-series: give ASSET=SERIES pairs, e.g. us_equity=mkt:us_equity");
  return out;
}

// The assets' return histories from the store as known on `as_of`, on their common periods.
Result<risk::AssetReturns> ReadStoreReturns(store::SeriesStore& store, const ReturnSeries& pairs,
                                            std::optional<Date> as_of) {
  std::vector<std::string> assets;
  std::vector<TimeSeries> series;
  for (const auto& [asset, key] : pairs) {
    auto ts = store.ReadAsOf(key, as_of);
    if (!ts.ok())
      return ts.status().WithContext("--return-series " + asset + "=" + key +
                                     (as_of ? " (as of " + as_of->ToString() + ")" : std::string()));
    assets.push_back(asset);
    series.push_back(std::move(*ts));
  }
  auto r = risk::AlignAssetReturns(assets, series, /*min_periods=*/3);
  if (!r.ok()) return r.status().WithContext("--return-series");
  return r;
}

// The request of `risk portfolio` and `risk var-backtest` from the options and files (all but
// the macro data and store returns); `inputs` gets each file's name and SHA-256, `data_args`
// the series to read, `return_series` the --return-series pairs (read once the store is open).
Result<risk::StressTestRequest> BuildStressRequest(const RiskPortfolioArgs& a, Json& inputs, MultiDataArgs& data_args,
                                                   ReturnSeries& return_series) {
  risk::StressTestRequest req;
  if (!a.experiment.empty()) ALMANAC_RETURN_IF_ERROR(ValidateName(a.experiment, "experiment").WithContext("--experiment"));
  if (a.returns.empty() == a.return_series.empty())
    return InvalidArgumentError("give exactly one of --returns FILE and --return-series ASSET=SERIES,...");
  ALMANAC_ASSIGN_OR_RETURN(req.risk.levels, ParseLevels(a.levels, "--level"));
  ALMANAC_ASSIGN_OR_RETURN(std::string positions_text, ReadInputFile(a.positions, "--positions"));
  ALMANAC_ASSIGN_OR_RETURN(req.positions, risk::ParsePositions(positions_text, a.positions));
  inputs["positions"] = {{"file", a.positions}, {"sha256", Sha256Hex(positions_text)}};
  if (!a.returns.empty()) {
    ALMANAC_ASSIGN_OR_RETURN(std::string returns_text, ReadInputFile(a.returns, "--returns"));
    ALMANAC_ASSIGN_OR_RETURN(req.returns, risk::ParseAssetReturns(returns_text, a.returns));
    inputs["returns"] = {{"file", a.returns}, {"sha256", Sha256Hex(returns_text)}};
  } else {
    ALMANAC_ASSIGN_OR_RETURN(return_series, ParseReturnSeriesOption(a.return_series));
    Json named = Json::object();
    for (const auto& [asset, key] : return_series) named[asset] = key;
    inputs["return_series"] = named;
  }
  if (!a.fx.empty()) {
    ALMANAC_ASSIGN_OR_RETURN(std::string fx_text, ReadInputFile(a.fx, "--fx"));
    ALMANAC_ASSIGN_OR_RETURN(req.fx, risk::ParseFxRates(fx_text, a.fx, a.base_currency));
    inputs["fx"] = {{"file", a.fx}, {"sha256", Sha256Hex(fx_text)}};
  } else {
    ALMANAC_ASSIGN_OR_RETURN(req.fx, risk::ParseFxRates("currency,rate\n", "(no --fx)", a.base_currency));
  }
  data_args = a.data;
  ALMANAC_ASSIGN_OR_RETURN(MacroModelChoice choice, ChooseMacroModel(a.scenarios, a.model, a.lags, data_args, inputs));
  req.scenarios = std::move(choice.scenarios);
  req.model = choice.model;
  ALMANAC_RETURN_IF_ERROR(models::ValidateMultivariateSpec(req.model));
  const std::optional<int> file_horizon = choice.file_horizon;
  req.horizon = HorizonOrDefault(a.horizon, file_horizon);
  ALMANAC_RETURN_IF_ERROR(CheckHorizon(req.horizon));
  req.only = SplitList({a.only});
  req.factors = SplitList({a.factors});
  req.factor_changes = a.factor_changes;
  req.factor_options.lags = a.nw_lags;
  if (a.paths < 2) return InvalidArgumentError("--paths: need at least 2 paths");
  req.num_paths = a.paths;
  ALMANAC_ASSIGN_OR_RETURN(req.shocks, models::ParseShockDistribution(a.shocks));
  req.shock_dof = a.shock_dof;
  req.model_parameter_uncertainty = a.model_parameter_uncertainty;
  req.risk.parameter_uncertainty = !a.no_parameter_uncertainty;
  req.risk.residuals = !a.no_residuals;
  req.risk.t_dof = a.dof;
  if (a.seed < 0) return InvalidArgumentError("--seed must be non-negative");
  req.risk.seed = static_cast<std::uint64_t>(a.seed);
  req.risk.threads = a.threads;
  if (data_args.series.empty() && data_args.input.empty())
    return InvalidArgumentError("name the macro series (arguments, or the scenario file's 'series' list)");
  return req;
}

}  // namespace

Result<std::shared_ptr<const models::MultivariateForecaster>> ReadMacroModelFile(const std::string& path,
                                                                                 Json& inputs) {
  ALMANAC_ASSIGN_OR_RETURN(std::string bytes, ReadInputFile(path, "--model-file"));
  auto saved = models::DeserializeMultivariate(bytes);
  if (!saved.ok())
    return Status(saved.status().code(), "--model-file " + path + ": " + saved.status().message() +
                                             " (expected a var or bvar saved by almanac var --save)");
  inputs["model_file"] = {{"file", path}, {"sha256", Sha256Hex(bytes)}};
  return std::shared_ptr<const models::MultivariateForecaster>(std::move(*saved));
}

Result<MacroModelChoice> ChooseMacroModel(const std::string& scenarios_file, const ModelArgs& model, int lags,
                                          MultiDataArgs& data, Json& inputs) {
  MacroModelChoice out;
  std::string type = model.model;
  Json base_params = Json::object();
  if (!scenarios_file.empty()) {
    ALMANAC_ASSIGN_OR_RETURN(std::string text, ReadInputFile(scenarios_file, "--scenarios"));
    ALMANAC_ASSIGN_OR_RETURN(out.scenarios, models::ParseScenarios(text, scenarios_file));
    inputs["scenarios"] = {{"file", scenarios_file}, {"sha256", Sha256Hex(text)}};
    if (data.series.empty()) data.series = out.scenarios->series;
    if (type.empty() || type == out.scenarios->model_type.value_or("")) {
      type = out.scenarios->model_type.value_or("var");
      base_params = out.scenarios->model_params;
    }
    out.file_horizon = out.scenarios->horizon;
  }
  if (type.empty()) type = "var";
  ALMANAC_ASSIGN_OR_RETURN(Json params, BuildParams(model, base_params));
  if (lags >= 0) params["lags"] = lags;
  out.model = {type, params};
  return out;
}

Result<RegisteredMacro> LoadRegisteredMacro(const GlobalOptions& g, ModelArgs& model, int lags,
                                            const std::string& model_file, MultiDataArgs& data) {
  const std::string ref = model.model;
  if (!model_file.empty()) return InvalidArgumentError("give one of --model " + ref + " and --model-file " + model_file);
  if (!model.params.empty() || !model.params_json.empty() || lags >= 0)
    return InvalidArgumentError("--params and --lags do not apply to the registered model " + ref +
                                " (it is simulated as it was fitted)");
  ALMANAC_ASSIGN_OR_RETURN(std::unique_ptr<Env> env, OpenEnv(g, false));
  registry::Registry reg(env->ws->store(), SystemClock());
  ALMANAC_ASSIGN_OR_RETURN(registry::VersionPackage vp, registry::ReadVersionPackage(reg, *env->artifacts, ref));
  const registry::PackageManifest& m = vp.package.manifest;
  RegisteredMacro out;
  ALMANAC_ASSIGN_OR_RETURN(out.model, risk::LoadMacroModel(vp.id, m.model_type, vp.package.model_envelope));
  out.id = vp.id;
  out.sha256 = vp.version.artifact_sha256;
  model.model = out.model->spec().type;
  if (data.series.empty() && data.input.empty()) data.series = m.variables;
  // The transform the version's variables were derived with (almanac var --transform).
  ALMANAC_ASSIGN_OR_RETURN(const std::string fitted_op, data::RecordedSeriesTransform(m.transforms));
  ALMANAC_ASSIGN_OR_RETURN(std::string given_op,
                           data::CanonicalTransformName(data.transform.empty() ? "none" : data.transform));
  if (given_op == "none") {
    data.transform = fitted_op;
  } else if (given_op != fitted_op) {
    return InvalidArgumentError("--transform " + data.transform + ": " + vp.id + " was fitted on " + fitted_op +
                                " of its series");
  }
  return out;
}

namespace {

Result<Json> PortfolioReport(const GlobalOptions& g, const RiskPortfolioArgs& args, models::ModelSpec* model) {
  Json inputs = Json::object();
  MultiDataArgs data_args;
  ReturnSeries return_series;
  RiskPortfolioArgs a = args;
  std::optional<RegisteredMacro> registered;
  if (a.model.model.find('@') != std::string::npos) {
    ALMANAC_ASSIGN_OR_RETURN(registered, LoadRegisteredMacro(g, a.model, a.lags, a.model_file, a.data));
  }
  ALMANAC_ASSIGN_OR_RETURN(risk::StressTestRequest req, BuildStressRequest(a, inputs, data_args, return_series));
  if (registered) {
    req.model = registered->model->spec();
    req.fitted_model = registered->model;
    inputs["registered_model"] = {{"version", registered->id}, {"sha256", registered->sha256}};
  }
  ALMANAC_ASSIGN_OR_RETURN(DataSource ds, OpenData(g, data_args));
  ALMANAC_ASSIGN_OR_RETURN(req.data, ReadMulti(*ds.store, ds.keys, ds.as_of, data_args.transform));
  // issue 24 (registered models, first step): a fitted VAR/BVAR from a file, not refitted.
  if (!a.model_file.empty()) {
    ALMANAC_ASSIGN_OR_RETURN(req.fitted_model, ReadMacroModelFile(a.model_file, inputs));
  }
  if (!return_series.empty()) {
    ALMANAC_ASSIGN_OR_RETURN(req.returns, ReadStoreReturns(*ds.store, return_series, ds.as_of));
  }
  if (!data_args.input.empty()) {
    ALMANAC_ASSIGN_OR_RETURN(std::string text, ReadInputFile(data_args.input, "--input"));
    inputs["input"] = {{"file", data_args.input}, {"sha256", Sha256Hex(text)}};
  }
  *model = req.model;
  ALMANAC_ASSIGN_OR_RETURN(risk::StressTestResult result, risk::RunStressTest(req));
  Json report = risk::StressTestJson(result);
  inputs["series"] = ds.keys;
  inputs["as_of"] = ds.as_of ? Json(ds.as_of->ToString()) : Json(nullptr);
  inputs["transform"] = data_args.transform;
  report["inputs"] = inputs;
  report["settings"] = {{"paths", req.num_paths},
                        {"horizon", req.horizon},
                        {"seed", req.risk.seed},
                        {"shocks", std::string(models::ShockDistributionName(req.shocks))},
                        {"factor_changes", req.factor_changes},
                        {"parameter_uncertainty", req.risk.parameter_uncertainty},
                        {"residuals", req.risk.residuals},
                        {"levels", req.risk.levels},
                        {"t_dof", req.risk.t_dof}};
  return report;
}

// A report's inputs (file and SHA-256 of each, the series, the as-of date) and settings as
// run params: "positions.sha256", "settings.paths", ...
std::vector<std::pair<std::string, std::string>> RunParams(const std::string& command, const Json& inputs,
                                                           const Json& settings, const models::ModelSpec& model) {
  std::vector<std::pair<std::string, std::string>> out = {
      {"command", command}, {"model", CompactJson({{"type", model.type}, {"params", model.params}})}};
  auto text = [](const Json& v) { return v.is_string() ? v.get<std::string>() : CompactJson(v); };
  for (const auto& [k, v] : inputs.items()) {
    if (v.is_object() && v.contains("sha256")) {
      out.emplace_back(k + ".sha256", text(v["sha256"]));
      for (const char* extra : {"file", "version"})
        if (v.contains(extra)) out.emplace_back(k + "." + extra, text(v[extra]));
    } else {
      out.emplace_back(k, text(v));
    }
  }
  for (const auto& [k, v] : settings.items()) out.emplace_back("settings." + k, text(v));
  return out;
}

// Records a finished run in `experiment` (almanac risk ... --experiment): params, metrics and
// the report as the artifact `artifact`. Only called once everything else succeeded; a run
// whose recording fails is marked failed. Returns the run id.
Result<std::string> TrackRiskRun(const GlobalOptions& g, const std::string& experiment,
                                 const std::vector<std::pair<std::string, std::string>>& params,
                                 const std::vector<std::pair<std::string, double>>& metrics, const std::string& artifact,
                                 const std::string& bytes) {
  auto env = OpenEnv(g, true);
  if (!env.ok()) return env.status().WithContext("--experiment: recording the run needs a workspace");
  tracking::Tracker tracker((*env)->ws->store().metadata(), *(*env)->artifacts, SystemClock());
  ALMANAC_ASSIGN_OR_RETURN(store::RunRecord run, tracker.StartRun({.experiment = experiment, .user = g.user}));
  auto record = [&]() -> Status {
    ALMANAC_RETURN_IF_ERROR(tracker.LogParams(run.id, params));
    std::vector<store::MetricPoint> points;
    for (const auto& [name, value] : metrics) points.push_back({name, 0, value, 0});
    ALMANAC_RETURN_IF_ERROR(tracker.LogMetrics(run.id, std::move(points)));
    return tracker.LogArtifact(run.id, artifact, bytes, "report").status();
  };
  if (Status s = record(); !s.ok()) {
    (void)tracker.FinishRun(run.id, store::RunStatus::kFailed, s.message());
    return s;
  }
  ALMANAC_RETURN_IF_ERROR(tracker.FinishRun(run.id, store::RunStatus::kFinished, ""));
  return run.id;
}

}  // namespace

int RunRiskPortfolio(const GlobalOptions& g, const RiskPortfolioArgs& a) {
  models::ModelSpec model;
  auto report = PortfolioReport(g, a, &model);
  if (!report.ok()) return ReportError(report.status());
  std::string run_id;
  if (!a.experiment.empty()) {
    auto id = TrackRiskRun(g, a.experiment, RunParams("risk portfolio", (*report)["inputs"], (*report)["settings"], model),
                           risk::StressTestMetrics(*report), "risk_report.json", PrettyJson(*report) + "\n");
    if (!id.ok()) return ReportError(id.status().WithContext("recording the run in experiment " + a.experiment));
    run_id = *id;
  }
  if (!a.output.empty()) {
    std::ofstream out(a.output, std::ios::binary);
    out << PrettyJson(*report) << "\n";
    if (!out) return ReportError(UnavailableError("cannot write " + a.output));
  }
  if (g.format == OutputFormat::kJson) {
    if (!run_id.empty()) (*report)["run_id"] = run_id;
    std::cout << PrettyJson(*report) << "\n";
    return kExitOk;
  }
  const Json& r = *report;
  if (!run_id.empty()) std::cout << "run: " << run_id << " (experiment " << a.experiment << ")\n";
  if (!g.quiet) {
    std::cerr << r["macro_model"]["method"].get<std::string>() << " on " << r["macro_model"]["sample"].get<std::string>()
              << "; factor models on " << r["factor_model"]["observations"].get<int64_t>() << " periods; "
              << r["settings"]["paths"].get<int>() << " paths per scenario, seed " << r["settings"]["seed"].get<uint64_t>()
              << "\n";
  }
  // One row per scenario and horizon: the Monte Carlo figures at every level.
  Table t{{"scenario", "h", "period", "mean", "point"}, {}};
  const auto levels = r["settings"]["levels"].get<std::vector<double>>();
  for (double l : levels) {
    t.columns.push_back("var" + FormatDouble(l * 100));
    t.columns.push_back("es" + FormatDouble(l * 100));
  }
  for (const auto& s : r["scenarios"])
    for (const auto& h : s["horizons"]) {
      std::vector<Json> row{s["scenario"], h["h"], h["period"], h["mean"], h["point"]};
      for (double l : levels)
        for (const auto& f : h["figures"])
          if (f["method"] == "monte_carlo" && f["level"].get<double>() == l) {
            row.push_back(f["var"]);
            row.push_back(f["es"]);
          }
      t.Add(std::move(row));
    }
  Print(std::cout, t, g.format);
  if (a.contributions) {
    const double top = *std::max_element(levels.begin(), levels.end());
    Table c{{"scenario", "h", "level", "kind", "name", "var", "es"}, {}};
    for (const auto& s : r["scenarios"]) {
      const Json& h = s["horizons"].back();
      for (const auto& f : h["figures"]) {
        if (f["method"] != "monte_carlo" || f["level"].get<double>() != top) continue;
        for (const auto& p : f["positions"]) c.Add({s["scenario"], h["h"], top, "position", p["position"], p["var"], p["es"]});
        for (const auto& p : f["components"]) c.Add({s["scenario"], h["h"], top, "component", p["component"], p["var"], p["es"]});
      }
    }
    std::cout << "\n";
    Print(std::cout, c, g.format);
  }
  return kExitOk;
}

int RunRiskVarBacktest(const GlobalOptions& g, const RiskVarBacktestArgs& a) {
  Json inputs = Json::object();
  MultiDataArgs data_args;
  RiskPortfolioArgs pa = a.portfolio;
  pa.levels = a.level;
  ReturnSeries return_series;
  if (pa.model.model.find('@') != std::string::npos)
    return ReportError(InvalidArgumentError("--model " + pa.model.model +
                                            ": var-backtest refits the macro model at every origin on the data known "
                                            "then; a registered version cannot be used (give var or bvar)"));
  auto req = BuildStressRequest(pa, inputs, data_args, return_series);
  if (!req.ok()) return ReportError(req.status());
  if (req->risk.levels.size() != 1) return ReportError(InvalidArgumentError("--level: give one level, e.g. 0.99"));
  auto from = Period::Parse(a.from);
  if (!from.ok()) return ReportError(from.status().WithContext("--from"));
  auto to = Period::Parse(a.to);
  if (!to.ok()) return ReportError(to.status().WithContext("--to"));
  auto span = to->Diff(*from);
  if (!span.ok() || *span < 0 || *span > 2000)
    return ReportError(InvalidArgumentError("--from " + a.from + " --to " + a.to +
                                            ": need periods of one frequency, --from not after --to (at most 2000)"));
  auto ds = OpenData(g, data_args);
  if (!ds.ok()) return ReportError(ds.status());
  if (!return_series.empty()) {
    auto returns = ReadStoreReturns(*ds->store, return_series, ds->as_of);
    if (!returns.ok()) return ReportError(returns.status());
    req->returns = std::move(*returns);
  }
  const models::ModelSpec model = req->model;
  risk::AsOfBacktestRequest bt;
  bt.base = std::move(*req);
  bt.level = bt.base.risk.levels.front();
  for (int64_t i = 0; i <= *span; ++i) bt.origins.push_back(*from + i);
  const std::string transform = data_args.transform;
  bt.data_as_of = [&](Date as_of) { return ReadMulti(*ds->store, ds->keys, as_of, transform); };
  auto r = risk::BacktestPortfolioAsOf(bt);
  if (!r.ok()) return ReportError(r.status());
  Table t{{"origin", "as_of", "target", "var", "es", "pnl", "exception"}, {}};
  for (const auto& p : r->points)
    t.Add({p.origin.ToString(), p.as_of.ToString(), p.target.ToString(), p.var, p.es, p.pnl, p.exception});
  Json out = risk::AsOfBacktestJson(*r);
  out["inputs"] = inputs;
  const Json& summary = out["backtest"];
  std::string run_id;
  if (!pa.experiment.empty()) {
    Json settings = {{"paths", bt.base.num_paths}, {"seed", bt.base.risk.seed}, {"from", a.from}, {"to", a.to},
                     {"level", bt.level}, {"factors", bt.base.factors}, {"factor_changes", bt.base.factor_changes}};
    std::vector<std::pair<std::string, double>> metrics;
    for (const char* k : {"observations", "exceptions", "expected_exceptions", "kupiec_lr", "kupiec_p", "independence_lr",
                          "independence_p", "conditional_coverage_lr", "conditional_coverage_p"})
      metrics.emplace_back(std::string("var_backtest.") + k, summary[k].get<double>());
    inputs["series"] = ds->keys;
    auto id = TrackRiskRun(g, pa.experiment, RunParams("risk var-backtest", inputs, settings, model), metrics,
                           "var_backtest.json", PrettyJson(out) + "\n");
    if (!id.ok()) return ReportError(id.status().WithContext("recording the run in experiment " + pa.experiment));
    run_id = *id;
  }
  if (g.format == OutputFormat::kJson) {
    if (!run_id.empty()) out["run_id"] = run_id;
    std::cout << PrettyJson(out) << "\n";
    return kExitOk;
  }
  if (!run_id.empty()) std::cout << "run: " << run_id << " (experiment " << pa.experiment << ")\n";
  Print(std::cout, t, g.format);
  std::cout << "\n";
  std::vector<std::pair<std::string, Json>> fields;
  for (const auto& [k, v] : summary.items()) fields.emplace_back(k, v);
  PrintRecord(std::cout, fields, g.format);
  if (!g.quiet)
    for (const auto& s : r->skipped) std::cerr << "  note: skipped origin " << s << "\n";
  return kExitOk;
}

}  // namespace almanac::cli
