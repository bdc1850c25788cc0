// The ziggurat table and the slow paths of NormalStream (see random.h).
#include "risk/random.h"

#include <cmath>
#include <limits>

namespace almanac::risk::internal {
namespace {

double Density(double x) { return std::exp(-0.5 * x * x); }

// Fills the abscissae for base-strip abscissa r (layer area v = r f(r) + the tail beyond r) and
// returns the top layer's area minus v: negative (or -inf when the layers reach the top of the
// density before the last one) when r is too small, positive when r is too large.
double Build(double r, ZigguratTable& t) {
  constexpr int C = ZigguratTable::kLayers;
  t.r = r;
  t.v = r * Density(r) + std::sqrt(M_PI / 2) * std::erfc(r / std::sqrt(2.0));
  t.x[0] = t.v / Density(r);
  t.x[1] = r;
  for (int i = 2; i < C; ++i) {
    const double a = t.v / t.x[i - 1] + Density(t.x[i - 1]);
    if (!(a < 1)) return -std::numeric_limits<double>::infinity();
    t.x[i] = std::sqrt(-2 * std::log(a));
  }
  t.x[C] = 0;
  return t.x[C - 1] * (1 - Density(t.x[C - 1])) - t.v;
}

ZigguratTable MakeTable() {
  ZigguratTable t;
  double lo = 3.0, hi = 4.5;  // the 256-layer r is about 3.654
  for (int it = 0; it < 200 && hi - lo > 0; ++it) {
    const double mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    (Build(mid, t) < 0 ? lo : hi) = mid;
  }
  Build(hi, t);  // hi: the layers never overshoot the top
  for (int i = 0; i <= ZigguratTable::kLayers; ++i) t.f[i] = Density(t.x[i]);
  for (int i = 0; i < ZigguratTable::kLayers; ++i) t.ratio[i] = t.x[i + 1] / t.x[i];
  return t;
}

}  // namespace

const ZigguratTable& Ziggurat() {
  static const ZigguratTable table = MakeTable();
  return table;
}

double NormalStream::Slow(int i, double u) {
  if (i == 0) {
    // Beyond r (Marsaglia 1964): x = -ln(U1) / r, accepted when -2 ln(U2) > x^2.
    double x, y;
    do {
      x = -std::log(UniformOpen(NextBits())) / t_->r;
      y = -std::log(UniformOpen(NextBits()));
    } while (2 * y < x * x);
    return u < 0 ? -(t_->r + x) : t_->r + x;
  }
  // A wedge: (x, y) uniform in the layer's rectangle beyond x[i + 1]; accepted under the density.
  const double x = u * t_->x[i];
  const double y = t_->f[i] + UniformOpen(NextBits()) * (t_->f[i + 1] - t_->f[i]);
  return y < Density(x) ? x : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace almanac::risk::internal
