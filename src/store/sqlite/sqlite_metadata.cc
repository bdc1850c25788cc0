#include "store/sqlite/sqlite_metadata.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <mutex>

#include "store/record_text.h"
#include "store/rows.h"

namespace almanac::store::sqlite {
namespace {

// Maps a constraint failure to AlreadyExists with a message naming the object.
Status Named(const Status& s, const std::string& what) {
  if (s.ok()) return s;
  if (s.code() == StatusCode::kAlreadyExists) return AlreadyExistsError(what + " already exists");
  return s.WithContext(what);
}

// "SELECT <columns> FROM <table><rest>".
std::string Select(std::string_view columns, std::string_view table, std::string_view rest = "") {
  return "SELECT " + std::string(columns) + " FROM " + std::string(table) + std::string(rest);
}

// The record of the next row (mapped by `read`, see store/rows.h), or NotFound(`missing`).
template <typename Read>
Result<RecordOf<Read>> OneRow(Stmt& q, Read read, const std::string& missing) {
  ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return NotFoundError(missing);
  return read(StmtRow(q));
}

// The records of every remaining row, mapped by `read`.
template <typename Read>
Result<std::vector<RecordOf<Read>>> AllRows(Stmt& q, Read read) {
  std::vector<RecordOf<Read>> out;
  for (;;) {
    ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    Result<RecordOf<Read>> record = read(StmtRow(q));
    if (!record.ok()) return record.status();
    out.push_back(std::move(record).value());
  }
  return out;
}

// A JSON array of strings, for `IN (SELECT value FROM json_each(?))`: SQLite has no array
// parameter, and JSON1 is built in (3.38+), so any number of ids binds as one text value.
std::string JsonStringArray(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : items[i]) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (u < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", u);
        out += buf;
      } else {
        out += c;
      }
    }
    out += '"';
  }
  out += ']';
  return out;
}

class Txn : public MetadataTxn {
 public:
  Txn(sqlite3* db, const Clock& clock) : db_(db), clock_(clock) {}

  const Clock& clock() const override { return clock_; }

