#include "cli/monitoring.h"

#include <chrono>

namespace almanac::cli {

Result<std::unique_ptr<monitor::Logger>> MakeLogger(const GlobalOptions& g, std::string_view service, int64_t buffer_ms,
                                                    int repeat_limit) {
  ALMANAC_ASSIGN_OR_RETURN(monitor::LogFormat format, monitor::ParseLogFormat(g.log_format));
  monitor::Logger::Options o;
  o.format = format;
  o.service = std::string(service);
  o.buffer_ms = buffer_ms;
  o.repeat_limit = repeat_limit;
  return std::make_unique<monitor::Logger>(std::move(o));
}

Result<std::unique_ptr<ProcessMonitoring>> StartProcessMonitoring(const GlobalOptions& g, std::string_view service,
                                                                  const MetricsArgs& args, store::Store* store,
                                                                  AccuracyFn accuracy) {
  std::unique_ptr<ProcessMonitoring> m(new ProcessMonitoring());
  ALMANAC_ASSIGN_OR_RETURN(m->logger_, MakeLogger(g, service));
  monitor::AddProcessMetrics(m->metrics_);
  m->pipeline_ = std::make_unique<monitor::PipelineMetrics>(m->metrics_);
  m->accuracy_metrics_ = std::make_unique<monitor::AccuracyMetrics>(m->metrics_);
  m->accuracy_ = std::move(accuracy);
  if (store != nullptr) {
    m->store_metrics_ = std::make_unique<monitor::StoreMetrics>(m->metrics_, store->series());
    m->Refresh();
  }
  if (args.port >= 0) {
    if (args.port > 65535) return InvalidArgumentError("--metrics-port must be in 0..65535");
    const bool v6 = args.host.find(':') != std::string::npos;
    ALMANAC_ASSIGN_OR_RETURN(m->endpoint_, monitor::MetricsEndpoint::Start(
                                               (v6 ? "[" + args.host + "]" : args.host) + ":" + std::to_string(args.port),
                                               m->metrics_));
    m->logger_->Info("metrics on http://" + (v6 ? "[" + args.host + "]" : args.host) + ":" +
                     std::to_string(m->endpoint_->port()) + "/metrics");
  }
  if (store != nullptr) m->refresher_ = std::thread([p = m.get(), store, s = args.refresh_seconds] { p->RefreshLoop(store, s); });
  return m;
}

void ProcessMonitoring::RefreshLoop(store::Store* store, double seconds) {
  std::optional<std::pair<int64_t, std::string>> last;
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::microseconds(static_cast<int64_t>(std::max(0.05, seconds) * 1e6)), [&] { return stop_; });
    if (stop_) break;
    lock.unlock();
    auto head = store->metadata().AuditHead();
    if (head.ok() && (!last || *last != *head)) {
      // Every new vintage or promotion is an audit entry: re-read only when the log moved.
      Refresh();
      last = *head;
    }
    lock.lock();
  }
}

void ProcessMonitoring::Refresh() {
  if (Status s = store_metrics_->Refresh(); !s.ok()) logger_->Error("cannot read series freshness: " + s.message());
  if (!accuracy_) return;
  auto a = accuracy_();
  if (!a.ok()) {
    logger_->Error("cannot evaluate forecast accuracy: " + a.status().message());
    return;
  }
  accuracy_metrics_->Publish(*a);
}

ProcessMonitoring::~ProcessMonitoring() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (refresher_.joinable()) refresher_.join();
  if (endpoint_) endpoint_->Stop();
}

}  // namespace almanac::cli
