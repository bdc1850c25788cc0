#include "models/tbats/tbats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numbers>
#include <string>
#include <utility>

#include <Eigen/Dense>

#include "almanac/core/json.h"
#include "almanac/core/time_series.h"
#include "models/arima/auto_arima.h"
#include "models/boxcox/boxcox.h"
#include "models/ets/nelder_mead.h"
#include "models/model_base.h"
#include "models/tbats/small_eigen.h"

namespace almanac::models::tbats {

namespace {

constexpr double kTbatsInf = std::numeric_limits<double>::infinity();

std::string TbatsNum(double v) {
  // round(v, 3) as R prints it in the model name.
  const double r = std::round(v * 1000) / 1000;
  std::string s = FormatDouble(r);
  return s;
}

// The state-space system of one structure with one set of parameters: w'x, x <- F x + g e,
// written out component by component (F is block diagonal rotations plus a few rows, so a
// step costs O(states), not O(states²)).
class TbatsSystem {
 public:
  explicit TbatsSystem(const TbatsStructure& s) : s_(s) {
    n_states_ = s.NumStates();
    is_ = s.trend ? 2 : 1;
    id_ = is_ + s.Tau();
    ie_ = id_ + s.p;
    for (size_t i = 0; i < s.periods.size(); ++i)
      for (int j = 1; j <= s.k[i]; ++j) {
        const double lam = 2 * std::numbers::pi * j / s.periods[i];
        cos_.push_back(std::cos(lam));
        sin_.push_back(std::sin(lam));
        period_of_.push_back(static_cast<int>(i));
      }
  }

  void SetParams(const TbatsParams& p) { p_ = p; }
  int n_states() const { return n_states_; }

  double Predict(const double* x) const {
    double y = x[0];
    if (s_.trend) y += p_.phi * x[1];
    int pos = is_;
    for (size_t i = 0; i < s_.periods.size(); ++i) {
      for (int j = 0; j < s_.k[i]; ++j) y += x[pos + j];
      pos += 2 * s_.k[i];
    }
    return y + ArmaPart(x);
  }

  // x <- F x + g e.
  void Step(double* x, double e) const {
    const double dt = ArmaPart(x) + e;
    const double b = s_.trend ? x[1] : 0.0;
    x[0] = x[0] + p_.phi * b + p_.alpha * dt;
    if (s_.trend) x[1] = p_.phi * b + p_.beta * dt;
    int pos = is_;
    int h = 0;
    for (size_t i = 0; i < s_.periods.size(); ++i) {
      const int k = s_.k[i];
      const double g1 = p_.gamma1[i] * dt, g2 = p_.gamma2[i] * dt;
      for (int j = 0; j < k; ++j, ++h) {
        const double a = x[pos + j], c = x[pos + k + j];
        x[pos + j] = cos_[h] * a + sin_[h] * c + g1;
        x[pos + k + j] = -sin_[h] * a + cos_[h] * c + g2;
      }
      pos += 2 * k;
    }
    for (int k = s_.p - 1; k > 0; --k) x[id_ + k] = x[id_ + k - 1];
    if (s_.p > 0) x[id_] = dt;
    for (int k = s_.q - 1; k > 0; --k) x[ie_ + k] = x[ie_ + k - 1];
    if (s_.q > 0) x[ie_] = e;
  }

  // D = F - g w' (dense), whose eigenvalues decide admissibility; also w' as a row.
  Eigen::MatrixXd DMatrix(Eigen::RowVectorXd* w_out = nullptr) const {
    const int m = n_states_;
    Eigen::MatrixXd f(m, m);
    Eigen::RowVectorXd w(m);
    std::vector<double> x(static_cast<size_t>(m));
    for (int j = 0; j < m; ++j) {
      std::fill(x.begin(), x.end(), 0.0);
      x[j] = 1;
      w(j) = Predict(x.data());
      Step(x.data(), 0.0);
      for (int i = 0; i < m; ++i) f(i, j) = x[i];
    }
    std::fill(x.begin(), x.end(), 0.0);
    Step(x.data(), 1.0);
    Eigen::VectorXd g = Eigen::Map<Eigen::VectorXd>(x.data(), m);
    if (w_out) *w_out = w;
    return f - g * w;
  }

 private:
  double ArmaPart(const double* x) const {
    double d = 0;
    for (int k = 0; k < s_.p; ++k) d += p_.ar[k] * x[id_ + k];
    for (int k = 0; k < s_.q; ++k) d += p_.ma[k] * x[ie_ + k];
    return d;
  }

