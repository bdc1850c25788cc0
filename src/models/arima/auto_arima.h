// Automatic ARIMA order selection as R forecast 8.20's auto.arima() (Hyndman & Khandakar
// 2008), models-internal: differencing orders from unit-root tests (KPSS for d, the STL
// seasonal-strength heuristic for D), then the stepwise neighbourhood search (or the full
// search when stepwise is off) over ARIMA(p,d,q)(P,D,Q)[m] with or without a constant,
// each candidate fitted by arima_fit.h and compared by AICc (or AIC/BIC); candidates with
// AR/MA roots within 1.01 of the unit circle or a non-positive coefficient variance are
// rejected as in R.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "almanac/core/status.h"
#include "models/arima/arima_fit.h"

namespace almanac::models::arima {

struct AutoArimaOptions {
  int max_p = 5, max_q = 5, max_P = 2, max_Q = 2, max_order = 5;
  int max_d = 2, max_D = 1;
  int start_p = 2, start_q = 2, start_P = 1, start_Q = 1;
  std::optional<int> d, D;  // unset: chosen by the tests
  bool stationary = false;
  bool seasonal = true;
  bool stepwise = true;
  std::optional<bool> approximation;  // unset: n > 150 or m > 12, as R
  std::string ic = "aicc";            // "aicc", "aic" or "bic"
  bool allow_drift = true, allow_mean = true;
  int nmodels = 94;
};

struct AutoArimaResult {
  ArimaFit fit;
  ArimaSpec spec;        // the spec of the selected model (refit with it gives `fit`)
  int offset = 0;        // leading missing values dropped before fitting
  int models_fitted = 0;
  std::vector<std::string> notes;
};

// Selects and fits a model for y (NaN = missing) with seasonal period m. InvalidArgument
// when all values are missing or nothing can be fitted.
Result<AutoArimaResult> AutoArima(std::span<const double> y, int m, const AutoArimaOptions& opt);

}  // namespace almanac::models::arima
