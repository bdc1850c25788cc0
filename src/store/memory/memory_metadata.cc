#include "store/memory/memory_metadata.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <tuple>

#include "store/record_text.h"
#include "store/rows.h"

namespace almanac::store::memory {

Result<AuditEntry> AppendAudit(State& state, const Clock& clock, const AuditEvent& event) {
  const int64_t seq = state.audit.empty() ? 0 : state.audit.back().seq;
  std::string prev_hash = state.audit.empty() ? std::string(64, '0') : state.audit.back().hash;
  ALMANAC_ASSIGN_OR_RETURN(AuditEntry e, NextAuditEntry(seq, std::move(prev_hash), clock, event));
  state.audit.push_back(e);
  return e;
}

namespace {

template <typename Map, typename Key>
auto FindOr(Map& m, const Key& k) -> decltype(&m.begin()->second) {
  auto it = m.find(k);
  return it == m.end() ? nullptr : &it->second;
}

class MemoryTxn : public MetadataTxn {
 public:
  MemoryTxn(State& s, const Clock& clock) : s_(s), clock_(clock) {}
  const Clock& clock() const override { return clock_; }

  Status InsertRun(const RunRecord& r) override {
    if (!s_.runs.emplace(r.id, r).second) return AlreadyExistsError("run " + r.id + " already exists");
    return Status::Ok();
  }
  Status UpdateRun(const RunRecord& r) override {
    auto* p = FindOr(s_.runs, r.id);
    if (p == nullptr) return NotFoundError("no run " + r.id);
    *p = r;
    return Status::Ok();
  }
  Result<RunRecord> GetRun(std::string_view id) override {
    auto* p = FindOr(s_.runs, std::string(id));
    if (p == nullptr) return NotFoundError("no run " + QuoteForMessage(id));
    return *p;
  }
  Result<std::vector<RunRecord>> ListRuns(const RunFilter& f) override {
    std::vector<RunRecord> out;
    for (const auto& [id, r] : s_.runs) {
      if (!f.experiment.empty() && r.experiment != f.experiment) continue;
      if (!f.pipeline.empty() && r.pipeline != f.pipeline) continue;
      if (f.status && r.status != *f.status) continue;
      out.push_back(r);
    }
    std::sort(out.begin(), out.end(), [](const RunRecord& a, const RunRecord& b) {
      return a.start_time != b.start_time ? a.start_time > b.start_time : a.id > b.id;
    });
    if (f.limit > 0 && static_cast<int>(out.size()) > f.limit) out.resize(static_cast<size_t>(f.limit));
    return out;
  }
  Status InsertParams(std::string_view run_id, const std::vector<std::pair<std::string, std::string>>& params) override {
    ALMANAC_RETURN_IF_ERROR(GetRun(run_id).status());
    auto& m = s_.params[std::string(run_id)];
    for (const auto& [k, v] : params)
      if (!m.emplace(k, v).second)
        return AlreadyExistsError("parameter " + k + " of run " + std::string(run_id) + " already exists");
    return Status::Ok();
  }
  Result<std::vector<std::pair<std::string, std::string>>> GetParams(std::string_view run_id) override {
    auto* m = FindOr(s_.params, std::string(run_id));
    if (m == nullptr) return std::vector<std::pair<std::string, std::string>>{};
    return std::vector<std::pair<std::string, std::string>>(m->begin(), m->end());
  }
  Status InsertMetrics(std::string_view run_id, const std::vector<MetricPoint>& points) override {
    ALMANAC_RETURN_IF_ERROR(GetRun(run_id).status());
    auto& v = s_.metrics[std::string(run_id)];
    v.insert(v.end(), points.begin(), points.end());
    return Status::Ok();
  }
  Result<std::vector<MetricPoint>> GetMetrics(std::string_view run_id) override {
    auto* m = FindOr(s_.metrics, std::string(run_id));
    std::vector<MetricPoint> out = m ? *m : std::vector<MetricPoint>{};
    std::stable_sort(out.begin(), out.end(), [](const MetricPoint& a, const MetricPoint& b) {
      return a.key != b.key ? a.key < b.key : a.step < b.step;
    });
    return out;
  }
  Status SetTags(std::string_view run_id, const std::vector<std::pair<std::string, std::string>>& tags) override {
    ALMANAC_RETURN_IF_ERROR(GetRun(run_id).status());
    for (const auto& [k, v] : tags) s_.tags[std::string(run_id)][k] = v;
    return Status::Ok();
  }
  Result<std::vector<std::pair<std::string, std::string>>> GetTags(std::string_view run_id) override {
    auto* m = FindOr(s_.tags, std::string(run_id));
    if (m == nullptr) return std::vector<std::pair<std::string, std::string>>{};
    return std::vector<std::pair<std::string, std::string>>(m->begin(), m->end());
  }
  Status DeleteTag(std::string_view run_id, std::string_view key) override {
    auto* m = FindOr(s_.tags, std::string(run_id));
    if (m == nullptr || m->erase(std::string(key)) == 0)
      return NotFoundError("no tag " + std::string(key) + " of run " + std::string(run_id));
    return Status::Ok();
  }
  Result<std::vector<std::string>> RunsWithLatestMetric(std::string_view experiment, std::string_view key,
                                                        std::string_view op, double value) override {
    if (op != "<" && op != "<=" && op != ">" && op != ">=" && op != "=")
      return InvalidArgumentError("unsupported metric comparison " + QuoteForMessage(op));
    std::vector<std::string> out;
    for (const auto& [id, r] : s_.runs) {
      if (r.experiment != experiment) continue;
      auto* points = FindOr(s_.metrics, id);
      if (points == nullptr) continue;
      const MetricPoint* latest = nullptr;
      for (const auto& p : *points)  // in write order: a later write wins a tie
        if (p.key == key && (latest == nullptr || std::tie(p.step, p.timestamp) >= std::tie(latest->step, latest->timestamp)))
          latest = &p;
      if (latest == nullptr) continue;
      const double v = latest->value;
      const bool match = op == "<" ? v < value : op == "<=" ? v <= value : op == ">" ? v > value
                                                : op == ">=" ? v >= value : v == value;
      if (match) out.push_back(id);
    }
    return out;
  }
  Result<int64_t> InsertExperiment(const ExperimentRecord& e) override {
    for (const auto& [id, x] : s_.experiments)
      if (x.name == e.name) return AlreadyExistsError("experiment " + e.name + " already exists");
    ExperimentRecord r = e;
    r.id = s_.next_experiment++;
    std::sort(r.tags.begin(), r.tags.end());
    s_.experiments[r.id] = r;
    return r.id;
  }
  Status UpdateExperiment(const ExperimentRecord& e) override {
    auto* p = FindOr(s_.experiments, e.id);
    if (p == nullptr) return NotFoundError("no experiment with id " + std::to_string(e.id));
    for (const auto& [id, x] : s_.experiments)
      if (id != e.id && x.name == e.name) return AlreadyExistsError("experiment " + e.name + " already exists");
    if (p->name != e.name)
      for (auto& [id, r] : s_.runs)
        if (r.experiment == p->name) r.experiment = e.name;
    *p = e;
    std::sort(p->tags.begin(), p->tags.end());
    return Status::Ok();
  }
  Result<ExperimentRecord> GetExperiment(int64_t id) override {
    auto* p = FindOr(s_.experiments, id);
    if (p == nullptr) return NotFoundError("no experiment with id " + std::to_string(id));
    return *p;
  }
  Result<ExperimentRecord> GetExperimentByName(std::string_view name) override {
    for (const auto& [id, x] : s_.experiments)
      if (x.name == name) return x;
    return NotFoundError("no experiment named " + QuoteForMessage(name));
  }
  Result<std::vector<ExperimentRecord>> ListExperiments() override {
    std::vector<ExperimentRecord> out;
    for (const auto& [id, x] : s_.experiments) out.push_back(x);
    return out;
  }
  Status InsertArtifact(std::string_view run_id, const ArtifactRecord& a) override {
    ALMANAC_RETURN_IF_ERROR(GetRun(run_id).status());
    if (!s_.artifacts[std::string(run_id)].emplace(a.name, a).second)
      return AlreadyExistsError("artifact " + a.name + " of run " + std::string(run_id) + " already exists");
    return Status::Ok();
  }
  Result<std::vector<ArtifactRecord>> GetArtifacts(std::string_view run_id) override {
    std::vector<ArtifactRecord> out;
    if (auto* m = FindOr(s_.artifacts, std::string(run_id)))
      for (const auto& [n, a] : *m) out.push_back(a);
    return out;
  }
  Result<std::vector<RunRecord>> GetRuns(const std::vector<std::string>& ids) override {
    std::vector<RunRecord> out;
    std::set<std::string_view> seen;
    for (const auto& id : ids)
      if (auto* r = FindOr(s_.runs, id); r != nullptr && seen.insert(id).second) out.push_back(*r);
    return out;
  }
  Result<MetricsByRun> GetMetricsOfRuns(const std::vector<std::string>& ids) override {
    MetricsByRun out;
    for (const auto& id : ids) {
      ALMANAC_ASSIGN_OR_RETURN(auto points, GetMetrics(id));
      if (!points.empty()) out[id] = std::move(points);
    }
    return out;
  }
  Result<KeyValuesByRun> GetParamsOfRuns(const std::vector<std::string>& ids) override {
    KeyValuesByRun out;
    for (const auto& id : ids) {
      ALMANAC_ASSIGN_OR_RETURN(auto kv, GetParams(id));
      if (!kv.empty()) out[id] = std::move(kv);
    }
    return out;
  }
  Result<KeyValuesByRun> GetTagsOfRuns(const std::vector<std::string>& ids) override {
    KeyValuesByRun out;
    for (const auto& id : ids) {
      ALMANAC_ASSIGN_OR_RETURN(auto kv, GetTags(id));
      if (!kv.empty()) out[id] = std::move(kv);
    }
    return out;
  }
  Result<std::optional<CacheEntry>> GetCache(std::string_view key) override {
    auto* e = FindOr(s_.cache, std::string(key));
    return e ? std::optional<CacheEntry>(*e) : std::optional<CacheEntry>();
  }
  Status PutCache(const CacheEntry& e) override {
    s_.cache[e.key] = e;
    return Status::Ok();
  }
  Status InsertModel(const RegisteredModelRecord& m) override {
    if (!s_.models.emplace(m.name, m).second) return AlreadyExistsError("model " + m.name + " already exists");
    return Status::Ok();
  }
  Status UpdateModel(const RegisteredModelRecord& m) override {
    auto* p = FindOr(s_.models, m.name);
    if (p == nullptr) return NotFoundError("no model " + m.name);
    p->owner = m.owner;
    p->description = m.description;
    p->policy = m.policy;
    p->card = m.card;
    return Status::Ok();
  }
  Result<RegisteredModelRecord> GetModel(std::string_view name) override {
    auto* p = FindOr(s_.models, std::string(name));
    if (p == nullptr) return NotFoundError("no registered model " + QuoteForMessage(name));
    return *p;
  }
  Result<std::vector<RegisteredModelRecord>> ListModels() override {
    std::vector<RegisteredModelRecord> out;
    for (const auto& [n, m] : s_.models) out.push_back(m);
    return out;
  }
  Status InsertVersion(const ModelVersionRecord& v) override {
    if (!s_.models.count(v.model)) return NotFoundError("no registered model " + QuoteForMessage(v.model));
    for (const auto& [k, other] : s_.versions)
      if (other.model == v.model && (other.version == v.version || other.run_id == v.run_id))
        return AlreadyExistsError("model " + v.model + " already has version " + std::to_string(v.version) +
                                  " or a version from run " + v.run_id);
    ALMANAC_RETURN_IF_ERROR(CheckOneProduction(v));
    s_.versions[{v.model, v.version}] = v;
    return Status::Ok();
  }
  Status UpdateVersion(const ModelVersionRecord& v) override {
    auto* p = FindOr(s_.versions, std::make_pair(v.model, v.version));
    if (p == nullptr) return NotFoundError("no version " + std::to_string(v.version) + " of model " + v.model);
    ALMANAC_RETURN_IF_ERROR(CheckOneProduction(v));
    *p = v;
    return Status::Ok();
  }
  Result<ModelVersionRecord> GetVersion(std::string_view model, int64_t version) override {
    auto* p = FindOr(s_.versions, std::make_pair(std::string(model), version));
    if (p == nullptr || s_.deleted_versions.count({std::string(model), version}))
      return NotFoundError("model " + std::string(model) + " has no version " + std::to_string(version));
    return *p;
  }
  Result<std::vector<ModelVersionRecord>> ListVersions(std::string_view model) override {
    std::vector<ModelVersionRecord> out;
    for (const auto& [k, v] : s_.versions)
      if (v.model == model && !s_.deleted_versions.count(k)) out.push_back(v);
    return out;
  }
  Result<int64_t> MaxVersion(std::string_view model) override {
    int64_t m = 0;
    for (const auto& [k, v] : s_.versions)
      if (v.model == model) m = std::max(m, v.version);
    return m;
  }
  Result<int64_t> InsertRequest(const PromotionRequestRecord& r) override {
    PromotionRequestRecord copy = r;
    copy.id = s_.requests.empty() ? 1 : s_.requests.rbegin()->first + 1;
    s_.requests[copy.id] = copy;
    return copy.id;
  }
  Status UpdateRequest(const PromotionRequestRecord& r) override {
    auto* p = FindOr(s_.requests, r.id);
    if (p == nullptr) return NotFoundError("no promotion request " + std::to_string(r.id));
    *p = r;
    return Status::Ok();
  }
  Result<std::vector<PromotionRequestRecord>> ListRequests(std::string_view model) override {
    std::vector<PromotionRequestRecord> out;
    for (const auto& [id, r] : s_.requests)
      if (r.model == model) out.push_back(r);
    return out;
  }

