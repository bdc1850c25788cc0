#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include <random>

#include "almanac/tracking.h"
#include "almanac/version.h"

namespace almanac::tracking {

std::string NewRunId(const Clock& clock) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[32];
  std::snprintf(buf, sizeof(buf), "r%012llx%04x", static_cast<unsigned long long>(clock.NowMicros() / 1000),
                static_cast<unsigned>(rng() & 0xffff));
  return buf;
}

std::string HostName() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) return "unknown";
  return buf;
}

Result<store::RunRecord> Tracker::StartRun(const RunContext& c) {
  store::RunRecord r;
  r.id = NewRunId(clock_);
  r.experiment = !c.experiment.empty() ? c.experiment : (!c.pipeline.empty() ? c.pipeline : "default");
  r.pipeline = c.pipeline;
  r.status = store::RunStatus::kRunning;
  r.start_time = clock_.NowMicros();
  r.user = c.user.empty() ? "unknown" : c.user;
  r.host = c.host.empty() ? HostName() : c.host;
  r.pipeline_hash = c.pipeline_hash;
  r.snapshot_id = c.snapshot_id;
  r.git_commit = c.git_commit;
  r.almanac_version = std::string(ALMANAC_VERSION) + "+" + ALMANAC_GIT_COMMIT;
  r.seed = c.seed;
  r.reproduces = c.reproduces;
  ALMANAC_RETURN_IF_ERROR(metadata_.Run([&](store::MetadataTxn& t) -> Status {
    // The experiment's record (its id for the MLflow API) exists from its first run on.
    auto e = t.GetExperimentByName(r.experiment);
    if (!e.ok() && e.status().code() != StatusCode::kNotFound) return e.status();
    if (!e.ok()) {
      store::ExperimentRecord x;
      x.name = r.experiment;
      x.created_at = x.updated_at = r.start_time;
      ALMANAC_RETURN_IF_ERROR(t.InsertExperiment(x).status());
    }
    ALMANAC_RETURN_IF_ERROR(t.InsertRun(r));
    ALMANAC_RETURN_IF_ERROR(t.SetTags(r.id, {{"almanac.pid", std::to_string(::getpid())}}));
    Json details = {{"experiment", r.experiment}, {"pipeline", r.pipeline}, {"pipeline_hash", r.pipeline_hash},
                    {"host", r.host}, {"almanac_version", r.almanac_version}, {"seed", r.seed}};
    if (!r.reproduces.empty()) details["reproduces"] = r.reproduces;
    return t.Audit({r.user, "run.start", "run", r.id, details}).status();
  }));
  return r;
}

Status Tracker::SetSnapshot(std::string_view run_id, std::string_view snapshot_id) {
  return metadata_.Run([&](store::MetadataTxn& t) -> Status {
    ALMANAC_ASSIGN_OR_RETURN(store::RunRecord r, t.GetRun(run_id));
    r.snapshot_id = std::string(snapshot_id);
    return t.UpdateRun(r);
  });
}

Status Tracker::LogParams(std::string_view run_id, const std::vector<std::pair<std::string, std::string>>& params) {
  return metadata_.Run([&](store::MetadataTxn& t) { return t.InsertParams(run_id, params); });
}

Status Tracker::LogMetrics(std::string_view run_id, std::vector<store::MetricPoint> points) {
  const int64_t now = clock_.NowMicros();
  for (auto& p : points)
    if (p.timestamp == 0) p.timestamp = now;
  return metadata_.Run([&](store::MetadataTxn& t) { return t.InsertMetrics(run_id, points); });
}

Status Tracker::SetTags(std::string_view run_id, const std::vector<std::pair<std::string, std::string>>& tags) {
  return metadata_.Run([&](store::MetadataTxn& t) { return t.SetTags(run_id, tags); });
}

Result<store::ArtifactRecord> Tracker::LogArtifact(std::string_view run_id, std::string_view name,
                                                   std::string_view bytes, std::string_view kind) {
  ALMANAC_ASSIGN_OR_RETURN(store::ArtifactRecord rec,
                           artifacts_.Put("runs/" + std::string(run_id) + "/" + std::string(name), bytes));
  rec.kind = std::string(kind);
  ALMANAC_RETURN_IF_ERROR(RecordArtifact(run_id, rec));
  return rec;
}

Status Tracker::RecordArtifact(std::string_view run_id, const store::ArtifactRecord& artifact) {
  return metadata_.Run([&](store::MetadataTxn& t) { return t.InsertArtifact(run_id, artifact); });
}

