// ARIMAX: regression with ARIMA errors on top of the ARIMA fitter (models/arima), as a
// MultivariateForecaster. See arimax.h and src/models/var/README.md.
#include "models/arimax/arimax.h"

#include <algorithm>
#include <cmath>

#include "almanac/core/time_series.h"
#include "models/arima/arima_codec.h"
#include "models/arima/arima_fit.h"
#include "models/model_base.h"
#include "models/random.h"

namespace almanac::models::arimax {
namespace {

using arima::ArimaFit;
using arima::ArimaSpec;
using arima::Method;
using arima::Orders;

struct Settings {
  std::string target;  // empty: the first variable
  std::vector<int> order{0, 0, 0}, seasonal{0, 0, 0};
  std::optional<int> period;
  bool include_mean = true;
  bool include_drift = false;
  Method method = Method::kCssMl;
  int draws = 1000;
  std::uint64_t seed = 42;
};

Result<std::vector<int>> Triple(const Json& params, const char* name, std::vector<int> fallback) {
  if (!params.is_object() || !params.contains(name) || params[name].is_null()) return fallback;
  const Json& v = params[name];
  if (!v.is_array() || v.size() != 3)
    return InvalidArgumentError(std::string("parameter '") + name + "' must be [a, b, c]");
  std::vector<int> out;
  for (const auto& x : v) {
    const double d = x.is_number() ? x.get<double>() : -1;
    if (d != std::floor(d) || d < 0 || d > 20)
      return InvalidArgumentError(std::string("parameter '") + name + "' must hold integers in 0..20");
    out.push_back(static_cast<int>(d));
  }
  return out;
}

Result<Settings> Parse(const Json& params) {
  Settings s;
  ALMANAC_ASSIGN_OR_RETURN(s.target, GetStringParam(params, "target", ""));
  ALMANAC_ASSIGN_OR_RETURN(s.order, Triple(params, "order", {0, 0, 0}));
  ALMANAC_ASSIGN_OR_RETURN(s.seasonal, Triple(params, "seasonal", {0, 0, 0}));
  if (params.is_object() && params.contains("period") && !params["period"].is_null()) {
    ALMANAC_ASSIGN_OR_RETURN(int p, GetIntParam(params, "period", 1));
    if (p < 1) return InvalidArgumentError("parameter 'period' must be at least 1");
    s.period = p;
  }
  ALMANAC_ASSIGN_OR_RETURN(s.include_mean, GetBoolParam(params, "include_mean", true));
  ALMANAC_ASSIGN_OR_RETURN(s.include_drift, GetBoolParam(params, "include_drift", false));
  ALMANAC_ASSIGN_OR_RETURN(std::string method, GetStringParam(params, "method", "CSS-ML"));
  if (method == "CSS-ML")
    s.method = Method::kCssMl;
  else if (method == "ML")
    s.method = Method::kMl;
  else if (method == "CSS")
    s.method = Method::kCss;
  else
    return InvalidArgumentError("parameter 'method' must be \"CSS-ML\", \"ML\" or \"CSS\"");
  ALMANAC_ASSIGN_OR_RETURN(s.draws, GetIntParam(params, "draws", 1000));
  if (s.draws < 10 || s.draws > 1000000) return InvalidArgumentError("parameter 'draws' must be in 10..1000000");
  ALMANAC_ASSIGN_OR_RETURN(int seed, GetIntParam(params, "seed", 42));
  if (seed < 0) return InvalidArgumentError("parameter 'seed' must be non-negative");
  s.seed = static_cast<std::uint64_t>(seed);
  return s;
}

class ArimaxModel : public MultivariateBase {
 public:
  explicit ArimaxModel(ModelSpec spec) : MultivariateBase(std::move(spec)) {}

