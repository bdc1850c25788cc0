// The filtering recursion of ETS: R's etscalc per form (ets_kernels.h), and the pass,
// forecast and state-update functions of ets_core.h built on it.
#include "models/ets/ets_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace almanac::models::ets {
namespace {

// Guards of R's recursion: a divisor below kTol is replaced by a huge ratio.
constexpr double kTol = 1.0e-10;
constexpr double kHuge = 1.0e10;

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

}  // namespace

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

}  // namespace almanac::models::ets
