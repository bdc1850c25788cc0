// Real-time evaluation of DFM nowcasts against a random walk and an AR(2), with
// Diebold-Mariano tests (issue 25; include/almanac/eval/nowcast_eval.h, docs/nowcasting.md).
#include "almanac/eval/nowcast_eval.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "almanac/core/json.h"

namespace almanac::eval {
namespace {

constexpr double kNowcastNaN = std::numeric_limits<double>::quiet_NaN();

// `d` on a monthly grid of `size` months from `start`. FailedPrecondition when `d` starts
// before `start` or does not fit (a vintage that reaches further back than the grid).
Result<models::MixedFrequencyData> NowcastOnGrid(const models::MixedFrequencyData& d, Period start, int64_t size) {
  const int64_t offset = d.start.ordinal() - start.ordinal();
  if (offset < 0)
    return FailedPreconditionError("the data as known at one date start in " + d.start.ToString() +
                                   ", before the evaluation grid's start " + start.ToString());
  models::MixedFrequencyData out;
  out.names = d.names;
  out.quarterly = d.quarterly;
  out.start = start;
  out.values.assign(d.values.size(), std::vector<double>(static_cast<size_t>(size), kNowcastNaN));
  for (size_t i = 0; i < d.values.size(); ++i)
    for (int64_t t = 0; t < d.size() && offset + t < size; ++t)
      out.values[i][static_cast<size_t>(offset + t)] = d.values[i][static_cast<size_t>(t)];
  return out;
}

// The quarterly values of variable `v` (the last month of each quarter), from the grid's first
// complete quarter end through `through` (inclusive).
std::vector<double> QuarterlyValues(const models::MixedFrequencyData& d, size_t v, Period first_quarter,
                                    Period through) {
  std::vector<double> out;
  for (Period q = first_quarter; q <= through; q += 1) {
    const int64_t t = q.Convert(Frequency::kMonthly, Anchor::kEnd).ordinal() - d.start.ordinal();
    out.push_back(t >= 0 && t < d.size() ? d.values[v][static_cast<size_t>(t)] : kNowcastNaN);
  }
  return out;
}

std::vector<Date> EvaluationDates(const NowcastVintages& v, const NowcastEvalSettings& s) {
  std::vector<Date> dates;
  if (s.every == NowcastSchedule::kRelease) {
    for (Date d : v.release_dates)
      if (d >= s.from && d <= s.to && (dates.empty() || dates.back() != d)) dates.push_back(d);
    return dates;
  }
  auto m = Period::FromDate(s.from, Frequency::kMonthly);
  if (!m.ok()) return dates;
  for (Period p = *m; p.EndDate() <= s.to; p += 1)
    if (p.EndDate() >= s.from) dates.push_back(p.EndDate());
  return dates;
}

// `r`, or its error with `context` added.
template <typename T>
Result<T> NowcastCtx(Result<T> r, const std::string& context) {
  if (!r.ok()) return r.status().WithContext(context);
  return r;
}

double NowcastMean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? kNowcastNaN : s / static_cast<double>(v.size());
}

Json DmJson(const std::optional<DieboldMarianoResult>& dm, const Status& status) {
  if (!dm) return {{"error", status.message()}};
  return {{"statistic", FiniteOrNull(dm->statistic)},
          {"pvalue", FiniteOrNull(dm->pvalue)},
          {"n", dm->n},
          {"horizon", dm->horizon},
          {"mean_loss_difference", FiniteOrNull(dm->mean_loss_difference)},
          {"notes", dm->notes}};
}

}  // namespace

std::string_view NowcastDataModeName(NowcastDataMode m) {
  return m == NowcastDataMode::kRealTime ? "real-time" : "pseudo";
}
std::string_view NowcastScheduleName(NowcastSchedule s) { return s == NowcastSchedule::kMonthEnd ? "month" : "release"; }
std::string_view NowcastRefitName(NowcastRefit r) { return r == NowcastRefit::kEvery ? "every" : "once"; }
std::string_view NowcastOutcomeName(NowcastOutcome o) { return o == NowcastOutcome::kLatest ? "latest" : "first"; }

