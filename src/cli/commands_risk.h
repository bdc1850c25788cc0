// `almanac risk var` and `almanac risk backtest` (issue 24; cli-internal): VaR, expected
// shortfall and Euler contributions of a P&L file, and VaR backtests of a P&L history
// against its VaR series. Both read a CSV file with a header line and need no workspace.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "almanac/models.h"
#include "cli/commands.h"
#include "cli/commands_multi.h"

namespace almanac::cli {

// almanac risk var --pnl FILE [--column NAME] [--level 0.95,0.99] [--method M] [--dof N]
//                  [--positions]
struct RiskVarArgs {
  std::string pnl;                  // CSV file ("-": standard input)
  std::string column;               // the P&L column (default: "pnl", or the only column)
  std::string levels = "0.95,0.99";  // confidence levels in (0, 1)
  std::string method = "all";       // historical, normal, t or all
  double dof = 5;                   // Student-t degrees of freedom
  // Every column is a position's P&L (except columns named scenario, date or id): VaR/ES of
  // their sum and Euler contributions by position.
  bool positions = false;
};
int RunRiskVar(const GlobalOptions& g, const RiskVarArgs& a);

// almanac risk backtest --pnl FILE (--var-column NAME | --exception-column NAME)
//                       [--pnl-column NAME] [--level 0.99]
struct RiskBacktestArgs {
  std::string pnl;
  std::string pnl_column = "pnl";
  std::string var_column;        // VaR as a positive loss, one per row
  std::string exception_column;  // or exception indicators: 0/1 or true/false
  std::string level = "0.99";
};
int RunRiskBacktest(const GlobalOptions& g, const RiskBacktestArgs& a);

// almanac risk portfolio SERIES... --positions FILE --returns FILE [--fx FILE] [--scenarios FILE]
// (issue 24): fits the macro model on the series, a factor model per asset on the return
// history, simulates the macro paths (under each scenario) and prints the portfolio's P&L
// distribution, VaR/ES and contributions per horizon (docs/risk.md, "Stress test").
struct RiskPortfolioArgs {
  MultiDataArgs data;
  ModelArgs model{"", {}, ""};  // var or bvar; or NAME@VERSION, a registered var/bvar (issue 24)
  int lags = -1;
  std::string positions;       // CSV or JSON
  std::string returns;         // CSV: period, one column per asset; or
  std::string return_series;   // ASSET=SERIES,...: returns from the store (as of --as-of)
  std::string fx;              // CSV currency,rate (optional)
  std::string base_currency = "USD";
  std::string scenarios;       // scenario YAML (optional)
  std::string only;            // comma-separated scenario names
  std::string factors;         // comma-separated model variables (default: all)
  bool factor_changes = false;
  int nw_lags = -1;
  int paths = 10000;
  int horizon = -1;            // default: the scenario file's, else 8
  std::string shocks = "gaussian";
  double shock_dof = 5;
  bool model_parameter_uncertainty = false;
  bool no_parameter_uncertainty = false;
  bool no_residuals = false;
  std::string levels = "0.95,0.99";
  double dof = 5;
  int seed = 42;
  int threads = 0;
  bool contributions = false;  // print contribution tables (last horizon, highest level)
  std::string output;          // write the full JSON report here
  // issue 24: simulate from this fitted VAR/BVAR (saved by `almanac var --save`) instead of
  // refitting the macro model; its SHA-256 goes to the report's inputs.
  std::string model_file;
  std::string experiment;      // record a tracked run in this experiment (needs a workspace)
};
int RunRiskPortfolio(const GlobalOptions& g, const RiskPortfolioArgs& a);

// almanac risk var-backtest SERIES... --positions FILE --returns FILE --from PERIOD --to PERIOD
// [--level 0.99]: the one-step-ahead VaR the model gave at each origin from the data as known
// then (vintages), against the realised P&L; Kupiec, Christoffersen and the Basel zone.
struct RiskVarBacktestArgs {
  RiskPortfolioArgs portfolio;
  std::string from, to;  // origin periods
  std::string level = "0.99";
};
int RunRiskVarBacktest(const GlobalOptions& g, const RiskVarBacktestArgs& a);

// The bytes of an input file of a risk or var command; InvalidArgument naming `option` for an empty
// path, NotFound for a file that cannot be read.
Result<std::string> ReadInputFile(const std::string& path, std::string_view option);

// A fitted var/bvar saved by `almanac var --save` (--model-file), not refitted; its SHA-256
// into `inputs["model_file"]`. NotFound for an unreadable file, the loader's error (naming the
// file) for one that is not such a model.
Result<std::shared_ptr<const models::MultivariateForecaster>> ReadMacroModelFile(const std::string& path,
                                                                                 Json& inputs);

// The scenario file (when given; its SHA-256 into `inputs["scenarios"]`, its `series` the
// default of `data.series`) and the macro model to fit: `model.model` or the file's type (else
// var), params over the file's when the types agree, `lags` (>= 0) over both. Not validated
// (a registered version or a model file replaces it). Shared by risk portfolio, risk
// var-backtest and risk simulate.
struct MacroModelChoice {
  std::optional<models::ScenarioSet> scenarios;
  models::ModelSpec model;
  std::optional<int> file_horizon;
};
Result<MacroModelChoice> ChooseMacroModel(const std::string& scenarios_file, const ModelArgs& model, int lags,
                                          MultiDataArgs& data, Json& inputs);

// A registered var/bvar version (--model NAME@VERSION, issue 24), for `risk portfolio` and
// `risk simulate`: resolved in the workspace's registry, the package read by its SHA-256 and
// loaded (risk::LoadMacroModel: FailedPrecondition for a univariate version, NotFound for an
// unknown model or version). Adjusts the arguments to it: `model.model` becomes the type, the
// series default to the package's variables, the transform to the one it was fitted on.
// InvalidArgument with a model file, params or lags. Reads only.
struct RegisteredMacro {
  std::shared_ptr<const models::MultivariateForecaster> model;
  std::string id;      // NAME@N
  std::string sha256;  // of the package
};
Result<RegisteredMacro> LoadRegisteredMacro(const GlobalOptions& g, ModelArgs& model, int lags,
                                            const std::string& model_file, MultiDataArgs& data);

}  // namespace almanac::cli
