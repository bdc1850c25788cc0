// The ETS forecaster: parameter handling, R's model-selection rules, the fallbacks for
// short and constant series, prediction and (de)serialisation. The numerics live in
// ets_core (likelihood, initial states, bounds, Nelder-Mead fit), ets_forecast
// (intervals) and holt_winters (the short-series fallback).
//
// Prediction intervals by model class (also stated in Describe() notes):
//   ETS(A,N|A|Ad,N|A)  analytic, class 1      ETS(M,N|A|Ad,N|A)  analytic, class 2
//   ETS(M,N|A|Ad,M)    analytic, class 3      multiplicative trend (ETS(M,M|Md,*)), and
//                                             additive error with multiplicative season:
//                                             simulated (nsim paths, seeded)
#include "models/ets/ets.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "almanac/core/time_series.h"
#include "models/ets/ets_core.h"
#include "models/ets/ets_forecast.h"
#include "models/ets/holt_winters.h"
#include "models/model_base.h"

namespace almanac::models {
namespace {

using ets::Comp;
using ets::Form;
using ets::Smoothing;

enum class Ic { kAicc, kAic, kBic };

struct EtsOptions {
  char error = 'Z', trend = 'Z', season = 'Z';
  std::optional<bool> damped;
  bool model_given = false;  // false: R's default model (constant series get SES)
  ets::FitControl ctl;
  int period = 0;  // 0: the input's period
  bool additive_only = false;
  bool allow_multiplicative_trend = false;
  bool restrict = true;
  Ic ic = Ic::kAicc;
  int nsim = 5000;
  std::uint64_t seed = 42;
};

std::vector<ParamSpec> EtsParams(bool with_model) {
  std::vector<ParamSpec> p;
  if (with_model)
    p.push_back({"model", "string", "ZZZ",
                 "three letters error/trend/season (A, M, N; Z = choose), e.g. \"AAN\", \"MAdM\", \"ZZZ\"; a 'd' after "
                 "the trend letter means damped"});
  p.push_back({"damped", "bool", nullptr, "damped trend: true, false, or null (try both)"});
  p.push_back({"alpha", "number", nullptr, "fixed level smoothing parameter (null: estimate)"});
  p.push_back({"beta", "number", nullptr, "fixed trend smoothing parameter (null: estimate)"});
  p.push_back({"gamma", "number", nullptr, "fixed seasonal smoothing parameter (null: estimate)"});
  p.push_back({"phi", "number", nullptr, "fixed damping parameter (null: estimate)"});
  p.push_back({"period", "int", nullptr, "seasonal period override (null: from the series frequency)"});
  p.push_back({"additive_only", "bool", false, "consider only additive models"});
  p.push_back({"allow_multiplicative_trend", "bool", false, "also consider multiplicative trends (R's default: no)"});
  p.push_back({"restrict", "bool", true,
               "exclude R's unstable combinations (additive error with a multiplicative trend or season, "
               "multiplicative trend with additive season)"});
  p.push_back({"ic", "string", "aicc", "selection criterion: \"aicc\", \"aic\" or \"bic\""});
  p.push_back({"bounds", "string", "both", "parameter space: \"both\", \"usual\" or \"admissible\""});
  p.push_back({"nmse", "int", 3, "horizons averaged by opt_crit \"amse\" (1..30)"});
  p.push_back({"opt_crit", "string", "lik", "fit criterion: \"lik\", \"amse\", \"mse\", \"sigma\" or \"mae\""});
  p.push_back({"maxit", "int", 2000,
               "Nelder-Mead evaluation budget per candidate model (R's default 2000; more can find better optima "
               "than R for seasonal models that stop at the budget)"});
  p.push_back({"nsim", "int", 5000, "simulated paths for intervals of models without analytic variance"});
  p.push_back({"seed", "int", 42, "seed of the simulated paths"});
  return p;
}

bool ValidLetter(char c, bool error_slot) { return c == 'A' || c == 'M' || c == 'Z' || (!error_slot && c == 'N'); }

Result<EtsOptions> ParseOptions(const Json& params, bool is_auto) {
  EtsOptions o;
  std::string model = "ZZZ";
  if (!is_auto) {
    ALMANAC_ASSIGN_OR_RETURN(model, GetStringParam(params, "model", "ZZZ"));
    o.model_given = params.is_object() && params.contains("model") && !params["model"].is_null();
  }
  bool d_in_model = false;
  if (model.size() == 4 && model[2] == 'd') {
    d_in_model = true;
    model.erase(2, 1);
  }
  if (model.size() != 3 || !ValidLetter(model[0], true) || !ValidLetter(model[1], false) ||
      !ValidLetter(model[2], false))
    return InvalidArgumentError("ets model '" + model +
                                "' is not valid: use three letters error (A, M, Z), trend (N, A, M, Z) and season "
                                "(N, A, M, Z), optionally 'd' after the trend, e.g. \"MAdM\"");
  if (d_in_model && model[1] == 'N')
    return InvalidArgumentError("ets model with a damped trend needs trend A, M or Z, got 'Nd'");
  o.error = model[0];
  o.trend = model[1];
  o.season = model[2];
  if (params.is_object() && params.contains("damped") && !params["damped"].is_null()) {
    ALMANAC_ASSIGN_OR_RETURN(bool d, GetBoolParam(params, "damped", false));
    if (d_in_model && !d) return InvalidArgumentError("ets model has 'd' (damped) but damped is false");
    o.damped = d;
  } else if (d_in_model) {
    o.damped = true;
  }
  ALMANAC_ASSIGN_OR_RETURN(o.ctl.alpha, GetNumberParam(params, "alpha", kNaN));
  ALMANAC_ASSIGN_OR_RETURN(o.ctl.beta, GetNumberParam(params, "beta", kNaN));
  ALMANAC_ASSIGN_OR_RETURN(o.ctl.gamma, GetNumberParam(params, "gamma", kNaN));
  ALMANAC_ASSIGN_OR_RETURN(o.ctl.phi, GetNumberParam(params, "phi", kNaN));
  for (auto [name, v] :
       {std::pair{"alpha", o.ctl.alpha}, {"beta", o.ctl.beta}, {"gamma", o.ctl.gamma}, {"phi", o.ctl.phi}}) {
    if (!std::isnan(v) && (v < 0 || v > 1))
      return InvalidArgumentError(std::string("ets parameter ") + name + " = " + FormatDouble(v) +
                                  " is outside [0, 1]");
  }
  ALMANAC_ASSIGN_OR_RETURN(o.period, GetIntParam(params, "period", 0));
  if (params.is_object() && params.contains("period") && !params["period"].is_null() && o.period < 1)
    return InvalidArgumentError("ets period must be at least 1, got " + std::to_string(o.period));
  ALMANAC_ASSIGN_OR_RETURN(o.additive_only, GetBoolParam(params, "additive_only", false));
  ALMANAC_ASSIGN_OR_RETURN(o.allow_multiplicative_trend, GetBoolParam(params, "allow_multiplicative_trend", false));
  ALMANAC_ASSIGN_OR_RETURN(o.restrict, GetBoolParam(params, "restrict", true));
  ALMANAC_ASSIGN_OR_RETURN(std::string ic, GetStringParam(params, "ic", "aicc"));
  if (ic == "aicc")
    o.ic = Ic::kAicc;
  else if (ic == "aic")
    o.ic = Ic::kAic;
  else if (ic == "bic")
    o.ic = Ic::kBic;
  else
    return InvalidArgumentError("ets ic must be \"aicc\", \"aic\" or \"bic\", got \"" + ic + "\"");
  ALMANAC_ASSIGN_OR_RETURN(std::string bounds, GetStringParam(params, "bounds", "both"));
  if (bounds == "both")
    o.ctl.bounds = ets::Bounds::kBoth;
  else if (bounds == "usual")
    o.ctl.bounds = ets::Bounds::kUsual;
  else if (bounds == "admissible")
    o.ctl.bounds = ets::Bounds::kAdmissible;
  else
    return InvalidArgumentError("ets bounds must be \"both\", \"usual\" or \"admissible\", got \"" + bounds + "\"");
  ALMANAC_ASSIGN_OR_RETURN(o.ctl.nmse, GetIntParam(params, "nmse", 3));
  if (o.ctl.nmse < 1 || o.ctl.nmse > 30)
    return InvalidArgumentError("ets nmse must be in 1..30, got " + std::to_string(o.ctl.nmse));
  ALMANAC_ASSIGN_OR_RETURN(std::string crit, GetStringParam(params, "opt_crit", "lik"));
  if (crit == "lik")
    o.ctl.crit = ets::OptCrit::kLik;
  else if (crit == "amse")
    o.ctl.crit = ets::OptCrit::kAmse;
  else if (crit == "mse")
    o.ctl.crit = ets::OptCrit::kMse;
  else if (crit == "sigma")
    o.ctl.crit = ets::OptCrit::kSigma;
  else if (crit == "mae")
    o.ctl.crit = ets::OptCrit::kMae;
  else
    return InvalidArgumentError("ets opt_crit must be \"lik\", \"amse\", \"mse\", \"sigma\" or \"mae\", got \"" + crit +
                                "\"");
  ALMANAC_ASSIGN_OR_RETURN(o.ctl.max_evals, GetIntParam(params, "maxit", 2000));
  if (o.ctl.max_evals < 1 || o.ctl.max_evals > 10000000)
    return InvalidArgumentError("ets maxit must be in 1..10000000, got " + std::to_string(o.ctl.max_evals));
  ALMANAC_ASSIGN_OR_RETURN(o.nsim, GetIntParam(params, "nsim", 5000));
  if (o.nsim < 10 || o.nsim > 1000000)
    return InvalidArgumentError("ets nsim must be in 10..1000000, got " + std::to_string(o.nsim));
  ALMANAC_ASSIGN_OR_RETURN(int seed, GetIntParam(params, "seed", 42));
  o.seed = static_cast<std::uint64_t>(static_cast<std::int64_t>(seed));
  return o;
}

Comp ToComp(char c) { return c == 'A' ? Comp::kA : c == 'M' ? Comp::kM : Comp::kN; }

// R's na.contiguous(): the first longest stretch, where a stretch after a missing value is
// counted together with that missing value (so a later stretch wins a tie of observations).
std::pair<int, int> LongestStretch(std::span<const double> y) {
  const int n = static_cast<int>(y.size());
  int best_seg = -1, best_len = -1;
  int seg = 0, len = 0, seg_start = 0;
  std::vector<std::pair<int, int>> bounds;  // [first index, one past last] per segment
  for (int i = 0; i <= n; ++i) {
    if (i == n || std::isnan(y[i])) {
      bounds.push_back({seg_start, i});
      if (len > best_len) {
        best_len = len;
        best_seg = seg;
      }
      if (i == n) break;
      ++seg;
      len = 1;  // the missing value that opens the segment
      seg_start = i + 1;
    } else {
      ++len;
    }
  }
  return bounds[static_cast<size_t>(best_seg)];
}

// R's is.constant(): all.equal(x, rep(x[1], n)) with its default tolerance.
bool IsConstant(std::span<const double> y) {
  double sd = 0, sx = 0;
  int k = 0;
  for (double v : y) {
    if (v != y[0]) {
      sd += std::fabs(v - y[0]);
      sx += std::fabs(v);
      ++k;
    }
  }
  if (k == 0) return true;
  constexpr double kTol = 1.4901161193847656e-08;
  double xy = sd / k;
  const double xn = sx / k;
  if (std::isfinite(xn) && xn > kTol) xy /= xn;
  return !(xy > kTol);
}

class EtsForecaster : public ForecasterBase {
 public:
  EtsForecaster(ModelSpec spec, EtsOptions opts) : ForecasterBase(std::move(spec)), opts_(std::move(opts)) {}

