// The tracking endpoints: GET /v1/runs (the runs list, as `almanac runs list`), /v1/runs/{id}
// (a run's params, metrics, tags and artifacts) and /v1/lineage/{name}/{version} (vintages -> snapshot -> run -> package -> approvals, and
// the audit events of the version).
#include <optional>

#include "almanac/registry.h"
#include "almanac/tracking.h"

#include "serve/api_common.h"

namespace almanac::serve {
namespace {

using api::JsonResponse;
using api::RequestJson;
using api::TimestampJson;
using api::VersionParam;

// GET /v1/runs/{id} returns at most the last this many bytes of a run's log.
constexpr size_t kRunLogMaxBytes = 64 * 1024;

// The last `max` bytes of `log`, starting at a line boundary (so no line, nor a UTF-8
// sequence, is cut); `*truncated` says whether anything was dropped.
std::string LogTail(const std::string& log, size_t max, bool* truncated) {
  *truncated = log.size() > max;
  if (!*truncated) return log;
  size_t from = log.size() - max;
  if (log[from - 1] != '\n') {
    const size_t nl = log.find('\n', from);
    from = nl == std::string::npos ? log.size() : nl + 1;
  }
  return log.substr(from);
}

// The runs list: the default and largest ?limit.
constexpr int64_t kRunsDefaultLimit = 100;
constexpr int64_t kRunsMaxLimit = 1000;

// A run's own fields, as GET /v1/runs/{id} and each entry of GET /v1/runs show them.
Json RunJson(const store::RunRecord& r) {
  return {{"id", r.id},
          {"experiment", r.experiment},
          {"pipeline", r.pipeline},
          {"status", std::string(store::RunStatusName(r.status))},
          {"start", TimestampJson(r.start_time)},
          {"end", TimestampJson(r.end_time)},
          {"user", r.user},
          {"host", r.host},
          {"pipeline_sha256", r.pipeline_hash},
          {"snapshot_id", r.snapshot_id},
          {"git_commit", r.git_commit},
          {"almanac_version", r.almanac_version},
          {"seed", r.seed},
          {"error", r.error},
          {"reproduces", r.reproduces}};
}

}  // namespace

// ?experiment=&pipeline=&status=&limit=: newest first (by start time), at most `limit`
// (default 100, at most 1000). Read-only: unlike `almanac runs list`, runs whose process
// died are not marked killed here (that is a write); they show as the store has them.
Result<HttpResponse> HttpApi::Runs(ApiCall& call) const {
  store::RunFilter f;
  if (auto it = call.query.find("experiment"); it != call.query.end()) f.experiment = it->second;
  if (auto it = call.query.find("pipeline"); it != call.query.end()) f.pipeline = it->second;
  if (auto it = call.query.find("status"); it != call.query.end() && !it->second.empty()) {
    auto s = store::ParseRunStatus(it->second);
    if (!s.ok())
      return InvalidArgumentError("status " + QuoteForMessage(it->second, 40) +
                                  " is not a run status (running, finished, failed, killed)");
    f.status = *s;
  }
  ALMANAC_ASSIGN_OR_RETURN(int64_t limit, api::IntParam(call.query, "limit", kRunsDefaultLimit, 1, kRunsMaxLimit));
  f.limit = static_cast<int>(limit);
  Json runs = Json::array();
  ALMANAC_RETURN_IF_ERROR(ctx_.store->metadata().Run([&](store::MetadataTxn& t) -> Status {
    ALMANAC_ASSIGN_OR_RETURN(auto list, t.ListRuns(f));
    for (const auto& r : list) runs.push_back(RunJson(r));
    return Status::Ok();
  }));
  Json j = {{"runs", std::move(runs)}};
  return JsonResponse(j, call.req.request_id);
}

Result<HttpResponse> HttpApi::Run(ApiCall& call) const {
  const std::vector<std::string>& params = call.params;
  const std::string& rid = call.req.request_id;
  store::Store& st = *ctx_.store;
  Json j;
  std::optional<store::ArtifactRecord> timeline, log;
  ALMANAC_RETURN_IF_ERROR(st.metadata().Run([&](store::MetadataTxn& t) -> Status {
    timeline.reset();
    log.reset();
    ALMANAC_ASSIGN_OR_RETURN(store::RunRecord r, t.GetRun(params[0]));
    ALMANAC_ASSIGN_OR_RETURN(auto ps, t.GetParams(r.id));
    ALMANAC_ASSIGN_OR_RETURN(auto ms, t.GetMetrics(r.id));
    ALMANAC_ASSIGN_OR_RETURN(auto tags, t.GetTags(r.id));
    ALMANAC_ASSIGN_OR_RETURN(auto arts, t.GetArtifacts(r.id));
    j = RunJson(r);
    j["params"] = Json::object();
    for (const auto& [k, v] : ps) j["params"][k] = v;
    j["metrics"] = Json::object();
    for (const auto& m : ms) j["metrics"][m.key] = m.value;  // ordered by step: the last wins
    j["tags"] = Json::object();
    for (const auto& [k, v] : tags) j["tags"][k] = v;
    j["artifacts"] = Json::array();
    for (const auto& a : arts) {
      j["artifacts"].push_back({{"name", a.name}, {"kind", a.kind}, {"sha256", a.sha256}, {"size", a.size}});
      if (a.kind == tracking::kTimelineArtifact) timeline = a;
      if (a.kind == tracking::kRunLogArtifact) log = a;
    }
    return Status::Ok();
  }));
  // The steps on a timeline and the progress log (issue 20), when the run recorded them (runs
  // from before they existed have neither). A record that cannot be read (lost, altered) is
  // named in `records_error` rather than failing the whole page.
  if (ctx_.artifacts != nullptr) {
    std::vector<std::string> errors;
    if (timeline) {
      auto bytes = ctx_.artifacts->Get(timeline->name, timeline->sha256);
      Result<Json> parsed = bytes.ok() ? ParseJson(*bytes) : Result<Json>(bytes.status());
      if (parsed.ok() && parsed->is_array()) j["timeline"] = std::move(*parsed);
      else errors.push_back("timeline: " + (parsed.ok() ? std::string("not a JSON array") : parsed.status().message()));
    }
    if (log) {
      auto bytes = ctx_.artifacts->Get(log->name, log->sha256);
      if (bytes.ok()) {
        bool truncated = false;
        j["log"] = LogTail(*bytes, kRunLogMaxBytes, &truncated);
        j["log_truncated"] = truncated;
      } else {
        errors.push_back("log: " + bytes.status().message());
      }
    }
    if (!errors.empty()) {
      std::string all;
      for (const auto& e : errors) all += (all.empty() ? "" : "; ") + e;
      j["records_error"] = all;
    }
  }
  return JsonResponse(j, rid);
}

Result<HttpResponse> HttpApi::Lineage(ApiCall& call) const {
  const std::vector<std::string>& params = call.params;
  const std::string& rid = call.req.request_id;
  registry::Registry reg(*ctx_.store, *ctx_.clock);
  ALMANAC_RETURN_IF_ERROR(ValidateName(params[0], "model name"));
  ALMANAC_ASSIGN_OR_RETURN(int64_t version, VersionParam(params[1]));
  ALMANAC_ASSIGN_OR_RETURN(registry::Lineage l, reg.GetLineage(params[0], version));
  Json vintages = Json::array();
  for (const auto& v : l.vintages)
    vintages.push_back({{"series", v.series_key},
                        {"vintage", v.id},
                        {"realtime_start", v.realtime_start.ToString()},
                        {"loaded_at", TimestampJson(v.loaded_at)},
                        {"source", v.source},
                        {"source_sha256", v.source_hash}});
  Json approvals = Json::array();
  for (const auto& a : l.approvals) approvals.push_back(RequestJson(a));
  Json artifacts = Json::array();
  for (const auto& a : l.artifacts) artifacts.push_back({{"kind", a.kind}, {"name", a.name}, {"sha256", a.sha256}});
  Json audit = Json::array();
  for (const auto& e : l.audit)
    audit.push_back({{"seq", e.seq},
                     {"time", TimestampJson(e.timestamp)},
                     {"actor", e.event.actor},
                     {"action", e.event.action},
                     {"object", e.event.object_type + ":" + e.event.object_id},
                     {"hash", e.hash}});
  Json j = {{"model", l.model.name},
            {"version", l.version.version},
            {"stage", std::string(store::StageName(l.version.stage))},
            {"package", {{"name", l.version.artifact_name}, {"sha256", l.version.artifact_sha256}}},
            {"run",
             {{"id", l.run.id},
              {"pipeline", l.run.pipeline},
              {"pipeline_sha256", l.run.pipeline_hash},
              {"git_commit", l.run.git_commit},
              {"almanac_version", l.run.almanac_version},
              {"user", l.run.user},
              {"host", l.run.host},
              {"start", TimestampJson(l.run.start_time)}}},
            {"snapshot",
             l.snapshot ? Json({{"id", l.snapshot->id},
                                {"name", l.snapshot->name},
                                {"as_of", l.snapshot->as_of ? Json(l.snapshot->as_of->ToString()) : Json(nullptr)}})
                        : Json(nullptr)},
            {"vintages", vintages},
            {"artifacts", artifacts},
            {"approvals", approvals},
            {"audit", audit}};
  return JsonResponse(j, rid);
}

}  // namespace almanac::serve
