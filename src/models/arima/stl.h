// STL: seasonal-trend decomposition by loess (Cleveland, Cleveland, McRae & Terpenning 1990,
// Journal of Official Statistics 6(1)), the non-robust variant with the same windows, degrees,
// jumps and end treatment as R's stats::stl(), so that the components agree with R to
// rounding. A shared statistical helper kept under models/arima/ for now (used by the
// seasonal-differencing test); it can move to a common place unchanged.
#pragma once

#include <span>
#include <vector>

#include "almanac/core/status.h"

namespace almanac::models::arima {

struct StlOptions {
  int s_window = 11;      // seasonal loess span (odd; R's default for mstl is 7 + 4 = 11)
  int s_degree = 0;
  int t_window = 0;       // 0: R's default nextodd(ceiling(1.5 m / (1 - 1.5 / s_window)))
  int t_degree = 1;
  int l_window = 0;       // 0: nextodd(m)
  int l_degree = -1;      // -1: t_degree
  int s_jump = 0, t_jump = 0, l_jump = 0;  // 0: ceiling(window / 10)
  int inner = 2;
};

struct StlResult {
  std::vector<double> seasonal, trend, remainder;
};

// Decomposes y (no missing values) with period m >= 2 and more than two full periods.
// InvalidArgument otherwise.
Result<StlResult> Stl(std::span<const double> y, int m, const StlOptions& opt = {});

}  // namespace almanac::models::arima
