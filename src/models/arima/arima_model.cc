// The arima and auto_arima forecasters: parameter handling, R forecast's Arima() rules for
// constants and drift, predictions with normal intervals, and the serialized state.
#include <cmath>
#include <limits>
#include <optional>

#include "almanac/core/json.h"
#include "almanac/core/time_series.h"
#include "models/arima/arima.h"
#include "models/arima/arima_codec.h"
#include "models/arima/arima_fit.h"
#include "models/arima/auto_arima.h"
#include "models/arima/unit_root_tests.h"
#include "models/model_base.h"

namespace almanac::models {
namespace {

using arima::ArimaFit;
using arima::ArimaSpec;
using arima::Method;
using arima::Orders;

Result<std::optional<std::vector<int>>> GetOrder(const Json& params, const std::string& name) {
  if (!params.is_object()) return std::optional<std::vector<int>>();
  auto it = params.find(name);
  if (it == params.end() || it->is_null()) return std::optional<std::vector<int>>();
  const std::string msg = "parameter '" + name + "' must be a list of three non-negative integers";
  if (!it->is_array() || it->size() != 3) return InvalidArgumentError(msg);
  std::vector<int> out;
  for (const auto& v : *it) {
    if (!v.is_number_integer() && !(v.is_number_float() && std::floor(v.get<double>()) == v.get<double>()))
      return InvalidArgumentError(msg);
    const double d = v.get<double>();
    if (d < 0 || d > 1000) return InvalidArgumentError(msg);
    out.push_back(static_cast<int>(d));
  }
  return std::optional<std::vector<int>>(out);
}

Result<std::optional<int>> GetOptionalInt(const Json& params, const std::string& name) {
  if (!params.is_object() || !params.contains(name) || params[name].is_null()) return std::optional<int>();
  ALMANAC_ASSIGN_OR_RETURN(int v, GetIntParam(params, name, 0));
  return std::optional<int>(v);
}

Result<std::optional<bool>> GetOptionalBool(const Json& params, const std::string& name) {
  if (!params.is_object() || !params.contains(name) || params[name].is_null()) return std::optional<bool>();
  ALMANAC_ASSIGN_OR_RETURN(bool v, GetBoolParam(params, name, false));
  return std::optional<bool>(v);
}

// The parameters of the `arima` type, parsed once at creation.
struct ArimaParams {
  std::vector<int> order = {0, 0, 0};
  std::vector<int> seasonal = {0, 0, 0};
  std::optional<int> period;
  bool include_mean = true;
  bool include_drift = false;
  std::optional<bool> include_constant;
  Method method = Method::kCssMl;
  std::vector<double> fixed;
};

Result<ArimaParams> ParseArimaParams(const Json& params) {
  ArimaParams out;
  ALMANAC_ASSIGN_OR_RETURN(auto order, GetOrder(params, "order"));
  if (order) out.order = *order;
  ALMANAC_ASSIGN_OR_RETURN(auto seasonal, GetOrder(params, "seasonal"));
  if (seasonal) out.seasonal = *seasonal;
  ALMANAC_ASSIGN_OR_RETURN(out.period, GetOptionalInt(params, "period"));
  if (out.period && *out.period < 1) return InvalidArgumentError("parameter 'period' must be at least 1");
  ALMANAC_ASSIGN_OR_RETURN(out.include_mean, GetBoolParam(params, "include_mean", true));
  ALMANAC_ASSIGN_OR_RETURN(out.include_drift, GetBoolParam(params, "include_drift", false));
  ALMANAC_ASSIGN_OR_RETURN(out.include_constant, GetOptionalBool(params, "include_constant"));
  ALMANAC_ASSIGN_OR_RETURN(std::string method, GetStringParam(params, "method", "CSS-ML"));
  if (method == "CSS-ML")
    out.method = Method::kCssMl;
  else if (method == "ML")
    out.method = Method::kMl;
  else if (method == "CSS")
    out.method = Method::kCss;
  else
    return InvalidArgumentError("parameter 'method' must be \"CSS-ML\", \"ML\" or \"CSS\", got \"" + method + "\"");
  if (params.is_object() && params.contains("fixed") && !params["fixed"].is_null()) {
    const Json& f = params["fixed"];
    if (!f.is_array()) return InvalidArgumentError("parameter 'fixed' must be a list of numbers or nulls");
    for (const auto& v : f) {
      if (v.is_null())
        out.fixed.push_back(kNaN);
      else if (v.is_number() && std::isfinite(v.get<double>()))
        out.fixed.push_back(v.get<double>());
      else
        return InvalidArgumentError("parameter 'fixed' must be a list of numbers or nulls");
    }
  }
  return out;
}

Result<arima::AutoArimaOptions> ParseAutoParams(const Json& params) {
  arima::AutoArimaOptions o;
  ALMANAC_ASSIGN_OR_RETURN(o.max_p, GetIntParam(params, "max_p", o.max_p));
  ALMANAC_ASSIGN_OR_RETURN(o.max_q, GetIntParam(params, "max_q", o.max_q));
  ALMANAC_ASSIGN_OR_RETURN(o.max_P, GetIntParam(params, "max_P", o.max_P));
  ALMANAC_ASSIGN_OR_RETURN(o.max_Q, GetIntParam(params, "max_Q", o.max_Q));
  ALMANAC_ASSIGN_OR_RETURN(o.max_order, GetIntParam(params, "max_order", o.max_order));
  ALMANAC_ASSIGN_OR_RETURN(o.max_d, GetIntParam(params, "max_d", o.max_d));
  ALMANAC_ASSIGN_OR_RETURN(o.max_D, GetIntParam(params, "max_D", o.max_D));
  ALMANAC_ASSIGN_OR_RETURN(o.d, GetOptionalInt(params, "d"));
  ALMANAC_ASSIGN_OR_RETURN(o.D, GetOptionalInt(params, "D"));
  ALMANAC_ASSIGN_OR_RETURN(o.stepwise, GetBoolParam(params, "stepwise", true));
  ALMANAC_ASSIGN_OR_RETURN(o.approximation, GetOptionalBool(params, "approximation"));
  ALMANAC_ASSIGN_OR_RETURN(o.seasonal, GetBoolParam(params, "seasonal", true));
  ALMANAC_ASSIGN_OR_RETURN(o.stationary, GetBoolParam(params, "stationary", false));
  ALMANAC_ASSIGN_OR_RETURN(o.allow_drift, GetBoolParam(params, "allow_drift", true));
  ALMANAC_ASSIGN_OR_RETURN(o.allow_mean, GetBoolParam(params, "allow_mean", true));
  ALMANAC_ASSIGN_OR_RETURN(o.ic, GetStringParam(params, "ic", "aicc"));
  if (o.ic != "aicc" && o.ic != "aic" && o.ic != "bic")
    return InvalidArgumentError("parameter 'ic' must be \"aicc\", \"aic\" or \"bic\", got \"" + o.ic + "\"");
  for (int v : {o.max_p, o.max_q, o.max_P, o.max_Q, o.max_order, o.max_d, o.max_D})
    if (v < 0) return InvalidArgumentError("auto_arima: the max_* parameters must be non-negative");
  if ((o.d && (*o.d < 0 || *o.d > 10)) || (o.D && (*o.D < 0 || *o.D > 10)))
    return InvalidArgumentError("auto_arima: d and D must be between 0 and 10");
  return o;
}

class ArimaForecaster : public ForecasterBase {
 public:
  ArimaForecaster(ModelSpec spec, bool automatic) : ForecasterBase(std::move(spec)), automatic_(automatic) {}

