// The HTTP API (serve-internal): thin and stateless. It routes a request, checks the token's
// role, validates input, asks the manager, registry or store, and renders JSON. It owns
// nothing: the manager, tokens and cache belong to the Controller (controller.h), the stores
// and metrics to the server. Independent of the HTTP library (the Beast transport in
// http_server.cc adapts to these plain structs), so it is tested directly as well as over
// real HTTP.
//
// Routes (docs/openapi.json documents each; http_api_test.cc checks the two agree), one
// route family per file:
//   POST /v1/forecast                                  forecast from a served version      api_forecast.cc
//   POST /v1/models/{name}/predict                     refit on caller-supplied history    api_forecast.cc
//   POST /v1/scenarios                                 VAR/BVAR scenario forecasts         api_scenarios.cc
//   GET  /v1/series                                    series and metadata                 api_series.cc
//   GET  /v1/series/{key}                              values (?as_of=YYYY-MM-DD)          api_series.cc
//   GET  /v1/series/{key}/vintages                     vintages                            api_series.cc
//   GET  /v1/series/{key}/history                      one period in every vintage         api_series.cc
//   GET  /v1/series/{key}/vintage-matrix               periods x vintages (ALFRED style)   api_series.cc
//   GET  /v1/snapshots/{id}                            a stored snapshot's content         api_series.cc
//   POST /v1/ingest                                    NDJSON records as one load          api_ingest.cc
//   GET  /v1/models                                    registered models, what is served   api_models.cc
//   GET  /v1/models/{name}                             one model, its card and requests    api_models.cc
//   GET  /v1/models/{name}/versions                    its versions                        api_models.cc
//   POST /v1/models/{name}/versions/{version}/promote  request a stage change              api_models.cc
//   POST /v1/models/{name}/versions/{version}/approve  approve a pending promotion         api_models.cc
//   POST /v1/models/{name}/versions/{version}/reject   reject a pending promotion          api_models.cc
//   GET  /v1/runs                                      tracked runs, newest first          api_runs.cc
//   GET  /v1/runs/{id}                                 one tracked run                     api_runs.cc
//   GET  /v1/lineage/{name}/{version}                  vintages -> ... -> approvals, audit api_runs.cc
//   GET  /healthz, /readyz, /metrics, /openapi.json    probes, Prometheus, this document   api_probes.cc
//   GET  /v1/audit                                     audit log (filters) and verify      api_ui.cc
//   GET  /v1/whoami                                    the caller's user and role          api_ui.cc
//   GET  /v1/snapshots                                 stored snapshots, newest first      api_ui.cc
//   GET  /ui/...                                       the web console's files (docs/ui.md) api_ui.cc
// Open Inference Protocol (KServe V2, REST; docs/interop.md), errors as {"error": "..."}:
//   GET  /v2, /v2/health/live, /v2/health/ready        server metadata, liveness, readiness api_v2.cc
//   GET  /v2/models/{name}[/versions/{version}]        model metadata (tensor metadata)    api_v2.cc
//   GET  /v2/models/{name}[/versions/{version}]/ready  model readiness                     api_v2.cc
//   POST /v2/models/{name}[/versions/{version}]/infer  a forecast, as POST /v1/forecast    api_v2.cc
// MLflow tracking and model registry (docs/interop.md), errors as {"error_code", "message"}:
//   GET/POST/PATCH/DELETE /api/2.0/mlflow/... and /ajax-api/2.0/mlflow/...                api_mlflow.cc
//        experiments, runs, metrics, artifacts, registered-models, model-versions (the rows
//        come from WithMlflowRoutes)
// Investment risk (issue 24; docs/risk.md, "REST"):
//   POST /v1/risk/portfolio                            stress test: VaR/ES per scenario     api_risk.cc
//   POST /v1/risk/var-backtest                         as-of VaR backtest from vintages     api_risk.cc
// Nowcasting (issue 25; docs/nowcasting.md, "Platform"):
//   GET  /v1/nowcast/{model}                           latest nowcast and news (?as_of=)    api_nowcast.cc
// Every GET route also answers HEAD (same status and headers, no body; the transport drops
// the body and keeps its Content-Length).
//
// Adding a route family (the MLflow and KServe V2 adapters are two): a file
// api_<family>.cc with its handlers, declared below under a family comment; one RouteId and
// one row of Routes() per endpoint; the endpoints in docs/openapi.json. A handler returns
// Result<HttpResponse>: a response (api::JsonResponse) or a Status, which HttpApi::Error
// renders, the one place that maps a Status to an HTTP status and an error body. A protocol
// with its own error body (MLflow's {"error_code", "message"}, V2's {"error"}) adds its
// format there, chosen by a field of its routes' RouteInfo, not in its handlers: a value of
// ErrorFormat, a case in HttpApi::Error, and RouteInfo::error_format on each of its rows
// (V2 is the example: api_v2.cc).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
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
  // For the access log of an answer with status >= 400: the code and message of its error
  // body (HttpApi::Error), or why /readyz is not ready.
  std::string_view error_code;
  std::string error_message;
};

