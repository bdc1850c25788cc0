// Rolling-origin backtests (see almanac/eval.h for the origin and real-time definitions).
//
// Structure: a plan per origin (training window, origin period, as-of date, the vintage in
// real time) is made on the calling thread; the fits run in parallel, each writing its own
// OriginResult by index; the pooled metrics are computed afterwards in origin order. So the
// results do not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <limits>

#include "almanac/eval.h"

namespace almanac::eval {
namespace {

Status CheckSettings(const BacktestSettings& s) {
  if (s.horizon < 1 || s.horizon > models::kMaxHorizon)
    return InvalidArgumentError("backtest horizon must be in 1.." + std::to_string(models::kMaxHorizon));
  if (s.origins < 1) return InvalidArgumentError("backtest needs at least one origin");
  if (s.step < 1) return InvalidArgumentError("backtest step must be at least 1");
  if (s.window_size < 0) return InvalidArgumentError("backtest window size must be non-negative");
  if (s.min_train < 1) return InvalidArgumentError("backtest minimum training size must be at least 1");
  if (s.period < 0) return InvalidArgumentError("backtest seasonal period must be non-negative");
  return models::ValidatePredictArgs(s.horizon, s.levels);
}

// The training window [begin, end) of each origin over a series of `t_len` observations.
struct Window {
  int begin = 0;
  int end = 0;
};

Result<std::vector<Window>> PlanWindows(int t_len, const BacktestSettings& s, const std::string& what) {
  const int64_t first_end = static_cast<int64_t>(t_len) - s.horizon - static_cast<int64_t>(s.origins - 1) * s.step;
  const int64_t need_first = std::max<int64_t>(s.min_train, s.window == WindowType::kSliding ? s.window_size : 0);
  if (first_end < need_first)
    return InvalidArgumentError(what + " has " + std::to_string(t_len) + " observations; " + std::to_string(s.origins) +
                                " origins " + std::to_string(s.step) + " apart with horizon " +
                                std::to_string(s.horizon) + " and at least " + std::to_string(need_first) +
                                " training observations need " +
                                std::to_string(need_first + s.horizon + static_cast<int64_t>(s.origins - 1) * s.step));
  const int window = s.window_size > 0 ? s.window_size : static_cast<int>(first_end);
  std::vector<Window> out;
  for (int i = 0; i < s.origins; ++i) {
    Window w;
    w.end = static_cast<int>(first_end) + i * s.step;
    w.begin = s.window == WindowType::kSliding ? w.end - window : 0;
    out.push_back(w);
  }
  return out;
}

int PeriodFor(const BacktestSettings& s, Frequency f) { return s.period > 0 ? s.period : SeasonalPeriod(f); }

double ScaleOf(std::span<const double> train, int period) {
  auto r = MaseScale(train, period);
  return r.ok() ? *r : kNaN;
}

// Fills mean/intervals/crps of `out` from the last `horizon` steps of a forecast of `total`.
void TakeLast(const models::Forecast& f, int horizon, OriginResult* out) {
  const size_t skip = f.mean.size() - static_cast<size_t>(horizon);
  out->mean.assign(f.mean.begin() + static_cast<std::ptrdiff_t>(skip), f.mean.end());
  for (const auto& iv : f.intervals) {
    models::PredictionInterval p{iv.level, {}, {}};
    p.lower.assign(iv.lower.begin() + static_cast<std::ptrdiff_t>(skip), iv.lower.end());
    p.upper.assign(iv.upper.begin() + static_cast<std::ptrdiff_t>(skip), iv.upper.end());
    out->intervals.push_back(std::move(p));
  }
  for (const auto& n : f.notes)
    if (std::find(out->notes.begin(), out->notes.end(), n) == out->notes.end()) out->notes.push_back(n);
}

// Pooled accuracy of the (origin, step) positions selected by `use_step` over successful origins.
Accuracy Pool(const std::vector<OriginResult>& origins, int step /* -1: all */, size_t num_levels) {
  std::vector<double> y, f, ys, fs;
  std::vector<std::vector<double>> lo(num_levels), hi(num_levels);
  std::vector<double> levels(num_levels, 0);
  for (const auto& o : origins) {
    if (!o.status.ok()) continue;
    for (size_t h = 0; h < o.mean.size(); ++h) {
      if (step >= 0 && static_cast<int>(h) != step) continue;
      y.push_back(o.actual[h]);
      f.push_back(o.mean[h]);
      const bool scaled = std::isfinite(o.mase_scale) && o.mase_scale > 0;
      ys.push_back(scaled ? o.actual[h] / o.mase_scale : kNaN);
      fs.push_back(scaled ? o.mean[h] / o.mase_scale : kNaN);
      for (size_t l = 0; l < num_levels && l < o.intervals.size(); ++l) {
        levels[l] = o.intervals[l].level;
        lo[l].push_back(o.intervals[l].lower[h]);
        hi[l].push_back(o.intervals[l].upper[h]);
      }
    }
  }
  Accuracy a;
  a.mae = a.rmse = a.mape = a.smape = a.mase = kNaN;
  a.mase_scale = kNaN;
  for (size_t i = 0; i < y.size(); ++i) a.n += !std::isnan(y[i]) && !std::isnan(f[i]);
  if (a.n == 0) {
    a.notes.push_back("no forecast has an actual value to score");
    for (size_t l = 0; l < num_levels; ++l) a.intervals.push_back({levels[l], kNaN, kNaN, 0});
    return a;
  }
  a.mae = Mae(y, f).value_or(kNaN);
  a.rmse = Rmse(y, f).value_or(kNaN);
  a.smape = Smape(y, f).value_or(kNaN);
  if (auto m = Mape(y, f); m.ok()) {
    a.mape = *m;
  } else {
    a.notes.push_back(m.status().message());
  }
  if (auto m = Mae(ys, fs); m.ok()) {
    a.mase = *m;
  } else {
    a.notes.push_back("MASE undefined: no origin has a positive in-sample scale");
  }
  for (size_t l = 0; l < num_levels; ++l) {
    IntervalAccuracy ia;
    ia.level = levels[l];
    for (size_t i = 0; i < y.size(); ++i) ia.n += !std::isnan(y[i]) && !std::isnan(lo[l][i]) && !std::isnan(hi[l][i]);
    ia.coverage = Coverage(y, lo[l], hi[l]).value_or(kNaN);
    auto sc = IntervalScore(y, lo[l], hi[l], levels[l] > 0 ? levels[l] : 50);
    ia.score = sc.ok() ? *sc : kNaN;
    if (!sc.ok() && ia.n > 0) a.notes.push_back(sc.status().message());
    a.intervals.push_back(ia);
  }
  return a;
}

BacktestResult Aggregate(std::string model, std::string variable, std::vector<OriginResult> origins, int horizon,
                         size_t num_levels) {
  BacktestResult r;
  r.model = std::move(model);
  r.variable = std::move(variable);
  r.origins = std::move(origins);
  for (const auto& o : r.origins) r.failures += !o.status.ok();
  r.overall = Pool(r.origins, -1, num_levels);
  for (int h = 0; h < horizon; ++h) r.by_horizon.push_back(Pool(r.origins, h, num_levels));
  double total = 0;
  int count = 0;
  r.crps_by_horizon.assign(static_cast<size_t>(horizon), kNaN);
  for (int h = 0; h < horizon; ++h) {
    double s = 0;
    int c = 0;
    for (const auto& o : r.origins) {
      if (!o.status.ok() || o.crps.size() <= static_cast<size_t>(h) || std::isnan(o.crps[h])) continue;
      s += o.crps[h];
      ++c;
    }
    if (c > 0) r.crps_by_horizon[h] = s / c;
    total += s;
    count += c;
  }
  r.crps = count > 0 ? total / count : kNaN;
  if (r.failures > 0)
    r.notes.push_back(std::to_string(r.failures) + " of " + std::to_string(r.origins.size()) +
                      " origins failed and are not scored");
  return r;
}

// ---- Univariate -------------------------------------------------------------------------------

struct UniTask {
  TimeSeries train;  // the training window (possibly ending before the origin: real time)
  int gap = 0;
  OriginResult result;  // origin, as_of, actual filled in by the planner
  Status plan_status;
};

void RunUni(const models::ForecasterRegistry& registry, const models::ModelSpec& spec, const BacktestSettings& s,
            UniTask* task) {
  OriginResult& out = task->result;
  out.gap = task->gap;
  if (!task->plan_status.ok()) {
    out.status = task->plan_status;
    return;
  }
  const int period = PeriodFor(s, task->train.frequency());
  out.train_start = task->train.start();
  out.train_size = static_cast<int>(task->train.size());
  out.mase_scale = ScaleOf(task->train.values(), period);
  auto model = registry.Create(spec);
  if (!model.ok()) {
    out.status = model.status();
    return;
  }
  Status fit = (*model)->Fit({task->train.values(), period});
  if (!fit.ok()) {
    out.status = fit.WithContext("fit at origin " + out.origin.ToString());
    return;
  }
  auto fc = (*model)->Predict(s.horizon + task->gap, s.levels);
  if (!fc.ok()) {
    out.status = fc.status().WithContext("forecast at origin " + out.origin.ToString());
    return;
  }
  TakeLast(*fc, s.horizon, &out);
  const auto d = (*model)->Describe();
  for (const auto& n : d.notes)
    if (std::find(out.notes.begin(), out.notes.end(), n) == out.notes.end()) out.notes.push_back(n);
}

std::vector<double> ActualsAfter(const TimeSeries& final_series, Period origin, int horizon) {
  std::vector<double> a;
  for (int h = 1; h <= horizon; ++h) a.push_back(final_series.at(origin + h).value_or(kNaN));
  return a;
}

Result<std::vector<UniTask>> PlanUni(const TimeSeries& series, const BacktestSettings& s, const std::string& what) {
  const TimeSeries y = series.Trimmed();
  if (y.empty()) return InvalidArgumentError(what + " has no observations");
  ALMANAC_ASSIGN_OR_RETURN(std::vector<Window> windows, PlanWindows(static_cast<int>(y.size()), s, what));
  std::vector<UniTask> tasks;
  for (const auto& w : windows) {
    UniTask t;
    t.train = y.Slice(y.PeriodAt(w.begin), y.PeriodAt(w.end - 1));
    t.result.origin = y.PeriodAt(w.end - 1);
    t.result.actual = ActualsAfter(y, t.result.origin, s.horizon);
    tasks.push_back(std::move(t));
  }
  return tasks;
}

Result<BacktestResult> Finish(std::vector<UniTask>& tasks, const models::ModelSpec& spec, const BacktestSettings& s,
                              std::string variable) {
  std::vector<OriginResult> origins;
  for (auto& t : tasks) origins.push_back(std::move(t.result));
  size_t ok = 0;
  for (const auto& o : origins) ok += o.status.ok();
  if (ok == 0) return origins.front().status;
  return Aggregate(spec.type, std::move(variable), std::move(origins), s.horizon, s.levels.size());
}

// ---- Multivariate -----------------------------------------------------------------------------

models::MultiInput SliceMulti(const models::MultiInput& d, int begin, int end) {
  models::MultiInput out;
  out.names = d.names;
  if (d.start) out.start = *d.start + begin;
  for (const auto& col : d.values) out.values.emplace_back(col.begin() + begin, col.begin() + end);
  return out;
}

struct MultiTask {
  models::MultiInput train;
  Period origin;
  std::optional<Date> as_of;
  int gap = 0;
  Status plan_status;
  std::vector<OriginResult> results;  // one per variable
};

void RunMulti(const models::ModelSpec& spec, const BacktestSettings& s, const models::MultiInput& final_data,
              MultiTask* task) {
  const size_t k = final_data.names.size();
  task->results.assign(k, OriginResult());
  for (size_t i = 0; i < k; ++i) {
    OriginResult& r = task->results[i];
    r.origin = task->origin;
    r.as_of = task->as_of;
    r.gap = task->gap;
    r.actual.clear();
    const int64_t origin_index = *task->origin.Diff(*final_data.start);
    for (int h = 1; h <= s.horizon; ++h) {
      const int64_t t = origin_index + h;
      r.actual.push_back(t >= 0 && t < final_data.size() ? final_data.values[i][t] : kNaN);
    }
  }
  auto fail = [&](const Status& st) {
    for (auto& r : task->results) r.status = st;
  };
  if (!task->plan_status.ok()) return fail(task->plan_status);
  const int period = PeriodFor(s, task->train.start->frequency());
  auto model = models::CreateMultivariate(spec);
  if (!model.ok()) return fail(model.status());
  Status fit = (*model)->Fit(task->train);
  if (!fit.ok()) return fail(fit.WithContext("fit at origin " + task->origin.ToString()));
  models::MultiPredictRequest req;
  req.horizon = s.horizon + task->gap;
  req.levels = s.levels;
  req.keep_samples = s.crps;
  // Known future paths: the latest data over the forecast periods (origin - gap + 1 ..).
  const int64_t first_index = *task->origin.Diff(*final_data.start) - task->gap + 1;
  for (const auto& name : s.known_future) {
    auto it = std::find(final_data.names.begin(), final_data.names.end(), name);
    if (it == final_data.names.end())
      return fail(InvalidArgumentError("known-future variable '" + name + "' is not in the data"));
    const size_t i = static_cast<size_t>(it - final_data.names.begin());
    models::PathCondition c{name, {}};
    for (int h = 0; h < req.horizon; ++h) {
      const int64_t t = first_index + h;
      c.values.push_back(t >= 0 && t < final_data.size() ? final_data.values[i][static_cast<size_t>(t)] : kNaN);
    }
    req.conditions.push_back(std::move(c));
  }
  auto fc = (*model)->Predict(req);
  if (!fc.ok()) return fail(fc.status().WithContext("forecast at origin " + task->origin.ToString()));
  const int skip = task->gap;
  for (size_t i = 0; i < k; ++i) {
    OriginResult& r = task->results[i];
    r.train_start = task->train.start;
    r.train_size = static_cast<int>(task->train.size());
    r.mase_scale = ScaleOf(task->train.values[i], period);
    models::Forecast one;
    one.mean = fc->mean[i];
    for (const auto& iv : fc->intervals) one.intervals.push_back({iv.level, iv.lower[i], iv.upper[i]});
    one.notes = fc->notes;
    TakeLast(one, s.horizon, &r);
    if (!fc->samples.empty()) {
      for (int h = 0; h < s.horizon; ++h) {
        auto c = CrpsSample(r.actual[h], fc->samples[i][static_cast<size_t>(skip + h)]);
        r.crps.push_back(c.ok() ? *c : kNaN);
      }
    }
  }
}

Result<MultiBacktestResult> FinishMulti(std::vector<MultiTask>& tasks, const models::ModelSpec& spec,
                                        const BacktestSettings& s, const std::vector<std::string>& names) {
  MultiBacktestResult out;
  size_t ok = 0;
  for (const auto& t : tasks) ok += !t.results.empty() && t.results[0].status.ok();
  if (ok == 0) return tasks.front().results.front().status;
  for (size_t i = 0; i < names.size(); ++i) {
    if (std::find(s.known_future.begin(), s.known_future.end(), names[i]) != s.known_future.end()) continue;
    out.names.push_back(names[i]);
    std::vector<OriginResult> origins;
    for (auto& t : tasks) origins.push_back(std::move(t.results[i]));
    out.variables.push_back(Aggregate(spec.type, names[i], std::move(origins), s.horizon, s.levels.size()));
  }
  return out;
}

Status CheckMultiData(const models::MultiInput& d) {
  if (!d.start) return InvalidArgumentError("multivariate backtests need data with a start period");
  if (d.names.empty() || d.size() == 0) return InvalidArgumentError("multivariate backtest: no data");
  return Status::Ok();
}

Date AsOfDate(Period origin, const RealTimeSettings& rt) { return origin.EndDate() + rt.publication_lag_days; }

}  // namespace

Result<BacktestResult> Backtest(const models::ForecasterRegistry& registry, const models::ModelSpec& spec,
                                const TimeSeries& series, const BacktestSettings& settings) {
  ALMANAC_RETURN_IF_ERROR(CheckSettings(settings));
  ALMANAC_RETURN_IF_ERROR(registry.Validate(spec));
  ALMANAC_ASSIGN_OR_RETURN(std::vector<UniTask> tasks, PlanUni(series, settings, "the series"));
  ParallelFor(tasks.size(), settings.threads, [&](size_t i) { RunUni(registry, spec, settings, &tasks[i]); });
  return Finish(tasks, spec, settings, "");
}

Result<BacktestResult> BacktestRealTime(const models::ForecasterRegistry& registry, const models::ModelSpec& spec,
                                        const VintageSource& source, const RealTimeSettings& real_time,
                                        const BacktestSettings& settings) {
  ALMANAC_RETURN_IF_ERROR(CheckSettings(settings));
  ALMANAC_RETURN_IF_ERROR(registry.Validate(spec));
  ALMANAC_ASSIGN_OR_RETURN(TimeSeries latest, source(std::nullopt));
  latest = latest.Trimmed();
  ALMANAC_ASSIGN_OR_RETURN(std::vector<UniTask> tasks, PlanUni(latest, settings, "the latest data"));
  for (auto& t : tasks) {
    const Date as_of = AsOfDate(t.result.origin, real_time);
    t.result.as_of = as_of;
    auto v = source(as_of);
    if (!v.ok()) {
      t.plan_status = v.status().WithContext("data as of " + as_of.ToString());
      continue;
    }
    TimeSeries known = v->Trimmed();
    if (!known.empty() && known.frequency() != latest.frequency()) {
      t.plan_status = FailedPreconditionError("the data as of " + as_of.ToString() + " have another frequency");
      continue;
    }
    if (known.empty() || known.start() > t.result.origin) {
      t.plan_status = FailedPreconditionError("nothing was known on " + as_of.ToString() + " up to the origin " +
                                              t.result.origin.ToString());
      continue;
    }
    known = known.Slice(known.start(), t.result.origin).Trimmed();
    t.gap = static_cast<int>(*t.result.origin.Diff(known.end()));
    if (settings.window == WindowType::kSliding) {
      const int window = settings.window_size > 0 ? settings.window_size : static_cast<int>(t.train.size());
      if (known.size() > window) known = known.Slice(known.end() - (window - 1), known.end());
    }
    if (known.size() < settings.min_train) {
      t.plan_status = FailedPreconditionError("only " + std::to_string(known.size()) + " observations were known on " +
                                              as_of.ToString());
      continue;
    }
    t.train = std::move(known);
  }
  ParallelFor(tasks.size(), settings.threads, [&](size_t i) { RunUni(registry, spec, settings, &tasks[i]); });
  return Finish(tasks, spec, settings, "");
}

std::vector<Result<BacktestResult>> BacktestMany(const models::ForecasterRegistry& registry,
                                                 const models::ModelSpec& spec, std::span<const TimeSeries> series,
                                                 const BacktestSettings& settings) {
  std::vector<Result<BacktestResult>> out;
  Status common = CheckSettings(settings);
  if (common.ok()) common = registry.Validate(spec);
  std::vector<std::vector<UniTask>> plans(series.size());
  std::vector<std::pair<size_t, size_t>> index;  // (series, origin)
  std::vector<Status> plan_errors(series.size());
  for (size_t i = 0; i < series.size(); ++i) {
    if (!common.ok()) {
      plan_errors[i] = common;
      continue;
    }
    auto p = PlanUni(series[i], settings, "series " + std::to_string(i + 1));
    if (!p.ok()) {
      plan_errors[i] = p.status();
      continue;
    }
    plans[i] = std::move(*p);
    for (size_t o = 0; o < plans[i].size(); ++o) index.emplace_back(i, o);
  }
  ParallelFor(index.size(), settings.threads,
              [&](size_t j) { RunUni(registry, spec, settings, &plans[index[j].first][index[j].second]); });
  for (size_t i = 0; i < series.size(); ++i) {
    if (!plan_errors[i].ok()) {
      out.emplace_back(plan_errors[i]);
      continue;
    }
    out.push_back(Finish(plans[i], spec, settings, ""));
  }
  return out;
}

Result<MultiBacktestResult> BacktestMultivariate(const models::ModelSpec& spec, const models::MultiInput& data,
                                                 const BacktestSettings& settings) {
  ALMANAC_RETURN_IF_ERROR(CheckSettings(settings));
  ALMANAC_RETURN_IF_ERROR(models::ValidateMultivariateSpec(spec));
  ALMANAC_RETURN_IF_ERROR(CheckMultiData(data));
  ALMANAC_ASSIGN_OR_RETURN(std::vector<Window> windows,
                           PlanWindows(static_cast<int>(data.size()), settings, "the data"));
  std::vector<MultiTask> tasks;
  for (const auto& w : windows) {
    MultiTask t;
    t.train = SliceMulti(data, w.begin, w.end);
    t.origin = *data.start + (w.end - 1);
    tasks.push_back(std::move(t));
  }
  ParallelFor(tasks.size(), settings.threads, [&](size_t i) { RunMulti(spec, settings, data, &tasks[i]); });
  return FinishMulti(tasks, spec, settings, data.names);
}

Result<MultiBacktestResult> BacktestMultivariateRealTime(const models::ModelSpec& spec,
                                                         const MultiVintageSource& source,
                                                         const RealTimeSettings& real_time,
                                                         const BacktestSettings& settings) {
  ALMANAC_RETURN_IF_ERROR(CheckSettings(settings));
  ALMANAC_RETURN_IF_ERROR(models::ValidateMultivariateSpec(spec));
  ALMANAC_ASSIGN_OR_RETURN(models::MultiInput latest, source(std::nullopt));
  ALMANAC_RETURN_IF_ERROR(CheckMultiData(latest));
  ALMANAC_ASSIGN_OR_RETURN(std::vector<Window> windows,
                           PlanWindows(static_cast<int>(latest.size()), settings, "the latest data"));
  const int first_window = windows.front().end - windows.front().begin;
  std::vector<MultiTask> tasks;
  for (const auto& w : windows) {
    MultiTask t;
    t.origin = *latest.start + (w.end - 1);
    const Date as_of = AsOfDate(t.origin, real_time);
    t.as_of = as_of;
    auto v = source(as_of);
    if (!v.ok()) {
      t.plan_status = v.status().WithContext("data as of " + as_of.ToString());
    } else if (!v->start || v->names != latest.names || v->size() == 0 ||
               v->start->frequency() != latest.start->frequency()) {
      t.plan_status = FailedPreconditionError("the data as of " + as_of.ToString() +
                                              " do not have the same dated variables as the latest data");
    } else if (*v->start > t.origin) {
      t.plan_status = FailedPreconditionError("nothing was known on " + as_of.ToString() + " up to the origin " +
                                              t.origin.ToString());
    } else {
      const int64_t last_known = std::min<int64_t>(v->size() - 1, *t.origin.Diff(*v->start));
      int64_t begin = 0;
      if (settings.window == WindowType::kSliding) {
        const int window = settings.window_size > 0 ? settings.window_size : first_window;
        begin = std::max<int64_t>(0, last_known + 1 - window);
      }
      t.train = SliceMulti(*v, static_cast<int>(begin), static_cast<int>(last_known + 1));
      t.gap = static_cast<int>(*t.origin.Diff(*v->start + last_known));
    }
    tasks.push_back(std::move(t));
  }
  ParallelFor(tasks.size(), settings.threads, [&](size_t i) { RunMulti(spec, settings, latest, &tasks[i]); });
  return FinishMulti(tasks, spec, settings, latest.names);
}

std::vector<double> ErrorsAtHorizon(const BacktestResult& result, int h) {
  std::vector<double> e;
  for (const auto& o : result.origins) {
    if (!o.status.ok() || h < 1 || static_cast<size_t>(h) > o.mean.size()) {
      e.push_back(kNaN);
      continue;
    }
    e.push_back(o.actual[h - 1] - o.mean[h - 1]);
  }
  return e;
}

}  // namespace almanac::eval