  Status Fit(const FitInput& in) override {
    set_fitted(false);
    notes_.clear();
    int nvalid = 0;
    for (size_t t = 0; t < in.y.size(); ++t) {
      if (std::isinf(in.y[t]))
        return InvalidArgumentError(spec().type + ": observation " + std::to_string(t + 1) + " is infinite");
      nvalid += !std::isnan(in.y[t]);
    }
    if (nvalid == 0) return InvalidArgumentError(spec().type + ": the series has no observations");
    Status st = automatic_ ? FitAuto(in) : FitFixed(in);
    if (!st.ok()) return st;
    if (!(fit_.sigma2 >= 0) || !std::isfinite(fit_.sigma2))
      return InvalidArgumentError(spec().type + ": " + fit_.Description() +
                                  ": too few observations to estimate the innovation variance");
    set_fitted(true);
    return Status::Ok();
  }

  Result<Forecast> PredictFitted(int horizon, std::span<const double> levels) const override {
    Forecast f;
    f.notes = notes_;
    std::vector<double> se;
    arima::ForecastArima(fit_, horizon, f.mean, se);
    for (double level : levels) {
      const double z = IntervalZ(level);
      PredictionInterval iv{level, {}, {}};
      for (int h = 0; h < horizon; ++h) {
        iv.lower.push_back(f.mean[h] - z * se[h]);
        iv.upper.push_back(f.mean[h] + z * se[h]);
      }
      f.intervals.push_back(std::move(iv));
    }
    for (int h = 0; h < horizon; ++h)
      if (!std::isfinite(f.mean[h]) || !std::isfinite(se[h]))
        return InternalError(spec().type + ": the forecast at horizon " + std::to_string(h + 1) +
                             " is not finite (numerically unstable model " + fit_.Description() + ")");
    return f;
  }

