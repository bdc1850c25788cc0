// Tracking (runs: commands_runs.cc), registry and lineage commands (cli-internal).
#pragma once

#include <string>
#include <vector>

#include "cli/commands_pipeline.h"

namespace almanac::cli {

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

}  // namespace almanac::cli
