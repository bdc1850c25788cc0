// File: almanac/eval/nowcast_eval.h
//
// Real-time evaluation of the dynamic factor model's nowcasts (issue 25; docs/nowcasting.md,
// "Evaluate"). For each evaluation date in a window: the data as known then, the DFM nowcast
// of the current quarter, two benchmarks on the target as known then (a random walk: the last
// published value; an AR(2) with intercept by OLS), errors against the outcome, RMSE and MAE
// per method and per month of the quarter, and Diebold-Mariano tests of the DFM against each
// benchmark. Part of the eval component (not included by almanac/eval.h: callers that
// evaluate nowcasts include it). No storage: vintages come through a callback.
//
//   eval::NowcastVintages v{.read = [&](std::optional<Date> d) { return ReadAligned(d); },
//                           .release_dates = all_dates, .target_release_dates = gdp_dates};
//   eval::NowcastEvalSettings s{.target = "gdp", .from = from, .to = to, .dfm = options};
//   ALMANAC_ASSIGN_OR_RETURN(eval::NowcastEvaluation r, eval::EvaluateNowcasts(v, s));
//   // r.accuracy[0].rmse (dfm), r.tests[0].dm.statistic (dfm vs rw), r.points[i].dfm ...
#pragma once

#include <array>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "almanac/core.h"
#include "almanac/eval.h"
#include "almanac/models/nowcast.h"

