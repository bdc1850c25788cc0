// Transformations that derive series from others: the one engine of the pipeline's steps,
// the multivariate commands' --transform and the as_of refits; and a package's target as of
// a date.
#include "almanac/data/transforms.h"

#include <algorithm>
#include <cmath>

namespace almanac::data {
namespace {

// One row per operation; the first name is canonical (the pipeline's YAML names, recorded in
// model packages and step hashes), aliases are older spellings users type.
const TransformOp kTransformOps[] = {
    {"none", {}, {}, "the series itself"},
    {"log", {}, {}, "natural logarithm"},
    {"diff", {"periods"}, {}, "difference from `periods` back (default 1)"},
    {"log_diff", {"periods"}, {"dlog"}, "difference of logarithms"},
    {"pct_change", {"periods", "scale"}, {"pct"}, "percent change from `periods` back, times scale/100"},
    {"yoy", {"scale"}, {}, "percent change from a year back"},
    {"resample", {"to", "how"}, {}, "to a lower frequency: mean, last, first or sum", true},
    {"moving_average", {"window"}, {}, "trailing mean over `window` periods", true},
    {"lag", {"periods"}, {}, "shifted `periods` later"},
    {"deflate", {"by", "base"}, {}, "divided by the `by` series, times base", true},
    {"interpolate", {"method"}, {}, "missing values inside filled linearly"},
};

Status TransformError(const TransformSpec& t, const std::string& msg) {
  if (t.name == t.input) return InvalidArgumentError(t.op + " of " + t.input + ": " + msg);
  return InvalidArgumentError("transform '" + t.name + "' (" + t.op + " of " + t.input + "): " + msg);
}

Result<int> IntParam(const TransformSpec& t, const std::string& key, int fallback, int lo, int hi) {
  if (!t.params.contains(key)) return fallback;
  const Json& v = t.params[key];
  if (!v.is_number_integer()) return TransformError(t, key + " must be an integer");
  const int64_t n = v.get<int64_t>();
  if (n < lo || n > hi) return TransformError(t, key + " must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return static_cast<int>(n);
}

Result<double> NumParam(const TransformSpec& t, const std::string& key, double fallback) {
  if (!t.params.contains(key)) return fallback;
  if (!t.params[key].is_number()) return TransformError(t, key + " must be a number");
  return t.params[key].get<double>();
}

// out[i] = f(values, i) for each period of the input, missing when f gives NaN.
template <typename F>
Result<TimeSeries> MapValues(const TransformSpec& t, const TimeSeries& x, F f) {
  std::vector<double> out(static_cast<size_t>(x.size()));
  auto v = x.values();
  for (int64_t i = 0; i < x.size(); ++i) out[static_cast<size_t>(i)] = f(v, i);
  for (double d : out)
    if (std::isinf(d)) return TransformError(t, "the result is infinite (division by zero?)");
  ALMANAC_ASSIGN_OR_RETURN(TimeSeries ts, TimeSeries::FromValues(x.start(), std::move(out)));
  return ts.Trimmed();
}

// A string parameter; nullopt when absent.
Result<std::optional<std::string>> StringParam(const TransformSpec& t, const std::string& key) {
  if (!t.params.contains(key)) return std::optional<std::string>();
  if (!t.params[key].is_string()) return TransformError(t, key + " must be a string");
  return std::optional<std::string>(t.params[key].get<std::string>());
}

Result<TimeSeries> Resample(const TransformSpec& t, const TimeSeries& x) {
  ALMANAC_ASSIGN_OR_RETURN(std::optional<std::string> to_text, StringParam(t, "to"));
  if (!to_text) return TransformError(t, "resample needs 'to' (A, Q, M or W)");
  auto to_freq = ParseFrequency(*to_text);
  if (!to_freq.ok()) return TransformError(t, to_freq.status().message());
  const Frequency to = *to_freq;
  ALMANAC_ASSIGN_OR_RETURN(std::optional<std::string> how_text, StringParam(t, "how"));
  const std::string how = how_text.value_or("mean");
  if (how != "mean" && how != "last" && how != "sum" && how != "first")
    return TransformError(t, "how must be mean, last, first or sum");
  if (!IsLowerFrequency(to, x.frequency()))
    return TransformError(t, "can only resample to a lower frequency (" + std::string(FrequencyCode(x.frequency())) + " to " +
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
  if (!any) return TransformError(t, "no complete " + std::string(FrequencyCode(to)) + " period in the data");
  return out.Trimmed();
}

Status CheckPositive(const TransformSpec& t, const TimeSeries& x) {
  for (int64_t i = 0; i < x.size(); ++i)
    if (auto v = x.at(i); v && *v <= 0)
      return TransformError(t, "log of a non-positive value (" + FormatDouble(*v) + " at " + x.PeriodAt(i).ToString() + ")");
  return Status::Ok();
}

// `t` with its canonical op, the input found and not empty.
Result<TimeSeries> Dispatch(const TransformSpec& t, const TimeSeries& x, const std::map<std::string, TimeSeries>& inputs);

}  // namespace

std::span<const TransformOp> TransformOps() { return kTransformOps; }

Result<std::string> CanonicalTransformName(std::string_view op) {
  std::vector<std::string> names;
  for (const auto& row : kTransformOps) {
    if (row.name == op) return std::string(row.name);
    for (auto alias : row.aliases)
      if (alias == op) return std::string(row.name);
    names.emplace_back(row.name);
    for (auto alias : row.aliases) names.emplace_back(alias);
  }
  std::string msg = "unknown transformation " + QuoteForMessage(op);
  const std::string hint = DidYouMean(op, names);
  if (!hint.empty()) return InvalidArgumentError(msg + " (did you mean '" + hint + "'?)");
  std::string known;
  for (const auto& row : kTransformOps) known += (known.empty() ? "" : ", ") + std::string(row.name);
  return InvalidArgumentError(msg + " (known: " + known + ")");
}

Result<TimeSeries> ApplyTransform(const TransformSpec& spec, const std::map<std::string, TimeSeries>& inputs) {
  auto canonical = CanonicalTransformName(spec.op);
  if (!canonical.ok()) return TransformError(spec, canonical.status().message());
  TransformSpec t = spec;
  t.op = *canonical;
  auto it = inputs.find(t.input);
  if (it == inputs.end()) return TransformError(t, "input series '" + t.input + "' is not available");
  const TimeSeries& x = it->second;
  if (x.empty()) return TransformError(t, "input series '" + t.input + "' has no observations");
  return Dispatch(t, x, inputs);
}

Result<TimeSeries> TransformSeries(const TimeSeries& x, std::string_view op, const std::string& key, const Json& params) {
  if (op.empty()) return x.Trimmed();
  return ApplyTransform({key, std::string(op), key, params.is_null() ? Json::object() : params}, {{key, x}});
}

namespace {

Result<TimeSeries> Dispatch(const TransformSpec& t, const TimeSeries& x, const std::map<std::string, TimeSeries>& inputs) {
  if (t.op == "none") return x.Trimmed();
  if (t.op == "log") {
    ALMANAC_RETURN_IF_ERROR(CheckPositive(t, x));
    return MapValues(t, x, [](std::span<const double> v, int64_t i) { return std::log(v[i]); });
  }
  if (t.op == "log_diff") {
    ALMANAC_RETURN_IF_ERROR(CheckPositive(t, x));
    ALMANAC_ASSIGN_OR_RETURN(int periods, IntParam(t, "periods", 1, 1, 1000));
    if (x.size() <= periods) return TransformError(t, "needs more than " + std::to_string(periods) + " observations");
    return MapValues(t, x, [periods](std::span<const double> v, int64_t i) -> double {
      return i < periods ? NAN : std::log(v[i]) - std::log(v[i - periods]);
    });
  }
  if (t.op == "diff" || t.op == "lag" || t.op == "pct_change" || t.op == "yoy") {
    int periods = 1;
    if (t.op == "yoy") {
      periods = SeasonalPeriod(x.frequency());
      if (x.frequency() == Frequency::kDaily || x.frequency() == Frequency::kBusiness)
        return TransformError(t, "yoy needs annual, quarterly, monthly or weekly data");
    } else {
      ALMANAC_ASSIGN_OR_RETURN(periods, IntParam(t, "periods", 1, t.op == "lag" ? -1000 : 1, 1000));
    }
    if (t.op == "lag") {
      return *TimeSeries::FromValues(x.start() + periods, std::vector<double>(x.values().begin(), x.values().end()));
    }
    if (x.size() <= periods) return TransformError(t, "needs more than " + std::to_string(periods) + " observations");
    if (t.op == "diff")
      return MapValues(t, x, [periods](std::span<const double> v, int64_t i) -> double {
        return i < periods ? NAN : v[i] - v[i - periods];
      });
    ALMANAC_ASSIGN_OR_RETURN(double scale, NumParam(t, "scale", 100));
    for (int64_t i = periods; i < x.size(); ++i)
      if (auto b = x.at(i - periods); b && *b == 0)
        return TransformError(t, "percent change from a zero value at " + x.PeriodAt(i - periods).ToString());
    return MapValues(t, x, [periods, scale](std::span<const double> v, int64_t i) -> double {
      return i < periods ? NAN : scale * (v[i] / v[i - periods] - 1);
    });
  }
  if (t.op == "moving_average") {
    ALMANAC_ASSIGN_OR_RETURN(int w, IntParam(t, "window", 0, 1, 10000));
    if (x.size() < w) return TransformError(t, "needs at least " + std::to_string(w) + " observations");
    return MapValues(t, x, [w](std::span<const double> v, int64_t i) -> double {
      if (i + 1 < w) return NAN;
      double s = 0;
      for (int64_t k = i - w + 1; k <= i; ++k) s += v[k];  // NaN propagates: a missing value leaves a gap
      return s / w;
    });
  }
  if (t.op == "deflate") {
    ALMANAC_ASSIGN_OR_RETURN(std::optional<std::string> by_name, StringParam(t, "by"));
    if (!by_name) return TransformError(t, "deflate needs 'by' (the deflator series)");
    const std::string& by = *by_name;
    auto d = inputs.find(by);
    if (d == inputs.end()) return TransformError(t, "deflator series '" + by + "' is not available");
    if (d->second.frequency() != x.frequency())
      return TransformError(t, "deflator '" + by + "' has frequency " + std::string(FrequencyCode(d->second.frequency())) + ", the input " +
                        std::string(FrequencyCode(x.frequency())));
    ALMANAC_ASSIGN_OR_RETURN(double base, NumParam(t, "base", 100));
    const TimeSeries& def = d->second;
    for (int64_t i = 0; i < x.size(); ++i)
      if (auto dv = def.at(x.PeriodAt(i)); dv && *dv == 0) return TransformError(t, "deflator is zero at " + x.PeriodAt(i).ToString());
    return MapValues(t, x, [&](std::span<const double> v, int64_t i) -> double {
      auto dv = def.at(x.PeriodAt(i));
      return dv ? v[i] / *dv * base : NAN;
    });
  }
  if (t.op == "resample") return Resample(t, x);
  if (t.op == "interpolate") {
    if (t.params.contains("method") && t.params["method"] != "linear") return TransformError(t, "method must be linear");
    if (x.Trimmed().empty()) return TransformError(t, "input series '" + t.input + "' has no observations");
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
  return InternalError("transformation '" + t.op + "' has a row in TransformOps but no code");
}

}  // namespace


Json TransformsToJson(const std::vector<TransformSpec>& transforms) {
  Json a = Json::array();
  for (const auto& t : transforms) a.push_back({{"name", t.name}, {"op", t.op}, {"input", t.input}, {"params", t.params}});
  return a;
}

Result<std::vector<TransformSpec>> TransformsFromJson(const Json& transforms) {
  std::vector<TransformSpec> out;
  if (transforms.is_null()) return out;
  if (!transforms.is_array()) return InvalidArgumentError("the package's transforms are not a list");
  for (const auto& t : transforms) {
    TransformSpec spec;
    try {
      spec.name = t.at("name").get<std::string>();
      spec.op = t.at("op").get<std::string>();
      spec.input = t.at("input").get<std::string>();
      spec.params = t.value("params", Json::object());
    } catch (const Json::exception& e) {
      return InvalidArgumentError(std::string("malformed transform in the package: ") + e.what());
    }
    out.push_back(std::move(spec));
  }
  return out;
}

Result<std::string> RecordedSeriesTransform(const Json& transforms) {
  ALMANAC_ASSIGN_OR_RETURN(std::vector<TransformSpec> specs, TransformsFromJson(transforms));
  std::string op = "none";
  for (const auto& spec : specs) {
    ALMANAC_ASSIGN_OR_RETURN(op, CanonicalTransformName(spec.op));
  }
  return op;
}

Result<std::map<std::string, TimeSeries>> ApplyRecordedTransforms(const Json& transforms,
                                                                  std::map<std::string, TimeSeries> series) {
  ALMANAC_ASSIGN_OR_RETURN(std::vector<TransformSpec> specs, TransformsFromJson(transforms));
  for (const auto& spec : specs) {
    ALMANAC_ASSIGN_OR_RETURN(TimeSeries out, ApplyTransform(spec, series));
    series[spec.name] = std::move(out);
  }
  return series;
}

Result<TimeSeries> DeriveTarget(const TargetRecipe& recipe, std::map<std::string, TimeSeries> inputs) {
  if (recipe.has_transforms()) {
    ALMANAC_ASSIGN_OR_RETURN(inputs, ApplyRecordedTransforms(recipe.transforms, std::move(inputs)));
  }
  auto it = inputs.find(recipe.target);
  if (it == inputs.end())
    return FailedPreconditionError("the package's target " + recipe.target + " cannot be derived from its inputs");
  return it->second.Trimmed();
}

Result<TargetAsOfResult> TargetAsOf(store::SeriesStore& store, const TargetRecipe& recipe, std::optional<Date> as_of) {
  std::vector<std::string> keys = recipe.inputs;
  if (!recipe.has_transforms() && std::find(keys.begin(), keys.end(), recipe.target) == keys.end())
    keys.push_back(recipe.target);
  TargetAsOfResult out;
  for (const auto& key : keys) {
    auto ts = store.ReadAsOf(key, as_of);
    if (!ts.ok()) return as_of ? ts.status().WithContext("as of " + as_of->ToString()) : ts.status();
    out.inputs[key] = std::move(*ts);
  }
  ALMANAC_ASSIGN_OR_RETURN(out.target, DeriveTarget(recipe, out.inputs));
  return out;
}

}  // namespace almanac::data
