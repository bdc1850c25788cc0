// File: almanac/eval.h
//
// The eval component: forecast accuracy metrics, sample-based scores (CRPS), the
// Diebold-Mariano test, and rolling-origin backtests (optionally in real time, on the data as
// it was known at each origin). Depends on core and models (not on store: real-time data come
// through a callback).
//
//   // y_test: the realised values; fc: a models::Forecast for the same horizon.
//   ALMANAC_ASSIGN_OR_RETURN(double s, eval::Smape(y_test, fc.mean));
//   ALMANAC_ASSIGN_OR_RETURN(double q, eval::Mase(y_test, fc.mean, y_train, /*period=*/12));
//   ALMANAC_ASSIGN_OR_RETURN(eval::Accuracy a, eval::Evaluate(y_test, fc, y_train, 12));
//
//   eval::BacktestSettings bt{.horizon = 4, .origins = 12};
//   ALMANAC_ASSIGN_OR_RETURN(eval::BacktestResult r, eval::Backtest(registry, spec, series, bt));
//   // r.overall.mae, r.by_horizon[h-1].rmse, r.origins[i].mean ...
//
// Conventions shared by every metric:
// - `actual` and the forecast arrays have the same length (InvalidArgument otherwise), one
//   entry per horizon step.
// - Missing values: a position where the actual or any forecast value used by the metric is
//   NaN is skipped (the pair is ignored, not counted). When no position is left the metric is
//   undefined and the function returns InvalidArgument ("no pairs without missing values").
// - Percentage metrics (MAPE, sMAPE) are in percent (0..100, sMAPE up to 200); coverage is a
//   fraction in [0, 1].
// All functions are pure and thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "almanac/core.h"
#include "almanac/models.h"