  Status Fit(const MultiInput& data) override {
    set_fitted(false);
    notes_.clear();
    ALMANAC_ASSIGN_OR_RETURN(Settings s, Parse(spec().params));
    settings_ = s;
    const int k = data.num_vars();
    if (k < 2) return InvalidArgumentError("arimax needs a target and at least one regressor (two or more variables)");
    if (static_cast<int>(data.values.size()) != k)
      return InvalidArgumentError("arimax: names and value columns differ");
    names_ = data.names;
    start_ = data.start;
    target_ = 0;
    if (!s.target.empty()) {
      auto it = std::find(names_.begin(), names_.end(), s.target);
      if (it == names_.end())
        return InvalidArgumentError("arimax: target '" + s.target + "' is not one of the variables");
      target_ = static_cast<int>(it - names_.begin());
    }
    const std::vector<double>& y = data.values[target_];
    const int n = static_cast<int>(y.size());
    for (int t = 0; t < n; ++t)
      if (std::isinf(y[t])) return InvalidArgumentError("arimax: the target has an infinite value");
    ArimaSpec spec;
    const int m = s.period ? *s.period : (data.start ? SeasonalPeriod(data.start->frequency()) : 1);
    spec.orders = Orders{s.order[0], s.order[1], s.order[2], s.seasonal[0], s.seasonal[1], s.seasonal[2], m};
    const Orders& o = spec.orders;
    if (m <= 1 && o.P + o.D + o.Q > 0)
      return InvalidArgumentError("arimax: a seasonal order needs a seasonal period above 1 (set 'period')");
    spec.include_mean = s.include_mean;
    spec.include_drift = s.include_drift;
    if (o.d + o.D > 1 && spec.include_drift) {
      notes_.push_back("no drift term fitted as the order of difference is 2 or more");
      spec.include_drift = false;
    }
    spec.method = s.method;
    for (int i = 0; i < k; ++i) {
      if (i == target_) continue;
      for (int t = 0; t < n; ++t)
        if (!std::isfinite(data.values[i][t]))
          return InvalidArgumentError("arimax: regressor " + names_[i] + " has a missing value at " +
                                      (data.start ? (*data.start + t).ToString() : "t=" + std::to_string(t + 1)) +
                                      " (regressors must be complete)");
      spec.xreg.push_back(data.values[i]);
      spec.xreg_names.push_back(names_[i]);
    }
    const int ncoef = o.narma() + (spec.include_mean && o.d + o.D == 0 ? 1 : 0) + (spec.include_drift ? 1 : 0) +
                      static_cast<int>(spec.xreg.size());
    int nvalid = 0;
    for (double v : y) nvalid += !std::isnan(v);
    if (nvalid - o.nd() <= ncoef)
      return InvalidArgumentError("arimax: too few observations: " + std::to_string(nvalid - o.nd()) +
                                  " usable after differencing for " + std::to_string(ncoef) + " coefficients");
    auto fit = arima::FitArima(y, spec);
    if (!fit.ok()) return Status(fit.status().code(), "arimax: " + fit.status().message());
    fit_ = std::move(*fit);
    for (const auto& note : fit_.notes) notes_.push_back(note);
    if (fit_.convergence != 0)
      notes_.push_back("possible convergence problem: the optimiser reached its iteration limit (R: optim code 1)");
    if (fit_.has_var && fit_.var_bad)
      notes_.push_back("some coefficient variances are negative: the likelihood is flat or the optimum is unreliable");
    if (!(fit_.sigma2 >= 0) || !std::isfinite(fit_.sigma2))
      return InvalidArgumentError("arimax: too few observations to estimate the innovation variance");
    n_ = n;
    set_fitted(true);
    return Status::Ok();
  }

