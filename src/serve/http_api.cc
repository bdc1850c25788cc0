// Routing, authorization and the probes of the HTTP API. The endpoint groups are in
// api_forecast.cc, api_scenarios.cc, api_data.cc and api_registry.cc.
#include "serve/http_api.h"

#include <algorithm>
#include <map>

#include "serve/api_common.h"
#include "serve/json_out.h"

namespace almanac::serve {
namespace {

constexpr size_t kMaxTarget = 4096;
constexpr size_t kMaxSegment = 256;

bool SafePathChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == ':' || c == '@' || c == '-';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Printable(char c) {
  if (c >= 0x21 && c < 0x7f) return std::string("'") + c + "'";
  static const char* const kHex = "0123456789abcdef";
  const auto u = static_cast<unsigned char>(c);
  return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 15];
}

Result<std::string> PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    const int hi = i + 1 < s.size() ? HexValue(s[i + 1]) : -1;
    const int lo = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) return InvalidArgumentError("bad percent escape in the URL");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// Splits "a=1&b=2" (percent-decoded) and refuses keys outside `allowed`.
Result<std::map<std::string, std::string>> ParseQuery(std::string_view q, const std::vector<std::string>& allowed) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start < q.size()) {
    size_t amp = q.find('&', start);
    if (amp == std::string_view::npos) amp = q.size();
    std::string_view item = q.substr(start, amp - start);
    start = amp + 1;
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    ALMANAC_ASSIGN_OR_RETURN(std::string k, PercentDecode(item.substr(0, eq)));
    std::string v;
    if (eq != std::string_view::npos) {
      ALMANAC_ASSIGN_OR_RETURN(v, PercentDecode(item.substr(eq + 1)));
    }
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
      return InvalidArgumentError("unknown query parameter " + QuoteForMessage(k) +
                                  (allowed.empty() ? std::string(" (this endpoint takes none)") : Hint(k, allowed)));
    out[k] = v;
  }
  return out;
}

}  // namespace

// ------------------------------------------------------------------------------ routing

// One row per endpoint: method, path template, who may call it, whether it blocks (reads the
// store or refits: a worker thread), the handler, and the query parameters it takes.
const std::vector<RouteInfo>& HttpApi::Routes() {
  using P = Permission;
  static const std::vector<RouteInfo> kRoutes = {
      {RouteId::kForecast, "POST", "/v1/forecast", P::kForecast, false, &HttpApi::Forecast},
      {RouteId::kPredict, "POST", "/v1/models/{name}/predict", P::kPredict, true, &HttpApi::Predict},
      {RouteId::kScenarios, "POST", "/v1/scenarios", P::kPredict, true, &HttpApi::Scenarios},
      {RouteId::kSeriesList, "GET", "/v1/series", P::kRead, true, &HttpApi::SeriesList},
      {RouteId::kSeries, "GET", "/v1/series/{key}", P::kRead, true, &HttpApi::Series, {"as_of"}},
      {RouteId::kSeriesVintages, "GET", "/v1/series/{key}/vintages", P::kRead, true, &HttpApi::SeriesVintages},
      {RouteId::kModels, "GET", "/v1/models", P::kRead, true, &HttpApi::Models},
      {RouteId::kModel, "GET", "/v1/models/{name}", P::kRead, true, &HttpApi::Model},
      {RouteId::kModelVersions, "GET", "/v1/models/{name}/versions", P::kRead, true, &HttpApi::ModelVersions},
      {RouteId::kRun, "GET", "/v1/runs/{id}", P::kRead, true, &HttpApi::Run},
      {RouteId::kLineage, "GET", "/v1/lineage/{name}/{version}", P::kRead, true, &HttpApi::Lineage},
      {RouteId::kIngest, "POST", "/v1/ingest", P::kIngest, true, &HttpApi::Ingest, {"source"}},
      {RouteId::kPromote, "POST", "/v1/models/{name}/versions/{version}/promote", P::kPromote, true,
       &HttpApi::ChangeStage},
      {RouteId::kApprove, "POST", "/v1/models/{name}/versions/{version}/approve", P::kDecide, true,
       &HttpApi::ChangeStage},
      {RouteId::kReject, "POST", "/v1/models/{name}/versions/{version}/reject", P::kDecide, true,
       &HttpApi::ChangeStage},
      {RouteId::kHealthz, "GET", "/healthz", P::kPublic, false, &HttpApi::Healthz},
      {RouteId::kReadyz, "GET", "/readyz", P::kPublic, false, &HttpApi::Readyz},
      {RouteId::kMetrics, "GET", "/metrics", P::kPublic, false, &HttpApi::Metrics},
      {RouteId::kOpenApi, "GET", "/openapi.json", P::kPublic, false, &HttpApi::OpenApi},
  };
  return kRoutes;
}