  const TbatsStructure& s_;
  TbatsParams p_;
  int n_states_ = 0, is_ = 1, id_ = 0, ie_ = 0;
  std::vector<double> cos_, sin_;
  std::vector<int> period_of_;
};

// True when every root of 1 + c_1 z + ... + c_p z^p lies outside 1.01 (R: min Mod(polyroot)
// >= 1.01), counting lags up to the last coefficient above 1e-8 in size.
bool TbatsRootsOutside(const std::vector<double>& c) {
  int p = 0;
  for (size_t i = 0; i < c.size(); ++i)
    if (std::fabs(c[i]) > 1e-8) p = static_cast<int>(i) + 1;
  if (p == 0) return true;
  // The reciprocal roots are the eigenvalues of the companion matrix of r^p + c_1 r^{p-1} + ...
  std::vector<double> comp(static_cast<size_t>(p * p), 0.0);
  for (int j = 0; j < p; ++j) comp[j] = -c[static_cast<size_t>(j)];
  for (int i = 1; i < p; ++i) comp[static_cast<size_t>(i * p + i - 1)] = 1;
  const auto ev = SmallEigenvalues(std::move(comp), p);
  if (!ev) return false;
  for (const auto& e : *ev)
    if (std::abs(e) * 1.01 > 1) return false;
  return true;
}

bool TbatsStable(const Eigen::MatrixXd& d) {
  const int m = static_cast<int>(d.rows());
  std::vector<double> a(static_cast<size_t>(m * m));
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < m; ++j) a[static_cast<size_t>(i * m + j)] = d(i, j);
  const auto ev = SmallEigenvalues(std::move(a), m);
  if (!ev) return false;
  for (const auto& e : *ev)
    if (!(std::abs(e) < 1.01)) return false;
  return true;
}

// R's parameter vector: (λ, α, φ, β, γ1 per period, γ2 per period, AR, MA), each present
// when the structure has it, and its parscale.
std::vector<double> TbatsPack(const TbatsStructure& s, const TbatsParams& p) {
  std::vector<double> v;
  if (s.box_cox) v.push_back(p.lambda);
  v.push_back(p.alpha);
  if (s.trend) {
    if (s.damped) v.push_back(p.phi);
    v.push_back(p.beta);
  }
  v.insert(v.end(), p.gamma1.begin(), p.gamma1.end());
  v.insert(v.end(), p.gamma2.begin(), p.gamma2.end());
  v.insert(v.end(), p.ar.begin(), p.ar.end());
  v.insert(v.end(), p.ma.begin(), p.ma.end());
  return v;
}

std::vector<double> TbatsParScale(const TbatsStructure& s) {
  std::vector<double> v;
  if (s.box_cox) v.push_back(0.001);
  v.push_back(0.01);
  if (s.trend) {
    if (s.damped) v.push_back(0.01);
    v.push_back(0.01);
  }
  v.insert(v.end(), 2 * s.periods.size(), 1e-5);
  v.insert(v.end(), static_cast<size_t>(s.p + s.q), 0.1);
  return v;
}

TbatsParams TbatsUnpack(const TbatsStructure& s, const double* v) {
  TbatsParams p;
  size_t i = 0;
  if (s.box_cox) p.lambda = v[i++];
  p.alpha = v[i++];
  p.phi = 1;
  if (s.trend) {
    if (s.damped) p.phi = v[i++];
    p.beta = v[i++];
  }
  const size_t np = s.periods.size();
  p.gamma1.assign(v + i, v + i + np);
  i += np;
  p.gamma2.assign(v + i, v + i + np);
  i += np;
  p.ar.assign(v + i, v + i + s.p);
  i += static_cast<size_t>(s.p);
  p.ma.assign(v + i, v + i + s.q);
  return p;
}

Status TbatsCheckSizes(const TbatsStructure& s) {
  if (s.k.size() != s.periods.size())
    return InvalidArgumentError("tbats: " + std::to_string(s.k.size()) + " harmonic counts for " +
                                std::to_string(s.periods.size()) + " periods");
  for (size_t i = 0; i < s.periods.size(); ++i) {
    if (!(s.periods[i] > 1)) return InvalidArgumentError("tbats: seasonal periods must be above 1");
    if (s.k[i] < 1) return InvalidArgumentError("tbats: every period needs at least one harmonic");
  }
  if (s.p < 0 || s.q < 0) return InvalidArgumentError("tbats: negative ARMA order");
  if (s.damped && !s.trend) return InvalidArgumentError("tbats: a damped model needs a trend");
  return Status::Ok();
}

struct TbatsRun {
  std::vector<double> yhat, e, state;
  double sse = 0;
};

// One pass of the filter from x0 over the (transformed) series.
TbatsRun TbatsFilter(const TbatsSystem& sys, std::span<const double> yt, std::span<const double> x0) {
  TbatsRun r;
  r.state.assign(x0.begin(), x0.end());
  r.yhat.resize(yt.size());
  r.e.resize(yt.size());
  for (size_t t = 0; t < yt.size(); ++t) {
    const double yh = sys.Predict(r.state.data());
    const double e = yt[t] - yh;
    r.yhat[t] = yh;
    r.e[t] = e;
    r.sse += e * e;
    sys.Step(r.state.data(), e);
  }
  return r;
}

int TbatsNumParams(const TbatsStructure& s) {
  return (s.box_cox ? 1 : 0) + 1 + (s.trend ? 1 : 0) + (s.damped ? 1 : 0) + 2 * static_cast<int>(s.periods.size()) +
         s.p + s.q;
}

}  // namespace

int TbatsStructure::Tau() const {
  int t = 0;
  for (int kk : k) t += 2 * kk;
  return t;
}

int TbatsStructure::NumStates() const { return 1 + (trend ? 1 : 0) + Tau() + p + q; }

