// Admissibility of ETS parameters (Hyndman et al. 2008, ch. 10): the linear bounds and the
// Schur-Cohn test that the discount matrix's characteristic polynomial has its roots inside
// the unit circle, for one polynomial or for up to four side by side (ets_core.h).
#include <algorithm>
#include <cmath>

#include "models/ets/ets_core.h"
#include "models/ets/ets_kernels.h"

namespace almanac::models::ets {
namespace {

// R's usual lower bound of alpha, beta and gamma (FitControl's default).
constexpr double kUsualLowerBound = 1e-4;

// The 2- and 4-wide vectors of the lane versions (GCC/Clang vector extensions).
using Vec2 = double __attribute__((vector_size(16)));
using Vec4 = double __attribute__((vector_size(32)));

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

}  // namespace

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

}  // namespace almanac::models::ets
