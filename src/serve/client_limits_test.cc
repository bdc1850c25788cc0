// Issue 19: client addresses (X-Forwarded-For with trusted hops, hostile input) and the
// per-client connection and rate limits.
#include <atomic>
#include <cmath>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"
#include "serve/client_address.h"
#include "serve/client_limiter.h"

namespace almanac::serve {
namespace {

std::string Show(const std::optional<ClientAddress>& a) {
  if (!a) return "none";
  std::array<char, 48> buf;
  return std::string(a->Format(buf));
}

std::string Parse(std::string_view text) { return Show(ParseClientAddress(text)); }

ClientAddress Addr(std::string_view text) { return *ParseClientAddress(text); }

TEST(ClientAddressTest, ParsesWhatProxiesWrite) {
  EXPECT_EQ(Parse("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(Parse("  192.0.2.1\t"), "192.0.2.1");
  EXPECT_EQ(Parse("192.0.2.1:4711"), "192.0.2.1");
  EXPECT_EQ(Parse("2001:db8::1"), "2001:db8::1");
  EXPECT_EQ(Parse("[2001:db8::1]"), "2001:db8::1");
  EXPECT_EQ(Parse("[2001:db8::1]:443"), "2001:db8::1");
  EXPECT_EQ(Parse("::1"), "::1");
  // IPv4 written as IPv4-mapped IPv6 (a dual-stack proxy) is the same client as plain IPv4.
  EXPECT_EQ(Parse("::ffff:192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(Addr("::ffff:192.0.2.1"), Addr("192.0.2.1"));
  EXPECT_TRUE(Addr("192.0.2.1").is_v4());
  EXPECT_FALSE(Addr("2001:db8::1").is_v4());
}

TEST(ClientAddressTest, RefusesGarbage) {
  for (std::string_view bad : {"",
                               "   ",
                               "unknown",
                               "localhost",
                               "example.com",
                               "1.2.3",
                               "1.2.3.4.5",
                               "256.1.1.1",
                               "1.2.3.4:",
                               "1.2.3.4:99999",
                               "1.2.3.4:80x",
                               "1.2.3.4 5.6.7.8",
                               "[2001:db8::1",
                               "2001:db8::1]",
                               "[2001:db8::1]x",
                               "[1.2.3.4]:80",
                               "::1%eth0",
                               "2001:db8:::1",
                               "gggg::1",
                               "_",
                               "1.2.3.4/24",
                               "-1.2.3.4"})
    EXPECT_EQ(Parse(bad), "none") << bad;
  EXPECT_EQ(Parse(std::string_view("1.2.3.4\0", 8)), "none");
  EXPECT_EQ(Parse(std::string(65, '1')), "none");
  EXPECT_EQ(Parse("[" + std::string(100, ':') + "]"), "none");
}

TEST(ClientAddressTest, LimitKeyIsTheIpv4AddressOrTheIpv6Slash64) {
  EXPECT_EQ(Addr("192.0.2.1").LimitKey(), Addr("192.0.2.1"));
  EXPECT_NE(Addr("192.0.2.1").LimitKey(), Addr("192.0.2.2").LimitKey());
  EXPECT_EQ(Addr("2001:db8:1:2::1").LimitKey(), Addr("2001:db8:1:2:ffff::9").LimitKey());
  EXPECT_NE(Addr("2001:db8:1:2::1").LimitKey(), Addr("2001:db8:1:3::1").LimitKey());
  EXPECT_EQ(Show(Addr("2001:db8:1:2:aaaa::1").LimitKey()), "2001:db8:1:2::");
}

struct ForwardedCase {
  std::vector<std::string_view> values;  // X-Forwarded-For header fields, in order
  int hops;
  std::string want;
};

TEST(ForwardedClientTest, TakesTheNthAddressFromTheRight) {
  const std::vector<ForwardedCase> cases = {
      {{"203.0.113.7"}, 1, "203.0.113.7"},
      {{"198.51.100.1, 203.0.113.7"}, 1, "203.0.113.7"},
      {{"198.51.100.1, 203.0.113.7"}, 2, "198.51.100.1"},
      // Whatever the client itself sent is left of what our proxies appended: ignored.
      {{"1.1.1.1, 8.8.8.8, 203.0.113.7"}, 1, "203.0.113.7"},
      // Several header fields are one list, in order.
      {{"198.51.100.1", "203.0.113.7"}, 2, "198.51.100.1"},
      {{"198.51.100.1, 10.0.0.1", "203.0.113.7"}, 2, "10.0.0.1"},
      // Spaces, tabs and empty elements.
      {{"  198.51.100.1 ,\t203.0.113.7  "}, 2, "198.51.100.1"},
      {{",,198.51.100.1,, ,203.0.113.7,,"}, 2, "198.51.100.1"},
      {{"", "203.0.113.7", ""}, 1, "203.0.113.7"},
      // IPv6, with and without brackets and ports; IPv4 with a port.
      {{"2001:db8::1, [2001:db8::2]:443"}, 1, "2001:db8::2"},
      {{"2001:db8::1, [2001:db8::2]:443"}, 2, "2001:db8::1"},
      {{"192.0.2.1:5555"}, 1, "192.0.2.1"},
      // Garbage left of the trusted part does not matter; inside it, nothing is trusted.
      {{"<script>, 203.0.113.7"}, 1, "203.0.113.7"},
      {{"<script>, 203.0.113.7"}, 2, "none"},
      {{"203.0.113.7, unknown"}, 1, "none"},
      {{"203.0.113.7, unknown"}, 2, "none"},
      {{"203.0.113.7 198.51.100.1"}, 1, "none"},
      {{"203.0.113.7;for=1.2.3.4"}, 1, "none"},
      // Too few hops: the request did not come through every proxy.
      {{"203.0.113.7"}, 2, "none"},
      {{""}, 1, "none"},
      {{}, 1, "none"},
      {{" , ,"}, 1, "none"},
      // Hops 0: the header is not used.
      {{"203.0.113.7"}, 0, "none"},
  };
  for (const auto& c : cases) {
    std::string joined;
    for (auto v : c.values) joined += "[" + std::string(v) + "]";
    EXPECT_EQ(Show(ForwardedClient(c.values, c.hops)), c.want) << joined << " hops " << c.hops;
  }
}

TEST(ForwardedClientTest, LongHostileHeadersAreWalkedOnlyAsFarAsTrusted) {
  // 16 KiB of commas before the address (the header limit), and a list of 2,000 addresses.
  const std::string commas = std::string(16 * 1024, ',') + "203.0.113.7";
  std::vector<std::string_view> v = {commas};
  EXPECT_EQ(Show(ForwardedClient(v, 1)), "203.0.113.7");
  EXPECT_EQ(Show(ForwardedClient(v, 2)), "none");
  std::string many;
  for (int i = 0; i < 2000; ++i) many += "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ", ";
  many += "203.0.113.7";
  v = {many};
  EXPECT_EQ(Show(ForwardedClient(v, 3)), "10.0.7.248");
}

const int64_t kMs = 1'000'000;
const int64_t kT0 = 1'000'000 * kMs;  // an arbitrary steady-clock time

TEST(ClientLimiterTest, ConnectionsPerAddress) {
  ClientLimiter limiter({.max_connections = 2});
  const ClientAddress a = Addr("192.0.2.1"), b = Addr("192.0.2.2");
  auto a1 = limiter.OpenConnection(a, kT0);
  auto a2 = limiter.OpenConnection(a, kT0);
  ASSERT_TRUE(a1 && a2);
  EXPECT_EQ(a1->entry(), a2->entry());  // one entry per address, shared by its connections
  EXPECT_FALSE(limiter.OpenConnection(a, kT0));
  auto b1 = limiter.OpenConnection(b, kT0);
  ASSERT_TRUE(b1);  // another address is not affected
  a1.reset();       // a connection closes: its slot is free again
  auto a3 = limiter.OpenConnection(a, kT0);
  EXPECT_TRUE(a3);
  EXPECT_FALSE(limiter.OpenConnection(a, kT0));
  // IPv6 addresses count by /64.
  auto v1 = limiter.OpenConnection(Addr("2001:db8::1"), kT0);
  auto v2 = limiter.OpenConnection(Addr("2001:db8::2"), kT0);
  ASSERT_TRUE(v1 && v2);
  EXPECT_FALSE(limiter.OpenConnection(Addr("2001:db8::ffff"), kT0));
  EXPECT_TRUE(limiter.OpenConnection(Addr("2001:db8:0:1::1"), kT0));
}

TEST(ClientLimiterTest, TokenBucketAllowsTheBurstThenTheRate) {
  ClientLimiter limiter({.rate = 10, .burst = 3});  // one request per 100 ms, 3 at once
  auto conn = limiter.OpenConnection(Addr("192.0.2.1"), kT0);
  ASSERT_TRUE(conn && conn->entry());
  ClientLimiter::Entry& e = *conn->entry();
  int64_t wait = -1;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.AllowRequest(e, kT0, &wait)) << i;
  EXPECT_FALSE(limiter.AllowRequest(e, kT0, &wait));
  EXPECT_EQ(wait, 100 * kMs);
  EXPECT_FALSE(limiter.AllowRequest(e, kT0 + 99 * kMs, &wait));
  EXPECT_EQ(wait, 1 * kMs);
  EXPECT_TRUE(limiter.AllowRequest(e, kT0 + 100 * kMs, &wait));
  EXPECT_FALSE(limiter.AllowRequest(e, kT0 + 150 * kMs, &wait));
  // Idle for a while: the bucket refills to the burst, not beyond.
  int allowed = 0;
  for (int i = 0; i < 10; ++i) allowed += limiter.AllowRequest(e, kT0 + 10'000 * kMs, &wait);
  EXPECT_EQ(allowed, 3);
  // Another client has a bucket of its own.
  auto other = limiter.Find(Addr("192.0.2.2"), kT0);
  ASSERT_TRUE(other);
  EXPECT_TRUE(limiter.AllowRequest(*other, kT0 + 10'000 * kMs, &wait));
}

TEST(ClientLimiterTest, ConcurrentRequestsNeverExceedTheBurst) {
  ClientLimiter limiter({.rate = 1, .burst = 1000});
  auto e = limiter.Find(Addr("192.0.2.1"), kT0);
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      int64_t wait;
      for (int i = 0; i < 1000; ++i) allowed += limiter.AllowRequest(*e, kT0, &wait);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 1000);
}

TEST(ClientLimiterTest, IdleEntriesAreDroppedAndTheTableIsBounded) {
  ClientLimiter limiter({.max_connections = 1, .rate = 1000, .burst = 1, .max_entries = 16 * 64});
  int64_t wait;
  // 100,000 one-off clients, each one request: idle entries are swept, the table stays small.
  for (uint32_t i = 0; i < 100'000; ++i) {
    const ClientAddress a =
        ClientAddress::V4({10, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)});
    auto e = limiter.Find(a, kT0 + i * kMs);
    ASSERT_TRUE(e) << i;
    EXPECT_TRUE(limiter.AllowRequest(*e, kT0 + i * kMs, &wait));
  }
  EXPECT_LE(limiter.tracked(), 16u * 64);
  // Entries held by open connections are never dropped; beyond the table's size new
  // addresses are let through untracked rather than refused.
  std::vector<ClientLimiter::Connection> held;
  for (uint32_t i = 0; i < 2000; ++i) {
    auto c = limiter.OpenConnection(ClientAddress::V4({172, 16, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)}),
                                    kT0 + 200'000 * kMs);
    ASSERT_TRUE(c) << i;
    held.push_back(std::move(*c));
  }
  EXPECT_LE(limiter.tracked(), 16u * 64);
  EXPECT_EQ(held.front().entry()->connections.load(), 1);
  EXPECT_EQ(held.back().entry(), nullptr);
}

TEST(ClientLimiterTest, WithoutLimitsNothingIsTracked) {
  ClientLimiter limiter({});
  EXPECT_FALSE(limiter.enabled());
  for (int i = 0; i < 10; ++i) {
    auto c = limiter.OpenConnection(Addr("192.0.2.1"), kT0);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->entry(), nullptr);
  }
  EXPECT_EQ(limiter.tracked(), 0u);
}

TEST(ClientLimitsForTest, DefaultsAndValidation) {
  using ::almanac::testing::StatusIs;
  ServerOptions o;
  auto l = ClientLimitsFor(o);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->max_connections, 256);  // a quarter of the 1024 default
  EXPECT_EQ(l->rate, 0);
  o.max_connections = 3;
  EXPECT_EQ(ClientLimitsFor(o)->max_connections, 1);
  o.trusted_proxies = 1;  // behind proxies the default is no connection limit; explicit ones hold
  EXPECT_EQ(ClientLimitsFor(o)->max_connections, 0);
  o.max_connections_per_address = 2;
  EXPECT_EQ(ClientLimitsFor(o)->max_connections, 2);
  o.max_connections_per_address = 0;
  EXPECT_EQ(ClientLimitsFor(o)->max_connections, 0);
  o.rate_limit = 50;
  EXPECT_EQ(ClientLimitsFor(o)->burst, 100);
  o.rate_burst = 7;
  EXPECT_EQ(ClientLimitsFor(o)->burst, 7);
  o.rate_limit = 0.2;
  o.rate_burst = 0;
  EXPECT_EQ(ClientLimitsFor(o)->burst, 1);

  struct Bad {
    std::function<void(ServerOptions&)> set;
    std::string message;
  };
  const std::vector<Bad> bad = {
      {[](ServerOptions& x) { x.max_connections_per_address = -2; }, "--max-connections-per-address must be"},
      {[](ServerOptions& x) { x.max_connections_per_address = 1025; }, "cannot exceed --max-connections (1024)"},
      {[](ServerOptions& x) { x.rate_limit = -1; }, "--rate-limit must be in"},
      {[](ServerOptions& x) { x.rate_limit = std::nan(""); }, "--rate-limit must be in"},
      {[](ServerOptions& x) { x.rate_limit = 2e6; }, "--rate-limit must be in"},
      {[](ServerOptions& x) { x.rate_burst = -1; }, "--rate-burst must be in"},
      {[](ServerOptions& x) { x.rate_burst = 10; }, "--rate-burst needs --rate-limit"},
      {[](ServerOptions& x) { x.trusted_proxies = -1; }, "--trusted-proxies must be in 0..16"},
      {[](ServerOptions& x) { x.trusted_proxies = 17; }, "--trusted-proxies must be in 0..16"},
  };
  for (const auto& b : bad) {
    ServerOptions x;
    b.set(x);
    EXPECT_THAT(ClientLimitsFor(x), StatusIs(StatusCode::kInvalidArgument, b.message)) << b.message;
  }
}

}  // namespace
}  // namespace almanac::serve