Status SplitTarget(std::string_view target, std::vector<std::string>* segments, std::string* query) {
  segments->clear();
  query->clear();
  if (target.size() > kMaxTarget)
    return InvalidArgumentError("the request target is longer than " + std::to_string(kMaxTarget) + " bytes");
  if (target.empty() || target[0] != '/') return InvalidArgumentError("the request target must be an absolute path");
  const size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  if (q != std::string_view::npos) *query = std::string(target.substr(q + 1));
  if (path == "/") return Status::Ok();
  size_t start = 1;
  for (;;) {
    size_t slash = path.find('/', start);
    std::string_view raw = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (raw.empty()) return InvalidArgumentError("empty path segment in " + QuoteForMessage(path));
    ALMANAC_ASSIGN_OR_RETURN(std::string seg, PercentDecode(raw));
    if (seg.size() > kMaxSegment)
      return InvalidArgumentError("a path segment is longer than " + std::to_string(kMaxSegment) + " bytes");
    if (seg == "." || seg == "..") return InvalidArgumentError("'.' and '..' are not allowed in paths");
    for (char c : seg)
      if (!SafePathChar(c))
        return InvalidArgumentError("invalid character " + Printable(c) + " in path segment " +
                                    QuoteForMessage(seg, 40) + " (allowed: letters, digits and _ . : @ -)");
    segments->push_back(std::move(seg));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
    if (start == path.size()) return InvalidArgumentError("empty path segment in " + QuoteForMessage(path));
  }
  return Status::Ok();
}

void HttpApi::Error(const Status& status, const std::string& request_id, HttpResponse& res, bool request_too_large) {
  res.status = HttpStatusFor(status, request_too_large);
  res.content_type = "application/json";
  res.cache_hit = false;
  std::string body = "{\"code\":";
  json_out::String(body, StatusCodeName(status.code()));
  body += ",\"message\":";
  json_out::String(body, status.message());
  body += ",\"request_id\":";
  json_out::String(body, request_id);
  body += '}';
  res.body = std::move(body);
  if (res.status == 401) res.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"almanac\"");
}