  Result<MultiForecast> PredictFitted(const MultiPredictRequest& request) const override {
    const int horizon = request.horizon;
    const int k = static_cast<int>(names_.size());
    // Every regressor needs its full future path; the target cannot be conditioned.
    std::vector<std::vector<double>> future(static_cast<size_t>(k));
    for (const auto& c : request.conditions) {
      auto it = std::find(names_.begin(), names_.end(), c.variable);
      if (it == names_.end()) {
        std::string list;
        for (const auto& n : names_) list += (list.empty() ? "" : ", ") + n;
        return InvalidArgumentError("condition on unknown variable '" + c.variable +
                                    "' (the model's variables: " + list + ")");
      }
      const int i = static_cast<int>(it - names_.begin());
      if (i == target_)
        return InvalidArgumentError("arimax: the target " + names_[i] +
                                    " cannot be conditioned; give paths for the regressors");
      if (static_cast<int>(c.values.size()) != horizon)
        return InvalidArgumentError("the path for '" + c.variable + "' has " + std::to_string(c.values.size()) +
                                    " values but the horizon is " + std::to_string(horizon));
      future[i] = c.values;
    }
    std::vector<std::vector<double>> xreg;
    for (int i = 0; i < k; ++i) {
      if (i == target_) continue;
      bool complete = static_cast<int>(future[i].size()) == horizon;
      for (double v : future[i]) complete = complete && std::isfinite(v);
      if (!complete)
        return InvalidArgumentError("arimax needs the known future path of regressor " + names_[i] +
                                    ": give it as a condition with a value at every step 1.." +
                                    std::to_string(horizon));
      xreg.push_back(future[i]);
    }
    MultiForecast f;
    f.names = names_;
    if (start_) f.first_period = *start_ + n_;
    f.notes = notes_;
    std::vector<double> mean, se;
    arima::ForecastArima(fit_, horizon, mean, se, xreg);
    for (int h = 0; h < horizon; ++h)
      if (!std::isfinite(mean[h]) || !std::isfinite(se[h]))
        return InternalError("arimax: the forecast at horizon " + std::to_string(h + 1) + " is not finite");
    f.mean.assign(static_cast<size_t>(k), {});
    for (int i = 0; i < k; ++i) f.mean[i] = i == target_ ? mean : future[i];
    for (double level : request.levels) {
      const double z = IntervalZ(level);
      MultiInterval iv;
      iv.level = level;
      iv.lower = iv.upper = f.mean;
      for (int h = 0; h < horizon; ++h) {
        iv.lower[target_][h] -= z * se[h];
        iv.upper[target_][h] += z * se[h];
      }
      f.intervals.push_back(std::move(iv));
    }
    f.interval_method = "analytic: Gaussian, ARIMA error variance given the regressors' paths (R forecast.Arima)";
    if (request.keep_samples) {
      Rng rng(settings_.seed);
      f.samples.assign(static_cast<size_t>(k), std::vector<std::vector<double>>(static_cast<size_t>(horizon)));
      for (int i = 0; i < k; ++i)
        for (int h = 0; h < horizon; ++h) {
          auto& v = f.samples[i][h];
          for (int d = 0; d < settings_.draws; ++d)
            v.push_back(i == target_ ? mean[h] + se[h] * rng.Normal() : future[i][h]);
        }
    }
    return f;
  }

  Result<MultiDescription> DescribeFitted() const override {
    MultiDescription d;
    d.type = spec().type;
    d.method = fit_.Description();
    d.names = names_;
    d.lags = fit_.orders.p;
    d.nobs = fit_.n_used;
    d.regressors = fit_.coef_names;
    std::vector<double> se(fit_.coef.size(), kNaN);
    if (fit_.has_var) {
      size_t k = 0;
      const size_t nf = static_cast<size_t>(fit_.npar - 1);
      for (size_t i = 0; i < fit_.coef.size(); ++i) {
        if (!fit_.mask[i]) continue;
        se[i] = std::sqrt(fit_.var_coef[k * nf + k]);
        ++k;
      }
    }
    for (size_t i = 0; i < fit_.coef.size(); ++i) {
      d.coefficients.push_back({fit_.coef[i]});
      d.std_errors.push_back({se[i]});
    }
    d.sigma_u = {{fit_.sigma2}};
    d.loglik = fit_.loglik;
    d.aic = fit_.aic;
    d.bic = fit_.bic;
    d.hqic = d.fpe = kNaN;
    const Orders& o = fit_.orders;
    d.params = {{"target", names_[target_]},
                {"order", {o.p, o.d, o.q}},
                {"seasonal", {o.P, o.D, o.Q}},
                {"period", o.m},
                {"aicc", FiniteOrNull(fit_.aicc)},
                {"sigma2", FiniteOrNull(fit_.sigma2)},
                {"estimation", arima::MethodName(fit_.method)}};
    d.notes = notes_;
    return d;
  }

