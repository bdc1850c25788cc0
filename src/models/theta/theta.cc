#include "models/theta/theta.h"

#include <cmath>
#include <string>
#include <vector>

#include "models/decompose/decompose.h"
#include "models/model_base.h"
#include "models/theta/ses.h"

namespace almanac::models {
namespace {

// thetaf() fits ets(model = "ANN"), which refuses series with no more observations than its
// two parameters (alpha, l0) plus two.
constexpr int kMinObservations = 4;

// The least-squares slope of y on 0..n-1 (R: lsfit(0:(n-1), y)$coefficients[2]).
double LinearSlope(std::span<const double> y) {
  const double n = static_cast<double>(y.size());
  const double tbar = (n - 1) / 2;
  double ybar = 0;
  for (double v : y) ybar += v;
  ybar /= n;
  double sty = 0, stt = 0;
  for (size_t t = 0; t < y.size(); ++t) {
    const double dt = static_cast<double>(t) - tbar;
    sty += dt * (y[t] - ybar);
    stt += dt * dt;
  }
  return stt > 0 ? sty / stt : 0.0;
}

Result<std::string> SeasonalMode(const Json& params) {
  ALMANAC_ASSIGN_OR_RETURN(std::string mode, GetStringParam(params, "seasonal", "auto"));
  if (mode != "auto" && mode != "multiplicative" && mode != "none")
    return InvalidArgumentError("parameter 'seasonal' must be \"auto\", \"multiplicative\" or \"none\", got \"" + mode +
                                "\"");
  return mode;
}

class ThetaForecaster : public ForecasterBase {
 public:
  ThetaForecaster(ModelSpec spec, std::string mode) : ForecasterBase(std::move(spec)), mode_(std::move(mode)) {}

  Status Fit(const FitInput& in) override {
    set_fitted(false);
    notes_.clear();
    if (in.period < 1)
      return InvalidArgumentError("theta: the seasonal period must be at least 1, got " + std::to_string(in.period));
    ALMANAC_ASSIGN_OR_RETURN(std::vector<double> y, FillMissing(in.y, "theta", &notes_));
    const int n = static_cast<int>(y.size());
    if (n < kMinObservations)
      return InvalidArgumentError("theta needs at least " + std::to_string(kMinObservations) + " observations, got " +
                                  std::to_string(n));
    // thetaf's rule: the seasonality test runs when n > 2m.
    ALMANAC_ASSIGN_OR_RETURN(SeasonalAdjustment adj,
                             AdjustSeasonality(y, in.period, mode_, 2 * in.period + 1, &notes_));
    period_ = adj.period;
    figure_ = adj.figure;
    seasonal_ = adj.seasonal;
    n_ = n;
    SesFit ses;
    if (IsConstant(adj.adjusted)) {
      // Every alpha fits a constant series exactly; take the last value and no drift.
      notes_.push_back("constant series: the forecast is the constant, with zero-width intervals");
      ses = RunSes(adj.adjusted, kSesAlphaUpper, adj.adjusted.front(), nullptr);
      ses.level = adj.adjusted.back();
      ses.sse = 0;
      drift_ = 0;
    } else {
      ses = FitSes(adj.adjusted);
      drift_ = LinearSlope(adj.adjusted) / 2;
    }
    alpha_ = std::max(1e-10, ses.alpha);
    l0_ = ses.l0;
    level_ = ses.level;
    // ets(): sigma^2 = SSE / (n - number of parameters), with alpha and l0 estimated.
    sigma2_ = ses.sse / (n - 2);
    fitted_.assign(in.y.size(), std::nan(""));
    std::vector<double> f;
    RunSes(adj.adjusted, ses.alpha, ses.l0, &f);
    const size_t offset = in.y.size() - y.size();
    for (int t = 0; t < n; ++t) fitted_[offset + t] = f[t] * adj.Index(t);
    if (!std::isfinite(level_) || !std::isfinite(sigma2_) || !std::isfinite(drift_))
      return InvalidArgumentError("theta: the fit is not finite (values too large?)");
    set_fitted(true);
    return Status::Ok();
  }