enum class RouteId {
  kForecast,
  kPredict,
  kScenarios,
  kSeriesList,
  kSeries,
  kSeriesVintages,
  kSeriesHistory,
  kSeriesVintageMatrix,
  kSnapshot,
  kModels,
  kModel,
  kModelVersions,
  kRuns,
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
  // The web console (api_ui.cc).
  kAudit,
  kWhoami,
  kSnapshots,
  // Open Inference Protocol (KServe V2), api_v2.cc.
  kV2Server,
  kV2Live,
  kV2Ready,
  kV2Model,
  kV2ModelVersion,
  kV2ModelReady,
  kV2ModelVersionReady,
  kV2Infer,
  kV2InferVersion,
  // MLflow (api_mlflow.cc): one id per endpoint, shared by both of its prefixes.
  kMlflowExperimentCreate,
  kMlflowExperimentGet,
  kMlflowExperimentGetByName,
  kMlflowExperimentSearch,
  kMlflowExperimentList,
  kMlflowExperimentUpdate,
  kMlflowExperimentDelete,
  kMlflowExperimentRestore,
  kMlflowExperimentSetTag,
  kMlflowRunCreate,
  kMlflowRunGet,
  kMlflowRunUpdate,
  kMlflowRunDelete,
  kMlflowRunRestore,
  kMlflowRunSearch,
  kMlflowLogMetric,
  kMlflowLogParam,
  kMlflowLogBatch,
  kMlflowSetTag,
  kMlflowDeleteTag,
  kMlflowMetricHistory,
  kMlflowArtifactsList,
  kMlflowModelCreate,
  kMlflowModelGet,
  kMlflowModelSearch,
  kMlflowModelUpdate,
  kMlflowLatestVersions,
  kMlflowVersionCreate,
  kMlflowVersionGet,
  kMlflowVersionSearch,
  kMlflowVersionUpdate,
  kMlflowTransitionStage,
  // Investment risk (issue 24), api_risk.cc.
  kRiskPortfolio,
  kRiskVarBacktest,
  // Nowcasting (issue 25), api_nowcast.cc.
  kNowcast,
  // MLflow registry, second part (issue 22), api_mlflow.cc: rename, delete, tags, aliases.
  kMlflowModelRename,
  kMlflowModelDelete,
  kMlflowModelSetTag,
  kMlflowModelDeleteTag,
  kMlflowAliasSet,
  kMlflowAliasDelete,
  kMlflowAliasGet,
  kMlflowVersionDelete,
  kMlflowVersionSetTag,
  kMlflowVersionDeleteTag,
};

// The error body of a route family (HttpApi::Error): almanac's {"code", "message",
// "request_id"}, or the protocol's own for an adapter (V2: {"error": "..."}, MLflow: {"error_code", "message"}).
enum class ErrorFormat {
  kAlmanac,
  kV2,
  kMlflow,
};

class HttpApi;

// One matched request as a handler sees it.
struct ApiCall {
  RouteId route;
  const HttpRequest& req;
  std::vector<std::string> params;           // path parameters, in the template's order
  std::map<std::string, std::string> query;  // decoded; only the route's query parameters
  Principal who;                             // the authenticated caller (empty for public routes)
  bool may_block = false;                    // on a worker thread: may read the store or refit
  // Set by a handler of a non-blocking route that finds on an I/O thread that this request
  // must read the store or refit after all (a forecast as_of a date): it returns any value
  // and is called again on a worker thread.
  bool needs_worker = false;
};