HttpApi::Disposition HttpApi::Handle(const HttpRequest& req, HttpResponse& res, bool may_block) const {
  try {
    std::vector<std::string> segs;
    std::string query;
    Status split = SplitTarget(req.target, &segs, &query);
    if (!split.ok()) {
      Error(split, req.request_id, res);
      return Disposition::kDone;
    }
    // Match the path against every template, then the method.
    const RouteInfo* match = nullptr;
    std::vector<std::string> params;
    std::string allow;
    // Templates split once: {"v1", "models", "{name}", ...}.
    static const std::vector<std::vector<std::string>> kTemplates = [] {
      std::vector<std::vector<std::string>> out;
      for (const auto& r : Routes()) {
        std::vector<std::string> tpl;
        for (size_t s = 1; s < r.path.size();) {
          size_t e = r.path.find('/', s);
          if (e == std::string_view::npos) e = r.path.size();
          tpl.emplace_back(r.path.substr(s, e - s));
          s = e + 1;
        }
        out.push_back(std::move(tpl));
      }
      return out;
    }();
    for (size_t ri = 0; ri < Routes().size(); ++ri) {
      const RouteInfo& r = Routes()[ri];
      const std::vector<std::string>& tpl = kTemplates[ri];
      if (tpl.size() != segs.size()) continue;
      std::vector<std::string> p;
      bool ok = true;
      for (size_t i = 0; i < tpl.size() && ok; ++i) {
        if (!tpl[i].empty() && tpl[i][0] == '{')
          p.push_back(segs[i]);
        else
          ok = tpl[i] == segs[i];
      }
      if (!ok) continue;
      if (r.method != req.method) {
        allow += (allow.empty() ? "" : ", ") + std::string(r.method);
        continue;
      }
      match = &r;
      params = std::move(p);
      break;
    }
    if (match == nullptr) {
      if (!allow.empty()) {
        res.headers.emplace_back("Allow", allow);
        Error(Status(StatusCode::kInvalidArgument,
                     "method " + std::string(req.method) + " is not allowed here (allowed: " + allow + ")"),
              req.request_id, res);
        res.status = 405;
        return Disposition::kDone;
      }
      Error(NotFoundError("no such endpoint: " + std::string(req.method) + " " +
                          QuoteForMessage(req.target.substr(0, req.target.find('?')), 100) + " (see /openapi.json)"),
            req.request_id, res);
      return Disposition::kDone;
    }
    res.route = match->path;

    Principal who;
    if (match->permission != Permission::kPublic) {
      if (ctx_.no_auth) {
        who = {ctx_.no_auth_user, Role::kAdmin, ""};
      } else {
        std::string why;
        switch (ctx_.auth->Check(req.authorization, &who, &why)) {
          case Authenticator::Outcome::kOk:
            break;
          case Authenticator::Outcome::kUnauthenticated:
            Error(UnauthenticatedError(why), req.request_id, res);
            return Disposition::kDone;
          case Authenticator::Outcome::kNeedsStore: {
            if (!may_block) return Disposition::kNeedsWorker;
            auto p = ctx_.auth->Lookup(req.authorization);
            if (!p.ok()) {
              Error(p.status().code() == StatusCode::kUnauthenticated
                        ? p.status()
                        : UnavailableError("cannot check the token: " + p.status().message()),
                    req.request_id, res);
              return Disposition::kDone;
            }
            who = *p;
          }
        }
      }
      res.user = who.user;
      if (!RoleAllows(who.role, match->permission)) {
        std::string roles;
        for (Role r : {Role::kViewer, Role::kAnalyst, Role::kModeler, Role::kApprover, Role::kAdmin})
          if (RoleAllows(r, match->permission)) roles += (roles.empty() ? "" : ", ") + std::string(RoleName(r));
        Error(PermissionDeniedError("role " + std::string(RoleName(who.role)) + " of user " + who.user + " may not " +
                                    std::string(PermissionName(match->permission)) + " (needs " + roles + ")"),
              req.request_id, res);
        return Disposition::kDone;
      }
    }
    if (match->blocking && !may_block) return Disposition::kNeedsWorker;
    auto q = ParseQuery(query, match->query);
    if (!q.ok()) {
      Error(q.status(), req.request_id, res);
      return Disposition::kDone;
    }
    ApiCall call{match->id, req, res, std::move(params), std::move(*q), std::move(who), may_block};
    const Status s = (this->*match->handler)(call);
    if (call.needs_worker) return Disposition::kNeedsWorker;
    if (!s.ok()) Error(s, req.request_id, res);
    return Disposition::kDone;
  } catch (const std::exception& e) {
    // Never a stack trace or exception text from a library in a response; the log has it.
    if (ctx_.logger != nullptr)
      ctx_.logger->Error(std::string("internal error: ") + e.what(),
                         {{"trace.id", req.trace_id}, {"span.id", req.span_id}, {"http.request.id", req.request_id}});
    Error(InternalError("internal error (request " + req.request_id + ")"), req.request_id, res);
    return Disposition::kDone;
  }
}

// ------------------------------------------------------------------------------- probes

Status HttpApi::Healthz(ApiCall& call) const {
  call.res.body = "{\"status\":\"ok\"}";
  return Status::Ok();
}

Status HttpApi::Readyz(ApiCall& call) const {
  HttpResponse& res = call.res;
  const std::string& rid = call.req.request_id;
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
  api::Send(res, j, rid, store_ok && models_ok ? 200 : 503);
  return Status::Ok();
}

Status HttpApi::Metrics(ApiCall& call) const {
  call.res.body = ctx_.metrics->Exposition();
  call.res.content_type = monitor::MetricRegistry::kContentType;
  return Status::Ok();
}

Status HttpApi::OpenApi(ApiCall& call) const {
  call.res.body = std::string(ctx_.openapi_json);
  return Status::Ok();
}

}  // namespace almanac::serve