  ModelDescription Describe() const override {
    ModelDescription d;
    d.type = spec().type;
    d.notes = notes_;
    if (!is_fitted()) return d;
    d.method = fit_.Description();
    Json params = Json::object();
    for (size_t i = 0; i < fit_.coef.size(); ++i) params[fit_.coef_names[i]] = arima::EncodeNumber(fit_.coef[i]);
    if (fit_.has_var) {
      Json se = Json::object();
      size_t k = 0;
      const size_t nf = static_cast<size_t>(fit_.npar - 1);
      for (size_t i = 0; i < fit_.coef.size(); ++i) {
        if (!fit_.mask[i]) continue;
        se[fit_.coef_names[i]] = arima::EncodeNumber(std::sqrt(fit_.var_coef[k * nf + k]));
        ++k;
      }
      params["se"] = se;
    }
    const Orders& o = fit_.orders;
    params["order"] = {o.p, o.d, o.q};
    params["seasonal"] = {o.P, o.D, o.Q};
    params["period"] = o.m;
    params["estimation"] = arima::MethodName(fit_.method);
    d.params = params;
    d.loglik = fit_.loglik;
    d.aic = fit_.aic;
    d.aicc = fit_.aicc;
    d.bic = fit_.bic;
    d.sigma2 = fit_.sigma2;
    d.nobs = fit_.n_used;
    return d;
  }

  std::vector<double> Fitted() const override { return fitted_; }

  Result<Json> SaveFitted() const override {
    Json s = Json::object();
    arima::EncodeArimaFit(fit_, s);
    s["fitted"] = arima::EncodeNumbers(fitted_);
    s["notes"] = notes_;
    return s;
  }

  Status Load(const Json& s) {
    ALMANAC_ASSIGN_OR_RETURN(ArimaFit f, arima::DecodeArimaFit(s, spec().type));
    fitted_ = arima::DecodeNumbers(s.at("fitted"));
    notes_ = s.at("notes").get<std::vector<std::string>>();
    fit_ = std::move(f);
    set_fitted(true);
    return Status::Ok();
  }

