#include "store/testing/fault_injecting_store.h"

#include <algorithm>

namespace almanac::store::testing {

Status SerializationFailure() {
  return AbortedError("PostgreSQL: could not serialize access due to read/write dependencies among transactions");
}

Status ConnectionLost() {
  return UnavailableError("PostgreSQL: connection lost (server closed the connection unexpectedly)");
}

Status CommitOutcomeUnknown() {
  return UnavailableError("the connection to PostgreSQL was lost while committing; the outcome of the transaction is "
                          "unknown (PostgreSQL: connection lost (server closed the connection unexpectedly))");
}

Status StoreBusy() {
  return UnavailableError("cannot start a metadata transaction: database is locked (the store is in use by another "
                          "writer; try again)");
}

namespace {

// Forwards every call to the back-end's transaction unless the plan fails it.
class FaultInjectingTxn final : public MetadataTxn {
 public:
  FaultInjectingTxn(MetadataTxn& inner, FaultInjectingStore::Plan& plan) : inner_(inner), plan_(plan) {}

  const Clock& clock() const override { return inner_.clock(); }

  Status InsertRun(const RunRecord& run) override {
    return Call<Status>("InsertRun", [&] { return inner_.InsertRun(run); });
  }
  Status UpdateRun(const RunRecord& run) override {
    return Call<Status>("UpdateRun", [&] { return inner_.UpdateRun(run); });
  }
  Result<RunRecord> GetRun(std::string_view id) override {
    return Call<Result<RunRecord>>("GetRun", [&] { return inner_.GetRun(id); });
  }
  Result<std::vector<RunRecord>> ListRuns(const RunFilter& filter) override {
    return Call<Result<std::vector<RunRecord>>>("ListRuns", [&] { return inner_.ListRuns(filter); });
  }
  Status InsertParams(std::string_view run_id, const std::vector<std::pair<std::string, std::string>>& params) override {
    return Call<Status>("InsertParams", [&] { return inner_.InsertParams(run_id, params); });
  }
  Result<std::vector<std::pair<std::string, std::string>>> GetParams(std::string_view run_id) override {
    return Call<Result<std::vector<std::pair<std::string, std::string>>>>("GetParams", [&] { return inner_.GetParams(run_id); });
  }
  Status InsertMetrics(std::string_view run_id, const std::vector<MetricPoint>& points) override {
    return Call<Status>("InsertMetrics", [&] { return inner_.InsertMetrics(run_id, points); });
  }
  Result<std::vector<MetricPoint>> GetMetrics(std::string_view run_id) override {
    return Call<Result<std::vector<MetricPoint>>>("GetMetrics", [&] { return inner_.GetMetrics(run_id); });
  }
  Status SetTags(std::string_view run_id, const std::vector<std::pair<std::string, std::string>>& tags) override {
    return Call<Status>("SetTags", [&] { return inner_.SetTags(run_id, tags); });
  }
  Result<std::vector<std::pair<std::string, std::string>>> GetTags(std::string_view run_id) override {
    return Call<Result<std::vector<std::pair<std::string, std::string>>>>("GetTags", [&] { return inner_.GetTags(run_id); });
  }
  Status DeleteTag(std::string_view run_id, std::string_view key) override {
    return Call<Status>("DeleteTag", [&] { return inner_.DeleteTag(run_id, key); });
  }
  Result<std::vector<std::string>> RunsWithLatestMetric(std::string_view experiment, std::string_view key,
                                                        std::string_view op, double value) override {
    return Call<Result<std::vector<std::string>>>(
        "RunsWithLatestMetric", [&] { return inner_.RunsWithLatestMetric(experiment, key, op, value); });
  }
  Result<std::vector<RunRecord>> GetRuns(const std::vector<std::string>& ids) override {
    return Call<Result<std::vector<RunRecord>>>("GetRuns", [&] { return inner_.GetRuns(ids); });
  }
  Result<MetricsByRun> GetMetricsOfRuns(const std::vector<std::string>& ids) override {
    return Call<Result<MetricsByRun>>("GetMetricsOfRuns", [&] { return inner_.GetMetricsOfRuns(ids); });
  }
  Result<KeyValuesByRun> GetParamsOfRuns(const std::vector<std::string>& ids) override {
    return Call<Result<KeyValuesByRun>>("GetParamsOfRuns", [&] { return inner_.GetParamsOfRuns(ids); });
  }
  Result<KeyValuesByRun> GetTagsOfRuns(const std::vector<std::string>& ids) override {
    return Call<Result<KeyValuesByRun>>("GetTagsOfRuns", [&] { return inner_.GetTagsOfRuns(ids); });
  }
  Result<int64_t> InsertExperiment(const ExperimentRecord& e) override {
    return Call<Result<int64_t>>("InsertExperiment", [&] { return inner_.InsertExperiment(e); });
  }
  Status UpdateExperiment(const ExperimentRecord& e) override {
    return Call<Status>("UpdateExperiment", [&] { return inner_.UpdateExperiment(e); });
  }
  Result<ExperimentRecord> GetExperiment(int64_t id) override {
    return Call<Result<ExperimentRecord>>("GetExperiment", [&] { return inner_.GetExperiment(id); });
  }
  Result<ExperimentRecord> GetExperimentByName(std::string_view name) override {
    return Call<Result<ExperimentRecord>>("GetExperimentByName", [&] { return inner_.GetExperimentByName(name); });
  }
  Result<std::vector<ExperimentRecord>> ListExperiments() override {
    return Call<Result<std::vector<ExperimentRecord>>>("ListExperiments", [&] { return inner_.ListExperiments(); });
  }
  Status InsertArtifact(std::string_view run_id, const ArtifactRecord& artifact) override {
    return Call<Status>("InsertArtifact", [&] { return inner_.InsertArtifact(run_id, artifact); });
  }
  Result<std::vector<ArtifactRecord>> GetArtifacts(std::string_view run_id) override {
    return Call<Result<std::vector<ArtifactRecord>>>("GetArtifacts", [&] { return inner_.GetArtifacts(run_id); });
  }
  Result<std::optional<CacheEntry>> GetCache(std::string_view key) override {
    return Call<Result<std::optional<CacheEntry>>>("GetCache", [&] { return inner_.GetCache(key); });
  }
  Status PutCache(const CacheEntry& entry) override {
    return Call<Status>("PutCache", [&] { return inner_.PutCache(entry); });
  }
  Status InsertModel(const RegisteredModelRecord& model) override {
    return Call<Status>("InsertModel", [&] { return inner_.InsertModel(model); });
  }
  Status UpdateModel(const RegisteredModelRecord& model) override {
    return Call<Status>("UpdateModel", [&] { return inner_.UpdateModel(model); });
  }
  Result<RegisteredModelRecord> GetModel(std::string_view name) override {
    return Call<Result<RegisteredModelRecord>>("GetModel", [&] { return inner_.GetModel(name); });
  }
  Result<std::vector<RegisteredModelRecord>> ListModels() override {
    return Call<Result<std::vector<RegisteredModelRecord>>>("ListModels", [&] { return inner_.ListModels(); });
  }
  Status InsertVersion(const ModelVersionRecord& version) override {
    return Call<Status>("InsertVersion", [&] { return inner_.InsertVersion(version); });
  }
  Status UpdateVersion(const ModelVersionRecord& version) override {
    return Call<Status>("UpdateVersion", [&] { return inner_.UpdateVersion(version); });
  }
  Result<ModelVersionRecord> GetVersion(std::string_view model, int64_t version) override {
    return Call<Result<ModelVersionRecord>>("GetVersion", [&] { return inner_.GetVersion(model, version); });
  }
  Result<std::vector<ModelVersionRecord>> ListVersions(std::string_view model) override {
    return Call<Result<std::vector<ModelVersionRecord>>>("ListVersions", [&] { return inner_.ListVersions(model); });
  }
  Result<int64_t> MaxVersion(std::string_view model) override {
    return Call<Result<int64_t>>("MaxVersion", [&] { return inner_.MaxVersion(model); });
  }
  Result<int64_t> InsertRequest(const PromotionRequestRecord& request) override {
    return Call<Result<int64_t>>("InsertRequest", [&] { return inner_.InsertRequest(request); });
  }
  Status UpdateRequest(const PromotionRequestRecord& request) override {
    return Call<Status>("UpdateRequest", [&] { return inner_.UpdateRequest(request); });
  }
  Result<std::vector<PromotionRequestRecord>> ListRequests(std::string_view model) override {
    return Call<Result<std::vector<PromotionRequestRecord>>>("ListRequests", [&] { return inner_.ListRequests(model); });
  }
  Status SetModelTag(std::string_view model, int64_t version, std::string_view key, std::string_view value) override {
    return Call<Status>("SetModelTag", [&] { return inner_.SetModelTag(model, version, key, value); });
  }
  Status DeleteModelTag(std::string_view model, int64_t version, std::string_view key) override {
    return Call<Status>("DeleteModelTag", [&] { return inner_.DeleteModelTag(model, version, key); });
  }
  Result<std::vector<std::pair<std::string, std::string>>> GetModelTags(std::string_view model, int64_t version) override {
    return Call<Result<std::vector<std::pair<std::string, std::string>>>>(
        "GetModelTags", [&] { return inner_.GetModelTags(model, version); });
  }
  Status SetAlias(std::string_view model, std::string_view alias, int64_t version) override {
    return Call<Status>("SetAlias", [&] { return inner_.SetAlias(model, alias, version); });
  }
  Status DeleteAlias(std::string_view model, std::string_view alias) override {
    return Call<Status>("DeleteAlias", [&] { return inner_.DeleteAlias(model, alias); });
  }
  Result<std::vector<std::pair<std::string, int64_t>>> ListAliases(std::string_view model) override {
    return Call<Result<std::vector<std::pair<std::string, int64_t>>>>("ListAliases", [&] { return inner_.ListAliases(model); });
  }
  Status DeleteVersion(std::string_view model, int64_t version, int64_t at) override {
    return Call<Status>("DeleteVersion", [&] { return inner_.DeleteVersion(model, version, at); });
  }
  Status DeleteModel(std::string_view model) override {
    return Call<Status>("DeleteModel", [&] { return inner_.DeleteModel(model); });
  }
  Status RenameModel(std::string_view model, std::string_view new_name) override {
    return Call<Status>("RenameModel", [&] { return inner_.RenameModel(model, new_name); });
  }
  Status InsertToken(const ApiTokenRecord& token) override {
    return Call<Status>("InsertToken", [&] { return inner_.InsertToken(token); });
  }
  Status UpdateToken(const ApiTokenRecord& token) override {
    return Call<Status>("UpdateToken", [&] { return inner_.UpdateToken(token); });
  }
  Result<ApiTokenRecord> GetToken(std::string_view id) override {
    return Call<Result<ApiTokenRecord>>("GetToken", [&] { return inner_.GetToken(id); });
  }
  Result<ApiTokenRecord> GetTokenByHash(std::string_view token_sha256) override {
    return Call<Result<ApiTokenRecord>>("GetTokenByHash", [&] { return inner_.GetTokenByHash(token_sha256); });
  }
  Result<std::vector<ApiTokenRecord>> ListTokens() override {
    return Call<Result<std::vector<ApiTokenRecord>>>("ListTokens", [&] { return inner_.ListTokens(); });
  }
  Status TouchToken(std::string_view id, int64_t at) override {
    return Call<Status>("TouchToken", [&] { return inner_.TouchToken(id, at); });
  }
  Status PutStoreUser(const StoreUserRecord& user) override {
    return Call<Status>("PutStoreUser", [&] { return inner_.PutStoreUser(user); });
  }
  Result<StoreUserRecord> GetStoreUser(std::string_view principal) override {
    return Call<Result<StoreUserRecord>>("GetStoreUser", [&] { return inner_.GetStoreUser(principal); });
  }
  Result<std::vector<StoreUserRecord>> ListStoreUsers() override {
    return Call<Result<std::vector<StoreUserRecord>>>("ListStoreUsers", [&] { return inner_.ListStoreUsers(); });
  }
  Status DeleteStoreUser(std::string_view principal) override {
    return Call<Status>("DeleteStoreUser", [&] { return inner_.DeleteStoreUser(principal); });
  }
  Result<bool> ClaimScheduledRun(std::string_view pipeline, int64_t fired_at, std::string_view holder) override {
    return Call<Result<bool>>("ClaimScheduledRun", [&] { return inner_.ClaimScheduledRun(pipeline, fired_at, holder); });
  }
  Result<AuditEntry> Audit(const AuditEvent& event) override {
    return Call<Result<AuditEntry>>("Audit", [&] { return inner_.Audit(event); });
  }
  Result<bool> PutForecast(const IssuedForecastRecord& f) override {
    return Call<Result<bool>>("PutForecast", [&] { return inner_.PutForecast(f); });
  }
  Result<std::vector<IssuedForecastRecord>> ListForecasts(std::string_view model, int64_t version) override {
    return Call<Result<std::vector<IssuedForecastRecord>>>("ListForecasts", [&] { return inner_.ListForecasts(model, version); });
  }
  Result<int64_t> InsertQuarantine(const QuarantineRecord& q) override {
    return Call<Result<int64_t>>("InsertQuarantine", [&] { return inner_.InsertQuarantine(q); });
  }
  Result<QuarantineRecord> GetQuarantine(int64_t id) override {
    return Call<Result<QuarantineRecord>>("GetQuarantine", [&] { return inner_.GetQuarantine(id); });
  }
  Result<std::vector<QuarantineRecord>> ListQuarantine(const std::vector<QuarantineState>& states) override {
    return Call<Result<std::vector<QuarantineRecord>>>("ListQuarantine", [&] { return inner_.ListQuarantine(states); });
  }
  Status UpdateQuarantine(const QuarantineRecord& q) override {
    return Call<Status>("UpdateQuarantine", [&] { return inner_.UpdateQuarantine(q); });
  }
  Result<int64_t> InsertTask(const TaskRecord& t) override {
    return Call<Result<int64_t>>("InsertTask", [&] { return inner_.InsertTask(t); });
  }
  Result<std::optional<TaskRecord>> ClaimTask(std::string_view worker, int64_t now, int64_t lease_until, const std::vector<std::string>& kinds) override {
    return Call<Result<std::optional<TaskRecord>>>("ClaimTask", [&] { return inner_.ClaimTask(worker, now, lease_until, kinds); });
  }
  Result<TaskRecord> GetTask(int64_t id) override {
    return Call<Result<TaskRecord>>("GetTask", [&] { return inner_.GetTask(id); });
  }
  Status UpdateTask(const TaskRecord& t) override {
    return Call<Status>("UpdateTask", [&] { return inner_.UpdateTask(t); });
  }
  Result<std::vector<TaskRecord>> ListTasks(const std::vector<TaskState>& states) override {
    return Call<Result<std::vector<TaskRecord>>>("ListTasks", [&] { return inner_.ListTasks(states); });
  }

