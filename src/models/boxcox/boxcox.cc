#include "models/boxcox/boxcox.h"

#include <cmath>

#include "models/model_base.h"

namespace almanac::models {
namespace {

Json WithoutBoxCoxParams(const Json& params) {
  Json p = params.is_object() ? params : Json::object();
  p.erase("lambda");
  p.erase("biasadj");
  return p;
}

// Brent's minimisation on [a, b] (the algorithm of R's optimize(), tolerance as in R).
template <typename F>
double BrentMinimize(F f, double a, double b, double tol) {
  const double c = (3.0 - std::sqrt(5.0)) * 0.5;
  const double eps = std::sqrt(2.220446e-16);
  double v = a + c * (b - a), w = v, x = v, d = 0, e = 0;
  double fx = f(x), fv = fx, fw = fx;
  const double tol3 = tol / 3.0;
  for (;;) {
    const double xm = (a + b) * 0.5;
    const double tol1 = eps * std::fabs(x) + tol3;
    const double t2 = tol1 * 2;
    if (std::fabs(x - xm) <= t2 - (b - a) * 0.5) break;
    double p = 0, q = 0, r = 0;
    if (std::fabs(e) > tol1) {
      r = (x - w) * (fx - fv);
      q = (x - v) * (fx - fw);
      p = (x - v) * q - (x - w) * r;
      q = (q - r) * 2;
      if (q > 0) p = -p; else q = -q;
      r = e;
      e = d;
    }
    double u;
    if (std::fabs(p) >= std::fabs(q * 0.5 * r) || p <= q * (a - x) || p >= q * (b - x)) {
      e = x < xm ? b - x : a - x;
      d = c * e;
    } else {
      d = p / q;
      u = x + d;
      if (u - a < t2 || b - u < t2) d = x < xm ? tol1 : -tol1;
    }
    if (std::fabs(d) >= tol1) u = x + d;
    else if (d > 0) u = x + tol1;
    else u = x - tol1;
    const double fu = f(u);
    if (fu <= fx) {
      if (u < x) b = x; else a = x;
      v = w; w = x; x = u;
      fv = fw; fw = fx; fx = fu;
    } else {
      if (u < x) a = u; else b = u;
      if (fu <= fw || w == x) {
        v = w; fv = fw; w = u; fw = fu;
      } else if (fu <= fv || v == x || v == w) {
        v = u; fv = fu;
      }
    }
  }
  return x;
}

double MeanSd(const std::vector<double>& v, double* sd) {
  double s = 0;
  int n = 0;
  for (double x : v)
    if (!std::isnan(x)) { s += x; ++n; }
  const double m = n > 0 ? s / n : std::nan("");
  double ss = 0;
  for (double x : v)
    if (!std::isnan(x)) ss += (x - m) * (x - m);
  *sd = n > 1 ? std::sqrt(ss / (n - 1)) : std::nan("");
  return m;
}

class BoxCoxForecaster : public ForecasterBase {
 public:
  BoxCoxForecaster(ModelSpec spec, std::unique_ptr<Forecaster> inner, bool auto_lambda, double lambda, bool biasadj)
      : ForecasterBase(std::move(spec)),
        inner_(std::move(inner)),
        auto_(auto_lambda),
        lambda_(lambda),
        biasadj_(biasadj) {}

  Status Fit(const FitInput& input) override {
    if (auto_) {
      ALMANAC_ASSIGN_OR_RETURN(lambda_, GuerreroLambda(input.y, input.period));
    }
    for (double y : input.y) {
      if (!std::isnan(y) && y <= 0 && lambda_ <= 0)
        return InvalidArgumentError("Box-Cox with lambda " + FormatDouble(lambda_) +
                                    " needs strictly positive data; the series has a value " + FormatDouble(y));
    }
    transformed_.resize(input.y.size());
    for (size_t i = 0; i < input.y.size(); ++i) transformed_[i] = BoxCox(input.y[i], lambda_);
    set_fitted(true);
    return inner_->Fit(FitInput{transformed_, input.period});
  }

  Result<Forecast> PredictFitted(int horizon, std::span<const double> levels) const override {
    // The bias adjustment needs a forecast variance: take it from an 80% interval.
    std::vector<double> lv(levels.begin(), levels.end());
    const bool extra = biasadj_;
    if (extra) lv.push_back(80.0);
    ALMANAC_ASSIGN_OR_RETURN(Forecast f, inner_->Predict(horizon, lv));
    Forecast out;
    out.notes = f.notes;
    out.mean.resize(f.mean.size());
    for (size_t h = 0; h < f.mean.size(); ++h) {
      double m = InvBoxCox(f.mean[h], lambda_);
      if (biasadj_) {
        const auto& iv = f.intervals.back();
        const double sd = (iv.upper[h] - iv.lower[h]) / (2 * IntervalZ(80.0));
        const double xl = lambda_ * f.mean[h] + 1;
        m *= 1 + 0.5 * sd * sd * (1 - lambda_) / (lambda_ == 0 ? 1.0 : xl * xl);
      }
      out.mean[h] = m;
    }
    for (size_t k = 0; k < levels.size(); ++k) {
      PredictionInterval iv{levels[k], {}, {}};
      for (size_t h = 0; h < f.mean.size(); ++h) {
        iv.lower.push_back(InvBoxCox(f.intervals[k].lower[h], lambda_));
        iv.upper.push_back(InvBoxCox(f.intervals[k].upper[h], lambda_));
      }
      out.intervals.push_back(std::move(iv));
    }
    for (double v : out.mean)
      if (!std::isfinite(v))
        return OutOfRangeError("the Box-Cox back-transform (lambda " + FormatDouble(lambda_) +
                               ") is undefined for this forecast; try another lambda");
    return out;
  }

