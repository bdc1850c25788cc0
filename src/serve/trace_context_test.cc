// Issue 19: W3C trace context (traceparent parsing, new traces, tracestate) and random ids.
#include "serve/trace_context.h"

#include <cstdlib>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace almanac::serve {
namespace {

constexpr std::string_view kValid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

bool LowerHex(std::string_view s) { return s.find_first_not_of("0123456789abcdef") == std::string_view::npos; }

TEST(TraceContextTest, ValidTraceparentIsPropagatedWithANewSpan) {
  TraceContext tc;
  StartSpan(kValid, 1, &tc);
  EXPECT_TRUE(tc.propagated);
  EXPECT_EQ(tc.trace(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(tc.parent(), "00f067aa0ba902b7");
  EXPECT_NE(tc.span(), "00f067aa0ba902b7");
  EXPECT_TRUE(LowerHex(tc.span()));
  std::array<char, 55> buf;
  EXPECT_EQ(tc.Traceparent(buf), "00-4bf92f3577b34da6a3ce929d0e0e4736-" + std::string(tc.span()) + "-01");
  // Not sampled stays not sampled; flags level 1 does not define are sent as zero.
  StartSpan("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", 1, &tc);
  EXPECT_EQ(tc.Traceparent(buf).substr(53), "00");
  StartSpan("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff", 1, &tc);
  EXPECT_EQ(tc.Traceparent(buf).substr(53), "01");
  // A later version is read as far as version 00 defines it (and answered as version 00).
  StartSpan("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes-later", 1, &tc);
  EXPECT_TRUE(tc.propagated);
  EXPECT_EQ(tc.Traceparent(buf).substr(0, 36), "00-4bf92f3577b34da6a3ce929d0e0e4736-");
}

TEST(TraceContextTest, InvalidTraceparentStartsANewTrace) {
  const std::vector<std::string> invalid = {
      "",
      "garbage",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",      // no flags
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",  // version 00 is exactly 55
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ",
      " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // uppercase
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // all-zero trace id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // all-zero parent id
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // version ff
      "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
      "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01",
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",  // later version: '-' must follow
      std::string(kValid.substr(0, 20)) + '\0' + std::string(kValid.substr(21)),
      std::string(kValid) + "," + std::string(kValid),
  };
  std::set<std::string> traces;
  for (const auto& v : invalid) {
    TraceContext tc;
    StartSpan(v, 1, &tc);
    EXPECT_FALSE(tc.propagated) << v;
    EXPECT_EQ(tc.parent(), "") << v;
    EXPECT_NE(tc.trace(), "4bf92f3577b34da6a3ce929d0e0e4736") << v;
    EXPECT_TRUE(LowerHex(tc.trace()) && LowerHex(tc.span())) << v;
    EXPECT_NE(tc.trace(), std::string(32, '0'));
    std::array<char, 55> buf;
    EXPECT_EQ(tc.Traceparent(buf).substr(53), "01") << v;  // we log every request
    traces.insert(std::string(tc.trace()));
  }
  EXPECT_EQ(traces.size(), invalid.size());  // a new trace each time
  // Two traceparent header fields are invalid, even when each is valid alone.
  TraceContext tc;
  StartSpan(kValid, 2, &tc);
  EXPECT_FALSE(tc.propagated);
  StartSpan(kValid, 0, &tc);
  EXPECT_FALSE(tc.propagated);
}

TEST(TraceContextTest, TracestateIsPassedOnlyWhenPrintableAndBounded) {
  EXPECT_TRUE(PassableTracestate("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"));
  EXPECT_TRUE(PassableTracestate("a=1,\tb=2"));
  EXPECT_TRUE(PassableTracestate(std::string(512, 'a')));
  EXPECT_FALSE(PassableTracestate(std::string(513, 'a')));
  EXPECT_FALSE(PassableTracestate(""));
  EXPECT_FALSE(PassableTracestate("a=1\r\nSet-Cookie: x=1"));
  EXPECT_FALSE(PassableTracestate(std::string("a=1\0b", 5)));
  EXPECT_FALSE(PassableTracestate("a=\xc3\xa9"));
}

// Request ids (our span ids) are random: unique, and consecutive ones far apart, also across
// threads (a counter, even XORed with a random prefix, differs from the last id in a few bits).
TEST(TraceContextTest, IdsAreRandomNotSequential) {
  std::mutex mu;
  std::set<uint64_t> ids;
  std::vector<std::thread> threads;
  int close_pairs = 0;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      std::vector<uint64_t> mine;
      for (int i = 0; i < 5000; ++i) {
        TraceContext tc;
        StartSpan("", 1, &tc);
        mine.push_back(std::strtoull(std::string(tc.span()).c_str(), nullptr, 16));
      }
      std::lock_guard lock(mu);
      for (size_t i = 1; i < mine.size(); ++i) {
        const uint64_t d = mine[i] > mine[i - 1] ? mine[i] - mine[i - 1] : mine[i - 1] - mine[i];
        close_pairs += d < (uint64_t{1} << 32);
        close_pairs += __builtin_popcountll(mine[i] ^ mine[i - 1]) < 8;
      }
      ids.insert(mine.begin(), mine.end());
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ids.size(), 20000u);
  EXPECT_EQ(close_pairs, 0);
}

}  // namespace
}  // namespace almanac::serve