  Status InsertRun(const RunRecord& r) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_,
        "INSERT INTO runs (" + std::string(kRunColumns) + ") VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17)"));
    BindFields(q, WriteRun, r);
    return Named(q.Run(), "run " + r.id);
  }

  Status UpdateRun(const RunRecord& r) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_,
        "UPDATE runs SET experiment=?2, pipeline=?3, status=?4, start_time=?5, end_time=?6, user=?7, host=?8, "
        "pipeline_hash=?9, snapshot_id=?10, git_commit=?11, almanac_version=?12, seed=?13, error=?14, reproduces=?15, "
        "name=?16, deleted=?17 WHERE id=?1"));
    BindFields(q, WriteRun, r);
    ALMANAC_RETURN_IF_ERROR(q.Run());
    return Changed("run " + r.id);
  }

  Result<RunRecord> GetRun(std::string_view id) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, Select(kRunColumns, "runs", " WHERE id = ?1")));
    q.Bind(1, id);
    return OneRow(q, RunFromRow, "no run " + QuoteForMessage(id));
  }

  Result<std::vector<RunRecord>> ListRuns(const RunFilter& f) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, Select(kRunColumns, "runs",
        " WHERE (?1 = '' OR experiment = ?1) AND (?2 = '' OR pipeline = ?2) "
        "AND (?3 = '' OR status = ?3) ORDER BY start_time DESC, id DESC LIMIT ?4")));
    q.Bind(1, f.experiment).Bind(2, f.pipeline).Bind(3, f.status ? RunStatusName(*f.status) : std::string_view(""))
        .Bind(4, int64_t{f.limit <= 0 ? 1000000 : f.limit});
    return AllRows(q, RunFromRow);
  }

  Status InsertParams(std::string_view run_id, const std::vector<std::pair<std::string, std::string>>& params) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "INSERT INTO run_params VALUES (?1, ?2, ?3)"));
    for (const auto& [k, v] : params) {
      q.Bind(1, run_id).Bind(2, k).Bind(3, v);
      ALMANAC_RETURN_IF_ERROR(Named(q.Run(), "parameter " + k + " of run " + std::string(run_id)));
    }
    return Status::Ok();
  }

  Result<std::vector<std::pair<std::string, std::string>>> GetParams(std::string_view run_id) override {
    return KeyValues("SELECT key, value FROM run_params WHERE run_id = ?1 ORDER BY key", run_id);
  }

  Status InsertMetrics(std::string_view run_id, const std::vector<MetricPoint>& points) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "INSERT INTO run_metrics VALUES (?1, ?2, ?3, ?4, ?5)"));
    for (const auto& p : points) {
      // A NaN binds as NULL (SQLite has no NaN), which MetricFromRow reads back as NaN.
      q.Bind(1, run_id).Bind(2, p.key).Bind(3, p.step).Bind(4, p.value).Bind(5, p.timestamp);
      ALMANAC_RETURN_IF_ERROR(q.Run());
    }
    // The latest point per key (migration 12): one upsert per key of the write, replacing the
    // stored latest when this one is at least as late (it was written after it).
    ALMANAC_ASSIGN_OR_RETURN(
        Stmt u, Stmt::Prepare(db_, "INSERT INTO run_latest_metrics (run_id, key, step, timestamp, value) "
                                   "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (run_id, key) DO UPDATE SET "
                                   "step = excluded.step, timestamp = excluded.timestamp, value = excluded.value "
                                   "WHERE excluded.step > run_latest_metrics.step OR (excluded.step = "
                                   "run_latest_metrics.step AND excluded.timestamp >= run_latest_metrics.timestamp)"));
    for (const auto& p : LatestPointPerKey(points)) {
      u.Bind(1, run_id).Bind(2, p.key).Bind(3, p.step).Bind(4, p.timestamp).Bind(5, p.value);
      ALMANAC_RETURN_IF_ERROR(u.Run());
    }
    return Status::Ok();
  }

  Result<std::vector<MetricPoint>> GetMetrics(std::string_view run_id) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, Select(kMetricColumns, "run_metrics",
                                                                " WHERE run_id = ?1 ORDER BY key, step, rowid")));
    q.Bind(1, run_id);
    return AllRows(q, MetricFromRow);
  }

  Status SetTags(std::string_view run_id, const std::vector<std::pair<std::string, std::string>>& tags) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "INSERT INTO run_tags VALUES (?1, ?2, ?3) "
                                                        "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value"));
    for (const auto& [k, v] : tags) {
      q.Bind(1, run_id).Bind(2, k).Bind(3, v);
      ALMANAC_RETURN_IF_ERROR(q.Run());
    }
    return Status::Ok();
  }

  Result<std::vector<std::pair<std::string, std::string>>> GetTags(std::string_view run_id) override {
    return KeyValues("SELECT key, value FROM run_tags WHERE run_id = ?1 ORDER BY key", run_id);
  }

  Status DeleteTag(std::string_view run_id, std::string_view key) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "DELETE FROM run_tags WHERE run_id = ?1 AND key = ?2"));
    q.Bind(1, run_id).Bind(2, key);
    ALMANAC_RETURN_IF_ERROR(q.Run());
    return Changed("tag " + std::string(key) + " of run " + std::string(run_id));
  }

  Result<std::vector<std::string>> RunsWithLatestMetric(std::string_view experiment, std::string_view key,
                                                        std::string_view op, double value) override {
    if (op != "<" && op != "<=" && op != ">" && op != ">=" && op != "=")
      return InvalidArgumentError("unsupported metric comparison " + QuoteForMessage(op));
    // A NaN is stored as NULL, which no comparison matches.
    ALMANAC_ASSIGN_OR_RETURN(
        Stmt q, Stmt::Prepare(db_, "SELECT m.run_id FROM run_latest_metrics m JOIN runs r ON r.id = m.run_id "
                                   "WHERE m.key = ?2 AND m.value " + std::string(op) + " ?3 AND r.experiment = ?1"));
    q.Bind(1, experiment).Bind(2, key).Bind(3, value);
    return AllRows(q, [](const Row& row) { return row.Text(0); });
  }

  // One statement per table for any number of ids: the ids bind as one JSON array, and the
  // IN list probes the primary key or run_metrics_by_run once per id.
  Result<std::vector<RunRecord>> GetRuns(const std::vector<std::string>& ids) override {
    if (ids.empty()) return std::vector<RunRecord>{};
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, Select(kRunColumns, "runs",
                                                                " WHERE id IN (SELECT value FROM json_each(?1))")));
    q.Bind(1, JsonStringArray(ids));
    ALMANAC_ASSIGN_OR_RETURN(auto rows, AllRows(q, RunFromRow));
    return RunsInIdOrder(ids, std::move(rows));
  }

  Result<MetricsByRun> GetMetricsOfRuns(const std::vector<std::string>& ids) override {
    MetricsByRun out;
    if (ids.empty()) return out;
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "SELECT " + std::string(kMetricColumns) +
                                                            ", run_id FROM run_metrics WHERE run_id IN (SELECT value FROM "
                                                            "json_each(?1)) ORDER BY run_id, key, step, rowid"));
    q.Bind(1, JsonStringArray(ids));
    for (;;) {
      ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      StmtRow r(q);
      out[r.Text(4)].push_back(MetricFromRow(r));
    }
    return out;
  }

  Result<KeyValuesByRun> GetParamsOfRuns(const std::vector<std::string>& ids) override {
    return KeyValuesOfRuns("run_params", ids);
  }

  Result<KeyValuesByRun> GetTagsOfRuns(const std::vector<std::string>& ids) override {
    return KeyValuesOfRuns("run_tags", ids);
  }

  Result<int64_t> InsertExperiment(const ExperimentRecord& e) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "INSERT INTO experiments (name, artifact_location, "
                                                        "lifecycle_stage, creation_time, last_update_time, tags) "
                                                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    BindFields(q, WriteExperiment, e);
    ALMANAC_RETURN_IF_ERROR(Named(q.Run(), "experiment " + e.name));
    return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
  }

  Status UpdateExperiment(const ExperimentRecord& e) override {
    ALMANAC_ASSIGN_OR_RETURN(ExperimentRecord old, GetExperiment(e.id));
    if (old.name != e.name) {
      auto other = GetExperimentByName(e.name);
      if (other.ok()) return AlreadyExistsError("experiment " + e.name + " already exists");
      if (other.status().code() != StatusCode::kNotFound) return other.status();
    }
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "UPDATE experiments SET name=?1, artifact_location=?2, "
                                                        "lifecycle_stage=?3, creation_time=?4, last_update_time=?5, "
                                                        "tags=?6 WHERE id=?7"));
    BindFields(q, WriteExperiment, e);
    q.Bind(7, e.id);
    ALMANAC_RETURN_IF_ERROR(Named(q.Run(), "experiment " + e.name));
    if (old.name == e.name) return Status::Ok();
    ALMANAC_ASSIGN_OR_RETURN(Stmt r, Stmt::Prepare(db_, "UPDATE runs SET experiment = ?1 WHERE experiment = ?2"));
    r.Bind(1, e.name).Bind(2, old.name);
    return r.Run();
  }

  Result<ExperimentRecord> GetExperiment(int64_t id) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, Select(kExperimentColumns, "experiments", " WHERE id = ?1")));
    q.Bind(1, id);
    return OneRow(q, ExperimentFromRow, "no experiment with id " + std::to_string(id));
  }

  Result<ExperimentRecord> GetExperimentByName(std::string_view name) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, Select(kExperimentColumns, "experiments", " WHERE name = ?1")));
    q.Bind(1, name);
    return OneRow(q, ExperimentFromRow, "no experiment named " + QuoteForMessage(name));
  }

  Result<std::vector<ExperimentRecord>> ListExperiments() override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, Select(kExperimentColumns, "experiments", " ORDER BY id")));
    return AllRows(q, ExperimentFromRow);
  }

  Status InsertArtifact(std::string_view run_id, const ArtifactRecord& a) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "INSERT INTO run_artifacts VALUES (?1, ?2, ?3, ?4, ?5)"));
    q.Bind(1, run_id).Bind(2, a.name).Bind(3, a.sha256).Bind(4, a.size).Bind(5, a.kind);
    return Named(q.Run(), "artifact " + a.name + " of run " + std::string(run_id));
  }

  Result<std::vector<ArtifactRecord>> GetArtifacts(std::string_view run_id) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, Select(kArtifactColumns, "run_artifacts",
                                                                " WHERE run_id = ?1 ORDER BY name")));
    q.Bind(1, run_id);
    return AllRows(q, ArtifactFromRow);
  }

  Result<std::optional<CacheEntry>> GetCache(std::string_view key) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, Select(kCacheColumns, "step_cache", " WHERE key = ?1")));
    q.Bind(1, key);
    ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return std::optional<CacheEntry>();
    ALMANAC_ASSIGN_OR_RETURN(CacheEntry e, CacheEntryFromRow(StmtRow(q)));
    return std::optional<CacheEntry>(std::move(e));
  }

  Status PutCache(const CacheEntry& e) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "INSERT INTO step_cache VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (key) "
                                                        "DO UPDATE SET step = excluded.step, run_id = excluded.run_id, "
                                                        "outputs = excluded.outputs, created_at = excluded.created_at"));
    q.Bind(1, e.key).Bind(2, e.step).Bind(3, e.run_id).Bind(4, JsonText(e.outputs)).Bind(5, e.created_at);
    return q.Run();
  }

  Status InsertModel(const RegisteredModelRecord& m) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "INSERT INTO registered_models VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    BindFields(q, WriteModel, m);
    return Named(q.Run(), "model " + m.name);
  }

  Status UpdateModel(const RegisteredModelRecord& m) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "UPDATE registered_models SET owner=?2, description=?3, policy=?4, card=?5 "
                                                        "WHERE name=?1"));
    q.Bind(1, m.name).Bind(2, m.owner).Bind(3, m.description).Bind(4, JsonText(m.policy)).Bind(5, JsonText(m.card));
    ALMANAC_RETURN_IF_ERROR(q.Run());
    return Changed("model " + m.name);
  }

  Result<RegisteredModelRecord> GetModel(std::string_view name) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, Select(kModelColumns, "registered_models", " WHERE name = ?1")));
    q.Bind(1, name);
    return OneRow(q, ModelFromRow, "no registered model " + QuoteForMessage(name));
  }

  Result<std::vector<RegisteredModelRecord>> ListModels() override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, Select(kModelColumns, "registered_models", " ORDER BY name")));
    return AllRows(q, ModelFromRow);
  }

  Status InsertVersion(const ModelVersionRecord& v) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "INSERT INTO model_versions (" + std::string(kVersionColumns) +
                                                            ") VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)"));
    BindFields(q, WriteVersion, v);
    Status s = q.Run();
    if (s.code() == StatusCode::kAlreadyExists)
      return AlreadyExistsError("model " + v.model + " already has version " + std::to_string(v.version) +
                                " or a version from run " + v.run_id);
    return s;
  }

  Status UpdateVersion(const ModelVersionRecord& v) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "UPDATE model_versions SET run_id=?3, artifact_name=?4, artifact_sha256=?5, "
                                                        "snapshot_id=?6, stage=?7, metrics=?8, description=?9, created_at=?10, "
                                                        "created_by=?11, stage_changed_at=?12 WHERE model=?1 AND version=?2"));
    BindFields(q, WriteVersion, v);
    Status s = q.Run();
    if (s.code() == StatusCode::kAlreadyExists)
      return FailedPreconditionError("model " + v.model + " already has a production version");
    ALMANAC_RETURN_IF_ERROR(s);
    return Changed("version " + std::to_string(v.version) + " of model " + v.model);
  }

  Result<ModelVersionRecord> GetVersion(std::string_view model, int64_t version) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, Select(kVersionColumns, "model_versions",
                                                                " WHERE model = ?1 AND version = ?2 AND deleted_at = 0")));
    q.Bind(1, model).Bind(2, version);
    return OneRow(q, VersionFromRow, "model " + std::string(model) + " has no version " + std::to_string(version));
  }

  Result<std::vector<ModelVersionRecord>> ListVersions(std::string_view model) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, Select(kVersionColumns, "model_versions",
                                                                " WHERE model = ?1 AND deleted_at = 0 ORDER BY version")));
    q.Bind(1, model);
    return AllRows(q, VersionFromRow);
  }

  Result<int64_t> MaxVersion(std::string_view model) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "SELECT COALESCE(MAX(version), 0) FROM model_versions WHERE model = ?1"));
    q.Bind(1, model);
    ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
    return row ? q.Int(0) : int64_t{0};
  }

  Result<int64_t> InsertRequest(const PromotionRequestRecord& r) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_,
        "INSERT INTO promotion_requests (model, version, target, requested_by, requested_at, reason, status, decided_by, "
        "decided_at, decision_reason) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"));
    BindFields(q, WriteRequest, r);
    ALMANAC_RETURN_IF_ERROR(q.Run());
    return sqlite3_last_insert_rowid(db_);
  }

  Status UpdateRequest(const PromotionRequestRecord& r) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "UPDATE promotion_requests SET status=?2, decided_by=?3, decided_at=?4, "
                                                        "decision_reason=?5 WHERE id=?1"));
    BindFields(q, WriteRequestDecision, r);
    ALMANAC_RETURN_IF_ERROR(q.Run());
    return Changed("promotion request " + std::to_string(r.id));
  }

  Result<std::vector<PromotionRequestRecord>> ListRequests(std::string_view model) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, Select(kRequestColumns, "promotion_requests",
                                                                " WHERE model = ?1 ORDER BY id")));
    q.Bind(1, model);
    return AllRows(q, RequestFromRow);
  }

  // MLflow registry (migration 11): tags, aliases, tombstones, delete, rename.
  Status SetModelTag(std::string_view model, int64_t version, std::string_view key, std::string_view value) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "INSERT INTO model_tags VALUES (?1, ?2, ?3, ?4) ON CONFLICT "
                                                        "(model, version, key) DO UPDATE SET value = excluded.value"));
    q.Bind(1, model).Bind(2, version).Bind(3, key).Bind(4, value);
    return q.Run();
  }

  Status DeleteModelTag(std::string_view model, int64_t version, std::string_view key) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "DELETE FROM model_tags WHERE model = ?1 AND version = ?2 AND key = ?3"));
    q.Bind(1, model).Bind(2, version).Bind(3, key);
    ALMANAC_RETURN_IF_ERROR(q.Run());
    return Changed("tag " + std::string(key) + " of " + std::string(model) + "@" + std::to_string(version));
  }

  Result<std::vector<std::pair<std::string, std::string>>> GetModelTags(std::string_view model, int64_t version) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "SELECT key, value FROM model_tags WHERE model = ?1 AND version = ?2 "
                                                        "ORDER BY key"));
    q.Bind(1, model).Bind(2, version);
    return AllRows(q, [](const Row& row) { return std::make_pair(row.Text(0), row.Text(1)); });
  }

  Status SetAlias(std::string_view model, std::string_view alias, int64_t version) override {
    ALMANAC_RETURN_IF_ERROR(GetVersion(model, version).status());
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "INSERT INTO model_aliases VALUES (?1, ?2, ?3) ON CONFLICT "
                                                        "(model, alias) DO UPDATE SET version = excluded.version"));
    q.Bind(1, model).Bind(2, alias).Bind(3, version);
    return q.Run();
  }

  Status DeleteAlias(std::string_view model, std::string_view alias) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "DELETE FROM model_aliases WHERE model = ?1 AND alias = ?2"));
    q.Bind(1, model).Bind(2, alias);
    ALMANAC_RETURN_IF_ERROR(q.Run());
    return Changed("alias " + std::string(alias) + " of model " + std::string(model));
  }

  Result<std::vector<std::pair<std::string, int64_t>>> ListAliases(std::string_view model) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "SELECT alias, version FROM model_aliases WHERE model = ?1 ORDER BY alias"));
    q.Bind(1, model);
    return AllRows(q, [](const Row& row) { return std::make_pair(row.Text(0), row.Int(1)); });
  }

  Status DeleteVersion(std::string_view model, int64_t version, int64_t at) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "UPDATE model_versions SET deleted_at = ?3 "
                                                        "WHERE model = ?1 AND version = ?2 AND deleted_at = 0"));
    q.Bind(1, model).Bind(2, version).Bind(3, std::max<int64_t>(at, 1));
    ALMANAC_RETURN_IF_ERROR(q.Run());
    ALMANAC_RETURN_IF_ERROR(Changed("version " + std::to_string(version) + " of model " + std::string(model)));
    for (const char* sql : {"DELETE FROM model_tags WHERE model = ?1 AND version = ?2",
                            "DELETE FROM model_aliases WHERE model = ?1 AND version = ?2"}) {
      ALMANAC_ASSIGN_OR_RETURN(Stmt d, Stmt::Prepare(db_, sql));
      d.Bind(1, model).Bind(2, version);
      ALMANAC_RETURN_IF_ERROR(d.Run());
    }
    return Status::Ok();
  }

  Status DeleteModel(std::string_view model) override {
    ALMANAC_RETURN_IF_ERROR(GetModel(model).status());
    for (const char* sql : {"DELETE FROM model_aliases WHERE model = ?1", "DELETE FROM model_tags WHERE model = ?1",
                            "DELETE FROM promotion_requests WHERE model = ?1", "DELETE FROM model_versions WHERE model = ?1",
                            "DELETE FROM registered_models WHERE name = ?1"}) {
      ALMANAC_ASSIGN_OR_RETURN(Stmt d, Stmt::Prepare(db_, sql));
      d.Bind(1, model);
      ALMANAC_RETURN_IF_ERROR(d.Run());
    }
    return Status::Ok();
  }

  Status RenameModel(std::string_view model, std::string_view new_name) override {
    ALMANAC_RETURN_IF_ERROR(GetModel(model).status());
    if (GetModel(new_name).ok()) return AlreadyExistsError("model " + std::string(new_name) + " already exists");
    // Copy, repoint, then drop the old rows: the foreign keys hold after every statement.
    const std::string version_columns(kVersionColumns);
    const std::string copy_versions = "INSERT INTO model_versions (" + version_columns + ", deleted_at) SELECT ?2" +
                                      version_columns.substr(version_columns.find(',')) +
                                      ", deleted_at FROM model_versions WHERE model = ?1";
    for (const std::string& sql :
         {std::string("INSERT INTO registered_models (") + std::string(kModelColumns) + ") SELECT ?2" +
              std::string(kModelColumns).substr(std::string(kModelColumns).find(',')) +
              " FROM registered_models WHERE name = ?1",
          copy_versions, std::string("UPDATE promotion_requests SET model = ?2 WHERE model = ?1"),
          std::string("DELETE FROM model_versions WHERE model = ?1"),
          std::string("UPDATE model_tags SET model = ?2 WHERE model = ?1"),
          std::string("UPDATE model_aliases SET model = ?2 WHERE model = ?1"),
          std::string("UPDATE issued_forecasts SET model = ?2 WHERE model = ?1"),
          std::string("DELETE FROM registered_models WHERE name = ?1")}) {
      ALMANAC_ASSIGN_OR_RETURN(Stmt d, Stmt::Prepare(db_, sql));
      d.Bind(1, model).Bind(2, new_name);
      ALMANAC_RETURN_IF_ERROR(d.Run());
    }
    return Status::Ok();
  }

  Status InsertToken(const ApiTokenRecord& t) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "INSERT INTO api_tokens VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"));
    BindFields(q, WriteToken, t);
    Status s = q.Run();
    // The role CHECK constraint: a role the schema does not know.
    if (!s.ok() && s.message().find("CHECK") != std::string::npos)
      return InvalidArgumentError("token " + t.id + ": unknown role " + QuoteForMessage(t.role));
    if (s.code() == StatusCode::kAlreadyExists) return AlreadyExistsError("token " + t.id + " (or its hash) already exists");
    return s;
  }

  Status UpdateToken(const ApiTokenRecord& t) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "UPDATE api_tokens SET revoked_at=?2, revoked_by=?3, expires_at=?4 WHERE id=?1"));
    q.Bind(1, t.id).Bind(2, t.revoked_at).Bind(3, t.revoked_by).Bind(4, t.expires_at);
    ALMANAC_RETURN_IF_ERROR(q.Run());
    return Changed("token " + t.id);
  }

  Result<ApiTokenRecord> GetToken(std::string_view id) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, Select(kTokenColumns, "api_tokens", " WHERE id = ?1")));
    q.Bind(1, id);
    return OneRow(q, TokenFromRow, "no token " + QuoteForMessage(id));
  }

  Result<ApiTokenRecord> GetTokenByHash(std::string_view hash) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, Select(kTokenColumns, "api_tokens", " WHERE token_sha256 = ?1")));
    q.Bind(1, hash);
    return OneRow(q, TokenFromRow, "no token with that hash");
  }

  Result<std::vector<ApiTokenRecord>> ListTokens() override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, Select(kTokenColumns, "api_tokens", " ORDER BY created_at, id")));
    return AllRows(q, TokenFromRow);
  }

  Status TouchToken(std::string_view id, int64_t at) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "UPDATE api_tokens SET last_used_at = max(last_used_at, ?2) WHERE id = ?1"));
    q.Bind(1, id).Bind(2, at);
    ALMANAC_RETURN_IF_ERROR(q.Run());
    return Changed("token " + std::string(id));
  }

  Status PutStoreUser(const StoreUserRecord& u) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "INSERT OR REPLACE INTO store_users VALUES (?1, ?2, ?3, ?4, ?5)"));
    BindFields(q, WriteStoreUser, u);
    return q.Run();
  }

  Result<StoreUserRecord> GetStoreUser(std::string_view principal) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, Select(kStoreUserColumns, "store_users", " WHERE principal = ?1")));
    q.Bind(1, principal);
    return OneRow(q, StoreUserFromRow, "no store user " + QuoteForMessage(principal));
  }

  Result<std::vector<StoreUserRecord>> ListStoreUsers() override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, Select(kStoreUserColumns, "store_users", " ORDER BY principal")));
    return AllRows(q, StoreUserFromRow);
  }

  Status DeleteStoreUser(std::string_view principal) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "DELETE FROM store_users WHERE principal = ?1"));
    q.Bind(1, principal);
    ALMANAC_RETURN_IF_ERROR(q.Run());
    return Changed("store user " + QuoteForMessage(principal));
  }

  Result<bool> ClaimScheduledRun(std::string_view pipeline, int64_t fired_at, std::string_view holder) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "INSERT OR IGNORE INTO scheduled_runs VALUES (?1, ?2, ?3, ?4)"));
    q.Bind(1, pipeline).Bind(2, fired_at).Bind(3, holder).Bind(4, clock_.NowMicros());
    ALMANAC_RETURN_IF_ERROR(q.Run());
    return sqlite3_changes(db_) == 1;
  }

  Result<AuditEntry> Audit(const AuditEvent& event) override { return AppendAudit(db_, clock_, event); }

  Result<bool> PutForecast(const IssuedForecastRecord& f) override {
    ALMANAC_RETURN_IF_ERROR(ValidateIssuedForecast(f));
    // A longer horizon replaces the row; an equal or shorter one leaves it (first issue kept).
    ALMANAC_ASSIGN_OR_RETURN(
        Stmt q, Stmt::Prepare(db_,
                              "INSERT INTO issued_forecasts VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11) "
                              "ON CONFLICT (model, version, origin) DO UPDATE SET target=excluded.target, "
                              "horizon=excluded.horizon, mean=excluded.mean, levels=excluded.levels, "
                              "lower=excluded.lower, upper=excluded.upper WHERE excluded.horizon > issued_forecasts.horizon"));
    BindFields(q, WriteForecast, f);
    ALMANAC_RETURN_IF_ERROR(q.Run());
    return sqlite3_changes(db_) > 0;
  }

  Result<std::vector<IssuedForecastRecord>> ListForecasts(std::string_view model, int64_t version) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, Select(kForecastColumns, "issued_forecasts",
        " WHERE model = ?1 AND (?2 <= 0 OR version = ?2) ORDER BY version, origin")));
    q.Bind(1, model).Bind(2, version);
    return AllRows(q, ForecastFromRow);
  }

  Result<int64_t> InsertQuarantine(const QuarantineRecord& r) override {
    ALMANAC_RETURN_IF_ERROR(ValidateQuarantine(r));
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_,
        "INSERT INTO quarantine (source, state, reasons, series, observations, payload, payload_sha256, created_at, "
        "created_by, decided_at, decided_by, decision_reason, load_id) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)"));
    BindFields(q, WriteQuarantine, r);
    ALMANAC_RETURN_IF_ERROR(q.Run());
    return sqlite3_last_insert_rowid(db_);
  }

  Result<QuarantineRecord> GetQuarantine(int64_t id) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, Select(std::string(kQuarantineColumns) + ", payload", "quarantine", " WHERE id = ?1")));
    q.Bind(1, id);
    return OneRow(q, QuarantineWithPayloadFromRow, "no quarantined load " + std::to_string(id));
  }

  Result<std::vector<QuarantineRecord>> ListQuarantine(const std::vector<QuarantineState>& states) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, Select(kQuarantineColumns, "quarantine", " ORDER BY id")));
    ALMANAC_ASSIGN_OR_RETURN(std::vector<QuarantineRecord> all, AllRows(q, QuarantineFromRow));
    return InStates(std::move(all), states);
  }

  Status UpdateQuarantine(const QuarantineRecord& r) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "UPDATE quarantine SET state=?2, decided_at=?3, decided_by=?4, "
                                                        "decision_reason=?5, load_id=?6 WHERE id=?1"));
    BindFields(q, WriteQuarantineDecision, r);
    ALMANAC_RETURN_IF_ERROR(q.Run());
    return Changed("quarantined load " + std::to_string(r.id));
  }

  Result<int64_t> InsertTask(const TaskRecord& t) override {
    ALMANAC_RETURN_IF_ERROR(ValidateTask(t));
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_,
        "INSERT INTO tasks (kind, name, payload, dedupe_key, state, attempts, max_attempts, not_before, lease_owner, "
        "lease_expires_at, created_at, created_by, started_at, finished_at, result, error) "
        "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16) ON CONFLICT (dedupe_key) DO NOTHING"));
    BindFields(q, WriteTask, t);
    ALMANAC_RETURN_IF_ERROR(q.Run());
    if (sqlite3_changes(db_) == 0) return AlreadyExistsError("task " + t.dedupe_key + " already exists");
    return sqlite3_last_insert_rowid(db_);
  }

  Result<std::optional<TaskRecord>> ClaimTask(std::string_view worker, int64_t now, int64_t lease_until,
                                              const std::vector<std::string>& kinds) override {
    // One writer at a time on SQLite: the transaction itself serialises claims.
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, Select(std::string(kTaskColumns) + ", payload", "tasks",
        " WHERE (state = 'queued' AND not_before <= ?1) OR "
        "(state = 'running' AND lease_expires_at < ?1 AND attempts < max_attempts) ORDER BY id")));
    q.Bind(1, now);
    for (;;) {
      ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return std::optional<TaskRecord>();
      ALMANAC_ASSIGN_OR_RETURN(TaskRecord t, TaskWithPayloadFromRow(StmtRow(q)));
      if (!kinds.empty() && std::find(kinds.begin(), kinds.end(), t.kind) == kinds.end()) continue;
      t.state = TaskState::kRunning;
      t.lease_owner = std::string(worker);
      t.lease_expires_at = lease_until;
      t.attempts += 1;
      t.started_at = now;
      ALMANAC_RETURN_IF_ERROR(UpdateTask(t));
      return std::optional<TaskRecord>(std::move(t));
    }
  }

  Result<TaskRecord> GetTask(int64_t id) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, Select(std::string(kTaskColumns) + ", payload", "tasks", " WHERE id = ?1")));
    q.Bind(1, id);
    return OneRow(q, TaskWithPayloadFromRow, "no task " + std::to_string(id));
  }

  Status UpdateTask(const TaskRecord& t) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_,
        "UPDATE tasks SET state=?2, attempts=?3, not_before=?4, lease_owner=?5, lease_expires_at=?6, started_at=?7, "
        "finished_at=?8, result=?9, error=?10 WHERE id=?1"));
    BindFields(q, WriteTaskProgress, t);
    ALMANAC_RETURN_IF_ERROR(q.Run());
    return Changed("task " + std::to_string(t.id));
  }

  Result<std::vector<TaskRecord>> ListTasks(const std::vector<TaskState>& states) override {
    // Filtered in SQL: a worker samples the queued tasks every second, and done tasks pile up.
    std::string where;
    for (size_t i = 0; i < states.size(); ++i) where += i == 0 ? " WHERE state IN (?" : ", ?";
    if (!states.empty()) where += ")";
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, Select(kTaskColumns, "tasks", where + " ORDER BY id")));
    for (size_t i = 0; i < states.size(); ++i) q.Bind(static_cast<int>(i + 1), TaskStateName(states[i]));
    return AllRows(q, TaskFromRow);
  }

 private:
  Status Changed(const std::string& what) {
    if (sqlite3_changes(db_) == 0) return NotFoundError("no " + what);
    return Status::Ok();
  }

  Result<KeyValuesByRun> KeyValuesOfRuns(std::string_view table, const std::vector<std::string>& ids) {
    KeyValuesByRun out;
    if (ids.empty()) return out;
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "SELECT run_id, key, value FROM " + std::string(table) +
                                                            " WHERE run_id IN (SELECT value FROM json_each(?1)) "
                                                            "ORDER BY run_id, key"));
    q.Bind(1, JsonStringArray(ids));
    for (;;) {
      ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      StmtRow r(q);
      out[r.Text(0)].emplace_back(r.Text(1), r.Text(2));
    }
    return out;
  }

  Result<std::vector<std::pair<std::string, std::string>>> KeyValues(std::string_view sql, std::string_view run_id) {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, sql));
    q.Bind(1, run_id);
    return AllRows(q, [](const Row& row) { return std::make_pair(row.Text(0), row.Text(1)); });
  }

  sqlite3* db_;
  const Clock& clock_;
};

