// The PostgreSQL metadata store: tracking, step cache, registry, tokens and the audit chain.
// Each MetadataStore::Run is one SERIALIZABLE transaction, retried as a whole on
// serialization failures, deadlocks and connections lost before COMMIT: the business rules
// checked inside (four-eyes approval, next version number) then hold across any number of
// processes and hosts, exactly as under SQLite's single writer.
#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>

#include "store/record_text.h"
#include "store/rows.h"
#include "store/postgres/pg_store.h"

namespace almanac::store::pg {
namespace {

// Inserts use ON CONFLICT DO NOTHING and report a duplicate from the affected-row count: a
// violated constraint would abort the whole PostgreSQL transaction, while callers may go on
// after AlreadyExists (as they can on SQLite).
Status Inserted(const Result<PgResult>& r, const std::string& what) {
  if (!r.ok()) return r.status().WithContext(what);
  if (r->Affected() == 0) return AlreadyExistsError(what + " already exists");
  return Status::Ok();
}

// A PostgreSQL array literal of text values: {"a","b\"c"}.
std::string TextArray(const std::vector<std::string_view>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

template <typename T>
std::string NumberArray(const std::vector<T>& items) {
  std::string out = "{";
  char buf[40];
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    if constexpr (std::is_floating_point_v<T>) {
      const int n = std::snprintf(buf, sizeof buf, "%.17g", static_cast<double>(items[i]));
      out.append(buf, static_cast<size_t>(n));
    } else {
      out += std::to_string(items[i]);
    }
  }
  out += '}';
  return out;
}

// "SELECT <columns> FROM <table><rest>".
std::string Select(std::string_view columns, std::string_view table, std::string_view rest = "") {
  return "SELECT " + std::string(columns) + " FROM " + std::string(table) + std::string(rest);
}

// The record of the first row (mapped by `read`, see store/rows.h), or NotFound(`missing`).
template <typename Read>
Result<RecordOf<Read>> OneRow(const PgResult& q, Read read, const std::string& missing) {
  if (q.rows() == 0) return NotFoundError(missing);
  return read(PgRow(q, 0));
}

// The records of every row, mapped by `read`.
template <typename Read>
Result<std::vector<RecordOf<Read>>> AllRows(const PgResult& q, Read read) {
  std::vector<RecordOf<Read>> out;
  out.reserve(static_cast<size_t>(q.rows()));
  for (int i = 0; i < q.rows(); ++i) {
    Result<RecordOf<Read>> record = read(PgRow(q, i));
    if (!record.ok()) return record.status();
    out.push_back(std::move(record).value());
  }
  return out;
}

class Txn : public MetadataTxn {
 public:
  Txn(Conn& conn, const Clock& clock) : c_(conn), clock_(clock) {}

  const Clock& clock() const override { return clock_; }

  Status InsertRun(const RunRecord& r) override {
    return Inserted(c_.Query("INSERT INTO runs (" + std::string(kRunColumns) + ") VALUES "
                             "($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17) ON CONFLICT DO NOTHING",
                             ParamsOf(WriteRun, r)),
                    "run " + r.id);
  }

  Status UpdateRun(const RunRecord& r) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query("UPDATE runs SET experiment=$2, pipeline=$3, status=$4, start_time=$5, "
                                                  "end_time=$6, \"user\"=$7, host=$8, pipeline_hash=$9, snapshot_id=$10, "
                                                  "git_commit=$11, almanac_version=$12, seed=$13, error=$14, reproduces=$15, "
                                                  "name=$16, deleted=$17 WHERE id=$1",
                                                  ParamsOf(WriteRun, r)));
    return Changed(q, "run " + r.id);
  }

