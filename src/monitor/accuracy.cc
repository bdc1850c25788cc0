// Accuracy monitoring: realized errors of issued forecasts against the backtest.
#include <algorithm>
#include <cmath>
#include <limits>

#include "almanac/eval.h"
#include "almanac/monitor.h"

namespace almanac::monitor {
namespace {

std::string Fixed(double v, int digits) { return std::isfinite(v) ? FormatFixed(v, digits) : std::string("n/a"); }

}  // namespace

std::string_view AccuracyVerdictName(AccuracyVerdict v) {
  switch (v) {
    case AccuracyVerdict::kNoForecasts: return "no_forecasts";
    case AccuracyVerdict::kNoActuals: return "no_actuals";
    case AccuracyVerdict::kTooFew: return "too_few";
    case AccuracyVerdict::kOk: return "ok";
    case AccuracyVerdict::kDegraded: return "degraded";
  }
  return "ok";
}

Result<AccuracyRule> ParseAccuracyRule(const Json& policy) {
  AccuracyRule rule;
  if (!policy.is_object() || !policy.contains("monitor")) return rule;
  const Json& m = policy["monitor"];
  if (!m.is_object()) return InvalidArgumentError("policy.monitor must be an object");
  for (auto it = m.begin(); it != m.end(); ++it) {
    const std::string& k = it.key();
    const Json& v = it.value();
    if (k == "max_mase_ratio") {
      if (!v.is_number() || !(v.get<double>() > 0))
        return InvalidArgumentError("policy.monitor.max_mase_ratio must be a number > 0");
      rule.max_mase_ratio = v.get<double>();
    } else if (k == "max_coverage_shortfall") {
      if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > 1)
        return InvalidArgumentError("policy.monitor.max_coverage_shortfall must be a number in [0, 1]");
      rule.max_coverage_shortfall = v.get<double>();
    } else if (k == "min_errors") {
      if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > 1'000'000)
        return InvalidArgumentError("policy.monitor.min_errors must be an integer >= 1");
      rule.min_errors = static_cast<int>(v.get<int64_t>());
    } else {
      return InvalidArgumentError("unknown key policy.monitor." + k +
                                  " (keys: max_mase_ratio, max_coverage_shortfall, min_errors)");
    }
  }
  return rule;
}

Result<VersionAccuracy> EvaluateAccuracy(std::string_view model, int64_t version, const Json& backtest,
                                         const std::vector<store::IssuedForecastRecord>& forecasts,
                                         const TimeSeries& actuals, const AccuracyRule& rule) {
  VersionAccuracy out;
  out.model = std::string(model);
  out.version = version;
  out.forecasts = static_cast<int>(forecasts.size());
  out.realized_mae = kNaN;
  out.realized_mase = kNaN;
  out.backtest_mase = backtest.is_object() && backtest.contains("mase") && backtest["mase"].is_number()
                          ? backtest["mase"].get<double>()
                          : kNaN;
  const std::string id = out.model + "@" + std::to_string(version);
  if (!forecasts.empty()) out.target = forecasts.front().target;
  if (forecasts.empty()) {
    out.verdict = AccuracyVerdict::kNoForecasts;
    out.reason = "no forecasts of " + id + " are stored yet (almanac serve records the forecasts it answers)";
    return out;
  }
  const int m = actuals.empty() ? 1 : SeasonalPeriod(actuals.frequency());
  struct Sum {
    int n = 0, n_scaled = 0;
    double abs = 0, scaled = 0;
  };
  std::map<int, Sum> horizons;
  Sum total;
  std::map<double, std::pair<int, int>> cover;  // level -> (inside, n)
  std::optional<Period> first_needed;
  for (const auto& f : forecasts) {
    if (actuals.empty()) break;
    auto parsed = Period::Parse(f.origin, actuals.frequency());
    if (!parsed.ok())
      return InvalidArgumentError("forecast of " + id + ": origin " + f.origin + " is not a period of " + out.target +
                                  "'s frequency: " + parsed.status().message());
    const Period origin = *parsed;
    if (!first_needed || origin + 1 < *first_needed) first_needed = origin + 1;
    // The MASE scale from the actuals known up to the origin (as the backtest scales each
    // origin by its training window).
    double scale = kNaN;
    ALMANAC_ASSIGN_OR_RETURN(int64_t upto, origin.Diff(actuals.start()));
    if (upto >= 0) {
      const auto insample = actuals.values().subspan(0, static_cast<size_t>(std::min<int64_t>(upto + 1, actuals.size())));
      auto s = eval::MaseScale(insample, m);
      if (s.ok()) scale = *s;
    }
    for (size_t h = 0; h < f.mean.size(); ++h) {
      const auto y = actuals.at(origin + static_cast<int64_t>(h + 1));
      if (!y) continue;
      const double err = std::abs(*y - f.mean[h]);
      for (Sum* s : {&horizons[static_cast<int>(h + 1)], &total}) {
        ++s->n;
        s->abs += err;
        if (std::isfinite(scale)) {
          ++s->n_scaled;
          s->scaled += err / scale;
        }
      }
      for (size_t l = 0; l < f.levels.size(); ++l) {
        auto& [inside, n] = cover[f.levels[l]];
        ++n;
        if (f.lower[l][h] <= *y && *y <= f.upper[l][h]) ++inside;
      }
    }
  }
  out.evaluated = total.n;
  if (total.n > 0) out.realized_mae = total.abs / total.n;
  if (total.n_scaled > 0) out.realized_mase = total.scaled / total.n_scaled;
  for (const auto& [h, s] : horizons)
    out.by_horizon.push_back({h, s.n, s.abs / s.n, s.n_scaled > 0 ? s.scaled / s.n_scaled : kNaN});
  for (const auto& [level, c] : cover) {
    const std::string key = "coverage" + FormatDouble(level);
    const double bt = backtest.is_object() && backtest.contains(key) && backtest[key].is_number() ? backtest[key].get<double>() : kNaN;
    out.coverage.push_back({level, c.second, static_cast<double>(c.first) / c.second, bt});
  }
  if (total.n == 0) {
    out.verdict = AccuracyVerdict::kNoActuals;
    out.reason = "no actuals yet: " + std::to_string(forecasts.size()) + " forecast(s) stored, none of their periods" +
                 (first_needed ? " (the first is " + first_needed->ToString() + ")" : std::string()) +
                 " has a value in " + out.target + " yet";
    return out;
  }
  if (total.n < rule.min_errors) {
    out.verdict = AccuracyVerdict::kTooFew;
    out.reason = std::to_string(total.n) + " realized error(s); the policy needs " + std::to_string(rule.min_errors) +
                 " before a verdict";
    return out;
  }
  std::vector<std::string> why;
  if (std::isfinite(out.backtest_mase) && std::isfinite(out.realized_mase) &&
      out.realized_mase > rule.max_mase_ratio * out.backtest_mase)
    why.push_back("realized MASE " + Fixed(out.realized_mase, 3) + " > " + FormatDouble(rule.max_mase_ratio) +
                  " x backtest MASE " + Fixed(out.backtest_mase, 3));
  for (const auto& c : out.coverage)
    if (c.realized < c.level / 100 - rule.max_coverage_shortfall)
      why.push_back(FormatDouble(c.level) + "% interval coverage " + Fixed(c.realized, 3) + " < " +
                    Fixed(c.level / 100 - rule.max_coverage_shortfall, 3));
  if (why.empty()) {
    out.verdict = AccuracyVerdict::kOk;
    out.reason = "within the policy (realized MASE " + Fixed(out.realized_mase, 3) + ", backtest " +
                 Fixed(out.backtest_mase, 3) + ", " + std::to_string(total.n) + " errors)";
  } else {
    out.verdict = AccuracyVerdict::kDegraded;
    for (const auto& w : why) out.reason += (out.reason.empty() ? "" : "; ") + w;
  }
  return out;
}

