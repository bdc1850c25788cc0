// Connector figures (issue 8), measured end to end through the real HTTP client:
//   1. 500 FRED series x 600 monthly observations from a local HTTP server on 127.0.0.1
//      into a fresh SQLite store (fred/series + observations per series: 1000 requests);
//   2. the same load again, unchanged: every request is conditional and gets 304;
//   3. parse throughput of FRED JSON and SDMX-CSV on one core.
// Usage: connectors_bench [--series N] [--obs N] [--parse-mb N]
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "almanac/data.h"
#include "data/testing/fixture_server.h"

namespace {

using almanac::data::testing::FixtureRequest;
using almanac::data::testing::FixtureResponse;
using almanac::data::testing::FixtureServer;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a) { return std::chrono::duration<double>(Clock::now() - a).count(); }

// CPU time of this thread: on a shared machine the wall clock also counts other processes.
double ThreadCpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

std::string FredObservations(int series, int n) {
  std::string b = "{\"realtime_start\":\"2024-05-01\",\"realtime_end\":\"2024-05-01\",\"observation_start\":\"1600-01-01\","
                  "\"observation_end\":\"9999-12-31\",\"units\":\"lin\",\"output_type\":1,\"file_type\":\"json\","
                  "\"order_by\":\"observation_date\",\"sort_order\":\"asc\",\"count\":" + std::to_string(n) +
                  ",\"offset\":0,\"limit\":100000,\"observations\":[";
  char buf[200];
  for (int i = 0; i < n; ++i) {
    const int y = 1975 + (i / 12) % 8000, m = i % 12 + 1;
    std::snprintf(buf, sizeof(buf),
                  "%s{\"realtime_start\":\"2024-05-01\",\"realtime_end\":\"2024-05-01\",\"date\":\"%04d-%02d-01\",\"value\":\"%.3f\"}",
                  i == 0 ? "" : ",", y, m, 100.0 + series * 0.5 + i * 0.137 + (i % 7) * 0.01);
    b += buf;
  }
  return b + "]}";
}

std::string FredSeries(int s) {
  return "{\"seriess\":[{\"id\":\"S" + std::to_string(s) + "\",\"title\":\"Bench series " + std::to_string(s) +
         "\",\"frequency_short\":\"M\",\"units\":\"Index\",\"seasonal_adjustment_short\":\"SA\"}]}";
}