 private:
  template <typename R, typename F>
  R Call(std::string_view method, F&& forward) {
    if (Status injected = plan_.OnCall(method); !injected.ok()) return injected;
    return forward();
  }

  MetadataTxn& inner_;
  FaultInjectingStore::Plan& plan_;
};

class FaultInjectingMetadataStore final : public MetadataStore {
 public:
  FaultInjectingMetadataStore(MetadataStore& inner, FaultInjectingStore::Plan& plan) : inner_(inner), plan_(plan) {}

  Status Run(const std::function<Status(MetadataTxn&)>& fn) override {
    Status after_commit;  // the error of a commit that stored everything but "lost its answer"
    Status s = inner_.Run([&](MetadataTxn& txn) -> Status {
      after_commit = Status::Ok();
      plan_.OnAttempt();
      FaultInjectingTxn wrapped(txn, plan_);
      ALMANAC_RETURN_IF_ERROR(fn(wrapped));
      if (auto fault = plan_.OnCommit()) {
        if (fault->second == FaultInjectingStore::CommitFault::kRolledBack) return fault->first;
        after_commit = fault->first;
      }
      return Status::Ok();
    });
    if (!s.ok()) return s;
    plan_.OnCommitted();
    return after_commit;
  }

  Result<std::vector<AuditEntry>> ReadAudit(int64_t from, int64_t to) override { return inner_.ReadAudit(from, to); }
  Result<std::pair<int64_t, std::string>> AuditHead() override { return inner_.AuditHead(); }

