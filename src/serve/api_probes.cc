// The probes and documents: GET /healthz (the process answers), /readyz (the store reachable
// and every version the policy wants loaded), /metrics (Prometheus text) and /openapi.json.
// Public: no token needed.
#include "serve/api_common.h"

namespace almanac::serve {

Result<HttpResponse> HttpApi::Healthz(ApiCall&) const {
  HttpResponse res;
  res.body = "{\"status\":\"ok\"}";
  return res;
}

Result<HttpResponse> HttpApi::Readyz(ApiCall& call) const {
  auto [store_ok, store_error] = ctx_.store_status ? ctx_.store_status() : std::make_pair(true, std::string());
  const bool models_ok = ctx_.manager->Ready();
  Json models = Json::array();
  for (const auto& s : ctx_.manager->Statuses()) {
    if (s.state == ServableState::kDisabled) continue;
    Json e = {{"model", s.model},
              {"version", s.version},
              {"state", std::string(ServableStateName(s.state))},
              {"labels", s.labels}};
    if (!s.error.empty()) e["error"] = s.error;
    models.push_back(e);
  }
  Json j = {{"ready", store_ok && models_ok},
            {"store", store_ok ? Json({{"reachable", true}}) : Json({{"reachable", false}, {"error", store_error}})},
            {"models_loaded", models_ok},
            {"policy", FormatVersionPolicy(ctx_.manager->policy())},
            {"models", models}};
  HttpResponse res = api::JsonResponse(j, call.req.request_id, store_ok && models_ok ? 200 : 503);
  if (res.status != 200) {
    // Not an error body, but the access line says why (as for every answer >= 400).
    res.error_code = StatusCodeName(StatusCode::kUnavailable);
    res.error_message = !store_ok ? "not ready: the store is unreachable: " + store_error
                                  : "not ready: a version the policy selects is not loaded";
  }
  return res;
}

Result<HttpResponse> HttpApi::Metrics(ApiCall&) const {
  HttpResponse res;
  res.body = ctx_.metrics->Exposition();
  res.content_type = monitor::MetricRegistry::kContentType;
  return res;
}

Result<HttpResponse> HttpApi::OpenApi(ApiCall&) const {
  HttpResponse res;
  res.body = std::string(ctx_.openapi_json);
  return res;
}

}  // namespace almanac::serve
