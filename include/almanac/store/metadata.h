// File: almanac/store/metadata.h (part of almanac/store.h)
//
// The metadata store: experiments and runs (tracking), the step cache of pipelines, the model
// registry, and the hash-chained audit log. Business rules (four-eyes approval, promotion
// rules, cache keys) live in the tracking, registry and pipeline components; this interface
// offers the primitive reads and writes inside one transaction, so that a rule check and the
// write it guards (and the audit entry that records it) commit together or not at all.
//
//   ALMANAC_ASSIGN_OR_RETURN(ModelVersionRecord v, store.metadata().Transact<ModelVersionRecord>(
//       [&](MetadataTxn& txn) -> Result<ModelVersionRecord> {
//         ALMANAC_ASSIGN_OR_RETURN(auto model, txn.GetModel("gdp"));
//         ...
//         ALMANAC_RETURN_IF_ERROR(txn.Audit({"alice", "model.register", "model", "gdp@3", details}));
//         return version;
//       }));
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "almanac/core.h"
#include "almanac/core/json.h"

namespace almanac::store {

// ------------------------------------------------------------------------------ tracking

enum class RunStatus { kRunning, kFinished, kFailed, kKilled };
std::string_view RunStatusName(RunStatus s);
Result<RunStatus> ParseRunStatus(std::string_view text);

struct RunRecord {
  std::string id;          // "r" + 16 hex digits, assigned by the caller
  std::string experiment;  // experiment name (created on first use)
  std::string pipeline;    // pipeline name ("" for ad-hoc runs)
  RunStatus status = RunStatus::kRunning;
  int64_t start_time = 0;  // micros
  int64_t end_time = 0;    // micros; 0 while running
  std::string user;
  std::string host;
  std::string pipeline_hash;  // SHA-256 of the pipeline file
  std::string snapshot_id;
  std::string git_commit;     // of the repository holding the pipeline file, "" if none
  std::string almanac_version;
  int64_t seed = 0;
  std::string error;       // why a run failed
  std::string reproduces;  // id of the run this one re-runs ("" if none)
  std::string name;        // display name (MLflow's run_name); "" when none
  bool deleted = false;    // MLflow lifecycle_stage "deleted" (runs/delete; runs/restore clears it)
};

// An experiment as the MLflow API sees it (a named group of runs). Runs name their experiment
// (RunRecord::experiment); this record adds an id, an artifact location, a lifecycle stage and
// tags. Experiment 0, "Default", exists in every store (migration 10), as in MLflow.
struct ExperimentRecord {
  int64_t id = 0;  // assigned by InsertExperiment
  std::string name;
  std::string artifact_location;
  bool deleted = false;  // lifecycle_stage "deleted"
  int64_t created_at = 0;  // micros
  int64_t updated_at = 0;  // micros
  std::vector<std::pair<std::string, std::string>> tags;  // sorted by key, keys unique
};

// A metric value may be NaN or +-infinity (MLflow accepts them); stores keep them as they are.
struct MetricPoint {
  std::string key;
  int64_t step = 0;
  double value = 0;
  int64_t timestamp = 0;  // micros
};

struct ArtifactRecord {
  std::string name;    // name in the artifact store
  std::string sha256;  // of the bytes
  int64_t size = 0;
  std::string kind;  // "model-package", "forecast", "data", "pipeline", "report", ...
};

struct RunFilter {
  std::string experiment;
  std::string pipeline;
  std::optional<RunStatus> status;
  int limit = 100;
};

// A pipeline step's cached output: the artifacts it produced, by content.
struct CacheEntry {
  std::string key;  // SHA-256 of the step's inputs
  std::string step;
  std::string run_id;  // run that computed it
  Json outputs;        // step-defined: artifact names, hashes and small values
  int64_t created_at = 0;
};

// ------------------------------------------------------------------------------ registry

struct RegisteredModelRecord {
  std::string name;
  std::string owner;
  std::string description;
  Json policy = Json::object();  // e.g. {"four_eyes": true}
  Json card = Json::object();    // model card: purpose, assumptions, limitations, ...
  int64_t created_at = 0;
  std::string created_by;
};

enum class Stage { kNone, kStaging, kProduction, kArchived };
std::string_view StageName(Stage s);
Result<Stage> ParseStage(std::string_view text);

struct ModelVersionRecord {
  std::string model;
  int64_t version = 0;
  std::string run_id;
  std::string artifact_name;
  std::string artifact_sha256;
  std::string snapshot_id;
  Stage stage = Stage::kNone;
  Json metrics = Json::object();
  std::string description;
  int64_t created_at = 0;
  std::string created_by;
  int64_t stage_changed_at = 0;
};

enum class RequestStatus { kPending, kApproved, kRejected, kCancelled };
std::string_view RequestStatusName(RequestStatus s);
Result<RequestStatus> ParseRequestStatus(std::string_view text);

struct PromotionRequestRecord {
  int64_t id = 0;
  std::string model;
  int64_t version = 0;
  Stage target = Stage::kProduction;
  std::string requested_by;
  int64_t requested_at = 0;
  std::string reason;
  RequestStatus status = RequestStatus::kPending;
  std::string decided_by;
  int64_t decided_at = 0;
  std::string decision_reason;
};

// ---------------------------------------------------------------------------- API tokens

// A bearer token of the HTTP service. Only the SHA-256 of the secret is stored: the secret
// itself is shown once when created and cannot be recovered from the store.
struct ApiTokenRecord {
  std::string id;            // public identifier ("tok_" + 12 hex), for listing and revoking
  std::string token_sha256;  // hex SHA-256 of the secret
  std::string user;          // whom requests with this token act as (audit actor)
  std::string role;          // viewer, analyst, modeler, approver or admin (checked by serve)
  std::string description;
  int64_t created_at = 0;  // micros
  std::string created_by;
  int64_t revoked_at = 0;  // micros; 0 while valid
  std::string revoked_by;
  int64_t expires_at = 0;    // micros; 0: never. Rotation sets it on the old token (a grace period)
  int64_t last_used_at = 0;  // micros; 0: never used (written by serve at most every poll interval)
};

// ---------------------------------------------------------------------------- store users

// Who an authenticated principal acts as, and whether it may act as others (docs/operations.md,
// "Identities"). The principal is the operating-system user on a local workspace and the
// PostgreSQL role (current_user) on a shared store. A principal without a row acts as itself,
// without admin rights.
struct StoreUserRecord {
  std::string principal;  // OS user name or database role
  std::string user;       // the almanac user it acts as (the audit actor)
  bool admin = false;     // may act as another user (--user), grant and revoke store users
  std::string granted_by;
  int64_t granted_at = 0;  // micros
};

// ---------------------------------------------------------------------- issued forecasts

// A forecast that a production version issued (the answers of `almanac serve`'s
// /v1/forecast), kept for outcomes analysis by the monitor component. One row per
// (model, version, origin): a version answers the same forecast from the same origin every
// time, so repeats are not stored again; a longer horizon replaces a shorter one.
struct IssuedForecastRecord {
  std::string model;
  int64_t version = 0;
  std::string target;               // the series forecast (a key or a derived name)
  std::string origin;               // the last period of the data, e.g. "2009Q3"
  std::vector<double> mean;         // for origin+1, origin+2, ...; finite
  std::vector<double> levels;       // interval levels in percent, e.g. {80, 95}
  std::vector<std::vector<double>> lower, upper;  // one per level, each as long as mean
  int64_t issued_at = 0;            // micros; when first stored
  std::string issued_by;            // "serve" or what else issued it
};

// ---------------------------------------------------------------------------- quarantine

// A load that broke a validation rule, kept out of the series until someone releases it
// (it then becomes vintages) or drops it. The payload is the load's parsed series as the
// data component wrote them (docs/connectors.md); the store keeps it as opaque text.
enum class QuarantineState { kPending, kReleased, kDropped };
std::string_view QuarantineStateName(QuarantineState s);
Result<QuarantineState> ParseQuarantineState(std::string_view text);

struct QuarantineRecord {
  int64_t id = 0;                    // assigned by InsertQuarantine
  std::string source;                // the source's name in its configuration
  QuarantineState state = QuarantineState::kPending;
  std::vector<std::string> reasons;  // one line per violated rule
  std::vector<std::string> series;   // keys of the series in the payload
  int64_t observations = 0;
  std::string payload;               // empty in ListQuarantine results
  std::string payload_sha256;
  int64_t created_at = 0;            // micros
  std::string created_by;
  int64_t decided_at = 0;            // micros; 0 while pending
  std::string decided_by;
  std::string decision_reason;
  int64_t load_id = 0;               // the load that release made (0 otherwise)
};

// --------------------------------------------------------------------------------- tasks

// A unit of work in the shared queue (`almanac worker` runs them). A task is claimed with a
// lease that its worker extends by heartbeats; a task whose lease expired (its worker died)
// can be claimed again. Effects must be idempotent (content-addressed outputs).
enum class TaskState { kQueued, kRunning, kDone, kFailed };
std::string_view TaskStateName(TaskState s);
Result<TaskState> ParseTaskState(std::string_view text);

struct TaskRecord {
  int64_t id = 0;                 // assigned by InsertTask
  std::string kind;               // "pipeline", ...
  std::string name;               // what it runs (a pipeline's name), for listings
  std::string payload;            // what the worker needs, as JSON text (opaque to the store)
  std::string dedupe_key;         // unique among all tasks: enqueueing the same work twice fails
  TaskState state = TaskState::kQueued;
  int64_t attempts = 0;           // claims so far
  int64_t max_attempts = 3;
  int64_t not_before = 0;         // micros: not claimed before (retry backoff)
  std::string lease_owner;        // worker id while running
  int64_t lease_expires_at = 0;   // micros
  int64_t created_at = 0;
  std::string created_by;
  int64_t started_at = 0;         // of the latest claim
  int64_t finished_at = 0;
  std::string result;             // JSON text, when done
  std::string error;              // when failed (or the latest attempt's error)
};


// What a write appends to the audit log.
struct AuditEvent {
  std::string actor;
  std::string action;       // "ingest", "snapshot.create", "run.start", "model.promote", ...
  std::string object_type;  // "series", "snapshot", "run", "model", ...
  std::string object_id;
  Json details = Json::object();
};

// A stored entry: hash = SHA-256 of the canonical JSON of every other field, so each entry
// commits to its predecessor.
struct AuditEntry {
  int64_t seq = 0;  // 1, 2, 3, ...
  int64_t timestamp = 0;
  AuditEvent event;
  std::string prev_hash;  // 64 zeros for the first entry
  std::string hash;
};

// The bytes hashed for an entry (canonical JSON of seq, timestamp, event and prev_hash).
Result<std::string> AuditEntryHashInput(const AuditEntry& entry);
Result<std::string> AuditEntryHash(const AuditEntry& entry);

// -------------------------------------------------------------------------- transactions
//
// The primitives of one transaction, one small interface per concept. A back-end implements
// them all in one class (MetadataTxn); code that needs one concept may take just its interface
// (e.g. `TasksTxn&`). All are valid only during the MetadataStore::Run callback and are not
// thread-safe. Errors: NotFound for missing objects; AlreadyExists for duplicate keys. After
// those two the transaction stays usable (a caller may go on); after any other error, return
// it from the callback so that the whole transaction rolls back.

// Per run id: its metric points, or its (key, value) params or tags (RunsTxn::*OfRuns).
using MetricsByRun = std::map<std::string, std::vector<MetricPoint>>;
using KeyValuesByRun = std::map<std::string, std::vector<std::pair<std::string, std::string>>>;

// Tracking: runs and what they record.
class RunsTxn {
 public:
  virtual ~RunsTxn() = default;
  virtual Status InsertRun(const RunRecord& run) = 0;
  virtual Status UpdateRun(const RunRecord& run) = 0;
  virtual Result<RunRecord> GetRun(std::string_view id) = 0;
  virtual Result<std::vector<RunRecord>> ListRuns(const RunFilter& filter) = 0;
  virtual Status InsertParams(std::string_view run_id, const std::vector<std::pair<std::string, std::string>>& params) = 0;
  virtual Result<std::vector<std::pair<std::string, std::string>>> GetParams(std::string_view run_id) = 0;
  virtual Status InsertMetrics(std::string_view run_id, const std::vector<MetricPoint>& points) = 0;
  virtual Result<std::vector<MetricPoint>> GetMetrics(std::string_view run_id) = 0;
  virtual Status SetTags(std::string_view run_id, const std::vector<std::pair<std::string, std::string>>& tags) = 0;
  virtual Result<std::vector<std::pair<std::string, std::string>>> GetTags(std::string_view run_id) = 0;
  // NotFound when the run has no tag `key`.
  virtual Status DeleteTag(std::string_view run_id, std::string_view key) = 0;
  // Ids of the runs of `experiment` whose latest point of metric `key` (highest step, then
  // timestamp, then the later write) compares to `value` by `op` ("<", "<=", ">", ">=", "=");
  // a NaN never matches. Served by the (key, value) index of the latest points (table
  // run_latest_metrics, schema 12), so a selective filter does not read every run (the MLflow
  // API's runs/search). InvalidArgument for another `op`.
  virtual Result<std::vector<std::string>> RunsWithLatestMetric(std::string_view experiment, std::string_view key,
                                                                std::string_view op, double value) = 0;
  virtual Status InsertArtifact(std::string_view run_id, const ArtifactRecord& artifact) = 0;
  virtual Result<std::vector<ArtifactRecord>> GetArtifacts(std::string_view run_id) = 0;

