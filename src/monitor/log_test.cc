#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/monitor.h"
#include "core/testing/status_matchers.h"

namespace almanac::monitor {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;

constexpr int64_t kNow = 1764267600123456;  // 2025-11-27T18:20:00.123456Z

struct Captured {
  std::vector<std::string> lines;
  std::mutex mu;
};

Logger MakeLogger(Captured& out, LogFormat format, const Clock& clock) {
  Logger::Options o;
  o.format = format;
  o.service = "almanac-serve";
  o.clock = &clock;
  o.sink = [&out](std::string_view line) {
    std::lock_guard lock(out.mu);
    out.lines.emplace_back(line);
  };
  return Logger(o);
}

TEST(LoggerTest, JsonLinesUseEcsFieldNames) {
  FixedClock clock(kNow);
  Captured out;
  Logger log = MakeLogger(out, LogFormat::kJson, clock);
  log.Info("POST /v1/forecast 200", {{"trace.id", "abc123"},
                                      {"http.request.method", "POST"},
                                      {"url.path", "/v1/forecast"},
                                      {"http.response.status_code", 200},
                                      {"event.duration", int64_t{1500000}},
                                      {"user.name", "ana"}});
  ASSERT_THAT(out.lines, SizeIs(1));
  ASSERT_EQ(out.lines[0].back(), '\n');
  ASSERT_EQ(std::count(out.lines[0].begin(), out.lines[0].end(), '\n'), 1);
  auto j = nlohmann::json::parse(out.lines[0]);
  EXPECT_EQ(j["@timestamp"], "2025-11-27T18:20:00.123456Z");
  EXPECT_EQ(j["log.level"], "info");
  EXPECT_EQ(j["message"], "POST /v1/forecast 200");
  EXPECT_EQ(j["service.name"], "almanac-serve");
  EXPECT_EQ(j["ecs.version"], "8.11.0");
  EXPECT_EQ(j["trace.id"], "abc123");
  EXPECT_EQ(j["http.request.method"], "POST");
  EXPECT_EQ(j["url.path"], "/v1/forecast");
  EXPECT_EQ(j["http.response.status_code"], 200);
  EXPECT_EQ(j["event.duration"], 1500000);
  EXPECT_EQ(j["user.name"], "ana");
}

TEST(LoggerTest, LevelsFromLinePrefixesAndMinimumLevel) {
  FixedClock clock(kNow);
  Captured out;
  Logger log = MakeLogger(out, LogFormat::kJson, clock);
  log.Line("ERROR: cannot load gdp@2");
  log.Line("WARNING: --no-auth");
  log.Line("listening on http://127.0.0.1:80");
  log.Log(LogLevel::kDebug, "not shown at the default level");
  ASSERT_THAT(out.lines, SizeIs(3));
  EXPECT_EQ(nlohmann::json::parse(out.lines[0])["log.level"], "error");
  EXPECT_EQ(nlohmann::json::parse(out.lines[0])["message"], "cannot load gdp@2");
  EXPECT_EQ(nlohmann::json::parse(out.lines[1])["log.level"], "warn");
  EXPECT_EQ(nlohmann::json::parse(out.lines[2])["log.level"], "info");
}

TEST(LoggerTest, HostileTextStaysOneValidJsonLine) {
  FixedClock clock(kNow);
  Captured out;
  Logger log = MakeLogger(out, LogFormat::kJson, clock);
  const std::string nasty = std::string("quote\" backslash\\ newline\n tab\t nul") + '\0' + " bad utf8 \xff\xc3 end é";
  log.Error(nasty, {{"url.path", nasty}, {"x.ratio", 0.25}, {"x.nan", std::nan("")}});
  ASSERT_THAT(out.lines, SizeIs(1));
  ASSERT_EQ(std::count(out.lines[0].begin(), out.lines[0].end(), '\n'), 1);
  auto j = nlohmann::json::parse(out.lines[0]);
  const std::string msg = j["message"];
  EXPECT_THAT(msg, HasSubstr("quote\" backslash\\ newline\n tab\t nul"));
  EXPECT_THAT(msg, HasSubstr("\xef\xbf\xbd"));  // U+FFFD for the invalid bytes
  EXPECT_THAT(msg, HasSubstr("end é"));
  EXPECT_EQ(j["x.ratio"], 0.25);
  EXPECT_TRUE(j["x.nan"].is_null());
}

TEST(LoggerTest, TextFormatForPeople) {
  FixedClock clock(kNow);
  Captured out;
  Logger log = MakeLogger(out, LogFormat::kText, clock);
  log.Warn("two\nlines", {{"trace.id", "r1"}, {"http.response.status_code", 404}});
  ASSERT_THAT(out.lines, SizeIs(1));
  EXPECT_EQ(out.lines[0], "2025-11-27T18:20:00.123456Z almanac serve: WARNING: two lines trace.id=r1 http.response.status_code=404\n");
}

TEST(LoggerTest, SecretsAreRedacted) {
  const std::string token = "alm_" + std::string(64, 'a');
  EXPECT_EQ(RedactSecrets("Authorization: Bearer " + token), "Authorization: Bearer [REDACTED]");
  EXPECT_EQ(RedactSecrets("authorization: bearer xyz, next"), "authorization: bearer [REDACTED], next");
  // Messages about tokens keep their words; a secret after them is still taken.
  EXPECT_EQ(RedactSecrets("invalid bearer token"), "invalid bearer token");
  EXPECT_EQ(RedactSecrets("missing bearer token (send 'Authorization: Bearer <token>')"),
            "missing bearer token (send 'Authorization: Bearer <token>')");
  EXPECT_EQ(RedactSecrets("Bearer tokenXYZ"), "Bearer [REDACTED]");
  EXPECT_EQ(RedactSecrets("Bearer token " + token), "Bearer token alm_[REDACTED]");
  EXPECT_EQ(RedactSecrets("token " + token + " revoked"), "token alm_[REDACTED] revoked");
  EXPECT_EQ(RedactSecrets("GET https://api.example/obs?series_id=GDP&api_key=0123abcd&file_type=json"),
            "GET https://api.example/obs?series_id=GDP&api_key=[REDACTED]&file_type=json");
  EXPECT_EQ(RedactSecrets("password=hunter2 apikey=k TOKEN=t"), "password=[REDACTED] apikey=[REDACTED] TOKEN=[REDACTED]");
  // Words that merely contain the names are left alone.
  EXPECT_EQ(RedactSecrets("tokens=3 my_api_key_count=2 alm_short"), "tokens=3 my_api_key_count=2 alm_short");

  FixedClock clock(kNow);
  Captured out;
  Logger log = MakeLogger(out, LogFormat::kJson, clock);
  log.Info("request with Bearer " + token, {{"url.path", "/x?api_key=s3cret"}});
  ASSERT_THAT(out.lines, SizeIs(1));
  EXPECT_THAT(out.lines[0], Not(HasSubstr(token)));
  EXPECT_THAT(out.lines[0], Not(HasSubstr("s3cret")));
  EXPECT_THAT(out.lines[0], HasSubstr("[REDACTED]"));

  // Each kind of secret alone (lines without one skip the redaction pass), both formats.
  for (LogFormat format : {LogFormat::kJson, LogFormat::kText}) {
    Captured alone;
    Logger l = MakeLogger(alone, format, clock);
    l.Info("header BEARER sekrit1");
    l.Info("plain " + token);
    l.Info("q", {{"url.query", "password=sekrit3"}});
    l.Info("nothing secret here", {{"user.name", "bearer-of-news"}});
    ASSERT_THAT(alone.lines, SizeIs(4));
    for (int i = 0; i < 3; ++i) {
      EXPECT_THAT(alone.lines[i], Not(HasSubstr("sekrit"))) << alone.lines[i];
      EXPECT_THAT(alone.lines[i], Not(HasSubstr(token))) << alone.lines[i];
      EXPECT_THAT(alone.lines[i], HasSubstr("[REDACTED]")) << alone.lines[i];
    }
    EXPECT_THAT(alone.lines[3], HasSubstr("nothing secret here"));
    EXPECT_THAT(alone.lines[3], HasSubstr("bearer-of-news"));
  }
}

TEST(LoggerTest, ConcurrentWritersNeverInterleaveLines) {
  Captured out;
  Logger::Options o;
  o.format = LogFormat::kJson;
  o.sink = [&out](std::string_view line) { out.lines.emplace_back(line); };  // guarded by the logger
  Logger log(o);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&log, t] {
      for (int i = 0; i < 200; ++i) log.Info("line", {{"trace.id", std::to_string(t * 1000 + i)}});
    });
  for (auto& th : threads) th.join();
  ASSERT_THAT(out.lines, SizeIs(800));
  std::set<std::string> ids;
  for (const auto& l : out.lines) ids.insert(nlohmann::json::parse(l)["trace.id"].get<std::string>());
  EXPECT_THAT(ids, SizeIs(800));
}

