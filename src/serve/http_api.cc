// Routing, authentication, authorization and error rendering of the HTTP API: the route
// table and the dispatcher. The handlers live in one file per route family (api_*.cc; the
// list is in http_api.h).
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
      {RouteId::kSeriesHistory, "GET", "/v1/series/{key}/history", P::kRead, true, &HttpApi::SeriesHistory, {"period"}},
      {RouteId::kSeriesVintageMatrix, "GET", "/v1/series/{key}/vintage-matrix", P::kRead, true,
       &HttpApi::SeriesVintageMatrix, {"limit"}},
      {RouteId::kSnapshot, "GET", "/v1/snapshots/{id}", P::kRead, true, &HttpApi::SnapshotContent},
      {RouteId::kModels, "GET", "/v1/models", P::kRead, true, &HttpApi::Models},
      {RouteId::kModel, "GET", "/v1/models/{name}", P::kRead, true, &HttpApi::Model},
      {RouteId::kModelVersions, "GET", "/v1/models/{name}/versions", P::kRead, true, &HttpApi::ModelVersions},
      {RouteId::kRuns, "GET", "/v1/runs", P::kRead, true, &HttpApi::Runs, {"experiment", "pipeline", "status", "limit"}},
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
      // The web console (api_ui.cc; its files under /ui/ are matched before this table).
      {RouteId::kAudit, "GET", "/v1/audit", P::kRead, true, &HttpApi::AuditLog, {"actor", "action", "object", "limit"}},
      {RouteId::kWhoami, "GET", "/v1/whoami", P::kRead, false, &HttpApi::Whoami},
      {RouteId::kSnapshots, "GET", "/v1/snapshots", P::kRead, true, &HttpApi::SnapshotList, {"limit"}},
      // Open Inference Protocol (KServe V2): its own error body ({"error": "..."}).
      {RouteId::kV2Server, "GET", "/v2", P::kPublic, false, &HttpApi::V2Server, {}, ErrorFormat::kV2},
      {RouteId::kV2Live, "GET", "/v2/health/live", P::kPublic, false, &HttpApi::V2Live, {}, ErrorFormat::kV2},
      {RouteId::kV2Ready, "GET", "/v2/health/ready", P::kPublic, false, &HttpApi::V2Ready, {}, ErrorFormat::kV2},
      {RouteId::kV2Model, "GET", "/v2/models/{name}", P::kRead, false, &HttpApi::V2Model, {}, ErrorFormat::kV2},
      {RouteId::kV2ModelVersion, "GET", "/v2/models/{name}/versions/{version}", P::kRead, false, &HttpApi::V2Model,
       {}, ErrorFormat::kV2},
      {RouteId::kV2ModelReady, "GET", "/v2/models/{name}/ready", P::kRead, false, &HttpApi::V2ModelReady, {},
       ErrorFormat::kV2},
      {RouteId::kV2ModelVersionReady, "GET", "/v2/models/{name}/versions/{version}/ready", P::kRead, false,
       &HttpApi::V2ModelReady, {}, ErrorFormat::kV2},
      {RouteId::kV2Infer, "POST", "/v2/models/{name}/infer", P::kForecast, false, &HttpApi::V2Infer, {},
       ErrorFormat::kV2},
      {RouteId::kV2InferVersion, "POST", "/v2/models/{name}/versions/{version}/infer", P::kForecast, false,
       &HttpApi::V2Infer, {}, ErrorFormat::kV2},
      // Investment risk (issue 24; api_risk.cc): a stress test, blocking (fits and simulates).
      {RouteId::kRiskPortfolio, "POST", "/v1/risk/portfolio", P::kPredict, true, &HttpApi::RiskPortfolio},
      // The as-of VaR backtest (issue 24; api_risk.cc), blocking (one fit and simulation per origin).
      {RouteId::kRiskVarBacktest, "POST", "/v1/risk/var-backtest", P::kPredict, true, &HttpApi::RiskVarBacktest},
      // Nowcasting (issue 25; api_nowcast.cc): reads runs and their artifacts, blocking.
      {RouteId::kNowcast, "GET", "/v1/nowcast/{model}", P::kPredict, true, &HttpApi::Nowcast, {"as_of"}},
  };
  // MLflow's tracking and registry API (api_mlflow.cc), under both of its prefixes.
  static const std::vector<RouteInfo> kAll = WithMlflowRoutes(kRoutes);
  return kAll;
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

HttpResponse HttpApi::Error(const Status& status, const std::string& request_id, bool request_too_large,
                            ErrorFormat format) {
  HttpResponse res;
  res.status = HttpStatusFor(status, request_too_large);
  res.error_code = StatusCodeName(status.code());
  res.error_message = status.message();
  std::string body;
  switch (format) {
    case ErrorFormat::kAlmanac:
      body = "{\"code\":";
      json_out::String(body, res.error_code);
      body += ",\"message\":";
      json_out::String(body, status.message());
      body += ",\"request_id\":";
      json_out::String(body, request_id);
      body += '}';
      break;
    case ErrorFormat::kV2:  // the Open Inference Protocol's error object (the id is in X-Request-Id)
      body = "{\"error\":";
      json_out::String(body, status.message());
      body += '}';
      break;
    case ErrorFormat::kMlflow:  // MLflow's {"error_code", "message"}: MlflowError below
      break;
  }
  res.body = std::move(body);
  if (res.status == 401) res.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"almanac\"");
  if (format == ErrorFormat::kMlflow) return MlflowError(status, res.status, std::move(res));
  return res;
}

