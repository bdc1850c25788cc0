// The counter-based ziggurat normals of the portfolio simulation (src/risk/random.h): the table
// (equal layer areas, r to double precision), the distribution (moments, tail frequencies,
// Kolmogorov-Smirnov against the normal CDF) and the streams' reproducibility.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "risk/random.h"

namespace almanac::risk::internal {
namespace {

double NormalCdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

// n draws from `streams` streams of (seed 5, path p, asset 3) in order.
std::vector<double> Draws(int streams, int per_stream) {
  std::vector<double> out;
  out.reserve(static_cast<size_t>(streams) * per_stream);
  for (int p = 0; p < streams; ++p) {
    NormalStream s(Ziggurat(), StreamKey(5, static_cast<std::uint64_t>(p), 3));
    for (int j = 0; j < per_stream; ++j) out.push_back(s.Normal());
  }
  return out;
}

TEST(ZigguratTest, LayersHaveEqualAreasAndRIsTheKnownValue) {
  const ZigguratTable& t = Ziggurat();
  // Marsaglia & Tsang (2000) give r = 3.6541528853610088 for 256 layers.
  EXPECT_NEAR(t.r, 3.6541528853610088, 1e-12);
  EXPECT_NEAR(t.v, 0.00492867323399, 1e-13);
  EXPECT_EQ(t.x[ZigguratTable::kLayers], 0.0);
  for (int i = 1; i < ZigguratTable::kLayers; ++i) {
    EXPECT_GT(t.x[i], t.x[i + 1]) << i;
    EXPECT_NEAR(t.x[i] * (t.f[i + 1] - t.f[i]), t.v, 1e-12 * t.v) << "layer " << i;
  }
  // The base strip: its rectangle up to r plus the tail beyond it.
  EXPECT_NEAR(t.x[0] * std::exp(-0.5 * t.r * t.r), t.v, 1e-15);
}

TEST(ZigguratTest, MomentsAndTailFrequenciesAreNormal) {
  const auto z = Draws(1 << 12, 1 << 9);  // 2^21 draws
  const double n = static_cast<double>(z.size());
  double m1 = 0, m2 = 0, m3 = 0, m4 = 0;
  int64_t beyond1 = 0, beyond3 = 0, beyond_r = 0, negative = 0;
  for (double v : z) {
    m1 += v;
    m2 += v * v;
    m3 += v * v * v;
    m4 += v * v * v * v;
    beyond1 += std::abs(v) > 1;
    beyond3 += std::abs(v) > 3;
    beyond_r += std::abs(v) > Ziggurat().r;
    negative += v < 0;
  }
  m1 /= n, m2 /= n, m3 /= n, m4 /= n;
  // Standard errors: mean 1/sqrt(n), variance sqrt(2/n), third moment sqrt(15/n), fourth sqrt(96/n).
  EXPECT_NEAR(m1, 0, 5 / std::sqrt(n));
  EXPECT_NEAR(m2, 1, 5 * std::sqrt(2 / n));
  EXPECT_NEAR(m3, 0, 5 * std::sqrt(15 / n));
  EXPECT_NEAR(m4, 3, 5 * std::sqrt(96 / n));
  auto expect_share = [&](int64_t count, double p, const char* what) {
    EXPECT_NEAR(static_cast<double>(count), n * p, 5 * std::sqrt(n * p * (1 - p))) << what;
  };
  expect_share(beyond1, 2 * NormalCdf(-1), "|z| > 1");
  expect_share(beyond3, 2 * NormalCdf(-3), "|z| > 3");
  expect_share(beyond_r, 2 * NormalCdf(-Ziggurat().r), "|z| > r (the tail algorithm)");
  expect_share(negative, 0.5, "z < 0");
}

TEST(ZigguratTest, KolmogorovSmirnovAgainstTheNormalCdf) {
  auto z = Draws(1000, 200);
  std::sort(z.begin(), z.end());
  const double n = static_cast<double>(z.size());
  double d = 0;
  for (size_t i = 0; i < z.size(); ++i) {
    const double c = NormalCdf(z[i]);
    d = std::max({d, c - static_cast<double>(i) / n, static_cast<double>(i + 1) / n - c});
  }
  // The 1 % critical value of the KS statistic is about 1.628 / sqrt(n).
  EXPECT_LT(d, 1.628 / std::sqrt(n));
  // And an impossible shift would be seen: the same sample against N(0.02, 1) fails.
  double d_shift = 0;
  for (size_t i = 0; i < z.size(); ++i) {
    const double c = NormalCdf(z[i] - 0.02);
    d_shift = std::max({d_shift, c - static_cast<double>(i) / n, static_cast<double>(i + 1) / n - c});
  }
  EXPECT_GT(d_shift, 1.628 / std::sqrt(n));
}

TEST(ZigguratTest, StreamsArePureFunctionsOfTheirKey) {
  NormalStream a(Ziggurat(), StreamKey(7, 12345, 4)), b(Ziggurat(), StreamKey(7, 12345, 4));
  NormalStream other_path(Ziggurat(), StreamKey(7, 12346, 4)), other_asset(Ziggurat(), StreamKey(7, 12345, 5)),
      other_seed(Ziggurat(), StreamKey(8, 12345, 4));
  int same_as_other = 0;
  for (int j = 0; j < 64; ++j) {
    const double va = a.Normal();
    EXPECT_EQ(va, b.Normal()) << j;
    same_as_other += va == other_path.Normal();
    same_as_other += va == other_asset.Normal();
    same_as_other += va == other_seed.Normal();
  }
  EXPECT_EQ(same_as_other, 0);
  EXPECT_NE(StreamKey(1, 2, 3), StreamKey(1, 3, 2));
}

}  // namespace
}  // namespace almanac::risk::internal
