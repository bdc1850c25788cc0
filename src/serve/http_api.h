// The HTTP handler (serve-internal): thin and stateless. It routes a request, checks the
// token's role, validates input, asks the manager, registry or store, and renders JSON. It
// owns nothing: the manager, stores, cache and metrics belong to the server. Independent of
// the HTTP library (the Beast server in http_server.cc adapts to these plain structs), so it
// is tested directly as well as over real HTTP.
//
// Routes (docs/openapi.json documents each; http_api_test.cc checks the two agree):
//   POST /v1/forecast                                  forecast from a served version
//   POST /v1/models/{name}/predict                     refit on caller-supplied history
//   POST /v1/scenarios                                 VAR/BVAR scenario (conditional) forecasts on stored series
//   GET  /v1/series                                    series and metadata
//   GET  /v1/series/{key}                              values (?as_of=YYYY-MM-DD)
//   GET  /v1/series/{key}/vintages                     vintages
//   POST /v1/ingest                                    NDJSON records as one load (?source=label)
//   GET  /v1/models                                    registered models and what is served
//   GET  /v1/models/{name}                             one model, its card and requests
//   GET  /v1/models/{name}/versions                    its versions
//   GET  /v1/runs/{id}                                 one tracked run
//   GET  /v1/lineage/{name}/{version}                  vintages -> ... -> approvals, audit
//   POST /v1/models/{name}/versions/{version}/promote  request a stage change
//   POST /v1/models/{name}/versions/{version}/approve  approve a pending promotion
//   POST /v1/models/{name}/versions/{version}/reject   reject a pending promotion
//   GET  /healthz, /readyz, /metrics, /openapi.json    probes, Prometheus, this API's document
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "almanac/serve.h"

#include "serve/forecast_cache.h"

namespace almanac::serve {

struct HttpRequest {
  std::string_view method;
  std::string_view target;  // path and query, as sent
  std::string_view authorization;
  std::string_view body;
  std::string request_id;
  std::string_view trace_id;  // W3C trace context of the request (for log lines)
  std::string_view span_id;
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string_view content_type = "application/json";
  std::vector<std::pair<std::string_view, std::string>> headers;  // extra headers
  std::string_view route = "unmatched";                           // the route template, for metrics
  bool cache_hit = false;
  std::string user;  // the authenticated user, for the access log ("" when none)
};

enum class RouteId {
  kForecast,
  kPredict,
  kScenarios,
  kSeriesList,
  kSeries,
  kSeriesVintages,
  kModels,
  kModel,
  kModelVersions,
  kRun,
  kLineage,
  kIngest,
  kPromote,
  kApprove,
  kReject,
  kHealthz,
  kReadyz,
  kMetrics,
  kOpenApi,
};

class HttpApi;

// One matched request as a handler sees it.
struct ApiCall {
  RouteId route;
  const HttpRequest& req;
  HttpResponse& res;
  std::vector<std::string> params;           // path parameters, in the template's order
  std::map<std::string, std::string> query;  // decoded; only the route's query parameters
  Principal who;                             // the authenticated caller (empty for public routes)
  bool may_block = false;                    // on a worker thread: may read the store or refit
  bool needs_worker = false;                 // set by a handler that must be called again on a worker
};

struct RouteInfo {
  RouteId id;
  std::string_view method;
  std::string_view path;  // template, e.g. "/v1/models/{name}/versions"
  Permission permission;
  bool blocking;  // reads the store or refits: runs on a worker thread
  // Renders the response into call.res, or returns the error that HttpApi::Error renders.
  Status (HttpApi::*handler)(ApiCall& call) const;
  std::vector<std::string> query = {};  // the query parameters the route takes
};

// Everything the handler uses; owned by the server.
struct ApiContext {
  ServableManager* manager = nullptr;
  store::Store* store = nullptr;
  const models::ForecasterRegistry* models = nullptr;
  Authenticator* auth = nullptr;
  ForecastCache* cache = nullptr;
  monitor::MetricRegistry* metrics = nullptr;
  const Clock* clock = nullptr;
  const TransformFn* transform = nullptr;  // may point at an empty function
  bool no_auth = false;
  std::string no_auth_user;
  // Whether the last poll reached the store, and its error otherwise.
  std::function<std::pair<bool, std::string>()> store_status;
  std::string_view openapi_json;
  // Counts cache hits and misses (optional).
  monitor::Counter* cache_hits = nullptr;
  monitor::Counter* cache_misses = nullptr;
  // Errors inside a request (with its trace.id); null: not logged.
  const monitor::Logger* logger = nullptr;
  // Called with every forecast a version serving as "production" computes from its own fit
  // (not as_of refits, not cache hits), for accuracy monitoring. Must not block.
  std::function<void(const LoadedVersion& version, const models::Forecast& forecast)> record_forecast;
};

// The handlers live in one file per endpoint group: http_api.cc (routing, authorization,
// probes), api_forecast.cc, api_scenarios.cc, api_data.cc and api_registry.cc; api_common.h
// holds the request parsing and rendering they share.
class HttpApi {
 public:
  explicit HttpApi(ApiContext ctx) : ctx_(std::move(ctx)) {}

  enum class Disposition { kDone, kNeedsWorker };
  // Handles `req` into `res`. With may_block == false (an I/O thread) a request that must read
  // the store or refit a model is not handled: kNeedsWorker says to call again on a worker
  // thread with may_block == true. Never throws; never exposes internals in a response.
  Disposition Handle(const HttpRequest& req, HttpResponse& res, bool may_block) const;

  // Every route, in the order matched.
  static const std::vector<RouteInfo>& Routes();

  // Renders {"code","message","request_id"} with the status from HttpStatusFor.
  static void Error(const Status& status, const std::string& request_id, HttpResponse& res,
                    bool request_too_large = false);

 private:
  // Probes (http_api.cc).
  Status Healthz(ApiCall& call) const;
  Status Readyz(ApiCall& call) const;
  Status Metrics(ApiCall& call) const;
  Status OpenApi(ApiCall& call) const;
  // Forecasts (api_forecast.cc, api_scenarios.cc).
  Status Forecast(ApiCall& call) const;
  Status Predict(ApiCall& call) const;
  Status Scenarios(ApiCall& call) const;
  // Data (api_data.cc).
  Status SeriesList(ApiCall& call) const;
  Status Series(ApiCall& call) const;
  Status SeriesVintages(ApiCall& call) const;
  Status Ingest(ApiCall& call) const;
  // Registry and tracking (api_registry.cc).
  Status Models(ApiCall& call) const;
  Status Model(ApiCall& call) const;
  Status ModelVersions(ApiCall& call) const;
  Status Run(ApiCall& call) const;
  Status Lineage(ApiCall& call) const;
  Status ChangeStage(ApiCall& call) const;  // promote, approve, reject

  ApiContext ctx_;
};

// Splits and checks a request target: percent-decodes each path segment and refuses empty,
// "." and ".." segments, characters outside [A-Za-z0-9_.:@-] (so ';', NUL, '/', '\' and '%'
// after decoding), segments over 256 bytes and targets over 4096 bytes (InvalidArgument).
Status SplitTarget(std::string_view target, std::vector<std::string>* segments, std::string* query);

// " (did you mean 'x'?)" for the closest candidate, or "".
std::string Hint(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace almanac::serve
