// Monitoring of a long-running process (scheduler, worker): the structured logger, a metric
// registry with the process, pipeline and data-freshness metrics, and, with a metrics port,
// a /metrics endpoint. One call sets it all up, so every process exports the same series:
//   ALMANAC_ASSIGN_OR_RETURN(auto mon, StartProcessMonitoring(g, "almanac-worker", opts, &store));
//   mon->pipeline().RunFinished(...);  mon->log().Info(...);
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "almanac/monitor.h"
#include "almanac/store.h"
#include "cli/commands.h"

namespace almanac::cli {

struct MetricsArgs {
  int port = -1;                   // < 0: no endpoint; 0: any free port (logged)
  std::string host = "127.0.0.1";  // bind address of the endpoint
  double refresh_seconds = 5;      // how often the store is checked for new data
};

// Scores the production versions (monitor::EvaluateProductionAccuracy bound to a store).
using AccuracyFn = std::function<Result<std::vector<monitor::VersionAccuracy>>()>;

class ProcessMonitoring {
 public:
  ~ProcessMonitoring();
  const monitor::Logger& log() const { return *logger_; }
  monitor::MetricRegistry& metrics() { return metrics_; }
  monitor::PipelineMetrics& pipeline() { return *pipeline_; }
  // The endpoint's port, or -1 without one.
  int port() const { return endpoint_ ? endpoint_->port() : -1; }

 private:
  friend Result<std::unique_ptr<ProcessMonitoring>> StartProcessMonitoring(const GlobalOptions&, std::string_view,
                                                                            const MetricsArgs&, store::Store*, AccuracyFn);
  ProcessMonitoring() = default;
  void RefreshLoop(store::Store* store, double seconds);
  void Refresh();

  monitor::MetricRegistry metrics_;
  std::unique_ptr<monitor::Logger> logger_;
  std::unique_ptr<monitor::PipelineMetrics> pipeline_;
  std::unique_ptr<monitor::StoreMetrics> store_metrics_;
  std::unique_ptr<monitor::AccuracyMetrics> accuracy_metrics_;
  AccuracyFn accuracy_;
  std::unique_ptr<monitor::MetricsEndpoint> endpoint_;
  std::thread refresher_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // GUARDED_BY(mu_)
};

// The logger for `service` in the format of --log-format (InvalidArgument for a bad one);
// buffer_ms > 0 batches info lines (monitor::Logger::Options::buffer_ms).
Result<std::unique_ptr<monitor::Logger>> MakeLogger(const GlobalOptions& g, std::string_view service,
                                                    int64_t buffer_ms = 0, int repeat_limit = 0);

// Starts the logger, the metrics and (args.port >= 0) the endpoint; with a store, a thread
// re-reads data freshness and (with `accuracy`) the production versions' accuracy whenever
// the audit log moved. InvalidArgument / Unavailable from MetricsEndpoint::Start for a bad
// or busy address.
Result<std::unique_ptr<ProcessMonitoring>> StartProcessMonitoring(const GlobalOptions& g, std::string_view service,
                                                                  const MetricsArgs& args, store::Store* store,
                                                                  AccuracyFn accuracy = nullptr);

}  // namespace almanac::cli
