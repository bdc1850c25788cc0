// `almanac monitor`: accuracy of the production versions' forecasts (cli-internal); the
// evaluation itself is monitor::EvaluateProductionAccuracy, shared with serve and the scheduler.
#pragma once

#include <string>
#include <vector>

#include "almanac/monitor.h"
#include "almanac/store.h"
#include "cli/commands.h"

namespace almanac::cli {

struct MonitorArgs {
  std::string model;  // "" : every model with a production version
  bool audit = true;  // record verdict changes in the audit log
};
int RunMonitor(const GlobalOptions& g, const MonitorArgs& a);

}  // namespace almanac::cli