class SqliteMetadataStore : public MetadataStore {
 public:
  SqliteMetadataStore(Db db, const Clock& clock) : db_(std::move(db)), clock_(clock) {}

  Status Run(const std::function<Status(MetadataTxn&)>& fn) override {
    std::lock_guard lock(mu_);
    ALMANAC_RETURN_IF_ERROR(db_.Exec("BEGIN IMMEDIATE", "cannot start a metadata transaction"));
    Txn txn(db_.get(), clock_);
    Status s;
    try {
      s = fn(txn);
    } catch (const std::exception& e) {
      s = InternalError(std::string("metadata transaction failed: ") + e.what());
    }
    if (!s.ok()) {
      db_.Exec("ROLLBACK", "rollback").IgnoreError();
      return s;
    }
    Status c = db_.Exec("COMMIT", "cannot commit the metadata transaction");
    if (!c.ok()) db_.Exec("ROLLBACK", "rollback").IgnoreError();
    return c;
  }

  Result<std::vector<AuditEntry>> ReadAudit(int64_t from, int64_t to) override {
    std::lock_guard lock(mu_);
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_.get(), Select(kAuditColumns, "audit_log",
        " WHERE seq >= ?1 AND (?2 <= 0 OR seq <= ?2) ORDER BY seq")));
    q.Bind(1, from).Bind(2, to);
    return AllRows(q, AuditEntryFromRow);
  }

  Result<std::pair<int64_t, std::string>> AuditHead() override {
    std::lock_guard lock(mu_);
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_.get(), "SELECT seq, hash FROM audit_head WHERE id = 1"));
    ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return std::make_pair(int64_t{0}, std::string(64, '0'));
    return std::make_pair(q.Int(0), q.Text(1));
  }

 private:
  std::mutex mu_;
  Db db_;
  const Clock& clock_;
};

}  // namespace

