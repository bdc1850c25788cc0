// Pipeline, tracking, registry and audit commands (cli-internal).
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

struct RunsListArgs {
  std::string experiment, pipeline, status;
  int limit = 20;
};
int RunRunsList(const GlobalOptions& g, const RunsListArgs& a);
int RunRunsShow(const GlobalOptions& g, const std::string& run_id);
int RunRunsCompare(const GlobalOptions& g, const std::vector<std::string>& run_ids);

int RunModelsList(const GlobalOptions& g);
int RunModelsShow(const GlobalOptions& g, const std::string& name);
int RunModelsVersions(const GlobalOptions& g, const std::string& name);
struct PromoteArgs {
  std::string ref;      // MODEL@VERSION (or MODEL with `version`)
  std::string version;  // optional second positional
  std::string to = "production";
  std::string reason;
};
int RunModelsPromote(const GlobalOptions& g, const PromoteArgs& a);
int RunModelsApprove(const GlobalOptions& g, const PromoteArgs& a, bool approve);
int RunModelsRollback(const GlobalOptions& g, const std::string& name, const std::string& reason);
int RunModelsCard(const GlobalOptions& g, const std::string& name, const std::vector<std::string>& fields);
int RunModelsExport(const GlobalOptions& g, const std::string& ref, const std::string& output);
int RunLineage(const GlobalOptions& g, const std::string& ref);

int RunAuditVerify(const GlobalOptions& g, const std::string& expect_head);
int RunAuditExport(const GlobalOptions& g, const std::string& output);
int RunAuditList(const GlobalOptions& g, int limit);

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
