// Transformations that derive series from others (pipeline steps).
#include <cmath>

#include "almanac/pipeline.h"

namespace almanac::pipeline {
namespace {

Status Bad(const TransformSpec& t, const std::string& msg) {
  return InvalidArgumentError("transform '" + t.name + "' (" + t.op + " of " + t.input + "): " + msg);
}

Result<int> IntParam(const TransformSpec& t, const std::string& key, int fallback, int lo, int hi) {
  if (!t.params.contains(key)) return fallback;
  const Json& v = t.params[key];
  if (!v.is_number_integer()) return Bad(t, key + " must be an integer");
  const int64_t n = v.get<int64_t>();
  if (n < lo || n > hi) return Bad(t, key + " must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return static_cast<int>(n);
}

Result<double> NumParam(const TransformSpec& t, const std::string& key, double fallback) {
  if (!t.params.contains(key)) return fallback;
  if (!t.params[key].is_number()) return Bad(t, key + " must be a number");
  return t.params[key].get<double>();
}

// out[i] = f(values, i) for each period of the input, missing when f gives NaN.
template <typename F>
Result<TimeSeries> Map(const TransformSpec& t, const TimeSeries& x, F f) {
  std::vector<double> out(static_cast<size_t>(x.size()));
  auto v = x.values();
  for (int64_t i = 0; i < x.size(); ++i) out[static_cast<size_t>(i)] = f(v, i);
  for (double d : out)
    if (std::isinf(d)) return Bad(t, "the result is infinite (division by zero?)");
  ALMANAC_ASSIGN_OR_RETURN(TimeSeries ts, TimeSeries::FromValues(x.start(), std::move(out)));
  return ts.Trimmed();
}

Result<TimeSeries> Resample(const TransformSpec& t, const TimeSeries& x) {
  ALMANAC_ASSIGN_OR_RETURN(Frequency to, ParseFrequency(t.params["to"].get<std::string>()));
  const std::string how = t.params.contains("how") && t.params["how"].is_string() ? t.params["how"].get<std::string>() : "mean";
  if (how != "mean" && how != "last" && how != "sum" && how != "first")
    return Bad(t, "how must be mean, last, first or sum");
  if (!IsLowerFrequency(to, x.frequency()))
    return Bad(t, "can only resample to a lower frequency (" + std::string(FrequencyCode(x.frequency())) + " to " +
                      std::string(FrequencyCode(to)) + " is not)");
  TimeSeries out;
  // Only complete target periods are kept: every sub-period present.
  int64_t i = 0;
  bool any = false;
  while (i < x.size()) {
    const Period target = x.PeriodAt(i).Convert(to);
    const Period first = target.Convert(x.frequency(), Anchor::kStart);
    const Period last = target.Convert(x.frequency(), Anchor::kEnd);
    int64_t j = i;
    while (j < x.size() && x.PeriodAt(j).Convert(to) == target) ++j;
    bool complete = x.PeriodAt(i) <= first && x.PeriodAt(j - 1) >= last;
    double acc = 0;
    int n = 0;
    double firstv = NAN, lastv = NAN;
    for (int64_t k = i; k < j; ++k) {
      if (x.missing(k)) {
        complete = false;
        continue;
      }
      const double v = *x.at(k);
      if (n == 0) firstv = v;
      lastv = v;
      acc += v;
      ++n;
    }
    std::optional<double> val;
    if (complete && n > 0)
      val = how == "mean" ? acc / n : how == "sum" ? acc : how == "last" ? lastv : firstv;
    if (val || any) {
      ALMANAC_RETURN_IF_ERROR(out.Set(target, val));
      any = true;
    }
    i = j;
  }
  if (!any) return Bad(t, "no complete " + std::string(FrequencyCode(to)) + " period in the data");
  return out.Trimmed();
}

}  // namespace

Result<TimeSeries> ApplyTransform(const TransformSpec& t, const std::map<std::string, TimeSeries>& inputs) {
  auto it = inputs.find(t.input);
  if (it == inputs.end()) return Bad(t, "input series '" + t.input + "' is not available");
  const TimeSeries& x = it->second;
  if (x.empty()) return Bad(t, "input series '" + t.input + "' has no observations");
  if (t.op == "log") {
    for (int64_t i = 0; i < x.size(); ++i)
      if (auto v = x.at(i); v && *v <= 0)
        return Bad(t, "log of a non-positive value (" + FormatDouble(*v) + " at " + x.PeriodAt(i).ToString() + ")");
    return Map(t, x, [](std::span<const double> v, int64_t i) { return std::log(v[i]); });
  }
  if (t.op == "diff" || t.op == "lag" || t.op == "pct_change" || t.op == "yoy") {
    int periods = 1;
    if (t.op == "yoy") {
      periods = SeasonalPeriod(x.frequency());
      if (x.frequency() == Frequency::kDaily || x.frequency() == Frequency::kBusiness)
        return Bad(t, "yoy needs annual, quarterly, monthly or weekly data");
    } else {
      ALMANAC_ASSIGN_OR_RETURN(periods, IntParam(t, "periods", 1, t.op == "lag" ? -1000 : 1, 1000));
    }
    if (t.op == "lag") {
      return *TimeSeries::FromValues(x.start() + periods, std::vector<double>(x.values().begin(), x.values().end()));
    }
    if (x.size() <= periods) return Bad(t, "needs more than " + std::to_string(periods) + " observations");
    if (t.op == "diff")
      return Map(t, x, [periods](std::span<const double> v, int64_t i) -> double {
        return i < periods ? NAN : v[i] - v[i - periods];
      });
    ALMANAC_ASSIGN_OR_RETURN(double scale, NumParam(t, "scale", 100));
    for (int64_t i = periods; i < x.size(); ++i)
      if (auto b = x.at(i - periods); b && *b == 0)
        return Bad(t, "percent change from a zero value at " + x.PeriodAt(i - periods).ToString());
    return Map(t, x, [periods, scale](std::span<const double> v, int64_t i) -> double {
      return i < periods ? NAN : scale * (v[i] / v[i - periods] - 1);
    });
  }
  if (t.op == "moving_average") {
    ALMANAC_ASSIGN_OR_RETURN(int w, IntParam(t, "window", 0, 1, 10000));
    if (x.size() < w) return Bad(t, "needs at least " + std::to_string(w) + " observations");
    return Map(t, x, [w](std::span<const double> v, int64_t i) -> double {
      if (i + 1 < w) return NAN;
      double s = 0;
      for (int64_t k = i - w + 1; k <= i; ++k) s += v[k];  // NaN propagates: a missing value leaves a gap
      return s / w;
    });
  }
  if (t.op == "deflate") {
    const std::string by = t.params["by"].get<std::string>();
    auto d = inputs.find(by);
    if (d == inputs.end()) return Bad(t, "deflator series '" + by + "' is not available");
    if (d->second.frequency() != x.frequency())
      return Bad(t, "deflator '" + by + "' has frequency " + std::string(FrequencyCode(d->second.frequency())) + ", the input " +
                        std::string(FrequencyCode(x.frequency())));
    ALMANAC_ASSIGN_OR_RETURN(double base, NumParam(t, "base", 100));
    const TimeSeries& def = d->second;
    for (int64_t i = 0; i < x.size(); ++i)
      if (auto dv = def.at(x.PeriodAt(i)); dv && *dv == 0) return Bad(t, "deflator is zero at " + x.PeriodAt(i).ToString());
    return Map(t, x, [&](std::span<const double> v, int64_t i) -> double {
      auto dv = def.at(x.PeriodAt(i));
      return dv ? v[i] / *dv * base : NAN;
    });
  }
  if (t.op == "resample") return Resample(t, x);
  if (t.op == "interpolate") {
    if (t.params.contains("method") && t.params["method"] != "linear") return Bad(t, "method must be linear");
    TimeSeries trimmed = x.Trimmed();
    auto v = trimmed.values();
    std::vector<double> out(v.begin(), v.end());
    for (size_t i = 0; i < out.size(); ++i) {
      if (!std::isnan(out[i])) continue;
      size_t j = i;
      while (j < out.size() && std::isnan(out[j])) ++j;
      const double a = out[i - 1], b = out[j];
      for (size_t k = i; k < j; ++k) out[k] = a + (b - a) * static_cast<double>(k - i + 1) / static_cast<double>(j - i + 1);
      i = j;
    }
    return TimeSeries::FromValues(trimmed.start(), std::move(out));
  }
  return Bad(t, "unknown transformation");
}

}  // namespace almanac::pipeline
