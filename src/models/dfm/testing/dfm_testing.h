// Test helpers for the dynamic factor model: the golden data set (testdata/models/dfm/) and its
// settings.
#pragma once

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "almanac/core/json.h"
#include "almanac/models/nowcast.h"

namespace almanac::models::dfm_testing {

// A CSV written by make_goldens.py: "period,name,..." with monthly periods; empty = missing.
// Columns named in `quarterly` are quarterly.
inline MixedFrequencyData ReadDfmCsv(const std::string& file, const std::vector<std::string>& quarterly = {"gdp"}) {
  std::ifstream in(std::string(ALMANAC_SOURCE_DIR) + "/testdata/models/dfm/" + file);
  MixedFrequencyData d;
  std::string line;
  std::getline(in, line);
  {
    std::stringstream ss(line);
    std::string cell;
    std::getline(ss, cell, ',');
    while (std::getline(ss, cell, ',')) {
      d.names.push_back(cell);
      bool q = false;
      for (const auto& n : quarterly) q = q || n == cell;
      d.quarterly.push_back(q);
    }
  }
  d.values.resize(d.names.size());
  bool first = true;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::stringstream ss(line);
    std::string cell;
    std::getline(ss, cell, ',');
    if (first) {
      d.start = Period::Parse(cell, Frequency::kMonthly).value();
      first = false;
    }
    for (size_t i = 0; i < d.names.size(); ++i) {
      cell.clear();
      std::getline(ss, cell, ',');
      d.values[i].push_back(cell.empty() ? std::nan("") : std::stod(cell));
    }
  }
  return d;
}

inline const Json& DfmGoldens() {
  static const Json doc = [] {
    std::ifstream in(std::string(ALMANAC_SOURCE_DIR) + "/testdata/models/dfm/goldens.json");
    std::stringstream ss;
    ss << in.rdbuf();
    auto j = ParseJson(ss.str());
    return j.ok() ? *j : Json();
  }();
  return doc;
}

// The golden settings: a global AR(2) block on every series, a real AR(1) block.
inline DfmOptions GoldenOptions() {
  DfmOptions o;
  o.blocks = {DfmBlock{"global", 1, 2, {}}, DfmBlock{"real", 1, 1, {"ip", "sales", "emp", "hours", "gdp"}}};
  return o;
}

}  // namespace almanac::models::dfm_testing
