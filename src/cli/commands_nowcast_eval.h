// `almanac nowcast evaluate` (issue 25; cli-internal): the real-time evaluation of the
// dynamic factor model's nowcasts against a random walk and an AR(2), with Diebold-Mariano
// tests (almanac/eval/nowcast_eval.h; docs/nowcasting.md, "Evaluate").
#pragma once

#include <string>

#include "cli/commands.h"

namespace almanac::cli {

// almanac nowcast evaluate --config FILE.yaml --from DATE --to DATE [--every month|release]
//                          [--mode real-time|pseudo] [--refit every|once] [--outcome latest|first]
struct NowcastEvalArgs {
  std::string config;                // the nowcast config (target, indicators, blocks, EM options)
  std::string from, to;              // the window of evaluation dates, inclusive
  std::string every = "month";       // month: each month's last day; release: each vintage date
  std::string mode = "real-time";    // real-time: the vintage as of the date; pseudo: latest data, same pattern
  std::string refit = "every";       // every: re-estimate at each date; once: at the first date only
  std::string outcome = "latest";    // latest: the latest vintage's value; first: the first release
};
int RunNowcastEvaluate(const GlobalOptions& g, const NowcastEvalArgs& a);

}  // namespace almanac::cli