std::string TbatsStructure::Name(double lambda, double phi) const {
  std::string s = "TBATS(" + (box_cox ? TbatsNum(lambda) : std::string("1")) + ", {" + std::to_string(p) + "," +
                  std::to_string(q) + "}, " + (trend ? TbatsNum(phi) : std::string("-")) + ", ";
  if (periods.empty()) return s + "-)";
  s += "{";
  for (size_t i = 0; i < periods.size(); ++i)
    s += (i ? ", <" : "<") + FormatDouble(periods[i]) + "," + std::to_string(k[i]) + ">";
  return s + "})";
}

Result<TbatsFit> EvaluateTbats(std::span<const double> y, const TbatsStructure& s, const TbatsParams& params,
                               std::span<const double> seed) {
  ALMANAC_RETURN_IF_ERROR(TbatsCheckSizes(s));
  if (static_cast<int>(seed.size()) != s.NumStates())
    return InvalidArgumentError("tbats: " + std::to_string(seed.size()) + " seed states for a model with " +
                                std::to_string(s.NumStates()));
  if (params.gamma1.size() != s.periods.size() || params.gamma2.size() != s.periods.size() ||
      static_cast<int>(params.ar.size()) != s.p || static_cast<int>(params.ma.size()) != s.q)
    return InvalidArgumentError("tbats: the parameters do not match the model structure");
  std::vector<double> yt(y.begin(), y.end());
  double sum_log = 0;
  if (s.box_cox) {
    for (double& v : yt) {
      if (!(v > 0)) return InvalidArgumentError("tbats: Box-Cox needs positive data");
      sum_log += std::log(v);
      v = BoxCox(v, params.lambda);
    }
  }
  TbatsSystem sys(s);
  sys.SetParams(params);
  TbatsRun run = TbatsFilter(sys, yt, seed);
  TbatsFit fit;
  fit.structure = s;
  fit.params = params;
  if (!s.trend) fit.params.phi = 1;
  fit.seed.assign(seed.begin(), seed.end());
  fit.state = run.state;
  fit.errors = run.e;
  const double n = static_cast<double>(y.size());
  fit.variance = run.sse / n;
  fit.fitted = run.yhat;
  if (s.box_cox)
    for (double& v : fit.fitted) v = InvBoxCox(v, params.lambda);
  fit.likelihood = n * std::log(run.sse) - (s.box_cox ? 2 * (params.lambda - 1) * sum_log : 0.0);
  fit.npar = TbatsNumParams(s);
  fit.aic = fit.likelihood + 2 * (fit.npar + s.NumStates());
  return fit;
}

