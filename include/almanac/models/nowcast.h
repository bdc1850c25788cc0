// File: almanac/models/nowcast.h
//
// Nowcasting with a mixed-frequency dynamic factor model (issue 25): monthly indicators and
// quarterly series (GDP) on one monthly grid, factors in blocks (global, real, nominal, ...)
// following VAR(p) processes, AR(1) idiosyncratic components, quarterly series tied to the
// monthly latent series by the Mariano-Murasawa weights 1,2,3,2,1. Estimated by EM with the
// Kalman filter and smoother on data with gaps and ragged edges (Banbura and Modugno 2014),
// with the conventions of statsmodels' DynamicFactorMQ (docs/nowcasting.md). Part of the
// models component (not included by almanac/models.h: callers that nowcast include it).
//
//   MixedFrequencyData data = ...;                    // monthly grid, NaN = missing
//   DfmOptions options{.blocks = {{"global", 1, 2, {}}, {"real", 1, 1, {"ip", "gdp"}}}};
//   ALMANAC_ASSIGN_OR_RETURN(DynamicFactorModel model, DynamicFactorModel::Fit(data, options));
//   ALMANAC_ASSIGN_OR_RETURN(Nowcast now, model.NowcastOf(data, "gdp", q4_2023));
//   ALMANAC_ASSIGN_OR_RETURN(NewsDecomposition news, model.News(old_vintage, data, "gdp", q4_2023));
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "almanac/core.h"
#include "almanac/core/json.h"

namespace almanac::models {

// Series on one monthly grid: values[i][t] is variable i in month start + t (NaN = missing).
// A quarterly variable holds its value in the last month of each quarter and NaN in the
// other two months. Values must be finite or NaN (infinities are refused).
struct MixedFrequencyData {
  std::vector<std::string> names;
  std::vector<bool> quarterly;  // one per name
  Period start{Frequency::kMonthly, 0};
  std::vector<std::vector<double>> values;

  int num_vars() const { return static_cast<int>(names.size()); }
  int64_t size() const { return values.empty() ? 0 : static_cast<int64_t>(values[0].size()); }
};

// Puts monthly and quarterly series on one monthly grid from the earliest start to the
// latest end (extended to `through` when given). InvalidArgument for a frequency other than
// monthly or quarterly, a repeated name, or sizes that differ.
Result<MixedFrequencyData> AlignMixedFrequency(const std::vector<std::string>& names,
                                               const std::vector<TimeSeries>& series,
                                               std::optional<Period> through = std::nullopt);

// A block of `factors` factors following a VAR(`order`); the listed variables load on it
// (empty: every variable). statsmodels: factors={var: [block, ...]}, factor_orders={block: p},
// factor_multiplicities={block: k}; factors of a block with k > 1 are named "block.1" ...
struct DfmBlock {
  std::string name = "global";
  int factors = 1;
  int order = 1;
  std::vector<std::string> variables;
};

struct DfmOptions {
  std::vector<DfmBlock> blocks{DfmBlock{}};
  bool standardize = true;       // subtract the mean and divide by the (ddof 1) standard deviation
  int max_iterations = 500;      // EM iterations (statsmodels' maxiter)
  // EM stops when 2 |llf_k - llf_{k-1}| / (|llf_k| + |llf_{k-1}|) <= tolerance (statsmodels).
  double tolerance = 1e-6;
  // Fit refuses fewer months with at least one observation than this (and than the model's
  // number of lagged factor states).
  int min_observations = 24;
};

// Parameters in the standardized units of the data, named as statsmodels' structured
// parameters: loadings[i][f] (0 where variable i does not load on factor f); per block b:
// factor_ar[b] (k x k p, [A_1 ... A_p]) and factor_cov[b] (k x k); per variable the
// idiosyncratic AR(1) coefficient and innovation variance.
struct DfmParameters {
  std::vector<std::string> variables;
  std::vector<std::string> factors;
  std::vector<std::vector<double>> loadings;
  std::vector<std::vector<std::vector<double>>> factor_ar;
  std::vector<std::vector<std::vector<double>>> factor_cov;
  std::vector<double> idio_ar, idio_var;
};

struct DfmFitReport {
  int iterations = 0;
  bool converged = false;
  double loglik = 0;                // at the final parameters (statsmodels' result.llf)
  std::vector<double> loglik_path;  // the log-likelihood of each E step
  double criterion = 0;             // the last relative change
  std::vector<std::string> notes;   // e.g. "EM did not converge in 500 iterations (...)"
};

// The smoothed state of one data set: factors[f][t] in the order of params().factors;
// signal[i][t] the smoothed value of variable i in its original units (for a quarterly
// variable, the quarterly aggregate placed at each month).
struct DfmSmoothed {
  Period start{Frequency::kMonthly, 0};
  std::vector<std::vector<double>> factors;
  std::vector<std::vector<double>> signal;
  double loglik = 0;
};

struct Nowcast {
  std::string variable;
  Period target;  // the variable's own frequency (a quarter for GDP)
  double value = 0;
  double std_error = 0;  // of the smoothed estimate (parameter uncertainty not included)
};

// One new release between two vintages: its news (observed minus what the old data set
// predicted for it), its weight in the target and their product, the impact.
struct NewsItem {
  std::string variable;
  Period period;  // monthly period of the release (quarterly variables: last month of quarter)
  double observed = 0, forecast = 0, news = 0, weight = 0, impact = 0;
};

// new_value - old_value == revision_impact + sum of items' impacts (to rounding): the
// revisions' effect is measured first (old releases with their revised values), then the
// news of the new releases (Banbura and Modugno 2014; the NY Fed Staff Nowcast).
struct NewsDecomposition {
  std::string variable;
  Period target;
  double old_value = 0, new_value = 0;
  double revision_impact = 0, news_impact = 0;
  std::vector<NewsItem> items;  // by period, then variable order
  std::vector<std::string> revised;  // "variable@period" of each revised value
};

// A fitted model. Move-only; const methods are thread-safe.
class DynamicFactorModel {
 public:
  DynamicFactorModel(DynamicFactorModel&&) noexcept;
  DynamicFactorModel& operator=(DynamicFactorModel&&) noexcept;
  ~DynamicFactorModel();

