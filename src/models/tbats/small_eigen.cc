#include "models/tbats/small_eigen.h"

#include <cmath>
#include <limits>

namespace almanac::models::tbats {

std::optional<std::vector<std::complex<double>>> SmallEigenvalues(std::vector<double> a, int n) {
  using C = std::complex<double>;
  auto at = [&](int i, int j) -> double& { return a[static_cast<size_t>(i) * n + j]; };
  // Householder: zero column k below the subdiagonal, applied from both sides.
  std::vector<double> v(static_cast<size_t>(n));
  for (int k = 0; k + 2 < n; ++k) {
    double norm = 0;
    for (int i = k + 1; i < n; ++i) norm += at(i, k) * at(i, k);
    norm = std::sqrt(norm);
    if (norm == 0) continue;
    const double alpha = at(k + 1, k) > 0 ? -norm : norm;
    double vnorm = 0;
    for (int i = k + 1; i < n; ++i) {
      v[i] = at(i, k) - (i == k + 1 ? alpha : 0.0);
      vnorm += v[i] * v[i];
    }
    if (vnorm == 0) continue;
    for (int j = 0; j < n; ++j) {  // rows k+1.. : A <- (I - 2vv'/v'v) A
      double dot = 0;
      for (int i = k + 1; i < n; ++i) dot += v[i] * at(i, j);
      const double f = 2 * dot / vnorm;
      for (int i = k + 1; i < n; ++i) at(i, j) -= f * v[i];
    }
    for (int i = 0; i < n; ++i) {  // columns k+1.. : A <- A (I - 2vv'/v'v)
      double dot = 0;
      for (int j = k + 1; j < n; ++j) dot += at(i, j) * v[j];
      const double f = 2 * dot / vnorm;
      for (int j = k + 1; j < n; ++j) at(i, j) -= f * v[j];
    }
  }
  std::vector<C> h(a.begin(), a.end());
  auto H = [&](int i, int j) -> C& { return h[static_cast<size_t>(i) * n + j]; };
  for (int i = 2; i < n; ++i)
    for (int j = 0; j + 1 < i; ++j) H(i, j) = 0;
  std::vector<C> out(static_cast<size_t>(n));
  const double eps = std::numeric_limits<double>::epsilon();
  std::vector<double> cs(static_cast<size_t>(n));
  std::vector<C> sn(static_cast<size_t>(n));
  int hi = n - 1, iter = 0;
  while (hi >= 0) {
    if (hi == 0) {
      out[0] = H(0, 0);
      break;
    }
    int lo = hi;
    while (lo > 0) {
      const double scale = std::abs(H(lo - 1, lo - 1)) + std::abs(H(lo, lo));
      if (std::abs(H(lo, lo - 1)) <= eps * (scale == 0 ? 1.0 : scale)) {
        H(lo, lo - 1) = 0;
        break;
      }
      --lo;
    }
    if (lo == hi) {
      out[hi] = H(hi, hi);
      --hi;
      iter = 0;
      continue;
    }
    if (++iter > 100) return std::nullopt;
    // Wilkinson shift: the eigenvalue of the trailing 2x2 block nearer its last entry; an
    // exceptional shift every 11th iteration breaks cycles.
    const C p = H(hi - 1, hi - 1), q = H(hi - 1, hi), r = H(hi, hi - 1), s = H(hi, hi);
    const C half = (p - s) / 2.0;
    const C disc = std::sqrt(half * half + q * r);
    const C m1 = s - q * r / (half + disc), m2 = s - q * r / (half - disc);
    C mu = std::abs(half + disc) >= std::abs(half - disc) ? m1 : m2;
    if (!std::isfinite(mu.real()) || !std::isfinite(mu.imag())) mu = s;
    if (iter % 11 == 0) mu = s + std::abs(r) * 0.75;
    for (int i = lo; i <= hi; ++i) H(i, i) -= mu;
    for (int k = lo; k < hi; ++k) {
      const C x = H(k, k), y = H(k + 1, k);
      const double rr = std::hypot(std::abs(x), std::abs(y));
      double c;
      C sv;
      if (rr == 0) {
        c = 1;
        sv = 0;
      } else if (std::abs(x) == 0) {
        c = 0;
        sv = std::conj(y) / rr;
      } else {
        c = std::abs(x) / rr;
        sv = (x / std::abs(x)) * std::conj(y) / rr;
      }
      cs[k] = c;
      sn[k] = sv;
      for (int j = k; j <= hi; ++j) {
        const C u = H(k, j), w = H(k + 1, j);
        H(k, j) = c * u + sv * w;
        H(k + 1, j) = -std::conj(sv) * u + c * w;
      }
    }
    for (int k = lo; k < hi; ++k) {
      const double c = cs[k];
      const C sv = sn[k];
      const int last = std::min(k + 2, hi);
      for (int i = lo; i <= last; ++i) {
        const C u = H(i, k), w = H(i, k + 1);
        H(i, k) = u * c + w * std::conj(sv);
        H(i, k + 1) = -u * sv + w * c;
      }
    }
    for (int i = lo; i <= hi; ++i) H(i, i) += mu;
  }
  return out;
}

}  // namespace almanac::models::tbats