Result<TbatsFit> FitTbatsStructure(std::span<const double> y, const TbatsStructure& s, double init_lambda,
                                   double bc_lower, double bc_upper) {
  ALMANAC_RETURN_IF_ERROR(TbatsCheckSizes(s));
  const int n = static_cast<int>(y.size());
  TbatsParams p0;
  p0.alpha = 0.09;
  if (s.trend) {
    p0.beta = 0.05;
    p0.phi = s.damped ? 0.999 : 1.0;
  }
  p0.gamma1.assign(s.periods.size(), 0.0);
  p0.gamma2.assign(s.periods.size(), 0.0);
  p0.ar.assign(static_cast<size_t>(s.p), 0.0);
  p0.ma.assign(static_cast<size_t>(s.q), 0.0);
  std::vector<double> yt(y.begin(), y.end());
  double sum_log = 0;
  if (s.box_cox) {
    p0.lambda = init_lambda;
    for (double& v : yt) {
      if (!(v > 0)) return InvalidArgumentError("tbats: Box-Cox needs positive data");
      sum_log += std::log(v);
      v = BoxCox(v, init_lambda);
    }
  }
  // Seed states: regress the errors of a zero-seed pass on w̃_t = w'D^{t-1} (ARMA states left
  // at zero), at the starting parameters.
  TbatsSystem sys(s);
  sys.SetParams(p0);
  const int m = sys.n_states();
  std::vector<double> zeros(static_cast<size_t>(m), 0.0);
  const TbatsRun zero_run = TbatsFilter(sys, yt, zeros);
  Eigen::RowVectorXd w;
  const Eigen::MatrixXd d = sys.DMatrix(&w);
  const int m_reg = m - s.p - s.q;
  Eigen::MatrixXd wt(n, m_reg);
  Eigen::RowVectorXd row = w;
  for (int t = 0; t < n; ++t) {
    wt.row(t) = row.head(m_reg);
    row = row * d;
  }
  Eigen::VectorXd yv = Eigen::Map<const Eigen::VectorXd>(zero_run.e.data(), n);
  Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(wt);
  qr.setThreshold(1e-7);
  if (qr.rank() < m_reg)
    return FailedPreconditionError("tbats: the seed-state regression of " + s.Name(p0.lambda, p0.phi) +
                                   " is rank deficient");
  const Eigen::VectorXd x0_reg = qr.solve(yv);
  std::vector<double> x0(static_cast<size_t>(m), 0.0);
  for (int i = 0; i < m_reg; ++i) x0[i] = x0_reg(i);
  std::vector<double> x0_untransformed = x0;
  if (s.box_cox)
    for (double& v : x0_untransformed) v = InvBoxCox(v, init_lambda);

  const std::vector<double> scale = TbatsParScale(s);
  const std::vector<double> start = TbatsPack(s, p0);
  const size_t np = start.size();
  std::vector<double> u0(np), par(np), x0_now = x0, yt_now = yt;
  for (size_t i = 0; i < np; ++i) u0[i] = start[i] / scale[i];
  const double dn = n;
  auto objective = [&](const double* u) -> double {
    for (size_t i = 0; i < np; ++i) par[i] = u[i] * scale[i];
    const TbatsParams p = TbatsUnpack(s, par.data());
    if (s.box_cox && (p.lambda <= bc_lower || p.lambda >= bc_upper)) return kTbatsInf;
    if (s.trend && (p.phi < 0.8 || p.phi > 1)) return kTbatsInf;
    std::vector<double> neg_ar(p.ar.size());
    for (size_t i = 0; i < p.ar.size(); ++i) neg_ar[i] = -p.ar[i];
    if (!TbatsRootsOutside(neg_ar) || !TbatsRootsOutside(p.ma)) return kTbatsInf;
    if (s.box_cox) {
      for (size_t i = 0; i < x0_now.size(); ++i) x0_now[i] = BoxCox(x0_untransformed[i], p.lambda);
      for (int t = 0; t < n; ++t) yt_now[t] = BoxCox(y[t], p.lambda);
    }
    sys.SetParams(p);
    const TbatsRun r = TbatsFilter(sys, yt_now, x0_now);
    const double lik = dn * std::log(r.sse) - (s.box_cox ? 2 * (p.lambda - 1) * sum_log : 0.0);
    if (std::isnan(lik)) return kTbatsInf;
    if (!TbatsStable(sys.DMatrix())) return kTbatsInf;
    return lik;
  };
  ets::NelderMeadOptions opt;
  opt.max_evals = static_cast<int>(100 * np * np);
  ets::NelderMeadWorkspace ws;
  const ets::NelderMeadResult res = ets::NelderMead(objective, u0, opt, ws);
  if (res.fail == -1)
    return FailedPreconditionError("tbats: " + s.Name(p0.lambda, p0.phi) +
                                   " cannot be evaluated at its starting parameters");
  for (size_t i = 0; i < np; ++i) par[i] = res.x[i] * scale[i];
  const TbatsParams best = TbatsUnpack(s, par.data());
  std::vector<double> seed = x0;
  if (s.box_cox)
    for (size_t i = 0; i < seed.size(); ++i) seed[i] = BoxCox(x0_untransformed[i], best.lambda);
  ALMANAC_ASSIGN_OR_RETURN(TbatsFit fit, EvaluateTbats(y, s, best, seed));
  fit.likelihood = res.value;  // R reports optim's value
  fit.aic = fit.likelihood + 2 * (fit.npar + s.NumStates());
  fit.optim_code = res.fail;
  return fit;
}

namespace {

// R's try(): a failed fit becomes a model with an infinite AIC.
TbatsFit TbatsTry(std::span<const double> y, const TbatsStructure& s, double init_lambda, const TbatsOptions& o) {
  auto r = FitTbatsStructure(y, s, init_lambda, o.bc_lower, o.bc_upper);
  if (r.ok() && std::isfinite(r->aic)) return *std::move(r);
  TbatsFit failed;
  failed.structure = s;
  return failed;
}

// filterTBATSSpecifics: the model, then ARMA errors of the orders auto ARIMA finds in its
// residuals (d = 0), kept when the AIC is lower (or always, when forced).
TbatsFit TbatsWithArma(std::span<const double> y, TbatsFit first, double init_lambda, const TbatsOptions& o) {
  if (o.use_arma_errors == false || !std::isfinite(first.aic)) return first;
  arima::AutoArimaOptions ao;
  ao.d = 0;
  auto arma = arima::AutoArima(first.errors, 1, ao);
  if (!arma.ok()) return first;
  const int p = arma->fit.orders.p, q = arma->fit.orders.q;
  if (p == 0 && q == 0) return first;
  TbatsStructure s = first.structure;
  s.p = p;
  s.q = q;
  TbatsFit second = TbatsTry(y, s, init_lambda, o);
  if (o.use_arma_errors == true && std::isfinite(second.aic)) return second;
  return second.aic < first.aic ? second : first;
}

std::vector<bool> TbatsChoices(const std::optional<bool>& v) {
  if (v.has_value()) return {*v};
  return {false, true};
}

// R's BoxCox.lambda(y, lower, upper) on a series of frequency `freq`: 1 when the series has no
// more than two cycles, else Guerrero's method.
double TbatsInitLambda(std::span<const double> y, int freq, double lower, double upper) {
  if (static_cast<double>(y.size()) <= 2.0 * freq) return 1;
  auto l = GuerreroLambda(y, freq, lower, upper);
  return l.ok() ? *l : 1.0;
}

// bats() on the series without seasonal periods: every Box-Cox/trend/damping combination,
// each with its ARMA step, the lowest AIC.
TbatsFit TbatsNonSeasonal(std::span<const double> y, const TbatsOptions& o, const std::vector<bool>& box,
                          const std::vector<bool>& trend, const std::vector<bool>& damped) {
  const bool any_box = std::find(box.begin(), box.end(), true) != box.end();
  const double init_lambda = any_box ? TbatsInitLambda(y, 1, o.bc_lower, o.bc_upper) : 1.0;
  TbatsFit best;
  for (bool b : box)
    for (bool t : trend)
      for (bool d : damped) {
        if (!t && d) continue;
        TbatsStructure s;
        s.box_cox = b;
        s.trend = t;
        s.damped = d;
        TbatsFit m = TbatsWithArma(y, TbatsTry(y, s, init_lambda, o), init_lambda, o);
        if (m.aic < best.aic) best = std::move(m);
      }
  return best;
}

}  // namespace

