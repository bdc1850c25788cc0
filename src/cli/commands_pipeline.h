// Pipeline commands (run, validate, reproduce, scheduler) and the environment they and the
// registry and queue commands open (cli-internal).
#pragma once

#include <string>
#include <vector>

#include "almanac/models.h"
#include "almanac/pipeline.h"
#include "cli/commands.h"
#include "cli/monitoring.h"
#include "cli/workspace.h"

namespace almanac::cli {

// Everything the pipeline, tracking, registry and queue commands need, opened from the workspace.
struct Env {
  std::unique_ptr<Workspace> ws;
  std::unique_ptr<store::ArtifactStore> artifacts;
  models::ForecasterRegistry models;
  pipeline::Environment env() {
    pipeline::Environment e;
    e.store = &ws->store();
    e.artifacts = artifacts.get();
    e.models = &models;
    e.clock = &SystemClock();
    return e;
  }
};
// Opens the workspace (with the write lock when `write`), its artifact store and the models.
Result<std::unique_ptr<Env>> OpenEnv(const GlobalOptions& g, bool write);

struct RunArgs {
  std::vector<std::string> files;
  std::string shard;  // "I/N": run only the pipelines of shard I (default: JOB_COMPLETION_INDEX)
  bool force = false;
  int threads = 0;
};
int RunPipeline(const GlobalOptions& g, const RunArgs& a);
int RunReproduce(const GlobalOptions& g, const std::string& run_id);
int RunValidatePipeline(const GlobalOptions& g, const std::vector<std::string>& files);

struct SchedulerArgs {
  std::vector<std::string> files;
  std::vector<std::string> sources;  // source configurations whose scheduled sources are loaded
  int load_retries = 2;
  bool now = false;  // fire everything once at start
  int max_runs = 0;
  double run_for_s = 0;
  int64_t retry_base_ms = 30000;
  MetricsArgs metrics;
};
int RunSchedulerCommand(const GlobalOptions& g, const SchedulerArgs& a);

}  // namespace almanac::cli
