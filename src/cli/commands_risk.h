// `almanac risk var` and `almanac risk backtest` (issue 24; cli-internal): VaR, expected
// shortfall and Euler contributions of a P&L file, and VaR backtests of a P&L history
// against its VaR series. Both read a CSV file with a header line and need no workspace.
#pragma once

#include <string>

#include "cli/commands.h"

namespace almanac::cli {

// almanac risk var --pnl FILE [--column NAME] [--level 0.95,0.99] [--method M] [--dof N]
//                  [--positions]
struct RiskVarArgs {
  std::string pnl;                  // CSV file ("-": standard input)
  std::string column;               // the P&L column (default: "pnl", or the only column)
  std::string levels = "0.95,0.99";  // confidence levels in (0, 1)
  std::string method = "all";       // historical, normal, t or all
  double dof = 5;                   // Student-t degrees of freedom
  // Every column is a position's P&L (except columns named scenario, date or id): VaR/ES of
  // their sum and Euler contributions by position.
  bool positions = false;
};
int RunRiskVar(const GlobalOptions& g, const RiskVarArgs& a);

// almanac risk backtest --pnl FILE (--var-column NAME | --exception-column NAME)
//                       [--pnl-column NAME] [--level 0.99]
struct RiskBacktestArgs {
  std::string pnl;
  std::string pnl_column = "pnl";
  std::string var_column;        // VaR as a positive loss, one per row
  std::string exception_column;  // or exception indicators: 0/1 or true/false
  std::string level = "0.99";
};
int RunRiskBacktest(const GlobalOptions& g, const RiskBacktestArgs& a);

}  // namespace almanac::cli
