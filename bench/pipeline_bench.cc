// Pipeline overheads (issue 4): a pipeline whose steps are all cached, and tracking 10,000
// metric points in one run, on the SQLite store in a temporary workspace.
//   build/default/bench/pipeline_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "almanac/pipeline.h"

namespace almanac::pipeline {
namespace {

const char* kPipeline = R"(name: bench
data:
  series: [us:gdp]
transforms:
  - name: growth
    op: pct_change
    input: us:gdp
target: growth
horizon: 8
models:
  - type: auto_ets
  - type: theta
  - type: naive
evaluation:
  origins: 8
  horizon: 4
register:
  model: bench
)";

struct Fixture {
  std::string dir;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<store::ArtifactStore> artifacts;
  models::ForecasterRegistry models;
  PipelineSpec spec;
  Fixture() {
    dir = (std::filesystem::temp_directory_path() / ("almanac_pipeline_bench_" + std::to_string(::getpid()))).string();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    store::StoreOptions o;
    o.create_if_missing = true;
    store = std::move(*store::OpenStore("sqlite:" + dir + "/almanac.db", o));
    artifacts = std::move(*store::OpenArtifactStore("file:" + dir + "/artifacts"));
    models::RegisterBuiltinModels(models);
    auto load = std::move(*store->series().BeginLoad({}));
    double v = 100;
    for (int i = 0; i < 200; ++i) {
      v *= 1.005 + 0.01 * std::sin(i * 0.7);
      (void)load->Add("us:gdp", *Period::Parse("1960Q1") + i, v, std::nullopt);
    }
    (void)load->Commit();
    spec = std::move(*ParsePipeline(kPipeline, "bench.yaml", models));
    Runner runner(Env());
    (void)runner.Run(spec, {.user = "bench"});  // fills the cache
  }
  ~Fixture() { std::filesystem::remove_all(dir); }
  Environment Env() { return {store.get(), artifacts.get(), &models, &SystemClock(), 2}; }
};

Fixture& Shared() {
  static Fixture f;
  return f;
}

void BM_AllStepsCached(benchmark::State& state) {
  auto& f = Shared();
  Runner runner(f.Env());
  for (auto _ : state) {
    auto r = runner.Run(f.spec, {.user = "bench"});
    if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
    for (const auto& s : r->steps)
      if (!s.cached && s.step != "load" && s.step != "validate" && s.step != "register") state.SkipWithError("not cached");
  }
}
BENCHMARK(BM_AllStepsCached)->Unit(benchmark::kMillisecond);

void BM_Track10000MetricPoints(benchmark::State& state) {
  auto& f = Shared();
  tracking::Tracker tracker(f.store->metadata(), *f.artifacts, SystemClock());
  for (auto _ : state) {
    auto run = tracker.StartRun({.pipeline = "bench", .user = "bench"});
    std::vector<store::MetricPoint> points;
    points.reserve(10000);
    for (int i = 0; i < 10000; ++i) points.push_back({"loss", i, 1.0 / (i + 1), 0});
    if (!tracker.LogMetrics(run->id, std::move(points)).ok()) state.SkipWithError("log failed");
    (void)tracker.FinishRun(run->id, store::RunStatus::kFinished, "");
  }
}
BENCHMARK(BM_Track10000MetricPoints)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace almanac::pipeline

BENCHMARK_MAIN();
