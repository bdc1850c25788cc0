// As-of reads from the SQLite store: one series with 200 quarterly periods and 50 vintages,
// where every vintage revises every period (10,000 stored observations: the worst case).
//   build/default/bench/store_bench --benchmark_repetitions=10 --benchmark_report_aggregates_only
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "almanac/store.h"

namespace almanac::store {
namespace {

struct Fixture {
  std::string dir;
  std::unique_ptr<Store> store;
  Fixture() {
    dir = (std::filesystem::temp_directory_path() / ("almanac_store_bench_" + std::to_string(::getpid()))).string();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    StoreOptions o;
    o.create_if_missing = true;
    store = std::move(*OpenStore("sqlite:" + dir + "/almanac.db", o));
    const Period start = *Period::Parse("1975Q1");
    // A few other series around it, so the read is not of a lone table.
    for (int v = 0; v < 50; ++v) {
      LoadOptions lo;
      lo.default_realtime_start = *Date::Parse("2000-01-01") + v * 30;
      auto load = std::move(*store->series().BeginLoad(lo));
      for (const char* key : {"bench:a", "bench:target", "bench:z"})
        for (int p = 0; p < 200; ++p) (void)load->Add(key, start + p, 1000.0 + p + v * 0.01, std::nullopt);
      (void)load->Commit();
    }
  }
  ~Fixture() { std::filesystem::remove_all(dir); }
};

Fixture& Shared() {
  static Fixture f;
  return f;
}

void BM_AsOfLatest(benchmark::State& state) {
  auto& s = Shared().store->series();
  for (auto _ : state) {
    auto ts = s.ReadAsOf("bench:target", std::nullopt);
    benchmark::DoNotOptimize(ts);
    if (!ts.ok() || ts->size() != 200) state.SkipWithError("bad read");
  }
}
BENCHMARK(BM_AsOfLatest)->Unit(benchmark::kMicrosecond);

void BM_AsOfMiddleVintage(benchmark::State& state) {
  auto& s = Shared().store->series();
  const Date as_of = *Date::Parse("2000-01-01") + 25 * 30;
  for (auto _ : state) {
    auto ts = s.ReadAsOf("bench:target", as_of);
    benchmark::DoNotOptimize(ts);
    if (!ts.ok() || ts->size() != 200) state.SkipWithError("bad read");
  }
}
BENCHMARK(BM_AsOfMiddleVintage)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace almanac::store

BENCHMARK_MAIN();