Result<TbatsFit> AutoTbats(std::span<const double> y, const TbatsOptions& options, std::vector<std::string>* notes) {
  const int n = static_cast<int>(y.size());
  for (double v : y)
    if (!std::isfinite(v)) return InvalidArgumentError("tbats: the series has a missing or infinite value");
  TbatsOptions o = options;
  std::vector<double> periods = o.periods;
  if (periods.empty()) return InvalidArgumentError("tbats: at least one seasonal period is needed");
  for (double p : periods)
    if (!(p > 1) || !std::isfinite(p))
      return InvalidArgumentError("tbats: seasonal periods must be above 1, got " + FormatDouble(p));
  std::sort(periods.begin(), periods.end());
  periods.erase(std::unique(periods.begin(), periods.end()), periods.end());
  if (n < 8) return InvalidArgumentError("tbats: the series has " + std::to_string(n) + " values; at least 8 are needed");
  if (2 * periods.back() >= n)
    return InvalidArgumentError("tbats: seasonal period " + FormatDouble(periods.back()) +
                                " needs more than two cycles of data; the series has " + std::to_string(n) +
                                " values");
  if (!(o.bc_lower < o.bc_upper)) return InvalidArgumentError("tbats: the Box-Cox bounds are empty");
  if (std::all_of(y.begin(), y.end(), [&](double v) { return v == y[0]; }))
    return InvalidArgumentError("tbats: the series is constant");
  const bool positive = std::all_of(y.begin(), y.end(), [](double v) { return v > 0; });
  if (!positive) {
    if (o.use_box_cox == true)
      return InvalidArgumentError("tbats: use_box_cox needs positive data; the series has a value <= 0");
    o.use_box_cox = false;
  }
  if (o.use_trend == false) o.use_damped_trend = false;
  const std::vector<bool> box = TbatsChoices(o.use_box_cox), trend = TbatsChoices(o.use_trend),
                          damped = TbatsChoices(o.use_damped_trend);

  const TbatsFit non_seasonal = TbatsNonSeasonal(y, o, box, trend, damped);

  const bool any_box = std::find(box.begin(), box.end(), true) != box.end();
  const bool any_trend = std::find(trend.begin(), trend.end(), true) != trend.end();
  const bool any_damped = std::find(damped.begin(), damped.end(), true) != damped.end();
  // msts' frequency is floor(max period); BoxCox.lambda blocks by round(that).
  const double init_lambda =
      any_box ? TbatsInitLambda(y, static_cast<int>(std::floor(periods.back())), o.bc_lower, o.bc_upper) : 1.0;
  TbatsStructure base;
  base.box_cox = any_box;
  base.trend = any_trend;
  base.damped = any_trend && any_damped;
  base.periods = periods;
  base.k.assign(periods.size(), 1);
  auto fit_k = [&](const std::vector<int>& k) {
    TbatsStructure s = base;
    s.k = k;
    return TbatsTry(y, s, init_lambda, o);
  };
  std::vector<int>& k = base.k;
  TbatsFit best = fit_k(k);
  // The number of harmonics of each period in turn, as tbats(): a downward search from the
  // largest allowed count when it is at most 6, else up or down from 6 (5, 6 and 7 compared).
  for (size_t i = 0; i < periods.size(); ++i) {
    const double m = periods[i];
    if (m == 2) continue;
    int max_k = static_cast<int>(std::floor((m - 1) / 2));
    if (i != 0) {
      // No harmonic may repeat a frequency of a shorter period.
      for (int cur = 2; cur <= max_k; ++cur) {
        if (std::fmod(m, cur) != 0) continue;
        const double latter = m / cur;
        bool clash = false;
        for (size_t j = 0; j < i; ++j)
          if (std::fmod(periods[j], latter) == 0) clash = true;
        if (clash) {
          max_k = cur - 1;
          break;
        }
      }
    }
    if (max_k == 1) continue;
    if (max_k <= 6) {
      k[i] = max_k;
      best.aic = kTbatsInf;
      while (true) {
        TbatsFit cand = fit_k(k);
        if (cand.aic > best.aic) {
          ++k[i];
          break;
        }
        if (k[i] == 1) break;  // R keeps the previous best model here (and k = 1)
        --k[i];
        best = std::move(cand);
      }
      continue;
    }
    std::vector<int> up = k, down = k;
    up[i] = 7;
    down[i] = 5;
    k[i] = 6;
    TbatsFit up_model = fit_k(up), level_model = fit_k(k), down_model = fit_k(down);
    const double min_aic = std::min({up_model.aic, level_model.aic, down_model.aic});
    if (min_aic == down_model.aic) {
      best = std::move(down_model);
      k[i] = 5;
      while (true) {
        --k[i];
        TbatsFit cand = fit_k(k);
        if (cand.aic > best.aic) {
          ++k[i];
          break;
        }
        best = std::move(cand);
        if (k[i] == 1) break;
      }
    } else if (min_aic == level_model.aic) {
      best = std::move(level_model);
    } else {
      best = std::move(up_model);
      k[i] = 7;
      // R stops at max_k (and, past it, when the AIC stops falling); the bound below only
      // keeps a pathological series from running on.
      while (k[i] < n / 2) {
        ++k[i];
        TbatsFit cand = fit_k(k);
        if (cand.aic > best.aic) {
          --k[i];
          break;
        }
        best = std::move(cand);
        if (k[i] == max_k) break;
      }
    }
  }
  const TbatsFit aux = best;
  if (non_seasonal.aic < best.aic) best = non_seasonal;
  for (bool b : box)
    for (bool t : trend)
      for (bool d : damped) {
        TbatsFit cand;
        if (b == base.box_cox && t == base.trend && d == (base.trend ? base.damped : any_damped)) {
          cand = TbatsWithArma(y, aux, init_lambda, o);
        } else if (t || !d) {
          TbatsStructure s = base;
          s.box_cox = b;
          s.trend = t;
          s.damped = t && d;
          cand = TbatsWithArma(y, TbatsTry(y, s, init_lambda, o), init_lambda, o);
        } else {
          continue;
        }
        if (cand.aic < best.aic) best = std::move(cand);
      }
  if (!std::isfinite(best.aic)) return InvalidArgumentError("tbats: no model could be fitted to the series");
  if (notes && best.optim_code == 1)
    notes->push_back("tbats: the optimiser stopped at its iteration limit (as R's optim() can)");
  if (notes && !positive && !options.use_box_cox.has_value())
    notes->push_back("tbats: no Box-Cox transform: the series has values <= 0");
  return best;
}

