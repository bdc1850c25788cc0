// What `almanac serve` serves, apart from the network (serve-internal): the model manager and
// its version policy, tokens, the forecast cache, the HTTP API over them, the poller that
// follows registry, token and data changes in the store, production forecasts recorded for
// accuracy monitoring, and the serve metrics. The Beast server (http_server.cc) owns one and
// feeds it requests; nothing here depends on Boost.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "almanac/monitor.h"
#include "almanac/serve.h"

#include "serve/forecast_cache.h"
#include "serve/http_api.h"

namespace almanac::serve {

// One request as its access-log line tells it (views valid for the call).
struct AccessRecord {
  std::string_view request_id;  // http.request.id
  std::string_view trace_id;    // trace.id: the caller's W3C trace, or a new one
  std::string_view span_id;     // span.id: this request's span
  std::string_view parent_id;   // parent.id: the caller's span ("" when none came)
  std::string_view client_ip;   // client.ip: the peer, or the client behind trusted proxies
  std::string_view method;
  std::string_view target;  // the path is logged, never the query string
  std::string_view user;    // "" when none
  int status = 0;
  double seconds = 0;
};

class ServeCore {
 public:
  // `options` and the objects in `deps` outlive this.
  ServeCore(const ServerOptions& options, ServerDeps deps);
  ~ServeCore();  // stops polling
  ServeCore(const ServeCore&) = delete;
  ServeCore& operator=(const ServeCore&) = delete;

  // Registers the metrics, builds the API and polls once, so that what the version policy
  // selects is loaded before the port opens. Once, before anything else.
  void Init();
  // Polls the store on a thread of its own every poll_seconds, or at once when the store
  // announces a change (PostgreSQL NOTIFY), until StopPolling().
  void StartPolling();
  void StopPolling();
  // Writes the production forecasts answered since the last poll (at shutdown).
  void FlushForecasts() { StorePendingForecasts(); }

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
  void OnServableEvent(const ServableEvent& e);
  // Queues a production forecast for the store (deduplicated by version and origin; the
  // poller writes it).
  void RecordForecast(const LoadedVersion& lv, const models::Forecast& fc);
  // Writes the queued forecasts; true when one was new.
  bool StorePendingForecasts();
  void RefreshAccuracy();
  void RefreshStoreMetrics();
  void Poll(bool force);
  void PollLoop();

  const ServerOptions& opt_;
  ServerDeps deps_;
  const Clock& clock_;
  std::unique_ptr<monitor::MetricRegistry> owned_metrics_;
  monitor::MetricRegistry& metrics_;
  ForecastCache cache_;
  Authenticator auth_;
  ServableManager manager_;
  std::unique_ptr<HttpApi> api_;

  std::thread poller_;
  std::mutex poll_mu_;
  std::condition_variable poll_cv_;
  bool poll_stop_ = false;  // GUARDED_BY(poll_mu_)
  std::optional<std::pair<int64_t, std::string>> last_head_;
  std::atomic<bool> store_ok_{true};
  mutable std::mutex store_error_mu_;
  std::string store_error_;  // GUARDED_BY(store_error_mu_)
  int pending_failures_ = 0;
  std::map<std::vector<std::string>, bool> info_labels_;  // labels set on the info metric

  // Metric families and children (owned by metrics_).
  monitor::Family<monitor::Counter>* requests_ = nullptr;
  monitor::Family<monitor::Histogram>* latency_ = nullptr;
  monitor::Family<monitor::Counter>* rejected_ = nullptr;
  monitor::Gauge* in_flight_ = nullptr;
  monitor::Gauge* connections_open_ = nullptr;
  monitor::Family<monitor::Gauge>* model_info_ = nullptr;
  monitor::Family<monitor::Counter>* lifecycle_ = nullptr;
  monitor::Family<monitor::Counter>* reloads_ = nullptr;
  monitor::Family<monitor::Counter>* polls_ = nullptr;
  monitor::Counter* cache_hits_ = nullptr;
  monitor::Counter* cache_misses_ = nullptr;
  std::unique_ptr<monitor::StoreMetrics> store_metrics_;
  std::unique_ptr<monitor::AccuracyMetrics> accuracy_metrics_;
  std::mutex forecasts_mu_;
  std::unordered_map<std::string, size_t> recorded_horizon_;    // GUARDED_BY(forecasts_mu_)
  std::vector<store::IssuedForecastRecord> pending_forecasts_;  // GUARDED_BY(forecasts_mu_)
};

}  // namespace almanac::serve
