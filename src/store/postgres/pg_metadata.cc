// The PostgreSQL metadata store: tracking, step cache, registry, tokens and the audit chain.
// Each MetadataStore::Run is one SERIALIZABLE transaction, retried as a whole on
// serialization failures, deadlocks and connections lost before COMMIT: the business rules
// checked inside (four-eyes approval, next version number) then hold across any number of
// processes and hosts, exactly as under SQLite's single writer.
#include <algorithm>
#include <cmath>
#include <mutex>

#include "store/record_text.h"
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

class Txn : public MetadataTxn {
 public:
  Txn(Conn& conn, const Clock& clock) : c_(conn), clock_(clock) {}

  const Clock& clock() const override { return clock_; }

  Status InsertRun(const RunRecord& r) override {
    return Inserted(c_.Query("INSERT INTO runs (id, experiment, pipeline, status, start_time, end_time, \"user\", host, "
                             "pipeline_hash, snapshot_id, git_commit, almanac_version, seed, error, reproduces) VALUES "
                             "($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15) ON CONFLICT DO NOTHING",
                             RunParams(r)),
                    "run " + r.id);
  }

  Status UpdateRun(const RunRecord& r) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query("UPDATE runs SET experiment=$2, pipeline=$3, status=$4, start_time=$5, "
                                                  "end_time=$6, \"user\"=$7, host=$8, pipeline_hash=$9, snapshot_id=$10, "
                                                  "git_commit=$11, almanac_version=$12, seed=$13, error=$14, reproduces=$15 "
                                                  "WHERE id=$1",
                                                  RunParams(r)));
    return Changed(q, "run " + r.id);
  }

  Result<RunRecord> GetRun(std::string_view id) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(std::string(kRunSelect) + " WHERE id = $1", Params().Add(id)));
    if (q.rows() == 0) return NotFoundError("no run " + QuoteForMessage(id));
    return ReadRun(q, 0);
  }

  Result<std::vector<RunRecord>> ListRuns(const RunFilter& f) override {
    ALMANAC_ASSIGN_OR_RETURN(
        PgResult q,
        c_.Query(std::string(kRunSelect) + " WHERE ($1 = '' OR experiment = $1) AND ($2 = '' OR pipeline = $2) "
                                           "AND ($3 = '' OR status = $3) ORDER BY start_time DESC, id DESC LIMIT $4",
                 Params()
                     .Add(f.experiment)
                     .Add(f.pipeline)
                     .Add(f.status ? RunStatusName(*f.status) : std::string_view(""))
                     .Add(int64_t{f.limit <= 0 ? 1000000 : f.limit})));
    std::vector<RunRecord> out;
    for (int i = 0; i < q.rows(); ++i) {
      ALMANAC_ASSIGN_OR_RETURN(RunRecord r, ReadRun(q, i));
      out.push_back(std::move(r));
    }
    return out;
  }

  Status InsertParams(std::string_view run_id, const std::vector<std::pair<std::string, std::string>>& params) override {
    for (const auto& [k, v] : params)
      ALMANAC_RETURN_IF_ERROR(Inserted(c_.Query("INSERT INTO run_params VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                                                Params().Add(run_id).Add(k).Add(v)),
                                       "parameter " + k + " of run " + std::string(run_id)));
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
      if (!std::isfinite(p.value))
        return InvalidArgumentError("metric " + p.key + " of run " + std::string(run_id) + " is not finite");
      if (p.key.find('\0') != std::string::npos) return InvalidArgumentError("a metric key contains a NUL byte");
      keys.push_back(p.key);
      steps.push_back(p.step);
      values.push_back(p.value);
      stamps.push_back(p.timestamp);
    }
    return c_.Query("INSERT INTO run_metrics (run_id, key, step, value, timestamp) SELECT $1, k, s, v, t FROM "
                    "unnest($2::text[], $3::bigint[], $4::float8[], $5::bigint[]) WITH ORDINALITY AS u(k, s, v, t, n) "
                    "ORDER BY n",
                    Params().Add(run_id).Add(TextArray(keys)).Add(NumberArray(steps)).Add(NumberArray(values))
                        .Add(NumberArray(stamps)))
        .status();
  }

  Result<std::vector<MetricPoint>> GetMetrics(std::string_view run_id) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query("SELECT key, step, value, timestamp FROM run_metrics WHERE run_id = $1 "
                                                  "ORDER BY key, step, id",
                                                  Params().Add(run_id)));
    std::vector<MetricPoint> out;
    out.reserve(static_cast<size_t>(q.rows()));
    for (int i = 0; i < q.rows(); ++i) out.push_back({q.Text(i, 0), q.Int(i, 1), q.Double(i, 2), q.Int(i, 3)});
    return out;
  }

  Status SetTags(std::string_view run_id, const std::vector<std::pair<std::string, std::string>>& tags) override {
    for (const auto& [k, v] : tags)
      ALMANAC_RETURN_IF_ERROR(c_.Query("INSERT INTO run_tags VALUES ($1, $2, $3) ON CONFLICT (run_id, key) DO UPDATE "
                                       "SET value = excluded.value",
                                       Params().Add(run_id).Add(k).Add(v))
                                  .status());
    return Status::Ok();
  }

  Result<std::vector<std::pair<std::string, std::string>>> GetTags(std::string_view run_id) override {
    return KeyValues("SELECT key, value FROM run_tags WHERE run_id = $1 ORDER BY key", run_id);
  }

  Status InsertArtifact(std::string_view run_id, const ArtifactRecord& a) override {
    return Inserted(c_.Query("INSERT INTO run_artifacts VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                             Params().Add(run_id).Add(a.name).Add(a.sha256).Add(a.size).Add(a.kind)),
                    "artifact " + a.name + " of run " + std::string(run_id));
  }

  Result<std::vector<ArtifactRecord>> GetArtifacts(std::string_view run_id) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query("SELECT name, sha256, size, kind FROM run_artifacts WHERE run_id = $1 "
                                                  "ORDER BY name",
                                                  Params().Add(run_id)));
    std::vector<ArtifactRecord> out;
    for (int i = 0; i < q.rows(); ++i) out.push_back({q.Text(i, 0), q.Text(i, 1), q.Int(i, 2), q.Text(i, 3)});
    return out;
  }

  Result<std::optional<CacheEntry>> GetCache(std::string_view key) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query("SELECT key, step, run_id, outputs, created_at FROM step_cache "
                                                  "WHERE key = $1",
                                                  Params().Add(key)));
    if (q.rows() == 0) return std::optional<CacheEntry>();
    ALMANAC_ASSIGN_OR_RETURN(Json outputs, ParseStoredJson(q.Text(0, 3), "cache entry"));
    return std::optional<CacheEntry>(CacheEntry{q.Text(0, 0), q.Text(0, 1), q.Text(0, 2), std::move(outputs), q.Int(0, 4)});
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
                             Params().Add(m.name).Add(m.owner).Add(m.description).Add(JsonText(m.policy))
                                 .Add(JsonText(m.card)).Add(m.created_at).Add(m.created_by)),
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
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(std::string(kModelSelect) + " WHERE name = $1", Params().Add(name)));
    if (q.rows() == 0) return NotFoundError("no registered model " + QuoteForMessage(name));
    return ReadModel(q, 0);
  }

  Result<std::vector<RegisteredModelRecord>> ListModels() override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(std::string(kModelSelect) + " ORDER BY name"));
    std::vector<RegisteredModelRecord> out;
    for (int i = 0; i < q.rows(); ++i) {
      ALMANAC_ASSIGN_OR_RETURN(auto m, ReadModel(q, i));
      out.push_back(std::move(m));
    }
    return out;
  }

  Status InsertVersion(const ModelVersionRecord& v) override {
    Status s = Inserted(c_.Query("INSERT INTO model_versions VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) "
                                 "ON CONFLICT DO NOTHING",
                                 VersionParams(v)),
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
                      VersionParams(v));
    if (q.status().code() == StatusCode::kAlreadyExists)
      return FailedPreconditionError("model " + v.model + " already has a production version");
    if (!q.ok()) return q.status();
    return Changed(*q, "version " + std::to_string(v.version) + " of model " + v.model);
  }

  Result<ModelVersionRecord> GetVersion(std::string_view model, int64_t version) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(std::string(kVersionSelect) + " WHERE model = $1 AND version = $2",
                                                  Params().Add(model).Add(version)));
    if (q.rows() == 0) return NotFoundError("model " + std::string(model) + " has no version " + std::to_string(version));
    return ReadVersion(q, 0);
  }

  Result<std::vector<ModelVersionRecord>> ListVersions(std::string_view model) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(std::string(kVersionSelect) + " WHERE model = $1 ORDER BY version",
                                                  Params().Add(model)));
    std::vector<ModelVersionRecord> out;
    for (int i = 0; i < q.rows(); ++i) {
      ALMANAC_ASSIGN_OR_RETURN(auto v, ReadVersion(q, i));
      out.push_back(std::move(v));
    }
    return out;
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
                 Params()
                     .Add(r.model)
                     .Add(r.version)
                     .Add(StageName(r.target))
                     .Add(r.requested_by)
                     .Add(r.requested_at)
                     .Add(r.reason)
                     .Add(RequestStatusName(r.status))
                     .Add(r.decided_by)
                     .Add(r.decided_at)
                     .Add(r.decision_reason)));
    return q.Int(0, 0);
  }

  Status UpdateRequest(const PromotionRequestRecord& r) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query("UPDATE promotion_requests SET status=$2, decided_by=$3, decided_at=$4, "
                                                  "decision_reason=$5 WHERE id=$1",
                                                  Params().Add(r.id).Add(RequestStatusName(r.status)).Add(r.decided_by)
                                                      .Add(r.decided_at).Add(r.decision_reason)));
    return Changed(q, "promotion request " + std::to_string(r.id));
  }

  Result<std::vector<PromotionRequestRecord>> ListRequests(std::string_view model) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query("SELECT id, model, version, target, requested_by, requested_at, reason, "
                                                  "status, decided_by, decided_at, decision_reason FROM promotion_requests "
                                                  "WHERE model = $1 ORDER BY id",
                                                  Params().Add(model)));
    std::vector<PromotionRequestRecord> out;
    for (int i = 0; i < q.rows(); ++i) {
      PromotionRequestRecord r;
      r.id = q.Int(i, 0);
      r.model = q.Text(i, 1);
      r.version = q.Int(i, 2);
      ALMANAC_ASSIGN_OR_RETURN(r.target, ParseStage(q.Text(i, 3)));
      r.requested_by = q.Text(i, 4);
      r.requested_at = q.Int(i, 5);
      r.reason = q.Text(i, 6);
      ALMANAC_ASSIGN_OR_RETURN(r.status, ParseRequestStatus(q.Text(i, 7)));
      r.decided_by = q.Text(i, 8);
      r.decided_at = q.Int(i, 9);
      r.decision_reason = q.Text(i, 10);
      out.push_back(std::move(r));
    }
    return out;
  }

  Status InsertToken(const ApiTokenRecord& t) override {
    static constexpr std::string_view kRoles[] = {"viewer", "analyst", "modeler", "approver", "admin"};
    if (std::find(std::begin(kRoles), std::end(kRoles), t.role) == std::end(kRoles))
      return InvalidArgumentError("token " + t.id + ": unknown role " + QuoteForMessage(t.role));
    Status s = Inserted(c_.Query("INSERT INTO api_tokens VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) ON CONFLICT DO NOTHING",
                                 Params().Add(t.id).Add(t.token_sha256).Add(t.user).Add(t.role).Add(t.description)
                                     .Add(t.created_at).Add(t.created_by).Add(t.revoked_at).Add(t.revoked_by)
                                     .Add(t.expires_at).Add(t.last_used_at)),
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
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(std::string(kTokenSelect) + " WHERE id = $1", Params().Add(id)));
    if (q.rows() == 0) return NotFoundError("no token " + QuoteForMessage(id));
    return ReadToken(q, 0);
  }

  Result<ApiTokenRecord> GetTokenByHash(std::string_view hash) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(std::string(kTokenSelect) + " WHERE token_sha256 = $1", Params().Add(hash)));
    if (q.rows() == 0) return NotFoundError("no token with that hash");
    return ReadToken(q, 0);
  }

  Result<std::vector<ApiTokenRecord>> ListTokens() override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(std::string(kTokenSelect) + " ORDER BY created_at, id"));
    std::vector<ApiTokenRecord> out;
    for (int i = 0; i < q.rows(); ++i) out.push_back(ReadToken(q, i));
    return out;
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
                    Params().Add(u.principal).Add(u.user).Add(u.admin).Add(u.granted_by).Add(u.granted_at))
        .status();
  }

  Result<StoreUserRecord> GetStoreUser(std::string_view principal) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(std::string(kStoreUserSelect) + " WHERE principal = $1", Params().Add(principal)));
    if (q.rows() == 0) return NotFoundError("no store user " + QuoteForMessage(principal));
    return ReadStoreUser(q, 0);
  }

  Result<std::vector<StoreUserRecord>> ListStoreUsers() override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(std::string(kStoreUserSelect) + " ORDER BY principal"));
    std::vector<StoreUserRecord> out;
    for (int i = 0; i < q.rows(); ++i) out.push_back(ReadStoreUser(q, i));
    return out;
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
                      Params()
                          .Add(t.kind)
                          .Add(t.name)
                          .Add(t.payload)
                          .Add(t.dedupe_key)
                          .Add(TaskStateName(t.state))
                          .Add(t.attempts)
                          .Add(t.max_attempts)
                          .Add(t.not_before)
                          .Add(t.lease_owner)
                          .Add(t.lease_expires_at)
                          .Add(t.created_at)
                          .Add(t.created_by)
                          .Add(t.started_at)
                          .Add(t.finished_at)
                          .Add(t.result)
                          .Add(t.error));
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
                 "RETURNING " + std::string(kTaskSelect).substr(7) + ", payload",
                 Params().Add(now).Add(worker).Add(lease_until).Add(TextArray(k))));
    if (q.rows() == 0) return std::optional<TaskRecord>();
    ALMANAC_ASSIGN_OR_RETURN(TaskRecord t, ReadTask(q, 0));
    t.payload = q.Text(0, 16);
    return std::optional<TaskRecord>(std::move(t));
  }

  Result<TaskRecord> GetTask(int64_t id) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(std::string(kTaskSelect) + ", payload FROM tasks WHERE id = $1",
                                                  Params().Add(id)));
    if (q.rows() == 0) return NotFoundError("no task " + std::to_string(id));
    ALMANAC_ASSIGN_OR_RETURN(TaskRecord t, ReadTask(q, 0));
    t.payload = q.Text(0, 16);
    return t;
  }

  Status UpdateTask(const TaskRecord& t) override {
    ALMANAC_ASSIGN_OR_RETURN(
        PgResult q, c_.Query("UPDATE tasks SET state=$2, attempts=$3, not_before=$4, lease_owner=$5, lease_expires_at=$6, "
                             "started_at=$7, finished_at=$8, result=$9, error=$10 WHERE id=$1",
                             Params().Add(t.id).Add(TaskStateName(t.state)).Add(t.attempts).Add(t.not_before)
                                 .Add(t.lease_owner).Add(t.lease_expires_at).Add(t.started_at).Add(t.finished_at)
                                 .Add(t.result).Add(t.error)));
    return Changed(q, "task " + std::to_string(t.id));
  }

  Result<std::vector<TaskRecord>> ListTasks(const std::vector<TaskState>& states) override {
    // Filtered in SQL: a worker samples the queued tasks every second, and done tasks pile up.
    std::string sql = std::string(kTaskSelect) + " FROM tasks";
    Params params;
    for (size_t i = 0; i < states.size(); ++i) {
      sql += (i == 0 ? " WHERE state IN ($" : ", $") + std::to_string(i + 1);
      params.Add(std::string(TaskStateName(states[i])));
    }
    if (!states.empty()) sql += ")";
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(sql + " ORDER BY id", params));
    std::vector<TaskRecord> out;
    for (int i = 0; i < q.rows(); ++i) {
      ALMANAC_ASSIGN_OR_RETURN(TaskRecord t, ReadTask(q, i));
      out.push_back(std::move(t));
    }
    return out;
  }

  Result<int64_t> InsertQuarantine(const QuarantineRecord& r) override {
    ALMANAC_RETURN_IF_ERROR(ValidateQuarantine(r));
    ALMANAC_ASSIGN_OR_RETURN(
        PgResult q,
        c_.Query("INSERT INTO quarantine (source, state, reasons, series, observations, payload, payload_sha256, "
                 "created_at, created_by, decided_at, decided_by, decision_reason, load_id) "
                 "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) RETURNING id",
                 Params()
                     .Add(r.source)
                     .Add(QuarantineStateName(r.state))
                     .Add(StringsToJson(r.reasons))
                     .Add(StringsToJson(r.series))
                     .Add(r.observations)
                     .Add(r.payload)
                     .Add(r.payload_sha256)
                     .Add(r.created_at)
                     .Add(r.created_by)
                     .Add(r.decided_at)
                     .Add(r.decided_by)
                     .Add(r.decision_reason)
                     .Add(r.load_id)));
    return q.Int(0, 0);
  }

  Result<QuarantineRecord> GetQuarantine(int64_t id) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(std::string(kQuarantineSelect) + ", payload FROM quarantine WHERE id = $1",
                                                  Params().Add(id)));
    if (q.rows() == 0) return NotFoundError("no quarantined load " + std::to_string(id));
    ALMANAC_ASSIGN_OR_RETURN(QuarantineRecord r, ReadQuarantine(q, 0));
    r.payload = q.Text(0, 13);
    return r;
  }

  Result<std::vector<QuarantineRecord>> ListQuarantine(const std::vector<QuarantineState>& states) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(std::string(kQuarantineSelect) + " FROM quarantine ORDER BY id"));
    std::vector<QuarantineRecord> out;
    for (int i = 0; i < q.rows(); ++i) {
      ALMANAC_ASSIGN_OR_RETURN(QuarantineRecord r, ReadQuarantine(q, i));
      if (states.empty() || std::find(states.begin(), states.end(), r.state) != states.end()) out.push_back(std::move(r));
    }
    return out;
  }

  Status UpdateQuarantine(const QuarantineRecord& r) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query("UPDATE quarantine SET state=$2, decided_at=$3, decided_by=$4, "
                                                  "decision_reason=$5, load_id=$6 WHERE id=$1",
                                                  Params().Add(r.id).Add(QuarantineStateName(r.state)).Add(r.decided_at)
                                                      .Add(r.decided_by).Add(r.decision_reason).Add(r.load_id)));
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
                 Params()
                     .Add(f.model)
                     .Add(f.version)
                     .Add(f.origin)
                     .Add(f.target)
                     .Add(static_cast<int64_t>(f.mean.size()))
                     .Add(DoublesToJson(f.mean))
                     .Add(DoublesToJson(f.levels))
                     .Add(DoubleRowsToJson(f.lower))
                     .Add(DoubleRowsToJson(f.upper))
                     .Add(f.issued_at)
                     .Add(f.issued_by)));
    return q.Affected() > 0;
  }

  Result<std::vector<IssuedForecastRecord>> ListForecasts(std::string_view model, int64_t version) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query("SELECT model, version, origin, target, mean, levels, lower, upper, "
                                                  "issued_at, issued_by FROM issued_forecasts WHERE model = $1 AND "
                                                  "($2 <= 0 OR version = $2) ORDER BY version, origin",
                                                  Params().Add(model).Add(version)));
    std::vector<IssuedForecastRecord> out;
    for (int i = 0; i < q.rows(); ++i) {
      IssuedForecastRecord f;
      f.model = q.Text(i, 0);
      f.version = q.Int(i, 1);
      f.origin = q.Text(i, 2);
      f.target = q.Text(i, 3);
      ALMANAC_ASSIGN_OR_RETURN(f.mean, DoublesFromJson(q.View(i, 4)));
      ALMANAC_ASSIGN_OR_RETURN(f.levels, DoublesFromJson(q.View(i, 5)));
      ALMANAC_ASSIGN_OR_RETURN(f.lower, DoubleRowsFromJson(q.View(i, 6)));
      ALMANAC_ASSIGN_OR_RETURN(f.upper, DoubleRowsFromJson(q.View(i, 7)));
      f.issued_at = q.Int(i, 8);
      f.issued_by = q.Text(i, 9);
      out.push_back(std::move(f));
    }
    return out;
  }

 private:
  static constexpr std::string_view kTokenSelect =
      "SELECT id, token_sha256, \"user\", role, description, created_at, created_by, revoked_at, revoked_by, expires_at, "
      "last_used_at FROM api_tokens";
  static constexpr std::string_view kStoreUserSelect =
      "SELECT principal, user_name, is_admin, granted_by, granted_at FROM store_users";

  static StoreUserRecord ReadStoreUser(const PgResult& q, int i) {
    StoreUserRecord u;
    u.principal = q.Text(i, 0);
    u.user = q.Text(i, 1);
    u.admin = q.Bool(i, 2);
    u.granted_by = q.Text(i, 3);
    u.granted_at = q.Int(i, 4);
    return u;
  }
  static constexpr std::string_view kRunSelect =
      "SELECT id, experiment, pipeline, status, start_time, end_time, \"user\", host, pipeline_hash, snapshot_id, "
      "git_commit, almanac_version, seed, error, reproduces FROM runs";
  static constexpr std::string_view kModelSelect =
      "SELECT name, owner, description, policy, card, created_at, created_by FROM registered_models";
  static constexpr std::string_view kVersionSelect =
      "SELECT model, version, run_id, artifact_name, artifact_sha256, snapshot_id, stage, metrics, description, "
      "created_at, created_by, stage_changed_at FROM model_versions";

  static constexpr std::string_view kTaskSelect = "SELECT id, kind, name, dedupe_key, state, attempts, max_attempts, not_before, lease_owner, lease_expires_at, created_at, created_by, started_at, finished_at, result, error";

  static Result<TaskRecord> ReadTask(const PgResult& q, int i) {
    TaskRecord t;
    t.id = q.Int(i, 0);
    t.kind = q.Text(i, 1);
    t.name = q.Text(i, 2);
    t.dedupe_key = q.Text(i, 3);
    ALMANAC_ASSIGN_OR_RETURN(t.state, ParseTaskState(q.Text(i, 4)));
    t.attempts = q.Int(i, 5);
    t.max_attempts = q.Int(i, 6);
    t.not_before = q.Int(i, 7);
    t.lease_owner = q.Text(i, 8);
    t.lease_expires_at = q.Int(i, 9);
    t.created_at = q.Int(i, 10);
    t.created_by = q.Text(i, 11);
    t.started_at = q.Int(i, 12);
    t.finished_at = q.Int(i, 13);
    t.result = q.Text(i, 14);
    t.error = q.Text(i, 15);
    return t;
  }

  static constexpr std::string_view kQuarantineSelect =
      "SELECT id, source, state, reasons, series, observations, payload_sha256, created_at, created_by, decided_at, "
      "decided_by, decision_reason, load_id";

  static Result<QuarantineRecord> ReadQuarantine(const PgResult& q, int i) {
    QuarantineRecord r;
    r.id = q.Int(i, 0);
    r.source = q.Text(i, 1);
    ALMANAC_ASSIGN_OR_RETURN(r.state, ParseQuarantineState(q.Text(i, 2)));
    ALMANAC_ASSIGN_OR_RETURN(r.reasons, StringsFromJson(q.Text(i, 3), "quarantine reasons"));
    ALMANAC_ASSIGN_OR_RETURN(r.series, StringsFromJson(q.Text(i, 4), "quarantine series"));
    r.observations = q.Int(i, 5);
    r.payload_sha256 = q.Text(i, 6);
    r.created_at = q.Int(i, 7);
    r.created_by = q.Text(i, 8);
    r.decided_at = q.Int(i, 9);
    r.decided_by = q.Text(i, 10);
    r.decision_reason = q.Text(i, 11);
    r.load_id = q.Int(i, 12);
    return r;
  }

  static Status Changed(const PgResult& q, const std::string& what) {
    if (q.Affected() == 0) return NotFoundError("no " + what);
    return Status::Ok();
  }

  static ApiTokenRecord ReadToken(const PgResult& q, int i) {
    ApiTokenRecord t;
    t.id = q.Text(i, 0);
    t.token_sha256 = q.Text(i, 1);
    t.user = q.Text(i, 2);
    t.role = q.Text(i, 3);
    t.description = q.Text(i, 4);
    t.created_at = q.Int(i, 5);
    t.created_by = q.Text(i, 6);
    t.revoked_at = q.Int(i, 7);
    t.revoked_by = q.Text(i, 8);
    t.expires_at = q.Int(i, 9);
    t.last_used_at = q.Int(i, 10);
    return t;
  }

  static Params RunParams(const RunRecord& r) {
    Params p;
    p.Add(r.id).Add(r.experiment).Add(r.pipeline).Add(RunStatusName(r.status)).Add(r.start_time).Add(r.end_time)
        .Add(r.user).Add(r.host).Add(r.pipeline_hash).Add(r.snapshot_id).Add(r.git_commit).Add(r.almanac_version)
        .Add(r.seed).Add(r.error).Add(r.reproduces);
    return p;
  }

  static Result<RunRecord> ReadRun(const PgResult& q, int i) {
    RunRecord r;
    r.id = q.Text(i, 0);
    r.experiment = q.Text(i, 1);
    r.pipeline = q.Text(i, 2);
    ALMANAC_ASSIGN_OR_RETURN(r.status, ParseRunStatus(q.Text(i, 3)));
    r.start_time = q.Int(i, 4);
    r.end_time = q.Int(i, 5);
    r.user = q.Text(i, 6);
    r.host = q.Text(i, 7);
    r.pipeline_hash = q.Text(i, 8);
    r.snapshot_id = q.Text(i, 9);
    r.git_commit = q.Text(i, 10);
    r.almanac_version = q.Text(i, 11);
    r.seed = q.Int(i, 12);
    r.error = q.Text(i, 13);
    r.reproduces = q.Text(i, 14);
    return r;
  }

  static Result<RegisteredModelRecord> ReadModel(const PgResult& q, int i) {
    RegisteredModelRecord m;
    m.name = q.Text(i, 0);
    m.owner = q.Text(i, 1);
    m.description = q.Text(i, 2);
    ALMANAC_ASSIGN_OR_RETURN(m.policy, ParseStoredJson(q.Text(i, 3), "model policy"));
    ALMANAC_ASSIGN_OR_RETURN(m.card, ParseStoredJson(q.Text(i, 4), "model card"));
    m.created_at = q.Int(i, 5);
    m.created_by = q.Text(i, 6);
    return m;
  }

  static Params VersionParams(const ModelVersionRecord& v) {
    Params p;
    p.Add(v.model).Add(v.version).Add(v.run_id).Add(v.artifact_name).Add(v.artifact_sha256).Add(v.snapshot_id)
        .Add(StageName(v.stage)).Add(JsonText(v.metrics)).Add(v.description).Add(v.created_at).Add(v.created_by)
        .Add(v.stage_changed_at);
    return p;
  }

  static Result<ModelVersionRecord> ReadVersion(const PgResult& q, int i) {
    ModelVersionRecord v;
    v.model = q.Text(i, 0);
    v.version = q.Int(i, 1);
    v.run_id = q.Text(i, 2);
    v.artifact_name = q.Text(i, 3);
    v.artifact_sha256 = q.Text(i, 4);
    v.snapshot_id = q.Text(i, 5);
    ALMANAC_ASSIGN_OR_RETURN(v.stage, ParseStage(q.Text(i, 6)));
    ALMANAC_ASSIGN_OR_RETURN(v.metrics, ParseStoredJson(q.Text(i, 7), "version metrics"));
    v.description = q.Text(i, 8);
    v.created_at = q.Int(i, 9);
    v.created_by = q.Text(i, 10);
    v.stage_changed_at = q.Int(i, 11);
    return v;
  }

  Result<std::vector<std::pair<std::string, std::string>>> KeyValues(std::string_view sql, std::string_view run_id) {
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, c_.Query(sql, Params().Add(run_id)));
    std::vector<std::pair<std::string, std::string>> out;
    for (int i = 0; i < q.rows(); ++i) out.emplace_back(q.Text(i, 0), q.Text(i, 1));
    return out;
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
    ALMANAC_ASSIGN_OR_RETURN(PgResult q, lease->Query("SELECT seq, timestamp, actor, action, object_type, object_id, "
                                                      "details, prev_hash, hash FROM audit_log WHERE seq >= $1 AND "
                                                      "($2 <= 0 OR seq <= $2) ORDER BY seq",
                                                      Params().Add(from).Add(to)));
    std::vector<AuditEntry> out;
    out.reserve(static_cast<size_t>(q.rows()));
    for (int i = 0; i < q.rows(); ++i) {
      AuditEntry e;
      e.seq = q.Int(i, 0);
      e.timestamp = q.Int(i, 1);
      e.event.actor = q.Text(i, 2);
      e.event.action = q.Text(i, 3);
      e.event.object_type = q.Text(i, 4);
      e.event.object_id = q.Text(i, 5);
      auto details = ParseJson(q.Text(i, 6));
      e.event.details = details.ok() ? *details : Json(q.Text(i, 6));
      e.prev_hash = q.Text(i, 7);
      e.hash = q.Text(i, 8);
      out.push_back(std::move(e));
    }
    return out;
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
