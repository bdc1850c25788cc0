// The model endpoints: GET /v1/models, /v1/models/{name}, /v1/models/{name}/versions, and the
// stage changes (promote, approve, reject), each acting as the token's user.
#include "almanac/registry.h"

#include "serve/api_common.h"

namespace almanac::serve {
namespace {

using api::Fields;
using api::JsonResponse;
using api::RequestJson;
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

Result<HttpResponse> HttpApi::Models(ApiCall& call) const {
  const std::string& rid = call.req.request_id;
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
  return JsonResponse({{"models", a}}, rid);
}

Result<HttpResponse> HttpApi::Model(ApiCall& call) const {
  const std::vector<std::string>& params = call.params;
  const std::string& rid = call.req.request_id;
  store::Store& st = *ctx_.store;
  registry::Registry reg(*ctx_.store, *ctx_.clock);
  ALMANAC_RETURN_IF_ERROR(ValidateName(params[0], "model name"));
  ALMANAC_ASSIGN_OR_RETURN(auto m, reg.GetModel(params[0]));
  ALMANAC_ASSIGN_OR_RETURN(auto requests, st.metadata().Transact<std::vector<store::PromotionRequestRecord>>(
                                              [&](store::MetadataTxn& t) { return t.ListRequests(params[0]); }));
  Json reqs = Json::array();
  for (const auto& r : requests) reqs.push_back(RequestJson(r));
  return JsonResponse({{"name", m.name},
                       {"owner", m.owner},
                       {"description", m.description},
                       {"policy", m.policy},
                       {"card", m.card},
                       {"created_at", TimestampJson(m.created_at)},
                       {"created_by", m.created_by},
                       {"promotion_requests", reqs},
                       {"served", ServedJson(*ctx_.manager, m.name)}},
                      rid);
}

Result<HttpResponse> HttpApi::ModelVersions(ApiCall& call) const {
  const std::vector<std::string>& params = call.params;
  const std::string& rid = call.req.request_id;
  registry::Registry reg(*ctx_.store, *ctx_.clock);
  ALMANAC_RETURN_IF_ERROR(ValidateName(params[0], "model name"));
  ALMANAC_ASSIGN_OR_RETURN(auto versions, reg.ListVersions(params[0]));
  Json a = Json::array();
  for (const auto& v : versions) a.push_back(VersionJson(v));
  return JsonResponse({{"model", params[0]}, {"versions", a}}, rid);
}

Result<HttpResponse> HttpApi::ChangeStage(ApiCall& call) const {
  const std::vector<std::string>& params = call.params;
  const std::string& rid = call.req.request_id;
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
  return JsonResponse(j, rid, r->needs_approval ? 202 : 200);
}

}  // namespace almanac::serve