  Result<RunRecord> GetRun(std::string_view id) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(Select(kRunColumns, "runs", " WHERE id = $1"), Params().Add(id)));
    return OneRow(q, RunFromRow, "no run " + QuoteForMessage(id));
  }

  Result<std::vector<RunRecord>> ListRuns(const RunFilter& f) override {
    ALMANAC_ASSIGN_OR_RETURN(
        PgResult q,
        c_.Query(Select(kRunColumns, "runs", " WHERE ($1 = '' OR experiment = $1) AND ($2 = '' OR pipeline = $2) "
                                             "AND ($3 = '' OR status = $3) ORDER BY start_time DESC, id DESC LIMIT $4"),
                 Params()
                     .Add(f.experiment)
                     .Add(f.pipeline)
                     .Add(f.status ? RunStatusName(*f.status) : std::string_view(""))
                     .Add(int64_t{f.limit <= 0 ? 1000000 : f.limit})));
    return AllRows(q, RunFromRow);
  }

  // One statement for all params. As a row-by-row insert would, it writes the params before
  // the first one whose key exists (in the run or earlier in `params`) and reports that one.
  Status InsertParams(std::string_view run_id, const std::vector<std::pair<std::string, std::string>>& params) override {
    if (params.empty()) return Status::Ok();
    std::vector<std::string_view> keys, values;
    for (const auto& [k, v] : params) {
      keys.push_back(k);
      values.push_back(v);
    }
    ALMANAC_ASSIGN_OR_RETURN(
        PgResult q,
        c_.Query("WITH u AS (SELECT k, v, n FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS u(k, v, n)), "
                 "first_taken AS (SELECT min(n) AS n FROM u WHERE EXISTS (SELECT 1 FROM run_params p "
                 "WHERE p.run_id = $1 AND p.key = u.k) OR EXISTS (SELECT 1 FROM u w WHERE w.k = u.k AND w.n < u.n)) "
                 "INSERT INTO run_params SELECT $1, k, v FROM u "
                 "WHERE n < coalesce((SELECT n FROM first_taken), 9223372036854775807) ORDER BY n "
                 "ON CONFLICT DO NOTHING",
                 Params().Add(run_id).Add(TextArray(keys)).Add(TextArray(values))));
    const int64_t written = q.Affected();
    if (written < static_cast<int64_t>(params.size()))
      return AlreadyExistsError("parameter " + params[static_cast<size_t>(written)].first + " of run " +
                                std::string(run_id) + " already exists");
    return Status::Ok();
  }

  Result<std::vector<std::pair<std::string, std::string>>> GetParams(std::string_view run_id) override {
    return KeyValues("SELECT key, value FROM run_params WHERE run_id = $1 ORDER BY key", run_id);
  }

  // All points in one statement (unnest keeps their order, and so the identity order that
  // GetMetrics sorts ties by).
  Status InsertMetrics(std::string_view run_id, const std::vector<MetricPoint>& points) override {
    if (points.empty()) return Status::Ok();
    std::vector<std::string_view> keys;
    std::vector<int64_t> steps, stamps;
    std::vector<double> values;
    for (const auto& p : points) {
      // NaN and +-infinity pass as "nan" / "inf" in the array literal: float8 keeps them.
      if (p.key.find('\0') != std::string::npos) return InvalidArgumentError("a metric key contains a NUL byte");
      keys.push_back(p.key);
      steps.push_back(p.step);
      values.push_back(p.value);
      stamps.push_back(p.timestamp);
    }
    ALMANAC_RETURN_IF_ERROR(
        c_.Query("INSERT INTO run_metrics (run_id, key, step, value, timestamp) SELECT $1, k, s, v, t FROM "
                 "unnest($2::text[], $3::bigint[], $4::float8[], $5::bigint[]) WITH ORDINALITY AS u(k, s, v, t, n) "
                 "ORDER BY n",
                 Params().Add(run_id).Add(TextArray(keys)).Add(NumberArray(steps)).Add(NumberArray(values))
                     .Add(NumberArray(stamps)))
            .status());
    // The latest point per key (migration 12), one row per key of the write (an upsert may
    // not touch a row twice in a statement), replacing the stored latest when at least as late.
    keys.clear(), steps.clear(), values.clear(), stamps.clear();
    const std::vector<MetricPoint> latest = LatestPointPerKey(points);
    for (const auto& p : latest) {
      keys.push_back(p.key);
      steps.push_back(p.step);
      values.push_back(p.value);
      stamps.push_back(p.timestamp);
    }
    return c_.Query("INSERT INTO run_latest_metrics AS l (run_id, key, step, timestamp, value) SELECT $1, k, s, t, v "
                    "FROM unnest($2::text[], $3::bigint[], $4::float8[], $5::bigint[]) AS u(k, s, v, t) "
                    "ON CONFLICT (run_id, key) DO UPDATE SET step = excluded.step, timestamp = excluded.timestamp, "
                    "value = excluded.value WHERE excluded.step > l.step OR (excluded.step = l.step AND "
                    "excluded.timestamp >= l.timestamp)",
                    Params().Add(run_id).Add(TextArray(keys)).Add(NumberArray(steps)).Add(NumberArray(values))
                        .Add(NumberArray(stamps)))
        .status();
  }

  Result<std::vector<MetricPoint>> GetMetrics(std::string_view run_id) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(Select(kMetricColumns, "run_metrics",
                                                         " WHERE run_id = $1 ORDER BY key, step, id"),
                                                  Params().Add(run_id)));
    return AllRows(q, MetricFromRow);
  }

  // One statement for all tags; of a key given twice the last value wins (an upsert may not
  // touch one row twice in a statement, so the duplicates are folded first).
  Status SetTags(std::string_view run_id, const std::vector<std::pair<std::string, std::string>>& tags) override {
    if (tags.empty()) return Status::Ok();
    std::map<std::string_view, std::string_view> last;
    for (const auto& [k, v] : tags) last[k] = v;
    std::vector<std::string_view> keys, values;
    for (const auto& [k, v] : last) {
      keys.push_back(k);
      values.push_back(v);
    }
    return c_.Query("INSERT INTO run_tags SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS u(k, v) "
                    "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
                    Params().Add(run_id).Add(TextArray(keys)).Add(TextArray(values)))
        .status();
  }

  Result<std::vector<std::pair<std::string, std::string>>> GetTags(std::string_view run_id) override {
    return KeyValues("SELECT key, value FROM run_tags WHERE run_id = $1 ORDER BY key", run_id);
  }

  Status DeleteTag(std::string_view run_id, std::string_view key) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query("DELETE FROM run_tags WHERE run_id = $1 AND key = $2",
                                                  Params().Add(run_id).Add(key)));
    return Changed(q, "tag " + std::string(key) + " of run " + std::string(run_id));
  }

  Result<std::vector<std::string>> RunsWithLatestMetric(std::string_view experiment, std::string_view key,
                                                        std::string_view op, double value) override {
    if (op != "<" && op != "<=" && op != ">" && op != ">=" && op != "=")
      return InvalidArgumentError("unsupported metric comparison " + QuoteForMessage(op));
    if (std::isnan(value)) return std::vector<std::string>{};
    // float8 orders NaN above every number (and NaN = NaN): excluded, as no comparison matches it.
    ALMANAC_ASSIGN_OR_RETURN(
        PgResult q,
        c_.Query("SELECT m.run_id FROM run_latest_metrics m JOIN runs r ON r.id = m.run_id "
                 "WHERE m.key = $2 AND m.value " + std::string(op) + " $3::float8 AND m.value <> 'NaN'::float8 "
                 "AND r.experiment = $1",
                 Params().Add(experiment).Add(key).Add(value)));
    return AllRows(q, [](const Row& row) { return row.Text(0); });
  }

  // One statement per table for any number of ids (one round trip each): the ids go as one
  // text[] parameter, and `= ANY($1)` probes the primary key or run_metrics_by_run per id.
  Result<std::vector<RunRecord>> GetRuns(const std::vector<std::string>& ids) override {
    if (ids.empty()) return std::vector<RunRecord>{};
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(Select(kRunColumns, "runs", " WHERE id = ANY($1::text[])"),
                                                  Params().Add(IdArray(ids))));
    ALMANAC_ASSIGN_OR_RETURN(auto rows, AllRows(q, RunFromRow));
    return RunsInIdOrder(ids, std::move(rows));
  }

  Result<MetricsByRun> GetMetricsOfRuns(const std::vector<std::string>& ids) override {
    MetricsByRun out;
    if (ids.empty()) return out;
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query("SELECT " + std::string(kMetricColumns) + ", run_id FROM run_metrics "
                                                  "WHERE run_id = ANY($1::text[]) ORDER BY run_id, key, step, id",
                                                  Params().Add(IdArray(ids))));
    for (int i = 0; i < q.rows(); ++i) out[q.Text(i, 4)].push_back(MetricFromRow(PgRow(q, i)));
    return out;
  }

  Result<KeyValuesByRun> GetParamsOfRuns(const std::vector<std::string>& ids) override {
    return KeyValuesOfRuns("run_params", ids);
  }

  Result<KeyValuesByRun> GetTagsOfRuns(const std::vector<std::string>& ids) override {
    return KeyValuesOfRuns("run_tags", ids);
  }

  Result<int64_t> InsertExperiment(const ExperimentRecord& e) override {
    auto q = c_.Query("INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, "
                      "last_update_time, tags) VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (name) DO NOTHING RETURNING id",
                      ParamsOf(WriteExperiment, e));
    ALMANAC_RETURN_IF_ERROR(Inserted(q, "experiment " + e.name));
    return q->Int(0, 0);
  }

  // The name is checked first: a unique violation would abort the PostgreSQL transaction,
  // and AlreadyExists must leave it usable.
  Status UpdateExperiment(const ExperimentRecord& e) override {
    ALMANAC_ASSIGN_OR_RETURN(ExperimentRecord old, GetExperiment(e.id));
    if (old.name != e.name) {
      auto other = GetExperimentByName(e.name);
      if (other.ok()) return AlreadyExistsError("experiment " + e.name + " already exists");
      if (other.status().code() != StatusCode::kNotFound) return other.status();
    }
    Params p = ParamsOf(WriteExperiment, e);
    p.Add(e.id);
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query("UPDATE experiments SET name=$1, artifact_location=$2, "
                                                  "lifecycle_stage=$3, creation_time=$4, last_update_time=$5, tags=$6 "
                                                  "WHERE id=$7",
                                                  p));
    ALMANAC_RETURN_IF_ERROR(Changed(q, "experiment with id " + std::to_string(e.id)));
    if (old.name == e.name) return Status::Ok();
    return c_.Query("UPDATE runs SET experiment = $1 WHERE experiment = $2", Params().Add(e.name).Add(old.name))
        .status();
  }

  Result<ExperimentRecord> GetExperiment(int64_t id) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q,
                             c_.Query(Select(kExperimentColumns, "experiments", " WHERE id = $1"), Params().Add(id)));
    return OneRow(q, ExperimentFromRow, "no experiment with id " + std::to_string(id));
  }

  Result<ExperimentRecord> GetExperimentByName(std::string_view name) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(Select(kExperimentColumns, "experiments", " WHERE name = $1"),
                                                  Params().Add(name)));
    return OneRow(q, ExperimentFromRow, "no experiment named " + QuoteForMessage(name));
  }

  Result<std::vector<ExperimentRecord>> ListExperiments() override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(Select(kExperimentColumns, "experiments", " ORDER BY id"), Params()));
    return AllRows(q, ExperimentFromRow);
  }

  Status InsertArtifact(std::string_view run_id, const ArtifactRecord& a) override {
    return Inserted(c_.Query("INSERT INTO run_artifacts VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                             Params().Add(run_id).Add(a.name).Add(a.sha256).Add(a.size).Add(a.kind)),
                    "artifact " + a.name + " of run " + std::string(run_id));
  }

  Result<std::vector<ArtifactRecord>> GetArtifacts(std::string_view run_id) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(Select(kArtifactColumns, "run_artifacts", " WHERE run_id = $1 ORDER BY name"),
                                                  Params().Add(run_id)));
    return AllRows(q, ArtifactFromRow);
  }

  Result<std::optional<CacheEntry>> GetCache(std::string_view key) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(Select(kCacheColumns, "step_cache", " WHERE key = $1"), Params().Add(key)));
    if (q.rows() == 0) return std::optional<CacheEntry>();
    ALMANAC_ASSIGN_OR_RETURN(CacheEntry e, CacheEntryFromRow(PgRow(q, 0)));
    return std::optional<CacheEntry>(std::move(e));
  }

  Status PutCache(const CacheEntry& e) override {
    return c_.Query("INSERT INTO step_cache VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key) DO UPDATE SET "
                    "step = excluded.step, run_id = excluded.run_id, outputs = excluded.outputs, "
                    "created_at = excluded.created_at",
                    Params().Add(e.key).Add(e.step).Add(e.run_id).Add(JsonText(e.outputs)).Add(e.created_at))
        .status();
  }

  Status InsertModel(const RegisteredModelRecord& m) override {
    return Inserted(c_.Query("INSERT INTO registered_models VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                             ParamsOf(WriteModel, m)),
                    "model " + m.name);
  }

  Status UpdateModel(const RegisteredModelRecord& m) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query("UPDATE registered_models SET owner=$2, description=$3, policy=$4, card=$5 "
                                                  "WHERE name=$1",
                                                  Params().Add(m.name).Add(m.owner).Add(m.description)
                                                      .Add(JsonText(m.policy)).Add(JsonText(m.card))));
    return Changed(q, "model " + m.name);
  }

  Result<RegisteredModelRecord> GetModel(std::string_view name) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(Select(kModelColumns, "registered_models", " WHERE name = $1"), Params().Add(name)));
    return OneRow(q, ModelFromRow, "no registered model " + QuoteForMessage(name));
  }

  Result<std::vector<RegisteredModelRecord>> ListModels() override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(Select(kModelColumns, "registered_models", " ORDER BY name")));
    return AllRows(q, ModelFromRow);
  }

  Status InsertVersion(const ModelVersionRecord& v) override {
    Status s = Inserted(c_.Query("INSERT INTO model_versions (" + std::string(kVersionColumns) +
                                     ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) "
                                 "ON CONFLICT DO NOTHING",
                                 ParamsOf(WriteVersion, v)),
                        "version");
    if (s.code() == StatusCode::kAlreadyExists)
      return AlreadyExistsError("model " + v.model + " already has version " + std::to_string(v.version) +
                                " or a version from run " + v.run_id);
    return s;
  }

  Status UpdateVersion(const ModelVersionRecord& v) override {
    // Checked first: a violated unique index would abort the whole transaction.
    if (v.stage == Stage::kProduction) {
      ALMANAC_ASSIGN_OR_RETURN(PgResult other, c_.Query("SELECT 1 FROM model_versions WHERE model = $1 AND version <> $2 "
                                                        "AND stage = 'production'",
                                                        Params().Add(v.model).Add(v.version)));
      if (other.rows() > 0) return FailedPreconditionError("model " + v.model + " already has a production version");
    }
    auto q = c_.Query("UPDATE model_versions SET run_id=$3, artifact_name=$4, artifact_sha256=$5, snapshot_id=$6, "
                      "stage=$7, metrics=$8, description=$9, created_at=$10, created_by=$11, stage_changed_at=$12 "
                      "WHERE model=$1 AND version=$2",
                      ParamsOf(WriteVersion, v));
    if (q.status().code() == StatusCode::kAlreadyExists)
      return FailedPreconditionError("model " + v.model + " already has a production version");
    if (!q.ok()) return q.status();
    return Changed(*q, "version " + std::to_string(v.version) + " of model " + v.model);
  }

  Result<ModelVersionRecord> GetVersion(std::string_view model, int64_t version) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(Select(kVersionColumns, "model_versions", " WHERE model = $1 AND version = $2 AND deleted_at = 0"),
                                                  Params().Add(model).Add(version)));
    return OneRow(q, VersionFromRow, "model " + std::string(model) + " has no version " + std::to_string(version));
  }

  Result<std::vector<ModelVersionRecord>> ListVersions(std::string_view model) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(Select(kVersionColumns, "model_versions", " WHERE model = $1 AND deleted_at = 0 ORDER BY version"),
                                                  Params().Add(model)));
    return AllRows(q, VersionFromRow);
  }

  Result<int64_t> MaxVersion(std::string_view model) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query("SELECT COALESCE(MAX(version), 0) FROM model_versions WHERE model = $1",
                                                  Params().Add(model)));
    return q.Int(0, 0);
  }

  Result<int64_t> InsertRequest(const PromotionRequestRecord& r) override {
    ALMANAC_ASSIGN_OR_RETURN(
        PgResult q,
        c_.Query("INSERT INTO promotion_requests (model, version, target, requested_by, requested_at, reason, status, "
                 "decided_by, decided_at, decision_reason) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING id",
                 ParamsOf(WriteRequest, r)));
    return q.Int(0, 0);
  }

  Status UpdateRequest(const PromotionRequestRecord& r) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query("UPDATE promotion_requests SET status=$2, decided_by=$3, decided_at=$4, "
                                                  "decision_reason=$5 WHERE id=$1",
                                                  ParamsOf(WriteRequestDecision, r)));
    return Changed(q, "promotion request " + std::to_string(r.id));
  }

  Result<std::vector<PromotionRequestRecord>> ListRequests(std::string_view model) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(Select(kRequestColumns, "promotion_requests", " WHERE model = $1 ORDER BY id"),
                                                  Params().Add(model)));
    return AllRows(q, RequestFromRow);
  }

  // MLflow registry (migration 11): tags, aliases, tombstones, delete, rename. Keys and aliases
  // sort bytewise (COLLATE "C"), as in the other back-ends.
  Status SetModelTag(std::string_view model, int64_t version, std::string_view key, std::string_view value) override {
    return c_.Query("INSERT INTO model_tags VALUES ($1, $2, $3, $4) ON CONFLICT (model, version, key) DO UPDATE "
                    "SET value = excluded.value",
                    Params().Add(model).Add(version).Add(key).Add(value))
        .status();
  }

  Status DeleteModelTag(std::string_view model, int64_t version, std::string_view key) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query("DELETE FROM model_tags WHERE model = $1 AND version = $2 AND key = $3",
                                                  Params().Add(model).Add(version).Add(key)));
    return Changed(q, "tag " + std::string(key) + " of " + std::string(model) + "@" + std::to_string(version));
  }

  Result<std::vector<std::pair<std::string, std::string>>> GetModelTags(std::string_view model, int64_t version) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query("SELECT key, value FROM model_tags WHERE model = $1 AND version = $2 "
                                                  "ORDER BY key COLLATE \"C\"",
                                                  Params().Add(model).Add(version)));
    return AllRows(q, [](const Row& row) { return std::make_pair(row.Text(0), row.Text(1)); });
  }

  Status SetAlias(std::string_view model, std::string_view alias, int64_t version) override {
    ALMANAC_RETURN_IF_ERROR(GetVersion(model, version).status());
    return c_.Query("INSERT INTO model_aliases VALUES ($1, $2, $3) ON CONFLICT (model, alias) DO UPDATE "
                    "SET version = excluded.version",
                    Params().Add(model).Add(alias).Add(version))
        .status();
  }

  Status DeleteAlias(std::string_view model, std::string_view alias) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query("DELETE FROM model_aliases WHERE model = $1 AND alias = $2",
                                                  Params().Add(model).Add(alias)));
    return Changed(q, "alias " + std::string(alias) + " of model " + std::string(model));
  }

  Result<std::vector<std::pair<std::string, int64_t>>> ListAliases(std::string_view model) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query("SELECT alias, version FROM model_aliases WHERE model = $1 "
                                                  "ORDER BY alias COLLATE \"C\"",
                                                  Params().Add(model)));
    return AllRows(q, [](const Row& row) { return std::make_pair(row.Text(0), row.Int(1)); });
  }

  Status DeleteVersion(std::string_view model, int64_t version, int64_t at) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query("UPDATE model_versions SET deleted_at = $3 "
                                                  "WHERE model = $1 AND version = $2 AND deleted_at = 0",
                                                  Params().Add(model).Add(version).Add(std::max<int64_t>(at, 1))));
    ALMANAC_RETURN_IF_ERROR(Changed(q, "version " + std::to_string(version) + " of model " + std::string(model)));
    for (const char* sql : {"DELETE FROM model_tags WHERE model = $1 AND version = $2",
                            "DELETE FROM model_aliases WHERE model = $1 AND version = $2"})
      ALMANAC_RETURN_IF_ERROR(c_.Query(sql, Params().Add(model).Add(version)).status());
    return Status::Ok();
  }

  Status DeleteModel(std::string_view model) override {
    ALMANAC_RETURN_IF_ERROR(GetModel(model).status());
    for (const char* sql : {"DELETE FROM model_aliases WHERE model = $1", "DELETE FROM model_tags WHERE model = $1",
                            "DELETE FROM promotion_requests WHERE model = $1", "DELETE FROM model_versions WHERE model = $1",
                            "DELETE FROM registered_models WHERE name = $1"})
      ALMANAC_RETURN_IF_ERROR(c_.Query(sql, Params().Add(model)).status());
    return Status::Ok();
  }

  Status RenameModel(std::string_view model, std::string_view new_name) override {
    ALMANAC_RETURN_IF_ERROR(GetModel(model).status());
    // Checked first: a violated key would abort the whole transaction.
    if (GetModel(new_name).ok()) return AlreadyExistsError("model " + std::string(new_name) + " already exists");
    // Copy, repoint, then drop the old rows: the foreign keys hold after every statement.
    const std::string model_columns(kModelColumns), version_columns(kVersionColumns);
    const std::string statements[] = {
        "INSERT INTO registered_models (" + model_columns + ") SELECT $2" +
            model_columns.substr(model_columns.find(',')) + " FROM registered_models WHERE name = $1",
        "INSERT INTO model_versions (" + version_columns + ", deleted_at) SELECT $2" +
            version_columns.substr(version_columns.find(',')) + ", deleted_at FROM model_versions WHERE model = $1",
        "UPDATE promotion_requests SET model = $2 WHERE model = $1",
        "DELETE FROM model_versions WHERE model = $1",
        "UPDATE model_tags SET model = $2 WHERE model = $1",
        "UPDATE model_aliases SET model = $2 WHERE model = $1",
        "UPDATE issued_forecasts SET model = $2 WHERE model = $1",
        "DELETE FROM registered_models WHERE name = $1"};
    for (const std::string& sql : statements) {
      // PostgreSQL refuses a parameter that the statement does not use.
      const Params params = sql.find("$2") == std::string::npos ? Params().Add(model) : Params().Add(model).Add(new_name);
      ALMANAC_RETURN_IF_ERROR(c_.Query(sql, params).status());
    }
    return Status::Ok();
  }

  Status InsertToken(const ApiTokenRecord& t) override {
    static constexpr std::string_view kRoles[] = {"viewer", "analyst", "modeler", "approver", "admin"};
    if (std::find(std::begin(kRoles), std::end(kRoles), t.role) == std::end(kRoles))
      return InvalidArgumentError("token " + t.id + ": unknown role " + QuoteForMessage(t.role));
    Status s = Inserted(c_.Query("INSERT INTO api_tokens VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) ON CONFLICT DO NOTHING",
                                 ParamsOf(WriteToken, t)),
                        "token");
    if (s.code() == StatusCode::kAlreadyExists) return AlreadyExistsError("token " + t.id + " (or its hash) already exists");
    return s;
  }

  Status UpdateToken(const ApiTokenRecord& t) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query("UPDATE api_tokens SET revoked_at=$2, revoked_by=$3, expires_at=$4 WHERE id=$1",
                                                  Params().Add(t.id).Add(t.revoked_at).Add(t.revoked_by).Add(t.expires_at)));
    return Changed(q, "token " + t.id);
  }

  Result<ApiTokenRecord> GetToken(std::string_view id) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(Select(kTokenColumns, "api_tokens", " WHERE id = $1"), Params().Add(id)));
    return OneRow(q, TokenFromRow, "no token " + QuoteForMessage(id));
  }

  Result<ApiTokenRecord> GetTokenByHash(std::string_view hash) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(Select(kTokenColumns, "api_tokens", " WHERE token_sha256 = $1"), Params().Add(hash)));
    return OneRow(q, TokenFromRow, "no token with that hash");
  }

  Result<std::vector<ApiTokenRecord>> ListTokens() override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(Select(kTokenColumns, "api_tokens", " ORDER BY created_at, id")));
    return AllRows(q, TokenFromRow);
  }

  Status TouchToken(std::string_view id, int64_t at) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query("UPDATE api_tokens SET last_used_at = GREATEST(last_used_at, $2) WHERE id = $1",
                                                  Params().Add(id).Add(at)));
    return Changed(q, "token " + std::string(id));
  }

  Status PutStoreUser(const StoreUserRecord& u) override {
    return c_.Query("INSERT INTO store_users VALUES ($1, $2, $3, $4, $5) ON CONFLICT (principal) DO UPDATE SET "
                    "user_name = excluded.user_name, is_admin = excluded.is_admin, granted_by = excluded.granted_by, "
                    "granted_at = excluded.granted_at",
                    ParamsOf(WriteStoreUser, u))
        .status();
  }

  Result<StoreUserRecord> GetStoreUser(std::string_view principal) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(Select(kStoreUserColumns, "store_users", " WHERE principal = $1"),
                                                  Params().Add(principal)));
    return OneRow(q, StoreUserFromRow, "no store user " + QuoteForMessage(principal));
  }

  Result<std::vector<StoreUserRecord>> ListStoreUsers() override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(Select(kStoreUserColumns, "store_users", " ORDER BY principal")));
    return AllRows(q, StoreUserFromRow);
  }

  Status DeleteStoreUser(std::string_view principal) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query("DELETE FROM store_users WHERE principal = $1", Params().Add(principal)));
    return Changed(q, "store user " + QuoteForMessage(principal));
  }

  Result<bool> ClaimScheduledRun(std::string_view pipeline, int64_t fired_at, std::string_view holder) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query("INSERT INTO scheduled_runs VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                                                  Params().Add(pipeline).Add(fired_at).Add(holder).Add(clock_.NowMicros())));
    return q.Affected() == 1;
  }

  Result<AuditEntry> Audit(const AuditEvent& event) override { return AppendAudit(c_, clock_, event); }

  Result<int64_t> InsertTask(const TaskRecord& t) override {
    ALMANAC_RETURN_IF_ERROR(ValidateTask(t));
    auto q = c_.Query("INSERT INTO tasks (kind, name, payload, dedupe_key, state, attempts, max_attempts, not_before, "
                      "lease_owner, lease_expires_at, created_at, created_by, started_at, finished_at, result, error) "
                      "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16) "
                      "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
                      ParamsOf(WriteTask, t));
    ALMANAC_RETURN_IF_ERROR(Inserted(q, "task " + t.dedupe_key));
    return q->Int(0, 0);
  }

  Result<std::optional<TaskRecord>> ClaimTask(std::string_view worker, int64_t now, int64_t lease_until,
                                              const std::vector<std::string>& kinds) override {
    std::vector<std::string_view> k(kinds.begin(), kinds.end());
    // SKIP LOCKED: workers claiming at the same time take different rows instead of queueing
    // on one (or failing serialization) — the point of the queue on PostgreSQL.
    ALMANAC_ASSIGN_OR_RETURN(
        PgResult q,
        c_.Query("UPDATE tasks SET state = 'running', lease_owner = $2, lease_expires_at = $3, attempts = attempts + 1, "
                 "started_at = $1 WHERE id = (SELECT id FROM tasks WHERE ((state = 'queued' AND not_before <= $1) OR "
                 "(state = 'running' AND lease_expires_at < $1 AND attempts < max_attempts)) AND "
                 "(cardinality($4::text[]) = 0 OR kind = ANY($4::text[])) ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1) "
                 "RETURNING " + std::string(kTaskColumns) + ", payload",
                 Params().Add(now).Add(worker).Add(lease_until).Add(TextArray(k))));
    if (q.rows() == 0) return std::optional<TaskRecord>();
    ALMANAC_ASSIGN_OR_RETURN(TaskRecord t, TaskWithPayloadFromRow(PgRow(q, 0)));
    return std::optional<TaskRecord>(std::move(t));
  }

  Result<TaskRecord> GetTask(int64_t id) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(Select(std::string(kTaskColumns) + ", payload", "tasks", " WHERE id = $1"),
                                                  Params().Add(id)));
    return OneRow(q, TaskWithPayloadFromRow, "no task " + std::to_string(id));
  }

  Status UpdateTask(const TaskRecord& t) override {
    ALMANAC_ASSIGN_OR_RETURN(
        PgResult q, c_.Query("UPDATE tasks SET state=$2, attempts=$3, not_before=$4, lease_owner=$5, lease_expires_at=$6, "
                             "started_at=$7, finished_at=$8, result=$9, error=$10 WHERE id=$1",
                             ParamsOf(WriteTaskProgress, t)));
    return Changed(q, "task " + std::to_string(t.id));
  }

  Result<std::vector<TaskRecord>> ListTasks(const std::vector<TaskState>& states) override {
    // Filtered in SQL: a worker samples the queued tasks every second, and done tasks pile up.
    std::string where;
    Params params;
    for (size_t i = 0; i < states.size(); ++i) {
      where += (i == 0 ? " WHERE state IN ($" : ", $") + std::to_string(i + 1);
      params.Add(std::string(TaskStateName(states[i])));
    }
    if (!states.empty()) where += ")";
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(Select(kTaskColumns, "tasks", where + " ORDER BY id"), params));
    return AllRows(q, TaskFromRow);
  }

  Result<int64_t> InsertQuarantine(const QuarantineRecord& r) override {
    ALMANAC_RETURN_IF_ERROR(ValidateQuarantine(r));
    ALMANAC_ASSIGN_OR_RETURN(
        PgResult q,
        c_.Query("INSERT INTO quarantine (source, state, reasons, series, observations, payload, payload_sha256, "
                 "created_at, created_by, decided_at, decided_by, decision_reason, load_id) "
                 "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) RETURNING id",
                 ParamsOf(WriteQuarantine, r)));
    return q.Int(0, 0);
  }

  Result<QuarantineRecord> GetQuarantine(int64_t id) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(Select(std::string(kQuarantineColumns) + ", payload", "quarantine", " WHERE id = $1"),
                                                  Params().Add(id)));
    return OneRow(q, QuarantineWithPayloadFromRow, "no quarantined load " + std::to_string(id));
  }

  Result<std::vector<QuarantineRecord>> ListQuarantine(const std::vector<QuarantineState>& states) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(Select(kQuarantineColumns, "quarantine", " ORDER BY id")));
    ALMANAC_ASSIGN_OR_RETURN(std::vector<QuarantineRecord> all, AllRows(q, QuarantineFromRow));
    return InStates(std::move(all), states);
  }

  Status UpdateQuarantine(const QuarantineRecord& r) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query("UPDATE quarantine SET state=$2, decided_at=$3, decided_by=$4, "
                                                  "decision_reason=$5, load_id=$6 WHERE id=$1",
                                                  ParamsOf(WriteQuarantineDecision, r)));
    return Changed(q, "quarantined load " + std::to_string(r.id));
  }

  Result<bool> PutForecast(const IssuedForecastRecord& f) override {
    ALMANAC_RETURN_IF_ERROR(ValidateIssuedForecast(f));
    // A longer horizon replaces the row; an equal or shorter one leaves it (first issue kept).
    ALMANAC_ASSIGN_OR_RETURN(
        PgResult q,
        c_.Query("INSERT INTO issued_forecasts VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) "
                 "ON CONFLICT (model, version, origin) DO UPDATE SET target = excluded.target, "
                 "horizon = excluded.horizon, mean = excluded.mean, levels = excluded.levels, lower = excluded.lower, "
                 "upper = excluded.upper WHERE excluded.horizon > issued_forecasts.horizon",
                 ParamsOf(WriteForecast, f)));
    return q.Affected() > 0;
  }

  Result<std::vector<IssuedForecastRecord>> ListForecasts(std::string_view model, int64_t version) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(Select(kForecastColumns, "issued_forecasts",
                                                         " WHERE model = $1 AND ($2 <= 0 OR version = $2) ORDER BY version, origin"),
                                                  Params().Add(model).Add(version)));
    return AllRows(q, ForecastFromRow);
  }

 private:
  static Status Changed(const PgResult& q, const std::string& what) {
    if (q.Affected() == 0) return NotFoundError("no " + what);
    return Status::Ok();
  }

  Result<KeyValuesByRun> KeyValuesOfRuns(std::string_view table, const std::vector<std::string>& ids) {
    KeyValuesByRun out;
    if (ids.empty()) return out;
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query("SELECT run_id, key, value FROM " + std::string(table) +
                                                  " WHERE run_id = ANY($1::text[]) ORDER BY run_id, key",
                                                  Params().Add(IdArray(ids))));
    for (int i = 0; i < q.rows(); ++i) out[q.Text(i, 0)].emplace_back(q.Text(i, 1), q.Text(i, 2));
    return out;
  }

  // The text[] literal of `ids` (NUL bytes are refused by Params::Add, as for a single id).
  static std::string IdArray(const std::vector<std::string>& ids) {
    return TextArray(std::vector<std::string_view>(ids.begin(), ids.end()));
  }

  Result<std::vector<std::pair<std::string, std::string>>> KeyValues(std::string_view sql, std::string_view run_id) {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(sql, Params().Add(run_id)));
    return AllRows(q, [](const Row& row) { return std::make_pair(row.Text(0), row.Text(1)); });
  }

  Conn& c_;
  const Clock& clock_;
};

