// Multivariate and backtest commands (issue 6): `var`, `scenario`, `backtest` (cli-internal).
#pragma once

#include <string>
#include <vector>

#include "cli/commands.h"

namespace almanac::cli {

// Where the series come from, shared by the three commands.
struct MultiDataArgs {
  std::vector<std::string> series;  // keys (comma-separated or repeated); --input: default all
  std::string input;                // a CSV file (any ingest form) instead of the workspace
  std::string frequency;            // for --input files whose frequency cannot be inferred
  std::string as_of;                // use the data known on this date
  std::string transform = "none";   // data::TransformOps: none, log, diff, dlog (log_diff), pct (pct_change), ...
};

struct ModelArgs {
  std::string model;
  std::vector<std::string> params;  // KEY=VALUE (VALUE is JSON or text)
  std::string params_json;          // a JSON object
};

struct VarArgs {
  std::string action = "forecast";  // forecast, coef, select, irf, fevd, granger, stability, simulate
  MultiDataArgs data;
  ModelArgs model{"var", {}, ""};
  int lags = -1;
  int max_lags = -1;
  std::string ic;
  std::string trend;
  int horizon = models::kDefaultHorizon;
  std::string levels = "80,95";
  int periods = 10;      // irf, fevd
  int replications = 0;  // irf bands
  double band_level = 95;
  int seed = 42;
  bool plain_irf = false;                    // non-orthogonalised responses
  std::vector<std::string> caused, causing;  // granger
  std::string save;                          // write the fitted model envelope to this file
  // simulate: joint paths (MultivariateForecaster::SimulatePaths), written as CSV
  int paths = 1000;
  std::string shocks = "gaussian";
  double dof = 5;
  bool parameter_uncertainty = false;
  std::string output;  // CSV file (default: stdout)
  std::string from;    // simulate from a model saved with --save instead of fitting
  // issue 24: register the fitted var/bvar as the next version of this model (a tracked run in
  // `experiment`, default the model's name; the package's manifest lists the variables).
  std::string register_model;
  std::string experiment;
};
int RunVar(const GlobalOptions& g, const VarArgs& a);

struct ScenarioArgs {
  std::string file;
  MultiDataArgs data;
  ModelArgs model;  // empty model: the file's, else var
  int horizon = 0;  // 0: the file's, else models::kDefaultHorizon
  std::string levels = "80,95";
  std::vector<std::string> only;  // run only these scenarios
};
int RunScenario(const GlobalOptions& g, const ScenarioArgs& a);

struct BacktestArgs {
  MultiDataArgs data;
  ModelArgs model{"auto_ets", {}, ""};
  ModelArgs compare;  // optional second model, compared by the Diebold-Mariano test
  int horizon = 4;
  int origins = 8;
  int step = 1;
  std::string window = "expanding";
  int window_size = 0;
  int period = 0;
  std::string levels = "80,95";
  bool real_time = false;
  int publication_lag = 0;
  int threads = 0;
  std::string output = "summary";  // summary, horizons, origins, dm
  double power = 2;                // DM loss |e|^power
  // Multivariate models: variables whose realised future values are given as known paths
  // (default for arimax: every variable except the target).
  std::vector<std::string> known_future;
};
int RunBacktest(const GlobalOptions& g, const BacktestArgs& a);

}  // namespace almanac::cli
