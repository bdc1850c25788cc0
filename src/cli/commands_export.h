// almanac export argo|airflow PIPELINE.yaml...: the pipelines as the definitions of another
// orchestrator (docs/cli.md, "Export to Argo Workflows and Airflow"; docs/deploy.md).
#pragma once

#include <string>
#include <vector>

#include "almanac/core.h"
#include "cli/commands.h"

namespace almanac::cli {

struct ExportOrchestratorArgs {
  std::vector<std::string> files;
  std::string output = "-";  // a file, or "-" for stdout
  int shards = 1;            // parallel `almanac run --shard I/N` per run (capped at the group's pipelines)
  std::string image = "almanac:latest";          // argo: the container image
  std::string store_secret = "almanac-store";    // argo: Secret with key `url` (ALMANAC_STORE)
  std::string namespace_;                        // argo: metadata.namespace (default: none)
  std::string binary = "almanac";                // airflow: the binary on the Airflow workers
};

// One definition per group of pipelines that share a schedule (cron text, time zone and
// catch-up); a group runs its files with one `almanac run`, fanned out into `shards` shards.
// Argo: a CronWorkflow per scheduled group, a Workflow for the unscheduled ones (YAML, one
// document each). Airflow: one Python file with a DAG per group.
Result<std::string> ExportArgo(const std::vector<std::string>& files, const ExportOrchestratorArgs& a);
Result<std::string> ExportAirflow(const std::vector<std::string>& files, const ExportOrchestratorArgs& a);

int RunExportArgo(const GlobalOptions& g, const ExportOrchestratorArgs& a);
int RunExportAirflow(const GlobalOptions& g, const ExportOrchestratorArgs& a);

}  // namespace almanac::cli