Result<Ar2Fit> FitAr2(std::span<const double> y) {
  // Normal equations X'X b = X'y with rows (1, y_{t-1}, y_{t-2}).
  double xx[3][3] = {}, xy[3] = {};
  int n = 0;
  for (size_t t = 2; t < y.size(); ++t) {
    if (std::isnan(y[t]) || std::isnan(y[t - 1]) || std::isnan(y[t - 2])) continue;
    const double x[3] = {1, y[t - 1], y[t - 2]};
    for (int i = 0; i < 3; ++i) {
      xy[i] += x[i] * y[t];
      for (int j = 0; j < 3; ++j) xx[i][j] += x[i] * x[j];
    }
    ++n;
  }
  if (n < 4)
    return InvalidArgumentError("an AR(2) needs at least 4 periods observed together with their two predecessors, "
                                "got " + std::to_string(n));
  // Gaussian elimination with partial pivoting on the 3x3 system.
  double a[3][4];
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) a[i][j] = xx[i][j];
    a[i][3] = xy[i];
  }
  const double scale = std::max({std::abs(xx[0][0]), std::abs(xx[1][1]), std::abs(xx[2][2]), 1.0});
  for (int c = 0; c < 3; ++c) {
    int p = c;
    for (int r = c + 1; r < 3; ++r)
      if (std::abs(a[r][c]) > std::abs(a[p][c])) p = r;
    if (std::abs(a[p][c]) <= 1e-12 * scale)
      return InvalidArgumentError("the AR(2) design is singular (the target's values are constant or collinear)");
    if (p != c)
      for (int j = 0; j < 4; ++j) std::swap(a[p][j], a[c][j]);
    for (int r = 0; r < 3; ++r) {
      if (r == c) continue;
      const double f = a[r][c] / a[c][c];
      for (int j = c; j < 4; ++j) a[r][j] -= f * a[c][j];
    }
  }
  return Ar2Fit{.c = a[0][3] / a[0][0], .a1 = a[1][3] / a[1][1], .a2 = a[2][3] / a[2][2], .n = n};
}

Result<double> Ar2Forecast(const Ar2Fit& fit, std::span<const double> y, int steps) {
  if (steps < 1) return InvalidArgumentError("AR(2) forecast steps must be at least 1, got " + std::to_string(steps));
  if (y.size() < 2 || std::isnan(y[y.size() - 1]) || std::isnan(y[y.size() - 2]))
    return InvalidArgumentError("an AR(2) forecast needs the last two values observed");
  double y1 = y[y.size() - 1], y2 = y[y.size() - 2];
  for (int h = 0; h < steps; ++h) {
    const double next = fit.c + fit.a1 * y1 + fit.a2 * y2;
    y2 = y1;
    y1 = next;
  }
  return y1;
}