// Buffered (serve's access log): info lines wait for the flusher, a warning writes everything
// pending at once and in order, and the destructor writes the rest.
TEST(LoggerTest, BufferedLinesAreWrittenInOrderByWarningsAndTheDestructor) {
  char path[] = "/tmp/almanac_log_test_XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  std::fflush(stderr);
  const int saved = ::dup(2);
  ::dup2(fd, 2);
  auto read_all = [&] {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  std::string after_info, after_warning;
  {
    Logger::Options o;
    o.service = "almanac-serve";
    o.buffer_ms = 60000;  // the flusher does not wake during the test
    Logger log(o);
    log.Info("first");
    log.Info("second");
    after_info = read_all();
    log.Warn("third");
    after_warning = read_all();
    log.Info("fourth");
  }
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  ::close(fd);
  const std::string all = read_all();
  std::remove(path);
  EXPECT_EQ(after_info, "");
  EXPECT_THAT(after_warning, HasSubstr("first"));
  EXPECT_LT(after_warning.find("first"), after_warning.find("second"));
  EXPECT_LT(after_warning.find("second"), after_warning.find("WARNING: third"));
  EXPECT_EQ(after_warning.find("fourth"), std::string::npos);
  EXPECT_THAT(all, HasSubstr("fourth"));
  EXPECT_EQ(std::count(all.begin(), all.end(), '\n'), 4);
}

// Issue 19: a flood of identical warnings (refused connections, 401s, 429s from one address)
// writes at most repeat_limit lines per second per message and client, then one summary.
TEST(LoggerTest, RepeatedWarningsAreSuppressedAndSummarised) {
  FixedClock clock(kNow);
  Captured out;
  Logger::Options o;
  o.format = LogFormat::kJson;
  o.service = "almanac-serve";
  o.clock = &clock;
  o.repeat_limit = 3;
  o.sink = [&out](std::string_view line) { out.lines.emplace_back(line); };
  auto count = [&](std::string_view needle) {
    return std::count_if(out.lines.begin(), out.lines.end(),
                         [&](const std::string& l) { return l.find(needle) != std::string::npos; });
  };
  {
    Logger log(o);
    for (int i = 0; i < 1000; ++i) {
      log.Warn("GET /v1/models 401", {{"client.ip", "192.0.2.1"}, {"http.request.id", std::to_string(i)}});
      clock.Advance(100);  // 1,000 lines in 0.1 s
    }
    EXPECT_EQ(count("GET /v1/models 401"), 3);
    // Another client, another level, or info lines are not affected.
    for (int i = 0; i < 5; ++i) {
      log.Warn("GET /v1/models 401", {{"client.ip", "192.0.2.2"}});
      log.Error("GET /v1/models 401", {{"client.ip", "192.0.2.1"}});
      log.Info("GET /v1/models 200", {{"client.ip", "192.0.2.1"}});
    }
    EXPECT_EQ(count("\"client.ip\":\"192.0.2.2\""), 3);
    EXPECT_EQ(count("\"log.level\":\"error\""), 3);
    EXPECT_EQ(count("GET /v1/models 200"), 5);
    EXPECT_EQ(count("suppressed"), 0);  // the second is not over yet
    // The next second: the summaries first (one per message and client), then the line.
    clock.Advance(1'000'000);
    log.Warn("GET /v1/models 401", {{"client.ip", "192.0.2.1"}});
    ASSERT_EQ(count("suppressed"), 3);
    EXPECT_EQ(count("suppressed 997 similar lines in the last second: GET /v1/models 401"), 1);
    const std::string& summary = *std::find_if(out.lines.begin(), out.lines.end(), [](const std::string& l) {
      return l.find("suppressed 997") != std::string::npos;
    });
    auto j = nlohmann::json::parse(summary);
    EXPECT_EQ(j["log.level"], "warn");
    EXPECT_EQ(j["client.ip"], "192.0.2.1");
    EXPECT_THAT(out.lines.back(), HasSubstr("\"message\":\"GET /v1/models 401\""));
    // FlushSuppressed writes summaries without waiting for another warning; so does the
    // destructor, even before the second is over.
    for (int i = 0; i < 10; ++i) log.Warn("cannot reach the store");
    EXPECT_EQ(count("suppressed 7 similar lines in the last second: cannot reach the store"), 0);
    clock.Advance(1'000'000);
    log.FlushSuppressed();
    EXPECT_EQ(count("suppressed 7 similar lines in the last second: cannot reach the store"), 1);
    for (int i = 0; i < 5; ++i) log.Warn("last words");
  }
  EXPECT_EQ(count("suppressed 2 similar lines in the last second: last words"), 1);
}

TEST(LoggerTest, ManyDistinctRepeatedWarningsShareOneBudget) {
  FixedClock clock(kNow);
  Captured out;
  Logger::Options o;
  o.clock = &clock;
  o.repeat_limit = 2;
  o.sink = [&out](std::string_view line) { out.lines.emplace_back(line); };
  {
    Logger log(o);
    // 20,000 distinct clients, each repeating once: 4096 are tracked, the rest share a budget.
    for (int i = 0; i < 20000; ++i) {
      const std::string ip = "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256);
      log.Warn("refused", {{"client.ip", ip}});
      log.Warn("refused", {{"client.ip", ip}});
    }
    EXPECT_EQ(out.lines.size(), 4096u * 2 + 2);
  }
  EXPECT_THAT(out.lines.back(), HasSubstr("(more distinct warnings than tracked)"));
}

TEST(LoggerTest, ParseLogFormat) {
  EXPECT_THAT(ParseLogFormat("json"), testing::IsOkAndHolds(LogFormat::kJson));
  EXPECT_THAT(ParseLogFormat("text"), testing::IsOkAndHolds(LogFormat::kText));
  EXPECT_THAT(ParseLogFormat("xml"), testing::StatusIs(StatusCode::kInvalidArgument, "expected json or text"));
}

}  // namespace
}  // namespace almanac::monitor
