// As-of reads from the PostgreSQL store (issue 7): 1,000 monthly series x 300 periods, each
// with 20 vintages that revise every period (6 million stored observations: the worst case
// for as-of reads). Needs ALMANAC_BENCH_PG_URI (an empty database); bench/pg/run.sh starts a
// throwaway server and sets it. After loading, the table is vacuumed as autovacuum would.
//   BM_AsOfOneSeries: one series as of a middle vintage (goal: median < 2 ms)
//   BM_AsOfAllSeries: all 1,000 series as of that date, one after another (goal: < 1 s)
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>

#include <libpq-fe.h>

#include "almanac/store.h"

namespace almanac::store {
namespace {

constexpr int kSeries = 1000, kPeriods = 300, kVintages = 20;

std::string Key(int s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "bench:S%04d", s);
  return buf;
}

Date VintageDate(int v) { return *Date::Parse("2020-01-01") + v * 30; }

Store& Shared() {
  static std::unique_ptr<Store> store = [] {
    const char* uri = std::getenv("ALMANAC_BENCH_PG_URI");
    if (uri == nullptr) {
      std::fprintf(stderr, "set ALMANAC_BENCH_PG_URI to an empty PostgreSQL database (bench/pg/run.sh does)\n");
      std::exit(2);
    }
    StoreOptions o;
    o.create_if_missing = true;
    auto s = OpenStore(uri, o);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.status().ToString().c_str());
      std::exit(2);
    }
    auto existing = (*s)->series().ListSeries();
    if (existing.ok() && existing->size() == kSeries) return std::move(*s);
    const Period start = *Period::Parse("1995-01");
    for (int v = 0; v < kVintages; ++v) {
      LoadOptions lo;
      lo.default_realtime_start = VintageDate(v);
      auto load = std::move(*(*s)->series().BeginLoad(lo));
      for (int k = 0; k < kSeries; ++k)
        for (int p = 0; p < kPeriods; ++p) (void)load->Add(Key(k), start + p, 100.0 + p + k * 0.001 + v * 0.01, std::nullopt);
      auto r = load->Commit();
      if (!r.ok()) {
        std::fprintf(stderr, "load failed: %s\n", r.status().ToString().c_str());
        std::exit(2);
      }
      std::fprintf(stderr, "loaded vintage %d/%d\n", v + 1, kVintages);
    }
    // What autovacuum does to an insert-only table soon after a load (statistics, visibility
    // map). Done here so the figure does not depend on its timing.
    PGconn* c = PQconnectdb(uri);
    PGresult* r = PQexec(c, "VACUUM (ANALYZE) observations");
    if (PQresultStatus(r) != PGRES_COMMAND_OK) std::fprintf(stderr, "vacuum failed: %s\n", PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return std::move(*s);
  }();
  return *store;
}

void BM_AsOfOneSeries(benchmark::State& state) {
  auto& s = Shared().series();
  const Date as_of = VintageDate(kVintages / 2) + 1;
  int k = 0;
  for (auto _ : state) {
    auto ts = s.ReadAsOf(Key(k), as_of);
    k = (k + 7) % kSeries;
    benchmark::DoNotOptimize(ts);
    if (!ts.ok() || ts->size() != kPeriods) state.SkipWithError("bad read");
  }
}
BENCHMARK(BM_AsOfOneSeries)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_AsOfAllSeries(benchmark::State& state) {
  auto& s = Shared().series();
  const Date as_of = VintageDate(kVintages / 2) + 1;
  for (auto _ : state) {
    for (int k = 0; k < kSeries; ++k) {
      auto ts = s.ReadAsOf(Key(k), as_of);
      if (!ts.ok() || ts->size() != kPeriods) {
        state.SkipWithError("bad read");
        break;
      }
    }
  }
}
BENCHMARK(BM_AsOfAllSeries)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace
}  // namespace almanac::store

BENCHMARK_MAIN();
