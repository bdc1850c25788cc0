// Forecast accuracy metrics (see almanac/eval.h for the definitions and conventions).
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "almanac/eval.h"

namespace almanac::eval {
namespace {

Status CheckSizes(std::string_view metric, size_t a, size_t b, std::string_view what = "forecast") {
  if (a != b)
    return InvalidArgumentError(std::string(metric) + ": " + std::to_string(a) + " actual values but " +
                                std::to_string(b) + " " + std::string(what) + " values");
  return Status::Ok();
}

Status NoPairs(std::string_view metric) {
  return InvalidArgumentError(std::string(metric) + ": no pairs without missing values");
}

// Mean of term(y, f) over the pairs where neither is NaN.
template <typename Term>
Result<double> PairMean(std::string_view metric, std::span<const double> actual, std::span<const double> forecast,
                        Term term) {
  ALMANAC_RETURN_IF_ERROR(CheckSizes(metric, actual.size(), forecast.size()));
  double sum = 0;
  int n = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    if (std::isnan(actual[i]) || std::isnan(forecast[i])) continue;
    sum += term(actual[i], forecast[i]);
    ++n;
  }
  if (n == 0) return NoPairs(metric);
  return sum / n;
}

double SmapeTerm(double y, double f) {
  const double denom = std::fabs(y) + std::fabs(f);
  return denom == 0 ? 0.0 : 200.0 * std::fabs(y - f) / denom;
}

Status CheckLevel(double level) {
  if (!(level > 0 && level < 100))
    return InvalidArgumentError("interval level " + FormatDouble(level) +
                                " is not in (0, 100) (levels are percentages)");
  return Status::Ok();
}

}  // namespace

Result<double> Mae(std::span<const double> actual, std::span<const double> forecast) {
  return PairMean("MAE", actual, forecast, [](double y, double f) { return std::fabs(y - f); });
}

Result<double> Rmse(std::span<const double> actual, std::span<const double> forecast) {
  ALMANAC_ASSIGN_OR_RETURN(double mse,
                           PairMean("RMSE", actual, forecast, [](double y, double f) { return (y - f) * (y - f); }));
  return std::sqrt(mse);
}

Result<double> Mape(std::span<const double> actual, std::span<const double> forecast) {
  ALMANAC_RETURN_IF_ERROR(CheckSizes("MAPE", actual.size(), forecast.size()));
  for (size_t i = 0; i < actual.size(); ++i)
    if (actual[i] == 0 && !std::isnan(forecast[i]))
      return InvalidArgumentError("MAPE is undefined: the actual value at position " + std::to_string(i + 1) + " is 0");
  return PairMean("MAPE", actual, forecast, [](double y, double f) { return 100.0 * std::fabs(y - f) / std::fabs(y); });
}

Result<double> Smape(std::span<const double> actual, std::span<const double> forecast) {
  return PairMean("sMAPE", actual, forecast, SmapeTerm);
}

Result<double> MaseScale(std::span<const double> insample, int period) {
  const size_t m = static_cast<size_t>(std::max(1, period));
  double sum = 0;
  int n = 0;
  for (size_t t = m; t < insample.size(); ++t) {
    if (std::isnan(insample[t]) || std::isnan(insample[t - m])) continue;
    sum += std::fabs(insample[t] - insample[t - m]);
    ++n;
  }
  if (n == 0)
    return InvalidArgumentError("MASE scale: needs at least " + std::to_string(m + 1) +
                                " in-sample observations (seasonal lag " + std::to_string(m) +
                                ") without missing values");
  const double scale = sum / n;
  if (!(scale > 0))
    return InvalidArgumentError("MASE scale is 0: the in-sample series does not change at lag " + std::to_string(m));
  return scale;
}

Result<double> Mase(std::span<const double> actual, std::span<const double> forecast, std::span<const double> insample,
                    int period) {
  ALMANAC_ASSIGN_OR_RETURN(double scale, MaseScale(insample, period));
  ALMANAC_ASSIGN_OR_RETURN(double mae, Mae(actual, forecast));
  return mae / scale;
}

