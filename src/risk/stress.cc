// The stress-test chain: macro model -> factor models -> simulated (conditional) macro paths ->
// portfolio P&L and risk per scenario (docs/risk.md, "Stress test").
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "almanac/risk.h"
#include "risk/csv_text.h"

namespace almanac::risk {
namespace {

Json FigureJson(const RiskFigure& f, const std::vector<std::string>& position_ids) {
  Json positions = Json::array();
  for (size_t j = 0; j < f.position_var.size() && j < position_ids.size(); ++j)
    positions.push_back({{"position", position_ids[j]}, {"var", f.position_var[j]}, {"es", f.position_es[j]}});
  Json j = {{"method", f.method}, {"level", f.level}, {"var", f.var}, {"es", f.es}, {"positions", positions}};
  if (!f.components.empty()) {
    Json comps = Json::array();
    for (size_t c = 0; c < f.components.size(); ++c)
      comps.push_back({{"component", f.components[c]}, {"var", f.component_var[c]}, {"es", f.component_es[c]}});
    j["components"] = comps;
  }
  return j;
}

}  // namespace

Result<AssetReturns> ParseAssetReturns(std::string_view text, std::string_view file_name) {
  const std::string file(file_name);
  AssetReturns out;
  // Every non-blank line: a returns file has no comment lines.
  const std::vector<std::pair<int, std::string>> lines = CsvLines(text, /*skip_comments=*/false);
  if (lines.empty()) return InvalidArgumentError(file + ": empty file, expected a header line period,ASSET,...");
  const auto header = SplitCsvLine(lines[0].second);
  const std::string first = ToLower(header[0]);
  if (first != "period" && first != "date")
    return InvalidArgumentError(file + ":" + std::to_string(lines[0].first) +
                                ": the first column must be 'period' (or 'date'), found " + QuoteForMessage(header[0]));
  if (header.size() < 2) return InvalidArgumentError(file + ": no asset column after " + QuoteForMessage(header[0]));
  for (size_t c = 1; c < header.size(); ++c) {
    if (header[c].empty()) return InvalidArgumentError(file + ":" + std::to_string(lines[0].first) + ": empty column name");
    if (std::find(out.assets.begin(), out.assets.end(), header[c]) != out.assets.end())
      return InvalidArgumentError(file + ":" + std::to_string(lines[0].first) + ": asset column " +
                                  QuoteForMessage(header[c]) + " appears twice");
    out.assets.push_back(header[c]);
  }
  out.values.assign(out.assets.size(), {});
  std::map<std::string, int> seen;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string where = file + ":" + std::to_string(lines[i].first);
    const auto cells = SplitCsvLine(lines[i].second);
    if (cells.size() != header.size())
      return InvalidArgumentError(where + ": " + std::to_string(cells.size()) + " fields, the header has " +
                                  std::to_string(header.size()));
    auto period = Period::Parse(cells[0]);
    if (!period.ok()) return InvalidArgumentError(where + ": period " + QuoteForMessage(cells[0]) + ": " + period.status().message());
    if (!out.periods.empty() && period->frequency() != out.periods.front().frequency())
      return InvalidArgumentError(where + ": period " + QuoteForMessage(cells[0]) + " has another frequency than " +
                                  out.periods.front().ToString());
    if (!seen.emplace(period->ToString(), lines[i].first).second)
      return InvalidArgumentError(where + ": period " + period->ToString() + " appears twice");
    out.periods.push_back(*period);
    for (size_t c = 1; c < cells.size(); ++c) {
      auto v = ParseFiniteDouble(cells[c]);
      if (!v.ok())
        return InvalidArgumentError(where + ", column " + QuoteForMessage(header[c]) + ": " + QuoteForMessage(cells[c]) +
                                    " is not a finite number");
      out.values[c - 1].push_back(*v);
    }
  }
  if (out.periods.empty()) return InvalidArgumentError(file + ": no data rows after the header");
  return out;
}

