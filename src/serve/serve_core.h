// What `almanac serve` serves, apart from the network (serve-internal): the Controller (the
// control loop: manager, tokens, cache, poller, accuracy; controller.h), the HTTP API over it
// (http_api.h), and the request side of telemetry (request metrics and the access log). The
// transport (http_server.cc, the only place Beast is included) owns one and feeds it
// requests; nothing here depends on Boost.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "almanac/monitor.h"
#include "almanac/serve.h"

#include "serve/controller.h"
#include "serve/http_api.h"

namespace almanac::serve {

// One request as its access-log line tells it (views valid for the call); ECS field names.
struct AccessRecord {
  std::string_view request_id;  // http.request.id
  std::string_view trace_id;    // trace.id: the caller's W3C trace, or a new one
  std::string_view span_id;     // span.id: this request's span
  std::string_view parent_id;   // parent.id: the caller's span ("" when none came)
  // client.ip and client.address: the peer, or the client behind trusted proxies.
  std::string_view client_ip;
  std::string_view method;
  std::string_view target;         // the path is logged, never the query string
  std::string_view user;           // user.name; "" when none
  std::string_view user_agent;     // user_agent.original; "" when none was sent
  std::string_view error_code;     // error.code of an answer >= 400 ("" when none)
  std::string_view error_message;  // error.message of an answer >= 400
  int status = 0;
  double seconds = 0;
};

class ServeCore {
 public:
  // `options` and the objects in `deps` outlive this.
  ServeCore(const ServerOptions& options, ServerDeps deps);
  ~ServeCore();
  ServeCore(const ServeCore&) = delete;
  ServeCore& operator=(const ServeCore&) = delete;

  // Registers the metrics, builds the API and polls once (Controller::Init). Once, first.
  void Init();
  void StartPolling() { controller_.StartPolling(); }
  void StopPolling() { controller_.StopPolling(); }
  void FlushForecasts() { controller_.FlushForecasts(); }

  HttpApi& api() { return *api_; }
  // 16 random hex digits (trace_context.h: a per-thread generator, nothing sequential).
  static std::string NextRequestId();
  // A line of the server's log (the structured logger, the test hook, or stderr).
  void Log(std::string_view line) const;

  // Request metrics and the access log, recorded by the connections. Thread-safe. The access
  // line is an error for 5xx, a warning for the answers that mean abuse or an attack (401,
  // 403, 429) and info otherwise; the logger's repeat_limit bounds the warnings per client.
  void RecordRequest(std::string_view route, std::string_view method, int status, double seconds);
  void Rejected(std::string_view reason);
  void AccessLog(const AccessRecord& r) const;
  // A connection refused because `limit` connections are open from `client_ip` (a warning).
  void RefusedConnection(std::string_view client_ip, int limit) const;
  monitor::Gauge& in_flight() { return *in_flight_; }
  void SetOpenConnections(size_t n) { connections_open_->Set(static_cast<double>(n)); }

 private:
  void SetUpMetrics();

  const ServerOptions& opt_;
  ServerDeps deps_;
  const Clock& clock_;
  std::unique_ptr<monitor::MetricRegistry> owned_metrics_;
  monitor::MetricRegistry& metrics_;
  Controller controller_;
  std::unique_ptr<HttpApi> api_;

  // Request metric families and children (owned by metrics_).
  monitor::Family<monitor::Counter>* requests_ = nullptr;
  monitor::Family<monitor::Histogram>* latency_ = nullptr;
  monitor::Family<monitor::Counter>* rejected_ = nullptr;
  monitor::Gauge* in_flight_ = nullptr;
  monitor::Gauge* connections_open_ = nullptr;
  monitor::Counter* cache_hits_ = nullptr;
  monitor::Counter* cache_misses_ = nullptr;
};

}  // namespace almanac::serve
