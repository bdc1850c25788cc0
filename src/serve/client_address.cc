#include "serve/client_address.h"

#include <cstring>

#include <arpa/inet.h>

namespace almanac::serve {
namespace {

constexpr std::array<uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool ValidPort(std::string_view p) {
  if (p.empty() || p.size() > 5) return false;
  uint32_t v = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  return v <= 65535;
}

// inet_pton on a NUL-terminated copy in a stack buffer (the view is not terminated).
std::optional<ClientAddress> PtonCopy(int family, std::string_view text) {
  char buf[64];
  // inet_pton would stop at a NUL inside the view and accept what precedes it.
  if (text.empty() || text.size() >= sizeof(buf) || text.find('\0') != std::string_view::npos) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  if (family == AF_INET) {
    std::array<uint8_t, 4> v4;
    if (::inet_pton(AF_INET, buf, v4.data()) != 1) return std::nullopt;
    return ClientAddress::V4(v4);
  }
  std::array<uint8_t, 16> v6;
  if (::inet_pton(AF_INET6, buf, v6.data()) != 1) return std::nullopt;
  return ClientAddress::V6(v6);
}

}  // namespace

ClientAddress ClientAddress::V4(const std::array<uint8_t, 4>& v4) {
  ClientAddress a;
  std::memcpy(a.bytes.data(), kV4MappedPrefix.data(), kV4MappedPrefix.size());
  std::memcpy(a.bytes.data() + 12, v4.data(), 4);
  return a;
}

ClientAddress ClientAddress::V6(const std::array<uint8_t, 16>& v6) {
  ClientAddress a;
  a.bytes = v6;
  return a;
}

bool ClientAddress::is_v4() const {
  return std::memcmp(bytes.data(), kV4MappedPrefix.data(), kV4MappedPrefix.size()) == 0;
}

ClientAddress ClientAddress::LimitKey() const {
  if (is_v4()) return *this;
  ClientAddress k = *this;
  std::memset(k.bytes.data() + 8, 0, 8);
  return k;
}

std::string_view ClientAddress::Format(std::array<char, 48>& buf) const {
  const char* s = is_v4() ? ::inet_ntop(AF_INET, bytes.data() + 12, buf.data(), buf.size())
                          : ::inet_ntop(AF_INET6, bytes.data(), buf.data(), buf.size());
  return s == nullptr ? std::string_view() : std::string_view(buf.data());
}

size_t ClientAddressHash::operator()(const ClientAddress& a) const {
  uint64_t hi, lo;
  std::memcpy(&hi, a.bytes.data(), 8);
  std::memcpy(&lo, a.bytes.data() + 8, 8);
  // A multiply-xorshift mix of both halves (the low half differs most between IPv4 clients).
  uint64_t h = (hi * 0x9e3779b97f4a7c15ULL) ^ lo;
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ULL;
  h ^= h >> 32;
  return static_cast<size_t>(h);
}

std::optional<ClientAddress> ParseClientAddress(std::string_view text) {
  text = TrimOws(text);
  if (text.empty() || text.size() > 64) return std::nullopt;
  if (text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !ValidPort(rest.substr(1)))) return std::nullopt;
    return PtonCopy(AF_INET6, text.substr(1, close - 1));
  }
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return PtonCopy(AF_INET, text);
  if (text.find(':', colon + 1) == std::string_view::npos) {  // one colon: IPv4:port
    if (!ValidPort(text.substr(colon + 1))) return std::nullopt;
    return PtonCopy(AF_INET, text.substr(0, colon));
  }
  return PtonCopy(AF_INET6, text);
}

std::optional<ClientAddress> ForwardedClient(std::span<const std::string_view> values, int hops) {
  if (hops < 1) return std::nullopt;
  int seen = 0;
  for (size_t v = values.size(); v-- > 0;) {
    std::string_view list = values[v];
    // Elements from the right: each is what one of our proxies appended (the nearest last).
    while (true) {
      const size_t comma = list.rfind(',');
      const std::string_view element = TrimOws(comma == std::string_view::npos ? list : list.substr(comma + 1));
      if (!element.empty()) {
        auto address = ParseClientAddress(element);
        if (!address) return std::nullopt;  // a trusted proxy wrote garbage: trust none of it
        if (++seen == hops) return address;
      }
      if (comma == std::string_view::npos) break;
      list = list.substr(0, comma);
    }
  }
  return std::nullopt;  // fewer elements than trusted proxies
}

}  // namespace almanac::serve
