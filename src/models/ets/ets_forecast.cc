#include "models/ets/ets_forecast.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "almanac/core/time_series.h"

namespace almanac::models::ets {
namespace {

// A small dense row-major matrix.
struct Mat {
  int rows = 0, cols = 0;
  std::vector<double> a;
  Mat() = default;
  Mat(int r, int c) : rows(r), cols(c), a(static_cast<size_t>(r) * c, 0.0) {}
  double& operator()(int i, int j) { return a[static_cast<size_t>(i) * cols + j]; }
  double operator()(int i, int j) const { return a[static_cast<size_t>(i) * cols + j]; }
};

// Nonzeros of a sparse matrix, for the Kronecker products of class 3.
struct Triplet {
  int r, c;
  double v;
};
using Sparse = std::vector<Triplet>;

Sparse ToSparse(const Mat& m) {
  Sparse s;
  for (int i = 0; i < m.rows; ++i)
    for (int j = 0; j < m.cols; ++j)
      if (m(i, j) != 0) s.push_back({i, j, m(i, j)});
  return s;
}

Mat Kron(const Mat& A, const Mat& B) {
  Mat k(A.rows * B.rows, A.cols * B.cols);
  for (int i = 0; i < A.rows; ++i)
    for (int j = 0; j < A.cols; ++j)
      for (int a = 0; a < B.rows; ++a)
        for (int b = 0; b < B.cols; ++b) k(i * B.rows + a, j * B.cols + b) = A(i, j) * B(a, b);
  return k;
}

// out += coef * S1 V S2'   (V square q x q, S1/S2 sparse q x q); `tmp` is q x q scratch.
void AddSandwich(const Sparse& s1, const Mat& v, const Sparse& s2, double coef, Mat& out, Mat& tmp) {
  std::fill(tmp.a.begin(), tmp.a.end(), 0.0);
  const int q = v.cols;
  for (const auto& t : s1) {
    const double* src = &v.a[static_cast<size_t>(t.c) * q];
    double* dst = &tmp.a[static_cast<size_t>(t.r) * q];
    for (int j = 0; j < q; ++j) dst[j] += t.v * src[j];
  }
  // (tmp S2')[i][r2] = sum over (r2, c2, v2) of tmp[i][c2] * v2
  for (int i = 0; i < q; ++i) {
    const double* row = &tmp.a[static_cast<size_t>(i) * q];
    double* o = &out.a[static_cast<size_t>(i) * q];
    for (const auto& t : s2) o[t.r] += coef * row[t.c] * t.v;
  }
}

// The class-1 quantities: means mu_j = w'F^{j-1}x and c_j = w'F^{j-1}g.
void Class1Terms(const Form& form, const Smoothing& par, std::span<const double> x, int h, std::vector<double>* mu,
                 std::vector<double>* c) {
  const int p = static_cast<int>(x.size());
  const int m = form.season != Comp::kN ? form.m : 1;
  const bool trend = form.trend != Comp::kN;
  const double phi = form.damped ? par.phi : 1.0;
  std::vector<double> w(static_cast<size_t>(p), 0.0), g(static_cast<size_t>(p), 0.0);
  Mat F(p, p);
  w[0] = 1;
  F(0, 0) = 1;
  g[0] = par.alpha;
  if (trend) {
    w[1] = phi;
    F(0, 1) = F(1, 1) = phi;
    g[1] = par.beta;
  }
  if (form.season != Comp::kN) {
    const int s1 = p - m;  // index of s1
    w[p - 1] = 1;
    F(s1, p - 1) = 1;
    for (int i = 0; i < m - 1; ++i) F(s1 + 1 + i, s1 + i) = 1;
    g[s1] = par.gamma;
  }
  const Sparse fs = ToSparse(F);
  mu->assign(static_cast<size_t>(h), 0.0);
  c->assign(static_cast<size_t>(h), 0.0);
  std::vector<double> r = w, next(static_cast<size_t>(p));
  for (int j = 0; j < h; ++j) {
    double a = 0, b = 0;
    for (int i = 0; i < p; ++i) {
      a += r[i] * x[i];
      b += r[i] * g[i];
    }
    (*mu)[j] = a;
    (*c)[j] = b;
    std::fill(next.begin(), next.end(), 0.0);
    for (const auto& t : fs) next[t.c] += r[t.r] * t.v;
    r.swap(next);
  }
}

MeanVar Class1(const Form& form, const Smoothing& par, std::span<const double> x, double sigma2, int h) {
  MeanVar out;
  std::vector<double> c;
  Class1Terms(form, par, x, h, &out.mean, &c);
  out.var.assign(static_cast<size_t>(h), 0.0);
  double cum = 0;
  for (int j = 0; j < h; ++j) {
    out.var[j] = sigma2 * (1 + cum);
    cum += c[j] * c[j];
  }
  return out;
}

MeanVar Class2(const Form& form, const Smoothing& par, std::span<const double> x, double sigma2, int h) {
  MeanVar out;
  std::vector<double> c;
  Class1Terms(form, par, x, h, &out.mean, &c);
  std::vector<double> theta(static_cast<size_t>(h), 0.0);
  for (int j = 0; j < h; ++j) {
    double s = 0;
    for (int i = 0; i < j; ++i) s += c[i] * c[i] * theta[j - 1 - i];
    theta[j] = out.mean[j] * out.mean[j] + sigma2 * s;
  }
  out.var.resize(static_cast<size_t>(h));
  for (int j = 0; j < h; ++j) out.var[j] = (1 + sigma2) * theta[j] - out.mean[j] * out.mean[j];
  return out;
}

MeanVar Class3(const Form& form, const Smoothing& par, std::span<const double> x, double sigma2, int h) {
  const int m = form.m;
  const int k1 = form.trend != Comp::kN ? 2 : 1;
  const int q = k1 * m;
  const double phi = form.damped ? par.phi : 1.0;
  Mat F1(k1, k1), G1(k1, k1), F2(m, m), G2(m, m);
  if (k1 == 1) {
    F1(0, 0) = 1;
    G1(0, 0) = par.alpha;
  } else {
    F1(0, 0) = F1(0, 1) = 1;
    F1(1, 1) = phi;
    G1(0, 0) = G1(0, 1) = par.alpha;
    G1(1, 0) = G1(1, 1) = par.beta;
  }
  F2(0, m - 1) = 1;
  for (int i = 1; i < m; ++i) F2(i, i - 1) = 1;
  G2(0, m - 1) = par.gamma;
  // Mh = (l, b)' (s1..sm), k1 x m; vec() is column-major, matching the Kronecker order.
  Mat Mh(k1, m);
  for (int a = 0; a < k1; ++a)
    for (int j = 0; j < m; ++j) Mh(a, j) = x[a] * x[k1 + j];
  const Sparse f21 = ToSparse(Kron(F2, F1));
  const Sparse g21 = ToSparse(Kron(G2, G1));
  Mat K = Kron(G2, F1);
  {
    Mat k2 = Kron(F2, G1);
    for (size_t i = 0; i < K.a.size(); ++i) K.a[i] += k2.a[i];
  }
  const Sparse ks = ToSparse(K);
  Mat V(q, q), Vn(q, q), tmp(q, q), W(q, q), W2(q, q);
  std::vector<double> vec(static_cast<size_t>(q));
  MeanVar out;
  out.mean.resize(static_cast<size_t>(h));
  out.var.resize(static_cast<size_t>(h));
  Mat Mn(k1, m);
  for (int step = 0; step < h; ++step) {
    double mu = 0;
    for (int a = 0; a < k1; ++a) mu += Mh(a, m - 1);
    // H21 V H21': the sum of V over the indices of the last season.
    double hv = 0;
    for (int a = 0; a < k1; ++a)
      for (int b = 0; b < k1; ++b) hv += V((m - 1) * k1 + a, (m - 1) * k1 + b);
    out.mean[step] = mu;
    out.var[step] = (1 + sigma2) * hv + sigma2 * mu * mu;
    if (step + 1 == h) break;
    for (int j = 0; j < m; ++j)
      for (int a = 0; a < k1; ++a) vec[j * k1 + a] = Mh(a, j);
    // W = V + v v', W2 = 3V + 2 v v'
    for (int i = 0; i < q; ++i)
      for (int j = 0; j < q; ++j) {
        const double vv = vec[i] * vec[j];
        W(i, j) = V(i, j) + vv;
        W2(i, j) = 3 * V(i, j) + 2 * vv;
      }
    std::fill(Vn.a.begin(), Vn.a.end(), 0.0);
    AddSandwich(f21, V, f21, 1.0, Vn, tmp);
    AddSandwich(f21, V, g21, sigma2, Vn, tmp);
    AddSandwich(g21, V, f21, sigma2, Vn, tmp);
    AddSandwich(ks, W, ks, sigma2, Vn, tmp);
    AddSandwich(g21, W2, g21, sigma2 * sigma2, Vn, tmp);
    std::swap(V, Vn);
    // Mh = F1 Mh F2' + G1 Mh G2' sigma2
    for (int a = 0; a < k1; ++a)
      for (int j = 0; j < m; ++j) {
        double s = 0;
        for (int b = 0; b < k1; ++b)
          for (int c = 0; c < m; ++c) {
            const double f = F1(a, b) * F2(j, c);
            const double g = G1(a, b) * G2(j, c);
            if (f != 0 || g != 0) s += (f + g * sigma2) * Mh(b, c);
          }
        Mn(a, j) = s;
      }
    std::swap(Mh, Mn);
  }
  return out;
}

}  // namespace

IntervalClass ClassOf(const Form& form) {
  const bool trend_ok = form.trend != Comp::kM;
  if (form.error == Comp::kA && trend_ok && form.season != Comp::kM) return IntervalClass::kClass1;
  if (form.error == Comp::kM && trend_ok && form.season != Comp::kM) return IntervalClass::kClass2;
  if (form.error == Comp::kM && trend_ok && form.season == Comp::kM) return IntervalClass::kClass3;
  return IntervalClass::kSimulated;
}

const char* IntervalClassName(IntervalClass c) {
  switch (c) {
    case IntervalClass::kClass1:
      return "analytic (class 1: additive error, linear)";
    case IntervalClass::kClass2:
      return "analytic (class 2: multiplicative error, linear)";
    case IntervalClass::kClass3:
      return "analytic (class 3: multiplicative error and season)";
    case IntervalClass::kSimulated:
      return "simulated";
  }
  return "?";
}

MeanVar AnalyticForecast(const Form& form, const Smoothing& par, std::span<const double> x, double sigma2, int h) {
  switch (ClassOf(form)) {
    case IntervalClass::kClass1:
      return Class1(form, par, x, sigma2, h);
    case IntervalClass::kClass2:
      return Class2(form, par, x, sigma2, h);
    case IntervalClass::kClass3:
      return Class3(form, par, x, sigma2, h);
    case IntervalClass::kSimulated:
      break;
  }
  return {};
}

double Quantile8(std::vector<double>& v, double p) {
  const int n = static_cast<int>(v.size());
  if (n == 0) return kNaN;
  constexpr double kFuzz = 4 * 2.220446049250313e-16;
  const double nppm = 1.0 / 3 + p * (n + 1.0 / 3);
  const int j = static_cast<int>(std::floor(nppm + kFuzz));
  double h = nppm - j;
  if (std::fabs(h) < kFuzz) h = 0;
  // Order statistics x_j and x_{j+1} (1-based), clamped to the sample range.
  auto order_stat = [&](int k) {
    k = std::clamp(k, 1, n);
    std::nth_element(v.begin(), v.begin() + (k - 1), v.end());
    return v[k - 1];
  };
  const double lo = order_stat(j);
  if (h == 0) return lo;
  // After nth_element at j-1, x_{j+1} is the minimum of the upper part.
  double hi;
  if (j >= n) {
    hi = order_stat(n);
  } else if (j < 1) {
    hi = order_stat(1);
  } else {
    hi = *std::min_element(v.begin() + j, v.end());
  }
  return (1 - h) * lo + h * hi;
}

SimBounds SimulateBounds(const Form& form, const Smoothing& par, std::span<const double> x, double sigma2, int h,
                         std::span<const double> levels, int nsim, std::uint64_t seed) {
  const int p = static_cast<int>(x.size());
  const int m = form.season != Comp::kN ? form.m : 1;
  SimBounds out;
  out.lower.assign(levels.size(), std::vector<double>(static_cast<size_t>(h), kNaN));
  out.upper.assign(levels.size(), std::vector<double>(static_cast<size_t>(h), kNaN));
  // All paths advance together, one horizon at a time, so memory stays O(nsim * states).
  std::vector<double> states(static_cast<size_t>(nsim) * p);
  for (int k = 0; k < nsim; ++k) std::copy(x.begin(), x.end(), states.begin() + static_cast<size_t>(k) * p);
  std::vector<char> alive(static_cast<size_t>(nsim), 1);
  std::vector<double> scratch(static_cast<size_t>(m)), vals;
  vals.reserve(static_cast<size_t>(nsim));
  NormalSource normal(seed);
  const double sd = std::sqrt(sigma2);
  for (int step = 0; step < h; ++step) {
    vals.clear();
    for (int k = 0; k < nsim; ++k) {
      double e = sd * normal.Next();
      if (!alive[k]) continue;
      if (form.error == Comp::kM) e = std::max(-1.0, e);
      double* xs = &states[static_cast<size_t>(k) * p];
      const double f = OneStepForecast(form, form.damped ? par.phi : 1.0, xs);
      // A multiplicative trend that turned negative has no defined forecast (R stops with
      // "Problem with multiplicative damped trend"); such paths are dropped instead.
      const bool negative_trend = form.trend == Comp::kM && xs[1] < 0;
      if (negative_trend || std::fabs(f - kNaForecast) < 1e-10 || !std::isfinite(f)) {
        alive[k] = 0;
        ++out.dropped;
        continue;
      }
      const double yv = form.error == Comp::kA ? f + e : f * (1.0 + e);
      UpdateState(form, par, xs, yv, scratch.data());
      vals.push_back(yv);
    }
    for (size_t li = 0; li < levels.size(); ++li) {
      out.lower[li][step] = Quantile8(vals, 0.5 - levels[li] / 200.0);
      out.upper[li][step] = Quantile8(vals, 0.5 + levels[li] / 200.0);
    }
  }
  return out;
}

}  // namespace almanac::models::ets