namespace almanac::eval {

// Which data each evaluation date sees.
// kRealTime: the stored vintage as of the date.
// kPseudoRealTime: the latest vintage cut to the same publication pattern: a value is kept
//   where the vintage of the date has one (same ragged edge, same gaps), with its latest value.
enum class NowcastDataMode { kRealTime, kPseudoRealTime };
// kMonthEnd: the last day of each month in the window; kRelease: each date in the window on
// which a configured series got a new vintage.
enum class NowcastSchedule { kMonthEnd, kRelease };
// kEvery: the DFM is re-estimated on the data of each date; kOnce: estimated on the data of the
// first date, then its parameters are kept (each date's data are only smoothed).
enum class NowcastRefit { kEvery, kOnce };
// kLatest: the latest vintage's value of the quarter (default); kFirstRelease: the value of the
// first vintage that published it.
enum class NowcastOutcome { kLatest, kFirstRelease };

std::string_view NowcastDataModeName(NowcastDataMode m);    // "real-time", "pseudo"
std::string_view NowcastScheduleName(NowcastSchedule s);    // "month", "release"
std::string_view NowcastRefitName(NowcastRefit r);          // "every", "once"
std::string_view NowcastOutcomeName(NowcastOutcome o);      // "latest", "first"

// The configured series as known on a date (nullopt: the latest data), on one monthly grid
// (models::AlignMixedFrequency) with the same names in the same order at every date. A date
// before any vintage may return an error (it is not called for such dates).
struct NowcastVintages {
  std::function<Result<models::MixedFrequencyData>(std::optional<Date> as_of)> read;
  std::vector<Date> release_dates;         // every vintage date of the configured series, ascending
  std::vector<Date> target_release_dates;  // those of the target (first-release outcomes)
};

struct NowcastEvalSettings {
  std::string target;  // a quarterly variable of the data
  Date from, to;       // the window, inclusive
  NowcastSchedule every = NowcastSchedule::kMonthEnd;
  NowcastDataMode mode = NowcastDataMode::kRealTime;
  NowcastRefit refit = NowcastRefit::kEvery;
  NowcastOutcome outcome = NowcastOutcome::kLatest;
  models::DfmOptions dfm;
  // Called before each date (done = dates finished so far, total = all dates).
  std::function<void(int done, int total, Date date)> progress;
};

// One evaluation date: the three nowcasts of the quarter containing it and the outcome.
struct NowcastEvalPoint {
  Date date;
  Period quarter{Frequency::kQuarterly, 0};
  int month_in_quarter = 1;  // 1..3: the month of `date` within `quarter`
  Period last_known{Frequency::kQuarterly, 0};  // the target's last published quarter then
  double outcome = 0;
  double dfm = 0, dfm_std_error = 0;
  double rw = 0;   // the value of last_known
  double ar2 = 0;  // the AR(2) forecast of `quarter` from last_known
  int em_iterations = 0;  // of the fit used (refit once: the first date's)
  bool converged = true;
};

// Accuracy of one method: pooled over every date, and by month of the quarter ([0] = month 1).
struct NowcastAccuracy {
  std::string method;  // "dfm", "rw", "ar2"
  int n = 0;
  double rmse = 0, mae = 0;
  std::array<int, 3> n_by_month{};
  std::array<double, 3> rmse_by_month{}, mae_by_month{};  // NaN for a month with no date
};

// DFM against one benchmark: RMSE ratio and the Diebold-Mariano test (squared loss, two-sided,
// e1 = DFM, e2 = benchmark, so a negative statistic means the DFM is more accurate). Pooled,
// the test uses horizon h = the most dates that nowcast one quarter (their errors share the
// outcome, so they are correlated: eval::DieboldMariano's autocovariances up to lag h - 1);
// by month of the quarter, one date per quarter, h = 1. `status` is not OK when the test is
// undefined (fewer than 3 dates, identical errors); then `dm` is empty.
struct NowcastDmTest {
  std::string benchmark;  // "rw", "ar2"
  double relative_rmse = 0;  // RMSE(dfm) / RMSE(benchmark)
  std::optional<DieboldMarianoResult> dm;
  Status status;
  std::array<double, 3> relative_rmse_by_month{};
  std::array<std::optional<DieboldMarianoResult>, 3> dm_by_month;
  std::array<Status, 3> status_by_month;
};

struct NowcastEvaluation {
  std::string target;
  NowcastEvalSettings settings;  // as given (progress dropped)
  std::vector<NowcastEvalPoint> points;  // by date
  std::vector<NowcastAccuracy> accuracy;  // dfm, rw, ar2
  std::vector<NowcastDmTest> tests;       // dfm vs rw, dfm vs ar2
  int dm_horizon = 1;
  std::vector<std::string> notes;  // e.g. EM did not converge at some dates
};

// Runs the evaluation. Errors:
// - InvalidArgument: from after to; a window with no evaluation date; a target that is not a
//   quarterly variable of the data; a date whose data have too few target values for the AR(2).
// - FailedPrecondition: too few vintages (fewer than 2 release dates, or none on or before the
//   first evaluation date); a quarter with no outcome yet (not in the latest vintage, or, for
//   first-release outcomes, in no vintage).
// - the DFM's own errors (models::DynamicFactorModel::Fit), with the date as context.
Result<NowcastEvaluation> EvaluateNowcasts(const NowcastVintages& vintages, const NowcastEvalSettings& settings);

// The evaluation as JSON (docs/nowcasting.md, "Evaluate"): {target, from, to, every, mode,
// refit, outcome, dm_horizon, points: [...], accuracy: [...], tests: [...], notes}.
Json NowcastEvaluationJson(const NowcastEvaluation& evaluation);

// ---- The AR(2) benchmark (exposed for tests) ----------------------------------------------

// y_t = c + a1 y_{t-1} + a2 y_{t-2} + e_t by OLS over the t where y_t, y_{t-1} and y_{t-2} are
// all observed (NaN = missing). InvalidArgument with fewer than 4 such t or a singular design.
struct Ar2Fit {
  double c = 0, a1 = 0, a2 = 0;
  int n = 0;  // equations used
};
Result<Ar2Fit> FitAr2(std::span<const double> y);
// The forecast `steps` (>= 1) periods after the last element of `y`, iterating the fit on
// y's last two values (which must be observed). InvalidArgument otherwise.
Result<double> Ar2Forecast(const Ar2Fit& fit, std::span<const double> y, int steps);

}  // namespace almanac::eval
