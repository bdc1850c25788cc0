// File: almanac/monitor/risk_report.h
//
// The risk section of the model-risk report (issue 24): a portfolio stress test's report (the
// JSON of `almanac risk portfolio -o` or POST /v1/risk/portfolio) rendered as HTML tables and
// inline SVG charts, and the report built with it. Kept out of almanac/monitor.h so that the
// files that do not render reports do not see it (part of the monitor component).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "almanac/core/json.h"
#include "almanac/monitor.h"

namespace almanac::monitor {

struct ModelRiskReportOptions {
  // A portfolio risk report to add as the section "Portfolio risk under the scenarios";
  // `risk_source` names it (a file name) in the section and in errors.
  std::optional<Json> risk;
  std::string risk_source;
  // A VaR backtest (the JSON of `almanac risk var-backtest --format json`, a pipeline's
  // var_backtest.json or POST /v1/risk/var-backtest) to add as the section "VaR backtest".
  std::optional<Json> var_backtest;
  std::string var_backtest_source;
};

// BuildModelRiskReport with options; InvalidArgument (naming risk_source) for a risk report
// that is not the JSON of a stress test.
Result<ModelRiskReport> BuildModelRiskReport(store::Store& store, store::ArtifactStore& artifacts,
                                             const models::ForecasterRegistry& models, const std::string& model,
                                             const std::string& which, const Clock& clock,
                                             const ModelRiskReportOptions& options);

// The section (<h2 id="risk"> ...): the macro model and inputs' SHA-256, a scenario table
// (per scenario and horizon: mean, point and the Monte Carlo VaR and ES at each level,
// id="risk-scenarios"), the P&L histogram of each scenario's last horizon as inline SVG
// (id="risk-hist-N"), the Euler contributions to the ES of that horizon's highest-level Monte
// Carlo figure as horizontal bar charts by position (id="risk-contrib-pos-N") and by component
// (id="risk-contrib-factor-N"; largest first, beyond 15 summed as "others", the total last;
// none when the report has no contributions), and the historical revaluation's figures
// (id="risk-historical"). InvalidArgument naming `source` when `report` has no 'scenarios'
// array, a scenario lacks its name or horizons, a contribution list is not an array of
// {name, finite var, finite es}, or the charted contributions do not add up to the figure's
// VaR or ES (naming the scenario, horizon and figure).
Result<std::string> RiskSectionHtml(const Json& report, std::string_view source);

// The section (<h2 id="var-backtest"> ...): the test table (observations, exceptions against
// expected, Kupiec, Christoffersen independence and conditional coverage with p-values, the
// Basel zone; id="var-backtest-summary") and the realised P&L of each origin against minus its
// VaR as inline SVG (id="var-backtest-chart"; exceptions drawn red, class="exception").
// InvalidArgument naming `source` when `report` has no 'backtest' object or 'points' array, or
// a point lacks a finite var or pnl.
Result<std::string> VarBacktestSectionHtml(const Json& report, std::string_view source);

}  // namespace almanac::monitor