Result<double> Coverage(std::span<const double> actual, std::span<const double> lower, std::span<const double> upper) {
  ALMANAC_RETURN_IF_ERROR(CheckSizes("coverage", actual.size(), lower.size(), "lower"));
  ALMANAC_RETURN_IF_ERROR(CheckSizes("coverage", actual.size(), upper.size(), "upper"));
  int inside = 0, n = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    if (std::isnan(actual[i]) || std::isnan(lower[i]) || std::isnan(upper[i])) continue;
    inside += lower[i] <= actual[i] && actual[i] <= upper[i];
    ++n;
  }
  if (n == 0) return NoPairs("coverage");
  return static_cast<double>(inside) / n;
}

Result<double> IntervalScore(std::span<const double> actual, std::span<const double> lower,
                             std::span<const double> upper, double level) {
  ALMANAC_RETURN_IF_ERROR(CheckLevel(level));
  ALMANAC_RETURN_IF_ERROR(CheckSizes("interval score", actual.size(), lower.size(), "lower"));
  ALMANAC_RETURN_IF_ERROR(CheckSizes("interval score", actual.size(), upper.size(), "upper"));
  const double a = 1 - level / 100;
  double sum = 0;
  int n = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    const double y = actual[i], l = lower[i], u = upper[i];
    if (std::isnan(y) || std::isnan(l) || std::isnan(u)) continue;
    if (l > u)
      return InvalidArgumentError("interval score: lower bound " + FormatDouble(l) + " above upper bound " +
                                  FormatDouble(u) + " at position " + std::to_string(i + 1));
    double s = u - l;
    if (y < l) s += 2 / a * (l - y);
    if (y > u) s += 2 / a * (y - u);
    sum += s;
    ++n;
  }
  if (n == 0) return NoPairs("interval score");
  return sum / n;
}

Result<Accuracy> Evaluate(std::span<const double> actual, const models::Forecast& forecast,
                          std::span<const double> insample, int period) {
  const size_t h = actual.size();
  if (forecast.mean.size() < h)
    return InvalidArgumentError("evaluate: the forecast has " + std::to_string(forecast.mean.size()) +
                                " steps but there are " + std::to_string(h) + " actual values");
  const std::span<const double> mean(forecast.mean.data(), h);
  Accuracy a;
  for (size_t i = 0; i < h; ++i) a.n += !std::isnan(actual[i]) && !std::isnan(mean[i]);
  if (a.n == 0) return NoPairs("evaluate");
  ALMANAC_ASSIGN_OR_RETURN(a.mae, Mae(actual, mean));
  ALMANAC_ASSIGN_OR_RETURN(a.rmse, Rmse(actual, mean));
  ALMANAC_ASSIGN_OR_RETURN(a.smape, Smape(actual, mean));
  Result<double> mape = Mape(actual, mean);
  a.mape = mape.ok() ? *mape : kNaN;
  if (!mape.ok()) a.notes.push_back(mape.status().message());
  a.mase = a.mase_scale = kNaN;
  if (insample.empty()) {
    a.notes.push_back("MASE not computed: no in-sample data given");
  } else {
    Result<double> scale = MaseScale(insample, period);
    if (scale.ok()) {
      a.mase_scale = *scale;
      a.mase = a.mae / *scale;
    } else {
      a.notes.push_back(scale.status().message());
    }
  }
  for (const auto& iv : forecast.intervals) {
    if (iv.lower.size() < h || iv.upper.size() < h)
      return InvalidArgumentError("evaluate: the " + FormatDouble(iv.level) + "% interval has fewer than " +
                                  std::to_string(h) + " steps");
    const std::span<const double> lo(iv.lower.data(), h), hi(iv.upper.data(), h);
    IntervalAccuracy ia;
    ia.level = iv.level;
    for (size_t i = 0; i < h; ++i) ia.n += !std::isnan(actual[i]) && !std::isnan(lo[i]) && !std::isnan(hi[i]);
    if (ia.n == 0) {
      ia.coverage = ia.score = kNaN;
      a.notes.push_back("no " + FormatDouble(iv.level) + "% interval values to score");
    } else {
      ALMANAC_ASSIGN_OR_RETURN(ia.coverage, Coverage(actual, lo, hi));
      ALMANAC_ASSIGN_OR_RETURN(ia.score, IntervalScore(actual, lo, hi, iv.level));
    }
    a.intervals.push_back(ia);
  }
  return a;
}

}  // namespace almanac::eval