class PgMetadataStore : public MetadataStore {
 public:
  PgMetadataStore(std::shared_ptr<Pool> pool, const Clock& clock) : pool_(std::move(pool)), clock_(clock) {}

  Status Run(const std::function<Status(MetadataTxn&)>& fn) override {
    return RunTransaction(*pool_, "BEGIN ISOLATION LEVEL SERIALIZABLE", [&](Conn& c) -> Status {
      Txn txn(c, clock_);
      return fn(txn);
    });
  }

  Result<std::vector<AuditEntry>> ReadAudit(int64_t from, int64_t to) override {
    ALMANAC_ASSIGN_OR_RETURN(Pool::Lease lease, pool_->Acquire());
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, lease->Query(Select(kAuditColumns, "audit_log",
                                                             " WHERE seq >= $1 AND ($2 <= 0 OR seq <= $2) ORDER BY seq"),
                                                      Params().Add(from).Add(to)));
    return AllRows(q, AuditEntryFromRow);
  }

  Result<std::pair<int64_t, std::string>> AuditHead() override {
    ALMANAC_ASSIGN_OR_RETURN(Pool::Lease lease, pool_->Acquire());
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, lease->Query("SELECT seq, hash FROM audit_head WHERE id = 1"));
    if (q.rows() == 0) return std::make_pair(int64_t{0}, std::string(64, '0'));
    return std::make_pair(q.Int(0, 0), q.Text(0, 1));
  }

 private:
  std::shared_ptr<Pool> pool_;
  const Clock& clock_;
};

}  // namespace

std::unique_ptr<MetadataStore> NewPostgresMetadataStore(std::shared_ptr<Pool> pool, const Clock& clock) {
  return std::make_unique<PgMetadataStore>(std::move(pool), clock);
}

}  // namespace almanac::store::pg