  // MLflow registry (migration 11): tags, aliases, tombstones, delete, rename.
  Status SetModelTag(std::string_view model, int64_t version, std::string_view key, std::string_view value) override {
    s_.model_tags[{std::string(model), version, std::string(key)}] = std::string(value);
    return Status::Ok();
  }
  Status DeleteModelTag(std::string_view model, int64_t version, std::string_view key) override {
    if (s_.model_tags.erase({std::string(model), version, std::string(key)}) == 0)
      return NotFoundError("no tag " + std::string(key) + " of " + std::string(model) + "@" + std::to_string(version));
    return Status::Ok();
  }
  Result<std::vector<std::pair<std::string, std::string>>> GetModelTags(std::string_view model, int64_t version) override {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [k, v] : s_.model_tags)
      if (std::get<0>(k) == model && std::get<1>(k) == version) out.emplace_back(std::get<2>(k), v);
    return out;
  }
  Status SetAlias(std::string_view model, std::string_view alias, int64_t version) override {
    ALMANAC_RETURN_IF_ERROR(GetVersion(model, version).status());
    s_.model_aliases[{std::string(model), std::string(alias)}] = version;
    return Status::Ok();
  }
  Status DeleteAlias(std::string_view model, std::string_view alias) override {
    if (s_.model_aliases.erase({std::string(model), std::string(alias)}) == 0)
      return NotFoundError("no alias " + std::string(alias) + " of model " + std::string(model));
    return Status::Ok();
  }
  Result<std::vector<std::pair<std::string, int64_t>>> ListAliases(std::string_view model) override {
    std::vector<std::pair<std::string, int64_t>> out;
    for (const auto& [k, v] : s_.model_aliases)
      if (k.first == model) out.emplace_back(k.second, v);
    return out;
  }
  Status DeleteVersion(std::string_view model, int64_t version, int64_t at) override {
    ALMANAC_RETURN_IF_ERROR(GetVersion(model, version).status());
    s_.deleted_versions[{std::string(model), version}] = std::max<int64_t>(at, 1);
    std::erase_if(s_.model_tags, [&](const auto& e) { return std::get<0>(e.first) == model && std::get<1>(e.first) == version; });
    std::erase_if(s_.model_aliases, [&](const auto& e) { return e.first.first == model && e.second == version; });
    return Status::Ok();
  }
  Status DeleteModel(std::string_view model) override {
    ALMANAC_RETURN_IF_ERROR(GetModel(model).status());
    std::erase_if(s_.model_aliases, [&](const auto& e) { return e.first.first == model; });
    std::erase_if(s_.model_tags, [&](const auto& e) { return std::get<0>(e.first) == model; });
    std::erase_if(s_.requests, [&](const auto& e) { return e.second.model == model; });
    std::erase_if(s_.deleted_versions, [&](const auto& e) { return e.first.first == model; });
    std::erase_if(s_.versions, [&](const auto& e) { return e.first.first == model; });
    s_.models.erase(std::string(model));
    return Status::Ok();
  }
  Status RenameModel(std::string_view model, std::string_view new_name) override {
    ALMANAC_ASSIGN_OR_RETURN(RegisteredModelRecord m, GetModel(model));
    if (s_.models.count(std::string(new_name))) return AlreadyExistsError("model " + std::string(new_name) + " already exists");
    const std::string from(model), to(new_name);
    m.name = to;
    s_.models.erase(from);
    s_.models[to] = m;
    auto rekey = [&](auto& map, auto key_of) {
      std::remove_reference_t<decltype(map)> moved;
      for (auto it = map.begin(); it != map.end();) {
        if (key_of(it->first) == from) {
          auto node = map.extract(it++);
          moved.insert(std::move(node));
        } else {
          ++it;
        }
      }
      return moved;
    };
    for (auto& [k, v] : rekey(s_.versions, [](const auto& k) { return k.first; })) {
      ModelVersionRecord copy = v;
      copy.model = to;
      s_.versions[{to, k.second}] = copy;
    }
    for (auto& [k, v] : rekey(s_.deleted_versions, [](const auto& k) { return k.first; })) s_.deleted_versions[{to, k.second}] = v;
    for (auto& [k, v] : rekey(s_.model_tags, [](const auto& k) { return std::get<0>(k); }))
      s_.model_tags[{to, std::get<1>(k), std::get<2>(k)}] = v;
    for (auto& [k, v] : rekey(s_.model_aliases, [](const auto& k) { return k.first; })) s_.model_aliases[{to, k.second}] = v;
    for (auto& [id, r] : s_.requests)
      if (r.model == from) r.model = to;
    for (auto& [k, f] : rekey(s_.forecasts, [](const auto& k) { return std::get<0>(k); })) {
      IssuedForecastRecord copy = f;
      copy.model = to;
      s_.forecasts[{to, std::get<1>(k), std::get<2>(k)}] = copy;
    }
    return Status::Ok();
  }
  Status InsertToken(const ApiTokenRecord& t) override {
    for (const auto& [id, other] : s_.tokens)
      if (id == t.id || other.token_sha256 == t.token_sha256)
        return AlreadyExistsError("token " + t.id + " (or its hash) already exists");
    static const char* const kRoles[] = {"viewer", "analyst", "modeler", "approver", "admin"};
    if (std::find(std::begin(kRoles), std::end(kRoles), t.role) == std::end(kRoles))
      return InvalidArgumentError("token " + t.id + ": unknown role " + QuoteForMessage(t.role));
    s_.tokens[t.id] = t;
    return Status::Ok();
  }
  Status UpdateToken(const ApiTokenRecord& t) override {
    auto* p = FindOr(s_.tokens, t.id);
    if (p == nullptr) return NotFoundError("no token " + t.id);
    p->revoked_at = t.revoked_at;
    p->revoked_by = t.revoked_by;
    p->expires_at = t.expires_at;
    return Status::Ok();
  }
  Result<ApiTokenRecord> GetToken(std::string_view id) override {
    auto* p = FindOr(s_.tokens, std::string(id));
    if (p == nullptr) return NotFoundError("no token " + QuoteForMessage(id));
    return *p;
  }
  Result<ApiTokenRecord> GetTokenByHash(std::string_view hash) override {
    for (const auto& [id, t] : s_.tokens)
      if (t.token_sha256 == hash) return t;
    return NotFoundError("no token with that hash");
  }
  Result<std::vector<ApiTokenRecord>> ListTokens() override {
    std::vector<ApiTokenRecord> out;
    for (const auto& [id, t] : s_.tokens) out.push_back(t);
    std::stable_sort(out.begin(), out.end(), [](const ApiTokenRecord& a, const ApiTokenRecord& b) {
      return a.created_at != b.created_at ? a.created_at < b.created_at : a.id < b.id;
    });
    return out;
  }
  Status TouchToken(std::string_view id, int64_t at) override {
    auto* p = FindOr(s_.tokens, std::string(id));
    if (p == nullptr) return NotFoundError("no token " + QuoteForMessage(id));
    p->last_used_at = std::max(p->last_used_at, at);
    return Status::Ok();
  }
  Status PutStoreUser(const StoreUserRecord& u) override {
    s_.store_users[u.principal] = u;
    return Status::Ok();
  }
  Result<StoreUserRecord> GetStoreUser(std::string_view principal) override {
    auto* p = FindOr(s_.store_users, std::string(principal));
    if (p == nullptr) return NotFoundError("no store user " + QuoteForMessage(principal));
    return *p;
  }
  Result<std::vector<StoreUserRecord>> ListStoreUsers() override {
    std::vector<StoreUserRecord> out;
    for (const auto& [principal, u] : s_.store_users) out.push_back(u);
    return out;
  }
  Status DeleteStoreUser(std::string_view principal) override {
    if (s_.store_users.erase(std::string(principal)) == 0) return NotFoundError("no store user " + QuoteForMessage(principal));
    return Status::Ok();
  }
  Result<bool> ClaimScheduledRun(std::string_view pipeline, int64_t fired_at, std::string_view holder) override {
    return s_.scheduled_runs.emplace(std::make_pair(std::string(pipeline), fired_at), std::string(holder)).second;
  }
  Result<AuditEntry> Audit(const AuditEvent& event) override { return AppendAudit(s_, clock_, event); }
  Result<bool> PutForecast(const IssuedForecastRecord& f) override {
    ALMANAC_RETURN_IF_ERROR(ValidateIssuedForecast(f));
    auto key = std::make_tuple(f.model, f.version, f.origin);
    auto it = s_.forecasts.find(key);
    if (it == s_.forecasts.end()) {
      s_.forecasts.emplace(key, f);
      return true;
    }
    if (f.mean.size() <= it->second.mean.size()) return false;
    // Longer horizon: replace the values, keep when and by whom it was first issued.
    const int64_t at = it->second.issued_at;
    const std::string by = it->second.issued_by;
    it->second = f;
    it->second.issued_at = at;
    it->second.issued_by = by;
    return true;
  }
  Result<std::vector<IssuedForecastRecord>> ListForecasts(std::string_view model, int64_t version) override {
    std::vector<IssuedForecastRecord> out;
    for (const auto& [key, f] : s_.forecasts)
      if (f.model == model && (version <= 0 || f.version == version)) out.push_back(f);
    return out;  // the map's order: version, then origin
  }
  Result<int64_t> InsertQuarantine(const QuarantineRecord& q) override {
    ALMANAC_RETURN_IF_ERROR(ValidateQuarantine(q));
    QuarantineRecord copy = q;
    copy.id = s_.quarantine.empty() ? 1 : s_.quarantine.rbegin()->first + 1;
    s_.quarantine[copy.id] = std::move(copy);
    return s_.quarantine.rbegin()->first;
  }
  Result<QuarantineRecord> GetQuarantine(int64_t id) override {
    auto* p = FindOr(s_.quarantine, id);
    if (p == nullptr) return NotFoundError("no quarantined load " + std::to_string(id));
    return *p;
  }
  Result<std::vector<QuarantineRecord>> ListQuarantine(const std::vector<QuarantineState>& states) override {
    std::vector<QuarantineRecord> out;
    for (const auto& [id, q] : s_.quarantine) {
      if (!states.empty() && std::find(states.begin(), states.end(), q.state) == states.end()) continue;
      out.push_back(q);
      out.back().payload.clear();
    }
    return out;
  }
  Result<int64_t> InsertTask(const TaskRecord& t) override {
    ALMANAC_RETURN_IF_ERROR(ValidateTask(t));
    for (const auto& [id, other] : s_.tasks)
      if (other.dedupe_key == t.dedupe_key) return AlreadyExistsError("task " + t.dedupe_key + " already exists");
    TaskRecord copy = t;
    copy.id = s_.tasks.empty() ? 1 : s_.tasks.rbegin()->first + 1;
    s_.tasks[copy.id] = copy;
    return copy.id;
  }
  Result<std::optional<TaskRecord>> ClaimTask(std::string_view worker, int64_t now, int64_t lease_until,
                                              const std::vector<std::string>& kinds) override {
    for (auto& [id, t] : s_.tasks) {
      if (!kinds.empty() && std::find(kinds.begin(), kinds.end(), t.kind) == kinds.end()) continue;
      const bool queued = t.state == TaskState::kQueued && t.not_before <= now;
      const bool orphaned = t.state == TaskState::kRunning && t.lease_expires_at < now && t.attempts < t.max_attempts;
      if (!queued && !orphaned) continue;
      t.state = TaskState::kRunning;
      t.lease_owner = std::string(worker);
      t.lease_expires_at = lease_until;
      t.attempts += 1;
      t.started_at = now;
      return std::optional<TaskRecord>(t);
    }
    return std::optional<TaskRecord>();
  }
  Result<TaskRecord> GetTask(int64_t id) override {
    auto* p = FindOr(s_.tasks, id);
    if (p == nullptr) return NotFoundError("no task " + std::to_string(id));
    return *p;
  }
  Status UpdateTask(const TaskRecord& t) override {
    auto* p = FindOr(s_.tasks, t.id);
    if (p == nullptr) return NotFoundError("no task " + std::to_string(t.id));
    p->state = t.state;
    p->attempts = t.attempts;
    p->not_before = t.not_before;
    p->lease_owner = t.lease_owner;
    p->lease_expires_at = t.lease_expires_at;
    p->started_at = t.started_at;
    p->finished_at = t.finished_at;
    p->result = t.result;
    p->error = t.error;
    return Status::Ok();
  }
  Result<std::vector<TaskRecord>> ListTasks(const std::vector<TaskState>& states) override {
    std::vector<TaskRecord> out;
    for (const auto& [id, t] : s_.tasks) {
      if (!states.empty() && std::find(states.begin(), states.end(), t.state) == states.end()) continue;
      out.push_back(t);
      out.back().payload.clear();
    }
    return out;
  }
  Status UpdateQuarantine(const QuarantineRecord& q) override {
    auto* p = FindOr(s_.quarantine, q.id);
    if (p == nullptr) return NotFoundError("no quarantined load " + std::to_string(q.id));
    p->state = q.state;
    p->decided_at = q.decided_at;
    p->decided_by = q.decided_by;
    p->decision_reason = q.decision_reason;
    p->load_id = q.load_id;
    return Status::Ok();
  }