 private:
  Status FitFixed(const FitInput& in) {
    ALMANAC_ASSIGN_OR_RETURN(ArimaParams p, ParseArimaParams(spec().params));
    const int n = static_cast<int>(in.y.size());
    const int m = p.period ? *p.period : std::max(1, in.period);
    ArimaSpec spec;
    spec.orders = Orders{p.order[0], p.order[1], p.order[2], p.seasonal[0], p.seasonal[1], p.seasonal[2], m};
    Orders& o = spec.orders;
    const std::string name = "arima ARIMA(" + std::to_string(o.p) + "," + std::to_string(o.d) + "," +
                             std::to_string(o.q) + ")";
    if (m <= 1 && o.P + o.D + o.Q > 0)
      return InvalidArgumentError(name + ": a seasonal order (" + std::to_string(o.P) + "," + std::to_string(o.D) +
                                  "," + std::to_string(o.Q) +
                                  ") needs a seasonal period above 1, but the series has period 1 (set 'period')");
    if (n <= o.nd()) return InvalidArgumentError(name + ": not enough data to fit the model (" + std::to_string(n) +
                                                 " observations for " + std::to_string(o.nd()) + " differences)");
    bool include_mean = p.include_mean, include_drift = p.include_drift;
    if (p.include_constant) {
      include_mean = *p.include_constant;
      include_drift = *p.include_constant && o.d + o.D == 1;
    }
    if (o.d + o.D > 1 && include_drift) {
      notes_.push_back("no drift term fitted as the order of difference is 2 or more");
      include_drift = false;
    }
    spec.include_mean = include_mean;
    spec.include_drift = include_drift;
    spec.method = p.method;
    spec.fixed = p.fixed;
    const int ncoef = o.narma() + (include_mean && o.d + o.D == 0 ? 1 : 0) + (include_drift ? 1 : 0);
    if (!spec.fixed.empty() && static_cast<int>(spec.fixed.size()) != ncoef)
      return InvalidArgumentError(name + ": 'fixed' has " + std::to_string(spec.fixed.size()) +
                                  " values but the model has " + std::to_string(ncoef) +
                                  " coefficients (ar, ma, sar, sma, intercept, drift in that order)");
    int nfree = ncoef;
    for (double v : spec.fixed) nfree -= !std::isnan(v);
    int nvalid = 0;
    for (double v : in.y) nvalid += !std::isnan(v);
    const int n_used = nvalid - o.nd();
    if (n_used <= nfree)
      return InvalidArgumentError(name + ": the series is too short for the model: " + std::to_string(n_used) +
                                  " usable observations after differencing for " + std::to_string(nfree) +
                                  " coefficients");
    if (nfree > 0 && arima::IsConstant(in.y))
      return InvalidArgumentError(name + ": the series is constant, so the coefficients cannot be estimated "
                                         "(use auto_arima, or fix the coefficients)");
    auto fit = arima::FitArima(in.y, spec);
    if (!fit.ok()) return Status(fit.status().code(), name + ": " + fit.status().message());
    fit_ = std::move(*fit);
    for (const auto& note : fit_.notes) notes_.push_back(note);
    if (fit_.convergence != 0)
      notes_.push_back("possible convergence problem: the optimiser reached its iteration limit (R: optim code 1)");
    if (fit_.has_var && fit_.var_bad)
      notes_.push_back("some coefficient variances are negative: the likelihood is flat or the optimum is unreliable");
    fitted_ = arima::FittedValues(in.y, fit_);
    return Status::Ok();
  }

  Status FitAuto(const FitInput& in) {
    ALMANAC_ASSIGN_OR_RETURN(arima::AutoArimaOptions opt, ParseAutoParams(spec().params));
    ALMANAC_ASSIGN_OR_RETURN(std::optional<int> period, GetOptionalInt(spec().params, "period"));
    if (period && *period < 1) return InvalidArgumentError("parameter 'period' must be at least 1");
    const int m = period ? *period : std::max(1, in.period);
    auto res = arima::AutoArima(in.y, m, opt);
    if (!res.ok()) return Status(res.status().code(), "auto_arima: " + res.status().message());
    fit_ = std::move(res->fit);
    notes_ = res->notes;
    std::vector<double> fitted = arima::FittedValues(in.y.subspan(static_cast<size_t>(res->offset)), fit_);
    fitted_.assign(static_cast<size_t>(res->offset), kNaN);
    fitted_.insert(fitted_.end(), fitted.begin(), fitted.end());
    return Status::Ok();
  }

