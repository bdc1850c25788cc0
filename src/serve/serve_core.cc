#include "serve/serve_core.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <iostream>

#include "almanac/core/hash.h"

#include "serve/openapi.h"
#include "serve/trace_context.h"

namespace almanac::serve {

ServeCore::ServeCore(const ServerOptions& options, ServerDeps deps)
    : opt_(options),
      deps_(deps),
      clock_(opt_.clock != nullptr ? *opt_.clock : SystemClock()),
      owned_metrics_(deps.metrics == nullptr ? std::make_unique<monitor::MetricRegistry>() : nullptr),
      metrics_(deps.metrics != nullptr ? *deps.metrics : *owned_metrics_),
      controller_(opt_, deps, clock_, metrics_, [this](std::string_view line) { Log(line); }) {}

ServeCore::~ServeCore() { controller_.StopPolling(); }

void ServeCore::Init() {
  SetUpMetrics();
  ApiContext ctx;
  ctx.manager = &controller_.manager();
  ctx.store = deps_.store;
  ctx.artifacts = deps_.artifacts;
  ctx.models = deps_.models;
  ctx.auth = &controller_.auth();
  ctx.cache = &controller_.cache();
  ctx.metrics = &metrics_;
  ctx.clock = &clock_;
  ctx.no_auth = opt_.no_auth;
  ctx.no_auth_user = opt_.no_auth_user;
  ctx.store_status = [this] { return controller_.StoreStatus(); };
  ctx.openapi_json = OpenApiDocument();
  ctx.cache_hits = cache_hits_;
  ctx.cache_misses = cache_misses_;
  ctx.logger = opt_.logger;
  ctx.ui_dir = opt_.ui_dir;
  ctx.record_forecast = [this](const LoadedVersion& lv, const models::Forecast& fc) {
    controller_.RecordForecast(lv, fc);
  };
  api_ = std::make_unique<HttpApi>(std::move(ctx));
  controller_.Init();
}

std::string ServeCore::NextRequestId() {
  std::string id(16, '0');
  HexU64(RandomU64(), id.data());
  return id;
}

void ServeCore::Log(std::string_view line) const {
  if (opt_.logger != nullptr) {
    opt_.logger->Line(line);
  } else if (opt_.log) {
    opt_.log(line);
  } else {
    std::cerr << FormatTimestamp(SystemClock().NowMicros()) << " almanac serve: " << line << "\n";
  }
}

void ServeCore::RecordRequest(std::string_view route, std::string_view method, int status, double seconds) {
  char code[8];
  std::snprintf(code, sizeof(code), "%d", status);
  requests_->WithLabels({route, method, code}).Inc();
  latency_->WithLabels({route}).Observe(seconds);
}

void ServeCore::Rejected(std::string_view reason) { rejected_->WithLabels({reason}).Inc(); }

void ServeCore::AccessLog(const AccessRecord& r) const {
  if (opt_.logger == nullptr || !opt_.access_log) return;
  // The path only: a query string may carry data the caller did not mean to be logged.
  const std::string_view path = r.target.substr(0, r.target.find('?'));
  std::string message;
  message.reserve(r.method.size() + path.size() + 8);
  message.append(r.method).append(" ").append(path).append(" ").append(std::to_string(r.status));
  // 4xx are the client's mistakes (info), except those that mean abuse or an attack.
  const auto level = r.status >= 500                                         ? monitor::LogLevel::kError
                     : r.status == 401 || r.status == 403 || r.status == 429 ? monitor::LogLevel::kWarning
                                                                             : monitor::LogLevel::kInfo;
  const auto ns = static_cast<int64_t>(r.seconds * 1e9);
  monitor::LogField fields[] = {{"trace.id", r.trace_id},
                                {"span.id", r.span_id},
                                {"http.request.id", r.request_id},
                                {"client.ip", r.client_ip},
                                {"client.address", r.client_ip},
                                {"http.request.method", r.method},
                                {"url.path", path},
                                {"http.response.status_code", r.status},
                                {"event.duration", ns},
                                {"parent.id", r.parent_id},
                                {"user.name", r.user},
                                {"user_agent.original", r.user_agent},
                                {"error.code", r.error_code},
                                {"error.message", r.error_message}};
  size_t n = 9;  // the optional ones last, present only when set
  for (size_t i = n; i < std::size(fields); ++i) {
    const bool error_field = i >= 12;
    if (std::get<std::string_view>(fields[i].value).empty() || (error_field && r.status < 400)) continue;
    fields[n++] = fields[i];
  }
  opt_.logger->LogFields(level, message, std::span<const monitor::LogField>(fields, n));
}

void ServeCore::RefusedConnection(std::string_view client_ip, int limit) const {
  const std::string message = "refused a connection: " + std::to_string(limit) +
                              " connections are open from this address (--max-connections-per-address)";
  if (opt_.logger != nullptr) {
    opt_.logger->Warn(message, {{"client.ip", client_ip}});
  } else {
    Log("WARNING: " + message + " client.ip=" + std::string(client_ip));
  }
}

void ServeCore::SetUpMetrics() {
  requests_ = &metrics_.AddCounter("almanac_http_requests_total",
                                   "HTTP requests answered, by route template, method and status.",
                                   {"route", "method", "status"});
  latency_ = &metrics_.AddHistogram("almanac_http_request_duration_seconds",
                                    "Time from the first byte of a request to its response being queued, by route.",
                                    {"route"}, monitor::DefaultLatencyBuckets());
  rejected_ = &metrics_.AddCounter(
      "almanac_http_rejected_total",
      "Requests and connections refused before routing (overloaded, too large, timeouts, malformed).", {"reason"});
  in_flight_ = &metrics_.AddGauge("almanac_http_requests_in_flight", "Requests being handled now.")
                    .WithLabels(std::vector<std::string>{});
  connections_open_ = &metrics_.AddGauge("almanac_http_connections_open", "Open client connections.")
                           .WithLabels(std::vector<std::string>{});
  cache_hits_ = &metrics_.AddCounter("almanac_forecast_cache_hits_total", "Forecast requests answered from the cache.")
                     .WithLabels(std::vector<std::string>{});
  cache_misses_ =
      &metrics_.AddCounter("almanac_forecast_cache_misses_total", "Forecast requests computed (not in the cache).")
           .WithLabels(std::vector<std::string>{});
  monitor::AddProcessMetrics(metrics_);
  for (const char* reason : {"overloaded", "body_too_large", "header_too_large", "header_timeout", "read_timeout",
                             "malformed", "connection_limit"})
    rejected_->WithLabels({reason});
}

}  // namespace almanac::serve
