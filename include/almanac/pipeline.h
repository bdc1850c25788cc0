// File: almanac/pipeline.h
//
// Reproducible pipelines: a YAML file (docs/pipelines.md) declares the data (series and an
// as-of date, or a snapshot), transformations, model candidates, evaluation, registration and
// promotion rules and a schedule. The runner executes the DAG
//   load -> validate -> transform -> train -> evaluate -> register -> promote
// with every step's output content-addressed by the hashes of its inputs, so unchanged steps
// come from the cache and `Reproduce` re-runs a past run and compares every artifact byte for
// byte. The scheduler fires pipelines and source loads on cron schedules with retries and no
// overlapping runs, and re-runs pipelines whose series a load changed (`trigger: on_new_data`).
//
//   ALMANAC_ASSIGN_OR_RETURN(pipeline::PipelineSpec spec, pipeline::LoadPipelineFile("gdp.yaml", models));
//   pipeline::Runner runner(env);
//   ALMANAC_ASSIGN_OR_RETURN(pipeline::RunResult r, runner.Run(spec, {.user = "alice"}));
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "almanac/core.h"
#include "almanac/core/json.h"
#include "almanac/core/time_zone.h"
#include "almanac/data.h"
#include "almanac/data/transforms.h"
#include "almanac/models.h"
#include "almanac/models/nowcast.h"
#include "almanac/registry.h"
#include "almanac/store.h"
#include "almanac/tracking.h"

namespace almanac::pipeline {

// --------------------------------------------------------------------------- the spec

// A `transforms:` entry; the operations and their engine are data's (almanac/data/transforms.h).
using TransformSpec = data::TransformSpec;

struct CandidateSpec {
  std::string name;
  models::ModelSpec model;
};

struct EvaluationSpec {
  int origins = 8;           // rolling origins (0: no backtest)
  int step = 1;              // periods between origins
  std::string window = "expanding";  // or "sliding"
  int window_size = 0;       // sliding window length (default: data length at the first origin)
  int horizon = 0;           // default: the pipeline's horizon
  std::vector<std::string> metrics{"mase", "smape", "rmse", "mae", "coverage80", "coverage95"};
  std::string select_by = "mase";
};

// A condition like "mase < 1 and better_than_production".
struct Rule {
  struct Clause {
    std::string metric;  // empty for a keyword
    std::string op;      // <, <=, >, >=
    double value = 0;
    std::string keyword;  // "better_than_production", "always"
  };
  std::vector<Clause> clauses;
  std::string text;
};
Result<Rule> ParseRule(std::string_view text);

struct RegisterSpec {
  bool enabled = false;
  std::string model;  // registry name
  std::string owner;
  std::string description;
  Json policy = Json::object();
  Json card = Json::object();
  Rule when;  // default: always
};

struct PromoteSpec {
  bool enabled = false;
  store::Stage to = store::Stage::kStaging;
  Rule when;
};

// A cron expression (minute hour day-of-month month day-of-week), evaluated in UTC or in a
// time zone (`timezone:` of a pipeline or source). In a zone the fields match local
// wall-clock time; across daylight-saving changes every matching local time fires once: a
// time skipped when clocks go forward fires at the first instant after the gap (e.g. 02:30 on
// the spring-forward night of America/New_York fires at 03:00 EDT), and a time repeated when
// clocks go back fires at its first occurrence only.
class CronSchedule {
 public:
  // Five fields with *, lists, ranges, steps and names (JAN-DEC, SUN-SAT), or @hourly, @daily,
  // @weekly, @monthly, @yearly. InvalidArgument naming the field.
  static Result<CronSchedule> Parse(std::string_view text, TimeZone zone = TimeZone::Utc());
  // The first fire time strictly after `after_micros` (UTC micros). OutOfRange when none
  // within 5 years.
  Result<int64_t> Next(int64_t after_micros) const;
  // The fire times t with from <= t <= to (UTC micros), in order. OutOfRange when there are
  // more than `limit`.
  Result<std::vector<int64_t>> Between(int64_t from, int64_t to, size_t limit) const;
  const std::string& text() const { return text_; }
  const TimeZone& zone() const { return zone_; }
  // A fire time as the schedule's zone shows it: "2026-03-09T08:30:00-04:00 EDT" (UTC: "...Z").
  std::string Format(int64_t micros) const { return zone_.FormatLocal(micros); }

