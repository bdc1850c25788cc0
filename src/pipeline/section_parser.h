// Parsing helpers for the optional step sections of a pipeline file (pipeline-internal): the
// `risk:`, `var_backtest:` (risk_step.cc), `simulate:` (simulate_step.cc) and `nowcast:` (nowcast.cc) sections share
// their error form, scalar rules, file-name rules and the reading of their input files.
#pragma once

#include <yaml-cpp/yaml.h>

#include <set>
#include <string>
#include <vector>

#include "almanac/pipeline.h"

namespace almanac::pipeline {

// Errors in the form of the rest of the pipeline file: "FILE:LINE: KEY: problem".
class SectionParser {
 public:
  // `available`: the data series and transforms of the pipeline (what names may refer to);
  // must outlive the parser.
  SectionParser(const std::string& file, const std::set<std::string>& available) : file_(file), available_(available) {}

  Status Error(const YAML::Node& node, const std::string& key, const std::string& msg) const;
  // Refuses keys of `map` not in `known` (with a did-you-mean).
  Status Keys(const YAML::Node& map, const std::string& path, const std::vector<std::string>& known) const;
  // A non-empty text value.
  Result<std::string> Text(const YAML::Node& n, const std::string& key) const;
  // A file name relative to the pipeline file's folder: no absolute path, no '..'.
  Result<std::string> FileName(const YAML::Node& n, const std::string& key) const;
  Result<int64_t> Int(const YAML::Node& n, const std::string& key, int64_t lo, int64_t hi) const;
  // A finite number in [lo, hi] (open: (lo, hi)).
  Result<double> Number(const YAML::Node& n, const std::string& key, double lo, double hi, bool open) const;
  Result<bool> Bool(const YAML::Node& n, const std::string& key) const;
  // `name` is a data series or transform of the pipeline.
  Status Known(const YAML::Node& n, const std::string& key, const std::string& name) const;
  // A non-empty list of distinct names (each known, when must_be_known).
  Result<std::vector<std::string>> Names(const YAML::Node& n, const std::string& key, bool must_be_known) const;
  // YAML params as JSON: numbers, booleans and text (what the model parameters take).
  Result<Json> Params(const YAML::Node& n, const std::string& key) const;

 private:
  std::string file_;
  const std::set<std::string>& available_;
};

// The bytes of a step's input file `name` (as written in the pipeline file under `key`),
// read relative to the folder of spec.file, or taken from options.recorded_inputs[label]
// (reproduction). NotFound for a file that cannot be read; InvalidArgument for a file that
// resolves (symbolic links) outside the pipeline file's folder; FailedPrecondition when a
// reproduction lacks the recorded input.
Result<std::string> ReadSectionInputFile(const PipelineSpec& spec, const RunOptions& options, const std::string& label,
                                         const std::string& key, const std::string& name);

}  // namespace almanac::pipeline
