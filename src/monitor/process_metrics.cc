// Metric sets shared by the long-running processes: pipeline runs and steps, data freshness.
#include <optional>
#include <set>

#include "almanac/monitor.h"

namespace almanac::monitor {
namespace {

// Pipeline runs take seconds to hours; steps from milliseconds (cached) to an hour.
std::vector<double> RunBuckets() { return {0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800, 3600, 7200}; }
std::vector<double> StepBuckets() { return {0.001, 0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600}; }

}  // namespace

PipelineMetrics::PipelineMetrics(MetricRegistry& r)
    : runs_(r.AddCounter("almanac_pipeline_runs_total", "Pipeline runs finished, by outcome (success, failure, skipped).",
                         {"pipeline", "outcome"})),
      run_seconds_(r.AddHistogram("almanac_pipeline_run_duration_seconds", "Wall time of pipeline runs, by outcome.",
                                  {"pipeline", "outcome"}, RunBuckets())),
      step_seconds_(r.AddHistogram("almanac_pipeline_step_duration_seconds",
                                   "Wall time of pipeline steps, by outcome (computed, cached, failed).",
                                   {"pipeline", "step", "outcome"}, StepBuckets())),
      last_run_(r.AddGauge("almanac_pipeline_last_run_timestamp_seconds", "When the last run of a pipeline finished, by outcome.",
                           {"pipeline", "outcome"})),
      last_success_(r.AddGauge("almanac_pipeline_last_success_timestamp_seconds",
                               "When the last successful run of a pipeline finished.", {"pipeline"})),
      queue_depth_(r.AddGauge("almanac_queue_depth", "Work waiting to start, by queue.", {"queue"})),
      source_loads_(r.AddCounter("almanac_source_loads_total",
                                 "Scheduled loads of a source, by outcome (committed, unchanged, quarantined, failed, skipped).",
                                 {"source", "outcome"})),
      source_load_seconds_(r.AddHistogram("almanac_source_load_duration_seconds",
                                          "Wall time of scheduled loads (with retries), by outcome.", {"source", "outcome"},
                                          RunBuckets())),
      source_last_success_(r.AddGauge("almanac_source_last_success_timestamp_seconds",
                                      "When the last scheduled load of a source succeeded (committed or unchanged): "
                                      "a broken loader shows as time() - value growing.",
                                      {"source"})),
      tasks_(r.AddCounter("almanac_tasks_total",
                          "Task attempts finished by this worker, by kind and outcome (done, retry, failed, lost).",
                          {"kind", "outcome"})),
      task_seconds_(r.AddHistogram("almanac_task_duration_seconds", "Wall time of task attempts, by kind and outcome.",
                                   {"kind", "outcome"}, RunBuckets())),
      busy_(r.AddGauge("almanac_worker_busy_tasks", "Tasks this worker is running now, by kind.", {"kind"})) {}

void PipelineMetrics::TaskStarted(std::string_view kind) { busy_.WithLabels({kind}).Inc(); }

void PipelineMetrics::TaskFinished(std::string_view kind, std::string_view outcome, double seconds) {
  busy_.WithLabels({kind}).Dec();
  tasks_.WithLabels({kind, outcome}).Inc();
  task_seconds_.WithLabels({kind, outcome}).Observe(seconds);
}

void PipelineMetrics::RunFinished(std::string_view pipeline, std::string_view outcome, double seconds,
                                  int64_t finished_micros) {
  runs_.WithLabels({pipeline, outcome}).Inc();
  run_seconds_.WithLabels({pipeline, outcome}).Observe(seconds);
  last_run_.WithLabels({pipeline, outcome}).Set(static_cast<double>(finished_micros) / 1e6);
  if (outcome == "success") last_success_.WithLabels({pipeline}).Set(static_cast<double>(finished_micros) / 1e6);
}

void PipelineMetrics::LoadFinished(std::string_view source, std::string_view outcome, double seconds,
                                   int64_t finished_micros) {
  source_loads_.WithLabels({source, outcome}).Inc();
  source_load_seconds_.WithLabels({source, outcome}).Observe(seconds);
  if (outcome == "committed" || outcome == "unchanged")
    source_last_success_.WithLabels({source}).Set(static_cast<double>(finished_micros) / 1e6);
}

void PipelineMetrics::StepFinished(std::string_view pipeline, std::string_view step, std::string_view outcome,
                                   double seconds) {
  step_seconds_.WithLabels({pipeline, step, outcome}).Observe(seconds);
}

void PipelineMetrics::SetQueueDepth(std::string_view queue, int64_t depth) {
  queue_depth_.WithLabels({queue}).Set(static_cast<double>(depth));
}

StoreMetrics::StoreMetrics(MetricRegistry& r, store::SeriesStore& series)
    : series_(series),
      last_vintage_(r.AddGauge("almanac_series_last_vintage_timestamp_seconds",
                               "The newest vintage date (realtime_start, 00:00 UTC) of a series: when the data "
                               "provider last published a change (stale data: time() - value).",
                               {"series"})),
      last_load_(r.AddGauge("almanac_series_last_load_timestamp_seconds",
                            "When a load last stored a new vintage of a series (loaded_at); loads that bring "
                            "nothing new leave no trace here.",
                            {"series"})),
      tracked_(r.AddGauge("almanac_series_tracked", "Series in the store.")),
      loads_(r.AddGauge("almanac_data_loads", "Data loads recorded in the store, by the source named on the series.",
                        {"source"})) {}

Status StoreMetrics::Refresh() {
  ALMANAC_ASSIGN_OR_RETURN(std::vector<store::SeriesInfo> all, series_.ListSeries());
  struct Newest {
    double vintage = 0;  // seconds
    double load = 0;     // seconds
  };
  std::map<std::string, Newest> newest;
  std::map<std::string, std::set<int64_t>> loads;  // source -> load ids
  for (const auto& s : all) {
    ALMANAC_ASSIGN_OR_RETURN(std::vector<store::VintageInfo> vintages, series_.ListVintages(s.key));
    std::optional<Date> vintage;
    int64_t loaded = -1;
    for (const auto& v : vintages) {
      if (v.kind != "load") continue;  // a restatement is bookkeeping, not new data
      // The newest date, not the vintage loaded last: a back-filled older vintage (ALFRED
      // history, a file with an old --realtime-start) does not make a series look fresh.
      if (!vintage || v.realtime_start > *vintage) vintage = v.realtime_start;
      loaded = std::max(loaded, v.loaded_at);
      loads[s.source.empty() ? "unknown" : s.source].insert(v.load_id);
    }
    if (vintage) newest[s.key] = {static_cast<double>(vintage->days()) * 86400.0, static_cast<double>(loaded) / 1e6};
  }
  std::lock_guard lock(mu_);
  for (const auto& key : series_seen_)
    if (!newest.contains(key)) {
      last_vintage_.Remove({key});
      last_load_.Remove({key});
    }
  series_seen_.clear();
  for (const auto& [key, n] : newest) {
    last_vintage_.WithLabels({key}).Set(n.vintage);
    last_load_.WithLabels({key}).Set(n.load);
    series_seen_.push_back(key);
  }
  tracked_.WithLabels(std::vector<std::string>{}).Set(static_cast<double>(all.size()));
  // A gauge of the store's state, not a counter of this process: a restart must not look
  // like a burst of loads.
  for (const auto& [source, ids] : loads) loads_.WithLabels({source}).Set(static_cast<double>(ids.size()));
  return Status::Ok();
}

}  // namespace almanac::monitor
