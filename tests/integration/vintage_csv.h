// Long vintage CSV files (series,period,value,realtime_start) read independently of the store,
// for end-to-end tests that compare a command with the library on the same data (issue 25).
#pragma once

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "almanac/core.h"

namespace almanac::testing {

// The series of `path` as known on `as_of` ("YYYY-MM-DD"): per period, the value of the latest
// realtime_start <= as_of. Periods in between with no value are NaN.
inline std::map<std::string, TimeSeries> VintagesFromCsv(const std::string& path, const std::string& as_of) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // series,period,value,realtime_start
  std::map<std::string, std::map<Period, std::pair<std::string, double>>> cells;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string key, period, value, rt;
    std::getline(ss, key, ',');
    std::getline(ss, period, ',');
    std::getline(ss, value, ',');
    std::getline(ss, rt, ',');
    if (rt > as_of) continue;
    auto& cell = cells[key][Period::Parse(period).value()];
    if (cell.first <= rt) cell = {rt, std::stod(value)};
  }
  std::map<std::string, TimeSeries> out;
  for (const auto& [key, by_period] : cells) {
    const Period start = by_period.begin()->first;
    const int64_t n = by_period.rbegin()->first.ordinal() - start.ordinal() + 1;
    std::vector<double> v(static_cast<size_t>(n), std::nan(""));
    for (const auto& [p, c] : by_period) v[static_cast<size_t>(p.ordinal() - start.ordinal())] = c.second;
    out.emplace(key, TimeSeries::FromValues(start, v).value());
  }
  return out;
}

}  // namespace almanac::testing
