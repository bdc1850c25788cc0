// `almanac nowcast` (issue 25; cli-internal): fits the mixed-frequency dynamic factor model
// (almanac/models/nowcast.h) to series of the store as known on a date, prints the nowcast of
// a quarterly target and, with --compare-as-of, the news decomposition between two vintages
// (docs/nowcasting.md, "Run it").
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "almanac/models/nowcast.h"
#include "almanac/store.h"
#include "cli/commands.h"

namespace almanac::cli {

// The nowcast configuration (docs/nowcasting.md, "Run it"), shared with `nowcast evaluate`.
struct NowcastConfig {
  std::string target;                   // key of the quarterly series
  std::vector<std::string> indicators;  // keys of the monthly series
  models::DfmOptions options;
};
// Reads the YAML file. NotFound when unreadable; InvalidArgument naming the file, line and key.
Result<NowcastConfig> ReadNowcastConfig(const std::string& path);
// The configured series as known `as_of` (nullopt: everything loaded): indicators (monthly)
// then the target (quarterly), on one monthly grid through `through`. NotFound for an unknown
// series or one with no observation then; InvalidArgument for a wrong frequency.
Result<models::MixedFrequencyData> ReadNowcastVintage(store::SeriesStore& store, const NowcastConfig& c,
                                                      std::optional<Date> as_of, Period through);

// almanac nowcast --config FILE.yaml [--as-of DATE] [--compare-as-of DATE] [--quarter 2024Q1]
//                 [--experiment NAME] [--chart news.svg]
struct NowcastArgs {
  std::string config;         // YAML: target, indicators, blocks, EM options
  std::string as_of;          // the vintage to fit and nowcast on ("" = everything loaded, today)
  std::string compare_as_of;  // the earlier vintage of the news decomposition
  std::string quarter;        // the target quarter ("" = the quarter of --as-of, else of today)
  std::string experiment;     // record a tracked run in this experiment ("" = none)
  std::string chart;          // write the news chart (SVG) here; needs compare_as_of
};
int RunNowcast(const GlobalOptions& g, const NowcastArgs& a);

}  // namespace almanac::cli