std::string SdmxCsv(size_t target_bytes) {
  std::string b = "KEY,FREQ,CURRENCY,CURRENCY_DENOM,EXR_TYPE,EXR_SUFFIX,TIME_PERIOD,OBS_VALUE,OBS_STATUS,OBS_CONF\n";
  char buf[200];
  for (int s = 0; b.size() < target_bytes; ++s)
    for (int i = 0; i < 600; ++i) {
      std::snprintf(buf, sizeof(buf), "EXR.M.C%03d.EUR.SP00.A,M,C%03d,EUR,SP00,A,%04d-%02d,%.4f,A,F\n", s, s, 1975 + i / 12,
                    i % 12 + 1, 1.0 + s * 0.01 + i * 0.0003);
      b += buf;
    }
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  int nseries = 500, nobs = 600, parse_mb = 64;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--series")) nseries = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--obs")) nobs = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--parse-mb")) parse_mb = std::atoi(argv[i + 1]);
  }
  ::setenv("no_proxy", "127.0.0.1", 1);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::vector<std::string> bodies, etags;
  for (int s = 0; s < nseries; ++s) {
    bodies.push_back(FredObservations(s, nobs));
    etags.push_back("\"" + almanac::Sha256Hex(bodies.back()).substr(0, 20) + "\"");
  }
  FixtureServer server([&](const FixtureRequest& r) {
    FixtureResponse resp;
    const int s = std::atoi(r.query.at("series_id").c_str() + 1);
    if (r.path == "/fred/series") {
      resp.body = FredSeries(s);
      return resp;
    }
    resp.headers = {{"ETag", etags[s]}};
    auto it = r.headers.find("if-none-match");
    if (it != r.headers.end() && it->second == etags[s]) {
      resp.status = 304;
      return resp;
    }
    resp.body = bodies[s];
    return resp;
  });
  if (!server.Start()) {
    std::fprintf(stderr, "cannot start the local server\n");
    return 1;
  }
  const std::string dir = "/tmp/almanac_connectors_bench_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  almanac::store::StoreOptions so;
  so.create_if_missing = true;
  auto store = almanac::store::OpenStore("sqlite:" + dir + "/almanac.db", so);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().message().c_str());
    return 1;
  }
  almanac::data::SourceConfig src;
  src.name = "fred";
  src.type = almanac::data::SourceType::kFred;
  src.base_url = server.base_url();
  src.key_prefix = "fred";
  for (int s = 0; s < nseries; ++s) src.series.push_back({"S" + std::to_string(s), "", {}, {}});
  almanac::data::SourceLoadOptions opts;
  opts.loader = "bench";

  auto t0 = Clock::now();
  auto first = almanac::data::LoadSource(src, opts, **store);
  const double first_s = Seconds(t0);
  if (!first.ok()) {
    std::fprintf(stderr, "first load: %s\n", first.status().message().c_str());
    return 1;
  }
  t0 = Clock::now();
  auto second = almanac::data::LoadSource(src, opts, **store);
  const double second_s = Seconds(t0);
  if (!second.ok()) {
    std::fprintf(stderr, "second load: %s\n", second.status().message().c_str());
    return 1;
  }
  std::printf("first load:  %d series x %d obs, %lld requests, %.1f MB, %lld observations written: %.3f s\n", nseries,
              nobs, static_cast<long long>(first->requests), first->bytes / 1e6,
              static_cast<long long>(first->report.observations_written), first_s);
  std::printf("second load: %lld requests, %lld x 304, committed=%d: %.3f s\n", static_cast<long long>(second->requests),
              static_cast<long long>(second->not_modified), second->committed ? 1 : 0, second_s);
  server.Stop();
  store->reset();
  std::filesystem::remove_all(dir);

  // Parse throughput, one core.
  // FRED sends at most 100,000 observations per page (its `limit` maximum), about 11 MB: a
  // load parses pages of that size one after another on one thread. About 110 bytes per
  // observation; dates wrap past 9999 are avoided by cycling the year.
  const int pages = std::max(1, static_cast<int>((static_cast<int64_t>(parse_mb) << 20) / 110 / 100000));
  std::vector<std::string> fred_pages;
  size_t fred_bytes = 0;
  for (int p = 0; p < pages; ++p) {
    fred_pages.push_back(FredObservations(p, 100000));
    fred_bytes += fred_pages.back().size();
  }
  // The first page of a thread sizes the parser's buffers (reused afterwards): on this VM,
  // faulting in fresh memory costs more than parsing, so it is timed on its own.
  t0 = Clock::now();
  double c0 = ThreadCpu();
  if (!almanac::data::ParseFredObservations(FredObservations(pages, 100000), "warm-up").ok()) return 1;
  std::printf("FRED JSON parse, first page of the thread (buffers allocated): %.3f s wall, %.3f s CPU\n", Seconds(t0),
              ThreadCpu() - c0);
  t0 = Clock::now();
  c0 = ThreadCpu();
  size_t fred_obs = 0;
  for (const auto& body : fred_pages) {
    auto page = almanac::data::ParseFredObservations(body, "bench");
    if (!page.ok()) return 1;
    fred_obs += page->observations.size();
  }
  const double fred_s = Seconds(t0), fred_cpu = ThreadCpu() - c0;
  std::printf("FRED JSON parse: %d pages of 100000, %.1f MB, %zu observations: %.3f s wall = %.0f MB/s; %.3f s CPU = %.0f MB/s\n",
              pages, fred_bytes / 1e6, fred_obs, fred_s, fred_bytes / 1e6 / fred_s, fred_cpu, fred_bytes / 1e6 / fred_cpu);
  // One page as large as all of them together (a cold parser sized for it on first use).
  const std::string fred = FredObservations(0, static_cast<int>((static_cast<int64_t>(parse_mb) << 20) / 110));
  t0 = Clock::now();
  c0 = ThreadCpu();
  auto page = almanac::data::ParseFredObservations(fred, "bench");
  const double big_s = Seconds(t0), big_cpu = ThreadCpu() - c0;
  if (!page.ok()) return 1;
  std::printf("FRED JSON parse, one %.1f MB page: %zu observations: %.3f s wall = %.0f MB/s; %.3f s CPU = %.0f MB/s\n",
              fred.size() / 1e6, page->observations.size(), big_s, fred.size() / 1e6 / big_s, big_cpu,
              fred.size() / 1e6 / big_cpu);
  const std::string csv = SdmxCsv(static_cast<size_t>(parse_mb) << 20);
  t0 = Clock::now();
  c0 = ThreadCpu();
  auto series = almanac::data::ParseSdmxCsv(csv, {"ecb", "bench", ""});
  const double csv_s = Seconds(t0), csv_cpu = ThreadCpu() - c0;
  if (!series.ok()) return 1;
  size_t obs = 0;
  for (const auto& s : *series) obs += s.observations.size();
  std::printf("SDMX-CSV parse: %.1f MB, %zu series, %zu observations: %.3f s wall = %.0f MB/s; %.3f s CPU = %.0f MB/s\n",
              csv.size() / 1e6, series->size(), obs, csv_s, csv.size() / 1e6 / csv_s, csv_cpu, csv.size() / 1e6 / csv_cpu);
  return 0;
}