 private:
  MetadataStore& inner_;
  FaultInjectingStore::Plan& plan_;
};

}  // namespace

FaultInjectingStore::FaultInjectingStore(std::unique_ptr<Store> inner)
    : inner_(std::move(inner)), metadata_(std::make_unique<FaultInjectingMetadataStore>(inner_->metadata(), plan_)) {}

FaultInjectingStore::~FaultInjectingStore() = default;

const std::vector<std::string_view>& FaultInjectingStore::MethodNames() {
  static const std::vector<std::string_view> kNames = {"InsertRun", "UpdateRun", "GetRun", "ListRuns", "InsertParams", "GetParams", "InsertMetrics", "GetMetrics", "SetTags", "GetTags", "DeleteTag", "RunsWithLatestMetric", "GetRuns", "GetMetricsOfRuns", "GetParamsOfRuns", "GetTagsOfRuns", "InsertExperiment", "UpdateExperiment", "GetExperiment", "GetExperimentByName", "ListExperiments", "InsertArtifact", "GetArtifacts", "GetCache", "PutCache", "InsertModel", "UpdateModel", "GetModel", "ListModels", "InsertVersion", "UpdateVersion", "GetVersion", "ListVersions", "MaxVersion", "InsertRequest", "UpdateRequest", "ListRequests", "SetModelTag", "DeleteModelTag", "GetModelTags", "SetAlias", "DeleteAlias", "ListAliases", "DeleteVersion", "DeleteModel", "RenameModel", "InsertToken", "UpdateToken", "GetToken", "GetTokenByHash", "ListTokens", "TouchToken", "PutStoreUser", "GetStoreUser", "ListStoreUsers", "DeleteStoreUser", "ClaimScheduledRun", "Audit", "PutForecast", "ListForecasts", "InsertQuarantine", "GetQuarantine", "ListQuarantine", "UpdateQuarantine", "InsertTask", "ClaimTask", "GetTask", "UpdateTask", "ListTasks"};
  return kNames;
}

Status FaultInjectingStore::FailCall(std::string_view method, int nth, Status error, int times) {
  const auto& names = MethodNames();
  if (std::find(names.begin(), names.end(), method) == names.end())
    return InvalidArgumentError("no transaction method " + std::string(method));
  if (nth < 1 || times < 1) return InvalidArgumentError("nth and times must be at least 1");
  std::lock_guard lock(plan_.mu_);
  auto it = plan_.calls_.find(method);
  const int done = it == plan_.calls_.end() ? 0 : it->second;
  plan_.call_faults_.push_back({std::string(method), done + nth, done + nth + times - 1, std::move(error)});
  return Status::Ok();
}

void FaultInjectingStore::FailCommit(int nth, Status error, CommitFault how) {
  std::lock_guard lock(plan_.mu_);
  plan_.commit_faults_.push_back({plan_.commit_points_ + nth, std::move(error), how});
}

int FaultInjectingStore::calls(std::string_view method) const {
  std::lock_guard lock(plan_.mu_);
  auto it = plan_.calls_.find(method);
  return it == plan_.calls_.end() ? 0 : it->second;
}

int FaultInjectingStore::attempts() const {
  std::lock_guard lock(plan_.mu_);
  return plan_.attempts_;
}

int FaultInjectingStore::commits() const {
  std::lock_guard lock(plan_.mu_);
  return plan_.commits_;
}

Status FaultInjectingStore::Plan::OnCall(std::string_view method) {
  std::lock_guard lock(mu_);
  auto it = calls_.find(method);
  if (it == calls_.end()) it = calls_.emplace(std::string(method), 0).first;
  const int n = ++it->second;
  for (const auto& f : call_faults_)
    if (f.method == method && n >= f.from && n <= f.to) return f.error;
  return Status::Ok();
}

void FaultInjectingStore::Plan::OnAttempt() {
  std::lock_guard lock(mu_);
  ++attempts_;
}

std::unique_ptr<std::pair<Status, FaultInjectingStore::CommitFault>> FaultInjectingStore::Plan::OnCommit() {
  std::lock_guard lock(mu_);
  const int n = ++commit_points_;
  for (const auto& f : commit_faults_)
    if (f.at == n) return std::make_unique<std::pair<Status, CommitFault>>(f.error, f.how);
  return nullptr;
}

void FaultInjectingStore::Plan::OnCommitted() {
  std::lock_guard lock(mu_);
  ++commits_;
}

}  // namespace almanac::store::testing