 private:
  Result<int64_t> NextWall(int64_t after_wall_micros) const;

  std::string text_;
  TimeZone zone_;
  std::vector<bool> minute_, hour_, dom_, month_, dow_;
  bool dom_star_ = true, dow_star_ = true;
};

// When a pipeline runs besides its cron schedule. kOnNewData (`trigger: on_new_data`): right
// after a scheduled load commits new vintages of a series its data section uses.
enum class Trigger { kNone, kOnNewData };
std::string_view TriggerName(Trigger t);

// `risk:` section (issue 24; docs/pipelines.md, "Risk steps"): a portfolio stress test
// (risk::RunStressTest) on the pipeline's data, as `almanac risk portfolio` runs it. File
// names are relative to the pipeline file's folder (absolute paths and '..' are refused);
// their bytes are stored with the run, so `Reproduce` needs only the store.
struct RiskStepSpec {
  bool enabled = false;
  std::string positions;  // CSV or JSON file
  std::string returns;    // CSV file period,ASSET,...; or
  // asset -> a data series or transform of this pipeline holding the asset's returns (read
  // with the pipeline's data: as of data.as_of, or from the snapshot).
  std::vector<std::pair<std::string, std::string>> return_series;
  std::string fx;         // CSV currency,rate (optional)
  std::string base_currency = "USD";
  std::string scenarios;  // scenario YAML (optional: one unconditional run)
  // The macro variables, in model order: data series or transforms (default: the scenario
  // file's `series`).
  std::vector<std::string> series;
  std::string model_type;  // var or bvar (default: the scenario file's, else var)
  Json model_params = Json::object();  // over the scenario file's
  // issue 24: `model: NAME@VERSION`, a registered var/bvar simulated as it was fitted (no
  // refit; model_type and model_params stay empty). Its package is stored with the run.
  std::string registered_model;
  std::vector<std::string> only;
  std::vector<std::string> factors;  // default: every model variable
  bool factor_changes = false;
  int nw_lags = -1;
  int paths = 10000;
  int horizon = 0;  // 0: the scenario file's, else 8
  std::string shocks = "gaussian";
  double shock_dof = 5;
  bool parameter_uncertainty = true;
  bool residuals = true;
  std::vector<double> levels{0.95, 0.99};  // confidence levels in (0, 1)
  double t_dof = 5;
  std::optional<int64_t> seed;  // default: the pipeline's seed
};

// `var_backtest:` section: the as-of VaR backtest (risk::BacktestPortfolioAsOf) of the `risk:`
// section's portfolio, origins `from`..`to`, the macro data as known after each origin read
// from the store's vintages (each date no later than data.as_of).
struct VarBacktestStepSpec {
  bool enabled = false;
  std::string from, to;  // origin periods, e.g. 2000Q1
  double level = 0.99;
  int paths = 2000;      // per origin
};

// Issue 24: `simulate:` section: Monte Carlo macro paths from a VAR/BVAR (fitted on the
// pipeline's series, or read from `model_file`), unconditional or under each scenario of a
// scenario file, stored as the run artifact paths.f32 (risk::EncodeMacroPaths) with
// paths.summary.json (quantiles per scenario, variable and period) and metrics
// (docs/pipelines.md, "Simulate step"; docs/risk.md, "Stored macro paths").
struct SimulateStepSpec {
  bool enabled = false;
  // The macro variables, in model order: data series or transforms (default: the scenario
  // file's `series`).
  std::vector<std::string> series;
  std::string model_type;              // var or bvar (default: the scenario file's, else var)
  Json model_params = Json::object();  // over the scenario file's
  std::string model_file;  // a fitted var/bvar saved by `almanac var --save` (instead of model/params)
  std::string registered_model;  // "NAME@VERSION": a registered var/bvar (`model: NAME@VERSION`)
  std::string scenarios;   // scenario YAML (optional: one unconditional run)
  std::vector<std::string> only;
  int paths = 1000;
  int horizon = 0;  // 0: the scenario file's, else 8
  std::string shocks = "gaussian";
  double shock_dof = 5;
  bool parameter_uncertainty = false;  // bvar: posterior coefficient draws per path
  std::optional<int64_t> seed;         // default: the pipeline's seed
};
// Issue 25: a nowcast pipeline (`nowcast:` instead of `target:` and `models:`;
// docs/nowcasting.md, "Platform"). The runner fits the mixed-frequency dynamic factor model on
// the data section's snapshot, nowcasts the target's quarter and decomposes the change since
// the previous run's vintage into revisions and the news of each release.
struct NowcastSpec {
  std::string type = "dfm_nowcast";     // the one nowcast model type
  std::string target;                   // a quarterly series of data.series
  std::vector<std::string> indicators;  // monthly series of data.series (default: all the others)
  models::DfmOptions options;           // blocks name series keys (the target or indicators)
  // The quarter nowcast; default: the quarter after the target's last observation.
  std::optional<Period> quarter;
};
// The artifacts of a nowcast run: the fitted model (DynamicFactorModel::ToJson) and the
// nowcast with its news (docs/nowcasting.md, "Platform").
inline constexpr const char* kNowcastModelArtifact = "nowcast_model.json";
inline constexpr const char* kNowcastArtifact = "nowcast.json";
// With news (not on a pipeline's first run): the news chart, monitor::NewsChartSvg of nowcast.json's news.
inline constexpr const char* kNowcastNewsChartArtifact = "nowcast_news.svg";
// The JSON of a NowcastSpec (params and step inputs).
Json NowcastSpecJson(const NowcastSpec& spec);

struct PipelineSpec {
  std::string name;
  std::string description;
  std::string experiment;  // default: name
  std::vector<std::string> series;
  std::optional<Date> as_of;  // or
  std::string snapshot;       // a snapshot name or id
  std::vector<TransformSpec> transforms;
  std::string target;
  int horizon = models::kDefaultHorizon;
  std::vector<double> levels{80, 95};
  std::vector<CandidateSpec> candidates;
  EvaluationSpec evaluation;
  RegisterSpec register_spec;
  PromoteSpec promote;
  std::optional<CronSchedule> schedule;  // with its time zone (`timezone:`, default UTC)
  // `catchup: true`: at scheduler start, the fires missed since the last recorded one are run
  // (each once, in order, with data.as_of = the fire's local date); false: they are not made up.
  bool catchup = false;
  Trigger trigger = Trigger::kNone;  // a triggered pipeline needs no schedule
  int max_retries = 2;
  int64_t seed = 42;
  RiskStepSpec risk;                 // issue 24: optional risk steps
  VarBacktestStepSpec var_backtest;
  SimulateStepSpec simulate;         // issue 24: optional stored macro paths
  std::optional<NowcastSpec> nowcast;  // issue 25: set for a nowcast pipeline (no candidates)