Result<StressTestResult> RunStressTest(const StressTestRequest& req) {
  const models::MultiInput& data = req.data;
  if (!data.start) return InvalidArgumentError("stress test: the macro data have no periods (needed to align the returns)");
  if (data.size() < 2) return InvalidArgumentError("stress test: the macro data have fewer than 2 observations");
  StressTestResult out;
  out.variables = data.names;
  out.sample = data.start->ToString() + ".." + (*data.start + (data.size() - 1)).ToString() + " (" +
               std::to_string(data.size()) + " obs)";
  // Factors: model variables.
  std::vector<std::string> factor_names = req.factors.empty() ? data.names : req.factors;
  std::vector<int> factor_var;
  for (const auto& f : factor_names) {
    auto it = std::find(data.names.begin(), data.names.end(), f);
    if (it == data.names.end()) {
      std::string list;
      for (const auto& n : data.names) list += (list.empty() ? "" : ", ") + n;
      return InvalidArgumentError("factor " + QuoteForMessage(f) + " is not a variable of the macro model (" + list + ")");
    }
    factor_var.push_back(static_cast<int>(it - data.names.begin()));
  }
  // Align the returns with the macro data.
  std::vector<std::vector<double>> returns(req.returns.assets.size()), history(factor_names.size());
  for (size_t row = 0; row < req.returns.periods.size(); ++row) {
    auto t = req.returns.periods[row].Diff(*data.start);
    if (!t.ok())
      return InvalidArgumentError("asset returns: period " + req.returns.periods[row].ToString() +
                                  " has another frequency than the macro data (" + data.start->ToString() + ")");
    if (*t < (req.factor_changes ? 1 : 0) || *t >= data.size()) continue;
    for (size_t a = 0; a < returns.size(); ++a) returns[a].push_back(req.returns.values[a][row]);
    for (size_t f = 0; f < factor_var.size(); ++f) {
      const auto& v = data.values[factor_var[f]];
      history[f].push_back(req.factor_changes ? v[*t] - v[*t - 1] : v[*t]);
    }
  }
  out.factor_observations = returns.empty() ? 0 : static_cast<int64_t>(returns[0].size());
  if (out.factor_observations == 0)
    return InvalidArgumentError("asset returns: no period in common with the macro data (" + out.sample + ")");
  std::vector<FactorSpec> specs;
  for (const auto& f : factor_names) specs.push_back({f, req.factor_changes});
  ALMANAC_ASSIGN_OR_RETURN(out.factor_model,
                           FitPortfolioFactorModel(req.returns.assets, returns, specs, history, req.factor_options));
  ALMANAC_ASSIGN_OR_RETURN(out.historical, HistoricalPortfolioRisk(req.positions, req.fx, req.returns.assets, returns, req.risk));

  // The macro model and scenarios (macro_paths.cc): every scenario resolved before any work.
  MacroSimulationRequest macro{.data = data,
                               .model = req.model,
                               .fitted_model = req.fitted_model,
                               .scenarios = req.scenarios,
                               .only = req.only,
                               .num_paths = req.num_paths,
                               .horizon = req.horizon,
                               .shocks = req.shocks,
                               .shock_dof = req.shock_dof,
                               .model_parameter_uncertainty = req.model_parameter_uncertainty,
                               .seed = req.risk.seed,
                               .threads = req.risk.threads};
  ALMANAC_ASSIGN_OR_RETURN(MacroScenarioSimulator sim, MacroScenarioSimulator::Create(macro));
  out.scenario_names = sim.scenario_names();
  out.scenario_descriptions = sim.scenario_descriptions();
  out.model_method = sim.model_method();
  PortfolioRiskOptions ro = req.risk;
  for (size_t f = 0; f < factor_var.size(); ++f)
    ro.last_values.emplace_back(factor_names[f], data.values[factor_var[f]].back());
  for (size_t s = 0; s < out.scenario_names.size(); ++s) {
    ALMANAC_ASSIGN_OR_RETURN(models::SimulatedPaths paths, sim.Simulate(s));
    auto risk = SimulatePortfolioRisk(req.positions, req.fx, out.factor_model, paths, ro);
    if (!risk.ok()) return risk.status().WithContext("scenario " + out.scenario_names[s]);
    out.scenarios.push_back(std::move(*risk));
  }
  return out;
}

