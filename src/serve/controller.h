// The control loop of `almanac serve` (serve-internal): what is served and how it follows the
// store. It owns the model manager (the version policy's choice, loaded and swapped), the
// token copy, the forecast cache and the production forecasts kept for accuracy monitoring,
// and one poller thread that reads the audit head and, when it moved, re-reads the registry,
// the tokens and the series freshness, drops cached forecasts, writes the tokens' last use and
// the forecasts answered since the last poll, and re-scores accuracy.
//
// No network and no Boost: the HTTP API (http_api.h) reads the manager, tokens and cache the
// controller owns; the transport (http_server.cc) owns neither. Thread-safety: everything
// below may be called from any thread, except Init (once, first) and Start/StopPolling (from
// the thread that owns the controller).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "almanac/monitor.h"
#include "almanac/serve.h"

#include "serve/forecast_cache.h"

namespace almanac::serve {

class Controller {
 public:
  // `options`, the objects in `deps` and `metrics` outlive this. `log` writes one line of the
  // server's log.
  Controller(const ServerOptions& options, ServerDeps deps, const Clock& clock, monitor::MetricRegistry& metrics,
             std::function<void(std::string_view)> log);
  ~Controller();  // stops polling
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Registers the control loop's metrics (model info, lifecycle, reloads, polls, cache size,
  // data freshness, accuracy) and polls once, so that what the version policy selects is
  // loaded before the port opens. Once, before anything else.
  void Init();
  // Polls the store on a thread of its own every poll_seconds, or at once when the store
  // announces a change (PostgreSQL NOTIFY), until StopPolling().
  void StartPolling();
  void StopPolling();
  // Writes the production forecasts answered since the last poll (at shutdown).
  void FlushForecasts() { StorePendingForecasts(); }

  ServableManager& manager() { return manager_; }
  Authenticator& auth() { return auth_; }
  ForecastCache& cache() { return cache_; }
  // Whether the last poll reached the store, and its error otherwise (for /readyz).
  std::pair<bool, std::string> StoreStatus() const;
  // Queues a forecast a version serving as "production" computed from its own fit, for the
  // store (deduplicated by version and origin; the poller writes it). Never blocks on the
  // store: called on request threads.
  void RecordForecast(const LoadedVersion& lv, const models::Forecast& fc);

 private:
  void SetUpMetrics();
  void OnServableEvent(const ServableEvent& e);
  // Writes the queued forecasts; true when one was new.
  bool StorePendingForecasts();
  void RefreshAccuracy();
  void RefreshStoreMetrics();
  // The store's state is unreachable or unreadable: counted, logged once, kept for /readyz.
  void PollFailed(std::string_view what, const Status& s);
  void Poll(bool force);
  void PollLoop();
  void Log(std::string_view line) const { log_(line); }

  const ServerOptions& opt_;
  ServerDeps deps_;
  const Clock& clock_;
  monitor::MetricRegistry& metrics_;
  std::function<void(std::string_view)> log_;
  ForecastCache cache_;
  Authenticator auth_;
  ServableManager manager_;

  std::thread poller_;
  std::mutex poll_mu_;
  std::condition_variable poll_cv_;
  bool poll_stop_ = false;  // GUARDED_BY(poll_mu_)
  // Poller thread only (and Init, before it starts).
  std::optional<std::pair<int64_t, std::string>> last_head_;
  int pending_failures_ = 0;
  std::map<std::vector<std::string>, bool> info_labels_;  // labels set on the info metric
  std::atomic<bool> store_ok_{true};
  mutable std::mutex store_error_mu_;
  std::string store_error_;  // GUARDED_BY(store_error_mu_)

  // Metric families and children (owned by metrics_).
  monitor::Family<monitor::Gauge>* model_info_ = nullptr;
  monitor::Family<monitor::Counter>* lifecycle_ = nullptr;
  monitor::Family<monitor::Counter>* reloads_ = nullptr;
  monitor::Family<monitor::Counter>* polls_ = nullptr;
  std::unique_ptr<monitor::StoreMetrics> store_metrics_;
  std::unique_ptr<monitor::AccuracyMetrics> accuracy_metrics_;

  std::mutex forecasts_mu_;
  std::unordered_map<std::string, size_t> recorded_horizon_;    // GUARDED_BY(forecasts_mu_)
  std::vector<store::IssuedForecastRecord> pending_forecasts_;  // GUARDED_BY(forecasts_mu_)
};

}  // namespace almanac::serve