TbatsForecast ForecastTbats(const TbatsFit& fit, int horizon, bool r_beta_quirk) {
  TbatsSystem sys(fit.structure);
  sys.SetParams(fit.params);
  TbatsForecast f;
  std::vector<double> x = fit.state;
  const int m = sys.n_states();
  std::vector<double> g(static_cast<size_t>(m), 0.0);
  sys.Step(g.data(), 1.0);  // F·0 + g·1
  if (r_beta_quirk && fit.structure.trend) {
    // Without β, R's updateTBATSGMatrix writes γ from the second slot on: g = (α, γ.., 0, ..).
    const int tau = fit.structure.Tau();
    for (int j = 1; j <= tau; ++j) g[j] = g[j + 1];
    g[tau + 1] = 0;
  }
  double mult = 1;
  for (int h = 0; h < horizon; ++h) {
    f.mean.push_back(sys.Predict(x.data()));
    f.variance.push_back(fit.variance * mult);
    sys.Step(x.data(), 0.0);
    const double c = sys.Predict(g.data());  // w'F^{h}g
    mult += c * c;
    sys.Step(g.data(), 0.0);
  }
  return f;
}

}  // namespace almanac::models::tbats

namespace almanac::models::tbats {
namespace {

struct TbatsModelOptions {
  std::vector<double> periods;  // empty: the input's period
  TbatsOptions search;
};

// A true/false/"auto" parameter ("auto" or absent: nullopt).
Result<std::optional<bool>> TbatsTriState(const Json& params, const std::string& name) {
  if (!params.is_object() || !params.contains(name) || params[name].is_null()) return std::optional<bool>{};
  const Json& v = params[name];
  if (v.is_boolean()) return std::optional<bool>{v.get<bool>()};
  if (v.is_string() && v.get<std::string>() == "auto") return std::optional<bool>{};
  return InvalidArgumentError("tbats: parameter '" + name + "' must be true, false or \"auto\", got " + CompactJson(v));
}

Result<TbatsModelOptions> TbatsParseOptions(const Json& params) {
  TbatsModelOptions o;
  if (params.is_object() && params.contains("seasonal_periods") && !params["seasonal_periods"].is_null()) {
    const Json& v = params["seasonal_periods"];
    std::vector<Json> items;
    if (v.is_number()) {
      items.push_back(v);
    } else if (v.is_array()) {
      items.assign(v.begin(), v.end());
    } else {
      return InvalidArgumentError("tbats: parameter 'seasonal_periods' must be a number or a list of numbers");
    }
    if (items.empty()) return InvalidArgumentError("tbats: parameter 'seasonal_periods' is an empty list");
    for (const Json& e : items) {
      if (!e.is_number())
        return InvalidArgumentError("tbats: parameter 'seasonal_periods' must list numbers, got " + CompactJson(e));
      const double p = e.get<double>();
      if (!(p > 1) || !std::isfinite(p))
        return InvalidArgumentError("tbats: seasonal periods must be above 1, got " + FormatDouble(p));
      o.periods.push_back(p);
    }
  }
  ALMANAC_ASSIGN_OR_RETURN(o.search.use_box_cox, TbatsTriState(params, "use_box_cox"));
  ALMANAC_ASSIGN_OR_RETURN(o.search.use_trend, TbatsTriState(params, "use_trend"));
  ALMANAC_ASSIGN_OR_RETURN(o.search.use_damped_trend, TbatsTriState(params, "use_damped_trend"));
  ALMANAC_ASSIGN_OR_RETURN(o.search.use_arma_errors, TbatsTriState(params, "use_arma_errors"));
  if (o.search.use_trend == false && o.search.use_damped_trend == true)
    return InvalidArgumentError("tbats: use_damped_trend true needs use_trend true or \"auto\"");
  return o;
}

Json TbatsNumbers(const std::vector<double>& v) {
  Json a = Json::array();
  for (double x : v) a.push_back(std::isfinite(x) ? Json(x) : Json(nullptr));
  return a;
}

class TbatsForecaster : public ForecasterBase {
 public:
  TbatsForecaster(ModelSpec spec, TbatsModelOptions options)
      : ForecasterBase(std::move(spec)), options_(std::move(options)) {}