// What a forecast renderer sees (HttpApi::ServeForecast): the version and the label it was
// served under, the forecast (finite), its first period, the method and the data it used.
struct ForecastParts {
  const LoadedVersion& version;
  const std::string& label;
  int horizon;
  Period first;
  const models::Forecast& forecast;
  const std::string& method;
  const Json& data;
};
// Renders the cacheable part of an answer (without anything per request).
using ForecastRenderer = std::function<Result<std::string>(const ForecastParts& parts)>;

// A handler: the response, or the error that HttpApi::Error renders.
using Handler = Result<HttpResponse> (HttpApi::*)(ApiCall& call) const;

struct RouteInfo {
  RouteId id;
  std::string_view method;  // GET routes answer HEAD too
  std::string_view path;    // template, e.g. "/v1/models/{name}/versions"
  Permission permission;
  bool blocking;  // reads the store or refits: runs on a worker thread
  Handler handler;
  std::vector<std::string> query = {};  // the query parameters the route takes
  ErrorFormat error_format = ErrorFormat::kAlmanac;  // the body of its errors
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
  // The built web console served under /ui/ (api_ui.cc); "" or no index.html in it: /ui/
  // answers a 404 page saying how to build it.
  std::string ui_dir;
  // Called with every forecast a version serving as "production" computes from its own fit
  // (not as_of refits, not cache hits), for accuracy monitoring. Must not block.
  std::function<void(const LoadedVersion& version, const models::Forecast& forecast)> record_forecast;
  // Issue 20 timeline: reads a run's timeline.json and run.log for GET /v1/runs/{id}; null:
  // the run has no `timeline` and `log` fields.
  store::ArtifactStore* artifacts = nullptr;
};

class HttpApi {
 public:
  explicit HttpApi(ApiContext ctx) : ctx_(std::move(ctx)) {}

  enum class Disposition { kDone, kNeedsWorker };
  // Handles `req` into `res`. With may_block == false (an I/O thread) a request that must read
  // the store or refit a model is not handled: kNeedsWorker says to call again on a worker
  // thread with may_block == true. HEAD is answered as GET (the caller drops the body). Never
  // throws; never exposes internals in a response.
  Disposition Handle(const HttpRequest& req, HttpResponse& res, bool may_block) const;

  // Every route, in the order matched.
  static const std::vector<RouteInfo>& Routes();

  // The one place a Status becomes an answer: {"code","message","request_id"} with the
  // status from HttpStatusFor (401 adds WWW-Authenticate); error_code and error_message set.
  // `format` selects a protocol adapter's body instead (V2: {"error": message}), same status.
  static HttpResponse Error(const Status& status, const std::string& request_id, bool request_too_large = false,
                            ErrorFormat format = ErrorFormat::kAlmanac);
  // The error format of the route family `target` falls in (by its first path segment; the
  // transport's own refusals, e.g. a full worker queue, use it too). kAlmanac when none.
  static ErrorFormat ErrorFormatFor(std::string_view target);

 private:
  // Matches, authenticates and authorizes `req`, then calls the route's handler. Sets
  // `*route` and `*user` as far as it got (for metrics and the log) and `*needs_worker`.
  Result<HttpResponse> Dispatch(const HttpRequest& req, bool may_block, std::string_view* route, std::string* user,
                                bool* needs_worker, ErrorFormat* format) const;

  // The path of POST /v1/forecast after parsing, shared by the protocol adapters that answer
  // forecasts (V2 infer) so that their numbers, cache, metrics and accuracy records are those
  // of /v1/forecast: the cache entry for (version, label, horizon, levels, as_of, `tag`), or
  // the forecast computed (the served fit, or a refit as of `as_of`), checked finite, rendered
  // by `render` and cached. `tag` names the rendering ("" for /v1/forecast's). Returns null
  // with call.needs_worker set when an as_of refit must run on a worker thread.
  Result<std::shared_ptr<const std::string>> ServeForecast(ApiCall& call, const ServableHandle& handle, int horizon,
                                                           const std::vector<double>& levels,
                                                           const std::optional<Date>& as_of, std::string_view tag,
                                                           const ForecastRenderer& render, bool* cache_hit) const;