AccuracyMetrics::AccuracyMetrics(MetricRegistry& r)
    : realized_(r.AddGauge("almanac_forecast_realized_mase",
                           "Realized MASE of the forecasts a production version issued, against actuals.", {"model", "version"})),
      backtest_(r.AddGauge("almanac_forecast_backtest_mase", "MASE of the version's backtest.", {"model", "version"})),
      coverage_(r.AddGauge("almanac_forecast_interval_coverage_ratio",
                           "Share of actuals inside the issued prediction intervals, by level (percent).",
                           {"model", "version", "level"})),
      evaluated_(r.AddGauge("almanac_forecast_errors_evaluated", "Forecast errors with an actual, per production version.",
                            {"model", "version"})),
      degraded_(r.AddGauge("almanac_forecast_accuracy_degraded",
                           "1 when the version's realized accuracy breaks the rule in its model's policy, else 0.",
                           {"model", "version"})) {}

void AccuracyMetrics::Publish(const std::vector<VersionAccuracy>& accuracies) {
  std::lock_guard lock(mu_);
  // New values first, then the label sets that are gone: a scrape in between sees either the
  // old or the new value of a version, never a gap.
  std::vector<std::vector<std::string>> two, three;
  for (const auto& a : accuracies) {
    std::vector<std::string> l{a.model, std::to_string(a.version)};
    if (std::isfinite(a.realized_mase)) {
      realized_.WithLabels(l).Set(a.realized_mase);
    } else {
      realized_.Remove(l);
    }
    if (std::isfinite(a.backtest_mase)) {
      backtest_.WithLabels(l).Set(a.backtest_mase);
    } else {
      backtest_.Remove(l);
    }
    evaluated_.WithLabels(l).Set(a.evaluated);
    degraded_.WithLabels(l).Set(a.verdict == AccuracyVerdict::kDegraded ? 1 : 0);
    for (const auto& c : a.coverage) {
      std::vector<std::string> l3{a.model, std::to_string(a.version), FormatDouble(c.level)};
      coverage_.WithLabels(l3).Set(c.realized);
      three.push_back(std::move(l3));
    }
    two.push_back(std::move(l));
  }
  auto gone = [](const std::vector<std::string>& l, const std::vector<std::vector<std::string>>& now) {
    return std::find(now.begin(), now.end(), l) == now.end();
  };
  for (const auto& l : two_)
    if (gone(l, two)) {
      realized_.Remove(l);
      backtest_.Remove(l);
      evaluated_.Remove(l);
      degraded_.Remove(l);
    }
  for (const auto& l : three_)
    if (gone(l, three)) coverage_.Remove(l);
  two_ = std::move(two);
  three_ = std::move(three);
}

}  // namespace almanac::monitor
