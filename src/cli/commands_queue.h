// submit, worker and tasks commands: the store's task queue (docs/operations.md "Workers").
#pragma once

#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/monitoring.h"

namespace almanac::cli {

struct SubmitArgs {
  std::vector<std::string> files;
  std::string key;       // idempotency key; default: a new one per call
  int max_attempts = 3;
};
int RunSubmit(const GlobalOptions& g, const SubmitArgs& a);

struct WorkerArgs {
  int concurrency = 1;        // tasks run at once (one thread each)
  int threads = 0;            // fitting threads per task (0: cores / concurrency, at least 1)
  double lease_s = 30;
  double heartbeat_s = 0;     // 0: a third of the lease
  int64_t retry_base_ms = 30000;
  int max_tasks = 0;          // per worker thread
  double idle_exit_s = 0;
  int64_t poll_ms = 1000;
  MetricsArgs metrics;
};
int RunWorkerCommand(const GlobalOptions& g, const WorkerArgs& a);

int RunTasksList(const GlobalOptions& g, const std::string& state);
int RunTasksShow(const GlobalOptions& g, const std::string& id);
// retry: a failed task is queued again with fresh attempts; cancel: a queued task is failed.
int RunTasksRetry(const GlobalOptions& g, const std::string& id, const std::string& reason);
int RunTasksCancel(const GlobalOptions& g, const std::string& id, const std::string& reason);

}  // namespace almanac::cli