Result<NowcastEvaluation> EvaluateNowcasts(const NowcastVintages& vintages, const NowcastEvalSettings& s) {
  if (s.to < s.from)
    return InvalidArgumentError("the evaluation window is empty: --from " + s.from.ToString() + " is after --to " +
                                s.to.ToString());
  const std::vector<Date> dates = EvaluationDates(vintages, s);
  if (dates.empty())
    return InvalidArgumentError(
        "no evaluation date between " + s.from.ToString() + " and " + s.to.ToString() +
        (s.every == NowcastSchedule::kMonthEnd
             ? std::string(" (every month: the last day of each month in the window)")
             : std::string(" (every release: no configured series has a vintage in the window)")));
  if (vintages.release_dates.size() < 2)
    return FailedPreconditionError("too few vintages: the configured series have " +
                                   std::to_string(vintages.release_dates.size()) +
                                   " vintage date(s); a real-time evaluation needs the data as published over time "
                                   "(at least 2 vintages)");
  if (dates.front() < vintages.release_dates.front())
    return FailedPreconditionError("too few vintages: the first evaluation date " + dates.front().ToString() +
                                   " is before the first vintage (" + vintages.release_dates.front().ToString() +
                                   "); start the window (--from) on or after it");

  ALMANAC_ASSIGN_OR_RETURN(models::MixedFrequencyData latest_raw, vintages.read(std::nullopt));
  const auto it = std::find(latest_raw.names.begin(), latest_raw.names.end(), s.target);
  if (it == latest_raw.names.end()) return InvalidArgumentError("the target " + s.target + " is not in the data");
  const size_t target = static_cast<size_t>(it - latest_raw.names.begin());
  if (!latest_raw.quarterly[target]) return InvalidArgumentError("the target " + s.target + " is not quarterly");

  // One grid for every date: from the latest data's start through the last evaluated quarter.
  auto last_quarter = Period::FromDate(dates.back(), Frequency::kQuarterly);
  ALMANAC_RETURN_IF_ERROR(last_quarter.status());
  const Period grid_start = latest_raw.start;
  const Period grid_end = std::max(latest_raw.start + (latest_raw.size() - 1),
                                   last_quarter->Convert(Frequency::kMonthly, Anchor::kEnd));
  const int64_t grid_size = grid_end.ordinal() - grid_start.ordinal() + 1;
  ALMANAC_ASSIGN_OR_RETURN(models::MixedFrequencyData latest, NowcastOnGrid(latest_raw, grid_start, grid_size));
  const Period first_quarter = grid_start.Convert(Frequency::kQuarterly);

  auto month_of = [&](Period q) { return q.Convert(Frequency::kMonthly, Anchor::kEnd).ordinal() - grid_start.ordinal(); };

  // Outcomes, per quarter.
  std::map<int64_t, double> outcomes;
  auto outcome_of = [&](Period q, Date date) -> Result<double> {
    if (auto f = outcomes.find(q.ordinal()); f != outcomes.end()) return f->second;
    const int64_t t = month_of(q);
    double value = t < latest.size() ? latest.values[target][static_cast<size_t>(t)] : kNowcastNaN;
    if (std::isnan(value))
      return FailedPreconditionError("no outcome yet: " + s.target + " " + q.ToString() + " (nowcast on " +
                                     date.ToString() + ") is not in the latest data; end the window (--to) before "
                                     "the quarter whose value is not published");
    if (s.outcome == NowcastOutcome::kFirstRelease) {
      value = kNowcastNaN;
      for (Date d : vintages.target_release_dates) {
        if (d <= q.EndDate()) continue;
        ALMANAC_ASSIGN_OR_RETURN(models::MixedFrequencyData v, NowcastCtx(vintages.read(d), "vintage of " + d.ToString()));
        ALMANAC_ASSIGN_OR_RETURN(v, NowcastOnGrid(v, grid_start, grid_size));
        const double x = v.values[target][static_cast<size_t>(t)];
        if (!std::isnan(x)) {
          value = x;
          break;
        }
      }
      if (std::isnan(value))
        return FailedPreconditionError("no outcome yet: no vintage of " + s.target + " publishes " + q.ToString() +
                                       " (first-release outcome of the nowcast on " + date.ToString() + ")");
    }
    outcomes.emplace(q.ordinal(), value);
    return value;
  };

  NowcastEvaluation out;
  out.target = s.target;
  out.settings = s;
  out.settings.progress = nullptr;
  std::optional<models::DynamicFactorModel> once;
  int not_converged = 0;
  for (size_t k = 0; k < dates.size(); ++k) {
    const Date date = dates[k];
    if (s.progress) s.progress(static_cast<int>(k), static_cast<int>(dates.size()), date);
    const std::string context = "nowcast on " + date.ToString();
    NowcastEvalPoint p;
    p.date = date;
    ALMANAC_ASSIGN_OR_RETURN(p.quarter, Period::FromDate(date, Frequency::kQuarterly));
    p.month_in_quarter = (date.month() - 1) % 3 + 1;
    ALMANAC_ASSIGN_OR_RETURN(models::MixedFrequencyData known_raw, NowcastCtx(vintages.read(date), context));
    if (known_raw.names != latest.names)
      return InvalidArgumentError(context + ": the data as known then have other variables than the latest data");
    // The grid of this date ends with the nowcast's quarter (as `almanac nowcast` does), so a
    // fit does not depend on how far the latest data reach.
    const int64_t size = std::max(month_of(p.quarter) + 1,
                                  known_raw.start.ordinal() + known_raw.size() - grid_start.ordinal());
    ALMANAC_ASSIGN_OR_RETURN(models::MixedFrequencyData data,
                             NowcastCtx(NowcastOnGrid(known_raw, grid_start, size), context));
    if (s.mode == NowcastDataMode::kPseudoRealTime)
      for (size_t i = 0; i < data.values.size(); ++i)
        for (size_t t = 0; t < data.values[i].size(); ++t)
          if (!std::isnan(data.values[i][t]))
            data.values[i][t] = static_cast<int64_t>(t) < latest.size() ? latest.values[i][t] : kNowcastNaN;
    ALMANAC_ASSIGN_OR_RETURN(p.outcome, outcome_of(p.quarter, date));

    // The target as known then, quarter by quarter, through the quarter before the nowcast's.
    std::vector<double> y = QuarterlyValues(data, target, first_quarter, p.quarter - 1);
    while (!y.empty() && std::isnan(y.back())) y.pop_back();
    if (y.empty())
      return InvalidArgumentError(context + ": no value of " + s.target + " is known then (random walk and AR(2))");
    p.last_known = first_quarter + static_cast<int64_t>(y.size() - 1);
    p.rw = y.back();
    auto ar = FitAr2(y);
    if (!ar.ok()) return ar.status().WithContext(context + ": AR(2) on " + s.target + " through " + p.last_known.ToString());
    ALMANAC_ASSIGN_OR_RETURN(p.ar2, NowcastCtx(Ar2Forecast(*ar, y, static_cast<int>(p.quarter.ordinal() - p.last_known.ordinal())), context + ": AR(2) forecast"));

    const models::DynamicFactorModel* model = nullptr;
    std::optional<models::DynamicFactorModel> fitted;
    if (s.refit == NowcastRefit::kOnce && once) {
      model = &*once;
    } else {
      auto m = models::DynamicFactorModel::Fit(data, s.dfm);
      if (!m.ok()) return m.status().WithContext(context + ": fitting the dynamic factor model");
      if (s.refit == NowcastRefit::kOnce) {
        once = std::move(*m);
        model = &*once;
      } else {
        fitted = std::move(*m);
        model = &*fitted;
      }
    }
    p.em_iterations = model->report().iterations;
    p.converged = model->report().converged;
    if (!p.converged && (s.refit == NowcastRefit::kEvery || k == 0)) ++not_converged;
    ALMANAC_ASSIGN_OR_RETURN(models::Nowcast now, NowcastCtx(model->NowcastOf(data, s.target, p.quarter), context));
    p.dfm = now.value;
    p.dfm_std_error = now.std_error;
    out.points.push_back(p);
  }
  if (s.progress) s.progress(static_cast<int>(dates.size()), static_cast<int>(dates.size()), dates.back());
  if (not_converged > 0)
    out.notes.push_back("EM did not converge in " + std::to_string(s.dfm.max_iterations) + " iterations for " +
                        std::to_string(not_converged) + " of " +
                        std::to_string(s.refit == NowcastRefit::kEvery ? dates.size() : 1) + " fit(s)");

  // Errors (outcome - forecast) per method.
  const char* kMethods[] = {"dfm", "rw", "ar2"};
  std::vector<std::vector<double>> errors(3);
  for (const auto& p : out.points) {
    errors[0].push_back(p.outcome - p.dfm);
    errors[1].push_back(p.outcome - p.rw);
    errors[2].push_back(p.outcome - p.ar2);
  }
  auto subset = [&](const std::vector<double>& e, int month) {
    std::vector<double> r;
    for (size_t i = 0; i < e.size(); ++i)
      if (month == 0 || out.points[i].month_in_quarter == month) r.push_back(e[i]);
    return r;
  };
  auto rmse = [](const std::vector<double>& e) {
    std::vector<double> sq;
    for (double x : e) sq.push_back(x * x);
    return std::sqrt(NowcastMean(sq));
  };
  auto mae = [](const std::vector<double>& e) {
    std::vector<double> a;
    for (double x : e) a.push_back(std::abs(x));
    return NowcastMean(a);
  };
  for (size_t m = 0; m < 3; ++m) {
    NowcastAccuracy a;
    a.method = kMethods[m];
    a.n = static_cast<int>(errors[m].size());
    a.rmse = rmse(errors[m]);
    a.mae = mae(errors[m]);
    for (int month = 1; month <= 3; ++month) {
      const auto e = subset(errors[m], month);
      a.n_by_month[static_cast<size_t>(month - 1)] = static_cast<int>(e.size());
      a.rmse_by_month[static_cast<size_t>(month - 1)] = rmse(e);
      a.mae_by_month[static_cast<size_t>(month - 1)] = mae(e);
    }
    out.accuracy.push_back(a);
  }

  // The DM horizon: the most dates nowcasting one quarter (their errors overlap).
  std::map<int64_t, int> per_quarter;
  for (const auto& p : out.points) out.dm_horizon = std::max(out.dm_horizon, ++per_quarter[p.quarter.ordinal()]);
  const int n = static_cast<int>(out.points.size());
  const int horizon = std::max(1, std::min(out.dm_horizon, n - 1));
  if (horizon != out.dm_horizon)
    out.notes.push_back("the Diebold-Mariano horizon is " + std::to_string(horizon) + " (at most one less than the " +
                        std::to_string(n) + " dates) instead of " + std::to_string(out.dm_horizon));
  out.dm_horizon = horizon;
  for (size_t b = 1; b < 3; ++b) {
    NowcastDmTest t;
    t.benchmark = kMethods[b];
    t.relative_rmse = out.accuracy[0].rmse / out.accuracy[b].rmse;
    auto dm = DieboldMariano(errors[0], errors[b], horizon);
    if (dm.ok()) t.dm = *dm;
    else t.status = dm.status();
    for (int month = 1; month <= 3; ++month) {
      const size_t mi = static_cast<size_t>(month - 1);
      const auto e0 = subset(errors[0], month), eb = subset(errors[b], month);
      t.relative_rmse_by_month[mi] = rmse(e0) / rmse(eb);
      auto dmm = DieboldMariano(e0, eb, 1);
      if (dmm.ok()) t.dm_by_month[mi] = *dmm;
      else t.status_by_month[mi] = dmm.status();
    }
    out.tests.push_back(std::move(t));
  }
  return out;
}

