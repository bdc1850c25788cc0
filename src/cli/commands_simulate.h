// `almanac risk simulate` (issue 24; cli-internal): the macro paths of a VAR/BVAR, unconditional
// or under each scenario of a scenario file, written in the stored form of the pipeline's
// `simulate` step (risk::SimulateMacroPathsForStorage: the same code and the same bytes for the
// same data, model, scenarios and seed) with their quantile summary (docs/risk.md, "Stored
// macro paths").
#pragma once

#include <cstdint>
#include <string>

#include "cli/commands.h"
#include "cli/commands_multi.h"

namespace almanac::cli {

// almanac risk simulate [SERIES...] [--input FILE | --as-of DATE] [-m var|bvar] [--lags N]
//   [--model-file FILE] [--scenarios FILE] [--only A,B] [--paths N] [-H N] [--shocks S]
//   [--shock-dof X] [--model-parameter-uncertainty] [--seed N] [--threads N] -o PATHS
//   [--summary FILE]
struct RiskSimulateArgs {
  MultiDataArgs data;
  ModelArgs model{"", {}, ""};
  int lags = -1;
  std::string model_file;   // a fitted var/bvar saved by `almanac var --save`
  std::string scenarios;    // scenario YAML (optional)
  std::string only;         // comma-separated scenario names
  int paths = 1000;
  int horizon = -1;         // default: the scenario file's, else 8
  std::string shocks = "gaussian";
  double shock_dof = 5;
  bool model_parameter_uncertainty = false;
  int64_t seed = 42;
  int threads = 0;
  std::string output;       // the paths file (required)
  std::string summary;      // the summary JSON (optional)
};
int RunRiskSimulate(const GlobalOptions& g, const RiskSimulateArgs& a);

}  // namespace almanac::cli
