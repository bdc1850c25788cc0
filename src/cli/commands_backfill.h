// backfill command: a pipeline once per past fire of its schedule (docs/pipelines.md "Backfills").
#pragma once

#include <string>

#include "cli/commands.h"

namespace almanac::cli {

struct BackfillArgs {
  std::string file;      // pipeline YAML file with a schedule
  std::string from, to;  // YYYY-MM-DD, local dates of the schedule's zone (inclusive)
  int concurrency = 1;   // points run at once
  int threads = 0;       // fitting threads per run (0: cores / concurrency, at least 1)
  bool queue = false;    // submit tasks for `almanac worker` instead of running here
  int max_attempts = 3;  // of each queued task
  int max_points = 1000;
  bool dry_run = false;  // list the fires, run nothing
};
int RunBackfillCommand(const GlobalOptions& g, const BackfillArgs& a);

}  // namespace almanac::cli
