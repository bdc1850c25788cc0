#include "models/theta/ses.h"

#include <algorithm>
#include <cmath>

namespace almanac::models {
namespace {

// The least-squares initial level for a given alpha, and the resulting SSE. With
// l_t = a_t + c_t * l0 (a_0 = 0, c_t = (1 - alpha)^t), the error e_t = (y_t - a_{t-1}) -
// c_{t-1} * l0 is linear in l0.
struct Profile {
  double l0;
  double sse;
};

Profile ProfileSse(std::span<const double> y, double alpha) {
  double a = 0, c = 1;
  double suc = 0, scc = 0;
  for (double v : y) {
    const double u = v - a;
    suc += u * c;
    scc += c * c;
    a = (1 - alpha) * a + alpha * v;
    c *= 1 - alpha;
  }
  const double l0 = suc / scc;  // scc >= 1: the first term has c = 1
  // Recompute the SSE directly rather than from the expanded quadratic, which cancels badly.
  return Profile{l0, RunSes(y, alpha, l0, nullptr).sse};
}

}  // namespace

SesFit RunSes(std::span<const double> y, double alpha, double l0, std::vector<double>* fitted) {
  SesFit f;
  f.alpha = alpha;
  f.l0 = l0;
  f.n = static_cast<int>(y.size());
  if (fitted != nullptr) fitted->resize(y.size());
  double l = l0, sse = 0;
  for (size_t t = 0; t < y.size(); ++t) {
    if (fitted != nullptr) (*fitted)[t] = l;
    const double e = y[t] - l;
    sse += e * e;
    l += alpha * e;
  }
  f.level = l;
  f.sse = sse;
  return f;
}

SesFit FitSes(std::span<const double> y) {
  auto sse = [&](double alpha) { return ProfileSse(y, alpha).sse; };
  // The profile SSE can have more than one local minimum: locate the best region on a grid
  // first, then refine inside the bracket around it.
  constexpr int kGrid = 40;
  double best_a = kSesAlphaLower, best_s = sse(kSesAlphaLower);
  int best_k = 0;
  for (int k = 1; k <= kGrid; ++k) {
    const double a = kSesAlphaLower + (kSesAlphaUpper - kSesAlphaLower) * k / kGrid;
    const double s = sse(a);
    if (s < best_s) {
      best_s = s;
      best_a = a;
      best_k = k;
    }
  }
  double lo = kSesAlphaLower + (kSesAlphaUpper - kSesAlphaLower) * std::max(0, best_k - 1) / kGrid;
  double hi = kSesAlphaLower + (kSesAlphaUpper - kSesAlphaLower) * std::min(kGrid, best_k + 1) / kGrid;
  // Brent's method (golden section with parabolic steps) on [lo, hi].
  const double golden = 0.3819660112501051;
  double x = best_a, w = best_a, v = best_a;
  double fx = best_s, fw = best_s, fv = best_s;
  double d = 0, e = 0;
  for (int iter = 0; iter < 200; ++iter) {
    const double xm = 0.5 * (lo + hi);
    const double tol1 = 1e-10 * std::fabs(x) + 1e-12;
    const double tol2 = 2 * tol1;
    if (std::fabs(x - xm) <= tol2 - 0.5 * (hi - lo)) break;
    bool golden_step = true;
    if (std::fabs(e) > tol1) {
      double r = (x - w) * (fx - fv);
      double q = (x - v) * (fx - fw);
      double p = (x - v) * q - (x - w) * r;
      q = 2 * (q - r);
      if (q > 0) p = -p;
      q = std::fabs(q);
      const double etemp = e;
      e = d;
      if (!(std::fabs(p) >= std::fabs(0.5 * q * etemp) || p <= q * (lo - x) || p >= q * (hi - x))) {
        d = p / q;
        const double u = x + d;
        if (u - lo < tol2 || hi - u < tol2) d = xm >= x ? tol1 : -tol1;
        golden_step = false;
      }
    }
    if (golden_step) {
      e = (x >= xm ? lo : hi) - x;
      d = golden * e;
    }
    const double u = std::fabs(d) >= tol1 ? x + d : x + (d > 0 ? tol1 : -tol1);
    const double fu = sse(u);
    if (fu <= fx) {
      if (u >= x)
        lo = x;
      else
        hi = x;
      v = w;
      fv = fw;
      w = x;
      fw = fx;
      x = u;
      fx = fu;
    } else {
      if (u < x)
        lo = u;
      else
        hi = u;
      if (fu <= fw || w == x) {
        v = w;
        fv = fw;
        w = u;
        fw = fu;
      } else if (fu <= fv || v == x || v == w) {
        v = u;
        fv = fu;
      }
    }
  }
  const Profile p = ProfileSse(y, x);
  return RunSes(y, x, p.l0, nullptr);
}

}  // namespace almanac::models
