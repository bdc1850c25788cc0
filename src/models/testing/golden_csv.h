// Reading golden CSV files from testdata/ in model tests (test-only). The files are simple:
// a header row, comma-separated fields without quotes, "NA" for missing numbers.
#pragma once

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace almanac::models::testing {

using CsvRow = std::map<std::string, std::string>;

// The rows of `ALMANAC_SOURCE_DIR/testdata/<relative>`; fails the test when unreadable.
inline std::vector<CsvRow> ReadGoldenCsv(const std::string& relative) {
  std::vector<CsvRow> rows;
  const std::string path = std::string(ALMANAC_SOURCE_DIR) + "/testdata/" + relative;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::string line;
  std::vector<std::string> header;
  auto split = [](const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string field;
    while (std::getline(ss, field, ',')) out.push_back(field);
    if (!s.empty() && s.back() == ',') out.emplace_back();
    return out;
  };
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> fields = split(line);
    if (header.empty()) {
      header = fields;
      continue;
    }
    CsvRow row;
    for (size_t i = 0; i < header.size() && i < fields.size(); ++i) row[header[i]] = fields[i];
    rows.push_back(std::move(row));
  }
  return rows;
}

inline double Num(const CsvRow& row, const std::string& column) {
  auto it = row.find(column);
  if (it == row.end() || it->second == "NA" || it->second.empty()) return std::nan("");
  return std::stod(it->second);
}

// One input series from a series.csv (columns series, period, t, value).
struct GoldenSeries {
  std::vector<double> y;
  int period = 1;
};

inline std::map<std::string, GoldenSeries> ReadGoldenSeries(const std::string& relative) {
  std::map<std::string, GoldenSeries> out;
  for (const CsvRow& row : ReadGoldenCsv(relative)) {
    GoldenSeries& s = out[row.at("series")];
    s.period = std::stoi(row.at("period"));
    s.y.push_back(Num(row, "value"));
  }
  return out;
}

}  // namespace almanac::models::testing
