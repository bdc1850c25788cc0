// Counter-based normal random numbers of the portfolio simulation (risk-internal).
//
// A stream is keyed by (seed, path, asset): its 64-bit words are SplitMix64's sequence started
// at that key (word j = the SplitMix64 finaliser of key + (j + 1) * golden gamma; Steele, Lea &
// Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014), so every number is a
// pure function of (seed, path, asset, position in the stream): nothing depends on the thread,
// the chunk or the number of paths.
//
// Normals come from a 256-layer ziggurat (Marsaglia & Tsang, "The ziggurat method for
// generating random variables", JSS 2000), with the layer index and the uniform taken from
// disjoint bits of one word (Doornik, "An improved ziggurat method to generate normal random
// samples", 2005: the index and the abscissa are independent), the wedges accepted against the
// density itself and the tail by Marsaglia's (1964) exponential method. About 99 % of the draws
// cost one word, a table look-up, a multiply and a compare. The table is computed once, with
// the base-strip abscissa r solved to double precision so that every layer has exactly the
// same area (no rounded constants).
#pragma once

#include <array>
#include <cstdint>

namespace almanac::risk::internal {

// SplitMix64's finaliser (a bijective 64-bit mix) of z + golden gamma.
inline std::uint64_t Mix64(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The key of the stream of (seed, path, asset).
inline std::uint64_t StreamKey(std::uint64_t seed, std::uint64_t path, std::uint64_t asset) {
  return Mix64(Mix64(Mix64(seed) ^ path) ^ (asset * 0xd6e8feb86659fd93ULL));
}

// Uniform on (0, 1) from the top 53 bits (the midpoint of one of 2^53 cells: never 0 or 1).
inline double UniformOpen(std::uint64_t bits) { return (static_cast<double>(bits >> 11) + 0.5) * 0x1.0p-53; }

struct ZigguratTable {
  static constexpr int kLayers = 256;
  // x[0] = v / f(r) (the base strip's equivalent width), x[1] = r, ..., x[kLayers] = 0, with
  // f(x) = exp(-x^2 / 2) and every layer of area v.
  std::array<double, kLayers + 1> x{};
  std::array<double, kLayers + 1> f{};      // f(x[i]) (f[0] is not used)
  std::array<double, kLayers> ratio{};      // x[i + 1] / x[i]: the layer's part under the curve
  double r = 0;
  double v = 0;
};

// The table (computed on first use; thread-safe).
const ZigguratTable& Ziggurat();

// The stream of one (seed, path, asset).
class NormalStream {
 public:
  NormalStream(const ZigguratTable& table, std::uint64_t key) : t_(&table), state_(key) {}

  std::uint64_t NextBits() {
    state_ += 0x9e3779b97f4a7c15ULL;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // One standard normal.
  double Normal() {
    for (;;) {
      const std::uint64_t bits = NextBits();
      const int i = static_cast<int>(bits & 0xFF);
      // u in (-1, 1) from the top 53 bits, symmetric about 0 and never 0 or +-1.
      const double u = (static_cast<double>(bits >> 11) + 0.5) * 0x1.0p-52 - 1.0;
      if (u < t_->ratio[i] && u > -t_->ratio[i]) return u * t_->x[i];
      const double out = Slow(i, u);
      if (out == out) return out;  // NaN: rejected, draw again
    }
  }

  void Fill(int n, double* out) {
    for (int j = 0; j < n; ++j) out[j] = Normal();
  }

 private:
  // The base strip's tail or a wedge; NaN when the point is rejected.
  double Slow(int i, double u);

  const ZigguratTable* t_;
  std::uint64_t state_;
};

}  // namespace almanac::risk::internal