 private:
  Status CheckOneProduction(const ModelVersionRecord& v) {
    if (v.stage != Stage::kProduction) return Status::Ok();
    for (const auto& [k, other] : s_.versions)
      if (other.model == v.model && other.version != v.version && other.stage == Stage::kProduction)
        return FailedPreconditionError("model " + v.model + " already has a production version");
    return Status::Ok();
  }

  State& s_;
  const Clock& clock_;
};

class MemoryMetadataStore : public MetadataStore {
 public:
  MemoryMetadataStore(Shared& shared, const Clock& clock) : shared_(shared), clock_(clock) {}

  Status Run(const std::function<Status(MetadataTxn&)>& fn) override {
    std::lock_guard writer(shared_.writer_mu);
    State copy;
    {
      std::lock_guard lock(shared_.mu);
      copy = shared_.state;
    }
    MemoryTxn txn(copy, clock_);
    Status s;
    try {
      s = fn(txn);
    } catch (const std::exception& e) {
      s = InternalError(std::string("metadata transaction failed: ") + e.what());
    }
    if (!s.ok()) return s;
    std::lock_guard lock(shared_.mu);
    shared_.state = std::move(copy);
    return Status::Ok();
  }

  Result<std::vector<AuditEntry>> ReadAudit(int64_t from, int64_t to) override {
    std::lock_guard lock(shared_.mu);
    std::vector<AuditEntry> out;
    for (const auto& e : shared_.state.audit)
      if (e.seq >= from && (to <= 0 || e.seq <= to)) out.push_back(e);
    return out;
  }

  Result<std::pair<int64_t, std::string>> AuditHead() override {
    std::lock_guard lock(shared_.mu);
    if (shared_.state.audit.empty()) return std::make_pair(int64_t{0}, std::string(64, '0'));
    return std::make_pair(shared_.state.audit.back().seq, shared_.state.audit.back().hash);
  }

 private:
  Shared& shared_;
  const Clock& clock_;
};

}  // namespace

std::unique_ptr<MetadataStore> NewMemoryMetadataStore(Shared& shared, const Clock& clock) {
  return std::make_unique<MemoryMetadataStore>(shared, clock);
}

}  // namespace almanac::store::memory
