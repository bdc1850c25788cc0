// File: almanac/tracking.h
//
// Experiment tracking: runs with their context (who, where, which pipeline file, data
// snapshot, code version, seed), parameters, metrics with steps, tags and artifacts. Every run
// start and finish is audited.
//
//   tracking::Tracker tracker(store.metadata(), artifacts, SystemClock());
//   ALMANAC_ASSIGN_OR_RETURN(auto run, tracker.StartRun({.experiment = "gdp", .user = "alice"}));
//   ALMANAC_RETURN_IF_ERROR(tracker.LogMetrics(run.id, {{"mase", 0, 0.93}}));
//   ALMANAC_ASSIGN_OR_RETURN(auto art, tracker.LogArtifact(run.id, "model.json", bytes, "model"));
//   ALMANAC_RETURN_IF_ERROR(tracker.FinishRun(run.id, store::RunStatus::kFinished, ""));
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "almanac/core.h"
#include "almanac/store.h"

namespace almanac::tracking {

struct RunContext {
  std::string experiment;  // default: the pipeline name, else "default"
  std::string pipeline;
  std::string user;
  std::string host;  // default: this machine's host name
  std::string pipeline_hash;
  std::string snapshot_id;
  std::string git_commit;
  int64_t seed = 0;
  std::string reproduces;
};

// The labels (artifact kinds) of a run's own diagnostic records (issue 20): the steps on a
// timeline and the progress log. They are run-specific ("runs/<id>/..."), never content-
// addressed, so a reproduction does not compare them (timings differ on every run).
inline constexpr std::string_view kTimelineArtifact = "timeline.json";
inline constexpr std::string_view kRunLogArtifact = "run.log";
inline bool IsRunRecordArtifact(std::string_view kind) { return kind == kTimelineArtifact || kind == kRunLogArtifact; }

struct RunDetails {
  store::RunRecord run;
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<store::MetricPoint> metrics;  // every point, by key then step
  std::map<std::string, double> latest_metrics;  // last value (highest step) per key
  std::vector<std::pair<std::string, std::string>> tags;
  std::vector<store::ArtifactRecord> artifacts;
};

// A time-ordered, unique run id: "r" + 12 hex digits of the start time (ms) + 4 random.
std::string NewRunId(const Clock& clock);
// This machine's host name.
std::string HostName();

// Thread-safe when the stores are.
class Tracker {
 public:
  Tracker(store::MetadataStore& metadata, store::ArtifactStore& artifacts, const Clock& clock)
      : metadata_(metadata), artifacts_(artifacts), clock_(clock) {}

  // Creates a running run (id assigned) and audits "run.start".
  Result<store::RunRecord> StartRun(const RunContext& context);
  // Sets the snapshot id once known (load step) and audits nothing (the finish entry has it).
  Status SetSnapshot(std::string_view run_id, std::string_view snapshot_id);
  // InvalidArgument for duplicate keys.
  Status LogParams(std::string_view run_id, const std::vector<std::pair<std::string, std::string>>& params);
  // Timestamps default to now. One transaction for any number of points.
  Status LogMetrics(std::string_view run_id, std::vector<store::MetricPoint> points);
  Status SetTags(std::string_view run_id, const std::vector<std::pair<std::string, std::string>>& tags);
  // Stores the bytes under "runs/<run_id>/<name>" and records them on the run.
  Result<store::ArtifactRecord> LogArtifact(std::string_view run_id, std::string_view name, std::string_view bytes,
                                            std::string_view kind);
  // Records an existing artifact (e.g. a cached, content-addressed one) on the run.
  Status RecordArtifact(std::string_view run_id, const store::ArtifactRecord& artifact);
  // Ends the run and audits "run.finish" (or "run.fail" with the error).
  Status FinishRun(std::string_view run_id, store::RunStatus status, std::string_view error);

  // Marks as killed (and audits "run.killed") every run still "running" that was started on
  // this host by a process that no longer exists. Returns how many. Called before new runs,
  // so a run killed half way never stays "running".
  Result<int> ReapDeadRuns();
  // Marks as killed (audited "run.killed" with `details`) the runs still "running" that carry
  // the tag key=value: a task queue's worker calls it for the runs of an earlier attempt of a
  // task whose lease expired (their worker died, possibly on another host). Returns how many.
  Result<int> KillRunsTagged(std::string_view key, std::string_view value, std::string_view why, const Json& details);

  Result<RunDetails> GetRun(std::string_view run_id);
  Result<std::vector<store::RunRecord>> ListRuns(const store::RunFilter& filter);
  Result<std::string> ReadArtifact(const store::ArtifactRecord& artifact);

 private:
  store::MetadataStore& metadata_;
  store::ArtifactStore& artifacts_;
  const Clock& clock_;
};

}  // namespace almanac::tracking