  Result<Forecast> PredictFitted(int horizon, std::span<const double> levels) const override {
    Forecast f;
    f.notes = notes_;
    const double a = alpha_;
    // thetaf: SES forecast + drift * ((h - 1) + (1 - (1 - alpha)^n) / alpha).
    const double start = (1 - std::pow(1 - a, n_)) / a;
    std::vector<double> se(static_cast<size_t>(horizon));
    for (int h = 1; h <= horizon; ++h) {
      const double mean = (level_ + drift_ * ((h - 1) + start)) * Index(n_ - 1 + h);
      f.mean.push_back(mean);
      se[h - 1] = std::sqrt(sigma2_ * (1 + (h - 1) * a * a));
    }
    for (double level : levels) {
      const double z = IntervalZ(level);
      PredictionInterval iv{level, {}, {}};
      for (int h = 0; h < horizon; ++h) {
        iv.lower.push_back(f.mean[h] - z * se[h]);
        iv.upper.push_back(f.mean[h] + z * se[h]);
      }
      f.intervals.push_back(std::move(iv));
    }
    for (double v : f.mean)
      if (!std::isfinite(v)) return OutOfRangeError("theta: the forecast overflows at this horizon");
    return f;
  }

  ModelDescription Describe() const override {
    ModelDescription d;
    d.type = spec().type;
    d.method = seasonal_ ? "Theta (multiplicative seasonal adjustment, m=" + std::to_string(period_) + ")" : "Theta";
    d.params = {{"alpha", alpha_}, {"drift", drift_}, {"l0", l0_}, {"level", level_}, {"seasonal", seasonal_}};
    if (seasonal_) d.params["seasonal_indices"] = figure_;
    d.sigma2 = sigma2_;
    d.nobs = n_;
    d.notes = notes_;
    return d;
  }

  std::vector<double> Fitted() const override { return fitted_; }

  Result<Json> SaveFitted() const override {
    return Json{{"alpha", alpha_},   {"l0", l0_},      {"level", level_},   {"drift", drift_},
                {"sigma2", sigma2_}, {"n", n_},        {"period", period_}, {"seasonal", seasonal_},
                {"figure", figure_}, {"notes", notes_}};
  }

  Status Load(const Json& s) {
    alpha_ = s.at("alpha").get<double>();
    l0_ = s.at("l0").get<double>();
    level_ = s.at("level").get<double>();
    drift_ = s.at("drift").get<double>();
    sigma2_ = s.at("sigma2").get<double>();
    n_ = s.at("n").get<int>();
    period_ = s.at("period").get<int>();
    seasonal_ = s.at("seasonal").get<bool>();
    figure_ = s.at("figure").get<std::vector<double>>();
    notes_ = s.at("notes").get<std::vector<std::string>>();
    if (!(alpha_ > 0 && alpha_ <= 1) || n_ < kMinObservations || period_ < 1 || !(sigma2_ >= 0) ||
        (seasonal_ && static_cast<int>(figure_.size()) != period_))
      return DataLossError("inconsistent theta model state");
    set_fitted(true);
    return Status::Ok();
  }

 private:
  double Index(long t) const { return seasonal_ ? figure_[static_cast<size_t>(t % period_)] : 1.0; }

  std::string mode_;
  double alpha_ = 0, l0_ = 0, level_ = 0, drift_ = 0, sigma2_ = 0;
  int n_ = 0, period_ = 1;
  bool seasonal_ = false;
  std::vector<double> figure_;
  std::vector<std::string> notes_;
  std::vector<double> fitted_;
};

// NAIVE2: the last seasonally adjusted value, reseasonalised.
class Naive2Forecaster : public ForecasterBase {
 public:
  Naive2Forecaster(ModelSpec spec, std::string mode) : ForecasterBase(std::move(spec)), mode_(std::move(mode)) {}

  Status Fit(const FitInput& in) override {
    set_fitted(false);
    notes_.clear();
    if (in.period < 1)
      return InvalidArgumentError("naive2: the seasonal period must be at least 1, got " + std::to_string(in.period));
    ALMANAC_ASSIGN_OR_RETURN(std::vector<double> y, FillMissing(in.y, "naive2", &notes_));
    const int n = static_cast<int>(y.size());
    // The M4 benchmarks' rule: test for seasonality only when n >= 3m.
    ALMANAC_ASSIGN_OR_RETURN(SeasonalAdjustment adj, AdjustSeasonality(y, in.period, mode_, 3 * in.period, &notes_));
    period_ = adj.period;
    figure_ = adj.figure;
    seasonal_ = adj.seasonal;
    n_ = n;
    last_ = adj.adjusted.back();
    // R naive(): sigma from the one-step residuals, sqrt(mean(e^2)).
    double ss = 0;
    for (int t = 1; t < n; ++t) ss += (adj.adjusted[t] - adj.adjusted[t - 1]) * (adj.adjusted[t] - adj.adjusted[t - 1]);
    sigma_ = n > 1 ? std::sqrt(ss / (n - 1)) : std::numeric_limits<double>::infinity();
    if (n == 1) notes_.push_back("one observation: the intervals are unbounded");
    fitted_.assign(in.y.size(), std::nan(""));
    const size_t offset = in.y.size() - y.size();
    for (int t = 1; t < n; ++t) fitted_[offset + t] = adj.adjusted[t - 1] * adj.Index(t);
    set_fitted(true);
    return Status::Ok();
  }

