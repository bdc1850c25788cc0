#include "models/ets/ets_core.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace almanac::models::ets {
namespace {

// R's usual lower bound of alpha, beta and gamma (FitControl's default).
constexpr double kUsualLowerBound = 1e-4;

// Guards of R's recursion: a divisor below kTol is replaced by a huge ratio.
constexpr double kTol = 1.0e-10;
constexpr double kHuge = 1.0e10;

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

// The forecast of step j (0-based) from (l, b, seasons) for the trend part only, as R's
// etsforecast: phistar = phi + phi^2 + ... + phi^(j+1).
template <Comp T>
inline double TrendPart(double l, double b, double phistar) {
  if constexpr (T == Comp::kN) {
    return l;
  } else if constexpr (T == Comp::kA) {
    return l + phistar * b;
  } else {
    if (b < 0) return kNaForecast;
    return l * std::pow(b, phistar);
  }
}

struct KernelOut {
  double* e = nullptr;      // n innovations
  double* amse = nullptr;   // nmse
  double* denom = nullptr;  // nmse scratch
  int nmse = 0;
  double* last = nullptr;  // final state (R layout)
};

// The recursion of R's etscalc for one form, with the seasonal states in a ring buffer:
// buf[pos] is the oldest seasonal state (R's s_m), buf[pos-1] the newest (s_1).
template <Comp T, Comp S, bool kMultErr, bool kOut>
double Kernel(const double* y, int n, int m, const double* x0, const Smoothing& p, double* buf, const KernelOut* out) {
  double l = x0[0];
  double b = T != Comp::kN ? x0[1] : 0.0;
  constexpr int kSOff = T != Comp::kN ? 2 : 1;
  if constexpr (S != Comp::kN) {
    for (int k = 0; k < m; ++k) buf[k] = x0[kSOff + m - 1 - k];
  }
  int pos = 0;
  const double alpha = p.alpha, gamma = p.gamma, phi = p.phi;
  const double ratio = p.beta / p.alpha;
  const bool phi_one = std::fabs(phi - 1.0) < kTol;
  const int nmse = kOut ? out->nmse : 0;
  if (nmse > 0) {
    for (int j = 0; j < nmse; ++j) out->amse[j] = out->denom[j] = 0.0;
  }
  double sse = 0.0, logsum = 0.0;
  // sum log|f| is accumulated as a product with a separate binary exponent (one log per
  // pass instead of one per observation: the log was a third of the fitting time).
  double prod = 1.0;
  int expo = 0;
  for (int i = 0; i < n; ++i) {
    // One-step forecast (and the level/trend prediction q and damped growth phib).
    double f = TrendPart<T>(l, b, phi);
    double q, phib;
    if constexpr (T == Comp::kN) {
      q = l;
      phib = 0.0;
    } else if constexpr (T == Comp::kA) {
      phib = phi * b;
      q = l + phib;
    } else {
      if (phi_one) {
        phib = b;
        q = l * b;
      } else {
        phib = std::pow(b, phi);
        q = l * phib;
      }
    }
    const double s_old = S != Comp::kN ? buf[pos] : 0.0;
    if constexpr (S == Comp::kA) f = f + s_old;
    if constexpr (S == Comp::kM) f = f * s_old;
    // R marks a negative multiplicative trend with an NA forecast and gives up on the pass.
    if constexpr (T == Comp::kM) {
      if (std::fabs(f - kNaForecast) < kTol) return std::numeric_limits<double>::quiet_NaN();
    }
    const double yi = y[i];
    const double ei = kMultErr ? (yi - f) / f : yi - f;
    if constexpr (kOut) {
      out->e[i] = ei;
      if (nmse > 0) {
        double phistar = phi;
        for (int j = 0; j < nmse && i + j < n; ++j) {
          double fj = TrendPart<T>(l, b, phistar);
          if constexpr (S != Comp::kN) {
            const double sj = buf[(pos + j) % m];
            if constexpr (S == Comp::kA)
              fj = fj + sj;
            else
              fj = fj * sj;
          }
          out->denom[j] += 1.0;
          const double d = y[i + j] - fj;
          out->amse[j] = (out->amse[j] * (out->denom[j] - 1.0) + d * d) / out->denom[j];
          phistar = phi_one ? phistar + 1.0 : phistar + std::pow(phi, j + 1);
        }
      }
    }
    // Update (the same equations serve both error types).
    double obs;
    if constexpr (S == Comp::kN) {
      obs = yi;
    } else if constexpr (S == Comp::kA) {
      obs = yi - s_old;
    } else {
      obs = std::fabs(s_old) < kTol ? kHuge : yi / s_old;
    }
    const double l_new = q + alpha * (obs - q);
    if constexpr (T != Comp::kN) {
      double r;
      if constexpr (T == Comp::kA) {
        r = l_new - l;
      } else {
        r = std::fabs(l) < kTol ? kHuge : l_new / l;
      }
      b = phib + ratio * (r - phib);
    }
    if constexpr (S != Comp::kN) {
      double t;
      if constexpr (S == Comp::kA) {
        t = yi - q;
      } else {
        t = std::fabs(q) < kTol ? kHuge : yi / q;
      }
      buf[pos] = s_old + gamma * (t - s_old);
      pos = pos + 1 == m ? 0 : pos + 1;
    }
    l = l_new;
    sse = sse + ei * ei;
    if constexpr (kMultErr) {
      const double af = std::fabs(f);
      if (!(af <= 1e150 && af >= 1e-150)) {  // also NaN
        logsum += std::log(af);
      } else {
        prod *= af;
        if (prod > 0x1p500 || prod < 0x1p-500) {
          int e2;
          prod = std::frexp(prod, &e2);
          expo += e2;
        }
      }
    }
  }
  if constexpr (kMultErr) logsum += std::log(prod) + expo * 0.69314718055994530942;
  if (kOut && out->last != nullptr) {
    out->last[0] = l;
    if constexpr (T != Comp::kN) out->last[1] = b;
    if constexpr (S != Comp::kN) {
      for (int j = 1; j <= m; ++j) out->last[kSOff + j - 1] = buf[(pos + m - j) % m];
    }
  }
  double lik = n * std::log(sse);
  if constexpr (kMultErr) lik += 2 * logsum;
  return lik;
}

// Several likelihood passes side by side, for the optimiser's look-ahead
// (NelderMeadSpeculative): the same arithmetic as Kernel<T, S, kMultErr, false> on each of
// L parameter sets, in vectors of L doubles (V). One pass of Kernel is bound by the latency
// of the level/trend recursion (each step waits for the previous one), so the other
// recursions fill idle execution slots: on an M3 monthly series two lanes (SSE2) cost
// 1.0-1.1 single passes with a trend and 1.0-1.5 without (where the recursion is short and
// divisions dominate); four lanes (AVX) 1.0-1.3 with a trend. Element-wise vector operations
// round exactly as the scalar ones (the build does not contract them into fused
// multiply-adds, and AVX has none), so each value is bit-identical to Kernel's;
// FitForm.LookAheadGivesIdenticalFits in ets_core_test checks it. GCC/Clang vector
// extensions. Not for multiplicative trends (std::pow per step, early exit on a negative
// trend), which keep the scalar kernel and no look-ahead. Always inlined, so that the AVX
// instantiations are compiled for AVX inside their [[gnu::target("avx")]] callers.
using Vec2 = double __attribute__((vector_size(16)));
using Vec4 = double __attribute__((vector_size(32)));

template <typename V, int L, Comp T, Comp S, bool kMultErr>
[[gnu::always_inline]] inline void KernelLanes(const double* y, int n, int m, const double* const* x0,
                                               const Smoothing* const* p, double* buf, double* lik) {
  static_assert(T != Comp::kM, "multiplicative trends use the scalar kernel");
  static_assert(sizeof(V) == L * sizeof(double));
  using Mask = decltype(V{} < V{});
  constexpr int kSOff = T != Comp::kN ? 2 : 1;
  V l, b = {}, alpha, gamma, phi, ratio;
  for (int j = 0; j < L; ++j) {
    l[j] = x0[j][0];
    if constexpr (T != Comp::kN) b[j] = x0[j][1];
    alpha[j] = p[j]->alpha;
    gamma[j] = p[j]->gamma;
    phi[j] = p[j]->phi;
    ratio[j] = p[j]->beta / p[j]->alpha;
  }
  // buf[L k + j] is seasonal slot k of parameter set j (the ring buffer of Kernel).
  if constexpr (S != Comp::kN) {
    for (int k = 0; k < m; ++k)
      for (int j = 0; j < L; ++j) buf[L * k + j] = x0[j][kSOff + m - 1 - k];
  }
  const V zero = {};
  const Mask abs_mask = ~reinterpret_cast<Mask>(-zero);  // all bits but the sign
  // |x| by clearing the sign bit (a lambda would pass AVX vectors by value across the ABI).
#define ALMANAC_ETS_ABS(x) reinterpret_cast<V>(reinterpret_cast<Mask>(x) & abs_mask)
  const V tol = zero + kTol, huge = zero + kHuge;
  const V f_lo = zero + 1e-150, f_hi = zero + 1e150;
  const V p_lo = zero + 0x1p-500, p_hi = zero + 0x1p500;
  V sse = zero, prod = zero + 1.0;
  double logsum[L] = {};
  int expo[L] = {};
  int pos = 0;
  for (int i = 0; i < n; ++i) {
    const V yi = zero + y[i];
    V q, phib;
    if constexpr (T == Comp::kN) {
      q = l;
      phib = zero;
    } else {
      phib = phi * b;
      q = l + phib;
    }
    V s_old = zero;
    if constexpr (S != Comp::kN) std::memcpy(&s_old, buf + L * pos, sizeof s_old);
    V f = q;
    if constexpr (S == Comp::kA) f = f + s_old;
    if constexpr (S == Comp::kM) f = f * s_old;
    V ei;
    if constexpr (kMultErr) {
      ei = (yi - f) / f;
    } else {
      ei = yi - f;
    }
    V obs;
    if constexpr (S == Comp::kN) {
      obs = yi;
    } else if constexpr (S == Comp::kA) {
      obs = yi - s_old;
    } else {
      obs = ALMANAC_ETS_ABS(s_old) < tol ? huge : yi / s_old;
    }
    const V l_new = q + alpha * (obs - q);
    if constexpr (T != Comp::kN) {
      const V r = l_new - l;
      b = phib + ratio * (r - phib);
    }
    if constexpr (S != Comp::kN) {
      V t;
      if constexpr (S == Comp::kA) {
        t = yi - q;
      } else {
        t = ALMANAC_ETS_ABS(q) < tol ? huge : yi / q;
      }
      const V s_new = s_old + gamma * (t - s_old);
      std::memcpy(buf + L * pos, &s_new, sizeof s_new);
      pos = pos + 1 == m ? 0 : pos + 1;
    }
    l = l_new;
    sse = sse + ei * ei;
    if constexpr (kMultErr) {
      // Kernel's product of |f| with its rare cases (a factor out of range: its log is
      // added; the product out of range: renormalised) done lane by lane when they occur.
      const V af = ALMANAC_ETS_ABS(f);
      const V next = prod * af;
      const Mask ok = (af <= f_hi) & (af >= f_lo) & (next <= p_hi) & (next >= p_lo);
      bool all = true;
      for (int j = 0; j < L; ++j) all = all && ok[j] != 0;
      if (all) {
        prod = next;
      } else {
        for (int j = 0; j < L; ++j) {
          const double a = af[j];
          if (!(a <= 1e150 && a >= 1e-150)) {
            logsum[j] += std::log(a);
          } else {
            double pr = prod[j] * a;
            if (pr > 0x1p500 || pr < 0x1p-500) {
              int e2;
              pr = std::frexp(pr, &e2);
              expo[j] += e2;
            }
            prod[j] = pr;
          }
        }
      }
    }
  }
  for (int j = 0; j < L; ++j) {
    double v = n * std::log(sse[j]);
    if constexpr (kMultErr) v += 2 * (logsum[j] + (std::log(prod[j]) + expo[j] * 0.69314718055994530942));
    lik[j] = v;
  }
}

template <Comp T, Comp S>
double DispatchErr(bool mult, const double* y, int n, int m, const double* x0, const Smoothing& p, double* buf,
                   const KernelOut* out) {
  if (out != nullptr)
    return mult ? Kernel<T, S, true, true>(y, n, m, x0, p, buf, out)
                : Kernel<T, S, false, true>(y, n, m, x0, p, buf, out);
  return mult ? Kernel<T, S, true, false>(y, n, m, x0, p, buf, out)
              : Kernel<T, S, false, false>(y, n, m, x0, p, buf, out);
}

template <Comp T>
double DispatchSeason(Comp s, bool mult, const double* y, int n, int m, const double* x0, const Smoothing& p,
                      double* buf, const KernelOut* out) {
  switch (s) {
    case Comp::kN:
      return DispatchErr<T, Comp::kN>(mult, y, n, m, x0, p, buf, out);
    case Comp::kA:
      return DispatchErr<T, Comp::kA>(mult, y, n, m, x0, p, buf, out);
    case Comp::kM:
      return DispatchErr<T, Comp::kM>(mult, y, n, m, x0, p, buf, out);
  }
  return std::numeric_limits<double>::quiet_NaN();
}

double Dispatch(const Form& form, const double* y, int n, const double* x0, const Smoothing& p, double* buf,
                const KernelOut* out) {
  const bool mult = form.error == Comp::kM;
  const int m = form.season != Comp::kN ? form.m : 1;
  switch (form.trend) {
    case Comp::kN:
      return DispatchSeason<Comp::kN>(form.season, mult, y, n, m, x0, p, buf, out);
    case Comp::kA:
      return DispatchSeason<Comp::kA>(form.season, mult, y, n, m, x0, p, buf, out);
    case Comp::kM:
      return DispatchSeason<Comp::kM>(form.season, mult, y, n, m, x0, p, buf, out);
  }
  return std::numeric_limits<double>::quiet_NaN();
}

// KernelLanes for the form (not for multiplicative trends); buf needs L m slots.
template <typename V, int L>
[[gnu::always_inline]] inline void DispatchLanes(const Form& form, const double* y, int n, const double* const* x0,
                                                 const Smoothing* const* p, double* buf, double* lik) {
  const int m = form.season != Comp::kN ? form.m : 1;
  const bool mult = form.error == Comp::kM;
  const bool trend = form.trend != Comp::kN;
#define ALMANAC_ETS_LANES(T, S)                                   \
  (mult ? KernelLanes<V, L, T, S, true>(y, n, m, x0, p, buf, lik) \
        : KernelLanes<V, L, T, S, false>(y, n, m, x0, p, buf, lik))
  switch (form.season) {
    case Comp::kN:
      trend ? ALMANAC_ETS_LANES(Comp::kA, Comp::kN) : ALMANAC_ETS_LANES(Comp::kN, Comp::kN);
      break;
    case Comp::kA:
      trend ? ALMANAC_ETS_LANES(Comp::kA, Comp::kA) : ALMANAC_ETS_LANES(Comp::kN, Comp::kA);
      break;
    case Comp::kM:
      trend ? ALMANAC_ETS_LANES(Comp::kA, Comp::kM) : ALMANAC_ETS_LANES(Comp::kN, Comp::kM);
      break;
  }
#undef ALMANAC_ETS_LANES
}

// Two lanes in SSE2 vectors (every x86-64; elsewhere the compiler's 2-wide vectors).
void DispatchPair(const Form& form, const double* y, int n, const double* const* x0, const Smoothing* const* p,
                  double* buf, double* lik) {
  DispatchLanes<Vec2, 2>(form, y, n, x0, p, buf, lik);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// Four lanes in AVX vectors, for processors that have AVX (HasAvx()).
[[gnu::target("avx")]] void DispatchQuad(const Form& form, const double* y, int n, const double* const* x0,
                                         const Smoothing* const* p, double* buf, double* lik) {
  DispatchLanes<Vec4, 4>(form, y, n, x0, p, buf, lik);
}
bool HasAvx() {
  static const bool has = __builtin_cpu_supports("avx");
  return has;
}
#else
void DispatchQuad(const Form&, const double*, int, const double* const*, const Smoothing* const*, double*, double*) {}
bool HasAvx() { return false; }
#endif

// RootsWithin() on L polynomials of degree d in the lanes of V: the same operations per
// lane; a lane that fails stays failed (its later arithmetic is ignored).
template <typename V, int L>
[[gnu::always_inline]] inline void RootsLanes(const double* const* c, int d, double radius, bool* inside) {
  using Mask = decltype(V{} < V{});
  V buf_a[kMaxPolyCoefs], buf_b[kMaxPolyCoefs];
  V* a = buf_a;
  V* next = buf_b;
  double scale = 1.0;
  for (int k = 0; k <= d; ++k) {
    for (int j = 0; j < L; ++j) a[k][j] = c[j][k] * scale;
    scale *= radius;
  }
  const V zero = {};
  const V one = zero + 1.0;
  const Mask abs_mask = ~reinterpret_cast<Mask>(-zero);  // all bits but the sign
  Mask alive = zero == zero;
  V lo = a[0], hi = a[d];
  for (int deg = d; deg >= 1; --deg) {
    const V k = lo / hi;
    alive &= reinterpret_cast<V>(reinterpret_cast<Mask>(k) & abs_mask) < one;  // also NaN
    bool any = false;
    for (int j = 0; j < L; ++j) any = any || alive[j] != 0;
    if (!any) break;
    lo = a[1] - k * a[deg - 1];
    hi = a[deg] - k * a[0];
    for (int i = 2; i < deg; ++i) next[i - 1] = a[i] - k * a[deg - i];
    next[0] = lo;
    next[deg - 1] = hi;
    std::swap(a, next);
  }
  for (int j = 0; j < L; ++j) inside[j] = alive[j] != 0;
}

void RootsPair(const double* const* c, int d, double radius, bool* inside) {
  RootsLanes<Vec2, 2>(c, d, radius, inside);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
[[gnu::target("avx")]] void RootsQuad(const double* const* c, int d, double radius, bool* inside) {
  RootsLanes<Vec4, 4>(c, d, radius, inside);
}
#else
void RootsQuad(const double* const* c, int d, double radius, bool* inside) {
  RootsPair(c, d, radius, inside);
  RootsPair(c + 2, d, radius, inside + 2);
}
#endif

// R's initparam(): starting values of the parameters to estimate.
struct StartParams {
  double alpha, beta, gamma, phi;
};

Result<StartParams> InitParams(const Form& form, const FitControl& ctl, const double* lower_in, const double* upper_in,
                               int m) {
  double lo[4], up[4];
  std::copy(lower_in, lower_in + 4, lo);
  std::copy(upper_in, upper_in + 4, up);
  if (ctl.bounds == Bounds::kAdmissible) {
    for (int i = 0; i < 3; ++i) {
      lo[i] = 0.0;
      up[i] = 0.001;
    }
  } else {
    for (int i = 0; i < 4; ++i)
      if (lo[i] > up[i])
        return InvalidArgumentError(
            "inconsistent parameter bounds (a fixed smoothing parameter leaves an empty range "
            "for another)");
  }
  StartParams s{};
  if (std::isnan(ctl.alpha)) {
    s.alpha = lo[0] + 0.2 * (up[0] - lo[0]) / m;
    if (s.alpha > 1 || s.alpha < 0) s.alpha = lo[0] + 0.002;
  } else {
    s.alpha = ctl.alpha;
  }
  if (form.trend != Comp::kN && std::isnan(ctl.beta)) {
    up[1] = std::min(up[1], s.alpha);
    s.beta = lo[1] + 0.1 * (up[1] - lo[1]);
    if (s.beta < 0 || s.beta > s.alpha) s.beta = s.alpha - 0.001;
  } else {
    s.beta = ctl.beta;
  }
  if (form.season != Comp::kN && std::isnan(ctl.gamma)) {
    up[2] = std::min(up[2], 1 - s.alpha);
    s.gamma = lo[2] + 0.05 * (up[2] - lo[2]);
    if (s.gamma < 0 || s.gamma > 1 - s.alpha) s.gamma = 1 - s.alpha - 0.001;
  } else {
    s.gamma = ctl.gamma;
  }
  if (form.damped && std::isnan(ctl.phi)) {
    s.phi = lo[3] + 0.99 * (up[3] - lo[3]);
    if (s.phi < 0 || s.phi > 1) s.phi = up[3] - 0.001;
  } else {
    s.phi = ctl.phi;
  }
  return s;
}

// The objective R's optimiser sees: parameters to estimate (alpha, beta, gamma, phi, in that
// order, those not fixed), then the initial states without the last seasonal one.
class Target {
 public:
  Target(const Form& form, std::span<const double> y, const FitControl& ctl, const double* lower, const double* upper,
         int nstate)
      : form_(form), y_(y), ctl_(ctl), nstate_(nstate) {
    std::copy(lower, lower + 4, lower_);
    std::copy(upper, upper + 4, upper_);
    m_ = form.season != Comp::kN ? form.m : 1;
    opt_alpha_ = std::isnan(ctl.alpha);
    opt_beta_ = form.trend != Comp::kN && std::isnan(ctl.beta);
    opt_gamma_ = form.season != Comp::kN && std::isnan(ctl.gamma);
    opt_phi_ = form.damped && std::isnan(ctl.phi);
    has_beta_ = form.trend != Comp::kN;
    has_gamma_ = form.season != Comp::kN;
    base_.alpha = ctl.alpha;
    base_.beta = has_beta_ ? ctl.beta : 0.0;
    base_.gamma = has_gamma_ ? ctl.gamma : 0.0;
    base_.phi = form.damped ? ctl.phi : 1.0;
    x0_.assign(static_cast<size_t>(form.NumStates()), 0.0);
    buf_.assign(static_cast<size_t>(m_), 0.0);
    x0_lanes_.assign(4 * x0_.size(), 0.0);
    buf_lanes_.assign(4 * buf_.size(), 0.0);
    if (ctl.crit != OptCrit::kLik) {
      e_.assign(y.size(), 0.0);
      amse_.assign(static_cast<size_t>(ctl.nmse), 0.0);
      denom_.assign(static_cast<size_t>(ctl.nmse), 0.0);
    }
  }

  int NumOpt() const { return opt_alpha_ + opt_beta_ + opt_gamma_ + opt_phi_; }

  // Unpacks a parameter vector into smoothing parameters and the full initial state.
  void Unpack(const double* par, Smoothing* p, double* x0) const {
    UnpackSmoothing(par, p);
    const int j = NumOpt();
    for (int i = 0; i < nstate_; ++i) x0[i] = par[j + i];
    if (form_.season != Comp::kN) {
      const int start = form_.trend != Comp::kN ? 2 : 1;
      double sum = 0;
      for (int i = start; i < nstate_; ++i) sum += x0[i];
      x0[nstate_] = m_ * (form_.season == Comp::kM ? 1.0 : 0.0) - sum;
    }
  }

  // The usual bounds and the admissibility conditions short of the root test; the
  // polynomial still to test, if any, in c[0..*degree] (kMaxPolyCoefs slots).
  // The smoothing parameters only (the bounds and admissibility need nothing else).
  void UnpackSmoothing(const double* par, Smoothing* p) const {
    *p = base_;
    int j = 0;
    if (opt_alpha_) p->alpha = par[j++];
    if (opt_beta_) p->beta = par[j++];
    if (opt_gamma_) p->gamma = par[j++];
    if (opt_phi_) p->phi = par[j++];
  }

  bool LinearOk(const Smoothing& p, double* c, int* degree) const {
    *degree = 0;
    if (ctl_.bounds != Bounds::kAdmissible) {
      if (opt_alpha_ && (p.alpha < lower_[0] || p.alpha > upper_[0])) return false;
      if (opt_beta_ && (p.beta < lower_[1] || p.beta > p.alpha || p.beta > upper_[1])) return false;
      if (opt_phi_ && (p.phi < lower_[3] || p.phi > upper_[3])) return false;
      if (opt_gamma_ && (p.gamma < lower_[2] || p.gamma > 1 - p.alpha || p.gamma > upper_[2])) return false;
    }
    if (ctl_.bounds != Bounds::kUsual) {
      return AdmissibleLinear(p.alpha, p.beta, has_beta_, p.gamma, has_gamma_, p.phi, m_, c, degree);
    }
    return true;
  }

  // Multiplicative seasonal states must not be negative (the last one included, which the
  // normalisation implies).
  bool SeasonsOk(const double* par) {
    if (form_.season != Comp::kM) return true;
    Smoothing unused;
    Unpack(par, &unused, x0_.data());
    const int start = form_.trend != Comp::kN ? 2 : 1;
    double mn = HUGE_VAL;
    for (int i = start; i <= nstate_; ++i) mn = std::min(mn, x0_[i]);
    return !(mn < 0);
  }

  // R's clean-up of the likelihood value.
  static double Clean(double lik) {
    if (lik < -1e10) lik = -1e10;
    if (std::isnan(lik)) lik = HUGE_VAL;
    if (std::fabs(lik - kNaForecast) < 1e-7) lik = HUGE_VAL;
    return lik;
  }

  // The objective at `par` (NelderMead's interface).
  double operator()(const double* par) {
    double v;
    return Cheap(par, &v) ? v : Full(par);
  }

  // NelderMeadSpeculative's interface (BatchObjective). Cheap: true, with the value
  // HUGE_VAL, when the parameters are rejected before any pass over the data.
  bool Cheap(const double* par, double* value) {
    Smoothing p;
    UnpackSmoothing(par, &p);
    double c[kMaxPolyCoefs];
    int d;
    if (LinearOk(p, c, &d) && SeasonsOk(par) &&
        (d == 0 || RootsWithin(std::span<const double>(c, static_cast<size_t>(d + 1)), kAdmissibleRadius)))
      return false;
    *value = HUGE_VAL;
    return true;
  }

  // Cheap() without the root test of the admissibility condition (the slow part).
  bool Quick(const double* par, double* value) {
    Smoothing p;
    UnpackSmoothing(par, &p);
    double c[kMaxPolyCoefs];
    int d;
    if (LinearOk(p, c, &d) && SeasonsOk(par)) return false;
    *value = HUGE_VAL;
    return true;
  }

  // The root tests of k points that passed Quick(), side by side: rejected[j] (with the
  // value HUGE_VAL) when point j fails.
  void SlowMany(const double* const* xs, int k, bool* rejected, double* values) {
    double c[kMaxLanes][kMaxPolyCoefs];
    const double* cs[kMaxLanes];
    int degree[kMaxLanes];
    bool same = true;
    for (int j = 0; j < k; ++j) {
      Smoothing p;
      UnpackSmoothing(xs[j], &p);
      LinearOk(p, c[j], &degree[j]);
      cs[j] = c[j];
      same = same && degree[j] == degree[0];
    }
    bool inside[kMaxLanes];
    if (same && degree[0] > 0) {
      RootsWithinMany(cs, k, degree[0], kAdmissibleRadius, inside);
    } else {
      for (int j = 0; j < k; ++j)
        inside[j] = degree[j] == 0 ||
                    RootsWithin(std::span<const double>(c[j], static_cast<size_t>(degree[j] + 1)), kAdmissibleRadius);
    }
    for (int j = 0; j < k; ++j) {
      rejected[j] = !inside[j];
      values[j] = HUGE_VAL;
    }
  }

  // The objective at a point that Cheap() accepted.
  double Full(const double* par) {
    Smoothing p;
    double* x0 = x0_.data();
    Unpack(par, &p, x0);
    const int n = static_cast<int>(y_.size());
    if (ctl_.crit == OptCrit::kLik) return Clean(Dispatch(form_, y_.data(), n, x0, p, buf_.data(), nullptr));
    KernelOut out;
    out.e = e_.data();
    out.amse = amse_.data();
    out.denom = denom_.data();
    out.nmse = ctl_.nmse;
    const double lik = Clean(Dispatch(form_, y_.data(), n, x0, p, buf_.data(), &out));
    switch (ctl_.crit) {
      case OptCrit::kLik:
        return lik;
      case OptCrit::kMse:
        return amse_[0];
      case OptCrit::kAmse: {
        double s = 0;
        for (double a : amse_) s += a;
        return s / ctl_.nmse;
      }
      case OptCrit::kSigma: {
        double s = 0;
        for (double e : e_) s += e * e;
        return s / n;
      }
      case OptCrit::kMae: {
        double s = 0;
        for (double e : e_) s += std::fabs(e);
        return s / n;
      }
    }
    return lik;
  }

  // How many points FullMany() evaluates in one pass: 4 with AVX, else 2, or 1 where the
  // kernel has no multi-lane version (multiplicative trends, criteria other than the
  // likelihood), capped by FitControl::lanes.
  int Lanes() const {
    if (ctl_.crit != OptCrit::kLik || form_.trend == Comp::kM || ctl_.lanes < 2) return 1;
    return ctl_.lanes >= 3 && HasAvx() ? std::min(ctl_.lanes, 4) : 2;
  }

  // Full() at k <= Lanes() points that Cheap() accepted, in one pass.
  void FullMany(const double* const* xs, int k, double* out) {
    if (k == 1 || Lanes() == 1) {
      for (int j = 0; j < k; ++j) out[j] = Full(xs[j]);
      return;
    }
    const int lanes = k == 2 ? 2 : 4;
    Smoothing par[4];
    const double* x0[4];
    const Smoothing* pp[4];
    for (int j = 0; j < lanes; ++j) {
      // Unused lanes repeat the first point (any valid input will do).
      const int src = j < k ? j : 0;
      double* x = x0_lanes_.data() + static_cast<size_t>(j) * x0_.size();
      Unpack(xs[src], &par[j], x);
      x0[j] = x;
      pp[j] = &par[j];
    }
    double lik[4];
    if (lanes == 2) {
      DispatchPair(form_, y_.data(), static_cast<int>(y_.size()), x0, pp, buf_lanes_.data(), lik);
    } else {
      DispatchQuad(form_, y_.data(), static_cast<int>(y_.size()), x0, pp, buf_lanes_.data(), lik);
    }
    for (int j = 0; j < k; ++j) out[j] = Clean(lik[j]);
  }

 private:
  Form form_;
  std::span<const double> y_;
  FitControl ctl_;
  int nstate_;
  int m_ = 1;
  double lower_[4], upper_[4];
  bool opt_alpha_, opt_beta_, opt_gamma_, opt_phi_, has_beta_, has_gamma_;
  Smoothing base_;
  std::vector<double> x0_, buf_, e_, amse_, denom_;
  std::vector<double> x0_lanes_, buf_lanes_;  // FullMany's initial states and seasonal buffers
};

}  // namespace

char CompChar(Comp c) {
  switch (c) {
    case Comp::kN:
      return 'N';
    case Comp::kA:
      return 'A';
    case Comp::kM:
      return 'M';
  }
  return '?';
}

std::string Form::Name() const {
  std::string s = "ETS(";
  s += CompChar(error);
  s += ',';
  s += CompChar(trend);
  if (damped) s += 'd';
  s += ',';
  s += CompChar(season);
  s += ')';
  return s;
}

std::string Form::Code() const {
  std::string s;
  s += CompChar(error);
  s += CompChar(trend);
  if (damped) s += 'd';
  s += CompChar(season);
  return s;
}

Pass RunPass(const Form& form, const Smoothing& par, std::span<const double> y, std::span<const double> x0, bool record,
             int nmse) {
  Pass pass;
  const int n = static_cast<int>(y.size());
  std::vector<double> buf(static_cast<size_t>(std::max(1, form.m)), 0.0);
  std::vector<double> denom;
  KernelOut out;
  if (record || nmse > 0) {
    pass.e.assign(static_cast<size_t>(n), 0.0);
    pass.last_state.assign(static_cast<size_t>(form.NumStates()), 0.0);
    out.e = pass.e.data();
    out.last = pass.last_state.data();
    if (nmse > 0) {
      pass.amse.assign(static_cast<size_t>(nmse), 0.0);
      denom.assign(static_cast<size_t>(nmse), 0.0);
      out.amse = pass.amse.data();
      out.denom = denom.data();
      out.nmse = nmse;
    }
    pass.lik = Dispatch(form, y.data(), n, x0.data(), par, buf.data(), &out);
  } else {
    pass.lik = Dispatch(form, y.data(), n, x0.data(), par, buf.data(), nullptr);
  }
  return pass;
}

double LikOnly(const Form& form, const Smoothing& par, const double* y, int n, const double* x0, double* season_buf) {
  return Dispatch(form, y, n, x0, par, season_buf, nullptr);
}

std::vector<double> PointForecast(const Form& form, double phi, std::span<const double> x, int h) {
  std::vector<double> f(static_cast<size_t>(h), 0.0);
  const double l = x[0];
  const double b = form.trend != Comp::kN ? x[1] : 0.0;
  const int soff = form.trend != Comp::kN ? 2 : 1;
  const int m = form.season != Comp::kN ? form.m : 1;
  double phistar = phi;
  const bool phi_one = std::fabs(phi - 1.0) < kTol;
  for (int i = 0; i < h; ++i) {
    double v;
    switch (form.trend) {
      case Comp::kN:
        v = TrendPart<Comp::kN>(l, b, phistar);
        break;
      case Comp::kA:
        v = TrendPart<Comp::kA>(l, b, phistar);
        break;
      default:
        v = TrendPart<Comp::kM>(l, b, phistar);
        break;
    }
    if (form.season != Comp::kN) {
      // R: s[j] with j = m-1-i (mod m); s[k] is state s_{k+1}.
      int j = m - 1 - (i % m);
      const double s = x[soff + j];
      v = form.season == Comp::kA ? v + s : v * s;
    }
    f[i] = v;
    if (i < h - 1) phistar = phi_one ? phistar + 1.0 : phistar + std::pow(phi, i + 1);
  }
  if (h > 0 && std::fabs(f[0] - kNaForecast) < kTol) std::fill(f.begin(), f.end(), kNaForecast);
  return f;
}

double OneStepForecast(const Form& form, double phi, const double* x) {
  const double l = x[0];
  const double b = form.trend != Comp::kN ? x[1] : 0.0;
  double v;
  switch (form.trend) {
    case Comp::kN:
      v = TrendPart<Comp::kN>(l, b, phi);
      break;
    case Comp::kA:
      v = TrendPart<Comp::kA>(l, b, phi);
      break;
    default:
      v = TrendPart<Comp::kM>(l, b, phi);
      break;
  }
  if (form.season != Comp::kN) {
    const int soff = form.trend != Comp::kN ? 2 : 1;
    const double s = x[soff + form.m - 1];
    v = form.season == Comp::kA ? v + s : v * s;
  }
  return v;
}

void UpdateState(const Form& form, const Smoothing& p, double* x, double y, double* scratch) {
  const int m = form.season != Comp::kN ? form.m : 1;
  const int soff = form.trend != Comp::kN ? 2 : 1;
  const double oldl = x[0];
  const double oldb = form.trend != Comp::kN ? x[1] : 0.0;
  double q, phib;
  switch (form.trend) {
    case Comp::kN:
      q = oldl;
      phib = 0;
      break;
    case Comp::kA:
      phib = p.phi * oldb;
      q = oldl + phib;
      break;
    default:
      if (std::fabs(p.phi - 1.0) < kTol) {
        phib = oldb;
        q = oldl * oldb;
      } else {
        phib = std::pow(oldb, p.phi);
        q = oldl * phib;
      }
  }
  const double s_old = form.season != Comp::kN ? x[soff + m - 1] : 0.0;
  double obs = y;
  if (form.season == Comp::kA) obs = y - s_old;
  if (form.season == Comp::kM) obs = std::fabs(s_old) < kTol ? kHuge : y / s_old;
  const double l = q + p.alpha * (obs - q);
  x[0] = l;
  if (form.trend != Comp::kN) {
    double r = form.trend == Comp::kA ? l - oldl : (std::fabs(oldl) < kTol ? kHuge : l / oldl);
    x[1] = phib + (p.beta / p.alpha) * (r - phib);
  }
  if (form.season != Comp::kN) {
    double t = form.season == Comp::kA ? y - q : (std::fabs(q) < kTol ? kHuge : y / q);
    for (int j = 0; j < m; ++j) scratch[j] = x[soff + j];
    x[soff] = s_old + p.gamma * (t - s_old);
    for (int j = 1; j < m; ++j) x[soff + j] = scratch[j - 1];
  }
}

bool RootsWithin(std::span<const double> c, double radius) {
  // Work on q(z) = p(radius * z): its roots are those of p divided by `radius`.
  const int d = static_cast<int>(c.size()) - 1;
  if (d < 1) return true;
  if (d >= 64) return false;
  double buf_a[64], buf_b[64];
  double* a = buf_a;
  double* next = buf_b;
  double scale = 1.0;
  for (int k = 0; k <= d; ++k) {
    a[k] = c[k] * scale;
    scale *= radius;
  }
  // Schur-Cohn: all roots strictly inside the unit circle iff |a0| < |ad| and the reduced
  // polynomial (ad*p(z) - a0*p*(z))/z has the same property, where p* reverses p. Its
  // leading coefficient is ad * (1 - k^2) with k = a0/ad, so magnitudes stay bounded.
  // The end coefficients of each reduced polynomial, which give the next k, are computed
  // first and kept in registers: the chain of divisions is what this test waits for, and a
  // round trip through memory would lengthen it (same operations, same results).
  double lo = a[0], hi = a[d];
  for (int deg = d; deg >= 1; --deg) {
    const double k = lo / hi;
    if (!(std::fabs(k) < 1.0)) return false;  // also rejects NaN and a zero leading term
    lo = a[1] - k * a[deg - 1];
    hi = a[deg] - k * a[0];
    for (int i = 2; i < deg; ++i) next[i - 1] = a[i] - k * a[deg - i];
    next[0] = lo;
    next[deg - 1] = hi;
    std::swap(a, next);
  }
  return true;
}

void RootsWithinMany(const double* const* c, int k, int d, double radius, bool* inside) {
  if (k == 1 || d < 1 || d >= kMaxPolyCoefs) {
    for (int j = 0; j < k; ++j)
      inside[j] = RootsWithin(std::span<const double>(c[j], static_cast<size_t>(d + 1)), radius);
    return;
  }
  // Unused lanes repeat the first polynomial.
  const double* cc[4] = {c[0], c[k > 1 ? 1 : 0], c[k > 2 ? 2 : 0], c[k > 3 ? 3 : 0]};
  bool in[4];
  if (k == 2) {
    RootsPair(cc, d, radius, in);
  } else if (HasAvx()) {
    RootsQuad(cc, d, radius, in);
  } else {
    RootsPair(cc, d, radius, in);
    RootsPair(cc + 2, d, radius, in + 2);
  }
  for (int j = 0; j < k; ++j) inside[j] = in[j];
}

bool AdmissibleLinear(double alpha, double beta, bool has_beta, double gamma, bool has_gamma, double phi, int m,
                      double* c, int* degree) {
  *degree = 0;
  if (phi < 0 || phi > 1 + 1e-8) return false;
  if (!has_gamma) {
    if (alpha < 1 - 1 / phi || alpha > 1 + 1 / phi) return false;
    if (has_beta) {
      if (beta < alpha * (phi - 1) || beta > (1 + phi) * (2 - alpha)) return false;
    }
  } else if (m > 1) {
    if (!has_beta) beta = 0;
    if (gamma < std::max(1 - 1 / phi - alpha, 0.0) || gamma > 1 + 1 / phi - alpha) return false;
    if (alpha < 1 - 1 / phi - gamma * (1 - m + phi + phi * m) / (2 * phi * m)) return false;
    if (beta < -(1 - phi) * (gamma / m + alpha)) return false;
    // The characteristic polynomial of the discount matrix: all roots within the unit circle.
    if (m + 2 > kMaxPolyCoefs) return false;
    if (phi == 1 && beta == 0) {
      // P(1) = (1 - phi)(m alpha + gamma) + m beta, so without trend and damping z = 1 is
      // an exact root, on the boundary. Numerically it lands on either side of R's 1e-10
      // tolerance (R's polyroot decides differently from run to run of nearby parameters),
      // so it is factored out: P(z) = (z - 1) Q(z), Q(z) = z^m + alpha (z^(m-1) + ... + z)
      // + alpha + gamma - 1, and only Q is tested.
      //
      // Inside R's usual region Q needs no test: with a = 1 - alpha, c = 1 - gamma,
      // (z - 1) Q(z) = z^m (z - a) - c (z - a) - (1 - a)(1 - c). For 0 < alpha, 0 < gamma and
      // alpha + gamma <= 1 (so 0 < a < 1 and 0 <= c < 1), any |z| >= 1 other than 1 has
      // |z - a| >= |z| - a >= 1 - a with equality only at z = 1, hence
      // |c (z - a) + (1 - a)(1 - c)| <= c |z - a| + (1 - c)(1 - a) < |z - a| <= |z^m (z - a)|,
      // and Q(1) = m alpha + gamma > 0: every root of Q lies inside the unit circle. The
      // floating-point test agrees there (checked on 45 million points from 1e-4 up,
      // corners and edges included, m = 2..24; ets_core_test repeats a sample). For the
      // seasonal models without trend this skips the test at almost every point the
      // optimiser tries, with the same decisions. Below 1e-4 (fixed parameters, or
      // bounds: "admissible") the roots crowd the unit circle, so the test still runs.
      if (alpha >= kUsualLowerBound && gamma >= kUsualLowerBound && alpha + gamma <= 1) return true;
      c[0] = alpha + gamma - 1;
      for (int i = 1; i < m; ++i) c[i] = alpha;
      c[m] = 1;
      *degree = m;
      return true;
    }
    c[0] = phi * (1 - alpha - gamma);
    c[1] = alpha + beta - alpha * phi + gamma - 1;
    for (int i = 0; i < m - 2; ++i) c[2 + i] = alpha + beta - alpha * phi;
    c[m] = alpha + beta - phi;
    c[m + 1] = 1;
    *degree = m + 1;
  }
  return true;
}

bool Admissible(double alpha, double beta, bool has_beta, double gamma, bool has_gamma, double phi, int m) {
  double c[kMaxPolyCoefs];
  int degree;
  if (!AdmissibleLinear(alpha, beta, has_beta, gamma, has_gamma, phi, m, c, &degree)) return false;
  return degree == 0 || RootsWithin(std::span<const double>(c, static_cast<size_t>(degree + 1)), kAdmissibleRadius);
}

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

Result<FitResult> FitForm(std::span<const double> y, const Form& form, const FitControl& ctl, NelderMeadWorkspace& ws) {
  const int n = static_cast<int>(y.size());
  const int m = form.season != Comp::kN ? form.m : 1;
  double lower[4], upper[4];
  std::copy(ctl.lower, ctl.lower + 4, lower);
  std::copy(ctl.upper, ctl.upper + 4, upper);
  if (!std::isnan(ctl.alpha)) {
    upper[1] = std::min(ctl.alpha, upper[1]);
    upper[2] = std::min(1 - ctl.alpha, upper[2]);
  }
  if (!std::isnan(ctl.beta)) lower[0] = std::max(ctl.beta, lower[0]);
  if (!std::isnan(ctl.gamma)) upper[0] = std::min(1 - ctl.gamma, upper[0]);

  ALMANAC_ASSIGN_OR_RETURN(StartParams sp, InitParams(form, ctl, lower, upper, m));
  const bool has_beta = form.trend != Comp::kN;
  const bool has_gamma = form.season != Comp::kN;
  // R's check.param on the starting values.
  {
    bool ok = true;
    if (ctl.bounds != Bounds::kAdmissible) {
      if (sp.alpha < lower[0] || sp.alpha > upper[0]) ok = false;
      if (has_beta && (sp.beta < lower[1] || sp.beta > sp.alpha || sp.beta > upper[1])) ok = false;
      if (form.damped && (sp.phi < lower[3] || sp.phi > upper[3])) ok = false;
      if (has_gamma && (sp.gamma < lower[2] || sp.gamma > 1 - sp.alpha || sp.gamma > upper[2])) ok = false;
    }
    if (ok && ctl.bounds != Bounds::kUsual) {
      ok = Admissible(sp.alpha, has_beta ? sp.beta : 0, has_beta, has_gamma ? sp.gamma : 0, has_gamma,
                      form.damped ? sp.phi : 1.0, m);
    }
    if (!ok) return InvalidArgumentError("smoothing parameters out of range for " + form.Name());
  }
  ALMANAC_ASSIGN_OR_RETURN(std::vector<double> init, InitialState(y, form.trend, form.season, form.m));
  const int nstate = static_cast<int>(init.size());

  Target target(form, y, ctl, lower, upper, nstate);
  std::vector<double> par;
  if (std::isnan(ctl.alpha)) par.push_back(sp.alpha);
  if (has_beta && std::isnan(ctl.beta)) par.push_back(sp.beta);
  if (has_gamma && std::isnan(ctl.gamma)) par.push_back(sp.gamma);
  if (form.damped && std::isnan(ctl.phi)) par.push_back(sp.phi);
  const int nopt = static_cast<int>(par.size());
  par.insert(par.end(), init.begin(), init.end());
  const int np = static_cast<int>(par.size());
  if (np >= n - 1)
    return FailedPreconditionError(form.Name() + " has " + std::to_string(np) + " parameters, too many for " +
                                   std::to_string(n) + " observations");

  NelderMeadOptions nmo;
  nmo.max_evals = ctl.max_evals;
  // With the look-ahead when two points can share a pass: the same search, fewer passes.
  NelderMeadResult nm =
      target.Lanes() > 1 ? NelderMeadSpeculative(target, par, nmo, ws) : NelderMead(target, par, nmo, ws);
  if (nm.fail == -1)
    return FailedPreconditionError(form.Name() + ": the likelihood is not finite at the starting values");

  FitResult fr;
  fr.form = form;
  fr.x0.assign(static_cast<size_t>(form.NumStates()), 0.0);
  target.Unpack(nm.x.data(), &fr.par, fr.x0.data());
  Pass pass = RunPass(form, fr.par, y, fr.x0, /*record=*/true);
  fr.lik = pass.lik;
  fr.e = std::move(pass.e);
  fr.last_state = std::move(pass.last_state);
  fr.np = np + 1;
  fr.loglik = -0.5 * pass.lik;
  fr.aic = pass.lik + 2.0 * fr.np;
  fr.bic = pass.lik + std::log(static_cast<double>(n)) * fr.np;
  fr.aicc = fr.aic + 2.0 * fr.np * (fr.np + 1) / static_cast<double>(n - fr.np - 1);
  int nfixed = 0;
  for (double v : {ctl.alpha, ctl.beta, ctl.gamma, ctl.phi}) nfixed += !std::isnan(v);
  fr.n_par_sigma = nopt + nstate + nfixed;
  fr.evals = nm.evals;
  fr.nm_fail = nm.fail;
  return fr;
}

}  // namespace almanac::models::ets
