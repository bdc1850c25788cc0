// As-of reads from the SQLite store: one series with 200 quarterly periods and 50 vintages.
//   *WorstCase: every vintage revises every period (10,000 stored observations).
//   *Typical: like US GDP in ALFRED, where most releases revise the last few quarters, an
//   annual revision every 12th vintage revises three years and one comprehensive revision
//   revises everything (about 800 stored observations).
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
  explicit Fixture(bool worst_case) {
    dir = (std::filesystem::temp_directory_path() /
           ("almanac_store_bench_" + std::to_string(::getpid()) + (worst_case ? "_w" : "_t")))
              .string();
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
      // Typical: vintage v knows periods [0, 151 + v); revises the last 4, or 12 (annual,
      // v % 12 == 6), or all (comprehensive, v == 30).
      const int known = worst_case ? 200 : 151 + v;
      const int revised = worst_case || v == 0 || v == 30 ? known : (v % 12 == 6 ? 12 : 4);
      for (const char* key : {"bench:a", "bench:target", "bench:z"})
        for (int p = known - revised; p < known; ++p) (void)load->Add(key, start + p, 1000.0 + p + v * 0.01, std::nullopt);
      (void)load->Commit();
    }
  }
  ~Fixture() { std::filesystem::remove_all(dir); }
};

Fixture& Shared(bool worst_case) {
  static Fixture worst(true), typical(false);
  return worst_case ? worst : typical;
}

void BM_AsOfLatest(benchmark::State& state) {
  auto& s = Shared(state.range(0) == 1).store->series();
  for (auto _ : state) {
    auto ts = s.ReadAsOf("bench:target", std::nullopt);
    benchmark::DoNotOptimize(ts);
    if (!ts.ok() || ts->size() != 200) state.SkipWithError("bad read");
  }
}
BENCHMARK(BM_AsOfLatest)->ArgName("worst_case")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_AsOfMiddleVintage(benchmark::State& state) {
  auto& s = Shared(state.range(0) == 1).store->series();
  const Date as_of = *Date::Parse("2000-01-01") + 25 * 30;
  for (auto _ : state) {
    auto ts = s.ReadAsOf("bench:target", as_of);
    benchmark::DoNotOptimize(ts);
    if (!ts.ok() || ts->size() < 170) state.SkipWithError("bad read");
  }
}
BENCHMARK(BM_AsOfMiddleVintage)->ArgName("worst_case")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace almanac::store

BENCHMARK_MAIN();