  // Fits by EM. `start`: starting parameters (default: principal components, OLS and AR
  // regressions, docs/nowcasting.md). InvalidArgument for: no variables, no monthly
  // variable, sizes that differ, infinities, a quarterly value outside a quarter's last month,
  // a variable with no observation or a constant one, an empty or repeated block name, an
  // unknown variable in a block, a variable on no block, an order or factor count < 1, more
  // factors than monthly variables, too few observed months, bad options, a start that does
  // not match the model. Non-convergence is not an error: report().converged is false and a
  // note says so. Internal when the smoother breaks down numerically.
  static Result<DynamicFactorModel> Fit(const MixedFrequencyData& data, const DfmOptions& options,
                                        const DfmParameters* start = nullptr);

  const DfmParameters& params() const;
  const DfmFitReport& report() const;
  const DfmOptions& options() const;
  // Mean and standard deviation used to standardize each variable (0 and 1 without).
  const std::vector<double>& means() const;
  const std::vector<double>& stds() const;
  Period start() const;

  // Smooths `data` with the fitted parameters (same variables in the same order, same start
  // month; it may be longer or shorter). InvalidArgument otherwise.
  Result<DfmSmoothed> Smooth(const MixedFrequencyData& data) const;

  // The smoothed estimate of `variable` in `target` (a quarter for a quarterly variable, a
  // month otherwise) given `data`, extending the grid with missing months when the target is
  // after its end. NotFound for an unknown variable; InvalidArgument for a target of another
  // frequency or before the start.
  Result<Nowcast> NowcastOf(const MixedFrequencyData& data, std::string_view variable, Period target) const;

  // The change of the nowcast of `variable` in `target` from `old_data` to `new_data` (two
  // vintages on the same grid), split into revisions and the news of each new release.
  Result<NewsDecomposition> News(const MixedFrequencyData& old_data, const MixedFrequencyData& new_data,
                                 std::string_view variable, Period target) const;

  // The fitted model as JSON (options, parameters, standardization, initial state, report)
  // and back. FromJson: DataLoss for a malformed document.
  Json ToJson() const;
  static Result<DynamicFactorModel> FromJson(const Json& json);

  struct Impl;

 private:
  explicit DynamicFactorModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace almanac::models
