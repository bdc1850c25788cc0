// File: almanac/core/time_series.h
//
// A regular time series: a frequency, a start period and one value per period, where any
// value may be explicitly missing. Values are always finite or missing: NaN and infinities
// are rejected on the way in, so a NaN inside `values()` always means "missing".
//
//   TimeSeries ts(Period::Parse("2024Q1").value());
//   ALMANAC_RETURN_IF_ERROR(ts.Append(1.5));
//   ts.AppendMissing();
//   for (int64_t i = 0; i < ts.size(); ++i)
//     if (auto v = ts.at(i)) use(ts.PeriodAt(i), *v);
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "almanac/core/period.h"
#include "almanac/core/status.h"

namespace almanac {

// A quiet NaN: a missing value in numeric code (models, metrics). One definition for the
// project, so that unity builds do not see a second one.
inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

class TimeSeries {
 public:
  TimeSeries() = default;
  explicit TimeSeries(Period start) : start_(start) {}

  // Builds a series from raw values. InvalidArgument when any value is infinite; NaN in
  // `values` is taken as missing.
  static Result<TimeSeries> FromValues(Period start, std::vector<double> values);

  Frequency frequency() const { return start_.frequency(); }
  Period start() const { return start_; }
  // The last period (start + size - 1). Only meaningful when !empty().
  Period end() const { return start_ + (size() - 1); }
  int64_t size() const { return static_cast<int64_t>(values_.size()); }
  bool empty() const { return values_.empty(); }

  Period PeriodAt(int64_t i) const { return start_ + i; }
  bool missing(int64_t i) const { return std::isnan(values_[static_cast<size_t>(i)]); }
  std::optional<double> at(int64_t i) const {
    double v = values_[static_cast<size_t>(i)];
    if (std::isnan(v)) return std::nullopt;
    return v;
  }
  // Value at `p`, or nullopt when `p` is outside the series or missing.
  std::optional<double> at(Period p) const;

  // Raw values with missing as quiet NaN, for numeric code.
  std::span<const double> values() const { return values_; }

  // InvalidArgument for NaN or infinities (use AppendMissing for a missing value).
  Status Append(double v);
  void AppendMissing() { values_.push_back(kMissing); }
  // Sets the value at `p`, growing the series with missing values as needed (at either end).
  // InvalidArgument for non-finite values or a period of another frequency.
  Status Set(Period p, std::optional<double> v);

  int64_t CountMissing() const;
  // Drops leading and trailing missing values.
  TimeSeries Trimmed() const;
  // The sub-series covering [from, to] (clipped to the series).
  TimeSeries Slice(Period from, Period to) const;

  static constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

 private:
  Period start_;
  std::vector<double> values_;
};

// The common range of two series of the same frequency: the first and last periods present
// in both. FailedPrecondition when frequencies differ; NotFound when they do not overlap.
struct PeriodRange {
  Period first;
  Period last;
};
Result<PeriodRange> Align(const TimeSeries& a, const TimeSeries& b);

}  // namespace almanac
