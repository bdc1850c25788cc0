// Writes a long-form CSV (series,period,value) of SERIES x PERIODS daily observations with
// deterministic values: gen_long_csv SERIES PERIODS > file.csv
#include <cstdio>
#include <cstdlib>
#include <string>

#include "almanac/core.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: gen_long_csv SERIES PERIODS\n");
    return 2;
  }
  const int n_series = std::atoi(argv[1]), n_periods = std::atoi(argv[2]);
  const almanac::Date start = *almanac::Date::Parse("2000-01-01");
  std::vector<std::string> dates;
  for (int d = 0; d < n_periods; ++d) dates.push_back((start + d).ToString());
  std::string buf = "series,period,value\n";
  char line[96];
  for (int s = 0; s < n_series; ++s) {
    double v = 100.0;
    for (int d = 0; d < n_periods; ++d) {
      v += ((static_cast<long>(d) * 7919 + s * 104729) % 1000 - 500) / 1000.0;
      int n = std::snprintf(line, sizeof(line), "bench:S%04d,%s,%.3f\n", s, dates[d].c_str(), v);
      buf.append(line, static_cast<size_t>(n));
    }
    if (buf.size() > (1 << 20)) {
      std::fwrite(buf.data(), 1, buf.size(), stdout);
      buf.clear();
    }
  }
  std::fwrite(buf.data(), 1, buf.size(), stdout);
  return 0;
}
