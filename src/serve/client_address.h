// Client addresses for the per-client limits of `almanac serve` (serve-internal): parsing IP
// addresses without allocating, the key the limits count by, and the client behind trusted
// proxies from X-Forwarded-For. Independent of Boost, so it is tested directly.
//
//   std::array<std::string_view, 2> xff = {"203.0.113.7, 10.0.0.2", "10.0.0.3"};
//   auto client = ForwardedClient(xff, /*hops=*/2);   // 10.0.0.2
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace almanac::serve {

// An IPv4 or IPv6 address; IPv4 is held as its IPv4-mapped IPv6 form (::ffff:a.b.c.d), so an
// IPv4 client of a dual-stack listener and of an IPv4 listener are the same client.
struct ClientAddress {
  std::array<uint8_t, 16> bytes{};

  static ClientAddress V4(const std::array<uint8_t, 4>& v4);
  static ClientAddress V6(const std::array<uint8_t, 16>& v6);
  bool is_v4() const;
  // What the limits count by: the address for IPv4, the /64 prefix for IPv6 (one customer
  // usually holds a whole /64, so counting single IPv6 addresses would be no limit at all).
  ClientAddress LimitKey() const;
  // The text form ("127.0.0.1", "2001:db8::1") in `buf`; returns a view of it.
  std::string_view Format(std::array<char, 48>& buf) const;

  friend bool operator==(const ClientAddress&, const ClientAddress&) = default;
};

struct ClientAddressHash {
  size_t operator()(const ClientAddress& a) const;
};

// Parses one address as proxies write it in X-Forwarded-For: "192.0.2.1", "192.0.2.1:4711",
// "2001:db8::1", "[2001:db8::1]" or "[2001:db8::1]:4711", with surrounding spaces and tabs.
// nullopt for anything else (names, "unknown", zone ids, garbage, over 64 bytes). No allocation.
std::optional<ClientAddress> ParseClientAddress(std::string_view text);

// The client address behind `hops` trusted proxies: the hops-th address from the right of the
// X-Forwarded-For values (every header with that name, in the order received, read as one
// comma-separated list; empty elements are skipped). nullopt when hops < 1, when the list has
// fewer than `hops` elements (the request did not come through all the proxies: nothing in it
// can be trusted), or when one of the rightmost `hops` elements is not an address.
std::optional<ClientAddress> ForwardedClient(std::span<const std::string_view> values, int hops);

}  // namespace almanac::serve