namespace almanac::eval {

// Mean absolute error: mean |y - f|.
Result<double> Mae(std::span<const double> actual, std::span<const double> forecast);

// Root mean squared error: sqrt(mean (y - f)^2).
Result<double> Rmse(std::span<const double> actual, std::span<const double> forecast);

// Mean absolute percentage error: 100 * mean |y - f| / |y|. InvalidArgument when an actual is
// 0 (the metric is undefined there), naming the position.
Result<double> Mape(std::span<const double> actual, std::span<const double> forecast);

// Symmetric MAPE as defined for the M3 competition: mean 200 |y - f| / (|y| + |f|), in [0, 200].
// A pair with y = f = 0 contributes 0.
Result<double> Smape(std::span<const double> actual, std::span<const double> forecast);

// The MASE scale: the in-sample mean absolute error of the seasonal naive method,
// mean_{t > m} |y_t - y_{t-m}| with m = max(1, period) (Hyndman & Koehler 2006; the M4
// definition). Pairs with a NaN are skipped. InvalidArgument when there is no pair (fewer than
// m + 1 observations) or the scale is 0 (a series constant at lag m), since MASE is then
// undefined.
Result<double> MaseScale(std::span<const double> insample, int period);

// Mean absolute scaled error: Mae(actual, forecast) / MaseScale(insample, period).
Result<double> Mase(std::span<const double> actual, std::span<const double> forecast, std::span<const double> insample,
                    int period);

// Interval coverage: the fraction of positions with lower <= y <= upper.
Result<double> Coverage(std::span<const double> actual, std::span<const double> lower, std::span<const double> upper);

// The interval (Winkler) score of central (level)% intervals, averaged over positions
// (Gneiting & Raftery 2007, eq. 43): (u - l) + (2/a)(l - y)[y < l] + (2/a)(y - u)[y > u] with
// a = 1 - level/100. Lower is better. InvalidArgument for a level outside (0, 100) or a
// position with lower > upper.
Result<double> IntervalScore(std::span<const double> actual, std::span<const double> lower,
                             std::span<const double> upper, double level);

// All metrics of one forecast against the realised values. Metrics that are undefined for this
// input (MAPE with a zero actual, MASE without in-sample data or with a zero scale) are NaN
// with the reason in `notes`; the counts let callers pool over series (e.g. the M3 paper's
// sMAPE over all points = sum(smape * n) / sum(n)).
struct IntervalAccuracy {
  double level = 0;
  double coverage = 0;  // fraction in [0, 1]
  double score = 0;     // mean interval score
  int n = 0;            // positions used
};
struct Accuracy {
  int n = 0;  // positions used by the point metrics (actual and mean both present)
  double mae = 0;
  double rmse = 0;
  double mape = 0;
  double smape = 0;
  double mase = 0;
  double mase_scale = 0;
  std::vector<IntervalAccuracy> intervals;  // one per interval of the forecast, same order
  std::vector<std::string> notes;
};

// Scores `forecast` (mean and intervals, truncated to actual.size() steps) against `actual`.
// `insample` (the data the model was fitted on) and `period` give the MASE scale; pass an
// empty span to skip MASE. InvalidArgument when the forecast is shorter than `actual` or no
// position has both an actual and a forecast.
Result<Accuracy> Evaluate(std::span<const double> actual, const models::Forecast& forecast,
                          std::span<const double> insample, int period);

// ---- Sample-based scores ---------------------------------------------------------------------

// The continuous ranked probability score of a forecast distribution given by samples, for one
// realised value: mean|X - y| - mean|X - X'| / 2 over the samples (Gneiting & Raftery 2007,
// eq. 21, with the empirical distribution), computed in O(n log n). Lower is better; for a
// point forecast it is the absolute error. InvalidArgument for no samples or a NaN value.
Result<double> CrpsSample(double actual, std::span<const double> samples);

// ---- Diebold-Mariano test ------------------------------------------------------------------

enum class DmAlternative { kTwoSided, kLess, kGreater };

struct DieboldMarianoResult {
  double statistic = 0;  // HLN-corrected DM statistic
  double pvalue = 0;
  int df = 0;            // n - 1 (Student t)
  int n = 0;             // loss differentials used
  int horizon = 1;
  double mean_loss_difference = 0;  // mean of |e1|^power - |e2|^power
  // e.g. the fallback to h = 1 when the variance estimate for horizon h is not positive (as R).
  std::vector<std::string> notes;
};

// Compares the accuracy of two forecasts of the same targets from their errors e1, e2 (same
// length; positions with a NaN in either are dropped) with the Diebold & Mariano (1995) test
// and the Harvey, Leybourne & Newbold (1997) small-sample correction, as R forecast's
// dm.test(e1, e2, h, power) (varestimator "acf"): d = |e1|^p - |e2|^p, the long-run variance
// from the autocovariances of d up to lag h - 1, statistic scaled by
// sqrt((n + 1 - 2h + h(h - 1)/n) / n) and referred to Student's t with n - 1 df. Alternatives
// as R: kLess: method 2 is less accurate; kGreater: method 2 is more accurate.
// When the variance estimate is not positive for h > 1, the test is redone with h = 1 and a
// note (as R, which warns). InvalidArgument for mismatched lengths, fewer than 3 pairs,
// horizon < 1 or >= n, power <= 0, or a zero variance at h = 1 (e.g. identical errors).
Result<DieboldMarianoResult> DieboldMariano(std::span<const double> e1, std::span<const double> e2, int horizon,
                                            double power = 2, DmAlternative alternative = DmAlternative::kTwoSided);

// ---- Rolling-origin backtests ---------------------------------------------------------------
//
// Origins: with T observations, origin i (0-based, oldest first) of `origins` trains on the
// observations before end_i = T - horizon - (origins - 1 - i) * step and forecasts periods
// end_i .. end_i + horizon - 1, so the last origin's forecasts end with the data. The origin
// period is the last training period. Expanding windows train on everything before end_i;
// sliding windows on the last `window_size` observations.
//
// Real time: with a vintage source, origin i fits on the series as known on its as-of date,
// the end date of its origin period plus `publication_lag_days` (e.g. quarterly GDP, first
// published about 30 days after the quarter ends: lag 30), truncated at the origin period.
// When that vintage ends before the origin period (the value was not published yet), the model
// is fitted on what was known and forecasts through the gap: the scored steps are still the
// `horizon` periods after the origin, and OriginResult::gap records the missing periods.
// Forecasts are scored against the latest data (the source called with no date).

enum class WindowType { kExpanding, kSliding };

struct BacktestSettings {
  int horizon = 1;   // steps scored at each origin
  int origins = 10;  // number of forecast origins
  int step = 1;      // periods between consecutive origins
  WindowType window = WindowType::kExpanding;
  int window_size = 0;  // sliding: training observations (0: those of the first origin)
  int min_train = 2;    // fewer training observations at an origin is an error
  std::vector<double> levels{80, 95};
  int period = 0;       // seasonal period for the model and MASE (0: from the series' frequency)
  int threads = 1;      // origins (and series) in parallel; results do not depend on it
  // Multivariate models: ask for simulated paths and score them with the CRPS.
  bool crps = true;
  // Multivariate models: variables whose realised future values (from the latest data) are
  // given to the model as conditions at each origin (known future paths, e.g. the regressors
  // of arimax or a policy-rate path for a VAR). They are not scored.
  std::vector<std::string> known_future;
};

// Where the data of each origin come from in a real-time backtest: the series as known on a
// date (nullopt: the latest data, used as actual values). Called from the calling thread only.
using VintageSource = std::function<Result<TimeSeries>(std::optional<Date> as_of)>;
struct RealTimeSettings {
  int publication_lag_days = 0;  // as-of date = end date of the origin period + lag
};

struct OriginResult {
  Period origin;                 // last training period
  std::optional<Date> as_of;     // real-time backtests only
  std::optional<Period> train_start;
  int train_size = 0;            // observations in the fitted window
  int gap = 0;                   // real time: origin periods not yet published at as_of
  std::vector<double> actual;    // horizon values (NaN where not observed)
  std::vector<double> mean;      // horizon forecasts
  std::vector<models::PredictionInterval> intervals;
  std::vector<double> crps;      // per step, when the model gave samples (else empty)
  double mase_scale = 0;         // in-sample seasonal-naive MAE of the window (NaN: undefined)
  Status status;                 // a failed fit or forecast (excluded from the metrics)
  std::vector<std::string> notes;
};

struct BacktestResult {
  std::string model;                       // the spec's type
  std::string variable;                    // series or variable name, when known
  std::vector<OriginResult> origins;       // oldest first
  Accuracy overall;                        // pooled over successful origins and all steps
  std::vector<Accuracy> by_horizon;        // [h - 1]: pooled over origins
  double crps = 0;                         // mean CRPS (NaN without samples)
  std::vector<double> crps_by_horizon;
  int failures = 0;                        // origins whose fit or forecast failed
  std::vector<std::string> notes;
};
// In pooled Accuracy values MASE is the mean of |error| / scale of each origin's window
// (mase_scale is NaN), and notes say which metrics are undefined.

// Backtests a univariate registry model on one series. InvalidArgument for bad settings or a
// series too short for the origins (naming how many observations are needed). An origin whose
// fit fails is recorded (status) and skipped in the metrics; when every origin fails the
// result is the first failure.
Result<BacktestResult> Backtest(const models::ForecasterRegistry& registry, const models::ModelSpec& spec,
                                const TimeSeries& series, const BacktestSettings& settings);

// The same on the data as known at each origin (see above).
Result<BacktestResult> BacktestRealTime(const models::ForecasterRegistry& registry, const models::ModelSpec& spec,
                                        const VintageSource& source, const RealTimeSettings& real_time,
                                        const BacktestSettings& settings);

// Backtests many series in parallel over (series x origin) on settings.threads threads; result i
// belongs to series i and does not depend on the thread count.
std::vector<Result<BacktestResult>> BacktestMany(const models::ForecasterRegistry& registry,
                                                 const models::ModelSpec& spec, std::span<const TimeSeries> series,
                                                 const BacktestSettings& settings);

// Multivariate models (var, bvar): one model per origin, scored per variable.
struct MultiBacktestResult {
  std::vector<std::string> names;         // the scored variables (known_future ones left out)
  std::vector<BacktestResult> variables;  // one per scored variable, same order as names
};
using MultiVintageSource = std::function<Result<models::MultiInput>(std::optional<Date> as_of)>;

// `data` must have a start period. Errors as Backtest.
Result<MultiBacktestResult> BacktestMultivariate(const models::ModelSpec& spec, const models::MultiInput& data,
                                                 const BacktestSettings& settings);
Result<MultiBacktestResult> BacktestMultivariateRealTime(const models::ModelSpec& spec,
                                                         const MultiVintageSource& source,
                                                         const RealTimeSettings& real_time,
                                                         const BacktestSettings& settings);

// Forecast errors (actual - mean) at step h (1-based) of every origin, NaN for failed origins
// or missing actuals; aligned across two results of the same settings, for DieboldMariano.
std::vector<double> ErrorsAtHorizon(const BacktestResult& result, int h);

}  // namespace almanac::eval
