#include "serve/serve_core.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <iostream>

#include "almanac/core/hash.h"

#include "serve/openapi.h"
#include "serve/trace_context.h"

namespace almanac::serve {
namespace {

ServableManager::Options ManagerOptions(const VersionPolicy& policy,
                                        std::function<void(const ServableEvent&)> on_event) {
  ServableManager::Options o;
  o.policy = policy;
  o.on_event = std::move(on_event);
  return o;
}

}  // namespace

ServeCore::ServeCore(const ServerOptions& options, ServerDeps deps)
    : opt_(options),
      deps_(deps),
      clock_(opt_.clock != nullptr ? *opt_.clock : SystemClock()),
      owned_metrics_(deps.metrics == nullptr ? std::make_unique<monitor::MetricRegistry>() : nullptr),
      metrics_(deps.metrics != nullptr ? *deps.metrics : *owned_metrics_),
      cache_(opt_.cache_entries, opt_.cache_bytes),
      auth_(deps.store->metadata()),
      manager_(ManagerOptions(opt_.policy, [this](const ServableEvent& e) { OnServableEvent(e); }), *deps.artifacts,
               *deps.models, &deps.store->series(), clock_) {}

ServeCore::~ServeCore() { StopPolling(); }

void ServeCore::Init() {
  SetUpMetrics();
  ApiContext ctx;
  ctx.manager = &manager_;
  ctx.store = deps_.store;
  ctx.models = deps_.models;
  ctx.auth = &auth_;
  ctx.cache = &cache_;
  ctx.metrics = &metrics_;
  ctx.clock = &clock_;
  ctx.transform = &opt_.transform;
  ctx.no_auth = opt_.no_auth;
  ctx.no_auth_user = opt_.no_auth_user;
  ctx.store_status = [this]() -> std::pair<bool, std::string> {
    std::lock_guard lock(store_error_mu_);
    return {store_ok_.load(), store_error_};
  };
  ctx.openapi_json = OpenApiDocument();
  ctx.cache_hits = cache_hits_;
  ctx.cache_misses = cache_misses_;
  ctx.logger = opt_.logger;
  ctx.record_forecast = [this](const LoadedVersion& lv, const models::Forecast& fc) { RecordForecast(lv, fc); };
  api_ = std::make_unique<HttpApi>(std::move(ctx));
  // The first poll loads what the policy wants before the port opens.
  Poll(/*force=*/true);
}

void ServeCore::StartPolling() {
  poller_ = std::thread([this] { PollLoop(); });
}

void ServeCore::StopPolling() {
  {
    std::lock_guard lock(poll_mu_);
    poll_stop_ = true;
  }
  poll_cv_.notify_all();
  if (poller_.joinable()) poller_.join();
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
                                {"http.request.method", r.method},
                                {"url.path", path},
                                {"http.response.status_code", r.status},
                                {"event.duration", ns},
                                {"parent.id", r.parent_id},
                                {"user.name", r.user}};
  size_t n = 8;  // the optional ones last, present only when set
  if (!r.parent_id.empty()) fields[n++] = fields[8];
  if (!r.user.empty()) fields[n++] = fields[9];
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

void ServeCore::RecordForecast(const LoadedVersion& lv, const models::Forecast& fc) {
  std::string key = lv.model;
  key += '\x1f';
  key += std::to_string(lv.version);
  key += '\x1f';
  key += lv.history_end.ToString();
  std::lock_guard lock(forecasts_mu_);
  size_t& recorded = recorded_horizon_[key];
  if (fc.mean.size() <= recorded || pending_forecasts_.size() >= 10'000) return;
  recorded = fc.mean.size();
  store::IssuedForecastRecord r;
  r.model = lv.model;
  r.version = lv.version;
  r.target = lv.manifest.target;
  r.origin = lv.history_end.ToString();
  r.mean = fc.mean;
  for (const auto& pi : fc.intervals) {
    r.levels.push_back(pi.level);
    r.lower.push_back(pi.lower);
    r.upper.push_back(pi.upper);
  }
  r.issued_at = clock_.NowMicros();
  r.issued_by = "serve";
  pending_forecasts_.push_back(std::move(r));
}

bool ServeCore::StorePendingForecasts() {
  std::vector<store::IssuedForecastRecord> batch;
  {
    std::lock_guard lock(forecasts_mu_);
    batch.swap(pending_forecasts_);
  }
  if (batch.empty()) return false;
  bool wrote = false;
  Status s = deps_.store->metadata().Run([&](store::MetadataTxn& txn) -> Status {
    for (const auto& f : batch) {
      ALMANAC_ASSIGN_OR_RETURN(bool w, txn.PutForecast(f));
      wrote = wrote || w;
    }
    return Status::Ok();
  });
  if (!s.ok()) {
    Log("ERROR: cannot store " + std::to_string(batch.size()) + " issued forecast(s): " + s.message());
    // Forget them so that the next request queues them again.
    std::lock_guard lock(forecasts_mu_);
    for (const auto& f : batch)
      recorded_horizon_.erase(f.model + '\x1f' + std::to_string(f.version) + '\x1f' + f.origin);
    return false;
  }
  return wrote;
}

void ServeCore::RefreshAccuracy() {
  if (!opt_.accuracy) return;
  auto a = opt_.accuracy();
  if (!a.ok()) {
    Log("ERROR: cannot evaluate forecast accuracy: " + a.status().message());
    return;
  }
  accuracy_metrics_->Publish(*a);
}

void ServeCore::RefreshStoreMetrics() {
  if (Status s = store_metrics_->Refresh(); !s.ok()) Log("ERROR: cannot read series freshness: " + s.message());
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
  model_info_ = &metrics_.AddGauge("almanac_model_version_info",
                                   "Model versions loaded and served (value 1), with their stage label.",
                                   {"model", "version", "stage"});
  lifecycle_ = &metrics_.AddCounter(
      "almanac_model_lifecycle_events_total",
      "Lifecycle changes of model versions (new, loading, ready, unloading, disabled, error).", {"state"});
  reloads_ = &metrics_.AddCounter("almanac_model_reloads_total",
                                  "Model version loads: success (swapped in) or failure (the previous version stays).",
                                  {"result"});
  polls_ = &metrics_.AddCounter("almanac_registry_polls_total",
                                "Polls of the store for registry, token and data changes.", {"result"});
  cache_hits_ = &metrics_.AddCounter("almanac_forecast_cache_hits_total", "Forecast requests answered from the cache.")
                     .WithLabels(std::vector<std::string>{});
  cache_misses_ =
      &metrics_.AddCounter("almanac_forecast_cache_misses_total", "Forecast requests computed (not in the cache).")
           .WithLabels(std::vector<std::string>{});
  auto& entries = metrics_.AddGauge("almanac_forecast_cache_entries", "Entries in the forecast cache.")
                      .WithLabels(std::vector<std::string>{});
  auto& bytes = metrics_.AddGauge("almanac_forecast_cache_bytes", "Bytes held by the forecast cache.")
                    .WithLabels(std::vector<std::string>{});
  metrics_.AddCollector([this, &entries, &bytes] {
    entries.Set(static_cast<double>(cache_.entries()));
    bytes.Set(static_cast<double>(cache_.bytes()));
  });
  monitor::AddProcessMetrics(metrics_);
  store_metrics_ = std::make_unique<monitor::StoreMetrics>(metrics_, deps_.store->series());
  accuracy_metrics_ = std::make_unique<monitor::AccuracyMetrics>(metrics_);
  for (const char* reason : {"overloaded", "body_too_large", "header_too_large", "header_timeout", "read_timeout",
                             "malformed", "connection_limit"})
    rejected_->WithLabels({reason});
  for (const char* result : {"success", "failure"}) reloads_->WithLabels({result}), polls_->WithLabels({result});
}

void ServeCore::OnServableEvent(const ServableEvent& e) {
  lifecycle_->WithLabels({ServableStateName(e.state)}).Inc();
  const std::string id = e.model + "@" + std::to_string(e.version);
  switch (e.state) {
    case ServableState::kReady: {
      std::string labels;
      for (const auto& l : e.labels) labels += (labels.empty() ? "" : ",") + l;
      Log("serving " + id + (labels.empty() ? "" : " as " + labels));
      reloads_->WithLabels({"success"}).Inc();
      break;
    }
    case ServableState::kError:
      Log("ERROR: cannot load " + id + " (the previous version, if any, stays served): " + e.error);
      reloads_->WithLabels({"failure"}).Inc();
      break;
    case ServableState::kDisabled:
      Log("unloaded " + id);
      break;
    default:
      break;
  }
}

void ServeCore::Poll(bool force) {
  const bool new_forecasts = StorePendingForecasts();
  // Tokens' last-used times (not audited: the audit head does not move).
  if (Status s = auth_.FlushLastUsed(); !s.ok()) Log("ERROR: cannot record the tokens' last use: " + s.message());
  auto head = deps_.store->metadata().AuditHead();
  if (!head.ok()) {
    polls_->WithLabels({"failure"}).Inc();
    if (store_ok_.exchange(false)) Log("ERROR: the store is unreachable: " + head.status().message());
    std::lock_guard lock(store_error_mu_);
    store_error_ = head.status().message();
    return;
  }
  const bool moved = !last_head_ || *last_head_ != *head;
  if (!force && !moved && pending_failures_ == 0 && !new_forecasts) {
    polls_->WithLabels({"success"}).Inc();
    if (!store_ok_.exchange(true)) Log("the store is reachable again");
    return;
  }
  auto state = ReadRegistryState(deps_.store->metadata());
  if (!state.ok()) {
    polls_->WithLabels({"failure"}).Inc();
    if (store_ok_.exchange(false)) Log("ERROR: cannot read the registry: " + state.status().message());
    std::lock_guard lock(store_error_mu_);
    store_error_ = state.status().message();
    return;
  }
  if (!store_ok_.exchange(true)) Log("the store is reachable again");
  polls_->WithLabels({"success"}).Inc();
  if (moved) {
    // Any write (new data, a promotion, a token change) is in the audit log: the tokens are
    // reread and cached forecasts dropped (as_of answers depend on the data).
    if (Status s = auth_.Refresh(); !s.ok()) Log("ERROR: cannot read the API tokens: " + s.message());
    cache_.Clear();
    // Data freshness per series: a new vintage is always an audit-log move.
    RefreshStoreMetrics();
  }
  ServableManager::ReconcileReport r = manager_.Reconcile(*state);
  pending_failures_ = r.failed;
  if (r.changed) cache_.Clear();
  // The info metric: one series per served version and label; stale ones removed, none
  // missing in between (a scrape during a reload sees the old or the new set).
  std::map<std::vector<std::string>, bool> now;
  for (const auto& [model, handles] : manager_.Loaded())
    for (const auto& h : handles) now[{model, std::to_string(h.version->version), h.label}] = true;
  for (const auto& [labels, unused] : now) model_info_->WithLabels(labels).Set(1);
  for (const auto& [labels, unused] : info_labels_)
    if (!now.count(labels)) model_info_->Remove(labels);
  info_labels_ = std::move(now);
  last_head_ = *head;
  // Realized accuracy changes with new actuals (an audit move), new forecasts or a promotion.
  if (moved || new_forecasts || r.changed) RefreshAccuracy();
}

void ServeCore::PollLoop() {
  const auto interval = std::chrono::microseconds(static_cast<int64_t>(std::max(0.01, opt_.poll_seconds) * 1e6));
  // With a store that announces writes (PostgreSQL NOTIFY), a promotion or new data is picked
  // up at once; the interval stays as the fallback. Waits are sliced so shutdown stays prompt.
  std::unique_ptr<store::ChangeWatcher> watcher;
  if (auto w = deps_.store->WatchChanges(); w.ok()) {
    watcher = std::move(*w);
    Log("watching the store for changes (polling every " + FormatFixed(opt_.poll_seconds, 1) + " s as a fallback)");
  }
  std::unique_lock lock(poll_mu_);
  while (!poll_stop_) {
    if (watcher) {
      const auto deadline = std::chrono::steady_clock::now() + interval;
      bool notified = false;
      while (!poll_stop_ && !notified && watcher && std::chrono::steady_clock::now() < deadline) {
        lock.unlock();
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        auto r = watcher->Wait(std::clamp(left, std::chrono::milliseconds(1), std::chrono::milliseconds(200)));
        if (!r.ok()) {
          Log("WARNING: change notifications lost (" + r.status().message() + "); polling only");
          watcher.reset();
        } else {
          notified = *r;
        }
        lock.lock();
      }
      if (!watcher && !notified) poll_cv_.wait_until(lock, deadline, [&] { return poll_stop_; });
    } else {
      poll_cv_.wait_for(lock, interval, [&] { return poll_stop_; });
    }
    if (poll_stop_) break;
    lock.unlock();
    try {
      Poll(false);
    } catch (const std::exception& e) {
      Log(std::string("ERROR: poll failed: ") + e.what());
    }
    lock.lock();
  }
}

}  // namespace almanac::serve
