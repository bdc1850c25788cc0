#include "store/rows.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "store/record_text.h"

namespace almanac::store {

Result<RunRecord> RunFromRow(const Row& row) {
  RunRecord r;
  r.id = row.Text(0);
  r.experiment = row.Text(1);
  r.pipeline = row.Text(2);
  ALMANAC_ASSIGN_OR_RETURN(r.status, ParseRunStatus(row.Text(3)));
  r.start_time = row.Int(4);
  r.end_time = row.Int(5);
  r.user = row.Text(6);
  r.host = row.Text(7);
  r.pipeline_hash = row.Text(8);
  r.snapshot_id = row.Text(9);
  r.git_commit = row.Text(10);
  r.almanac_version = row.Text(11);
  r.seed = row.Int(12);
  r.error = row.Text(13);
  r.reproduces = row.Text(14);
  r.name = row.Text(15);
  r.deleted = row.Bool(16);
  return r;
}

MetricPoint MetricFromRow(const Row& row) {
  return {row.Text(0), row.Int(1), row.IsNull(2) ? std::nan("") : row.Double(2), row.Int(3)};
}

Result<ExperimentRecord> ExperimentFromRow(const Row& row) {
  ExperimentRecord e;
  e.id = row.Int(0);
  e.name = row.Text(1);
  e.artifact_location = row.Text(2);
  const std::string stage = row.Text(3);
  if (stage != "active" && stage != "deleted")
    return DataLossError("experiment " + std::to_string(e.id) + " has lifecycle stage " + QuoteForMessage(stage));
  e.deleted = stage == "deleted";
  e.created_at = row.Int(4);
  e.updated_at = row.Int(5);
  ALMANAC_ASSIGN_OR_RETURN(Json tags, ParseStoredJson(row.Text(6), "experiment tags"));
  if (!tags.is_object()) return DataLossError("experiment " + std::to_string(e.id) + ": tags are not an object");
  for (auto it = tags.begin(); it != tags.end(); ++it) {
    if (!it.value().is_string()) return DataLossError("experiment " + std::to_string(e.id) + ": a tag is not text");
    e.tags.emplace_back(it.key(), it.value().get<std::string>());
  }
  return e;
}

ArtifactRecord ArtifactFromRow(const Row& row) { return {row.Text(0), row.Text(1), row.Int(2), row.Text(3)}; }

Result<CacheEntry> CacheEntryFromRow(const Row& row) {
  ALMANAC_ASSIGN_OR_RETURN(Json outputs, ParseStoredJson(row.Text(3), "cache entry"));
  return CacheEntry{row.Text(0), row.Text(1), row.Text(2), std::move(outputs), row.Int(4)};
}

Result<RegisteredModelRecord> ModelFromRow(const Row& row) {
  RegisteredModelRecord m;
  m.name = row.Text(0);
  m.owner = row.Text(1);
  m.description = row.Text(2);
  ALMANAC_ASSIGN_OR_RETURN(m.policy, ParseStoredJson(row.Text(3), "model policy"));
  ALMANAC_ASSIGN_OR_RETURN(m.card, ParseStoredJson(row.Text(4), "model card"));
  m.created_at = row.Int(5);
  m.created_by = row.Text(6);
  return m;
}

Result<ModelVersionRecord> VersionFromRow(const Row& row) {
  ModelVersionRecord v;
  v.model = row.Text(0);
  v.version = row.Int(1);
  v.run_id = row.Text(2);
  v.artifact_name = row.Text(3);
  v.artifact_sha256 = row.Text(4);
  v.snapshot_id = row.Text(5);
  ALMANAC_ASSIGN_OR_RETURN(v.stage, ParseStage(row.Text(6)));
  ALMANAC_ASSIGN_OR_RETURN(v.metrics, ParseStoredJson(row.Text(7), "version metrics"));
  v.description = row.Text(8);
  v.created_at = row.Int(9);
  v.created_by = row.Text(10);
  v.stage_changed_at = row.Int(11);
  return v;
}

Result<PromotionRequestRecord> RequestFromRow(const Row& row) {
  PromotionRequestRecord r;
  r.id = row.Int(0);
  r.model = row.Text(1);
  r.version = row.Int(2);
  ALMANAC_ASSIGN_OR_RETURN(r.target, ParseStage(row.Text(3)));
  r.requested_by = row.Text(4);
  r.requested_at = row.Int(5);
  r.reason = row.Text(6);
  ALMANAC_ASSIGN_OR_RETURN(r.status, ParseRequestStatus(row.Text(7)));
  r.decided_by = row.Text(8);
  r.decided_at = row.Int(9);
  r.decision_reason = row.Text(10);
  return r;
}

ApiTokenRecord TokenFromRow(const Row& row) {
  ApiTokenRecord t;
  t.id = row.Text(0);
  t.token_sha256 = row.Text(1);
  t.user = row.Text(2);
  t.role = row.Text(3);
  t.description = row.Text(4);
  t.created_at = row.Int(5);
  t.created_by = row.Text(6);
  t.revoked_at = row.Int(7);
  t.revoked_by = row.Text(8);
  t.expires_at = row.Int(9);
  t.last_used_at = row.Int(10);
  return t;
}

StoreUserRecord StoreUserFromRow(const Row& row) {
  StoreUserRecord u;
  u.principal = row.Text(0);
  u.user = row.Text(1);
  u.admin = row.Bool(2);
  u.granted_by = row.Text(3);
  u.granted_at = row.Int(4);
  return u;
}

Result<IssuedForecastRecord> ForecastFromRow(const Row& row) {
  IssuedForecastRecord f;
  f.model = row.Text(0);
  f.version = row.Int(1);
  f.origin = row.Text(2);
  f.target = row.Text(3);
  ALMANAC_ASSIGN_OR_RETURN(f.mean, DoublesFromJson(row.Text(4)));
  ALMANAC_ASSIGN_OR_RETURN(f.levels, DoublesFromJson(row.Text(5)));
  ALMANAC_ASSIGN_OR_RETURN(f.lower, DoubleRowsFromJson(row.Text(6)));
  ALMANAC_ASSIGN_OR_RETURN(f.upper, DoubleRowsFromJson(row.Text(7)));
  f.issued_at = row.Int(8);
  f.issued_by = row.Text(9);
  return f;
}

AuditEntry AuditEntryFromRow(const Row& row) {
  AuditEntry e;
  e.seq = row.Int(0);
  e.timestamp = row.Int(1);
  e.event.actor = row.Text(2);
  e.event.action = row.Text(3);
  e.event.object_type = row.Text(4);
  e.event.object_id = row.Text(5);
  const std::string text = row.Text(6);
  auto details = ParseJson(text);
  // Unparsable details cannot match the hash: keep the raw text so verify reports it.
  e.event.details = details.ok() ? *details : Json(text);
  e.prev_hash = row.Text(7);
  e.hash = row.Text(8);
  return e;
}

Result<QuarantineRecord> QuarantineFromRow(const Row& row) {
  QuarantineRecord r;
  r.id = row.Int(0);
  r.source = row.Text(1);
  ALMANAC_ASSIGN_OR_RETURN(r.state, ParseQuarantineState(row.Text(2)));
  ALMANAC_ASSIGN_OR_RETURN(r.reasons, StringsFromJson(row.Text(3), "quarantine reasons"));
  ALMANAC_ASSIGN_OR_RETURN(r.series, StringsFromJson(row.Text(4), "quarantine series"));
  r.observations = row.Int(5);
  r.payload_sha256 = row.Text(6);
  r.created_at = row.Int(7);
  r.created_by = row.Text(8);
  r.decided_at = row.Int(9);
  r.decided_by = row.Text(10);
  r.decision_reason = row.Text(11);
  r.load_id = row.Int(12);
  return r;
}

Result<TaskRecord> TaskFromRow(const Row& row) {
  TaskRecord t;
  t.id = row.Int(0);
  t.kind = row.Text(1);
  t.name = row.Text(2);
  t.dedupe_key = row.Text(3);
  ALMANAC_ASSIGN_OR_RETURN(t.state, ParseTaskState(row.Text(4)));
  t.attempts = row.Int(5);
  t.max_attempts = row.Int(6);
  t.not_before = row.Int(7);
  t.lease_owner = row.Text(8);
  t.lease_expires_at = row.Int(9);
  t.created_at = row.Int(10);
  t.created_by = row.Text(11);
  t.started_at = row.Int(12);
  t.finished_at = row.Int(13);
  t.result = row.Text(14);
  t.error = row.Text(15);
  return t;
}

Result<QuarantineRecord> QuarantineWithPayloadFromRow(const Row& row) {
  ALMANAC_ASSIGN_OR_RETURN(QuarantineRecord r, QuarantineFromRow(row));
  r.payload = row.Text(kQuarantinePayloadColumn);
  return r;
}

Result<TaskRecord> TaskWithPayloadFromRow(const Row& row) {
  ALMANAC_ASSIGN_OR_RETURN(TaskRecord t, TaskFromRow(row));
  t.payload = row.Text(kTaskPayloadColumn);
  return t;
}

Result<SeriesInfo> SeriesInfoFromRow(const Row& row) {
  SeriesInfo info;
  info.key = row.Text(0);
  ALMANAC_ASSIGN_OR_RETURN(info.frequency, ParseFrequency(row.Text(1)));
  info.title = row.Text(2);
  info.unit = row.Text(3);
  info.seasonal_adjustment = row.Text(4);
  info.source = row.Text(5);
  info.created_at = row.Int(6);
  return info;
}

SnapshotInfo SnapshotInfoFromRow(const Row& row) {
  SnapshotInfo info;
  info.id = row.Text(0);
  info.name = row.Text(1);
  if (!row.IsNull(2)) info.as_of = Date::FromDays(row.Int(2));
  info.created_at = row.Int(3);
  info.created_by = row.Text(4);
  info.num_series = row.Int(5);
  info.num_observations = row.Int(6);
  return info;
}

std::vector<QuarantineRecord> InStates(std::vector<QuarantineRecord> all, const std::vector<QuarantineState>& states) {
  if (states.empty()) return all;
  std::vector<QuarantineRecord> out;
  for (auto& r : all)
    if (std::find(states.begin(), states.end(), r.state) != states.end()) out.push_back(std::move(r));
  return out;
}

void WriteRun(const RunRecord& r, Fields& f) {
  f.Text(r.id).Text(r.experiment).Text(r.pipeline).Text(RunStatusName(r.status)).Int(r.start_time).Int(r.end_time)
      .Text(r.user).Text(r.host).Text(r.pipeline_hash).Text(r.snapshot_id).Text(r.git_commit).Text(r.almanac_version)
      .Int(r.seed).Text(r.error).Text(r.reproduces).Text(r.name).Bool(r.deleted);
}

void WriteExperiment(const ExperimentRecord& e, Fields& f) {
  Json tags = Json::object();
  for (const auto& [k, v] : e.tags) tags[k] = v;
  f.Text(e.name).Text(e.artifact_location).Text(e.deleted ? "deleted" : "active").Int(e.created_at).Int(e.updated_at)
      .Text(JsonText(tags));
}

void WriteModel(const RegisteredModelRecord& m, Fields& f) {
  f.Text(m.name).Text(m.owner).Text(m.description).Text(JsonText(m.policy)).Text(JsonText(m.card)).Int(m.created_at)
      .Text(m.created_by);
}

void WriteVersion(const ModelVersionRecord& v, Fields& f) {
  f.Text(v.model).Int(v.version).Text(v.run_id).Text(v.artifact_name).Text(v.artifact_sha256).Text(v.snapshot_id)
      .Text(StageName(v.stage)).Text(JsonText(v.metrics)).Text(v.description).Int(v.created_at).Text(v.created_by)
      .Int(v.stage_changed_at);
}

void WriteRequest(const PromotionRequestRecord& r, Fields& f) {
  f.Text(r.model).Int(r.version).Text(StageName(r.target)).Text(r.requested_by).Int(r.requested_at).Text(r.reason)
      .Text(RequestStatusName(r.status)).Text(r.decided_by).Int(r.decided_at).Text(r.decision_reason);
}

void WriteRequestDecision(const PromotionRequestRecord& r, Fields& f) {
  f.Int(r.id).Text(RequestStatusName(r.status)).Text(r.decided_by).Int(r.decided_at).Text(r.decision_reason);
}

void WriteToken(const ApiTokenRecord& t, Fields& f) {
  f.Text(t.id).Text(t.token_sha256).Text(t.user).Text(t.role).Text(t.description).Int(t.created_at).Text(t.created_by)
      .Int(t.revoked_at).Text(t.revoked_by).Int(t.expires_at).Int(t.last_used_at);
}

void WriteStoreUser(const StoreUserRecord& u, Fields& f) {
  f.Text(u.principal).Text(u.user).Bool(u.admin).Text(u.granted_by).Int(u.granted_at);
}

void WriteForecast(const IssuedForecastRecord& r, Fields& f) {
  f.Text(r.model).Int(r.version).Text(r.origin).Text(r.target).Int(static_cast<int64_t>(r.mean.size()))
      .Text(DoublesToJson(r.mean)).Text(DoublesToJson(r.levels)).Text(DoubleRowsToJson(r.lower))
      .Text(DoubleRowsToJson(r.upper)).Int(r.issued_at).Text(r.issued_by);
}

void WriteAuditEntry(const AuditEntry& e, std::string_view details, Fields& f) {
  f.Int(e.seq).Int(e.timestamp).Text(e.event.actor).Text(e.event.action).Text(e.event.object_type)
      .Text(e.event.object_id).Text(details).Text(e.prev_hash).Text(e.hash);
}

void WriteQuarantine(const QuarantineRecord& q, Fields& f) {
  f.Text(q.source).Text(QuarantineStateName(q.state)).Text(StringsToJson(q.reasons)).Text(StringsToJson(q.series))
      .Int(q.observations).Text(q.payload).Text(q.payload_sha256).Int(q.created_at).Text(q.created_by)
      .Int(q.decided_at).Text(q.decided_by).Text(q.decision_reason).Int(q.load_id);
}

void WriteQuarantineDecision(const QuarantineRecord& q, Fields& f) {
  f.Int(q.id).Text(QuarantineStateName(q.state)).Int(q.decided_at).Text(q.decided_by).Text(q.decision_reason)
      .Int(q.load_id);
}

void WriteTask(const TaskRecord& t, Fields& f) {
  f.Text(t.kind).Text(t.name).Text(t.payload).Text(t.dedupe_key).Text(TaskStateName(t.state)).Int(t.attempts)
      .Int(t.max_attempts).Int(t.not_before).Text(t.lease_owner).Int(t.lease_expires_at).Int(t.created_at)
      .Text(t.created_by).Int(t.started_at).Int(t.finished_at).Text(t.result).Text(t.error);
}

void WriteTaskProgress(const TaskRecord& t, Fields& f) {
  f.Int(t.id).Text(TaskStateName(t.state)).Int(t.attempts).Int(t.not_before).Text(t.lease_owner)
      .Int(t.lease_expires_at).Int(t.started_at).Int(t.finished_at).Text(t.result).Text(t.error);
}

Result<AuditEntry> NextAuditEntry(int64_t head_seq, std::string head_hash, const Clock& clock, const AuditEvent& event) {
  AuditEntry e;
  e.seq = head_seq + 1;
  e.prev_hash = std::move(head_hash);
  e.timestamp = clock.NowMicros();
  e.event = WithAuthenticatedUser(event);
  if (e.event.details.is_null()) e.event.details = Json::object();
  ALMANAC_ASSIGN_OR_RETURN(e.hash, AuditEntryHash(e));
  return e;
}

std::vector<MetricPoint> LatestPointPerKey(const std::vector<MetricPoint>& points) {
  std::map<std::string_view, const MetricPoint*> latest;
  for (const auto& p : points) {
    const MetricPoint*& l = latest[p.key];
    if (l == nullptr || std::tie(p.step, p.timestamp) >= std::tie(l->step, l->timestamp)) l = &p;
  }
  std::vector<MetricPoint> out;
  out.reserve(latest.size());
  for (const auto& [key, p] : latest) out.push_back(*p);
  return out;
}

std::vector<RunRecord> RunsInIdOrder(const std::vector<std::string>& ids, std::vector<RunRecord> rows) {
  std::map<std::string, size_t> by_id;  // own keys: the records are moved out below
  for (size_t i = 0; i < rows.size(); ++i) by_id.emplace(rows[i].id, i);
  std::vector<RunRecord> out;
  out.reserve(rows.size());
  for (const auto& id : ids) {
    auto it = by_id.find(id);
    if (it == by_id.end()) continue;
    out.push_back(std::move(rows[it->second]));
    by_id.erase(it);  // a repeated id is returned once
  }
  return out;
}

}  // namespace almanac::store