Result<AuditEntry> AppendAudit(sqlite3* db, const Clock& clock, const AuditEvent& event) {
  int64_t seq = 0;
  std::string prev_hash(64, '0');
  {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db, "SELECT seq, hash FROM audit_head WHERE id = 1"));
    ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) {
      seq = q.Int(0);
      prev_hash = q.Text(1);
    }
  }
  ALMANAC_ASSIGN_OR_RETURN(AuditEntry e, NextAuditEntry(seq, std::move(prev_hash), clock, event));
  ALMANAC_ASSIGN_OR_RETURN(std::string details, CanonicalJson(e.event.details));
  ALMANAC_ASSIGN_OR_RETURN(Stmt ins, Stmt::Prepare(db, "INSERT INTO audit_log VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
  StmtFields fields(ins);
  WriteAuditEntry(e, details, fields);
  ALMANAC_RETURN_IF_ERROR(ins.Run());
  ALMANAC_ASSIGN_OR_RETURN(Stmt head, Stmt::Prepare(db, "INSERT INTO audit_head VALUES (1, ?1, ?2) ON CONFLICT (id) DO UPDATE "
                                                        "SET seq = excluded.seq, hash = excluded.hash"));
  head.Bind(1, e.seq).Bind(2, e.hash);
  ALMANAC_RETURN_IF_ERROR(head.Run());
  return e;
}

std::unique_ptr<MetadataStore> NewSqliteMetadataStore(Db db, const Clock& clock) {
  return std::make_unique<SqliteMetadataStore>(std::move(db), clock);
}

}  // namespace almanac::store::sqlite
