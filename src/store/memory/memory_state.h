// The state of the in-memory back-end, shared by its series store (memory_store.cc) and its
// metadata store (memory_metadata.cc) (store-internal).
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "almanac/store.h"
#include "store/load_session_base.h"

namespace almanac::store::memory {

struct ObsKey {
  int64_t period, rt, vintage_id;
  auto operator<=>(const ObsKey&) const = default;
};

struct SeriesData {
  SeriesInfo info;
  int64_t id = 0;
  std::map<ObsKey, double> obs;  // value NaN = missing
  std::optional<LatestDigest> digest;
};

struct VintageRow {
  VintageInfo info;
  int64_t series_id = 0;
};

// The whole state; a load works on a copy and swaps it in on commit (all or nothing).
struct State {
  std::map<std::string, SeriesData> series;  // by key
  std::map<int64_t, std::string> key_by_id;
  std::map<int64_t, VintageRow> vintages;
  std::map<std::string, std::pair<std::string, std::pair<int64_t, int64_t>>> contents;  // id -> content, counts
  std::map<std::string, SnapshotInfo> snapshots;  // by name
  int64_t next_id = 1;
  int64_t next_load = 1;
  // Metadata.
  std::map<std::string, RunRecord> runs;
  // Experiment 0, "Default", exists from the start (as migration 10 creates it in SQL stores).
  std::map<int64_t, ExperimentRecord> experiments = {{0, ExperimentRecord{.id = 0, .name = "Default"}}};
  int64_t next_experiment = 1;
  std::map<std::string, std::map<std::string, std::string>> params, tags;
  std::map<std::string, std::vector<MetricPoint>> metrics;
  std::map<std::string, std::map<std::string, ArtifactRecord>> artifacts;
  std::map<std::string, CacheEntry> cache;
  std::map<std::string, RegisteredModelRecord> models;
  std::map<std::pair<std::string, int64_t>, ModelVersionRecord> versions;
  std::map<int64_t, PromotionRequestRecord> requests;
  // MLflow registry (migration 11): deleted versions (tombstones, still in `versions`), tags by
  // (model, version or 0 for the model, key), aliases by (model, alias).
  std::map<std::pair<std::string, int64_t>, int64_t> deleted_versions;
  std::map<std::tuple<std::string, int64_t, std::string>, std::string> model_tags;
  std::map<std::pair<std::string, std::string>, int64_t> model_aliases;
  std::vector<AuditEntry> audit;
  std::map<std::string, ApiTokenRecord> tokens;  // by id
  std::map<std::string, StoreUserRecord> store_users;  // by principal
  std::map<std::pair<std::string, int64_t>, std::string> scheduled_runs;  // (pipeline, fired_at) -> holder
  std::map<std::tuple<std::string, int64_t, std::string>, IssuedForecastRecord> forecasts;  // (model, version, origin)
  std::map<int64_t, QuarantineRecord> quarantine;
  std::map<int64_t, TaskRecord> tasks;
};

// State shared by the series and metadata stores of one memory back-end.
struct Shared {
  std::mutex mu;         // guards state
  std::mutex writer_mu;  // held by the one open write (load or metadata transaction)
  State state;
};

// Appends a hash-chained audit entry to `state`.
Result<AuditEntry> AppendAudit(State& state, const Clock& clock, const AuditEvent& event);

}  // namespace almanac::store::memory
