#include "serve/trace_context.h"

#include <cstring>
#include <random>

namespace almanac::serve {
namespace {

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

bool AllLowerHex(std::string_view s) {
  for (char c : s)
    if (!IsLowerHex(c)) return false;
  return true;
}

bool AllZero(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

uint8_t HexByte(char hi, char lo) {
  auto v = [](char c) { return static_cast<uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10); };
  return static_cast<uint8_t>(v(hi) << 4 | v(lo));
}

// xoshiro256** (Blackman and Vigna): fast, 256 bits of state, seeded once per thread.
class Xoshiro256 {
 public:
  Xoshiro256() {
    std::random_device rd;
    uint64_t any = 0;
    for (auto& x : s_) {
      x = (static_cast<uint64_t>(rd()) << 32) ^ rd();
      any |= x;
    }
    if (any == 0) s_[0] = 0x9e3779b97f4a7c15ULL;  // the all-zero state would stay zero
  }
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

uint64_t NonZeroRandom() {
  uint64_t v;
  do {
    v = RandomU64();
  } while (v == 0);
  return v;
}

}  // namespace

uint64_t RandomU64() {
  thread_local Xoshiro256 generator;
  return generator.Next();
}

void HexU64(uint64_t v, char* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    out[i] = kHex[v & 15];
    v >>= 4;
  }
}

std::string_view TraceContext::Traceparent(std::array<char, 55>& buf) const {
  static constexpr char kHex[] = "0123456789abcdef";
  char* p = buf.data();
  *p++ = '0';
  *p++ = '0';
  *p++ = '-';
  std::memcpy(p, trace_id.data(), 32);
  p += 32;
  *p++ = '-';
  std::memcpy(p, span_id.data(), 16);
  p += 16;
  *p++ = '-';
  *p++ = kHex[flags >> 4];
  *p++ = kHex[flags & 15];
  return {buf.data(), buf.size()};
}

bool ParseTraceparent(std::string_view v, TraceContext* out) {
  // version "-" trace-id "-" parent-id "-" trace-flags: 2 + 1 + 32 + 1 + 16 + 1 + 2 = 55.
  if (v.size() < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-') return false;
  const std::string_view version = v.substr(0, 2), trace = v.substr(3, 32), parent = v.substr(36, 16),
                         flags = v.substr(53, 2);
  if (!AllLowerHex(version) || version == "ff") return false;
  if (version == "00" ? v.size() != 55 : (v.size() > 55 && v[55] != '-')) return false;
  if (!AllLowerHex(trace) || !AllLowerHex(parent) || !AllLowerHex(flags)) return false;
  if (AllZero(trace) || AllZero(parent)) return false;
  std::memcpy(out->trace_id.data(), trace.data(), 32);
  std::memcpy(out->parent_id.data(), parent.data(), 16);
  out->flags = HexByte(flags[0], flags[1]);
  return true;
}

void StartSpan(std::string_view traceparent, int fields, TraceContext* out) {
  HexU64(NonZeroRandom(), out->span_id.data());
  out->propagated = fields == 1 && ParseTraceparent(traceparent, out);
  if (out->propagated) {
    // Level 1 defines only "sampled"; vendors must send the other bits as zero.
    out->flags &= 0x01;
    return;
  }
  HexU64(NonZeroRandom(), out->trace_id.data());
  HexU64(RandomU64(), out->trace_id.data() + 16);
  out->flags = 0x01;
}

bool PassableTracestate(std::string_view value) {
  if (value.empty() || value.size() > 512) return false;
  for (char c : value)
    if ((c < 0x20 && c != '\t') || c > 0x7e) return false;
  return true;
}

}  // namespace almanac::serve