  Status Fit(const FitInput& in) override;
  ModelDescription Describe() const override;
  std::vector<double> Fitted() const override;
  Status Load(const Json& s);

 protected:
  Result<Forecast> PredictFitted(int horizon, std::span<const double> levels) const override;
  Result<Json> SaveFitted() const override;

 private:
  Status FitSeries(std::span<const double> y, int m);
  // R's fallback when n <= parameters + 4 (the error type plays no part in it).
  Status FitShort(std::span<const double> y, int m, char t, char s);
  void TakeHoltWinters(const ets::HoltWintersFit& hw, std::span<const double> y);

  EtsOptions opts_;
  // The fitted model.
  Form form_;
  Smoothing par_;
  std::vector<double> x0_, last_state_;
  double sigma2_ = 0;
  double loglik_ = kNaN, aic_ = kNaN, aicc_ = kNaN, bic_ = kNaN;
  int nobs_ = 0;
  int offset_ = 0;     // observations after the fitted stretch (forecasts skip them)
  int fit_start_ = 0;  // index of the fitted stretch in the input
  int input_length_ = 0;
  std::vector<double> fitted_;  // one-step fits over the stretch
  std::vector<std::string> notes_;
};

Status EtsForecaster::Fit(const FitInput& in) {
  set_fitted(false);
  notes_.clear();
  loglik_ = aic_ = aicc_ = bic_ = kNaN;
  const int n_in = static_cast<int>(in.y.size());
  int nvalid = 0;
  for (double v : in.y) {
    if (std::isinf(v)) return InvalidArgumentError("ets: the series has an infinite value");
    nvalid += !std::isnan(v);
  }
  if (nvalid == 0) return InvalidArgumentError("ets: the series has no observations");
  const auto [first, last] = LongestStretch(in.y);
  if (last - first < n_in) {
    notes_.push_back("missing values: fitted the longest contiguous stretch, observations " +
                     std::to_string(first + 1) + ".." + std::to_string(last) + " of " + std::to_string(n_in) +
                     " (R's na.contiguous)" + (last < n_in ? "; forecasts start after the last input period" : ""));
  }
  fit_start_ = first;
  offset_ = n_in - last;
  input_length_ = n_in;
  const std::span<const double> y = in.y.subspan(static_cast<size_t>(first), static_cast<size_t>(last - first));
  const int m = opts_.period > 0 ? opts_.period : std::max(1, in.period);
  ALMANAC_RETURN_IF_ERROR(FitSeries(y, m));
  set_fitted(true);
  return Status::Ok();
}

void EtsForecaster::TakeHoltWinters(const ets::HoltWintersFit& hw, std::span<const double> y) {
  form_ = hw.form;
  par_ = hw.par;
  x0_ = hw.x0;
  last_state_ = hw.last_state;
  sigma2_ = hw.sigma2;
  fitted_ = hw.fitted;
  nobs_ = static_cast<int>(y.size());
}

Status EtsForecaster::FitShort(std::span<const double> y, int m, char t, char s) {
  const int n = static_cast<int>(y.size());
  if (opts_.damped.value_or(false)) notes_.push_back("not enough data to use damping");
  const std::string why =
      "too few observations (" + std::to_string(n) + ") to estimate the requested ETS model by maximum likelihood";
  ets::HoltWintersSpec base;
  base.alpha = opts_.ctl.alpha;
  base.beta = opts_.ctl.beta;
  base.gamma = opts_.ctl.gamma;
  base.phi = std::isnan(opts_.ctl.phi) ? 1.0 : opts_.ctl.phi;
  base.exponential = t == 'M';
  auto take = [&](const ets::HoltWintersFit& hw, const std::string& what) {
    TakeHoltWinters(hw, y);
    notes_.push_back(why + ": fitted " + what + " " + form_.Name() +
                     " by least squares (R's ets fallback HoltWintersZZ); no likelihood or information criteria");
    return Status::Ok();
  };
  if (s == 'A' || s == 'M') {
    ets::HoltWintersSpec sp = base;
    sp.trend = true;
    sp.season = ToComp(s);
    auto hw = ets::FitHoltWinters(y, m, sp);
    if (hw.ok()) return take(*hw, "seasonal Holt-Winters");
    notes_.push_back("seasonal component could not be estimated: " + hw.status().message());
  }
  if (t == 'A' || t == 'M') {
    ets::HoltWintersSpec sp = base;
    sp.trend = true;
    auto hw = ets::FitHoltWinters(y, m, sp);
    if (hw.ok()) return take(*hw, "Holt's linear method");
    notes_.push_back("trend component could not be estimated: " + hw.status().message());
  }
  if (t == 'N' && s == 'N') {
    ets::HoltWintersSpec sp = base;
    sp.phi = 1.0;
    sp.exponential = false;
    auto hw = ets::FitHoltWinters(y, m, sp);
    if (hw.ok()) return take(*hw, "simple exponential smoothing");
  }
  ets::HoltWintersSpec with_trend = base;
  with_trend.trend = true;
  ets::HoltWintersSpec no_trend = base;
  auto fit1 = ets::FitHoltWinters(y, m, with_trend);
  auto fit2 = ets::FitHoltWinters(y, m, no_trend);
  if (fit1.ok() && (!fit2.ok() || fit1->sigma2 < fit2->sigma2)) return take(*fit1, "Holt's linear method");
  if (fit2.ok()) return take(*fit2, "simple exponential smoothing");
  return InvalidArgumentError("ets: unable to estimate a model from " + std::to_string(n) +
                              " observations: " + fit2.status().message());
}

Status EtsForecaster::FitSeries(std::span<const double> y, int m) {
  const int n = static_cast<int>(y.size());
  // R fits simple exponential smoothing with alpha = 0.99999 to a constant series.
  if (IsConstant(y)) {
    ets::HoltWintersSpec sp;
    sp.alpha = 0.99999;
    auto hw = ets::FitHoltWinters(y, m, sp);
    if (!hw.ok()) return hw.status();
    TakeHoltWinters(*hw, y);
    notes_.push_back(
        "constant series: fitted simple exponential smoothing with alpha = 0.99999 and zero variance "
        "(as R's ets)" +
        std::string(opts_.model_given && (opts_.error != 'Z' || opts_.trend != 'Z' || opts_.season != 'Z')
                        ? "; the requested model was not used"
                        : ""));
    return Status::Ok();
  }
  char e = opts_.error, t = opts_.trend, s = opts_.season;
  if (m < 1 || n <= m) {
    if ((s == 'A' || s == 'M') && m > 1)
      notes_.push_back("only " + std::to_string(n) + " observations for period " + std::to_string(m) +
                       ": seasonal component dropped (as R)");
    s = 'N';
  }
  if (m == 1) {
    if (s == 'A' || s == 'M')
      return InvalidArgumentError(std::string("ets model with a seasonal component (") + s +
                                  ") needs seasonal data, but the period is 1 (non-seasonal data)");
    s = 'N';
  }
  if (m > 24) {
    if (s == 'A' || s == 'M')
      return InvalidArgumentError("ets: seasonal period " + std::to_string(m) +
                                  " is too high (at most 24); use a non-seasonal model");
    if (s == 'Z') {
      notes_.push_back("period " + std::to_string(m) + " > 24: seasonality ignored (as R)");
      s = 'N';
    }
  }
  if (opts_.restrict && ((e == 'A' && (t == 'M' || s == 'M')) || (e == 'M' && t == 'M' && s == 'A')))
    return InvalidArgumentError(std::string("ets: forbidden model combination ") + e + t + s +
                                " (R's restrictions: no additive error with a multiplicative trend or season, no "
                                "multiplicative trend with additive season; set restrict: false to allow it)");
  if (opts_.additive_only && (e == 'M' || t == 'M' || s == 'M'))
    return InvalidArgumentError(std::string("ets: forbidden model combination ") + e + t + s + " with additive_only");
  double ymin = y[0];
  for (double v : y) ymin = std::min(ymin, v);
  const bool positive = ymin > 0;
  // (With R's restrictions a multiplicative trend or season implies a multiplicative error.)
  if (!positive && (e == 'M' || t == 'M' || s == 'M'))
    return InvalidArgumentError(std::string("ets: multiplicative ") +
                                (e == 'M'   ? "error"
                                 : t == 'M' ? "trend"
                                            : "season") +
                                " needs strictly positive data, but the series has the value " + FormatDouble(ymin));
  if (opts_.damped.value_or(false) && t == 'N')
    return InvalidArgumentError("ets: a damped trend needs a trend (model trend is N)");

  int npars = 2;
  if (t == 'A' || t == 'M') npars += 2;
  if (s == 'A' || s == 'M') npars += m;
  if (opts_.damped.has_value()) npars += *opts_.damped ? 1 : 0;
  if (n <= npars + 4) return FitShort(y, m, t, s);

  std::vector<char> es = e == 'Z' ? std::vector<char>{'A', 'M'} : std::vector<char>{e};
  std::vector<char> ts =
      t == 'Z' ? (opts_.allow_multiplicative_trend ? std::vector<char>{'N', 'A', 'M'} : std::vector<char>{'N', 'A'})
               : std::vector<char>{t};
  std::vector<char> ss = s == 'Z' ? std::vector<char>{'N', 'A', 'M'} : std::vector<char>{s};
  std::vector<bool> ds = opts_.damped.has_value() ? std::vector<bool>{*opts_.damped} : std::vector<bool>{true, false};

  ets::NelderMeadWorkspace ws;
  std::optional<ets::FitResult> best;
  double best_ic = HUGE_VAL;
  std::string failures;
  int tried = 0;
  for (char ei : es)
    for (char ti : ts)
      for (char si : ss)
        for (bool di : ds) {
          if (ti == 'N' && di) continue;
          if (opts_.restrict) {
            if (ei == 'A' && (ti == 'M' || si == 'M')) continue;
            if (ei == 'M' && ti == 'M' && si == 'A') continue;
          }
          if (opts_.additive_only && (ei == 'M' || ti == 'M' || si == 'M')) continue;
          if (!positive && (ei == 'M' || ti == 'M' || si == 'M')) continue;
          Form f;
          f.error = ToComp(ei);
          f.trend = ToComp(ti);
          f.season = ToComp(si);
          f.damped = di;
          f.m = si != 'N' ? m : 1;
          ++tried;
          auto r = ets::FitForm(y, f, opts_.ctl, ws);
          if (!r.ok()) {
            if (failures.size() < 600) failures += (failures.empty() ? "" : "; ") + r.status().message();
            continue;
          }
          const double ic = opts_.ic == Ic::kAicc ? r->aicc : opts_.ic == Ic::kAic ? r->aic : r->bic;
          if (std::isnan(ic)) continue;
          if (ic < best_ic) {
            best_ic = ic;
            best = std::move(*r);
          }
        }
  if (!best.has_value() || best_ic == HUGE_VAL)
    return InvalidArgumentError(
        "ets: no model could be fitted to " + std::to_string(n) + " observations" +
        (tried == 0 ? std::string(" (no candidate model is allowed for these data)") : ": " + failures));
  ets::FitResult& fr = *best;
  form_ = fr.form;
  par_ = fr.par;
  x0_ = fr.x0;
  last_state_ = fr.last_state;
  loglik_ = fr.loglik;
  aic_ = fr.aic;
  aicc_ = fr.aicc;
  bic_ = fr.bic;
  nobs_ = n;
  double sse = 0;
  for (double v : fr.e) sse += v * v;
  sigma2_ = sse / (n - fr.n_par_sigma);
  fitted_.resize(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) fitted_[i] = form_.error == Comp::kA ? y[i] - fr.e[i] : y[i] / (1 + fr.e[i]);
  if (!std::isfinite(loglik_)) notes_.push_back("the fit is perfect or degenerate: the likelihood is not finite");
  return Status::Ok();
}

Result<Forecast> EtsForecaster::PredictFitted(int horizon, std::span<const double> levels) const {
  const int total = offset_ + horizon;
  Forecast f;
  f.notes = notes_;
  const ets::IntervalClass cls = ets::ClassOf(form_);
  std::vector<double> mean;
  std::vector<std::vector<double>> lower(levels.size()), upper(levels.size());
  if (cls != ets::IntervalClass::kSimulated) {
    ets::MeanVar mv = ets::AnalyticForecast(form_, par_, last_state_, sigma2_, total);
    mean = std::move(mv.mean);
    for (size_t k = 0; k < levels.size(); ++k) {
      const double z = IntervalZ(levels[k]);
      lower[k].resize(static_cast<size_t>(total));
      upper[k].resize(static_cast<size_t>(total));
      for (int h = 0; h < total; ++h) {
        // Rounding can leave a tiny negative variance when sigma2 is ~0.
        const double sd = std::sqrt(std::max(0.0, mv.var[h]));
        lower[k][h] = mean[h] - z * sd;
        upper[k][h] = mean[h] + z * sd;
      }
    }
  } else {
    mean = ets::PointForecast(form_, form_.damped ? par_.phi : 1.0, last_state_, total);
    if (form_.trend == Comp::kM && last_state_.size() > 1 && last_state_[1] < 0)
      return OutOfRangeError("ets: the multiplicative trend of " + form_.Name() +
                             " is negative; the forecast is undefined");
    std::vector<double> lv(levels.begin(), levels.end());
    ets::SimBounds sb = ets::SimulateBounds(form_, par_, last_state_, sigma2_, total, lv, opts_.nsim, opts_.seed);
    if (sb.dropped > 0)
      f.notes.push_back(std::to_string(sb.dropped) + " of " + std::to_string(opts_.nsim) +
                        " simulated paths had a negative multiplicative trend and were dropped");
    lower = std::move(sb.lower);
    upper = std::move(sb.upper);
  }
  f.mean.assign(mean.begin() + offset_, mean.end());
  for (int h = 0; h < horizon; ++h) {
    if (!std::isfinite(f.mean[h]))
      return OutOfRangeError("ets: the " + form_.Name() + " forecast is not finite from horizon " +
                             std::to_string(h + 1) + " on; request a shorter horizon");
  }
  for (size_t k = 0; k < levels.size(); ++k) {
    PredictionInterval iv{levels[k], {}, {}};
    iv.lower.assign(lower[k].begin() + offset_, lower[k].end());
    iv.upper.assign(upper[k].begin() + offset_, upper[k].end());
    for (int h = 0; h < horizon; ++h) {
      if (!std::isfinite(iv.lower[h]) || !std::isfinite(iv.upper[h]))
        return OutOfRangeError("ets: the " + FormatDouble(levels[k]) + "% interval of " + form_.Name() +
                               " is not finite from horizon " + std::to_string(h + 1) +
                               " on; request a shorter horizon");
    }
    f.intervals.push_back(std::move(iv));
  }
  if (offset_ > 0)
    f.notes.push_back("forecasts start " + std::to_string(offset_) +
                      " period(s) after the fitted data, at the first period after the input");
  return f;
}

ModelDescription EtsForecaster::Describe() const {
  ModelDescription d;
  d.type = spec().type;
  if (!is_fitted()) return d;
  d.method = form_.Name();
  d.params["alpha"] = par_.alpha;
  if (form_.trend != Comp::kN) d.params["beta"] = par_.beta;
  if (form_.season != Comp::kN) d.params["gamma"] = par_.gamma;
  if (form_.damped) d.params["phi"] = par_.phi;
  Json init = Json::object();
  init["l"] = x0_[0];
  const int soff = form_.trend != Comp::kN ? 2 : 1;
  if (form_.trend != Comp::kN) init["b"] = x0_[1];
  if (form_.season != Comp::kN)
    for (int j = 0; j < form_.m; ++j) init["s" + std::to_string(j + 1)] = x0_[soff + j];
  d.params["initial_states"] = init;
  d.params["period"] = form_.season != Comp::kN ? form_.m : 1;
  d.loglik = loglik_;
  d.aic = aic_;
  d.aicc = aicc_;
  d.bic = bic_;
  d.sigma2 = sigma2_;
  d.nobs = nobs_;
  d.notes = notes_;
  d.notes.push_back(std::string("prediction intervals: ") + ets::IntervalClassName(ets::ClassOf(form_)));
  return d;
}

std::vector<double> EtsForecaster::Fitted() const {
  std::vector<double> out(static_cast<size_t>(input_length_), kNaN);
  for (size_t i = 0; i < fitted_.size() && fit_start_ + i < out.size(); ++i) out[fit_start_ + i] = fitted_[i];
  return out;
}

Result<Json> EtsForecaster::SaveFitted() const {
  Json s = Json::object();
  s["form"] = form_.Code();
  s["m"] = form_.m;
  s["alpha"] = par_.alpha;
  s["beta"] = par_.beta;
  s["gamma"] = par_.gamma;
  s["phi"] = par_.phi;
  s["initial_state"] = x0_;
  s["last_state"] = last_state_;
  s["sigma2"] = sigma2_;
  s["loglik"] = FiniteOrNull(loglik_);
  s["aic"] = FiniteOrNull(aic_);
  s["aicc"] = FiniteOrNull(aicc_);
  s["bic"] = FiniteOrNull(bic_);
  s["nobs"] = nobs_;
  s["offset"] = offset_;
  s["fit_start"] = fit_start_;
  s["input_length"] = input_length_;
  Json fitted = Json::array();
  for (double v : fitted_) fitted.push_back(FiniteOrNull(v));
  s["fitted"] = std::move(fitted);
  s["notes"] = notes_;
  return s;
}

Status EtsForecaster::Load(const Json& s) {
  const std::string code = s.at("form").get<std::string>();
  std::string c = code;
  bool damped = false;
  if (c.size() == 4 && c[2] == 'd') {
    damped = true;
    c.erase(2, 1);
  }
  if (c.size() != 3 || (c[0] != 'A' && c[0] != 'M') || (c[1] != 'N' && c[1] != 'A' && c[1] != 'M') ||
      (c[2] != 'N' && c[2] != 'A' && c[2] != 'M'))
    return DataLossError("ets state has an invalid form '" + code + "'");
  form_.error = ToComp(c[0]);
  form_.trend = ToComp(c[1]);
  form_.season = ToComp(c[2]);
  form_.damped = damped;
  form_.m = s.at("m").get<int>();
  if (form_.m < 1 || form_.m > 10000 || (form_.season == Comp::kN && form_.m != 1))
    return DataLossError("ets state has an invalid period");
  par_.alpha = s.at("alpha").get<double>();
  par_.beta = s.at("beta").get<double>();
  par_.gamma = s.at("gamma").get<double>();
  par_.phi = s.at("phi").get<double>();
  x0_ = s.at("initial_state").get<std::vector<double>>();
  last_state_ = s.at("last_state").get<std::vector<double>>();
  sigma2_ = s.at("sigma2").get<double>();
  loglik_ = NumberOrNaN(s.at("loglik"));
  aic_ = NumberOrNaN(s.at("aic"));
  aicc_ = NumberOrNaN(s.at("aicc"));
  bic_ = NumberOrNaN(s.at("bic"));
  nobs_ = s.at("nobs").get<int>();
  offset_ = s.at("offset").get<int>();
  fit_start_ = s.at("fit_start").get<int>();
  input_length_ = s.at("input_length").get<int>();
  fitted_.clear();
  for (const auto& v : s.at("fitted")) fitted_.push_back(NumberOrNaN(v));
  notes_ = s.at("notes").get<std::vector<std::string>>();
  const size_t ns = static_cast<size_t>(form_.NumStates());
  if (x0_.size() != ns || last_state_.size() != ns || nobs_ < 1 || offset_ < 0 || fit_start_ < 0 ||
      fit_start_ + static_cast<int>(fitted_.size()) > input_length_ || !(sigma2_ >= 0))
    return DataLossError("inconsistent ets model state");
  set_fitted(true);
  return Status::Ok();
}

ModelType MakeEtsType(bool is_auto) {
  ModelType t;
  t.name = is_auto ? "auto_ets" : "ets";
  t.description = is_auto ? "exponential smoothing with automatic model selection by AICc (R: ets(y))"
                          : "exponential smoothing state-space model ETS(error, trend, season) (R: ets(y, model))";
  t.params = EtsParams(!is_auto);
  t.create = [is_auto](const ModelSpec& spec, const ForecasterRegistry&) -> Result<std::unique_ptr<Forecaster>> {
    ALMANAC_ASSIGN_OR_RETURN(EtsOptions o, ParseOptions(spec.params, is_auto));
    return std::unique_ptr<Forecaster>(std::make_unique<EtsForecaster>(spec, std::move(o)));
  };
  t.load = [is_auto](const ModelSpec& spec, const Json& state,
                     const ForecasterRegistry&) -> Result<std::unique_ptr<Forecaster>> {
    ALMANAC_ASSIGN_OR_RETURN(EtsOptions o, ParseOptions(spec.params, is_auto));
    auto m = std::make_unique<EtsForecaster>(spec, std::move(o));
    ALMANAC_RETURN_IF_ERROR(m->Load(state));
    return std::unique_ptr<Forecaster>(std::move(m));
  };
  return t;
}

}  // namespace

ModelType EtsModelType() { return MakeEtsType(false); }
ModelType AutoEtsModelType() { return MakeEtsType(true); }

}  // namespace almanac::models
