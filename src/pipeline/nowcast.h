// Nowcast pipelines (issue 25, pipeline-internal): the `nowcast:` section of a pipeline file
// and the computation of its steps (docs/nowcasting.md, "Platform"). The runner
// (runner.cc) calls these from its nowcast steps; they know nothing of stores or tracking.
#pragma once

#include <map>
#include <optional>
#include <string>

#include <yaml-cpp/yaml.h>

#include "almanac/pipeline.h"

namespace almanac::pipeline {

// Parses `root["nowcast"]` into spec.nowcast, after the data section (spec.series) is read.
// Refuses the sections a nowcast pipeline does not have (target, models, transforms,
// horizon, levels, evaluation, register, promote). InvalidArgument "FILE:LINE: KEY: problem".
Status ParseNowcastSection(const YAML::Node& root, const std::string& file, PipelineSpec& spec);

// One vintage of a nowcast's series, by key (a snapshot's content).
using NowcastSeries = std::map<std::string, TimeSeries>;

// The nowcast's series on one monthly grid: the indicators then the target, through the end
// of the quarter; with a previous vintage, both on the union of their grids (as `almanac
// nowcast --compare-as-of` does, so the two agree to the last bit).
struct NowcastGrid {
  models::MixedFrequencyData now;
  std::optional<models::MixedFrequencyData> before;
  Period quarter{Frequency::kQuarterly, 0};
};
// NotFound for a series missing from a vintage; InvalidArgument for a target that is not
// quarterly, an indicator that is not monthly, a series without observations, or a quarter
// that is not after the start of the data. `what` names the vintages in messages.
Result<NowcastGrid> BuildNowcastGrid(const NowcastSpec& spec, const NowcastSeries& now, const NowcastSeries* before,
                                     const std::string& what_now, const std::string& what_before);

// What a nowcast run compares with: the previous run's snapshot.
struct NowcastBaseline {
  std::string run_id;
  std::string snapshot_id;
  std::optional<Date> as_of;  // the snapshot's as-of date (nullopt: latest data)
};

// The fitted model's canonical JSON (DynamicFactorModel::ToJson).
Result<std::string> FitNowcastModel(const NowcastSpec& spec, const NowcastGrid& grid);

// The nowcast document (kNowcastArtifact, canonical JSON): the target, quarter, data as-of,
// snapshot, nowcast and its standard error, a model summary and, with a baseline, the news
// decomposition: {"type","target","quarter","as_of","snapshot_id","nowcast":{"value",
// "std_error"},"model":{...},"news":null|{"compare_run","compare_snapshot","compare_as_of",
// "old_value","new_value","change","revision_impact","news_impact","revised","releases":[{
// "series","period","actual","forecast","news","weight","impact"}]}}.
Result<std::string> NowcastDocument(const NowcastSpec& spec, const NowcastGrid& grid, const std::string& model_json,
                                    const std::string& snapshot_id, std::optional<Date> as_of,
                                    const std::optional<NowcastBaseline>& baseline);

}  // namespace almanac::pipeline
