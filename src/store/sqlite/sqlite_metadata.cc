#include "store/sqlite/sqlite_metadata.h"

#include <mutex>

#include "store/record_text.h"

namespace almanac::store::sqlite {
namespace {

Status NotFoundIfNoRow(bool row, std::string msg) {
  if (!row) return NotFoundError(std::move(msg));
  return Status::Ok();
}

// Maps a constraint failure to AlreadyExists with a message naming the object.
Status Named(const Status& s, const std::string& what) {
  if (s.ok()) return s;
  if (s.code() == StatusCode::kAlreadyExists) return AlreadyExistsError(what + " already exists");
  return s.WithContext(what);
}

class Txn : public MetadataTxn {
 public:
  Txn(sqlite3* db, const Clock& clock) : db_(db), clock_(clock) {}

  const Clock& clock() const override { return clock_; }

  Status InsertRun(const RunRecord& r) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_,
        "INSERT INTO runs (id, experiment, pipeline, status, start_time, end_time, user, host, pipeline_hash, "
        "snapshot_id, git_commit, almanac_version, seed, error, reproduces) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)"));
    BindRun(q, r);
    return Named(q.Run(), "run " + r.id);
  }

  Status UpdateRun(const RunRecord& r) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_,
        "UPDATE runs SET experiment=?2, pipeline=?3, status=?4, start_time=?5, end_time=?6, user=?7, host=?8, "
        "pipeline_hash=?9, snapshot_id=?10, git_commit=?11, almanac_version=?12, seed=?13, error=?14, reproduces=?15 "
        "WHERE id=?1"));
    BindRun(q, r);
    ALMANAC_RETURN_IF_ERROR(q.Run());
    return Changed("run " + r.id);
  }

  Result<RunRecord> GetRun(std::string_view id) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, std::string(kRunSelect) + " WHERE id = ?1"));
    q.Bind(1, id);
    ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
    ALMANAC_RETURN_IF_ERROR(NotFoundIfNoRow(row, "no run " + QuoteForMessage(id)));
    return ReadRun(q);
  }

  Result<std::vector<RunRecord>> ListRuns(const RunFilter& f) override {
    std::string sql = std::string(kRunSelect) + " WHERE (?1 = '' OR experiment = ?1) AND (?2 = '' OR pipeline = ?2) "
                      "AND (?3 = '' OR status = ?3) ORDER BY start_time DESC, id DESC LIMIT ?4";
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, sql));
    q.Bind(1, f.experiment).Bind(2, f.pipeline).Bind(3, f.status ? RunStatusName(*f.status) : std::string_view(""))
        .Bind(4, int64_t{f.limit <= 0 ? 1000000 : f.limit});
    std::vector<RunRecord> out;
    for (;;) {
      ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      ALMANAC_ASSIGN_OR_RETURN(RunRecord r, ReadRun(q));
      out.push_back(std::move(r));
    }
    return out;
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
      if (!std::isfinite(p.value))
        return InvalidArgumentError("metric " + p.key + " of run " + std::string(run_id) + " is not finite");
      q.Bind(1, run_id).Bind(2, p.key).Bind(3, p.step).Bind(4, p.value).Bind(5, p.timestamp);
      ALMANAC_RETURN_IF_ERROR(q.Run());
    }
    return Status::Ok();
  }

  Result<std::vector<MetricPoint>> GetMetrics(std::string_view run_id) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "SELECT key, step, value, timestamp FROM run_metrics WHERE run_id = ?1 "
                                                        "ORDER BY key, step, rowid"));
    q.Bind(1, run_id);
    std::vector<MetricPoint> out;
    for (;;) {
      ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.push_back({q.Text(0), q.Int(1), q.Double(2), q.Int(3)});
    }
    return out;
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

  Status InsertArtifact(std::string_view run_id, const ArtifactRecord& a) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "INSERT INTO run_artifacts VALUES (?1, ?2, ?3, ?4, ?5)"));
    q.Bind(1, run_id).Bind(2, a.name).Bind(3, a.sha256).Bind(4, a.size).Bind(5, a.kind);
    return Named(q.Run(), "artifact " + a.name + " of run " + std::string(run_id));
  }

  Result<std::vector<ArtifactRecord>> GetArtifacts(std::string_view run_id) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "SELECT name, sha256, size, kind FROM run_artifacts WHERE run_id = ?1 ORDER BY name"));
    q.Bind(1, run_id);
    std::vector<ArtifactRecord> out;
    for (;;) {
      ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.push_back({q.Text(0), q.Text(1), q.Int(2), q.Text(3)});
    }
    return out;
  }

  Result<std::optional<CacheEntry>> GetCache(std::string_view key) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "SELECT key, step, run_id, outputs, created_at FROM step_cache WHERE key = ?1"));
    q.Bind(1, key);
    ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return std::optional<CacheEntry>();
    ALMANAC_ASSIGN_OR_RETURN(Json outputs, ParseStoredJson(q.Text(3), "cache entry"));
    return std::optional<CacheEntry>(CacheEntry{q.Text(0), q.Text(1), q.Text(2), std::move(outputs), q.Int(4)});
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
    q.Bind(1, m.name).Bind(2, m.owner).Bind(3, m.description).Bind(4, JsonText(m.policy)).Bind(5, JsonText(m.card))
        .Bind(6, m.created_at).Bind(7, m.created_by);
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
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, std::string(kModelSelect) + " WHERE name = ?1"));
    q.Bind(1, name);
    ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
    ALMANAC_RETURN_IF_ERROR(NotFoundIfNoRow(row, "no registered model " + QuoteForMessage(name)));
    return ReadModel(q);
  }

  Result<std::vector<RegisteredModelRecord>> ListModels() override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, std::string(kModelSelect) + " ORDER BY name"));
    std::vector<RegisteredModelRecord> out;
    for (;;) {
      ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      ALMANAC_ASSIGN_OR_RETURN(auto m, ReadModel(q));
      out.push_back(std::move(m));
    }
    return out;
  }

  Status InsertVersion(const ModelVersionRecord& v) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "INSERT INTO model_versions VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)"));
    BindVersion(q, v);
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
    BindVersion(q, v);
    Status s = q.Run();
    if (s.code() == StatusCode::kAlreadyExists)
      return FailedPreconditionError("model " + v.model + " already has a production version");
    ALMANAC_RETURN_IF_ERROR(s);
    return Changed("version " + std::to_string(v.version) + " of model " + v.model);
  }

  Result<ModelVersionRecord> GetVersion(std::string_view model, int64_t version) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, std::string(kVersionSelect) + " WHERE model = ?1 AND version = ?2"));
    q.Bind(1, model).Bind(2, version);
    ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
    ALMANAC_RETURN_IF_ERROR(NotFoundIfNoRow(row, "model " + std::string(model) + " has no version " + std::to_string(version)));
    return ReadVersion(q);
  }

  Result<std::vector<ModelVersionRecord>> ListVersions(std::string_view model) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, std::string(kVersionSelect) + " WHERE model = ?1 ORDER BY version"));
    q.Bind(1, model);
    std::vector<ModelVersionRecord> out;
    for (;;) {
      ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      ALMANAC_ASSIGN_OR_RETURN(auto v, ReadVersion(q));
      out.push_back(std::move(v));
    }
    return out;
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
    q.Bind(1, r.model).Bind(2, r.version).Bind(3, StageName(r.target)).Bind(4, r.requested_by).Bind(5, r.requested_at)
        .Bind(6, r.reason).Bind(7, RequestStatusName(r.status)).Bind(8, r.decided_by).Bind(9, r.decided_at).Bind(10, r.decision_reason);
    ALMANAC_RETURN_IF_ERROR(q.Run());
    return sqlite3_last_insert_rowid(db_);
  }

  Status UpdateRequest(const PromotionRequestRecord& r) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "UPDATE promotion_requests SET status=?2, decided_by=?3, decided_at=?4, "
                                                        "decision_reason=?5 WHERE id=?1"));
    q.Bind(1, r.id).Bind(2, RequestStatusName(r.status)).Bind(3, r.decided_by).Bind(4, r.decided_at).Bind(5, r.decision_reason);
    ALMANAC_RETURN_IF_ERROR(q.Run());
    return Changed("promotion request " + std::to_string(r.id));
  }

  Result<std::vector<PromotionRequestRecord>> ListRequests(std::string_view model) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_,
        "SELECT id, model, version, target, requested_by, requested_at, reason, status, decided_by, decided_at, "
        "decision_reason FROM promotion_requests WHERE model = ?1 ORDER BY id"));
    q.Bind(1, model);
    std::vector<PromotionRequestRecord> out;
    for (;;) {
      ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      PromotionRequestRecord r;
      r.id = q.Int(0);
      r.model = q.Text(1);
      r.version = q.Int(2);
      ALMANAC_ASSIGN_OR_RETURN(r.target, ParseStage(q.Text(3)));
      r.requested_by = q.Text(4);
      r.requested_at = q.Int(5);
      r.reason = q.Text(6);
      ALMANAC_ASSIGN_OR_RETURN(r.status, ParseRequestStatus(q.Text(7)));
      r.decided_by = q.Text(8);
      r.decided_at = q.Int(9);
      r.decision_reason = q.Text(10);
      out.push_back(std::move(r));
    }
    return out;
  }

  Status InsertToken(const ApiTokenRecord& t) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "INSERT INTO api_tokens VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"));
    q.Bind(1, t.id).Bind(2, t.token_sha256).Bind(3, t.user).Bind(4, t.role).Bind(5, t.description).Bind(6, t.created_at)
        .Bind(7, t.created_by).Bind(8, t.revoked_at).Bind(9, t.revoked_by).Bind(10, t.expires_at).Bind(11, t.last_used_at);
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
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, std::string(kTokenSelect) + " WHERE id = ?1"));
    q.Bind(1, id);
    ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
    ALMANAC_RETURN_IF_ERROR(NotFoundIfNoRow(row, "no token " + QuoteForMessage(id)));
    return ReadToken(q);
  }

  Result<ApiTokenRecord> GetTokenByHash(std::string_view hash) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, std::string(kTokenSelect) + " WHERE token_sha256 = ?1"));
    q.Bind(1, hash);
    ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
    ALMANAC_RETURN_IF_ERROR(NotFoundIfNoRow(row, "no token with that hash"));
    return ReadToken(q);
  }

  Result<std::vector<ApiTokenRecord>> ListTokens() override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, std::string(kTokenSelect) + " ORDER BY created_at, id"));
    std::vector<ApiTokenRecord> out;
    for (;;) {
      ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.push_back(ReadToken(q));
    }
    return out;
  }

  Status TouchToken(std::string_view id, int64_t at) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "UPDATE api_tokens SET last_used_at = max(last_used_at, ?2) WHERE id = ?1"));
    q.Bind(1, id).Bind(2, at);
    ALMANAC_RETURN_IF_ERROR(q.Run());
    return Changed("token " + std::string(id));
  }

  Status PutStoreUser(const StoreUserRecord& u) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "INSERT OR REPLACE INTO store_users VALUES (?1, ?2, ?3, ?4, ?5)"));
    q.Bind(1, u.principal).Bind(2, u.user).Bind(3, static_cast<int64_t>(u.admin ? 1 : 0)).Bind(4, u.granted_by).Bind(5, u.granted_at);
    return q.Run();
  }

  Result<StoreUserRecord> GetStoreUser(std::string_view principal) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, std::string(kStoreUserSelect) + " WHERE principal = ?1"));
    q.Bind(1, principal);
    ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
    ALMANAC_RETURN_IF_ERROR(NotFoundIfNoRow(row, "no store user " + QuoteForMessage(principal)));
    return ReadStoreUser(q);
  }

  Result<std::vector<StoreUserRecord>> ListStoreUsers() override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, std::string(kStoreUserSelect) + " ORDER BY principal"));
    std::vector<StoreUserRecord> out;
    for (;;) {
      ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.push_back(ReadStoreUser(q));
    }
    return out;
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
    q.Bind(1, f.model).Bind(2, f.version).Bind(3, f.origin).Bind(4, f.target).Bind(5, static_cast<int64_t>(f.mean.size()))
        .Bind(6, DoublesToJson(f.mean)).Bind(7, DoublesToJson(f.levels)).Bind(8, DoubleRowsToJson(f.lower))
        .Bind(9, DoubleRowsToJson(f.upper)).Bind(10, f.issued_at).Bind(11, f.issued_by);
    ALMANAC_RETURN_IF_ERROR(q.Run());
    return sqlite3_changes(db_) > 0;
  }

  Result<std::vector<IssuedForecastRecord>> ListForecasts(std::string_view model, int64_t version) override {
    ALMANAC_ASSIGN_OR_RETURN(
        Stmt q, Stmt::Prepare(db_,
                              "SELECT model, version, origin, target, mean, levels, lower, upper, issued_at, issued_by "
                              "FROM issued_forecasts WHERE model = ?1 AND (?2 <= 0 OR version = ?2) ORDER BY version, origin"));
    q.Bind(1, model).Bind(2, version);
    std::vector<IssuedForecastRecord> out;
    for (;;) {
      ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      IssuedForecastRecord f;
      f.model = q.Text(0);
      f.version = q.Int(1);
      f.origin = q.Text(2);
      f.target = q.Text(3);
      ALMANAC_ASSIGN_OR_RETURN(f.mean, DoublesFromJson(q.Text(4)));
      ALMANAC_ASSIGN_OR_RETURN(f.levels, DoublesFromJson(q.Text(5)));
      ALMANAC_ASSIGN_OR_RETURN(f.lower, DoubleRowsFromJson(q.Text(6)));
      ALMANAC_ASSIGN_OR_RETURN(f.upper, DoubleRowsFromJson(q.Text(7)));
      f.issued_at = q.Int(8);
      f.issued_by = q.Text(9);
      out.push_back(std::move(f));
    }
    return out;
  }

  Result<int64_t> InsertQuarantine(const QuarantineRecord& r) override {
    ALMANAC_RETURN_IF_ERROR(ValidateQuarantine(r));
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_,
        "INSERT INTO quarantine (source, state, reasons, series, observations, payload, payload_sha256, created_at, "
        "created_by, decided_at, decided_by, decision_reason, load_id) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)"));
    q.Bind(1, r.source).Bind(2, QuarantineStateName(r.state)).Bind(3, StringsToJson(r.reasons))
        .Bind(4, StringsToJson(r.series)).Bind(5, r.observations).Bind(6, r.payload).Bind(7, r.payload_sha256)
        .Bind(8, r.created_at).Bind(9, r.created_by).Bind(10, r.decided_at).Bind(11, r.decided_by)
        .Bind(12, r.decision_reason).Bind(13, r.load_id);
    ALMANAC_RETURN_IF_ERROR(q.Run());
    return sqlite3_last_insert_rowid(db_);
  }

  Result<QuarantineRecord> GetQuarantine(int64_t id) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, std::string(kQuarantineSelect) + ", payload FROM quarantine WHERE id = ?1"));
    q.Bind(1, id);
    ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFoundError("no quarantined load " + std::to_string(id));
    ALMANAC_ASSIGN_OR_RETURN(QuarantineRecord r, ReadQuarantine(q));
    r.payload = q.Text(14);
    return r;
  }

  Result<std::vector<QuarantineRecord>> ListQuarantine(const std::vector<QuarantineState>& states) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, std::string(kQuarantineSelect) + " FROM quarantine ORDER BY id"));
    std::vector<QuarantineRecord> out;
    for (;;) {
      ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      ALMANAC_ASSIGN_OR_RETURN(QuarantineRecord r, ReadQuarantine(q));
      if (states.empty() || std::find(states.begin(), states.end(), r.state) != states.end()) out.push_back(std::move(r));
    }
    return out;
  }

  Status UpdateQuarantine(const QuarantineRecord& r) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, "UPDATE quarantine SET state=?2, decided_at=?3, decided_by=?4, "
                                                        "decision_reason=?5, load_id=?6 WHERE id=?1"));
    q.Bind(1, r.id).Bind(2, QuarantineStateName(r.state)).Bind(3, r.decided_at).Bind(4, r.decided_by)
        .Bind(5, r.decision_reason).Bind(6, r.load_id);
    ALMANAC_RETURN_IF_ERROR(q.Run());
    return Changed("quarantined load " + std::to_string(r.id));
  }

  Result<int64_t> InsertTask(const TaskRecord& t) override {
    ALMANAC_RETURN_IF_ERROR(ValidateTask(t));
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_,
        "INSERT INTO tasks (kind, name, payload, dedupe_key, state, attempts, max_attempts, not_before, lease_owner, "
        "lease_expires_at, created_at, created_by, started_at, finished_at, result, error) "
        "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16) ON CONFLICT (dedupe_key) DO NOTHING"));
    q.Bind(1, t.kind).Bind(2, t.name).Bind(3, t.payload).Bind(4, t.dedupe_key).Bind(5, TaskStateName(t.state))
        .Bind(6, t.attempts).Bind(7, t.max_attempts).Bind(8, t.not_before).Bind(9, t.lease_owner)
        .Bind(10, t.lease_expires_at).Bind(11, t.created_at).Bind(12, t.created_by).Bind(13, t.started_at)
        .Bind(14, t.finished_at).Bind(15, t.result).Bind(16, t.error);
    ALMANAC_RETURN_IF_ERROR(q.Run());
    if (sqlite3_changes(db_) == 0) return AlreadyExistsError("task " + t.dedupe_key + " already exists");
    return sqlite3_last_insert_rowid(db_);
  }

  Result<std::optional<TaskRecord>> ClaimTask(std::string_view worker, int64_t now, int64_t lease_until,
                                              const std::vector<std::string>& kinds) override {
    // One writer at a time on SQLite: the transaction itself serialises claims.
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, std::string(kTaskSelect) +
        ", payload FROM tasks WHERE (state = 'queued' AND not_before <= ?1) OR "
        "(state = 'running' AND lease_expires_at < ?1 AND attempts < max_attempts) ORDER BY id"));
    q.Bind(1, now);
    for (;;) {
      ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return std::optional<TaskRecord>();
      ALMANAC_ASSIGN_OR_RETURN(TaskRecord t, ReadTask(q));
      if (!kinds.empty() && std::find(kinds.begin(), kinds.end(), t.kind) == kinds.end()) continue;
      t.payload = q.Text(16);
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
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, std::string(kTaskSelect) + ", payload FROM tasks WHERE id = ?1"));
    q.Bind(1, id);
    ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFoundError("no task " + std::to_string(id));
    ALMANAC_ASSIGN_OR_RETURN(TaskRecord t, ReadTask(q));
    t.payload = q.Text(16);
    return t;
  }

  Status UpdateTask(const TaskRecord& t) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_,
        "UPDATE tasks SET state=?2, attempts=?3, not_before=?4, lease_owner=?5, lease_expires_at=?6, started_at=?7, "
        "finished_at=?8, result=?9, error=?10 WHERE id=?1"));
    q.Bind(1, t.id).Bind(2, TaskStateName(t.state)).Bind(3, t.attempts).Bind(4, t.not_before).Bind(5, t.lease_owner)
        .Bind(6, t.lease_expires_at).Bind(7, t.started_at).Bind(8, t.finished_at).Bind(9, t.result).Bind(10, t.error);
    ALMANAC_RETURN_IF_ERROR(q.Run());
    return Changed("task " + std::to_string(t.id));
  }

  Result<std::vector<TaskRecord>> ListTasks(const std::vector<TaskState>& states) override {
    // Filtered in SQL: a worker samples the queued tasks every second, and done tasks pile up.
    std::string sql = std::string(kTaskSelect) + " FROM tasks";
    for (size_t i = 0; i < states.size(); ++i) sql += i == 0 ? " WHERE state IN (?" : ", ?";
    if (!states.empty()) sql += ")";
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, sql + " ORDER BY id"));
    for (size_t i = 0; i < states.size(); ++i) q.Bind(static_cast<int>(i + 1), TaskStateName(states[i]));
    std::vector<TaskRecord> out;
    for (;;) {
      ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      ALMANAC_ASSIGN_OR_RETURN(TaskRecord t, ReadTask(q));
      out.push_back(std::move(t));
    }
    return out;
  }

 private:
  static constexpr std::string_view kTaskSelect = "SELECT id, kind, name, dedupe_key, state, attempts, max_attempts, not_before, lease_owner, lease_expires_at, created_at, created_by, started_at, finished_at, result, error";

  static Result<TaskRecord> ReadTask(const Stmt& q) {
    TaskRecord t;
    t.id = q.Int(0);
    t.kind = q.Text(1);
    t.name = q.Text(2);
    t.dedupe_key = q.Text(3);
    ALMANAC_ASSIGN_OR_RETURN(t.state, ParseTaskState(q.Text(4)));
    t.attempts = q.Int(5);
    t.max_attempts = q.Int(6);
    t.not_before = q.Int(7);
    t.lease_owner = q.Text(8);
    t.lease_expires_at = q.Int(9);
    t.created_at = q.Int(10);
    t.created_by = q.Text(11);
    t.started_at = q.Int(12);
    t.finished_at = q.Int(13);
    t.result = q.Text(14);
    t.error = q.Text(15);
    return t;
  }

  static constexpr std::string_view kQuarantineSelect =
      "SELECT id, source, state, reasons, series, observations, payload_sha256, created_at, created_by, decided_at, "
      "decided_by, decision_reason, load_id, length(payload)";

  static Result<QuarantineRecord> ReadQuarantine(const Stmt& q) {
    QuarantineRecord r;
    r.id = q.Int(0);
    r.source = q.Text(1);
    ALMANAC_ASSIGN_OR_RETURN(r.state, ParseQuarantineState(q.Text(2)));
    ALMANAC_ASSIGN_OR_RETURN(r.reasons, StringsFromJson(q.Text(3), "quarantine reasons"));
    ALMANAC_ASSIGN_OR_RETURN(r.series, StringsFromJson(q.Text(4), "quarantine series"));
    r.observations = q.Int(5);
    r.payload_sha256 = q.Text(6);
    r.created_at = q.Int(7);
    r.created_by = q.Text(8);
    r.decided_at = q.Int(9);
    r.decided_by = q.Text(10);
    r.decision_reason = q.Text(11);
    r.load_id = q.Int(12);
    return r;
  }

  static constexpr std::string_view kTokenSelect =
      "SELECT id, token_sha256, user, role, description, created_at, created_by, revoked_at, revoked_by, expires_at, "
      "last_used_at FROM api_tokens";
  static constexpr std::string_view kStoreUserSelect =
      "SELECT principal, user_name, is_admin, granted_by, granted_at FROM store_users";

  static StoreUserRecord ReadStoreUser(const Stmt& q) {
    StoreUserRecord u;
    u.principal = q.Text(0);
    u.user = q.Text(1);
    u.admin = q.Int(2) != 0;
    u.granted_by = q.Text(3);
    u.granted_at = q.Int(4);
    return u;
  }

  static ApiTokenRecord ReadToken(const Stmt& q) {
    ApiTokenRecord t;
    t.id = q.Text(0);
    t.token_sha256 = q.Text(1);
    t.user = q.Text(2);
    t.role = q.Text(3);
    t.description = q.Text(4);
    t.created_at = q.Int(5);
    t.created_by = q.Text(6);
    t.revoked_at = q.Int(7);
    t.revoked_by = q.Text(8);
    t.expires_at = q.Int(9);
    t.last_used_at = q.Int(10);
    return t;
  }

  static constexpr std::string_view kRunSelect =
      "SELECT id, experiment, pipeline, status, start_time, end_time, user, host, pipeline_hash, snapshot_id, "
      "git_commit, almanac_version, seed, error, reproduces FROM runs";
  static constexpr std::string_view kModelSelect =
      "SELECT name, owner, description, policy, card, created_at, created_by FROM registered_models";
  static constexpr std::string_view kVersionSelect =
      "SELECT model, version, run_id, artifact_name, artifact_sha256, snapshot_id, stage, metrics, description, "
      "created_at, created_by, stage_changed_at FROM model_versions";

  Status Changed(const std::string& what) {
    if (sqlite3_changes(db_) == 0) return NotFoundError("no " + what);
    return Status::Ok();
  }

  static void BindRun(Stmt& q, const RunRecord& r) {
    q.Bind(1, r.id).Bind(2, r.experiment).Bind(3, r.pipeline).Bind(4, RunStatusName(r.status)).Bind(5, r.start_time)
        .Bind(6, r.end_time).Bind(7, r.user).Bind(8, r.host).Bind(9, r.pipeline_hash).Bind(10, r.snapshot_id)
        .Bind(11, r.git_commit).Bind(12, r.almanac_version).Bind(13, r.seed).Bind(14, r.error).Bind(15, r.reproduces);
  }

  static Result<RunRecord> ReadRun(const Stmt& q) {
    RunRecord r;
    r.id = q.Text(0);
    r.experiment = q.Text(1);
    r.pipeline = q.Text(2);
    ALMANAC_ASSIGN_OR_RETURN(r.status, ParseRunStatus(q.Text(3)));
    r.start_time = q.Int(4);
    r.end_time = q.Int(5);
    r.user = q.Text(6);
    r.host = q.Text(7);
    r.pipeline_hash = q.Text(8);
    r.snapshot_id = q.Text(9);
    r.git_commit = q.Text(10);
    r.almanac_version = q.Text(11);
    r.seed = q.Int(12);
    r.error = q.Text(13);
    r.reproduces = q.Text(14);
    return r;
  }

  static Result<RegisteredModelRecord> ReadModel(const Stmt& q) {
    RegisteredModelRecord m;
    m.name = q.Text(0);
    m.owner = q.Text(1);
    m.description = q.Text(2);
    ALMANAC_ASSIGN_OR_RETURN(m.policy, ParseStoredJson(q.Text(3), "model policy"));
    ALMANAC_ASSIGN_OR_RETURN(m.card, ParseStoredJson(q.Text(4), "model card"));
    m.created_at = q.Int(5);
    m.created_by = q.Text(6);
    return m;
  }

  static void BindVersion(Stmt& q, const ModelVersionRecord& v) {
    q.Bind(1, v.model).Bind(2, v.version).Bind(3, v.run_id).Bind(4, v.artifact_name).Bind(5, v.artifact_sha256)
        .Bind(6, v.snapshot_id).Bind(7, StageName(v.stage)).Bind(8, JsonText(v.metrics)).Bind(9, v.description)
        .Bind(10, v.created_at).Bind(11, v.created_by).Bind(12, v.stage_changed_at);
  }

  static Result<ModelVersionRecord> ReadVersion(const Stmt& q) {
    ModelVersionRecord v;
    v.model = q.Text(0);
    v.version = q.Int(1);
    v.run_id = q.Text(2);
    v.artifact_name = q.Text(3);
    v.artifact_sha256 = q.Text(4);
    v.snapshot_id = q.Text(5);
    ALMANAC_ASSIGN_OR_RETURN(v.stage, ParseStage(q.Text(6)));
    ALMANAC_ASSIGN_OR_RETURN(v.metrics, ParseStoredJson(q.Text(7), "version metrics"));
    v.description = q.Text(8);
    v.created_at = q.Int(9);
    v.created_by = q.Text(10);
    v.stage_changed_at = q.Int(11);
    return v;
  }

  Result<std::vector<std::pair<std::string, std::string>>> KeyValues(std::string_view sql, std::string_view run_id) {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_, sql));
    q.Bind(1, run_id);
    std::vector<std::pair<std::string, std::string>> out;
    for (;;) {
      ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.emplace_back(q.Text(0), q.Text(1));
    }
    return out;
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
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_.get(),
        "SELECT seq, timestamp, actor, action, object_type, object_id, details, prev_hash, hash FROM audit_log "
        "WHERE seq >= ?1 AND (?2 <= 0 OR seq <= ?2) ORDER BY seq"));
    q.Bind(1, from).Bind(2, to);
    std::vector<AuditEntry> out;
    for (;;) {
      ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      AuditEntry e;
      e.seq = q.Int(0);
      e.timestamp = q.Int(1);
      e.event.actor = q.Text(2);
      e.event.action = q.Text(3);
      e.event.object_type = q.Text(4);
      e.event.object_id = q.Text(5);
      auto details = ParseJson(q.Text(6));
      // Unparsable details cannot match the hash: keep the raw text so verify reports it.
      e.event.details = details.ok() ? *details : Json(q.Text(6));
      e.prev_hash = q.Text(7);
      e.hash = q.Text(8);
      out.push_back(std::move(e));
    }
    return out;
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
  AuditEntry e;
  e.prev_hash = std::string(64, '0');
  {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db, "SELECT seq, hash FROM audit_head WHERE id = 1"));
    ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) {
      e.seq = q.Int(0);
      e.prev_hash = q.Text(1);
    }
  }
  e.seq += 1;
  e.timestamp = clock.NowMicros();
  e.event = WithAuthenticatedUser(event);
  if (e.event.details.is_null()) e.event.details = Json::object();
  ALMANAC_ASSIGN_OR_RETURN(e.hash, AuditEntryHash(e));
  ALMANAC_ASSIGN_OR_RETURN(std::string details, CanonicalJson(e.event.details));
  ALMANAC_ASSIGN_OR_RETURN(Stmt ins, Stmt::Prepare(db, "INSERT INTO audit_log VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
  ins.Bind(1, e.seq).Bind(2, e.timestamp).Bind(3, e.event.actor).Bind(4, e.event.action).Bind(5, e.event.object_type)
      .Bind(6, e.event.object_id).Bind(7, details).Bind(8, e.prev_hash).Bind(9, e.hash);
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