  Status Fit(const FitInput& input) override {
    set_fitted(false);
    notes_.clear();
    TbatsOptions o = options_.search;
    o.periods = options_.periods;
    if (o.periods.empty()) {
      if (input.period < 2)
        return InvalidArgumentError("tbats: the series is not seasonal (period " + std::to_string(input.period) +
                                    "); give the seasonal periods with the parameter 'seasonal_periods'");
      o.periods = {static_cast<double>(input.period)};
    }
    for (double v : input.y)
      if (std::isnan(v))
        return InvalidArgumentError("tbats: the series has missing values (NaN); fill or drop them first");
    ALMANAC_ASSIGN_OR_RETURN(fit_, AutoTbats(input.y, o, &notes_));
    set_fitted(true);
    return Status::Ok();
  }

  ModelDescription Describe() const override {
    ModelDescription d;
    d.type = "tbats";
    if (!is_fitted()) return d;
    const TbatsStructure& s = fit_.structure;
    const TbatsParams& p = fit_.params;
    d.method = s.Name(p.lambda, p.phi);
    d.params = Json{{"alpha", p.alpha},
                    {"seasonal_periods", s.periods},
                    {"harmonics", s.k},
                    {"gamma1", TbatsNumbers(p.gamma1)},
                    {"gamma2", TbatsNumbers(p.gamma2)},
                    {"ar", TbatsNumbers(p.ar)},
                    {"ma", TbatsNumbers(p.ma)},
                    {"likelihood", fit_.likelihood}};
    if (s.box_cox) d.params["lambda"] = p.lambda;
    if (s.trend) {
      d.params["beta"] = p.beta;
      d.params["phi"] = p.phi;
    }
    const double n = static_cast<double>(fit_.fitted.size());
    d.loglik = -0.5 * (fit_.likelihood + n * (std::log(2 * std::numbers::pi / n) + 1));
    d.aic = fit_.aic;
    d.sigma2 = fit_.variance;
    d.nobs = static_cast<int>(fit_.fitted.size());
    d.notes = notes_;
    return d;
  }

  std::vector<double> Fitted() const override { return is_fitted() ? fit_.fitted : std::vector<double>{}; }

  Status Load(const Json& state) {
    try {
      const Json& st = state.at("structure");
      const Json& pa = state.at("params");
      TbatsFit f;
      f.structure.box_cox = st.at("box_cox").get<bool>();
      f.structure.trend = st.at("trend").get<bool>();
      f.structure.damped = st.at("damped").get<bool>();
      f.structure.periods = st.at("periods").get<std::vector<double>>();
      f.structure.k = st.at("k").get<std::vector<int>>();
      f.structure.p = st.at("p").get<int>();
      f.structure.q = st.at("q").get<int>();
      f.params.lambda = pa.at("lambda").is_null() ? kNaN : pa.at("lambda").get<double>();
      f.params.alpha = pa.at("alpha").get<double>();
      f.params.beta = pa.at("beta").get<double>();
      f.params.phi = pa.at("phi").get<double>();
      f.params.gamma1 = pa.at("gamma1").get<std::vector<double>>();
      f.params.gamma2 = pa.at("gamma2").get<std::vector<double>>();
      f.params.ar = pa.at("ar").get<std::vector<double>>();
      f.params.ma = pa.at("ma").get<std::vector<double>>();
      f.seed = state.at("seed").get<std::vector<double>>();
      f.state = state.at("state").get<std::vector<double>>();
      f.variance = state.at("variance").get<double>();
      f.likelihood = state.at("likelihood").get<double>();
      f.aic = state.at("aic").get<double>();
      f.npar = TbatsNumParams(f.structure);
      for (const Json& v : state.at("fitted")) f.fitted.push_back(v.is_null() ? kNaN : v.get<double>());
      notes_ = state.value("notes", std::vector<std::string>{});
      if (Status s = TbatsCheckSizes(f.structure); !s.ok()) return DataLossError("tbats state: " + s.message());
      const size_t m = static_cast<size_t>(f.structure.NumStates());
      if (f.seed.size() != m || f.state.size() != m || f.params.gamma1.size() != f.structure.periods.size() ||
          f.params.gamma2.size() != f.structure.periods.size() ||
          f.params.ar.size() != static_cast<size_t>(f.structure.p) ||
          f.params.ma.size() != static_cast<size_t>(f.structure.q) || (f.structure.box_cox && std::isnan(f.params.lambda)))
        return DataLossError("tbats state: the states or parameters do not match the model structure");
      fit_ = std::move(f);
    } catch (const std::exception& e) {
      return DataLossError(std::string("tbats state is malformed: ") + e.what());
    }
    set_fitted(true);
    return Status::Ok();
  }