ErrorFormat HttpApi::ErrorFormatFor(std::string_view target) {
  // First path segment -> the format its routes share (kAlmanac when they differ).
  static const std::map<std::string, ErrorFormat, std::less<>> kByPrefix = [] {
    std::map<std::string, ErrorFormat, std::less<>> out;
    for (const auto& r : Routes()) {
      const std::string_view first = r.path.substr(1, r.path.find('/', 1) - 1);
      auto [it, added] = out.emplace(std::string(first), r.error_format);
      if (!added && it->second != r.error_format) it->second = ErrorFormat::kAlmanac;
    }
    return out;
  }();
  if (target.empty() || target[0] != '/') return ErrorFormat::kAlmanac;
  const std::string_view first = target.substr(1, target.find_first_of("/?", 1) - 1);
  auto it = kByPrefix.find(first);
  return it == kByPrefix.end() ? ErrorFormat::kAlmanac : it->second;
}

HttpApi::Disposition HttpApi::Handle(const HttpRequest& req, HttpResponse& res, bool may_block) const {
  std::string_view route = "unmatched";
  std::string user;
  bool needs_worker = false;
  ErrorFormat format = ErrorFormat::kAlmanac;  // the matched route's; set by Dispatch
  Result<HttpResponse> r = InternalError("unreachable");
  try {
    r = Dispatch(req, may_block, &route, &user, &needs_worker, &format);
  } catch (const std::exception& e) {
    // Never a stack trace or exception text from a library in a response; the log has it.
    if (ctx_.logger != nullptr)
      ctx_.logger->Error(std::string("internal error: ") + e.what(),
                         {{"trace.id", req.trace_id}, {"span.id", req.span_id}, {"http.request.id", req.request_id}});
    r = InternalError("internal error (request " + req.request_id + ")");
    needs_worker = false;
  }
  if (needs_worker) return Disposition::kNeedsWorker;
  if (!r.ok()) {
    // Unmatched (or an unreadable path): the format of the family the path falls in.
    res = Error(r.status(), req.request_id, false, route == "unmatched" ? ErrorFormatFor(req.target) : format);
  } else {
    res = std::move(*r);
  }
  res.route = route;
  res.user = std::move(user);
  return Disposition::kDone;
}

Result<HttpResponse> HttpApi::Dispatch(const HttpRequest& req, bool may_block, std::string_view* route,
                                       std::string* user, bool* needs_worker, ErrorFormat* format) const {
  // The web console's files (api_ui.cc): public, read from disk on a worker thread.
  if (const std::string_view path = req.target.substr(0, req.target.find('?'));
      path == "/ui" || path.substr(0, 4) == "/ui/") {
    *route = "/ui/";
    if (!may_block) {
      *needs_worker = true;
      return HttpResponse();
    }
    return Console(req, path);
  }
  std::vector<std::string> segs;
  std::string query;
  ALMANAC_RETURN_IF_ERROR(SplitTarget(req.target, &segs, &query));
  // HEAD is GET without the body (RFC 9110 9.3.2): same routes, roles and status.
  const std::string_view method = req.method == "HEAD" ? std::string_view("GET") : req.method;
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
    if (r.method != method) {
      allow += (allow.empty() ? "" : ", ") + std::string(r.method);
      if (r.method == "GET") allow += ", HEAD";
      continue;
    }
    match = &r;
    params = std::move(p);
    break;
  }
  if (match == nullptr) {
    if (allow.empty())
      return NotFoundError("no such endpoint: " + std::string(req.method) + " " +
                           QuoteForMessage(req.target.substr(0, req.target.find('?')), 100) + " (see /openapi.json)");
    // 405 is the router's answer, not a Status code's.
    HttpResponse res = Error(Status(StatusCode::kInvalidArgument, "method " + std::string(req.method) +
                                                                      " is not allowed here (allowed: " + allow + ")"),
                             req.request_id, false, ErrorFormatFor(req.target));
    res.status = 405;
    res.headers.emplace_back("Allow", std::move(allow));
    return res;
  }
  *route = match->path;
  *format = match->error_format;

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
          return UnauthenticatedError(why);
        case Authenticator::Outcome::kNeedsStore: {
          if (!may_block) {
            *needs_worker = true;
            return HttpResponse();
          }
          auto p = ctx_.auth->Lookup(req.authorization);
          if (!p.ok())
            return p.status().code() == StatusCode::kUnauthenticated
                       ? p.status()
                       : UnavailableError("cannot check the token: " + p.status().message());
          who = *p;
        }
      }
    }
    *user = who.user;
    if (!RoleAllows(who.role, match->permission)) {
      std::string roles;
      for (Role r : {Role::kViewer, Role::kAnalyst, Role::kModeler, Role::kApprover, Role::kAdmin})
        if (RoleAllows(r, match->permission)) roles += (roles.empty() ? "" : ", ") + std::string(RoleName(r));
      return PermissionDeniedError("role " + std::string(RoleName(who.role)) + " of user " + who.user + " may not " +
                                   std::string(PermissionName(match->permission)) + " (needs " + roles + ")");
    }
  }
  if (match->blocking && !may_block) {
    *needs_worker = true;
    return HttpResponse();
  }
  ALMANAC_ASSIGN_OR_RETURN(auto q, ParseQuery(query, match->query));
  ApiCall call{match->id, req, std::move(params), std::move(q), std::move(who), may_block};
  Result<HttpResponse> res = (this->*match->handler)(call);
  *needs_worker = call.needs_worker;
  return res;
}

}  // namespace almanac::serve
