// The registry and tracking endpoints: GET /v1/models, /v1/models/{name}, its versions,
// /v1/runs/{id}, /v1/lineage/{name}/{version}, and the stage changes (promote, approve,
// reject), each acting as the token's user.
#include "almanac/registry.h"

#include "serve/api_common.h"

namespace almanac::serve {
namespace {

using api::Fields;
using api::Send;
using api::TimestampJson;
using api::VersionParam;

Json VersionJson(const store::ModelVersionRecord& v) {
  return {{"version", v.version},
          {"stage", std::string(store::StageName(v.stage))},
          {"run_id", v.run_id},
          {"snapshot_id", v.snapshot_id},
          {"metrics", v.metrics},
          {"description", v.description},
          {"created_at", TimestampJson(v.created_at)},
          {"created_by", v.created_by},
          {"stage_changed_at", TimestampJson(v.stage_changed_at)},
          {"package", {{"name", v.artifact_name}, {"sha256", v.artifact_sha256}}}};
}

Json RequestJson(const store::PromotionRequestRecord& r) {
  return {{"id", r.id},
          {"version", r.version},
          {"target", std::string(store::StageName(r.target))},
          {"requested_by", r.requested_by},
          {"requested_at", TimestampJson(r.requested_at)},
          {"reason", r.reason},
          {"status", std::string(store::RequestStatusName(r.status))},
          {"decided_by", r.decided_by},
          {"decided_at", TimestampJson(r.decided_at)},
          {"decision_reason", r.decision_reason}};
}

Json ServedJson(const ServableManager& manager, const std::string& model) {
  Json served = Json::array();
  for (const auto& s : manager.Statuses()) {
    if (s.model != model) continue;
    if (s.state == ServableState::kDisabled) continue;
    Json e = {{"version", s.version},
              {"state", std::string(ServableStateName(s.state))},
              {"labels", s.labels},
              {"since", TimestampJson(s.since)}};
    if (!s.error.empty()) e["error"] = s.error;
    served.push_back(e);
  }
  return served;
}

}  // namespace

Status HttpApi::Models(ApiCall& call) const {
  const std::string& rid = call.req.request_id;
  HttpResponse& res = call.res;
  registry::Registry reg(*ctx_.store, *ctx_.clock);
  ALMANAC_ASSIGN_OR_RETURN(auto models, reg.ListModels());
  Json a = Json::array();
  for (const auto& m : models) {
    ALMANAC_ASSIGN_OR_RETURN(auto versions, reg.ListVersions(m.name));
    Json prod = nullptr, staging = nullptr;
    for (const auto& v : versions) {
      if (v.stage == store::Stage::kProduction) prod = v.version;
      if (v.stage == store::Stage::kStaging) staging = v.version;
    }
    a.push_back({{"name", m.name},
                 {"owner", m.owner},
                 {"description", m.description},
                 {"four_eyes", m.policy.value("four_eyes", true)},
                 {"production", prod},
                 {"staging", staging},
                 {"versions", versions.size()},
                 {"served", ServedJson(*ctx_.manager, m.name)}});
  }
  Send(res, {{"models", a}}, rid);
  return Status::Ok();
}

Status HttpApi::Model(ApiCall& call) const {
  const std::vector<std::string>& params = call.params;
  const std::string& rid = call.req.request_id;
  HttpResponse& res = call.res;
  store::Store& st = *ctx_.store;
  registry::Registry reg(*ctx_.store, *ctx_.clock);
  ALMANAC_RETURN_IF_ERROR(ValidateName(params[0], "model name"));
  ALMANAC_ASSIGN_OR_RETURN(auto m, reg.GetModel(params[0]));
  ALMANAC_ASSIGN_OR_RETURN(auto requests, st.metadata().Transact<std::vector<store::PromotionRequestRecord>>(
                                              [&](store::MetadataTxn& t) { return t.ListRequests(params[0]); }));
  Json reqs = Json::array();
  for (const auto& r : requests) reqs.push_back(RequestJson(r));
  Send(res,
       {{"name", m.name},
        {"owner", m.owner},
        {"description", m.description},
        {"policy", m.policy},
        {"card", m.card},
        {"created_at", TimestampJson(m.created_at)},
        {"created_by", m.created_by},
        {"promotion_requests", reqs},
        {"served", ServedJson(*ctx_.manager, m.name)}},
       rid);
  return Status::Ok();
}

Status HttpApi::ModelVersions(ApiCall& call) const {
  const std::vector<std::string>& params = call.params;
  const std::string& rid = call.req.request_id;
  HttpResponse& res = call.res;
  registry::Registry reg(*ctx_.store, *ctx_.clock);
  ALMANAC_RETURN_IF_ERROR(ValidateName(params[0], "model name"));
  ALMANAC_ASSIGN_OR_RETURN(auto versions, reg.ListVersions(params[0]));
  Json a = Json::array();
  for (const auto& v : versions) a.push_back(VersionJson(v));
  Send(res, {{"model", params[0]}, {"versions", a}}, rid);
  return Status::Ok();
}

Status HttpApi::Run(ApiCall& call) const {
  const std::vector<std::string>& params = call.params;
  const std::string& rid = call.req.request_id;
  HttpResponse& res = call.res;
  store::Store& st = *ctx_.store;
  Json j;
  ALMANAC_RETURN_IF_ERROR(st.metadata().Run([&](store::MetadataTxn& t) -> Status {
    ALMANAC_ASSIGN_OR_RETURN(store::RunRecord r, t.GetRun(params[0]));
    ALMANAC_ASSIGN_OR_RETURN(auto ps, t.GetParams(r.id));
    ALMANAC_ASSIGN_OR_RETURN(auto ms, t.GetMetrics(r.id));
    ALMANAC_ASSIGN_OR_RETURN(auto tags, t.GetTags(r.id));
    ALMANAC_ASSIGN_OR_RETURN(auto arts, t.GetArtifacts(r.id));
    j = {{"id", r.id},
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
    j["params"] = Json::object();
    for (const auto& [k, v] : ps) j["params"][k] = v;
    j["metrics"] = Json::object();
    for (const auto& m : ms) j["metrics"][m.key] = m.value;  // ordered by step: the last wins
    j["tags"] = Json::object();
    for (const auto& [k, v] : tags) j["tags"][k] = v;
    j["artifacts"] = Json::array();
    for (const auto& a : arts)
      j["artifacts"].push_back({{"name", a.name}, {"kind", a.kind}, {"sha256", a.sha256}, {"size", a.size}});
    return Status::Ok();
  }));
  Send(res, j, rid);
  return Status::Ok();
}

Status HttpApi::Lineage(ApiCall& call) const {
  const std::vector<std::string>& params = call.params;
  const std::string& rid = call.req.request_id;
  HttpResponse& res = call.res;
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
  Send(res,
       {{"model", l.model.name},
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
        {"snapshot", l.snapshot
                         ? Json({{"id", l.snapshot->id},
                                 {"name", l.snapshot->name},
                                 {"as_of", l.snapshot->as_of ? Json(l.snapshot->as_of->ToString()) : Json(nullptr)}})
                         : Json(nullptr)},
        {"vintages", vintages},
        {"artifacts", artifacts},
        {"approvals", approvals},
        {"audit", audit}},
       rid);
  return Status::Ok();
}

Status HttpApi::ChangeStage(ApiCall& call) const {
  const std::vector<std::string>& params = call.params;
  const std::string& rid = call.req.request_id;
  HttpResponse& res = call.res;
  registry::Registry reg(*ctx_.store, *ctx_.clock);
  const Principal& who = call.who;
  const HttpRequest& req = call.req;
  ALMANAC_RETURN_IF_ERROR(ValidateName(params[0], "model name"));
  ALMANAC_ASSIGN_OR_RETURN(int64_t version, VersionParam(params[1]));
  const bool promote = call.route == RouteId::kPromote;
  ALMANAC_ASSIGN_OR_RETURN(
      Fields f,
      Fields::Parse(req.body, promote ? std::vector<std::string>{"to", "reason"} : std::vector<std::string>{"reason"},
                    /*allow_empty=*/true));
  std::string reason;
  if (f.Has("reason")) {
    ALMANAC_ASSIGN_OR_RETURN(reason, f.String("reason"));
  }
  if (reason.size() > 4096) return InvalidArgumentError("reason is longer than 4096 characters");
  // The token's user is the actor: the registry audits every change under that name, and
  // four-eyes compares it with the requester's.
  Result<registry::PromotionResult> r = InternalError("unreachable");
  if (promote) {
    store::Stage target = store::Stage::kProduction;
    if (f.Has("to")) {
      ALMANAC_ASSIGN_OR_RETURN(std::string to, f.String("to"));
      ALMANAC_ASSIGN_OR_RETURN(target, store::ParseStage(to));
    }
    r = reg.Promote(params[0], version, target, who.user, reason);
  } else if (call.route == RouteId::kApprove) {
    r = reg.Approve(params[0], version, who.user, reason);
  } else {
    r = reg.Reject(params[0], version, who.user, reason);
  }
  if (!r.ok()) return r.status();
  Json j = {{"model", params[0]},
            {"version", r->version.version},
            {"stage", std::string(store::StageName(r->version.stage))},
            {"applied", r->applied},
            {"needs_approval", r->needs_approval},
            {"actor", who.user},
            {"request", r->request.id != 0 ? RequestJson(r->request) : Json(nullptr)},
            {"archived_version", r->replaced ? Json(r->replaced->version) : Json(nullptr)}};
  Send(res, j, rid, r->needs_approval ? 202 : 200);
  return Status::Ok();
}

}  // namespace almanac::serve