Status Tracker::FinishRun(std::string_view run_id, store::RunStatus status, std::string_view error) {
  return metadata_.Run([&](store::MetadataTxn& t) -> Status {
    ALMANAC_ASSIGN_OR_RETURN(store::RunRecord r, t.GetRun(run_id));
    if (r.status != store::RunStatus::kRunning)
      return FailedPreconditionError("run " + r.id + " has already ended (" + std::string(store::RunStatusName(r.status)) + ")");
    r.status = status;
    r.end_time = clock_.NowMicros();
    r.error = std::string(error);
    ALMANAC_RETURN_IF_ERROR(t.UpdateRun(r));
    Json details = {{"status", std::string(store::RunStatusName(status))}, {"snapshot_id", r.snapshot_id},
                    {"duration_ms", (r.end_time - r.start_time) / 1000}};
    if (!r.error.empty()) details["error"] = r.error;
    return t.Audit({r.user, status == store::RunStatus::kFinished ? "run.finish" : "run.fail", "run", r.id, details})
        .status();
  });
}

namespace {

// Sets a still-running run to killed and audits it (nothing when it ended meanwhile).
Status MarkKilled(store::MetadataStore& metadata, const Clock& clock, const std::string& run_id, const std::string& why,
                  const Json& details) {
  return metadata.Run([&](store::MetadataTxn& t) -> Status {
    ALMANAC_ASSIGN_OR_RETURN(store::RunRecord cur, t.GetRun(run_id));
    if (cur.status != store::RunStatus::kRunning) return Status::Ok();
    cur.status = store::RunStatus::kKilled;
    cur.end_time = clock.NowMicros();
    cur.error = why;
    ALMANAC_RETURN_IF_ERROR(t.UpdateRun(cur));
    return t.Audit({"almanac", "run.killed", "run", cur.id, details}).status();
  });
}

}  // namespace

Result<int> Tracker::KillRunsTagged(std::string_view key, std::string_view value, std::string_view why,
                                    const Json& details) {
  ALMANAC_ASSIGN_OR_RETURN(auto running, ListRuns({"", "", store::RunStatus::kRunning, 0}));
  int killed = 0;
  for (const auto& r : running) {
    using Tags = std::vector<std::pair<std::string, std::string>>;
    ALMANAC_ASSIGN_OR_RETURN(Tags tags, metadata_.Transact<Tags>([&](store::MetadataTxn& t) { return t.GetTags(r.id); }));
    bool match = false;
    for (const auto& [k, v] : tags) match = match || (k == key && v == value);
    if (!match) continue;
    ALMANAC_RETURN_IF_ERROR(MarkKilled(metadata_, clock_, r.id, std::string(why), details));
    ++killed;
  }
  return killed;
}

Result<int> Tracker::ReapDeadRuns() {
  const std::string host = HostName();
  ALMANAC_ASSIGN_OR_RETURN(auto running, ListRuns({"", "", store::RunStatus::kRunning, 0}));
  int reaped = 0;
  for (const auto& r : running) {
    if (r.host != host) continue;
    using Tags = std::vector<std::pair<std::string, std::string>>;
    ALMANAC_ASSIGN_OR_RETURN(Tags tags, metadata_.Transact<Tags>([&](store::MetadataTxn& t) { return t.GetTags(r.id); }));
    int64_t pid = 0;
    for (const auto& [k, v] : tags)
      if (k == "almanac.pid") pid = ParseInt(v).value_or(0);
    if (pid <= 0 || pid == ::getpid() || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    Status s = MarkKilled(metadata_, clock_, r.id,
                          "the process (pid " + std::to_string(pid) + ") ended without finishing the run",
                          {{"pid", pid}, {"host", host}});
    ALMANAC_RETURN_IF_ERROR(s);
    ++reaped;
  }
  return reaped;
}

Result<RunDetails> Tracker::GetRun(std::string_view run_id) {
  return metadata_.Transact<RunDetails>([&](store::MetadataTxn& t) -> Result<RunDetails> {
    RunDetails d;
    ALMANAC_ASSIGN_OR_RETURN(d.run, t.GetRun(run_id));
    ALMANAC_ASSIGN_OR_RETURN(d.params, t.GetParams(run_id));
    ALMANAC_ASSIGN_OR_RETURN(d.metrics, t.GetMetrics(run_id));
    ALMANAC_ASSIGN_OR_RETURN(d.tags, t.GetTags(run_id));
    ALMANAC_ASSIGN_OR_RETURN(d.artifacts, t.GetArtifacts(run_id));
    for (const auto& m : d.metrics) d.latest_metrics[m.key] = m.value;  // sorted by step
    return d;
  });
}

Result<std::vector<store::RunRecord>> Tracker::ListRuns(const store::RunFilter& filter) {
  return metadata_.Transact<std::vector<store::RunRecord>>([&](store::MetadataTxn& t) { return t.ListRuns(filter); });
}

Result<std::string> Tracker::ReadArtifact(const store::ArtifactRecord& artifact) {
  return artifacts_.Get(artifact.name, artifact.sha256);
}

}  // namespace almanac::tracking