Result<std::shared_ptr<const models::MultivariateForecaster>> LoadMacroModel(std::string_view id,
                                                                             std::string_view model_type,
                                                                             const Json& envelope) {
  std::string type(model_type);
  if (envelope.is_object() && envelope.contains("spec") && envelope["spec"].is_object() &&
      envelope["spec"].contains("type") && envelope["spec"]["type"].is_string())
    type = envelope["spec"]["type"].get<std::string>();
  const bool simulates = type == "var" || type == "bvar";
  if (!simulates) {
    bool multivariate = false;
    for (const auto& t : models::MultivariateModelTypes()) multivariate |= t.name == type;
    return FailedPreconditionError(
        std::string(id) + " is " + (type.empty() ? std::string("a model of unknown type") : "a " + type + " model") +
        (multivariate ? " (it does not simulate macro paths)" : " (univariate)") +
        ": only var and bvar versions can drive a stress test; register one with almanac var ... --register NAME");
  }
  auto model = models::LoadMultivariate(envelope);
  if (!model.ok()) return model.status().WithContext(std::string(id));
  return std::shared_ptr<const models::MultivariateForecaster>(std::move(*model));
}

Json StressTestJson(const StressTestResult& r) {
  Json fm = Json::array();
  for (size_t a = 0; a < r.factor_model.assets.size(); ++a) {
    const FactorFit& f = r.factor_model.fits[a];
    Json names = Json::array({"const"});
    for (const auto& s : r.factor_model.factors) names.push_back(s.difference ? "d(" + s.variable + ")" : s.variable);
    fm.push_back({{"asset", r.factor_model.assets[a]},
                  {"regressors", names},
                  {"coefficients", f.coefficients},
                  {"std_errors", f.std_errors},
                  {"t_stats", f.t_stats},
                  {"residual_sd", f.residual_sd},
                  {"r_squared", f.r_squared},
                  {"observations", f.observations},
                  {"lags", f.lags}});
  }
  const std::vector<std::string>& ids =
      r.scenarios.empty() ? std::vector<std::string>{} : r.scenarios.front().position_ids;
  Json hist = Json::array();
  for (const auto& f : r.historical) hist.push_back(FigureJson(f, ids));
  Json scen = Json::array();
  for (size_t s = 0; s < r.scenarios.size(); ++s) {
    const PortfolioRisk& p = r.scenarios[s];
    Json hs = Json::array();
    for (const auto& h : p.horizons) {
      Json figs = Json::array();
      for (const auto& f : h.figures) figs.push_back(FigureJson(f, p.position_ids));
      hs.push_back({{"h", h.h},
                    {"period", h.period},
                    {"mean", h.mean},
                    {"sd", h.sd},
                    {"point", h.point},
                    {"percentiles", {{"levels", {0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99}}, {"pnl", h.percentiles}}},
                    {"histogram", {{"edges", h.histogram_edges}, {"counts", h.histogram_counts}}},
                    {"figures", figs}});
    }
    scen.push_back({{"scenario", r.scenario_names[s]},
                    {"description", r.scenario_descriptions[s]},
                    {"paths", p.num_paths},
                    {"method", p.method},
                    {"horizons", hs}});
  }
  Json positions = Json::array();
  if (!r.scenarios.empty())
    for (size_t j = 0; j < ids.size(); ++j)
      positions.push_back({{"position", ids[j]}, {"exposure", r.scenarios.front().position_exposures[j]}});
  return {{"macro_model", {{"method", r.model_method}, {"variables", r.variables}, {"sample", r.sample}}},
          {"currency", r.scenarios.empty() ? std::string() : r.scenarios.front().currency},
          {"positions", positions},
          {"factor_model", {{"observations", r.factor_observations}, {"assets", fm}}},
          {"historical", hist},
          {"scenarios", scen}};
}