  // Batched reads of many runs (the MLflow API's runs/search): one statement per table on the
  // SQL back-ends however many ids, instead of one round trip per run and table.
  // GetRuns: the runs of `ids` that exist, in the order of `ids` (an unknown id is skipped, a
  // repeated one returned once). The *OfRuns calls map each id that has rows to exactly what
  // GetMetrics / GetParams / GetTags return for it (same order); ids without rows are absent.
  virtual Result<std::vector<RunRecord>> GetRuns(const std::vector<std::string>& ids) = 0;
  virtual Result<MetricsByRun> GetMetricsOfRuns(const std::vector<std::string>& ids) = 0;
  virtual Result<KeyValuesByRun> GetParamsOfRuns(const std::vector<std::string>& ids) = 0;
  virtual Result<KeyValuesByRun> GetTagsOfRuns(const std::vector<std::string>& ids) = 0;
};

// Experiments (the MLflow API's). InsertExperiment assigns and returns the id; AlreadyExists
// for a taken name. UpdateExperiment writes name, artifact location, lifecycle, update time
// and tags; NotFound for an unknown id, AlreadyExists for a taken name; a rename also renames
// the experiment of its runs (RunRecord::experiment), in the same transaction. GetExperiment*:
// NotFound. ListExperiments: every experiment, by id.
class ExperimentsTxn {
 public:
  virtual ~ExperimentsTxn() = default;
  virtual Result<int64_t> InsertExperiment(const ExperimentRecord& e) = 0;
  virtual Status UpdateExperiment(const ExperimentRecord& e) = 0;
  virtual Result<ExperimentRecord> GetExperiment(int64_t id) = 0;
  virtual Result<ExperimentRecord> GetExperimentByName(std::string_view name) = 0;
  virtual Result<std::vector<ExperimentRecord>> ListExperiments() = 0;
};

// The step cache of pipelines.
class CacheTxn {
 public:
  virtual ~CacheTxn() = default;
  virtual Result<std::optional<CacheEntry>> GetCache(std::string_view key) = 0;
  virtual Status PutCache(const CacheEntry& entry) = 0;
};

// The model registry: registered models, versions and promotion requests.
class RegistryTxn {
 public:
  virtual ~RegistryTxn() = default;
  virtual Status InsertModel(const RegisteredModelRecord& model) = 0;
  virtual Status UpdateModel(const RegisteredModelRecord& model) = 0;
  virtual Result<RegisteredModelRecord> GetModel(std::string_view name) = 0;
  virtual Result<std::vector<RegisteredModelRecord>> ListModels() = 0;
  virtual Status InsertVersion(const ModelVersionRecord& version) = 0;
  virtual Status UpdateVersion(const ModelVersionRecord& version) = 0;
  virtual Result<ModelVersionRecord> GetVersion(std::string_view model, int64_t version) = 0;
  virtual Result<std::vector<ModelVersionRecord>> ListVersions(std::string_view model) = 0;
  // Highest version number of the model (0 when none).
  virtual Result<int64_t> MaxVersion(std::string_view model) = 0;
  virtual Result<int64_t> InsertRequest(const PromotionRequestRecord& request) = 0;
  virtual Status UpdateRequest(const PromotionRequestRecord& request) = 0;
  virtual Result<std::vector<PromotionRequestRecord>> ListRequests(std::string_view model) = 0;