  Result<ImpulseResponse> ImpulseResponses(const IrfOptions&) const override {
    return UnimplementedError("impulse responses are defined for var and bvar, not arimax");
  }
  Result<VarianceDecomposition> Fevd(int) const override {
    return UnimplementedError("variance decompositions are defined for var and bvar, not arimax");
  }
  Result<CausalityTest> Granger(std::span<const std::string>, std::span<const std::string>) const override {
    return UnimplementedError("the Granger causality test is defined for var, not arimax");
  }

  Result<Json> SaveFitted() const override {
    Json s = Json::object();
    s["names"] = names_;
    s["target"] = target_;
    s["start"] = start_ ? Json(start_->ToString()) : Json(nullptr);
    s["start_frequency"] = start_ ? Json(std::string(FrequencyCode(start_->frequency()))) : Json(nullptr);
    s["n_input"] = n_;
    arima::EncodeArimaFit(fit_, s);
    s["notes"] = notes_;
    return s;
  }

  Status Load(const Json& s) {
    ALMANAC_ASSIGN_OR_RETURN(settings_, Parse(spec().params));
    names_ = s.at("names").get<std::vector<std::string>>();
    target_ = s.at("target").get<int>();
    start_.reset();
    if (!s.at("start").is_null()) {
      ALMANAC_ASSIGN_OR_RETURN(Frequency f, ParseFrequency(s.at("start_frequency").get<std::string>()));
      ALMANAC_ASSIGN_OR_RETURN(Period p, Period::Parse(s.at("start").get<std::string>(), f));
      start_ = p;
    }
    n_ = s.at("n_input").get<int>();
    ALMANAC_ASSIGN_OR_RETURN(ArimaFit f, arima::DecodeArimaFit(s, "arimax"));
    if (names_.size() < 2 || target_ < 0 || target_ >= static_cast<int>(names_.size()) ||
        f.num_xreg + 1 != static_cast<int>(names_.size()))
      return DataLossError("inconsistent arimax model state");
    notes_ = s.at("notes").get<std::vector<std::string>>();
    fit_ = std::move(f);
    set_fitted(true);
    return Status::Ok();
  }

 private:
  Settings settings_;
  std::vector<std::string> names_;
  std::optional<Period> start_;
  int target_ = 0;
  int n_ = 0;
  ArimaFit fit_;
  std::vector<std::string> notes_;
};

}  // namespace

std::unique_ptr<MultivariateForecaster> NewArimaxModel(const ModelSpec& spec) {
  return std::make_unique<ArimaxModel>(spec);
}

Result<std::unique_ptr<MultivariateForecaster>> LoadArimaxModel(const ModelSpec& spec, const Json& state) {
  auto m = std::make_unique<ArimaxModel>(spec);
  ALMANAC_RETURN_IF_ERROR(m->Load(state));
  return std::unique_ptr<MultivariateForecaster>(std::move(m));
}

Status CheckArimaxParams(const Json& params) { return Parse(params).status(); }

ModelType ArimaxModelType() {
  return MultivariateRow(
      "arimax", "regression with ARIMA errors on exogenous regressors with known future paths (R Arima(xreg=))",
      ModelKind::kExogenous, ArimaxParams(), NewArimaxModel, LoadArimaxModel, CheckArimaxParams);
}

std::vector<ParamSpec> ArimaxParams() {
  return {
      {"target", "string", nullptr, "the forecast variable (default: the first); every other variable is a regressor"},
      {"order", "list", Json::array({0, 0, 0}), "[p, d, q] of the ARIMA errors"},
      {"seasonal", "list", Json::array({0, 0, 0}), "[P, D, Q]"},
      {"period", "int", nullptr, "seasonal period (default: from the data's frequency)"},
      {"include_mean", "bool", true, "intercept when d + D = 0"},
      {"include_drift", "bool", false, "linear drift (when d + D <= 1)"},
      {"method", "string", "CSS-ML", "CSS-ML, ML or CSS"},
      {"draws", "int", 1000, "simulated values per step when samples are requested"},
      {"seed", "int", 42, "seed of those draws"},
  };
}

}  // namespace almanac::models::arimax
