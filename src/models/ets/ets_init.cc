// Initial states of ETS as R's forecast computes them: the classical decomposition's seasonal
// figure and the level and trend from a regression on the first years (ets_core.h).
#include <algorithm>
#include <cmath>

#include "models/ets/ets_core.h"

namespace almanac::models::ets {
namespace {

// Arithmetic mean as R computes it (long double sum, then one correction pass), so that
// starting values agree with R's to the last bit where possible.
double RMean(const double* x, int n) {
  long double s = 0;
  for (int i = 0; i < n; ++i) s += x[i];
  s /= n;
  if (std::isfinite(static_cast<double>(s))) {
    long double t = 0;
    for (int i = 0; i < n; ++i) t += (x[i] - s);
    s += t / n;
  }
  return static_cast<double>(s);
}

// sin(pi x) and cos(pi x) with exact zeros at integers and half-integers (R's sinpi/cospi).
double SinPi(double x) {
  x = std::fmod(x, 2.0);
  if (x <= -1)
    x += 2.0;
  else if (x > 1.0)
    x -= 2.0;
  if (x == 0.0 || x == 1.0) return 0.0;
  if (x == 0.5) return 1.0;
  if (x == -0.5) return -1.0;
  return std::sin(M_PI * x);
}
double CosPi(double x) {
  x = std::fmod(std::fabs(x), 2.0);
  if (std::fmod(x, 1.0) == 0.5) return 0.0;
  if (x == 1.0) return -1.0;
  if (x == 0.0) return 1.0;
  return std::cos(M_PI * x);
}

// Least squares by Householder QR (columns of X stored column-major, n rows, k columns).
// Returns the coefficients; X and y are overwritten.
std::vector<double> LeastSquares(std::vector<double>& X, std::vector<double>& y, int n, int k) {
  for (int j = 0; j < k; ++j) {
    double* col = &X[static_cast<size_t>(j) * n];
    double norm = 0;
    for (int i = j; i < n; ++i) norm += col[i] * col[i];
    norm = std::sqrt(norm);
    if (norm == 0) continue;
    const double alpha = col[j] > 0 ? -norm : norm;
    // v = x - alpha e_j, stored in col[j..n).
    col[j] -= alpha;
    double vnorm2 = 0;
    for (int i = j; i < n; ++i) vnorm2 += col[i] * col[i];
    auto reflect = [&](double* z) {
      double d = 0;
      for (int i = j; i < n; ++i) d += col[i] * z[i];
      const double f = 2 * d / vnorm2;
      for (int i = j; i < n; ++i) z[i] -= f * col[i];
    };
    for (int c = j + 1; c < k; ++c) reflect(&X[static_cast<size_t>(c) * n]);
    reflect(y.data());
    // The diagonal of R is alpha; keep it where the solve below looks.
    for (int i = j + 1; i < n; ++i) col[i] = 0;
    col[j] = alpha;
  }
  std::vector<double> beta(static_cast<size_t>(k), 0.0);
  for (int j = k - 1; j >= 0; --j) {
    double s = y[j];
    for (int c = j + 1; c < k; ++c) s -= X[static_cast<size_t>(c) * n + j] * beta[c];
    const double d = X[static_cast<size_t>(j) * n + j];
    beta[j] = d != 0 ? s / d : 0.0;
  }
  return beta;
}

}  // namespace

std::vector<double> DecomposeFigure(std::span<const double> y, int m, bool multiplicative) {
  const int n = static_cast<int>(y.size());
  // Centred moving average of order m (2 x m for even m).
  const int nf = m % 2 == 0 ? m + 1 : m;
  std::vector<double> w(static_cast<size_t>(nf), 1.0 / m);
  if (m % 2 == 0) w.front() = w.back() = 0.5 / m;
  const int shift = nf / 2;
  std::vector<double> detr(static_cast<size_t>(n), std::numeric_limits<double>::quiet_NaN());
  for (int i = 0; i < n; ++i) {
    if (i + shift - (nf - 1) < 0 || i + shift >= n) continue;
    double z = 0;
    for (int j = 0; j < nf; ++j) z += w[j] * y[i + shift - j];
    detr[i] = multiplicative ? y[i] / z : y[i] - z;
  }
  std::vector<double> figure(static_cast<size_t>(m), 0.0);
  std::vector<double> vals;
  for (int i = 0; i < m; ++i) {
    vals.clear();
    for (int t = i; t < n; t += m)
      if (!std::isnan(detr[t])) vals.push_back(detr[t]);
    figure[i] =
        vals.empty() ? std::numeric_limits<double>::quiet_NaN() : RMean(vals.data(), static_cast<int>(vals.size()));
  }
  const double mf = RMean(figure.data(), m);
  for (double& f : figure) f = multiplicative ? f / mf : f - mf;
  return figure;
}

Result<std::vector<double>> InitialState(std::span<const double> y, Comp trend, Comp season, int m) {
  const int n = static_cast<int>(y.size());
  std::vector<double> ysa(y.begin(), y.end());
  std::vector<double> init_seas;
  if (season != Comp::kN) {
    if (n < 4) return InvalidArgumentError("too few observations (" + std::to_string(n) + ") for a seasonal model");
    std::vector<double> seasonal(static_cast<size_t>(n));
    const bool mult = season == Comp::kM;
    if (n < 3 * m) {
      // Trend plus one Fourier pair, fitted by least squares.
      const double p = 1.0 / m;
      const bool with_sin = std::fabs(2 * p - std::round(2 * p)) > 2.220446049250313e-16;
      const int k = with_sin ? 4 : 3;
      std::vector<double> X(static_cast<size_t>(n) * k), yy(y.begin(), y.end());
      for (int t = 0; t < n; ++t) {
        const double tt = t + 1.0;
        int c = 0;
        X[static_cast<size_t>(c++) * n + t] = 1.0;
        X[static_cast<size_t>(c++) * n + t] = tt;
        if (with_sin) X[static_cast<size_t>(c++) * n + t] = SinPi(2 * p * tt);
        X[static_cast<size_t>(c++) * n + t] = CosPi(2 * p * tt);
      }
      const std::vector<double> coef = LeastSquares(X, yy, n, k);
      for (int t = 0; t < n; ++t) {
        const double tr = coef[0] + coef[1] * (t + 1.0);
        seasonal[t] = mult ? y[t] / tr : y[t] - tr;
      }
    } else {
      const std::vector<double> fig = DecomposeFigure(y, m, mult);
      for (int t = 0; t < n; ++t) seasonal[t] = fig[t % m];
    }
    for (int i = m - 1; i >= 1; --i) init_seas.push_back(seasonal[i]);
    if (!mult) {
      for (int t = 0; t < n; ++t) ysa[t] = y[t] - seasonal[t];
    } else {
      double sum = 0;
      for (double& s : init_seas) {
        s = std::max(s, 1e-2);
        sum += s;
      }
      if (sum > m) {
        double denom = 0;
        for (double s : init_seas) denom += s + 1e-2;
        for (double& s : init_seas) s /= denom;
      }
      for (int t = 0; t < n; ++t) ysa[t] = y[t] / std::max(seasonal[t], 1e-2);
    }
  } else {
    m = 1;
  }
  const int maxn = std::min(std::max(10, 2 * m), n);
  std::vector<double> out;
  if (trend == Comp::kN) {
    out.push_back(RMean(ysa.data(), maxn));
  } else {
    // Simple linear regression of the first maxn values on 1..maxn.
    double xbar = (maxn + 1) / 2.0;
    const double ybar = RMean(ysa.data(), maxn);
    double sxy = 0, sxx = 0;
    for (int t = 0; t < maxn; ++t) {
      const double dx = (t + 1) - xbar;
      sxy += dx * (ysa[t] - ybar);
      sxx += dx * dx;
    }
    const double c1 = sxx > 0 ? sxy / sxx : 0.0;
    const double c0 = ybar - c1 * xbar;
    double l0, b0;
    if (trend == Comp::kA) {
      l0 = c0;
      b0 = c1;
      if (std::fabs(l0 + b0) < 1e-8) {
        l0 = l0 * (1 + 1e-3);
        b0 = b0 * (1 - 1e-3);
      }
    } else {
      l0 = c0 + c1;
      if (std::fabs(l0) < 1e-8) l0 = 1e-7;
      b0 = (c0 + 2 * c1) / l0;
      l0 = l0 / b0;
      if (std::fabs(b0) > 1e10) b0 = b0 > 0 ? 1e10 : -1e10;
      if (l0 < 1e-8 || b0 < 1e-8) {
        l0 = std::max(ysa[0], 1e-3);
        b0 = std::max(ysa[1] / ysa[0], 1e-3);
      }
    }
    out.push_back(l0);
    out.push_back(b0);
  }
  out.insert(out.end(), init_seas.begin(), init_seas.end());
  for (double v : out)
    if (!std::isfinite(v)) return InvalidArgumentError("the initial states are not finite (degenerate data)");
  return out;
}

}  // namespace almanac::models::ets