  std::string file;           // where it was read from
  std::string source_bytes;   // the file's bytes (hashed and stored with each run)
  std::string source_hash;    // SHA-256 of source_bytes
};

// Parses and validates a pipeline file. InvalidArgument with "FILE:LINE: KEY: problem" (and a
// did-you-mean for unknown keys, model types and parameters).
Result<PipelineSpec> ParsePipeline(std::string_view yaml, std::string_view file, const models::ForecasterRegistry& models);
Result<PipelineSpec> LoadPipelineFile(const std::string& path, const models::ForecasterRegistry& models);

// ------------------------------------------------------------------------------- runner

// What a run needs: the stores, the model types and a clock.
struct Environment {
  store::Store* store = nullptr;
  store::ArtifactStore* artifacts = nullptr;
  const models::ForecasterRegistry* models = nullptr;
  const Clock* clock = nullptr;  // default: SystemClock()
  int threads = 0;               // for fitting candidates and backtests (0: all cores)
};

struct RunOptions {
  std::string user;
  bool force = false;         // recompute every step
  std::string reproduces;     // run id being reproduced (register/promote are skipped)
  std::string snapshot_override;  // use this snapshot instead of the spec's data section
  std::string git_commit;     // of the repository holding the pipeline file
  // Live progress: called at the start and end of every step.
  std::function<void(const std::string& line)> progress;
  // Tags set on the run when it starts (a worker tags its task: almanac.task=ID; scheduled,
  // catch-up and backfill runs: kTagTrigger, kTagFire, kTagAsOf).
  std::vector<std::pair<std::string, std::string>> tags;
  // false: the register step builds the package but registers nothing and promote is skipped
  // (backfills: a run on past data must not become the newest model version).
  bool publish = true;
  // Reproduction: the input files the original run stored (artifact label, e.g.
  // "input.risk.positions", -> bytes), used instead of reading the files again.
  std::map<std::string, std::string> recorded_inputs;
};

// Run tags that say why a run happened (docs/pipelines.md; `almanac runs list` shows them).
inline constexpr const char* kTagTrigger = "almanac.trigger";  // schedule, on_new_data, catchup, backfill
inline constexpr const char* kTagFire = "almanac.fire";        // the fire time (FormatTimestamp, UTC)
inline constexpr const char* kTagAsOf = "almanac.as_of";       // catchup, backfill: the as-of date used

// The as-of date of a fire: its date in the schedule's time zone.
Date FireDate(const CronSchedule& cron, int64_t fire_micros);

struct StepResult {
  std::string step;     // "train:ets"
  std::string cache_key;
  bool cached = false;
  double seconds = 0;
  std::vector<store::ArtifactRecord> outputs;
  std::string summary;
};

struct RunResult {
  std::string run_id;
  store::RunStatus status = store::RunStatus::kFinished;
  std::string snapshot_id;
  std::vector<StepResult> steps;
  std::map<std::string, Json> metrics;  // per candidate
  std::string selected;                 // best candidate
  std::optional<store::ModelVersionRecord> registered;
  std::optional<registry::PromotionResult> promotion;
  std::string message;  // why registration/promotion did (not) happen
};

class Runner {
 public:
  explicit Runner(Environment env);
  // Runs the pipeline as one tracked run. A failure marks the run failed (with the error) and
  // leaves no half-registered version: registration is one transaction.
  Result<RunResult> Run(const PipelineSpec& spec, const RunOptions& options);