Json NowcastEvaluationJson(const NowcastEvaluation& r) {
  Json points = Json::array();
  for (const auto& p : r.points)
    points.push_back({{"date", p.date.ToString()},
                      {"quarter", p.quarter.ToString()},
                      {"month", p.month_in_quarter},
                      {"last_known", p.last_known.ToString()},
                      {"outcome", p.outcome},
                      {"dfm", p.dfm},
                      {"dfm_std_error", p.dfm_std_error},
                      {"rw", p.rw},
                      {"ar2", p.ar2},
                      {"em_iterations", p.em_iterations},
                      {"converged", p.converged}});
  auto by_month = [](const auto& arr) {
    Json j = Json::array();
    for (double x : arr) j.push_back(FiniteOrNull(x));
    return j;
  };
  Json accuracy = Json::array();
  for (const auto& a : r.accuracy)
    accuracy.push_back({{"method", a.method},
                        {"n", a.n},
                        {"rmse", FiniteOrNull(a.rmse)},
                        {"mae", FiniteOrNull(a.mae)},
                        {"n_by_month", a.n_by_month},
                        {"rmse_by_month", by_month(a.rmse_by_month)},
                        {"mae_by_month", by_month(a.mae_by_month)}});
  Json tests = Json::array();
  for (const auto& t : r.tests) {
    Json months = Json::array();
    for (size_t m = 0; m < 3; ++m)
      months.push_back({{"month", static_cast<int>(m + 1)},
                        {"relative_rmse", FiniteOrNull(t.relative_rmse_by_month[m])},
                        {"dm", DmJson(t.dm_by_month[m], t.status_by_month[m])}});
    tests.push_back({{"model", "dfm"},
                     {"benchmark", t.benchmark},
                     {"relative_rmse", FiniteOrNull(t.relative_rmse)},
                     {"dm", DmJson(t.dm, t.status)},
                     {"by_month", months}});
  }
  return {{"target", r.target},
          {"from", r.settings.from.ToString()},
          {"to", r.settings.to.ToString()},
          {"every", NowcastScheduleName(r.settings.every)},
          {"mode", NowcastDataModeName(r.settings.mode)},
          {"refit", NowcastRefitName(r.settings.refit)},
          {"outcome", NowcastOutcomeName(r.settings.outcome)},
          {"dm_horizon", r.dm_horizon},
          {"points", points},
          {"accuracy", accuracy},
          {"tests", tests},
          {"notes", r.notes}};
}

}  // namespace almanac::eval