  // MLflow's registry (issue 22, migration 11): tags, aliases, deletion and renaming. The
  // checks of what may be deleted or renamed (nothing that was approved or served) are the
  // caller's; these only keep the rows consistent.
  //
  // Tags of a registered model (version 0) or of one of its versions: SetModelTag inserts or
  // replaces; DeleteModelTag: NotFound when there is no such tag; GetModelTags: sorted by key
  // (bytewise). Neither checks that the model or version exists.
  virtual Status SetModelTag(std::string_view model, int64_t version, std::string_view key, std::string_view value) = 0;
  virtual Status DeleteModelTag(std::string_view model, int64_t version, std::string_view key) = 0;
  virtual Result<std::vector<std::pair<std::string, std::string>>> GetModelTags(std::string_view model,
                                                                               int64_t version) = 0;
  // Aliases: a name pointing at one version of a model. SetAlias inserts or moves it (NotFound
  // when the version does not exist or was deleted); DeleteAlias: NotFound when the model has no
  // such alias; ListAliases: (alias, version) sorted by alias (bytewise).
  virtual Status SetAlias(std::string_view model, std::string_view alias, int64_t version) = 0;
  virtual Status DeleteAlias(std::string_view model, std::string_view alias) = 0;
  virtual Result<std::vector<std::pair<std::string, int64_t>>> ListAliases(std::string_view model) = 0;
  // Marks a version deleted at `at` (micros) and drops its tags and the aliases pointing at it.
  // A deleted version is a tombstone: GetVersion answers NotFound and ListVersions leaves it
  // out, but MaxVersion still counts it, so its number is never given again, and its promotion
  // requests stay. NotFound for an unknown or already deleted version.
  virtual Status DeleteVersion(std::string_view model, int64_t version, int64_t at) = 0;
  // Removes the model with every row under its name: versions (tombstones too), promotion
  // requests, tags and aliases. NotFound for an unknown model.
  virtual Status DeleteModel(std::string_view model) = 0;
  // Renames the model and moves every row under its name to `new_name`. NotFound for an
  // unknown model, AlreadyExists when `new_name` is taken.
  virtual Status RenameModel(std::string_view model, std::string_view new_name) = 0;
};

// API tokens. InsertToken: AlreadyExists for a duplicate id or hash. GetTokenByHash:
// NotFound when no token has that hash (revoked tokens are returned, with revoked_at set).
// UpdateToken changes the revocation and expiry fields only; NotFound for an unknown id.
class TokensTxn {
 public:
  virtual ~TokensTxn() = default;
  virtual Status InsertToken(const ApiTokenRecord& token) = 0;
  virtual Status UpdateToken(const ApiTokenRecord& token) = 0;
  virtual Result<ApiTokenRecord> GetToken(std::string_view id) = 0;
  virtual Result<ApiTokenRecord> GetTokenByHash(std::string_view token_sha256) = 0;
  // Every token, oldest first.
  virtual Result<std::vector<ApiTokenRecord>> ListTokens() = 0;
  // Sets last_used_at of the token to `at` when that is later than the stored time; NotFound
  // for an unknown id.
  virtual Status TouchToken(std::string_view id, int64_t at) = 0;
};

// Store users. PutStoreUser inserts or replaces the principal's row; GetStoreUser: NotFound
// when the principal has none; DeleteStoreUser: NotFound for an unknown principal.
class UsersTxn {
 public:
  virtual ~UsersTxn() = default;
  virtual Status PutStoreUser(const StoreUserRecord& user) = 0;
  virtual Result<StoreUserRecord> GetStoreUser(std::string_view principal) = 0;
  virtual Result<std::vector<StoreUserRecord>> ListStoreUsers() = 0;
  virtual Status DeleteStoreUser(std::string_view principal) = 0;
};

// Schedules.
class SchedulesTxn {
 public:
  virtual ~SchedulesTxn() = default;
  // Claims the run of `pipeline` scheduled for `fired_at` (micros) for `holder`. true for the
  // first claim; false when another scheduler (any process or host) already claimed that
  // fire, so that each scheduled run happens once however many schedulers run.
  virtual Result<bool> ClaimScheduledRun(std::string_view pipeline, int64_t fired_at, std::string_view holder) = 0;
};

// The audit log.
class AuditTxn {
 public:
  virtual ~AuditTxn() = default;
  // Appends one hash-chained entry and returns it. IMPORTANT: a failed append must fail the
  // whole transaction (return its error from the Run callback): an unaudited write must not
  // commit.
  virtual Result<AuditEntry> Audit(const AuditEvent& event) = 0;
};

// Issued forecasts.
class ForecastsTxn {
 public:
  virtual ~ForecastsTxn() = default;
  // Stores `f`, or replaces the stored row of the same (model, version, origin) when `f` has a
  // longer horizon; true when it wrote. InvalidArgument when the sizes disagree (lower/upper
  // per level, each as long as mean), a value is not finite, the horizon is 0 or the model,
  // origin or target is empty.
  virtual Result<bool> PutForecast(const IssuedForecastRecord& f) = 0;
  // The model's forecasts (of one version when version > 0), by version then origin.
  virtual Result<std::vector<IssuedForecastRecord>> ListForecasts(std::string_view model, int64_t version) = 0;
};

// Quarantine. InsertQuarantine returns the new id (InvalidArgument for a record without
// source, reasons or payload). GetQuarantine: NotFound for an unknown id. ListQuarantine:
// the entries in `states` (all when empty), oldest first, without their payloads.
// UpdateQuarantine changes the state and decision fields only; NotFound for an unknown id.
class QuarantineTxn {
 public:
  virtual ~QuarantineTxn() = default;
  virtual Result<int64_t> InsertQuarantine(const QuarantineRecord& q) = 0;
  virtual Result<QuarantineRecord> GetQuarantine(int64_t id) = 0;
  virtual Result<std::vector<QuarantineRecord>> ListQuarantine(const std::vector<QuarantineState>& states) = 0;
  virtual Status UpdateQuarantine(const QuarantineRecord& q) = 0;
};

// Task queue. InsertTask returns the new id; AlreadyExists when a task has the same
// dedupe_key; InvalidArgument without kind, name or dedupe_key. ClaimTask takes the oldest
// claimable task of `kinds` (all when empty): queued with not_before <= now, or running with
// an expired lease and attempts left; it sets running, the lease and attempts + 1 and returns
// it (nullopt when none). On PostgreSQL concurrent claims skip each other's rows
// (FOR UPDATE SKIP LOCKED). UpdateTask writes state, attempts, not_before, lease, started_at,
// finished_at, result and error; NotFound for an unknown id. ListTasks: in `states` (all when
// empty), by id, without payloads.
class TasksTxn {
 public:
  virtual ~TasksTxn() = default;
  virtual Result<int64_t> InsertTask(const TaskRecord& t) = 0;
  virtual Result<std::optional<TaskRecord>> ClaimTask(std::string_view worker, int64_t now, int64_t lease_until,
                                                      const std::vector<std::string>& kinds) = 0;
  virtual Result<TaskRecord> GetTask(int64_t id) = 0;
  virtual Status UpdateTask(const TaskRecord& t) = 0;
  virtual Result<std::vector<TaskRecord>> ListTasks(const std::vector<TaskState>& states) = 0;
};

// Every concept of one transaction (what MetadataStore::Run hands its callback), with the
// store's clock. A back-end implements this one class; the concepts stay separate interfaces
// so that a wrapper (src/store/testing/fault_injecting_store.h) or a caller can deal with
// one concept at a time.
class MetadataTxn : public RunsTxn,
                    public ExperimentsTxn,
                    public CacheTxn,
                    public RegistryTxn,
                    public TokensTxn,
                    public UsersTxn,
                    public SchedulesTxn,
                    public AuditTxn,
                    public ForecastsTxn,
                    public QuarantineTxn,
                    public TasksTxn {
 public:
  ~MetadataTxn() override = default;
  virtual const Clock& clock() const = 0;
};

// The metadata store of a back-end. Thread-safe.
class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  // Runs `fn` in one transaction: commits when it returns ok, rolls back otherwise (and when it
  // throws). Unavailable when the store stays locked beyond the busy timeout.
  virtual Status Run(const std::function<Status(MetadataTxn&)>& fn) = 0;

