// The simulate step of a pipeline (issue 24; pipeline-internal): the `simulate:` section,
// its input files and what the runner stores for it: the macro paths themselves (paths.f32,
// risk::EncodeMacroPaths) and their quantiles (paths.summary.json). docs/pipelines.md,
// "Simulate step".
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "almanac/pipeline.h"
#include "almanac/risk.h"
#include "pipeline/risk_step.h"

namespace almanac::pipeline {

// Parses `root["simulate"]` into spec.simulate. `available`: the data series and transforms.
// InvalidArgument "FILE:LINE: KEY: problem" (did-you-mean for unknown keys and names).
Status ParseSimulateSection(const YAML::Node& root, const std::string& file, const std::set<std::string>& available,
                            PipelineSpec& spec);

// The step's files (input.simulate.scenarios, input.simulate.model_file), read as the risk
// step's are (ReadSectionInputFile), and with `model: NAME@VERSION` the version's package
// (input.simulate.model, ReadRegisteredModelInput).
Result<std::vector<RiskInputFile>> ReadSimulateInputs(const PipelineSpec& spec, const RunOptions& options,
                                                      const VersionPackageReader& read_package = nullptr);

struct SimulatePlan {
  risk::MacroSimulationRequest request;
  std::vector<std::string> series;  // the macro variables, in model order
  Json inputs = Json::object();     // each file's name and SHA-256, the series
  Json settings = Json::object();   // what the paths depend on besides data and files
};
// The request from the section, its files and the pipeline's series (by name).
// InvalidArgument naming the key or file for bad input (a model file that is not a saved
// var/bvar, variables that are neither data series nor transforms, a bad horizon).
Result<SimulatePlan> BuildSimulatePlan(const PipelineSpec& spec, const std::vector<RiskInputFile>& files,
                                       const std::map<std::string, TimeSeries>& series, int threads);

// Run metrics of paths.summary.json: simulate.SCENARIO.VARIABLE.{mean,p05,p50,p95}, one
// point per period with step = h.
std::vector<store::MetricPoint> SimulateMetrics(const Json& summary);

}  // namespace almanac::pipeline
