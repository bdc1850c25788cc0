// `almanac report MODEL@VERSION` (cli-internal): the model-risk report as one HTML file.
#pragma once

#include <string>

#include "cli/commands.h"

namespace almanac::cli {

struct ReportArgs {
  std::string ref;     // MODEL@VERSION or MODEL@production
  std::string output;  // default MODEL-vVERSION-report.html
  std::string pdf;     // also print to this PDF through headless Chromium
  std::string risk;    // a portfolio risk report (risk portfolio -o) for the risk section
  std::string var_backtest;  // a VaR backtest (risk var-backtest --format json) for its section
};
int RunReport(const GlobalOptions& g, const ReportArgs& a);

}  // namespace almanac::cli
