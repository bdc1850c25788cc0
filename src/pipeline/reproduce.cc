// Reproduction of a past run from its recorded inputs.
#include "almanac/pipeline.h"

namespace almanac::pipeline {
namespace {

// Which step produced an artifact label, for explaining differences.
std::string StepOf(const std::string& label) {
  if (label == "transform.json") return "transform";
  if (label == "risk.json" || label == "risk.quantiles.csv") return "risk";
  if (label == "var_backtest.json") return "var_backtest";
  if (label.rfind("model.", 0) == 0) return "train:" + label.substr(6, label.size() - 11);
  if (label.rfind("metrics.", 0) == 0) return "evaluate:" + label.substr(8, label.size() - 13);
  return "";
}

std::string DiffInputs(const Json& a, const Json& b) {
  std::string out;
  for (auto it = a.begin(); it != a.end(); ++it) {
    if (!b.contains(it.key())) {
      out += (out.empty() ? "" : "; ") + it.key() + " missing now";
    } else if (b[it.key()] != it.value()) {
      std::string x = CompactJson(it.value()), y = CompactJson(b[it.key()]);
      if (x.size() > 60) x = x.substr(0, 57) + "...";
      if (y.size() > 60) y = y.substr(0, 57) + "...";
      out += (out.empty() ? "" : "; ") + it.key() + " was " + x + ", now " + y;
    }
  }
  return out;
}

}  // namespace

Result<ReproduceResult> Reproduce(Environment env, std::string_view run_id, const RunOptions& options) {
  if (env.clock == nullptr) env.clock = &SystemClock();
  tracking::Tracker tracker(env.store->metadata(), *env.artifacts, *env.clock);
  ALMANAC_ASSIGN_OR_RETURN(tracking::RunDetails original, tracker.GetRun(run_id));
  if (original.run.status != store::RunStatus::kFinished)
    return FailedPreconditionError("run " + std::string(run_id) + " did not finish (" +
                                   std::string(store::RunStatusName(original.run.status)) + "); only finished runs can be reproduced");
  std::map<std::string, store::ArtifactRecord> before;
  // The timeline and the log are the run's own records (timings differ on every run): not compared.
  for (const auto& a : original.artifacts)
    if (!tracking::IsRunRecordArtifact(a.kind)) before[a.kind] = a;
  auto pipeline_file = before.find("pipeline.yaml");
  if (pipeline_file == before.end())
    return FailedPreconditionError("run " + std::string(run_id) + " has no recorded pipeline file");
  if (original.run.snapshot_id.empty()) return FailedPreconditionError("run " + std::string(run_id) + " recorded no snapshot");
  ALMANAC_ASSIGN_OR_RETURN(std::string yaml, tracker.ReadArtifact(pipeline_file->second));
  ALMANAC_ASSIGN_OR_RETURN(PipelineSpec spec,
                           ParsePipeline(yaml, "pipeline.yaml of run " + std::string(run_id), *env.models));
  if (spec.source_hash != original.run.pipeline_hash)
    return DataLossError("the recorded pipeline file of run " + std::string(run_id) + " does not match its recorded hash");
  RunOptions opts = options;
  opts.reproduces = std::string(run_id);
  opts.snapshot_override = original.run.snapshot_id;
  opts.force = true;
  opts.git_commit = original.run.git_commit;
  // Input files the original run stored (the risk step's, issue 24): the reproduction uses
  // those bytes, not the files as they are now.
  for (const auto& [label, a] : before)
    if (label.rfind("input.", 0) == 0) {
      ALMANAC_ASSIGN_OR_RETURN(opts.recorded_inputs[label], tracker.ReadArtifact(a));
    }
  Runner runner(env);
  ALMANAC_ASSIGN_OR_RETURN(RunResult rerun, runner.Run(spec, opts));
  ALMANAC_ASSIGN_OR_RETURN(tracking::RunDetails again, tracker.GetRun(rerun.run_id));
  std::map<std::string, store::ArtifactRecord> after;
  for (const auto& a : again.artifacts)
    if (!tracking::IsRunRecordArtifact(a.kind)) after[a.kind] = a;
  // Step inputs of both runs, to explain differences.
  Json steps_before = Json::object(), steps_after = Json::object();
  if (auto it = before.find("steps.json"); it != before.end())
    if (auto b = tracker.ReadArtifact(it->second); b.ok()) steps_before = ParseJson(*b).value_or(Json::object());
  if (auto it = after.find("steps.json"); it != after.end())
    if (auto b = tracker.ReadArtifact(it->second); b.ok()) steps_after = ParseJson(*b).value_or(Json::object());

  ReproduceResult out;
  out.original_run = std::string(run_id);
  out.new_run = rerun.run_id;
  out.identical = true;
  for (const auto& [label, a] : before) {
    ArtifactComparison c;
    c.name = label;
    c.original_sha256 = a.sha256;
    auto it = after.find(label);
    if (it == after.end()) {
      c.why = "not produced by the reproduction";
    } else {
      c.reproduced_sha256 = it->second.sha256;
      c.identical = c.original_sha256 == c.reproduced_sha256;
      if (!c.identical) {
        const std::string step = StepOf(label);
        std::string diff;
        if (!step.empty() && steps_before.contains(step) && steps_after.contains(step))
          diff = DiffInputs(steps_before[step]["inputs"], steps_after[step]["inputs"]);
        if (!diff.empty()) c.why = "inputs of step " + step + " differ: " + diff;
        else if (label == "steps.json") c.why = "the step inputs differ (see the other artifacts)";
        else if (label == "package.json") c.why = "the model or its metrics differ (see model and metrics artifacts)";
        else c.why = "same inputs, different bytes: the computation is not deterministic";
      }
    }
    if (!c.identical) out.identical = false;
    out.artifacts.push_back(std::move(c));
  }
  for (const auto& [label, a] : after) {
    if (before.count(label)) continue;
    out.identical = false;
    out.artifacts.push_back({label, "", a.sha256, false, "produced by the reproduction only"});
  }
  return out;
}

}  // namespace almanac::pipeline
