#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/monitor.h"

namespace almanac::monitor {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(EscapeTest, LabelValuesWithQuotesBackslashesAndNewlines) {
  EXPECT_EQ(EscapeLabelValue(R"(a"b\c)"), R"(a\"b\\c)");
  EXPECT_EQ(EscapeLabelValue("line1\nline2"), R"(line1\nline2)");
  EXPECT_EQ(EscapeLabelValue("plain-üñí"), "plain-üñí");
  EXPECT_EQ(EscapeHelp("a\\b\nc \"q\""), "a\\\\b\\nc \"q\"");
}

TEST(EscapeTest, SampleValues) {
  EXPECT_EQ(FormatSampleValue(1), "1");
  EXPECT_EQ(FormatSampleValue(0.1), "0.1");
  EXPECT_EQ(FormatSampleValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatSampleValue(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(FormatSampleValue(std::nan("")), "NaN");
}

TEST(NamesTest, Validation) {
  EXPECT_TRUE(IsValidMetricName("almanac_http_requests_total"));
  EXPECT_TRUE(IsValidMetricName("a:b_c"));
  EXPECT_FALSE(IsValidMetricName("1abc"));
  EXPECT_FALSE(IsValidMetricName("a-b"));
  EXPECT_FALSE(IsValidMetricName(""));
  EXPECT_TRUE(IsValidLabelName("route"));
  EXPECT_FALSE(IsValidLabelName("__name"));
  EXPECT_FALSE(IsValidLabelName("a:b"));
}

TEST(ExpositionTest, CountersGaugesAndHistogramsInTextFormat) {
  MetricRegistry r;
  auto& c = r.AddCounter("test_requests_total", "Requests.\nSecond line", {"route", "status"});
  c.WithLabels({"/v1/forecast", "200"}).Inc();
  c.WithLabels({"/v1/forecast", "200"}).Inc(2);
  c.WithLabels({"/a\"b\\c\nd", "404"}).Inc();
  auto& g = r.AddGauge("test_in_flight", "In flight.");
  g.WithLabels(std::vector<std::string>{}).Set(3);
  auto& h = r.AddHistogram("test_latency_seconds", "Latency.", {"route"}, {0.1, 1});
  h.WithLabels({"x"}).Observe(0.05);
  h.WithLabels({"x"}).Observe(0.1);  // upper bounds are inclusive
  h.WithLabels({"x"}).Observe(5);
  const std::string text = r.Exposition();
  EXPECT_EQ(text,
            "# HELP test_in_flight In flight.\n"
            "# TYPE test_in_flight gauge\n"
            "test_in_flight 3\n"
            "# HELP test_latency_seconds Latency.\n"
            "# TYPE test_latency_seconds histogram\n"
            "test_latency_seconds_bucket{route=\"x\",le=\"0.1\"} 2\n"
            "test_latency_seconds_bucket{route=\"x\",le=\"1\"} 2\n"
            "test_latency_seconds_bucket{route=\"x\",le=\"+Inf\"} 3\n"
            "test_latency_seconds_sum{route=\"x\"} 5.15\n"
            "test_latency_seconds_count{route=\"x\"} 3\n"
            "# HELP test_requests_total Requests.\\nSecond line\n"
            "# TYPE test_requests_total counter\n"
            "test_requests_total{route=\"/a\\\"b\\\\c\\nd\",status=\"404\"} 1\n"
            "test_requests_total{route=\"/v1/forecast\",status=\"200\"} 3\n");
}

TEST(ExpositionTest, RemoveAndClear) {
  MetricRegistry r;
  auto& info = r.AddGauge("test_model_info", "Loaded models.", {"model", "version"});
  info.WithLabels({"gdp", "1"}).Set(1);
  info.WithLabels({"gdp", "2"}).Set(1);
  info.Remove({"gdp", "1"});
  EXPECT_THAT(r.Exposition(), Not(HasSubstr("version=\"1\"")));
  EXPECT_THAT(r.Exposition(), HasSubstr("test_model_info{model=\"gdp\",version=\"2\"} 1"));
  info.Clear();
  EXPECT_THAT(r.Exposition(), Not(HasSubstr("version=\"2\"")));
  // The same family is returned for the same name.
  EXPECT_EQ(&r.AddGauge("test_model_info", "Loaded models.", {"model", "version"}), &info);
}

TEST(ExpositionTest, ConcurrentUpdatesAreCounted) {
  MetricRegistry r;
  auto& c = r.AddCounter("test_total", "t", {"thread"});
  auto& h = r.AddHistogram("test_seconds", "t", {}, DefaultLatencyBuckets());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        c.WithLabels({t % 2 ? "odd" : "even"}).Inc();
        h.WithLabels(std::vector<std::string>{}).Observe(0.001);
        if (i % 1000 == 0) (void)r.Exposition();
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.WithLabels({"odd"}).Value() + c.WithLabels({"even"}).Value(), 40000);
  EXPECT_THAT(r.Exposition(), HasSubstr("test_seconds_count 40000\n"));
}

TEST(ExpositionTest, ProcessMetrics) {
  MetricRegistry r;
  AddProcessMetrics(r);
  const std::string text = r.Exposition();
  EXPECT_THAT(text, HasSubstr("# TYPE process_resident_memory_bytes gauge\n"));
  EXPECT_THAT(text, HasSubstr("process_cpu_seconds_total "));
  EXPECT_THAT(text, Not(HasSubstr("process_resident_memory_bytes 0\n")));
}

// The real linter of the Prometheus project (Debian package `prometheus`).
TEST(PromtoolTest, ExpositionPassesCheckMetrics) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "promtool not installed (Debian package 'prometheus'; scripts/deps.sh test installs it)";
  MetricRegistry r;
  AddProcessMetrics(r);
  auto& c = r.AddCounter("almanac_http_requests_total", "HTTP requests by route and status.", {"route", "status"});
  c.WithLabels({"/v1/forecast", "200"}).Inc();
  c.WithLabels({"quote\" backslash\\ newline\n", "500"}).Inc();
  r.AddHistogram("almanac_http_request_duration_seconds", "Request latency.", {"route"}, DefaultLatencyBuckets())
      .WithLabels({"/v1/forecast"})
      .Observe(0.0003);
  r.AddGauge("almanac_model_version_info", "Loaded model versions.", {"model", "version", "stage"})
      .WithLabels({"gdp", "3", "production"})
      .Set(1);
  char path[] = "/tmp/almanac_metrics_XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << r.Exposition();
  const std::string cmd = std::string("promtool check metrics < ") + path + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof(buf), p) != nullptr) out += buf;
  const int rc = ::pclose(p);
  ::unlink(path);
  EXPECT_EQ(WEXITSTATUS(rc), 0) << out;
}

}  // namespace
}  // namespace almanac::monitor