Json AsOfBacktestJson(const AsOfBacktestResult& r) {
  Json points = Json::array();
  for (const auto& p : r.points)
    points.push_back({{"origin", p.origin.ToString()},
                      {"as_of", p.as_of.ToString()},
                      {"target", p.target.ToString()},
                      {"var", p.var},
                      {"es", p.es},
                      {"pnl", p.pnl},
                      {"exception", p.exception}});
  const VaRBacktest& b = r.backtest;
  Json summary = {{"observations", b.observations},
                  {"level", b.level},
                  {"exceptions", b.exceptions},
                  {"expected_exceptions", b.expected_exceptions},
                  {"kupiec_lr", b.kupiec.statistic},
                  {"kupiec_p", b.kupiec.p_value},
                  {"independence_lr", b.independence.statistic},
                  {"independence_p", b.independence.p_value},
                  {"conditional_coverage_lr", b.conditional_coverage.statistic},
                  {"conditional_coverage_p", b.conditional_coverage.p_value},
                  {"zone", std::string(TrafficLightName(b.zone))}};
  return {{"points", points}, {"skipped", r.skipped}, {"backtest", summary}};
}

Result<AsOfBacktestResult> BacktestPortfolioAsOf(const AsOfBacktestRequest& req) {
  if (req.origins.empty()) return InvalidArgumentError("as-of backtest: no origin period");
  if (!req.data_as_of) return InvalidArgumentError("as-of backtest: no data source");
  if (!(req.level > 0 && req.level < 1))
    return InvalidArgumentError("as-of backtest: level " + FormatDouble(req.level) + " is outside (0, 1)");
  AsOfBacktestResult out;
  std::vector<double> pnls, vars;
  for (const Period& origin : req.origins) {
    const std::string where = "origin " + origin.ToString();
    const Date as_of = (origin + 1).StartDate();
    auto data = req.data_as_of(as_of);
    if (!data.ok()) return data.status().WithContext(where);
    models::MultiInput d = std::move(*data);
    if (!d.start) return InvalidArgumentError(where + ": the macro data have no periods");
    auto keep = origin.Diff(*d.start);
    if (!keep.ok()) return InvalidArgumentError(where + ": another frequency than the macro data");
    const int64_t n = std::min<int64_t>(d.size(), *keep + 1);
    if (n < 2) return InvalidArgumentError(where + ": fewer than 2 macro observations known then");
    for (auto& v : d.values) v.resize(static_cast<size_t>(n));
    const Period last = *d.start + (n - 1), target = last + 1;
    // The realised return of the target period, and the returns known at the origin.
    const auto& ret = req.base.returns;
    int64_t target_row = -1;
    AssetReturns known;
    known.assets = ret.assets;
    known.values.assign(ret.assets.size(), {});
    for (size_t row = 0; row < ret.periods.size(); ++row) {
      if (ret.periods[row] == target) target_row = static_cast<int64_t>(row);
      if (ret.periods[row] <= last) {
        known.periods.push_back(ret.periods[row]);
        for (size_t a = 0; a < ret.assets.size(); ++a) known.values[a].push_back(ret.values[a][row]);
      }
    }
    if (target_row < 0) {
      out.skipped.push_back(origin.ToString() + " (no return for " + target.ToString() + ")");
      continue;
    }
    StressTestRequest r = req.base;
    r.data = std::move(d);
    r.returns = std::move(known);
    r.scenarios.reset();
    r.only.clear();
    r.horizon = 1;
    r.risk.levels = {req.level};
    auto res = RunStressTest(r);
    if (!res.ok()) return res.status().WithContext(where);
    const PortfolioRisk& pr = res->scenarios.front();
    AsOfVaRPoint p{origin, as_of, target, 0, 0, 0, false};
    for (const auto& f : pr.horizons.front().figures)
      if (f.method == "monte_carlo") {
        p.var = f.var;
        p.es = f.es;
      }
    for (size_t j = 0; j < req.base.positions.size(); ++j) {
      const auto it = std::find(ret.assets.begin(), ret.assets.end(), req.base.positions[j].asset);
      p.pnl += pr.position_exposures[j] * ret.values[it - ret.assets.begin()][target_row];
    }
    p.exception = -p.pnl > p.var;
    pnls.push_back(p.pnl);
    vars.push_back(p.var);
    out.points.push_back(p);
  }
  if (out.points.empty())
    return FailedPreconditionError("as-of backtest: no origin has a realised P&L for the period after it (" +
                                   std::to_string(out.skipped.size()) + " skipped)");
  ALMANAC_ASSIGN_OR_RETURN(out.backtest, BacktestVaR(pnls, vars, req.level));
  return out;
}

}  // namespace almanac::risk