  ModelDescription Describe() const override {
    ModelDescription d = inner_->Describe();
    d.type = spec().type;
    d.params["lambda"] = lambda_;
    d.method = d.method + " with Box-Cox lambda=" + FormatFixed(lambda_, 4);
    return d;
  }

  std::vector<double> Fitted() const override {
    std::vector<double> f = inner_->Fitted();
    for (double& v : f) v = InvBoxCox(v, lambda_);
    return f;
  }

  Result<Json> SaveFitted() const override {
    ALMANAC_ASSIGN_OR_RETURN(Json inner, inner_->SaveState());
    return Json{{"lambda", lambda_}, {"inner", std::move(inner)}};
  }

  void MarkFitted() { set_fitted(true); }

 private:
  std::unique_ptr<Forecaster> inner_;
  bool auto_;
  double lambda_;
  bool biasadj_;
  std::vector<double> transformed_;
};

struct LambdaSpec {
  bool is_auto = false;
  double value = 0;
};

Result<LambdaSpec> ParseLambda(const Json& params) {
  const Json& l = params.at("lambda");
  if (l.is_string()) {
    if (l.get<std::string>() == "auto") return LambdaSpec{true, 0};
    return InvalidArgumentError("parameter 'lambda' must be a number, null or \"auto\"");
  }
  if (!l.is_number()) return InvalidArgumentError("parameter 'lambda' must be a number, null or \"auto\"");
  const double v = l.get<double>();
  if (!std::isfinite(v) || v < -5 || v > 5) return InvalidArgumentError("parameter 'lambda' must be in [-5, 5]");
  return LambdaSpec{false, v};
}

}  // namespace

bool BoxCoxRequested(const Json& params) {
  return params.is_object() && params.contains("lambda") && !params.at("lambda").is_null();
}

double BoxCox(double y, double lambda) {
  if (std::isnan(y)) return y;
  if (lambda == 0) return std::log(y);
  return (std::copysign(std::pow(std::fabs(y), lambda), y) - 1) / lambda;
}

double InvBoxCox(double x, double lambda) {
  if (std::isnan(x)) return x;
  if (lambda == 0) return std::exp(x);
  if (lambda < 0 && x >= -1 / lambda) return std::nan("");
  const double xx = x * lambda + 1;
  return std::copysign(std::pow(std::fabs(xx), 1 / lambda), xx);
}

Result<double> GuerreroLambda(std::span<const double> y, int period, double lower, double upper) {
  for (double v : y)
    if (!std::isnan(v) && v <= 0)
      return InvalidArgumentError("Guerrero's method (lambda \"auto\") needs strictly positive data");
  const int p = std::max(2, period);
  const int n = static_cast<int>(y.size());
  const int nyr = n / p;
  if (nyr < 2) return InvalidArgumentError("lambda \"auto\" needs at least two seasonal periods of data");
  const int start = n - nyr * p;
  std::vector<double> means(nyr), sds(nyr);
  for (int k = 0; k < nyr; ++k) {
    std::vector<double> block(y.begin() + start + k * p, y.begin() + start + (k + 1) * p);
    means[k] = MeanSd(block, &sds[k]);
  }
  auto cv = [&](double lam) {
    std::vector<double> rat(nyr);
    for (int k = 0; k < nyr; ++k) rat[k] = sds[k] / std::pow(means[k], 1 - lam);
    double sd;
    double m = MeanSd(rat, &sd);
    return sd / m;
  };
  return BrentMinimize(cv, lower, upper, 1.220703e-4);  // R optimize's default tolerance
}

Result<std::unique_ptr<Forecaster>> CreateBoxCox(const ModelSpec& spec, const ModelType& inner,
                                                 const ForecasterRegistry& registry) {
  ALMANAC_ASSIGN_OR_RETURN(LambdaSpec ls, ParseLambda(spec.params));
  ALMANAC_ASSIGN_OR_RETURN(bool biasadj, GetBoolParam(spec.params, "biasadj", false));
  ALMANAC_ASSIGN_OR_RETURN(auto model, inner.create(ModelSpec{spec.type, WithoutBoxCoxParams(spec.params)}, registry));
  return std::unique_ptr<Forecaster>(
      std::make_unique<BoxCoxForecaster>(spec, std::move(model), ls.is_auto, ls.value, biasadj));
}

Result<std::unique_ptr<Forecaster>> LoadBoxCox(const ModelSpec& spec, const Json& state, const ModelType& inner,
                                               const ForecasterRegistry& registry) {
  ALMANAC_ASSIGN_OR_RETURN(bool biasadj, GetBoolParam(spec.params, "biasadj", false));
  if (!state.is_object() || !state.contains("lambda") || !state["lambda"].is_number() || !state.contains("inner"))
    return DataLossError("Box-Cox model state lacks lambda or inner state");
  ALMANAC_ASSIGN_OR_RETURN(auto model, inner.load(ModelSpec{spec.type, WithoutBoxCoxParams(spec.params)}, state["inner"], registry));
  auto bc = std::make_unique<BoxCoxForecaster>(spec, std::move(model), false, state["lambda"].get<double>(), biasadj);
  bc->MarkFitted();
  return std::unique_ptr<Forecaster>(std::move(bc));
}

}  // namespace almanac::models
