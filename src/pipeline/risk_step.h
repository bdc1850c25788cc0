// The risk steps of a pipeline (issue 24; pipeline-internal): the `risk:` and `var_backtest:`
// sections of a pipeline file, their input files, and what the runner stores for them.
// docs/pipelines.md, "Risk steps".
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "almanac/pipeline.h"
#include "almanac/registry.h"
#include "almanac/risk.h"

namespace almanac::pipeline {

// Parses the `risk:` and `var_backtest:` sections of `root` into spec.risk and
// spec.var_backtest. `available` holds the data series and transforms of the pipeline (what
// risk.series and risk.return_series may name). InvalidArgument "FILE:LINE: KEY: problem",
// with a did-you-mean for unknown keys and names.
Status ParseRiskSections(const YAML::Node& root, const std::string& file, const std::set<std::string>& available,
                         PipelineSpec& spec);

// One input file of the risk step: its artifact label ("input.risk.positions"), the name as
// written in the pipeline file and its bytes.
struct RiskInputFile {
  std::string label;
  std::string name;
  std::string bytes;
};

// Reads a registered version's package ("NAME@VERSION"), e.g. registry::ReadVersionPackage.
using VersionPackageReader = std::function<Result<registry::VersionPackage>(const std::string& ref)>;

// The package of a registered version ("NAME@VERSION") as an input file with `label`: the
// recorded one of a reproduction (FailedPrecondition when it was not recorded), else read with
// `read_package`. Errors carry `key` (e.g. "risk.model"). Shared by the risk and simulate steps.
Result<RiskInputFile> ReadRegisteredModelInput(const std::string& label, const std::string& key, const std::string& ref,
                                               const RunOptions& options, const VersionPackageReader& read_package);

// A registered var/bvar loaded from its package file: the fitted model, its variables (model
// order) and {"version", "sha256"} for a report's inputs. FailedPrecondition for a univariate
// version and for a version fitted on transformed series (a pipeline simulates versions fitted
// on its series as they are); errors carry `key`.
struct RegisteredMacroModel {
  std::shared_ptr<const models::MultivariateForecaster> model;
  std::vector<std::string> variables;
  Json input = Json::object();
};
Result<RegisteredMacroModel> LoadRegisteredMacroModel(const RiskInputFile& package, const std::string& key);

// The risk step's files, read relative to the folder of spec.file, or taken from
// options.recorded_inputs (reproduction). With risk.model NAME@VERSION, the version's package
// too ("input.risk.model", named as written, read with `read_package`; a reproduction uses the
// recorded one). NotFound for a file that cannot be read or an unknown model or version;
// FailedPrecondition when a reproduction lacks a recorded input.
Result<std::vector<RiskInputFile>> ReadRiskInputs(const PipelineSpec& spec, const RunOptions& options,
                                                  const VersionPackageReader& read_package = nullptr);

// The stress test's request built from the section, its files and the pipeline's series
// (data and transforms, by name), with the report's `inputs` and `settings`.
struct RiskPlan {
  risk::StressTestRequest request;
  std::vector<std::string> series;  // the macro variables, in model order
  Json inputs = Json::object();
  Json settings = Json::object();
};
// InvalidArgument naming the file (and line) or the section's key for bad input.
Result<RiskPlan> BuildRiskPlan(const PipelineSpec& spec, const std::vector<RiskInputFile>& files,
                               const std::map<std::string, TimeSeries>& series, int threads);

// Runs the stress test: the bytes of risk.json (risk::StressTestJson plus inputs and settings).
Result<std::string> RiskReportBytes(const RiskPlan& plan);

// risk.quantiles.csv: one row per scenario and horizon (mean, sd, point, the P&L percentiles
// and the Monte Carlo VaR/ES per level), from risk.json.
Result<std::string> RiskQuantilesCsv(const Json& report);

// Run metrics of risk.json: risk.SCENARIO.hH.varLL / .esLL (Monte Carlo, LL = level x 100).
std::vector<store::MetricPoint> RiskMetrics(const Json& report);

// The origins of spec.var_backtest, in order (validated by the parser).
Result<std::vector<Period>> VarBacktestOrigins(const VarBacktestStepSpec& spec);

// Runs the as-of VaR backtest on `vintages` (the macro data as known on each origin's as-of
// date, (origin + 1).StartDate()): the bytes of var_backtest.json.
Result<std::string> VarBacktestBytes(const PipelineSpec& spec, const RiskPlan& plan,
                                     const std::map<Date, models::MultiInput>& vintages);

// Run metrics of var_backtest.json (var_backtest.exceptions, .kupiec_p, ...).
std::vector<store::MetricPoint> VarBacktestMetrics(const Json& report);

}  // namespace almanac::pipeline
