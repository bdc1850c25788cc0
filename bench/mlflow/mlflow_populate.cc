// Fills a store with N runs for the MLflow search benchmark (issue 22): experiment "bench",
// runs with one metric (rmse = i / N, three steps), one param and one tag each, written through
// the store interface in transactions of 10,000 runs (four statements per run: on PostgreSQL
// one round trip each, 19.5 min for 100,000 runs). bench/mlflow/populate.sh calls it with N = 0
// for the experiment and writes the same rows with one INSERT ... SELECT per table.
//   mlflow_populate STORE_URI N
#include <cstdio>
#include <cstdlib>
#include <string>

#include "almanac/core.h"
#include "almanac/store.h"

using namespace almanac;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: mlflow_populate STORE_URI N\n");
    return 2;
  }
  const int64_t n = std::atoll(argv[2]);
  store::StoreOptions opts;
  auto st = store::OpenStore(argv[1], opts);
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.status().ToString().c_str());
    return 1;
  }
  auto& md = (*st)->metadata();
  Status s = md.Run([&](store::MetadataTxn& t) -> Status {
    if (t.GetExperimentByName("bench").ok()) return Status::Ok();
    store::ExperimentRecord e;
    e.name = "bench";
    e.created_at = e.updated_at = 1;
    return t.InsertExperiment(e).status();
  });
  for (int64_t b = 0; s.ok() && b < n; b += 10000) {
    s = md.Run([&](store::MetadataTxn& t) -> Status {
      for (int64_t i = b; i < std::min(n, b + 10000); ++i) {
        char id[32];
        std::snprintf(id, sizeof id, "r%016llx", static_cast<unsigned long long>(i));
        store::RunRecord r;
        r.id = id;
        r.experiment = "bench";
        r.status = store::RunStatus::kFinished;
        r.start_time = 1700000000000000 + i * 1000;
        r.end_time = r.start_time + 1;
        r.user = "bench";
        r.host = "bench";
        r.almanac_version = "bench";
        ALMANAC_RETURN_IF_ERROR(t.InsertRun(r));
        const double v = static_cast<double>(i) / static_cast<double>(n);
        ALMANAC_RETURN_IF_ERROR(t.InsertMetrics(
            r.id, {{"rmse", 0, v + 1, r.start_time}, {"rmse", 1, v + 0.5, r.start_time}, {"rmse", 2, v, r.start_time}}));
        ALMANAC_RETURN_IF_ERROR(t.InsertParams(r.id, {{"model", i % 2 ? "arima" : "ets"}}));
        ALMANAC_RETURN_IF_ERROR(t.SetTags(r.id, {{"team", i % 3 ? "macro" : "risk"}}));
      }
      return Status::Ok();
    });
  }
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("%lld runs in experiment bench\n", static_cast<long long>(n));
  return 0;
}