  template <typename T>
  Result<T> Transact(const std::function<Result<T>(MetadataTxn&)>& fn) {
    std::optional<T> out;
    Status s = Run([&](MetadataTxn& txn) -> Status {
      Result<T> r = fn(txn);
      if (!r.ok()) return r.status();
      out = std::move(*r);
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return std::move(*out);
  }

  // Audit entries with seq in [from, to] (to <= 0: up to the end), in order.
  virtual Result<std::vector<AuditEntry>> ReadAudit(int64_t from, int64_t to) = 0;
  // The recorded head of the chain (seq and hash of the last entry; seq 0 when empty).
  virtual Result<std::pair<int64_t, std::string>> AuditHead() = 0;
};

// Checks the audit chain: consecutive seq from 1, each prev_hash equal to the previous hash,
// each hash recomputed, and the last entry equal to the recorded head. ok when intact;
// DataLoss naming the first bad entry ("entry 17 was modified", "entry 18 is missing", ...).
struct AuditVerification {
  int64_t entries = 0;
  std::string head_hash;
};
Result<AuditVerification> VerifyAuditChain(MetadataStore& store);

// The user this process authenticated as (the CLI's operating-system user or database role,
// mapped through the store users). Every audit entry written afterwards whose actor differs
// records it in details["authenticated_as"], so an admin acting as another user, or a worker
// running someone's task, is visible in the chain. Empty (the default): nothing is added. Set
// once at start-up, before other threads write.
void SetAuthenticatedUser(std::string user);
const std::string& AuthenticatedUser();
// `event` with details["authenticated_as"] added when AuthenticatedUser() is set and differs
// from the actor (what every back-end appends).
AuditEvent WithAuthenticatedUser(const AuditEvent& event);

}  // namespace almanac::store
