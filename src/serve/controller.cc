#include "serve/controller.h"

#include <algorithm>
#include <chrono>

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

Controller::Controller(const ServerOptions& options, ServerDeps deps, const Clock& clock,
                       monitor::MetricRegistry& metrics, std::function<void(std::string_view)> log)
    : opt_(options),
      deps_(deps),
      clock_(clock),
      metrics_(metrics),
      log_(std::move(log)),
      cache_(opt_.cache_entries, opt_.cache_bytes),
      auth_(deps.store->metadata()),
      manager_(ManagerOptions(opt_.policy, [this](const ServableEvent& e) { OnServableEvent(e); }), *deps.artifacts,
               *deps.models, &deps.store->series(), clock_) {}

Controller::~Controller() { StopPolling(); }

void Controller::Init() {
  SetUpMetrics();
  // The first poll loads what the policy wants before the port opens.
  Poll(/*force=*/true);
}

void Controller::StartPolling() {
  poller_ = std::thread([this] { PollLoop(); });
}

void Controller::StopPolling() {
  {
    std::lock_guard lock(poll_mu_);
    poll_stop_ = true;
  }
  poll_cv_.notify_all();
  if (poller_.joinable()) poller_.join();
}

std::pair<bool, std::string> Controller::StoreStatus() const {
  std::lock_guard lock(store_error_mu_);
  return {store_ok_.load(), store_error_};
}

void Controller::SetUpMetrics() {
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
  auto& entries = metrics_.AddGauge("almanac_forecast_cache_entries", "Entries in the forecast cache.")
                      .WithLabels(std::vector<std::string>{});
  auto& bytes = metrics_.AddGauge("almanac_forecast_cache_bytes", "Bytes held by the forecast cache.")
                    .WithLabels(std::vector<std::string>{});
  metrics_.AddCollector([this, &entries, &bytes] {
    entries.Set(static_cast<double>(cache_.entries()));
    bytes.Set(static_cast<double>(cache_.bytes()));
  });
  store_metrics_ = std::make_unique<monitor::StoreMetrics>(metrics_, deps_.store->series());
  accuracy_metrics_ = std::make_unique<monitor::AccuracyMetrics>(metrics_);
  for (const char* result : {"success", "failure"}) reloads_->WithLabels({result}), polls_->WithLabels({result});
}

void Controller::OnServableEvent(const ServableEvent& e) {
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
      Log(e.error.empty() ? "unloaded " + id : "not serving " + id + ": " + e.error);
      break;
    default:
      break;
  }
}

void Controller::RecordForecast(const LoadedVersion& lv, const models::Forecast& fc) {
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

bool Controller::StorePendingForecasts() {
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

void Controller::RefreshAccuracy() {
  if (!opt_.accuracy) return;
  auto a = opt_.accuracy();
  if (!a.ok()) {
    Log("ERROR: cannot evaluate forecast accuracy: " + a.status().message());
    return;
  }
  accuracy_metrics_->Publish(*a);
}

void Controller::RefreshStoreMetrics() {
  if (Status s = store_metrics_->Refresh(); !s.ok()) Log("ERROR: cannot read series freshness: " + s.message());
}

void Controller::PollFailed(std::string_view what, const Status& s) {
  polls_->WithLabels({"failure"}).Inc();
  if (store_ok_.exchange(false)) Log("ERROR: " + std::string(what) + ": " + s.message());
  std::lock_guard lock(store_error_mu_);
  store_error_ = s.message();
}

void Controller::Poll(bool force) {
  const bool new_forecasts = StorePendingForecasts();
  // Tokens' last-used times (not audited: the audit head does not move).
  if (Status s = auth_.FlushLastUsed(); !s.ok()) Log("ERROR: cannot record the tokens' last use: " + s.message());
  auto head = deps_.store->metadata().AuditHead();
  if (!head.ok()) return PollFailed("the store is unreachable", head.status());
  const bool moved = !last_head_ || *last_head_ != *head;
  if (!force && !moved && pending_failures_ == 0 && !new_forecasts) {
    polls_->WithLabels({"success"}).Inc();
    if (!store_ok_.exchange(true)) Log("the store is reachable again");
    return;
  }
  auto state = ReadRegistryState(deps_.store->metadata());
  if (!state.ok()) return PollFailed("cannot read the registry", state.status());
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

void Controller::PollLoop() {
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
