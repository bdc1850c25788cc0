// The row-mapping layer shared by the SQL back-ends (store-internal): the column lists of the
// metadata tables, and the one place that turns a result row into a record (`...FromRow`) and a
// record into statement parameters (`Write...`). SQLite and PostgreSQL adapt their own result
// and statement types to `Row` and `Fields` (StmtRow/StmtFields in sqlite/sqlite_util.h,
// PgRow/ParamFields in postgres/pg_conn.h); the SQL text stays with each back-end.
//
//   ALMANAC_ASSIGN_OR_RETURN(PgResult q, c.Query("SELECT " + std::string(kRunColumns) + " FROM runs WHERE id = $1", ...));
//   ALMANAC_ASSIGN_OR_RETURN(RunRecord run, RunFromRow(PgRow(q, 0)));
//
// IMPORTANT: a reader expects the columns in the order of its `k...Columns` list, and a writer
// adds parameters in the order its comment states (the column order of the table's INSERT).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "almanac/store.h"

namespace almanac::store {

// One result row; columns are 0-based. A NULL reads as "" / 0.
class Row {
 public:
  virtual ~Row() = default;
  virtual std::string Text(int col) const = 0;
  virtual int64_t Int(int col) const = 0;
  virtual double Double(int col) const = 0;
  // SQLite: an integer 0/1; PostgreSQL: a boolean.
  virtual bool Bool(int col) const = 0;
  virtual bool IsNull(int col) const = 0;
};

// The parameters of one statement, added in order ($1, $2, ... / ?1, ?2, ...).
class Fields {
 public:
  virtual ~Fields() = default;
  virtual Fields& Text(std::string_view v) = 0;
  virtual Fields& Int(int64_t v) = 0;
  virtual Fields& Real(double v) = 0;
  virtual Fields& Bool(bool v) = 0;
};

// ----------------------------------------------------------------------- column lists

inline constexpr std::string_view kRunColumns =
    "id, experiment, pipeline, status, start_time, end_time, \"user\", host, pipeline_hash, snapshot_id, git_commit, "
    "almanac_version, seed, error, reproduces, name, deleted";
inline constexpr std::string_view kExperimentColumns =
    "id, name, artifact_location, lifecycle_stage, creation_time, last_update_time, tags";
inline constexpr std::string_view kMetricColumns = "key, step, value, timestamp";
inline constexpr std::string_view kArtifactColumns = "name, sha256, size, kind";
inline constexpr std::string_view kCacheColumns = "key, step, run_id, outputs, created_at";
inline constexpr std::string_view kModelColumns = "name, owner, description, policy, card, created_at, created_by";
inline constexpr std::string_view kVersionColumns =
    "model, version, run_id, artifact_name, artifact_sha256, snapshot_id, stage, metrics, description, created_at, "
    "created_by, stage_changed_at";
inline constexpr std::string_view kRequestColumns =
    "id, model, version, target, requested_by, requested_at, reason, status, decided_by, decided_at, decision_reason";
inline constexpr std::string_view kTokenColumns =
    "id, token_sha256, \"user\", role, description, created_at, created_by, revoked_at, revoked_by, expires_at, "
    "last_used_at";
inline constexpr std::string_view kStoreUserColumns = "principal, user_name, is_admin, granted_by, granted_at";
inline constexpr std::string_view kForecastColumns =
    "model, version, origin, target, mean, levels, lower, upper, issued_at, issued_by";
inline constexpr std::string_view kAuditColumns =
    "seq, timestamp, actor, action, object_type, object_id, details, prev_hash, hash";
// Without the payload, which follows at column kQuarantinePayloadColumn when selected.
inline constexpr std::string_view kQuarantineColumns =
    "id, source, state, reasons, series, observations, payload_sha256, created_at, created_by, decided_at, "
    "decided_by, decision_reason, load_id";
inline constexpr int kQuarantinePayloadColumn = 13;
// Without the payload, which follows at column kTaskPayloadColumn when selected.
inline constexpr std::string_view kTaskColumns =
    "id, kind, name, dedupe_key, state, attempts, max_attempts, not_before, lease_owner, lease_expires_at, "
    "created_at, created_by, started_at, finished_at, result, error";
inline constexpr int kTaskPayloadColumn = 16;

// ------------------------------------------------------------------- rows -> records
// DataLoss (or the parse error of an enum) when a stored value is malformed.

// The record a reader returns: T for a reader returning T or Result<T>.
template <typename T>
struct RecordTypeOf {
  using type = T;
};
template <typename T>
struct RecordTypeOf<Result<T>> {
  using type = T;
};
template <typename Read>
using RecordOf = typename RecordTypeOf<std::invoke_result_t<Read&, const Row&>>::type;

Result<RunRecord> RunFromRow(const Row& row);
// A NULL value reads as NaN (SQLite stores a NaN as NULL).
MetricPoint MetricFromRow(const Row& row);
Result<ExperimentRecord> ExperimentFromRow(const Row& row);
ArtifactRecord ArtifactFromRow(const Row& row);
Result<CacheEntry> CacheEntryFromRow(const Row& row);
Result<RegisteredModelRecord> ModelFromRow(const Row& row);
Result<ModelVersionRecord> VersionFromRow(const Row& row);
Result<PromotionRequestRecord> RequestFromRow(const Row& row);
ApiTokenRecord TokenFromRow(const Row& row);
StoreUserRecord StoreUserFromRow(const Row& row);
Result<IssuedForecastRecord> ForecastFromRow(const Row& row);
// Details that do not parse are kept as a JSON string, so that verification reports the entry.
AuditEntry AuditEntryFromRow(const Row& row);
Result<QuarantineRecord> QuarantineFromRow(const Row& row);  // payload left empty
Result<QuarantineRecord> QuarantineWithPayloadFromRow(const Row& row);
Result<TaskRecord> TaskFromRow(const Row& row);              // payload left empty
Result<TaskRecord> TaskWithPayloadFromRow(const Row& row);
// key, frequency, title, unit, seasonal_adjustment, source, created_at.
Result<SeriesInfo> SeriesInfoFromRow(const Row& row);
// id, name, as_of (days, NULL: latest), created_at, created_by, num_series, num_observations.
SnapshotInfo SnapshotInfoFromRow(const Row& row);

// The entries of `all` in `states` (all of them when `states` is empty), in order.
std::vector<QuarantineRecord> InStates(std::vector<QuarantineRecord> all, const std::vector<QuarantineState>& states);

// ------------------------------------------------------------- records -> parameters

// kRunColumns, in order (17).
void WriteRun(const RunRecord& r, Fields& f);
// kExperimentColumns without id, in order (6).
void WriteExperiment(const ExperimentRecord& e, Fields& f);
// kModelColumns, in order (7).
void WriteModel(const RegisteredModelRecord& m, Fields& f);
// kVersionColumns, in order (12).
void WriteVersion(const ModelVersionRecord& v, Fields& f);
// kRequestColumns without id (10).
void WriteRequest(const PromotionRequestRecord& r, Fields& f);
// id, status, decided_by, decided_at, decision_reason (5).
void WriteRequestDecision(const PromotionRequestRecord& r, Fields& f);
// kTokenColumns, in order (11).
void WriteToken(const ApiTokenRecord& t, Fields& f);
// kStoreUserColumns, in order (5).
void WriteStoreUser(const StoreUserRecord& u, Fields& f);
// model, version, origin, target, horizon, mean, levels, lower, upper, issued_at, issued_by (11):
// the columns of issued_forecasts.
void WriteForecast(const IssuedForecastRecord& r, Fields& f);
// kAuditColumns, in order (9), with the details as their canonical JSON text.
void WriteAuditEntry(const AuditEntry& e, std::string_view details, Fields& f);
// source, state, reasons, series, observations, payload, payload_sha256, created_at,
// created_by, decided_at, decided_by, decision_reason, load_id (13).
void WriteQuarantine(const QuarantineRecord& q, Fields& f);
// id, state, decided_at, decided_by, decision_reason, load_id (6).
void WriteQuarantineDecision(const QuarantineRecord& q, Fields& f);
// kTaskColumns without id, with payload third: kind, name, payload, dedupe_key, state, ... (16).
void WriteTask(const TaskRecord& t, Fields& f);
// id, state, attempts, not_before, lease_owner, lease_expires_at, started_at, finished_at,
// result, error (10): what UpdateTask writes.
void WriteTaskProgress(const TaskRecord& t, Fields& f);

// The runs of `rows` (read by id in any order) in the order of `ids`, each once: what
// RunsTxn::GetRuns returns.
std::vector<RunRecord> RunsInIdOrder(const std::vector<std::string>& ids, std::vector<RunRecord> rows);

// The latest point of each key among `points` (a write of InsertMetrics), in key order: the
// greatest (step, timestamp), a later point winning a tie. What the back-ends upsert into
// run_latest_metrics (migration 12), so that one write of 1,000 points of 10 keys touches 10
// rows of that table's (key, value) index rather than 1,000.
std::vector<MetricPoint> LatestPointPerKey(const std::vector<MetricPoint>& points);

// ------------------------------------------------------------------------------ audit

// The entry that follows the head (seq, hash) of the chain: the event with the authenticated
// user added (WithAuthenticatedUser), details {} for null, the clock's time and its hash. Every
// back-end appends what this returns.
Result<AuditEntry> NextAuditEntry(int64_t head_seq, std::string head_hash, const Clock& clock, const AuditEvent& event);

}  // namespace almanac::store
