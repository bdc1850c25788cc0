#include "models/ets/holt_winters.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>

#include <nlopt.hpp>

namespace almanac::models::ets {
namespace {

struct Starts {
  double l = 0, b = 0;
  std::vector<double> s;  // m values, the seasonal starts for times 1-m..0
};

// One pass of the Holt-Winters recursion; returns the SSE and optionally the path.
struct HwPath {
  std::vector<double> level, trend, season, fitted;  // level/trend: n+1 (start first), season: m+n
};

double HwPass(std::span<const double> x, int m, const HoltWintersSpec& spec, bool seasonal_add, bool seasonal,
              double alpha, double beta, double gamma, const Starts& st, HwPath* path) {
  const int n = static_cast<int>(x.size());
  const bool trend = spec.trend;
  const double phi = spec.phi;
  if (!trend) beta = 0;
  if (!seasonal) gamma = 0;
  const int sm = seasonal ? m : 1;
  std::vector<double> season(static_cast<size_t>(sm + n));
  for (int i = 0; i < sm; ++i) season[i] = seasonal ? st.s[i] : 1.0;
  double lastlevel = st.l;
  double lasttrend = trend ? st.b : 0.0;
  double sse = 0;
  if (path != nullptr) {
    path->level.assign(1, st.l);
    path->trend.assign(1, lasttrend);
    path->fitted.clear();
  }
  // Without a season R runs the multiplicative branch with every seasonal index 1.
  const bool add = seasonal && seasonal_add;
  for (int i = 0; i < n; ++i) {
    const double lastseason = season[i];
    const double tr = spec.exponential ? lastlevel * std::pow(lasttrend, phi) : lastlevel + phi * lasttrend;
    const double xhat = add ? tr + lastseason : tr * lastseason;
    const double res = x[i] - xhat;
    sse += res * res;
    const double level =
        add ? alpha * (x[i] - lastseason) + (1 - alpha) * tr : alpha * (x[i] / lastseason) + (1 - alpha) * tr;
    const double newtrend = spec.exponential ? beta * (level / lastlevel) + (1 - beta) * std::pow(lasttrend, phi)
                                             : beta * (level - lastlevel) + (1 - beta) * phi * lasttrend;
    const double newseason =
        add ? gamma * (x[i] - tr) + (1 - gamma) * lastseason : gamma * (x[i] / tr) + (1 - gamma) * lastseason;
    season[sm + i] = newseason;
    if (path != nullptr) {
      path->level.push_back(level);
      path->trend.push_back(newtrend);
      path->fitted.push_back(xhat);
    }
    lastlevel = level;
    lasttrend = newtrend;
  }
  if (path != nullptr) path->season = std::move(season);
  return sse;
}

}  // namespace

Result<HoltWintersFit> FitHoltWinters(std::span<const double> x, int m, const HoltWintersSpec& spec) {
  const int n = static_cast<int>(x.size());
  const bool seasonal = spec.season != Comp::kN && m > 1;
  if (n < 1) return InvalidArgumentError("no observations");
  if (seasonal && spec.season == Comp::kM)
    for (double v : x)
      if (v <= 0) return InvalidArgumentError("multiplicative Holt-Winters needs positive data");
  Starts st;
  if (!seasonal) {
    st.l = x[0];
    if (spec.trend) {
      if (n < 2) return InvalidArgumentError("a trend needs at least two observations");
      st.b = spec.exponential ? x[1] / x[0] : x[1] - x[0];
    }
  } else {
    if (n < 2 * m)
      return InvalidArgumentError("a seasonal Holt-Winters start needs two full seasons (" + std::to_string(2 * m) +
                                  " observations), got " + std::to_string(n));
    double s1 = 0, s2 = 0;
    for (int i = 0; i < m; ++i) {
      s1 += x[i];
      s2 += x[m + i];
    }
    st.l = s1 / m;
    st.b = (s2 / m - st.l) / m;
    st.s.resize(static_cast<size_t>(m));
    for (int i = 0; i < m; ++i) st.s[i] = spec.season == Comp::kA ? x[i] - st.l : x[i] / st.l;
  }
  const bool seasonal_add = spec.season == Comp::kA;

  // Starting values as R's initparam(lower = 0, upper = 1, m = frequency).
  double alpha = spec.alpha, beta = spec.beta, gamma = spec.gamma;
  std::vector<double> start;
  std::vector<int> which;  // 0 alpha, 1 beta, 2 gamma
  const double a0 = std::isnan(alpha) ? 0.2 / m : alpha;
  if (std::isnan(alpha)) {
    start.push_back(a0);
    which.push_back(0);
  }
  if (spec.trend && std::isnan(beta)) {
    double b0 = 0.1 * std::min(1.0, a0);
    if (b0 < 0 || b0 > a0) b0 = a0 - 0.001;
    start.push_back(b0);
    which.push_back(1);
  }
  if (seasonal && std::isnan(gamma)) {
    double g0 = 0.05 * std::min(1.0, 1 - a0);
    if (g0 < 0 || g0 > 1 - a0) g0 = 1 - a0 - 0.001;
    start.push_back(g0);
    which.push_back(2);
  }
  auto assign = [&](const double* p) {
    for (size_t i = 0; i < which.size(); ++i) {
      if (which[i] == 0) alpha = p[i];
      if (which[i] == 1) beta = p[i];
      if (which[i] == 2) gamma = p[i];
    }
  };
  if (!start.empty()) {
    assign(start.data());
    const double f0 = HwPass(x, m, spec, seasonal_add, seasonal, alpha, beta, gamma, st, nullptr);
    if (!std::isfinite(f0)) return InvalidArgumentError("the Holt-Winters sum of squares is not finite at the start");
    struct Ctx {
      std::span<const double> x;
      int m;
      const HoltWintersSpec* spec;
      bool seasonal_add, seasonal;
      const Starts* st;
      std::vector<int>* which;
      double alpha, beta, gamma;
    } ctx{x, m, &spec, seasonal_add, seasonal, &st, &which, alpha, beta, gamma};
    auto obj = [](unsigned nn, const double* p, double*, void* data) -> double {
      auto* c = static_cast<Ctx*>(data);
      double a = c->alpha, b = c->beta, g = c->gamma;
      for (unsigned i = 0; i < nn; ++i) {
        const int w = (*c->which)[i];
        if (w == 0) a = p[i];
        if (w == 1) b = p[i];
        if (w == 2) g = p[i];
      }
      const double v = HwPass(c->x, c->m, *c->spec, c->seasonal_add, c->seasonal, a, b, g, *c->st, nullptr);
      return std::isfinite(v) ? v : 1e300;
    };
    try {
      nlopt::opt opt(nlopt::LN_SBPLX, static_cast<unsigned>(start.size()));
      opt.set_lower_bounds(std::vector<double>(start.size(), 0.0));
      opt.set_upper_bounds(std::vector<double>(start.size(), 1.0));
      opt.set_min_objective(obj, &ctx);
      opt.set_xtol_rel(1e-10);
      opt.set_ftol_rel(1e-15);
      opt.set_maxeval(4000);
      std::vector<double> p = start;
      double best = 0;
      opt.optimize(p, best);
      assign(p.data());
    } catch (const std::exception& e) {
      return InvalidArgumentError(std::string("Holt-Winters optimisation failed: ") + e.what());
    }
  }
  HwPath path;
  const double sse = HwPass(x, m, spec, seasonal_add, seasonal, alpha, beta, gamma, st, &path);
  if (!std::isfinite(sse)) return InvalidArgumentError("the Holt-Winters fit is not finite");

  HoltWintersFit out;
  out.sse = sse;
  Form& f = out.form;
  f.trend = spec.trend ? (spec.exponential ? Comp::kM : Comp::kA) : Comp::kN;
  f.season = seasonal ? spec.season : Comp::kN;
  f.m = seasonal ? m : 1;
  f.damped = spec.phi < 1;
  if (seasonal) {
    f.error = spec.season == Comp::kA ? Comp::kA : Comp::kM;
  } else {
    f.error = spec.exponential ? Comp::kM : Comp::kA;
  }
  out.par.alpha = alpha;
  out.par.beta = spec.trend ? beta : 0.0;
  out.par.gamma = seasonal ? gamma : 0.0;
  out.par.phi = spec.phi;
  auto state_at = [&](int t) {  // t = 0..n, R's states[t + 1, ]
    std::vector<double> s{path.level[t]};
    if (spec.trend) s.push_back(path.trend[t]);
    if (seasonal)
      for (int i = 1; i <= m; ++i) s.push_back(path.season[m - i + t]);
    return s;
  };
  out.x0 = state_at(0);
  out.last_state = state_at(n);
  out.fitted = path.fitted;
  double s2 = 0;
  for (int i = 0; i < n; ++i) {
    const double r = x[i] - path.fitted[i];
    s2 += f.error == Comp::kA ? r * r : (r / path.fitted[i]) * (r / path.fitted[i]);
  }
  out.sigma2 = s2 / n;
  return out;
}

}  // namespace almanac::models::ets
