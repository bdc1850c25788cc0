#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/monitor.h"
#include "core/testing/status_matchers.h"

namespace almanac::monitor {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// A plain HTTP/1.0 exchange over a socket (no client library in this component's tests).
std::string Fetch(int port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return "";
  }
  (void)!::write(fd, request.data(), request.size());
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

TEST(MetricsEndpointTest, ServesMetricsAndHealthz) {
  MetricRegistry r;
  r.AddCounter("almanac_test_total", "A test counter.", {"name"}).WithLabels({"a\"b"}).Inc(3);
  ASSERT_OK_AND_ASSIGN(auto ep, MetricsEndpoint::Start("127.0.0.1:0", r));
  ASSERT_GT(ep->port(), 0);
  const std::string m = Fetch(ep->port(), "GET /metrics HTTP/1.0\r\n\r\n");
  EXPECT_THAT(m, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(m, HasSubstr("Content-Type: text/plain; version=0.0.4"));
  EXPECT_THAT(m, HasSubstr("almanac_test_total{name=\"a\\\"b\"} 3\n"));
  EXPECT_THAT(Fetch(ep->port(), "GET /healthz HTTP/1.0\r\n\r\n"), HasSubstr("\r\n\r\nok\n"));
  EXPECT_THAT(Fetch(ep->port(), "GET /other HTTP/1.0\r\n\r\n"), StartsWith("HTTP/1.1 404"));
  EXPECT_THAT(Fetch(ep->port(), "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n"), StartsWith("HTTP/1.1 405"));
  ep->Stop();
  EXPECT_EQ(Fetch(ep->port(), "GET /metrics HTTP/1.0\r\n\r\n"), "");
}

TEST(MetricsEndpointTest, BadAddresses) {
  MetricRegistry r;
  EXPECT_THAT(MetricsEndpoint::Start("127.0.0.1", r), testing::StatusIs(StatusCode::kInvalidArgument, "is not HOST:PORT"));
  EXPECT_THAT(MetricsEndpoint::Start("127.0.0.1:99999", r),
              testing::StatusIs(StatusCode::kInvalidArgument, "is not a number in 0..65535"));
  EXPECT_THAT(MetricsEndpoint::Start("example.org:1", r), testing::StatusIs(StatusCode::kInvalidArgument, "not an IP address"));
  ASSERT_OK_AND_ASSIGN(auto first, MetricsEndpoint::Start("127.0.0.1:0", r));
  EXPECT_THAT(MetricsEndpoint::Start("127.0.0.1:" + std::to_string(first->port()), r),
              testing::StatusIs(StatusCode::kUnavailable, "cannot listen for metrics"));
}

TEST(PipelineMetricsTest, RunsStepsAndQueueDepth) {
  MetricRegistry r;
  PipelineMetrics pm(r);
  pm.RunFinished("gdp", "success", 2.5, 1'700'000'123'000'000);
  pm.RunFinished("gdp", "failure", 0.2, 1'700'000'100'000'000);
  pm.StepFinished("gdp", "train:ets", "computed", 1.2);
  pm.StepFinished("gdp", "train:ets", "cached", 0.0005);
  pm.SetQueueDepth("scheduled", 2);
  pm.TaskStarted("pipeline");
  pm.TaskStarted("pipeline");
  pm.TaskFinished("pipeline", "done", 3.0);
  pm.TaskStarted("pipeline");
  pm.TaskFinished("pipeline", "lost", 40.0);
  const std::string text = r.Exposition();
  EXPECT_THAT(text, HasSubstr("almanac_worker_busy_tasks{kind=\"pipeline\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("almanac_tasks_total{kind=\"pipeline\",outcome=\"done\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("almanac_tasks_total{kind=\"pipeline\",outcome=\"lost\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("almanac_task_duration_seconds_sum{kind=\"pipeline\",outcome=\"lost\"} 40\n"));
  EXPECT_THAT(text, HasSubstr("almanac_pipeline_runs_total{pipeline=\"gdp\",outcome=\"success\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("almanac_pipeline_runs_total{pipeline=\"gdp\",outcome=\"failure\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("almanac_pipeline_run_duration_seconds_sum{pipeline=\"gdp\",outcome=\"success\"} 2.5\n"));
  EXPECT_THAT(text, HasSubstr("almanac_pipeline_step_duration_seconds_count{pipeline=\"gdp\",step=\"train:ets\",outcome=\"cached\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("almanac_pipeline_last_success_timestamp_seconds{pipeline=\"gdp\"} 1700000123\n"));
  EXPECT_THAT(text, HasSubstr("almanac_pipeline_last_run_timestamp_seconds{pipeline=\"gdp\",outcome=\"failure\"} 1700000100\n"));
  EXPECT_THAT(text, HasSubstr("almanac_queue_depth{queue=\"scheduled\"} 2\n"));
}

TEST(PipelineMetricsTest, ScheduledLoadsBySourceAndOutcome) {
  MetricRegistry r;
  PipelineMetrics pm(r);
  pm.LoadFinished("fred", "committed", 1.5, 1'700'000'000'000'000);
  pm.LoadFinished("fred", "unchanged", 0.25, 1'700'000'100'000'000);
  pm.LoadFinished("fred", "unchanged", 0.5, 1'700'000'200'000'000);
  pm.LoadFinished("ecb", "failed", 3, 1'700'000'300'000'000);
  pm.LoadFinished("ons", "quarantined", 1, 1'700'000'400'000'000);
  const std::string text = r.Exposition();
  // Issue 19: a loader's health is when it last succeeded (committed or unchanged), not when
  // its series last changed; failed and quarantined loads do not count.
  EXPECT_THAT(text, HasSubstr("almanac_source_last_success_timestamp_seconds{source=\"fred\"} 1700000200\n"));
  EXPECT_THAT(text, Not(HasSubstr("almanac_source_last_success_timestamp_seconds{source=\"ecb\"}")));
  EXPECT_THAT(text, Not(HasSubstr("almanac_source_last_success_timestamp_seconds{source=\"ons\"}")));
  EXPECT_THAT(text, HasSubstr("# TYPE almanac_source_loads_total counter\n"));
  EXPECT_THAT(text, HasSubstr("almanac_source_loads_total{source=\"fred\",outcome=\"committed\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("almanac_source_loads_total{source=\"fred\",outcome=\"unchanged\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("almanac_source_loads_total{source=\"ecb\",outcome=\"failed\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("almanac_source_load_duration_seconds_sum{source=\"fred\",outcome=\"unchanged\"} 0.75\n"));
}

// The value of one sample (`name{labels}`) in an exposition; NaN when it is absent. Values are
// compared as numbers: the exposition writes the shortest form (1.7e+09).
double SampleValue(const std::string& text, const std::string& sample) {
  const std::string needle = sample + " ";
  size_t at = text.find("\n" + needle);
  if (at == std::string::npos) return std::nan("");
  at += 1 + needle.size();
  return std::stod(text.substr(at, text.find('\n', at) - at));
}

// Loads n quarterly values from 2020Q1 (value 1 + i + shift), stamped `realtime_start`
// (nullopt: the load's default, today by the store's clock).
Status Load(store::Store& s, const std::string& key, const std::string& source, int n,
            std::optional<Date> realtime_start = std::nullopt, double shift = 0) {
  ALMANAC_ASSIGN_OR_RETURN(auto session, s.series().BeginLoad(store::LoadOptions{.loader = "test", .source = "f.csv"}));
  store::SeriesInfo info;
  info.key = key;
  info.frequency = Frequency::kQuarterly;
  info.source = source;
  ALMANAC_RETURN_IF_ERROR(session->DeclareSeries(info));
  ALMANAC_ASSIGN_OR_RETURN(Period p, Period::Parse("2020Q1"));
  for (int i = 0; i < n; ++i) ALMANAC_RETURN_IF_ERROR(session->Add(key, p + i, 1.0 + i + shift, realtime_start));
  return session->Commit().status();
}

TEST(StoreMetricsTest, FreshnessPerSeriesAndLoadsPerSource) {
  FixedClock clock(1'700'000'000'000'000);
  store::StoreOptions so;
  so.clock = &clock;
  ASSERT_OK_AND_ASSIGN(auto s, store::OpenStore("memory:", so));
  MetricRegistry r;
  StoreMetrics sm(r, s->series());
  ASSERT_OK(sm.Refresh());
  EXPECT_THAT(r.Exposition(), HasSubstr("almanac_series_tracked 0\n"));
  ASSERT_OK(Load(*s, "gdp", "fred", 4));
  clock.Advance(3'600'000'000);
  ASSERT_OK(Load(*s, "cpi", "ons", 4));
  clock.Advance(3'600'000'000);
  ASSERT_OK(Load(*s, "gdp", "fred", 5));
  ASSERT_OK(sm.Refresh());
  const std::string text = r.Exposition();
  // Loaded without a realtime_start: the vintage date is the load's day (UTC): cpi on 2023-11-14,
  // gdp's second load at 00:13 on 2023-11-15.
  EXPECT_EQ(SampleValue(text, "almanac_series_last_vintage_timestamp_seconds{series=\"gdp\"}"), 1700006400);
  EXPECT_EQ(SampleValue(text, "almanac_series_last_vintage_timestamp_seconds{series=\"cpi\"}"), 1699920000);
  EXPECT_EQ(SampleValue(text, "almanac_series_last_load_timestamp_seconds{series=\"gdp\"}"), 1700007200);
  EXPECT_EQ(SampleValue(text, "almanac_series_last_load_timestamp_seconds{series=\"cpi\"}"), 1700003600);
  EXPECT_THAT(text, HasSubstr("almanac_series_tracked 2\n"));
  EXPECT_THAT(text, HasSubstr("almanac_data_loads{source=\"fred\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("almanac_data_loads{source=\"ons\"} 1\n"));
}

// Issue 19: the vintage timestamp is the date the provider stamped on the data
// (realtime_start), not when almanac loaded it; the load time is its own metric. An old
// vintage loaded today (ALFRED history, a file with --realtime-start) is stale data, and a
// back-filled vintage older than the newest does not move the vintage date back.
TEST(StoreMetricsTest, Issue19VintageDateAndLoadTimeAreSeparate) {
  FixedClock clock(1'700'000'000'000'000);  // 2023-11-14T22:13:20Z
  store::StoreOptions so;
  so.clock = &clock;
  ASSERT_OK_AND_ASSIGN(auto s, store::OpenStore("memory:", so));
  MetricRegistry r;
  StoreMetrics sm(r, s->series());
  ASSERT_OK(Load(*s, "fred:CPI", "fred", 4, *Date::Parse("2023-10-01")));
  ASSERT_OK(sm.Refresh());
  std::string text = r.Exposition();
  EXPECT_EQ(SampleValue(text, "almanac_series_last_vintage_timestamp_seconds{series=\"fred:CPI\"}"), 1696118400);
  EXPECT_EQ(SampleValue(text, "almanac_series_last_load_timestamp_seconds{series=\"fred:CPI\"}"), 1700000000);
  EXPECT_THAT(text, HasSubstr("# TYPE almanac_series_last_load_timestamp_seconds gauge\n"));
  // An hour later, a back-filled vintage dated 2023-09-01 with other values: a new load, but
  // the newest data are still those published on 2023-10-01.
  clock.Advance(3'600'000'000);
  ASSERT_OK(Load(*s, "fred:CPI", "fred", 4, *Date::Parse("2023-09-01"), 0.5));
  ASSERT_OK(sm.Refresh());
  text = r.Exposition();
  EXPECT_EQ(SampleValue(text, "almanac_series_last_vintage_timestamp_seconds{series=\"fred:CPI\"}"), 1696118400);
  EXPECT_EQ(SampleValue(text, "almanac_series_last_load_timestamp_seconds{series=\"fred:CPI\"}"), 1700003600);
  // A load that changes nothing records no vintage, so neither timestamp moves.
  clock.Advance(3'600'000'000);
  ASSERT_OK(Load(*s, "fred:CPI", "fred", 4, *Date::Parse("2023-10-01")));
  ASSERT_OK(sm.Refresh());
  text = r.Exposition();
  EXPECT_EQ(SampleValue(text, "almanac_series_last_load_timestamp_seconds{series=\"fred:CPI\"}"), 1700003600);
}

}  // namespace
}  // namespace almanac::monitor
