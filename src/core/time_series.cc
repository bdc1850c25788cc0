#include "almanac/core/time_series.h"

#include <algorithm>

namespace almanac {

Result<TimeSeries> TimeSeries::FromValues(Period start, std::vector<double> values) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (std::isinf(values[i]))
      return InvalidArgumentError("value at " + (start + static_cast<int64_t>(i)).ToString() + " is infinite");
  }
  TimeSeries ts(start);
  ts.values_ = std::move(values);
  return ts;
}

std::optional<double> TimeSeries::at(Period p) const {
  if (p.frequency() != frequency() || values_.empty()) return std::nullopt;
  const int64_t i = p.ordinal() - start_.ordinal();
  if (i < 0 || i >= size()) return std::nullopt;
  return at(i);
}

Status TimeSeries::Append(double v) {
  if (!std::isfinite(v))
    return InvalidArgumentError("value for " + PeriodAt(size()).ToString() +
                                " is not finite (use a missing value instead of NaN/inf)");
  values_.push_back(v);
  return Status::Ok();
}

Status TimeSeries::Set(Period p, std::optional<double> v) {
  if (p.frequency() != frequency() && !values_.empty())
    return InvalidArgumentError("period " + p.ToString() + " has frequency " + std::string(FrequencyCode(p.frequency())) +
                                ", series has " + std::string(FrequencyCode(frequency())));
  if (v && !std::isfinite(*v)) return InvalidArgumentError("value for " + p.ToString() + " is not finite");
  if (values_.empty()) start_ = p;
  int64_t i = p.ordinal() - start_.ordinal();
  if (i < 0) {
    values_.insert(values_.begin(), static_cast<size_t>(-i), kMissing);
    start_ = p;
    i = 0;
  } else if (i >= size()) {
    values_.resize(static_cast<size_t>(i) + 1, kMissing);
  }
  values_[static_cast<size_t>(i)] = v ? *v : kMissing;
  return Status::Ok();
}

int64_t TimeSeries::CountMissing() const {
  return std::count_if(values_.begin(), values_.end(), [](double v) { return std::isnan(v); });
}

TimeSeries TimeSeries::Trimmed() const {
  size_t b = 0, e = values_.size();
  while (b < e && std::isnan(values_[b])) ++b;
  while (e > b && std::isnan(values_[e - 1])) --e;
  TimeSeries out(start_ + static_cast<int64_t>(b));
  out.values_.assign(values_.begin() + static_cast<std::ptrdiff_t>(b), values_.begin() + static_cast<std::ptrdiff_t>(e));
  return out;
}

TimeSeries TimeSeries::Slice(Period from, Period to) const {
  if (values_.empty()) return *this;
  int64_t b = std::max<int64_t>(0, from.ordinal() - start_.ordinal());
  int64_t e = std::min<int64_t>(size(), to.ordinal() - start_.ordinal() + 1);
  TimeSeries out(start_ + b);
  if (e > b) out.values_.assign(values_.begin() + b, values_.begin() + e);
  return out;
}

Result<PeriodRange> Align(const TimeSeries& a, const TimeSeries& b) {
  if (a.frequency() != b.frequency())
    return FailedPreconditionError("cannot align series of frequencies " + std::string(FrequencyCode(a.frequency())) +
                                   " and " + std::string(FrequencyCode(b.frequency())));
  if (a.empty() || b.empty()) return NotFoundError("cannot align an empty series");
  Period first = std::max(a.start(), b.start());
  Period last = std::min(a.end(), b.end());
  if (last < first) return NotFoundError("series do not overlap");
  return PeriodRange{first, last};
}

}  // namespace almanac
