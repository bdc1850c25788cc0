// `almanac monitor`: accuracy of the production versions' forecasts (cli-internal), and the
// evaluation that serve and the scheduler export as metrics.
#pragma once

#include <string>
#include <vector>

#include "almanac/monitor.h"
#include "almanac/store.h"
#include "cli/commands.h"

namespace almanac::cli {

// Scores the stored forecasts of every production version (of `only_model` when not empty)
// against the target as known now: the package's input series with everything loaded, its
// recorded transforms applied. NotFound for an unknown `only_model`.
Result<std::vector<monitor::VersionAccuracy>> EvaluateProductionAccuracy(store::Store& store, store::ArtifactStore& artifacts,
                                                                          const std::string& only_model);

struct MonitorArgs {
  std::string model;  // "" : every model with a production version
  bool audit = true;  // record verdict changes in the audit log
};
int RunMonitor(const GlobalOptions& g, const MonitorArgs& a);

}  // namespace almanac::cli