  Result<Forecast> PredictFitted(int horizon, std::span<const double> levels) const override {
    Forecast f;
    f.notes = notes_;
    for (int h = 1; h <= horizon; ++h) f.mean.push_back(last_ * Index(n_ - 1 + h));
    for (double level : levels) {
      const double z = IntervalZ(level);
      PredictionInterval iv{level, {}, {}};
      for (int h = 1; h <= horizon; ++h) {
        const double w = z * sigma_ * std::sqrt(static_cast<double>(h));
        const double s = Index(n_ - 1 + h);
        iv.lower.push_back((last_ - w) * s);
        iv.upper.push_back((last_ + w) * s);
      }
      f.intervals.push_back(std::move(iv));
    }
    return f;
  }

  ModelDescription Describe() const override {
    ModelDescription d;
    d.type = spec().type;
    d.method = seasonal_ ? "Naive2 (multiplicative seasonal adjustment, m=" + std::to_string(period_) + ")" : "Naive2";
    d.params = {{"last_adjusted", last_}, {"seasonal", seasonal_}};
    if (seasonal_) d.params["seasonal_indices"] = figure_;
    d.sigma2 = sigma_ * sigma_;
    d.nobs = n_;
    d.notes = notes_;
    return d;
  }

  std::vector<double> Fitted() const override { return fitted_; }

  Result<Json> SaveFitted() const override {
    // An infinite sigma (one observation) is stored as null: canonical JSON has no infinity.
    return Json{{"last", last_},
                {"sigma", FiniteOrNull(sigma_)},
                {"n", n_},
                {"period", period_},
                {"seasonal", seasonal_},
                {"figure", figure_},
                {"notes", notes_}};
  }

  Status Load(const Json& s) {
    last_ = s.at("last").get<double>();
    sigma_ = s.at("sigma").is_null() ? std::numeric_limits<double>::infinity() : s.at("sigma").get<double>();
    n_ = s.at("n").get<int>();
    period_ = s.at("period").get<int>();
    seasonal_ = s.at("seasonal").get<bool>();
    figure_ = s.at("figure").get<std::vector<double>>();
    notes_ = s.at("notes").get<std::vector<std::string>>();
    if (n_ < 1 || period_ < 1 || !(sigma_ >= 0) || (seasonal_ && static_cast<int>(figure_.size()) != period_))
      return DataLossError("inconsistent naive2 model state");
    set_fitted(true);
    return Status::Ok();
  }

 private:
  double Index(long t) const { return seasonal_ ? figure_[static_cast<size_t>(t % period_)] : 1.0; }

  std::string mode_;
  double last_ = 0, sigma_ = 0;
  int n_ = 0, period_ = 1;
  bool seasonal_ = false;
  std::vector<double> figure_;
  std::vector<std::string> notes_;
  std::vector<double> fitted_;
};

template <typename T>
ModelType MakeThetaType(std::string name, std::string description) {
  ModelType t;
  t.name = std::move(name);
  t.description = std::move(description);
  t.params = {{"seasonal", "string", "auto",
               "seasonal adjustment: \"auto\" (90% autocorrelation test at lag m), \"multiplicative\" (always) or "
               "\"none\""}};
  t.create = [](const ModelSpec& spec, const ForecasterRegistry&) -> Result<std::unique_ptr<Forecaster>> {
    ALMANAC_ASSIGN_OR_RETURN(std::string mode, SeasonalMode(spec.params));
    return std::unique_ptr<Forecaster>(std::make_unique<T>(spec, mode));
  };
  t.load = [](const ModelSpec& spec, const Json& state,
              const ForecasterRegistry&) -> Result<std::unique_ptr<Forecaster>> {
    ALMANAC_ASSIGN_OR_RETURN(std::string mode, SeasonalMode(spec.params));
    auto m = std::make_unique<T>(spec, mode);
    ALMANAC_RETURN_IF_ERROR(m->Load(state));
    return std::unique_ptr<Forecaster>(std::move(m));
  };
  return t;
}

}  // namespace

ModelType ThetaModelType() {
  return MakeThetaType<ThetaForecaster>(
      "theta", "Theta method: SES with drift of half the linear slope on seasonally adjusted data (R: thetaf)");
}

ModelType Naive2ModelType() {
  return MakeThetaType<Naive2Forecaster>("naive2",
                                    "M3 NAIVE2 benchmark: naive method on multiplicatively seasonally adjusted data");
}

}  // namespace almanac::models
