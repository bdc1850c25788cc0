// `almanac nowcast` (issue 25; cli-internal): fits the mixed-frequency dynamic factor model
// (almanac/models/nowcast.h) to series of the store as known on a date, prints the nowcast of
// a quarterly target and, with --compare-as-of, the news decomposition between two vintages
// (docs/nowcasting.md, "Run it").
#pragma once

#include <string>

#include "cli/commands.h"

namespace almanac::cli {

// almanac nowcast --config FILE.yaml [--as-of DATE] [--compare-as-of DATE] [--quarter 2024Q1]
//                 [--experiment NAME]
struct NowcastArgs {
  std::string config;         // YAML: target, indicators, blocks, EM options
  std::string as_of;          // the vintage to fit and nowcast on ("" = everything loaded, today)
  std::string compare_as_of;  // the earlier vintage of the news decomposition
  std::string quarter;        // the target quarter ("" = the quarter of --as-of, else of today)
  std::string experiment;     // record a tracked run in this experiment ("" = none)
};
int RunNowcast(const GlobalOptions& g, const NowcastArgs& a);

}  // namespace almanac::cli