  // Probes (api_probes.cc).
  Result<HttpResponse> Healthz(ApiCall& call) const;
  Result<HttpResponse> Readyz(ApiCall& call) const;
  Result<HttpResponse> Metrics(ApiCall& call) const;
  Result<HttpResponse> OpenApi(ApiCall& call) const;
  // Forecasts (api_forecast.cc, api_scenarios.cc).
  Result<HttpResponse> Forecast(ApiCall& call) const;
  Result<HttpResponse> Predict(ApiCall& call) const;
  Result<HttpResponse> Scenarios(ApiCall& call) const;
  // Series (api_series.cc).
  Result<HttpResponse> SeriesList(ApiCall& call) const;
  Result<HttpResponse> Series(ApiCall& call) const;
  Result<HttpResponse> SeriesVintages(ApiCall& call) const;
  Result<HttpResponse> SeriesHistory(ApiCall& call) const;
  Result<HttpResponse> SeriesVintageMatrix(ApiCall& call) const;
  Result<HttpResponse> SnapshotContent(ApiCall& call) const;
  // Ingest (api_ingest.cc).
  Result<HttpResponse> Ingest(ApiCall& call) const;
  // Models and their stages (api_models.cc).
  Result<HttpResponse> Models(ApiCall& call) const;
  Result<HttpResponse> Model(ApiCall& call) const;
  Result<HttpResponse> ModelVersions(ApiCall& call) const;
  Result<HttpResponse> ChangeStage(ApiCall& call) const;  // promote, approve, reject
  // Runs and lineage (api_runs.cc).
  Result<HttpResponse> Runs(ApiCall& call) const;
  Result<HttpResponse> Run(ApiCall& call) const;
  Result<HttpResponse> Lineage(ApiCall& call) const;
  // The web console (api_ui.cc): its files under /ui/ (`path` without the query), and the
  // audit log with its verify status.
  Result<HttpResponse> Console(const HttpRequest& req, std::string_view path) const;
  Result<HttpResponse> AuditLog(ApiCall& call) const;
  Result<HttpResponse> Whoami(ApiCall& call) const;
  Result<HttpResponse> SnapshotList(ApiCall& call) const;
  // Open Inference Protocol, KServe V2 (api_v2.cc).
  Result<HttpResponse> V2Server(ApiCall& call) const;
  Result<HttpResponse> V2Live(ApiCall& call) const;
  Result<HttpResponse> V2Ready(ApiCall& call) const;
  Result<HttpResponse> V2Model(ApiCall& call) const;
  Result<HttpResponse> V2ModelReady(ApiCall& call) const;
  Result<HttpResponse> V2Infer(ApiCall& call) const;
  // MLflow tracking and registry (api_mlflow.cc): one handler, switching on call.route.
  Result<HttpResponse> Mlflow(ApiCall& call) const;
  // `base` followed by the MLflow routes, under both of MLflow's prefixes (api_mlflow.cc).
  static std::vector<RouteInfo> WithMlflowRoutes(const std::vector<RouteInfo>& base);
  // Investment risk (api_risk.cc): risk::RunStressTest on the store's series.
  Result<HttpResponse> RiskPortfolio(ApiCall& call) const;
  // risk::BacktestPortfolioAsOf on the store's vintages (api_risk.cc).
  Result<HttpResponse> RiskVarBacktest(ApiCall& call) const;
  // Nowcasting (api_nowcast.cc): the latest nowcast and news a nowcast pipeline's run stored.
  Result<HttpResponse> Nowcast(ApiCall& call) const;

  ApiContext ctx_;
};

// Splits and checks a request target: percent-decodes each path segment and refuses empty,
// "." and ".." segments, characters outside [A-Za-z0-9_.:@-] (so ';', NUL, '/', '\' and '%'
// after decoding), segments over 256 bytes and targets over 4096 bytes (InvalidArgument).
Status SplitTarget(std::string_view target, std::vector<std::string>* segments, std::string* query);

// `res` (status and error fields of almanac's rendering) as MLflow's error: its error_code
// for the Status code, {"error_code","message"}, and MLflow's HTTP statuses.
HttpResponse MlflowError(const Status& status, int http_status, HttpResponse res);

// " (did you mean 'x'?)" for the closest candidate, or "".
std::string Hint(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace almanac::serve
