// The almanac command-line entry point: argument parsing (CLI11) and dispatch. Exit codes:
// 0 ok, 1 user error (bad input, missing object, conflict), 2 usage error, 3 internal error.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

#include "almanac/version.h"
#include "cli/commands.h"
#include "cli/commands_pipeline.h"
#include "cli/commands_queue.h"
#include "cli/commands_multi.h"
#include "cli/commands_monitor.h"
#include "cli/commands_report.h"
#include "cli/commands_serve.h"

namespace {

std::string DefaultUser() {
  if (const char* u = std::getenv("USER"); u != nullptr && *u != '\0') return u;
  return "unknown";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace almanac::cli;
  CLI::App app{"almanac: reproducible macroeconomic forecasting, from data vintages to served projections"};
  app.set_version_flag("--version", std::string(ALMANAC_VERSION) + " (" + ALMANAC_GIT_COMMIT + ")");
  app.require_subcommand(1);
  app.fallthrough();

  GlobalOptions g;
  g.workspace.path = "almanac-workspace";
  std::string format = "table";
  double lock_timeout_s = 0;
  app.add_option("-w,--workspace", g.workspace.path, "Workspace folder (default ./almanac-workspace)")
      ->envname("ALMANAC_WORKSPACE");
  app.add_option("--store", g.workspace.store_uri,
                 "Store URI: sqlite:PATH (overrides the workspace database) or postgresql://USER@HOST/DB (a shared "
                 "store; no workspace folder)")
      ->envname("ALMANAC_STORE");
  // ALMANAC_CONFIG names the file when --config is not given (then it must exist).
  const char* config_env = std::getenv("ALMANAC_CONFIG");
  app.set_config("--config", config_env != nullptr ? config_env : "",
                 "Read global options (store, workspace, user, ...) from a TOML/INI file (or $ALMANAC_CONFIG)",
                 config_env != nullptr && *config_env != 0);
  app.add_option("-f,--format", format, "Output format: table, json or csv")->check(CLI::IsMember({"table", "json", "csv"}));
  app.add_option("-u,--user", g.user, "Who is acting (recorded on every write; default $USER)")->envname("ALMANAC_USER");
  app.add_option("--lock-timeout", lock_timeout_s, "Seconds to wait for another writer to finish (default 0)");
  app.add_flag("-q,--quiet", g.quiet, "Print only results, no progress or summaries");
  app.add_option("--log-format", g.log_format,
                 "Logs of serve and scheduler: text (default, stderr) or json (ECS, one object per line on stdout)")
      ->check(CLI::IsMember({"text", "json"}))
      ->envname("ALMANAC_LOG_FORMAT");

  // init
  auto* init = app.add_subcommand("init", "Create a workspace (SQLite store and artifact folder), or the schema of "
                                          "a --store postgresql://... store");

  // migrate
  MigrateArgs migrate_args;
  auto* migrate = app.add_subcommand("migrate", "Copy a whole SQLite workspace (data, vintages, runs, registry, "
                                                "artifacts, audit log) into an empty PostgreSQL store, and verify it");
  migrate->add_option("--from", migrate_args.from, "Workspace folder or sqlite:PATH")->required();
  migrate->add_option("--to", migrate_args.to, "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE")->required();

  // load (issue 8)
  LoadArgs load_args;
  auto* load = app.add_subcommand("load", "Fetch the sources of a YAML source configuration (FRED, ALFRED, ECB, OECD, Eurostat, World Bank, HTTP) as new vintages");
  load->add_option("config", load_args.config, "Source configuration (YAML, docs/connectors.md)")->required();
  load->add_option("--source", load_args.sources, "Load only this source (repeatable)");
  load->add_option("--since", load_args.since, "Only changes since DATE (SDMX updatedAfter, ALFRED realtime_start, FRED observation_start)");
  load->add_flag("--force", load_args.force, "Fetch everything, ignoring stored ETag/Last-Modified validators");
  load->add_flag("--no-quarantine", load_args.no_quarantine,
                 "Fail a load that breaks a validation rule instead of quarantining it");
  QuarantineArgs quarantine_args;
  auto* quarantine = app.add_subcommand("quarantine", "Loads that broke a validation rule: list, show, release, drop");
  quarantine->require_subcommand(1);
  auto* quarantine_list = quarantine->add_subcommand("list", "List pending quarantined loads");
  quarantine_list->add_flag("--all", quarantine_args.all, "Also released and dropped ones");
  auto* quarantine_show = quarantine->add_subcommand("show", "Show a quarantined load: reasons and its series");
  quarantine_show->add_option("id", quarantine_args.id, "Quarantine id")->required();
  auto* quarantine_release =
      quarantine->add_subcommand("release", "Store a quarantined load as new vintages (audited with the reason)");
  quarantine_release->add_option("id", quarantine_args.id, "Quarantine id")->required();
  quarantine_release->add_option("--reason", quarantine_args.reason, "Why the data is right after all")->required();
  quarantine_release->add_flag("--force", quarantine_args.force,
                               "Release even though a series got a newer vintage since (its values become current)");
  auto* quarantine_drop = quarantine->add_subcommand("drop", "Discard a quarantined load (audited with the reason)");
  quarantine_drop->add_option("id", quarantine_args.id, "Quarantine id")->required();
  quarantine_drop->add_option("--reason", quarantine_args.reason, "Why the data is discarded")->required();

  // ingest
  IngestArgs ingest_args;
  auto* ingest = app.add_subcommand("ingest", "Load CSV files (long, wide, FRED or ALFRED form) as new vintages");
  ingest->add_option("files", ingest_args.files, "CSV files ('-' for standard input)")->required();
  ingest->add_option("--file-format", ingest_args.format, "auto (default), long, wide, fred or alfred");
  ingest->add_option("--series", ingest_args.series, "Series key for a FRED file whose column is VALUE (or to rename it)");
  ingest->add_option("--frequency", ingest_args.frequency, "Frequency of the series: A, Q, M, W, D or B");
  ingest->add_option("--title", ingest_args.title, "Series title");
  ingest->add_option("--unit", ingest_args.unit, "Unit of measure");
  ingest->add_option("--seasonal-adjustment", ingest_args.seasonal_adjustment, "e.g. SA, NSA, SAAR");
  ingest->add_option("--source", ingest_args.source, "Publisher of the data");
  ingest->add_option("--metadata", ingest_args.metadata_file, "YAML side file with per-series metadata");
  ingest->add_option("--realtime-start", ingest_args.realtime_start,
                     "Date the values became known, for rows without one (default today)");
  ingest->add_flag("--follow", ingest_args.follow,
                   "Read NDJSON records ({series, period, value[, realtime_start, frequency]}) from FILE (following it) or '-'; each batch is one load");
  ingest->add_option("--batch-lines", ingest_args.batch_lines, "With --follow: records per batch at most (default 1000)");
  ingest->add_option("--flush-ms", ingest_args.flush_ms, "With --follow: commit a batch after this much idle time (default 1000)");
  ingest->add_flag("--any-day", ingest_args.any_day, "Accept any day within a period for date labels (default: first day)");

  // series
  auto* series = app.add_subcommand("series", "Inspect series, vintages and revisions");
  series->require_subcommand(1);
  auto* series_list = series->add_subcommand("list", "List series");
  std::string key, as_of, period;
  auto* series_show = series->add_subcommand("show", "Show a series as of a date");
  series_show->add_option("key", key, "Series key")->required();
  series_show->add_option("--as-of", as_of, "Date (YYYY-MM-DD): values known then (default latest)");
  auto* series_vintages = series->add_subcommand("vintages", "List a series' vintages");
  series_vintages->add_option("key", key, "Series key")->required();
  auto* series_history = series->add_subcommand("history", "Revision history of one period");
  series_history->add_option("key", key, "Series key")->required();
  series_history->add_option("period", period, "Period, e.g. 2024Q1")->required();

  // snapshot
  auto* snapshot = app.add_subcommand("snapshot", "Create and inspect data snapshots (immutable data versions)");
  snapshot->require_subcommand(1);
  SnapshotCreateArgs snap_args;
  auto* snap_create = snapshot->add_subcommand("create", "Resolve series as of a date and store them; prints the id");
  snap_create->add_option("name", snap_args.name, "Snapshot name")->required();
  snap_create->add_option("--series", snap_args.series, "Series keys (comma-separated or repeated; default all)");
  snap_create->add_option("--as-of", snap_args.as_of, "Date (YYYY-MM-DD); default latest");
  auto* snap_list = snapshot->add_subcommand("list", "List snapshots");
  std::string snap_id, snap_id2, output;
  auto* snap_show = snapshot->add_subcommand("show", "Show a snapshot");
  snap_show->add_option("snapshot", snap_id, "Name, id or id prefix")->required();
  auto* snap_export = snapshot->add_subcommand("export", "Export a snapshot's data (csv: long form; json: canonical content)");
  snap_export->add_option("snapshot", snap_id, "Name, id or id prefix")->required();
  snap_export->add_option("-o,--output", output, "Output file (default stdout)");
  auto* snap_diff = snapshot->add_subcommand("diff", "Compare two snapshots value by value");
  snap_diff->add_option("a", snap_id, "First snapshot")->required();
  snap_diff->add_option("b", snap_id2, "Second snapshot")->required();

  // forecast
  ForecastArgs fa;
  std::string levels_text;
  auto* forecast = app.add_subcommand("forecast", "Fit a model and print point forecasts with prediction intervals");
  forecast->add_option("series", fa.series, "Series key (in the workspace, or in --input)");
  forecast->add_option("-i,--input", fa.input, "Forecast from a CSV file (any ingest form) without a workspace");
  forecast->add_option("-m,--model", fa.model, "Model type (see 'almanac model-types'; default auto_ets)");
  forecast->add_option("-H,--horizon", fa.horizon, "Steps ahead (default 8)");
  forecast->add_option("--level", levels_text, "Interval levels in percent, comma-separated (default 80,95)");
  forecast->add_option("--as-of", fa.as_of, "Use the data known on this date (YYYY-MM-DD)");
  forecast->add_option("-p,--param", fa.params, "Model parameter KEY=VALUE (repeatable; VALUE is JSON or text)");
  forecast->add_option("--params", fa.params_json, "Model parameters as a JSON object");
  forecast->add_option("--frequency", fa.frequency, "Frequency of --input data when it cannot be inferred");
  forecast->add_option("--threads", fa.threads, "Threads for fitting several series (default: all cores)");
  auto* model_types = app.add_subcommand("model-types", "List the model types and their parameters");

  // --- pipelines, tracking, registry and audit (issue 4) ---
  RunArgs run_args;
  auto* run = app.add_subcommand("run", "Run pipeline files (load, validate, transform, train, evaluate, register, promote)");
  run->add_option("pipelines", run_args.files, "Pipeline YAML files")->required();
  run->add_option("--shard", run_args.shard,
                  "I/N: run only the pipelines whose series fall in shard I of N (default: JOB_COMPLETION_INDEX of a "
                  "Kubernetes Indexed Job, with ALMANAC_SHARD_COUNT)");
  run->add_flag("--force", run_args.force, "Recompute every step instead of taking unchanged ones from the cache");
  run->add_option("--threads", run_args.threads, "Threads for fitting and backtests (default: all cores)");
  std::vector<std::string> validate_files;
  auto* validate = app.add_subcommand("validate", "Check pipeline files against the schema without running them");
  validate->add_option("pipelines", validate_files, "Pipeline YAML files")->required();
  std::string run_id;
  auto* reproduce = app.add_subcommand("reproduce", "Re-run a past run from its recorded inputs and compare every artifact");
  reproduce->add_option("run", run_id, "Run id")->required();
  auto* runs = app.add_subcommand("runs", "Tracked runs: list, show, compare");
  runs->require_subcommand(1);
  RunsListArgs runs_list_args;
  auto* runs_list = runs->add_subcommand("list", "List runs, newest first");
  runs_list->add_option("--experiment", runs_list_args.experiment, "Only this experiment");
  runs_list->add_option("--pipeline", runs_list_args.pipeline, "Only this pipeline");
  runs_list->add_option("--status", runs_list_args.status, "running, finished, failed or killed");
  runs_list->add_option("--limit", runs_list_args.limit, "At most this many (default 20)");
  auto* runs_show = runs->add_subcommand("show", "A run's context, parameters, metrics and artifacts");
  runs_show->add_option("run", run_id, "Run id")->required();
  std::vector<std::string> compare_ids;
  auto* runs_compare = runs->add_subcommand("compare", "Parameters and metrics of runs side by side");
  runs_compare->add_option("runs", compare_ids, "Run ids")->required();
  auto* models_cmd = app.add_subcommand("models", "The model registry: versions, stages, four-eyes approvals");
  models_cmd->require_subcommand(1);
  std::string model_name, reason;
  auto* models_list = models_cmd->add_subcommand("list", "Registered models");
  auto* models_show = models_cmd->add_subcommand("show", "One registered model");
  models_show->add_option("model", model_name, "Model name")->required();
  auto* models_versions = models_cmd->add_subcommand("versions", "Versions of a model");
  models_versions->add_option("model", model_name, "Model name")->required();
  PromoteArgs promote_args;
  auto* models_promote = models_cmd->add_subcommand("promote", "Move a version to staging, production or archived");
  models_promote->add_option("version", promote_args.ref, "MODEL@VERSION")->required();
  models_promote->add_option("--to", promote_args.to, "staging, production (default) or archived");
  models_promote->add_option("--reason", promote_args.reason, "Why (recorded in the audit log)");
  auto* models_approve = models_cmd->add_subcommand("approve", "Approve a pending promotion (four-eyes: not by its requester)");
  models_approve->add_option("version", promote_args.ref, "MODEL@VERSION")->required();
  models_approve->add_option("--reason", promote_args.reason, "Why");
  auto* models_reject = models_cmd->add_subcommand("reject", "Reject a pending promotion");
  models_reject->add_option("version", promote_args.ref, "MODEL@VERSION")->required();
  models_reject->add_option("--reason", promote_args.reason, "Why");
  auto* models_rollback = models_cmd->add_subcommand("rollback", "Request production for the previous production version");
  models_rollback->add_option("model", model_name, "Model name")->required();
  models_rollback->add_option("--reason", reason, "Why");
  std::vector<std::string> card_fields;
  auto* models_card = models_cmd->add_subcommand("card", "Show or edit the model card (purpose, assumptions, limitations, ...)");
  models_card->add_option("model", model_name, "Model name")->required();
  models_card->add_option("--set", card_fields, "FIELD=TEXT (repeatable)");
  std::string export_ref, export_output;
  auto* models_export = models_cmd->add_subcommand("export", "Write a version's model package (checked against its SHA-256)");
  models_export->add_option("version", export_ref, "MODEL@VERSION or MODEL (its production version)")->required();
  models_export->add_option("-o,--output", export_output, "Output file (default stdout)");
  std::string lineage_ref;
  auto* lineage = app.add_subcommand("lineage", "The chain vintage -> snapshot -> run -> artifact -> version -> approvals");
  lineage->add_option("version", lineage_ref, "MODEL@VERSION")->required();
  auto* audit = app.add_subcommand("audit", "The hash-chained audit log");
  audit->require_subcommand(1);
  std::string expect_head, audit_output;
  int audit_limit = 50;
  auto* audit_verify = audit->add_subcommand("verify", "Check that no entry was edited, deleted or reordered");
  audit_verify->add_option("--expect-head", expect_head, "Also require this head hash (from an earlier verify or export)");
  auto* audit_export = audit->add_subcommand("export", "Write every entry as JSON lines");
  audit_export->add_option("-o,--output", audit_output, "Output file (default stdout)");
  auto* audit_list = audit->add_subcommand("list", "The latest entries");
  audit_list->add_option("--limit", audit_limit, "How many (default 50)");
  SchedulerArgs sched_args;
  auto* scheduler = app.add_subcommand(
      "scheduler", "Run pipelines and source loads on their cron schedules, with retries and no overlaps; "
                   "re-run pipelines with 'trigger: on_new_data' when a load brings new data");
  scheduler->add_option("pipelines", sched_args.files, "Pipeline YAML files");
  scheduler->add_option("--sources", sched_args.sources,
                        "Source configuration (as for 'almanac load'): load every source with a schedule (repeatable)");
  scheduler->add_option("--load-retries", sched_args.load_retries, "Retries of a failed scheduled load (default 2)")
      ->check(CLI::Range(0, 20));
  scheduler->add_flag("--now", sched_args.now, "Fire every scheduled pipeline and source once at start, then follow the schedules");
  scheduler->add_option("--max-runs", sched_args.max_runs, "Stop after this many runs (default: run forever)");
  scheduler->add_option("--run-for", sched_args.run_for_s, "Stop after this many seconds");
  scheduler->add_option("--retry-base-ms", sched_args.retry_base_ms, "First retry delay in ms (doubles each retry; default 30000)");
  // --- task queue (issue 7) ---
  SubmitArgs submit_args;
  auto* submit = app.add_subcommand("submit", "Queue pipeline runs for 'almanac worker' processes (on any host sharing the store)");
  submit->add_option("pipelines", submit_args.files, "Pipeline YAML files (checked before anything is queued)")->required();
  submit->add_option("--key", submit_args.key,
                     "Idempotency key: submitting the same file with the same key again is refused (default: always new)");
  submit->add_option("--max-attempts", submit_args.max_attempts, "Attempts before a task fails (default 3)")
      ->check(CLI::Range(1, 100));
  WorkerArgs worker_args;
  auto* worker = app.add_subcommand("worker", "Run queued tasks: claim with a lease, renew it by heartbeats, retry failures "
                                              "with backoff; a task whose worker died is re-run by another");
  worker->add_option("--concurrency", worker_args.concurrency, "Tasks run at once (default 1)");
  worker->add_option("--threads", worker_args.threads, "Fitting threads per task (default: cores / concurrency)");
  worker->add_option("--lease-seconds", worker_args.lease_s, "Lease of a claimed task; another worker re-runs it after (default 30)");
  worker->add_option("--heartbeat-seconds", worker_args.heartbeat_s, "Lease renewal interval (default: a third of the lease)");
  worker->add_option("--retry-base-ms", worker_args.retry_base_ms, "Backoff after a failed attempt in ms (doubles; default 30000)");
  worker->add_option("--max-tasks", worker_args.max_tasks, "Stop after this many tasks per concurrent slot (default: never)");
  worker->add_option("--idle-exit", worker_args.idle_exit_s, "Stop after this many seconds without work (default: never)");
  worker->add_option("--poll-ms", worker_args.poll_ms, "Wait between claims of an empty queue (default 1000)")
      ->check(CLI::Range(int64_t{1}, int64_t{60000}));
  worker->add_option("--metrics-port", worker_args.metrics.port, "Serve Prometheus /metrics on this port (0: any free port)");
  worker->add_option("--metrics-host", worker_args.metrics.host, "Address of the metrics endpoint (default 127.0.0.1)");
  auto* tasks = app.add_subcommand("tasks", "The task queue: list, show, retry failed, cancel queued");
  tasks->require_subcommand(1);
  std::string task_state, task_id, task_reason;
  auto* tasks_list = tasks->add_subcommand("list", "Tasks, oldest first");
  tasks_list->add_option("--state", task_state, "queued, running, done or failed");
  auto* tasks_show = tasks->add_subcommand("show", "One task: attempts, lease, result or error");
  tasks_show->add_option("id", task_id, "Task id")->required();
  auto* tasks_retry = tasks->add_subcommand("retry", "Queue a failed task again with fresh attempts (audited)");
  tasks_retry->add_option("id", task_id, "Task id")->required();
  tasks_retry->add_option("--reason", task_reason, "Why (recorded in the audit log)")->required();
  auto* tasks_cancel = tasks->add_subcommand("cancel", "Fail a queued task so no worker runs it (audited)");
  tasks_cancel->add_option("id", task_id, "Task id")->required();
  tasks_cancel->add_option("--reason", task_reason, "Why (recorded in the audit log)")->required();
  ReportArgs report_args;
  auto* report = app.add_subcommand("report", "Model-risk report of MODEL@VERSION: one self-contained HTML file (and --pdf)");
  report->add_option("ref", report_args.ref, "MODEL@VERSION (or MODEL@production)")->required();
  report->add_option("-o,--output", report_args.output, "HTML file (default MODEL-vVERSION-report.html)");
  report->add_option("--pdf", report_args.pdf, "Also print the report to this PDF (needs Chromium)");
  MonitorArgs monitor_args;
  auto* monitor = app.add_subcommand("monitor", "Realized accuracy of production forecasts against their backtests; flags degradation");
  monitor->add_option("model", monitor_args.model, "Model name (default: every model with a production version)");
  monitor->add_flag("!--no-audit", monitor_args.audit, "Do not record verdict changes in the audit log");
  scheduler->add_option("--metrics-port", sched_args.metrics.port, "Serve Prometheus /metrics on this port (0: any free port)");
  scheduler->add_option("--metrics-host", sched_args.metrics.host, "Address of the metrics endpoint (default 127.0.0.1)");
  // --- multivariate and backtest commands (issue 6) ---
  auto add_data_options = [](CLI::App* cmd, MultiDataArgs& d) {
    cmd->add_option("-i,--input", d.input, "Read the series from a CSV file (any ingest form) instead of the workspace");
    cmd->add_option("--frequency", d.frequency, "Frequency of --input data when it cannot be inferred");
    cmd->add_option("--as-of", d.as_of, "Use the data known on this date (YYYY-MM-DD)");
    cmd->add_option("--transform", d.transform, "Transform every series first: none (default), log, diff, dlog, pct")
        ->check(CLI::IsMember({"none", "log", "diff", "dlog", "pct"}));
  };
  auto add_model_options = [](CLI::App* cmd, ModelArgs& m, const std::string& what) {
    cmd->add_option("-p,--param", m.params, "Model parameter KEY=VALUE (repeatable; VALUE is JSON or text)");
    cmd->add_option("--params", m.params_json, "Model parameters as a JSON object" + what);
  };
  VarArgs var_args;
  auto* var = app.add_subcommand("var", "Vector autoregressions: forecasts, coefficients, lag selection, IRFs, FEVD, Granger tests");
  var->add_option("action", var_args.action, "forecast (default), coef, select, irf, fevd, granger or stability");
  var->add_option("series", var_args.data.series, "Series keys, in model order (comma-separated or separate)");
  add_data_options(var, var_args.data);
  var->add_option("-m,--model", var_args.model.model, "var (default), bvar or arimax");
  add_model_options(var, var_args.model, "");
  var->add_option("--lags", var_args.lags, "Lag order p");
  var->add_option("--max-lags", var_args.max_lags, "Largest order for selection (select; or with --ic)");
  var->add_option("--ic", var_args.ic, "Choose the order by aic, bic, hqic or fpe");
  var->add_option("--trend", var_args.trend, "Deterministic terms: n, c (default) or ct");
  var->add_option("-H,--horizon", var_args.horizon, "Steps ahead (default 8)");
  var->add_option("--level", var_args.levels, "Interval levels in percent, comma-separated (default 80,95)");
  var->add_option("--periods", var_args.periods, "IRF/FEVD horizon (default 10)");
  var->add_option("--bands", var_args.replications, "IRF error bands from this many bootstrap replications (default 0: none)");
  var->add_option("--band-level", var_args.band_level, "IRF band coverage in percent (default 95)");
  var->add_option("--seed", var_args.seed, "Seed for IRF bands (default 42)");
  var->add_flag("--plain", var_args.plain_irf, "Non-orthogonalised impulse responses");
  var->add_option("--caused", var_args.caused, "Granger: the caused variable(s) (default: every pair)");
  var->add_option("--causing", var_args.causing, "Granger: the causing variable(s) (default: all others)");
  var->add_option("--save", var_args.save, "Write the fitted model (canonical JSON envelope) to this file");
  ScenarioArgs scen_args;
  auto* scenario = app.add_subcommand("scenario", "Conditional forecasts of a VAR/BVAR under the named scenarios of a YAML file");
  scenario->add_option("file", scen_args.file, "Scenario file (YAML)")->required();
  scenario->add_option("series", scen_args.data.series, "Series keys (default: the file's 'series')");
  add_data_options(scenario, scen_args.data);
  scenario->add_option("-m,--model", scen_args.model.model, "var, bvar or arimax (default: the file's model, else var)");
  add_model_options(scenario, scen_args.model, " (merged over the file's)");
  scenario->add_option("-H,--horizon", scen_args.horizon, "Steps ahead (default: the file's horizon, else 8)");
  scenario->add_option("--level", scen_args.levels, "Interval levels in percent (default 80,95)");
  scenario->add_option("--only", scen_args.only, "Run only these scenarios (comma-separated)");
  BacktestArgs bt_args;
  auto* backtest = app.add_subcommand("backtest", "Rolling-origin backtests (optionally in real time) with accuracy metrics and the Diebold-Mariano test");
  backtest->add_option("series", bt_args.data.series, "Series keys (one system for var/bvar)");
  add_data_options(backtest, bt_args.data);
  backtest->add_option("-m,--model", bt_args.model.model, "Model type (default auto_ets; var, bvar or arimax for systems)");
  add_model_options(backtest, bt_args.model, "");
  backtest->add_option("--compare", bt_args.compare.model, "A second model type, compared by the Diebold-Mariano test");
  backtest->add_option("--compare-params", bt_args.compare.params_json, "Parameters of the second model (JSON object)");
  backtest->add_option("-H,--horizon", bt_args.horizon, "Steps scored at each origin (default 4)");
  backtest->add_option("--origins", bt_args.origins, "Number of forecast origins (default 8)");
  backtest->add_option("--step", bt_args.step, "Periods between origins (default 1)");
  backtest->add_option("--window", bt_args.window, "expanding (default) or sliding");
  backtest->add_option("--window-size", bt_args.window_size, "Sliding window length (default: the first origin's)");
  backtest->add_option("--period", bt_args.period, "Seasonal period (default from the frequency)");
  backtest->add_option("--level", bt_args.levels, "Interval levels in percent (default 80,95)");
  backtest->add_flag("--real-time", bt_args.real_time, "Fit each origin on the data known at that origin (vintages)");
  backtest->add_option("--publication-lag", bt_args.publication_lag, "Real time: days after a period ends before its origin's data are read (default 0)");
  backtest->add_option("--threads", bt_args.threads, "Threads (default: all cores); results do not depend on it");
  backtest->add_option("--output", bt_args.output, "summary (default), horizons, origins or dm");
  backtest->add_option("--power", bt_args.power, "Diebold-Mariano loss |e|^power (default 2)");
  backtest->add_option("--known-future", bt_args.known_future,
                       "var/bvar/arimax: variables given their realised future paths (default for arimax: the regressors)");
  // --- end of multivariate and backtest commands ---

  // --- serving (issue 5) ---
  ServeArgs serve_args;
  auto* serve = app.add_subcommand("serve", "HTTP service: forecasts from the production versions, registry, data; tokens, metrics");
  serve->add_option("--listen", serve_args.listen, "HOST:PORT to listen on (default 127.0.0.1:8080; port 0: any free port)");
  serve->add_option("--threads", serve_args.threads, "I/O threads, each with its own event loop (default: one per core)");
  serve->add_option("--workers", serve_args.workers, "Threads for store reads and refits (default 2)");
  serve->add_option("--poll-seconds", serve_args.poll_seconds, "Seconds between checks for registry, token and data changes (default 2)");
  serve->add_flag("--no-auth", serve_args.no_auth, "No tokens: every request acts as --user with the admin role (loopback only)");
  serve->add_option("--tls-cert", serve_args.tls_cert, "PEM certificate chain: serve HTTPS only");
  serve->add_option("--tls-key", serve_args.tls_key, "PEM private key of --tls-cert");
  serve->add_option("--policy", serve_args.policy, "Versions to serve: production (default), staging, MODEL@VERSION; comma-separated");
  serve->add_option("--max-body-bytes", serve_args.max_body_bytes, "Larger request bodies get 413 (default 1048576)");
  serve->add_option("--header-timeout-ms", serve_args.header_timeout_ms, "First byte to end of header (default 10000)");
  serve->add_option("--read-timeout-ms", serve_args.read_timeout_ms, "End of header to end of body (default 30000)");
  serve->add_option("--idle-timeout-ms", serve_args.idle_timeout_ms, "Keep-alive connections idle this long are closed (default 60000)");
  serve->add_option("--max-connections", serve_args.max_connections, "More open connections get 503 (default 1024)");
  serve->add_option("--max-queue", serve_args.max_queue, "More waiting store reads or refits get 503 (default 64)");
  serve->add_option("--cache-entries", serve_args.cache_entries, "Forecast cache size (default 4096; 0 disables it)");
  serve->add_option("--shutdown-timeout", serve_args.shutdown_timeout_s, "Seconds in-flight requests get after SIGTERM (default 10)");
  auto* tokens = app.add_subcommand("tokens", "API tokens of almanac serve: create, list, revoke");
  tokens->require_subcommand(1);
  TokenCreateArgs token_args;
  auto* tokens_create = tokens->add_subcommand("create", "Create a bearer token (printed once; only its SHA-256 is stored)");
  tokens_create->add_option("--role", token_args.role, "viewer, analyst, modeler, approver or admin")->required();
  tokens_create->add_option("--user", token_args.user, "Whom requests with the token act as (the audit actor)")->required();
  tokens_create->add_option("--description", token_args.description, "What the token is for");
  auto* tokens_list = tokens->add_subcommand("list", "List tokens (never their secrets)");
  std::string token_id;
  auto* tokens_revoke = tokens->add_subcommand("revoke", "Revoke a token by id (servers refuse it from their next poll)");
  tokens_revoke->add_option("id", token_id, "Token id (tok_...)")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  g.format = *ParseOutputFormat(format);
  g.workspace.lock_timeout_ms = static_cast<int>(lock_timeout_s * 1000);
  if (g.user.empty()) g.user = DefaultUser();

  if (!levels_text.empty()) {
    fa.levels.clear();
    std::string_view rest = levels_text;
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      auto v = almanac::ParseFiniteDouble(rest.substr(0, comma));
      if (!v.ok()) return ReportError(v.status().WithContext("--level"));
      fa.levels.push_back(*v);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }

  try {
    if (*init) return RunInit(g);
    if (*migrate) return RunMigrate(g, migrate_args);
    if (*forecast) return RunForecast(g, fa);
    if (*model_types) return RunModelTypes(g);
    if (*run) return RunPipeline(g, run_args);
    if (*validate) return RunValidatePipeline(g, validate_files);
    if (*reproduce) return RunReproduce(g, run_id);
    if (*runs_list) return RunRunsList(g, runs_list_args);
    if (*runs_show) return RunRunsShow(g, run_id);
    if (*runs_compare) return RunRunsCompare(g, compare_ids);
    if (*models_list) return RunModelsList(g);
    if (*models_show) return RunModelsShow(g, model_name);
    if (*models_versions) return RunModelsVersions(g, model_name);
    if (*models_promote) return RunModelsPromote(g, promote_args);
    if (*models_approve) return RunModelsApprove(g, promote_args, true);
    if (*models_reject) return RunModelsApprove(g, promote_args, false);
    if (*models_rollback) return RunModelsRollback(g, model_name, reason);
    if (*models_card) return RunModelsCard(g, model_name, card_fields);
    if (*models_export) return RunModelsExport(g, export_ref, export_output);
    if (*lineage) return RunLineage(g, lineage_ref);
    if (*audit_verify) return RunAuditVerify(g, expect_head);
    if (*audit_export) return RunAuditExport(g, audit_output);
    if (*audit_list) return RunAuditList(g, audit_limit);
    if (*scheduler) return RunSchedulerCommand(g, sched_args);
    if (*submit) return RunSubmit(g, submit_args);
    if (*worker) return RunWorkerCommand(g, worker_args);
    if (*tasks_list) return RunTasksList(g, task_state);
    if (*tasks_show) return RunTasksShow(g, task_id);
    if (*tasks_retry) return RunTasksRetry(g, task_id, task_reason);
    if (*tasks_cancel) return RunTasksCancel(g, task_id, task_reason);
    if (*monitor) return RunMonitor(g, monitor_args);
    if (*report) return RunReport(g, report_args);
    if (*var) return RunVar(g, var_args);            // issue 6
    if (*scenario) return RunScenario(g, scen_args);  // issue 6
    if (*backtest) return RunBacktest(g, bt_args);    // issue 6
    if (*serve) return RunServe(g, serve_args);
    if (*tokens_create) return RunTokensCreate(g, token_args);
    if (*tokens_list) return RunTokensList(g);
    if (*tokens_revoke) return RunTokensRevoke(g, token_id);
    if (*ingest) return ingest_args.follow ? RunIngestFollow(g, ingest_args) : RunIngest(g, ingest_args);
    if (*load) return RunLoad(g, load_args);
    if (*quarantine_list) return RunQuarantineList(g, quarantine_args);
    if (*quarantine_show) return RunQuarantineShow(g, quarantine_args);
    if (*quarantine_release) return RunQuarantineRelease(g, quarantine_args);
    if (*quarantine_drop) return RunQuarantineDrop(g, quarantine_args);
    if (*series_list) return RunSeriesList(g);
    if (*series_show) return RunSeriesShow(g, key, as_of);
    if (*series_vintages) return RunSeriesVintages(g, key);
    if (*series_history) return RunSeriesHistory(g, key, period);
    if (*snap_create) return RunSnapshotCreate(g, snap_args);
    if (*snap_list) return RunSnapshotList(g);
    if (*snap_show) return RunSnapshotShow(g, snap_id);
    if (*snap_export) return RunSnapshotExport(g, snap_id, output);
    if (*snap_diff) return RunSnapshotDiff(g, snap_id, snap_id2);
  } catch (const std::exception& e) {
    std::cerr << "almanac: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
  std::cerr << app.help();
  return kExitUsage;
}
