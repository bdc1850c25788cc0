// The loader (package -> LoadedVersion) and the manager (atomic swaps, handles, lifecycle).
#include <algorithm>
#include <cmath>

#include "almanac/serve.h"
#include "serve/http_api.h"

namespace almanac::serve {

std::string Hint(std::string_view name, const std::vector<std::string>& candidates) {
  const std::string best = DidYouMean(name, candidates);
  return best.empty() ? std::string() : " (did you mean '" + best + "'?)";
}

std::string_view ServableStateName(ServableState s) {
  switch (s) {
    case ServableState::kNew:
      return "new";
    case ServableState::kLoading:
      return "loading";
    case ServableState::kReady:
      return "ready";
    case ServableState::kUnloading:
      return "unloading";
    case ServableState::kDisabled:
      return "disabled";
    case ServableState::kError:
      return "error";
  }
  return "error";
}

int HttpStatusFor(const Status& status, bool request_too_large) {
  switch (status.code()) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAborted:
      return 409;
    case StatusCode::kResourceExhausted:
      return request_too_large ? 413 : 429;
    case StatusCode::kUnimplemented:
      return 501;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

// ------------------------------------------------------------------------------ loader

Result<std::shared_ptr<const LoadedVersion>> LoadVersion(const AspiredVersion& v, store::ArtifactStore& artifacts,
                                                         const models::ForecasterRegistry& models,
                                                         store::SeriesStore* series, const Clock& clock) {
  const std::string id = v.model + "@" + std::to_string(v.version);
  // The artifact store checks the bytes against the SHA-256 the registry recorded.
  auto bytes = artifacts.Get(v.artifact_name, v.artifact_sha256);
  if (!bytes.ok()) return bytes.status().WithContext("loading " + id);
  auto package = registry::ParsePackage(*bytes);
  if (!package.ok()) return package.status().WithContext("loading " + id);
  // A var/bvar version (issue 24) is for the risk routes, not for /v1/forecast: recorded as
  // not servable rather than failed, so that it neither errors nor blocks readiness.
  std::string type = package->manifest.model_type;
  const Json& env = package->model_envelope;
  if (env.contains("spec") && env["spec"].is_object() && env["spec"].contains("type") && env["spec"]["type"].is_string())
    type = env["spec"]["type"].get<std::string>();
  const models::ModelType* row = models.Find(type);
  if (!package->manifest.variables.empty() || (row != nullptr && row->kind != models::ModelKind::kUnivariate)) {
    auto lv = std::make_shared<LoadedVersion>();
    lv->model = v.model;
    lv->version = v.version;
    lv->artifact_name = v.artifact_name;
    lv->package_sha256 = v.artifact_sha256;
    lv->manifest = std::move(package->manifest);
    lv->method = type;
    const std::string vars = JoinList(lv->manifest.variables);
    lv->not_servable = id + " is a " + type + " model (multivariate" + (vars.empty() ? "" : ": " + vars) +
                       "), not servable by /v1/forecast; simulate from it with POST /v1/risk/portfolio "
                       "(registered_model " + id + ") or almanac risk portfolio --model " + id;
    lv->loaded_at = clock.NowMicros();
    return std::shared_ptr<const LoadedVersion>(std::move(lv));
  }
  auto model = models.Load(package->model_envelope);
  if (!model.ok()) return model.status().WithContext("loading " + id);

  auto lv = std::make_shared<LoadedVersion>();
  lv->model = v.model;
  lv->version = v.version;
  lv->artifact_name = v.artifact_name;
  lv->package_sha256 = v.artifact_sha256;
  lv->manifest = std::move(package->manifest);
  lv->method = (*model)->Describe().method;
  auto freq = ParseFrequency(lv->manifest.frequency);
  if (!freq.ok()) return freq.status().WithContext("loading " + id + ": manifest frequency");
  lv->frequency = *freq;
  auto end = Period::Parse(lv->manifest.history_end, *freq);
  if (!end.ok()) return end.status().WithContext("loading " + id + ": manifest history_end");
  lv->history_end = *end;
  // A version is ready only when it can forecast: one small test forecast, checked finite.
  const double level = 80;
  auto probe = (*model)->Predict(1, std::span<const double>(&level, 1));
  if (!probe.ok()) return probe.status().WithContext("loading " + id + ": test forecast");
  if (probe->mean.size() != 1 || !std::isfinite(probe->mean[0]) || probe->intervals.size() != 1 ||
      !std::isfinite(probe->intervals[0].lower[0]) || !std::isfinite(probe->intervals[0].upper[0]))
    return DataLossError("loading " + id + ": the model's test forecast is not finite");
  lv->forecaster = std::move(*model);
  if (series != nullptr && !lv->manifest.snapshot_id.empty()) {
    auto snap = series->GetSnapshot(lv->manifest.snapshot_id);
    if (snap.ok()) {
      for (const auto& s : snap->series) lv->input_series.push_back(s.key);
      lv->snapshot_as_of = snap->info.as_of;
    }
  }
  lv->loaded_at = clock.NowMicros();
  return std::shared_ptr<const LoadedVersion>(std::move(lv));
}

// ----------------------------------------------------------------------------- manager

ServableManager::ServableManager(Options options, store::ArtifactStore& artifacts,
                                 const models::ForecasterRegistry& models, store::SeriesStore* series,
                                 const Clock& clock)
    : options_(std::move(options)), artifacts_(artifacts), models_(models), series_(series), clock_(clock) {
  map_.store(std::make_shared<const ServingMap>());
}

void ServableManager::Publish(const std::string& model, int64_t version, ServableState state,
                              const std::vector<std::string>& labels, const std::string& error) {
  {
    std::lock_guard lock(status_mu_);
    ServableStatus& s = status_[{model, version}];
    s.model = model;
    s.version = version;
    s.state = state;
    s.labels = labels;
    s.error = error;
    s.since = clock_.NowMicros();
  }
  if (options_.on_event) options_.on_event({model, version, state, labels, error});
}

ServableManager::ReconcileReport ServableManager::Reconcile(const std::vector<RegistryVersion>& registry) {
  std::lock_guard reconcile(reconcile_mu_);
  ReconcileReport report;
  const std::vector<AspiredVersion> aspired = AspiredVersions(options_.policy, registry);
  const std::shared_ptr<const ServingMap> cur = map_.load();
  auto next = std::make_shared<ServingMap>();
  const int64_t now = clock_.NowMicros();

  auto current_version = [&](const std::string& model, int64_t version) -> std::shared_ptr<const LoadedVersion> {
    auto m = cur->versions.find(model);
    if (m == cur->versions.end()) return nullptr;
    auto v = m->second.find(version);
    return v == m->second.end() ? nullptr : v->second;
  };

  // 1. Load what is wanted and not loaded yet.
  std::vector<std::pair<std::string, int64_t>> newly_loaded;
  for (const auto& a : aspired) {
    const auto key = std::make_pair(a.model, a.version);
    auto have = current_version(a.model, a.version);
    if (have != nullptr && have->package_sha256 == a.artifact_sha256) {
      next->versions[a.model][a.version] = have;
      continue;
    }
    if (auto m = cur->not_servable.find(a.model); m != cur->not_servable.end()) {
      auto nv = m->second.find(a.version);
      if (nv != m->second.end() && nv->second->package_sha256 == a.artifact_sha256) {
        next->not_servable[a.model][a.version] = nv->second;  // said once, when it was read
        continue;
      }
    }
    if (auto f = failed_at_.find(key); f != failed_at_.end() && now - f->second < options_.retry_after_micros) {
      ++report.failed;
      continue;  // reported when it failed; retried later
    }
    bool known;
    {
      std::lock_guard lock(status_mu_);
      known = status_.count(key) > 0;
    }
    if (!known) Publish(a.model, a.version, ServableState::kNew, a.labels, "");
    Publish(a.model, a.version, ServableState::kLoading, a.labels, "");
    auto loaded = LoadVersion(a, artifacts_, models_, series_, clock_);
    if (!loaded.ok()) {
      ++report.failed;
      report.errors.push_back(loaded.status().message());
      failed_at_[key] = now;
      Publish(a.model, a.version, ServableState::kError, a.labels, loaded.status().message());
      continue;
    }
    failed_at_.erase(key);
    if (!(*loaded)->not_servable.empty()) {
      next->not_servable[a.model][a.version] = *loaded;
      Publish(a.model, a.version, ServableState::kDisabled, a.labels, (*loaded)->not_servable);
      continue;
    }
    ++report.loaded;
    newly_loaded.push_back(key);
    next->versions[a.model][a.version] = *loaded;
  }

  // 2. Point each label at its wanted version, or keep the one it had when that failed.
  for (const auto& a : aspired) {
    for (const auto& label : a.labels) {
      if (label == "pinned") continue;
      if (auto m = next->not_servable.find(a.model); m != next->not_servable.end() && m->second.count(a.version)) {
        next->not_servable_labels[a.model][label] = a.version;  // asked for, answered with why not
        continue;
      }
      if (next->versions[a.model].count(a.version)) {
        next->labels[a.model][label] = a.version;
        continue;
      }
      auto lm = cur->labels.find(a.model);
      if (lm == cur->labels.end()) continue;
      auto old = lm->second.find(label);
      if (old == lm->second.end()) continue;
      auto keep = current_version(a.model, old->second);
      if (keep == nullptr) continue;
      next->versions[a.model][old->second] = keep;
      next->labels[a.model][label] = old->second;
    }
  }
  for (auto it = next->versions.begin(); it != next->versions.end();)
    it = it->second.empty() ? next->versions.erase(it) : std::next(it);

  // 3. Swap in one step; unload what is no longer wanted.
  std::vector<std::pair<std::string, int64_t>> gone;
  for (const auto& [model, versions] : cur->versions)
    for (const auto& [version, lv] : versions) {
      auto m = next->versions.find(model);
      if (m == next->versions.end() || !m->second.count(version) || m->second.at(version) != lv) gone.emplace_back(model, version);
    }
  bool changed = !gone.empty() || report.loaded > 0 || next->labels != cur->labels ||
                 next->not_servable != cur->not_servable || next->not_servable_labels != cur->not_servable_labels;
  for (const auto& [model, version] : gone) Publish(model, version, ServableState::kUnloading, {}, "");
  if (changed) {
    map_.store(std::shared_ptr<const ServingMap>(std::move(next)));
    generation_.fetch_add(1);
  }
  report.unloaded = static_cast<int>(gone.size());
  report.changed = changed;
  // Ready once served; labels of versions that stayed loaded may have changed too
  // (staging -> production), so every ready status gets its labels from the new map.
  const std::shared_ptr<const ServingMap> served = map_.load();
  auto labels_of = [&](const std::string& model, int64_t version) {
    std::vector<std::string> labels;
    auto lm = served->labels.find(model);
    if (lm != served->labels.end())
      for (const auto& [label, v] : lm->second)
        if (v == version) labels.push_back(label);
    for (const auto& a : aspired)
      if (a.model == model && a.version == version && std::find(a.labels.begin(), a.labels.end(), "pinned") != a.labels.end())
        labels.push_back("pinned");
    return labels;
  };
  for (const auto& [model, version] : newly_loaded) Publish(model, version, ServableState::kReady, labels_of(model, version), "");
  for (const auto& [model, version] : gone) {
    bool reloaded = false;
    for (const auto& a : aspired) reloaded |= a.model == model && a.version == version;
    if (!reloaded) Publish(model, version, ServableState::kDisabled, {}, "");
  }
  {
    std::lock_guard lock(status_mu_);
    aspired_ = aspired;
    for (auto& [key, st] : status_)
      if (st.state == ServableState::kReady) st.labels = labels_of(key.first, key.second);
  }
  return report;
}

Result<ServableHandle> ServableManager::Get(std::string_view model, const VersionRef& ref) const {
  const std::shared_ptr<const ServingMap> m = map_.load();
  // A multivariate version asked for by number or alias: why it is not served.
  if (auto ns = m->not_servable.find(std::string(model)); ns != m->not_servable.end()) {
    std::optional<int64_t> asked = ref.version;
    if (!asked) {
      const std::string alias = ref.alias.empty() ? "production" : ref.alias;
      auto nl = m->not_servable_labels.find(std::string(model));
      if (nl != m->not_servable_labels.end() && nl->second.count(alias)) asked = nl->second.at(alias);
    }
    if (asked && ns->second.count(*asked)) return FailedPreconditionError(ns->second.at(*asked)->not_servable);
  }
  auto mv = m->versions.find(std::string(model));
  if (mv == m->versions.end()) {
    std::vector<std::string> served;
    for (const auto& [name, v] : m->versions) served.push_back(name);
    return NotFoundError("model " + QuoteForMessage(model) + " is not served by this server (policy " +
                         FormatVersionPolicy(options_.policy) + ")" + Hint(model, served));
  }
  auto describe = [&]() {
    std::string s;
    auto lm = m->labels.find(std::string(model));
    for (const auto& [v, lv] : mv->second) {
      std::string tags;
      if (lm != m->labels.end())
        for (const auto& [label, lv_num] : lm->second)
          if (lv_num == v) tags += (tags.empty() ? "" : ", ") + label;
      s += (s.empty() ? "" : "; ") + std::to_string(v) + " (" + (tags.empty() ? std::string("pinned") : tags) + ")";
    }
    return s;
  };
  if (ref.version) {
    auto v = mv->second.find(*ref.version);
    if (v == mv->second.end())
      return NotFoundError("model " + std::string(model) + " version " + std::to_string(*ref.version) +
                           " is not served by this server (it serves version " + describe() + ")");
    return ServableHandle{v->second, "version"};
  }
  const std::string alias = ref.alias.empty() ? "production" : ref.alias;
  if (alias != "production" && alias != "staging")
    return InvalidArgumentError("unknown alias " + QuoteForMessage(alias) + " (use production or staging, or a version number)");
  auto lm = m->labels.find(std::string(model));
  if (lm == m->labels.end() || !lm->second.count(alias))
    return NotFoundError("model " + std::string(model) + " has no " + alias + " version served by this server (it serves version " +
                         describe() + ")");
  return ServableHandle{mv->second.at(lm->second.at(alias)), alias};
}

std::map<std::string, std::vector<ServableHandle>> ServableManager::Loaded() const {
  const std::shared_ptr<const ServingMap> m = map_.load();
  std::map<std::string, std::vector<ServableHandle>> out;
  for (const auto& [model, versions] : m->versions) {
    auto lm = m->labels.find(model);
    for (const auto& [v, lv] : versions) {
      std::string labels;
      if (lm != m->labels.end())
        for (const auto& [label, num] : lm->second)
          if (num == v) labels += (labels.empty() ? "" : ",") + label;
      out[model].push_back({lv, labels.empty() ? "pinned" : labels});
    }
  }
  return out;
}

std::vector<ServableStatus> ServableManager::Statuses() const {
  std::lock_guard lock(status_mu_);
  std::vector<ServableStatus> out;
  for (const auto& [k, s] : status_) out.push_back(s);
  return out;
}

bool ServableManager::Ready() const {
  const std::shared_ptr<const ServingMap> m = map_.load();
  std::lock_guard lock(status_mu_);
  for (const auto& a : aspired_) {
    // A multivariate version is settled once read (not servable, said why).
    if (auto ns = m->not_servable.find(a.model); ns != m->not_servable.end() && ns->second.count(a.version)) continue;
    for (const auto& label : a.labels) {
      if (label == "pinned") {
        auto mv = m->versions.find(a.model);
        if (mv == m->versions.end() || !mv->second.count(a.version)) return false;
        continue;
      }
      auto lm = m->labels.find(a.model);
      if (lm == m->labels.end() || !lm->second.count(label)) return false;
    }
  }
  return true;
}

}  // namespace almanac::serve