 private:
  Environment env_;
};

struct ArtifactComparison {
  std::string name;
  std::string original_sha256;
  std::string reproduced_sha256;
  bool identical = false;
  std::string why;  // when different
};

struct ReproduceResult {
  std::string original_run;
  std::string new_run;
  bool identical = false;
  std::vector<ArtifactComparison> artifacts;
};

// Re-runs RUN_ID from its recorded pipeline file and snapshot (every step recomputed), and
// compares every artifact with the original's.
Result<ReproduceResult> Reproduce(Environment env, std::string_view run_id, const RunOptions& options);

// ---------------------------------------------------------------------------- scheduler

// One entry of the scheduler's history: a pipeline run (on its schedule or triggered by a
// load) or a scheduled load of a source.
struct ScheduledRun {
  std::string kind = "pipeline";  // "pipeline" or "load"
  std::string pipeline;           // kind pipeline
  std::string source;             // kind load: the source's name
  int64_t fired_at = 0;
  int attempts = 0;
  std::string run_id;
  store::RunStatus status = store::RunStatus::kFinished;
  std::string error;
  bool skipped = false;  // the previous run of this pipeline (load) was still going, or another scheduler ran it
  // kind load: LoadOutcome(); the committed load and how many vintages it created.
  std::string outcome;
  int64_t load_id = 0;
  int64_t vintages_created = 0;
  // kind pipeline: the load whose new data triggered this run ("load:SOURCE@FIRED_AT (load ID)";
  // "catchup as_of DATE" for a fire made up at start (`catchup: true`); empty for a run on the
  // pipeline's own schedule).
  std::string triggered_by;
  std::optional<Date> as_of;  // catch-up runs: the data date used (the fire's local date)
};

// The outcome of a scheduled load, as history and metrics label it: "committed" (new
// vintages), "unchanged" (nothing new: 304 replies or the same values), "failed" (the last
// attempt's error), "skipped" (the source's previous load was still going or another
// scheduler ran this fire). The one place that maps results to outcomes.
std::string_view LoadOutcome(bool skipped, const data::SourceLoadResult* result, const Status& status);

struct SchedulerOptions {
  std::vector<std::string> pipeline_files;
  // Source configurations (data::ReadLoadConfig): every source with a `schedule:` is loaded on
  // it, with the scheduler's user as loader, and triggers the pipelines that say
  // `trigger: on_new_data` and use a series that got a new vintage.
  std::vector<std::string> load_files;
  int load_max_retries = 2;        // retries of a failed scheduled load (the HTTP client retries within each)
  // Adjusts every scheduled load's options (tests: environment, HTTP backoff).
  std::function<void(data::SourceLoadOptions&)> adjust_load;
  std::string lock_dir;            // per-pipeline lock files (no overlapping runs across processes)
  // When set, used instead of lock_dir: takes the job's lock (Unavailable when held), e.g.
  // a database lock that holds across hosts for a shared store. Called with the pipeline's
  // name, or "load:SOURCE" for a load.
  std::function<Result<std::unique_ptr<store::StoreLock>>(const std::string& pipeline)> lock;
  // When set, each fire is claimed first (true: ours to run; false: another scheduler, on any
  // host, already ran it). ClaimScheduledRun in the store makes every fire run once. Loads are
  // claimed as "load:SOURCE" at their fire time, triggered runs as "PIPELINE@load:SOURCE" at
  // the load's fire time.
  std::function<Result<bool>(const std::string& pipeline, int64_t fired_at)> claim;
  int64_t retry_base_ms = 30000;   // first retry delay, doubled each time
  // Stop after this many history entries (0: never; for tests). Runs triggered by a load
  // always complete, so the history may end a little longer.
  int max_runs = 0;
  int64_t run_for_ms = 0;          // stop after this long (0: never)
  // Fire every scheduled pipeline and source once at start (claimed at the start time), then
  // follow the schedules: a catch-up after downtime, and a first load without waiting.
  bool fire_now = false;
  // Pipelines with `catchup: true`: at start, the fires since the last recorded one (the
  // latest run tagged with kTagFire by a scheduler) up to now are run once each, in order,
  // with data.as_of = the fire's local date; at most this many (the latest), the older ones
  // are logged as dropped. No recorded fire: nothing is made up (see `almanac backfill`).
  int max_catchup = 20;
  std::string user = "scheduler";
  std::function<void(const std::string& line)> log;
  // Sleeps until the given time (tests may advance a fake clock instead).
  std::function<void(int64_t until_micros)> sleep_until;
  // Monitoring hooks (optional), called on the scheduler's thread. on_run: after every
  // pipeline fire, with its wall time and, when the last attempt succeeded, the run's result
  // (its steps).
  std::function<void(const ScheduledRun& run, double seconds, const RunResult* result)> on_run;
  // After every scheduled load (run.kind == "load", run.outcome set), with its wall time and,
  // when the last attempt succeeded, the load's result.
  std::function<void(const ScheduledRun& load, double seconds, const data::SourceLoadResult* result)> on_load;
  // Before each fire: how many other pipelines are due and waiting behind it.
  std::function<void(int64_t waiting)> on_queue;
};

// Runs pipelines and loads on their schedules until stopped (max_runs / run_for_ms) and
// returns the history of this process. Each fire retries failed runs with exponential
// backoff. InvalidArgument naming the file (and source) for a bad pipeline file, source
// configuration or source schedule; FailedPrecondition when nothing has a schedule.
Result<std::vector<ScheduledRun>> RunScheduler(Environment env, const SchedulerOptions& options);

// ---------------------------------------------------------------------------- backfill

struct BackfillOptions {
  Date from, to;            // the first and last local dates of the fires (inclusive)
  int concurrency = 1;      // runs at once (1..64)
  size_t max_points = 1000; // more fires than this in [from, to] is OutOfRange
  std::string user;
  // Submit one task per point to the store's queue instead of running (for `almanac worker`).
  bool queue = false;
  int max_attempts = 3;     // of each queued task
  // Progress: one line per point when it starts and ends ("backfill 3/12 2026-01-05 ... done").
  // Called from the worker threads, one call at a time.
  std::function<void(const std::string& line)> progress;
};

struct BackfillPoint {
  int64_t fire = 0;       // UTC micros
  Date as_of;             // the fire's local date
  std::string outcome;    // done, skipped (run or queued before), failed, queued
  std::string run_id;     // done: the new run; skipped: the earlier run (if run locally)
  int64_t task_id = 0;    // queued
  std::string error;      // failed
};

// The fires of the pipeline's schedule whose local dates lie in [from, to], in order.
// InvalidArgument when the pipeline has no schedule, reads a fixed snapshot, from > to, or a
// date is before 1970; OutOfRange when there are more than max_points.
Result<std::vector<int64_t>> BackfillFires(const PipelineSpec& spec, Date from, Date to, size_t max_points);

// Runs the pipeline once per fire of BackfillFires with data.as_of = the fire's local date,
// tagged kTagTrigger=backfill, kTagFire and kTagAsOf, without registering (publish = false).
// Idempotent: a fire with a finished backfill or catch-up run of the same pipeline file (same
// SHA-256) is skipped, and so is a queued task for it (dedupe key backfill:FIRE). Points run
// concurrently (options.concurrency); a failed point does not stop the others. Audited
// "pipeline.backfill" (the range and what happened). Errors of BackfillFires, and store
// errors; a point's failure is in its BackfillPoint.
Result<std::vector<BackfillPoint>> RunBackfill(Environment env, const PipelineSpec& spec, const BackfillOptions& options);

// ---------------------------------------------------------------------------- sharding

// A share of a large set of work: shard `index` of `count` (0 <= index < count).
struct Shard {
  int index = 0;
  int count = 1;
};
// "I/N" (e.g. "0/4"). InvalidArgument otherwise.
Result<Shard> ParseShard(std::string_view text);
// The shard of a Kubernetes Indexed Job: JOB_COMPLETION_INDEX with the total from
// ALMANAC_SHARD_COUNT (set it to the Job's completions). nullopt when JOB_COMPLETION_INDEX is
// unset; InvalidArgument when it is set but the pair is not valid.
Result<std::optional<Shard>> ShardFromEnvironment();
// Which shard of `count` a series key belongs to: from its SHA-256, so the same on every host,
// build and run, and balanced for many keys.
int ShardOf(std::string_view key, int count);
// The key a pipeline is sharded by: its data series, comma-joined (one series for the usual
// per-series pipeline).
std::string ShardKey(const PipelineSpec& spec);

// ---------------------------------------------------------------------------- task queue

// Puts a pipeline run in the store's task queue (its file's text travels in the payload, so a
// worker on another host needs no copy). The file is checked first (InvalidArgument, nothing
// queued). The dedupe key is the pipeline file's SHA-256 plus `key` (e.g. a schedule fire or a
// CI job id): enqueueing the same run twice is AlreadyExists. Audited "task.submit".
Result<int64_t> SubmitPipeline(store::MetadataStore& metadata, const models::ForecasterRegistry& models,
                               const std::string& path, const std::string& key, const std::string& user, int max_attempts);

// What a queued run does differently from the file (travels in the task's payload; the worker
// applies it): data.as_of, run tags and publish (see RunOptions).
struct TaskOverrides {
  std::optional<Date> as_of;
  std::vector<std::pair<std::string, std::string>> tags;
  bool publish = true;
};
// Queues `spec` (its file's bytes) as SubmitPipeline does, with overrides. The dedupe key is
// the file's SHA-256 plus `key`: AlreadyExists when queued before. Audited "task.submit".
Result<int64_t> SubmitPipelineSpec(store::MetadataStore& metadata, const PipelineSpec& spec, const std::string& key,
                                   const std::string& user, int max_attempts, const TaskOverrides& overrides);

struct WorkerOptions {
  std::string worker_id;          // unique per worker thread, e.g. host:pid:thread
  int64_t lease_ms = 30000;       // a task whose lease expires is re-run by another worker
  int64_t heartbeat_ms = 10000;   // the lease is extended this often while a task runs
  int64_t retry_base_ms = 30000;  // backoff of a failed attempt (doubled per attempt)
  int max_tasks = 0;              // stop after this many tasks (0: never)
  int64_t idle_exit_ms = 0;       // stop after this long (real time) without work (0: never)
  int64_t poll_ms = 1000;         // wait between empty claims
  int max_claim_failures = 10;    // store errors in a row (backing off 0.5 s .. 30 s) before giving up
  std::function<bool()> stop;     // checked between tasks (SIGTERM)
  std::function<void(const std::string& line)> log;  // task events and the runs' step progress
  // Monitoring: on_claim when a task starts; on_task after each attempt with its outcome
  // ("done", "retry" when it failed with attempts left, "failed", or "lost" when another worker
  // had taken it over), the wall time, the task as marked and the run's result (null when the
  // pipeline did not finish).
  std::function<void(const store::TaskRecord& task)> on_claim;
  std::function<void(const store::TaskRecord& task, std::string_view outcome, double seconds, const RunResult* run)>
      on_task;
};

// Claims and runs pipeline tasks until stopped. A task runs as one tracked pipeline run; its
// lease is renewed by a heartbeat thread; a worker that lost its lease (it was too slow, the
// task was taken over) does not mark the task. Returns the tasks this worker finished.
Result<std::vector<store::TaskRecord>> RunWorker(Environment env, const WorkerOptions& options);

}  // namespace almanac::pipeline