  bool automatic_;
  ArimaFit fit_;
  std::vector<double> fitted_;
  std::vector<std::string> notes_;
};

ModelType MakeArimaType(bool automatic) {
  ModelType t;
  t.name = automatic ? "auto_arima" : "arima";
  if (automatic) {
    t.description =
        "automatic ARIMA/SARIMA order selection by the Hyndman-Khandakar stepwise search (R: auto.arima)";
    t.params = {
        {"max_p", "int", 5, "largest non-seasonal AR order"},
        {"max_q", "int", 5, "largest non-seasonal MA order"},
        {"max_P", "int", 2, "largest seasonal AR order"},
        {"max_Q", "int", 2, "largest seasonal MA order"},
        {"max_order", "int", 5, "largest p+q+P+Q (non-stepwise search only, as in R)"},
        {"max_d", "int", 2, "largest number of non-seasonal differences"},
        {"max_D", "int", 1, "largest number of seasonal differences"},
        {"d", "int", nullptr, "non-seasonal differences (null: KPSS tests)"},
        {"D", "int", nullptr, "seasonal differences (null: seasonal-strength test)"},
        {"stepwise", "bool", true, "stepwise search (false: all models up to max_order)"},
        {"approximation", "bool", nullptr, "CSS during the search (null: when n > 150 or period > 12)"},
        {"ic", "string", "aicc", "information criterion: aicc, aic or bic"},
        {"seasonal", "bool", true, "consider seasonal models"},
        {"stationary", "bool", false, "only stationary models (no differencing)"},
        {"allow_drift", "bool", true, "allow a drift term when d + D = 1"},
        {"allow_mean", "bool", true, "allow a non-zero mean when d + D = 0"},
        {"period", "int", nullptr, "seasonal period (null: the series' period)"},
    };
  } else {
    t.description = "ARIMA/SARIMA with given orders by exact maximum likelihood (R: Arima)";
    t.params = {
        {"order", "list", Json::array({0, 0, 0}), "[p, d, q]"},
        {"seasonal", "list", Json::array({0, 0, 0}), "[P, D, Q]"},
        {"period", "int", nullptr, "seasonal period (null: the series' period)"},
        {"include_mean", "bool", true, "estimate a mean when d + D = 0"},
        {"include_drift", "bool", false, "estimate a linear drift when d + D <= 1"},
        {"include_constant", "bool", nullptr, "R's shorthand: mean when d + D = 0, drift when d + D = 1"},
        {"method", "string", "CSS-ML", "CSS-ML, ML or CSS"},
        {"fixed", "list", nullptr, "fixed coefficients (null entries are estimated), R's order"},
    };
  }
  t.create = [automatic](const ModelSpec& spec, const ForecasterRegistry&) -> Result<std::unique_ptr<Forecaster>> {
    // Parse now so that bad parameters fail at creation, not at the first Fit.
    Status st = automatic ? ParseAutoParams(spec.params).status() : ParseArimaParams(spec.params).status();
    if (!st.ok()) return st;
    return std::unique_ptr<Forecaster>(std::make_unique<ArimaForecaster>(spec, automatic));
  };
  t.load = [automatic](const ModelSpec& spec, const Json& state,
                       const ForecasterRegistry&) -> Result<std::unique_ptr<Forecaster>> {
    auto m = std::make_unique<ArimaForecaster>(spec, automatic);
    ALMANAC_RETURN_IF_ERROR(m->Load(state));
    return std::unique_ptr<Forecaster>(std::move(m));
  };
  return t;
}

}  // namespace

ModelType ArimaModelType() { return MakeArimaType(false); }
ModelType AutoArimaModelType() { return MakeArimaType(true); }

}  // namespace almanac::models