 protected:
  Result<Forecast> PredictFitted(int horizon, std::span<const double> levels) const override {
    const TbatsForecast tf = ForecastTbats(fit_, horizon);
    const bool bc = fit_.structure.box_cox;
    const double lambda = fit_.params.lambda;
    Forecast f;
    f.mean = tf.mean;
    if (bc)
      for (double& v : f.mean) v = InvBoxCox(v, lambda);
    for (double level : levels) {
      PredictionInterval pi;
      pi.level = level;
      const double z = IntervalZ(level);
      for (int h = 0; h < horizon; ++h) {
        const double sd = std::sqrt(tf.variance[h]);
        double lo = tf.mean[h] - z * sd, hi = tf.mean[h] + z * sd;
        if (bc) {
          lo = InvBoxCox(lo, lambda);
          hi = InvBoxCox(hi, lambda);
          if (lambda < 1) lo = std::max(lo, 0.0);
        }
        pi.lower.push_back(lo);
        pi.upper.push_back(hi);
      }
      f.intervals.push_back(std::move(pi));
    }
    for (double v : f.mean)
      if (!std::isfinite(v)) return InternalError("tbats: the forecast is not finite");
    f.notes = notes_;
    return f;
  }

  Result<Json> SaveFitted() const override {
    const TbatsStructure& s = fit_.structure;
    const TbatsParams& p = fit_.params;
    return Json{{"structure",
                 {{"box_cox", s.box_cox},
                  {"trend", s.trend},
                  {"damped", s.damped},
                  {"periods", s.periods},
                  {"k", s.k},
                  {"p", s.p},
                  {"q", s.q}}},
                {"params",
                 {{"lambda", s.box_cox ? Json(p.lambda) : Json(nullptr)},
                  {"alpha", p.alpha},
                  {"beta", p.beta},
                  {"phi", p.phi},
                  {"gamma1", p.gamma1},
                  {"gamma2", p.gamma2},
                  {"ar", p.ar},
                  {"ma", p.ma}}},
                {"seed", fit_.seed},
                {"state", fit_.state},
                {"variance", fit_.variance},
                {"likelihood", fit_.likelihood},
                {"aic", fit_.aic},
                {"fitted", TbatsNumbers(fit_.fitted)},
                {"notes", notes_}};
  }

 private:
  TbatsModelOptions options_;
  TbatsFit fit_;
  std::vector<std::string> notes_;
};

}  // namespace
}  // namespace almanac::models::tbats

namespace almanac::models {

ModelType TbatsModelType() {
  ModelType t;
  t.name = "tbats";
  t.description =
      "TBATS (De Livera, Hyndman & Snyder 2011): Box-Cox, level, (damped) trend, trigonometric seasonality for "
      "one or several, possibly non-integer, periods and ARMA errors, selected by AIC as R forecast's tbats()";
  t.params = {
      {"seasonal_periods", "any", nullptr,
       "seasonal periods, a number or a list (non-integer allowed, e.g. [7, 365.25]; null: the series' period)"},
      {"use_box_cox", "any", "auto", "Box-Cox transform: true, false or \"auto\" (chosen by AIC)"},
      {"use_trend", "any", "auto", "trend: true, false or \"auto\""},
      {"use_damped_trend", "any", "auto", "damped trend: true, false or \"auto\""},
      {"use_arma_errors", "any", "auto",
       "ARMA errors (orders by auto ARIMA on the residuals): \"auto\" keeps them when the AIC is lower (R's "
       "TRUE), true keeps them whenever p + q > 0, false never"},
  };
  t.check_params = [](const Json& params) { return tbats::TbatsParseOptions(params).status(); };
  t.create = [](const ModelSpec& spec, const ForecasterRegistry&) -> Result<std::unique_ptr<Forecaster>> {
    ALMANAC_ASSIGN_OR_RETURN(tbats::TbatsModelOptions o, tbats::TbatsParseOptions(spec.params));
    return std::unique_ptr<Forecaster>(std::make_unique<tbats::TbatsForecaster>(spec, std::move(o)));
  };
  t.load = [](const ModelSpec& spec, const Json& state, const ForecasterRegistry&) -> Result<std::unique_ptr<Forecaster>> {
    ALMANAC_ASSIGN_OR_RETURN(tbats::TbatsModelOptions o, tbats::TbatsParseOptions(spec.params));
    auto m = std::make_unique<tbats::TbatsForecaster>(spec, std::move(o));
    ALMANAC_RETURN_IF_ERROR(m->Load(state));
    return std::unique_ptr<Forecaster>(std::move(m));
  };
  return t;
}

}  // namespace almanac::models
