// Run metrics of a stress-test report (issue 24): the figures a tracked run records, shared
// by `almanac risk portfolio --experiment` and the pipeline's risk step.
#include <cmath>

#include "almanac/risk.h"

namespace almanac::risk {

std::vector<std::pair<std::string, double>> StressTestMetrics(const Json& report) {
  std::vector<std::pair<std::string, double>> out;
  if (!report.is_object() || !report.contains("scenarios") || !report["scenarios"].is_array()) return out;
  for (const auto& s : report["scenarios"]) {
    if (!s.contains("scenario") || !s["scenario"].is_string() || !s.contains("horizons")) continue;
    for (const auto& h : s["horizons"]) {
      if (!h.contains("h") || !h["h"].is_number_integer() || !h.contains("figures")) continue;
      const std::string base = "risk." + s["scenario"].get<std::string>() + ".h" + std::to_string(h["h"].get<int64_t>());
      for (const auto& f : h["figures"]) {
        if (f.value("method", "") != "monte_carlo" || !f.contains("level") || !f["level"].is_number()) continue;
        const std::string level = FormatDouble(std::round(f["level"].get<double>() * 10000) / 100);
        if (f.contains("var") && f["var"].is_number()) out.emplace_back(base + ".var" + level, f["var"].get<double>());
        if (f.contains("es") && f["es"].is_number()) out.emplace_back(base + ".es" + level, f["es"].get<double>());
      }
    }
  }
  return out;
}

}  // namespace almanac::risk
