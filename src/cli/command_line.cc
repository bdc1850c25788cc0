// The options of every almanac command (CLI11) and the table that names them. Each Define
// function declares one top-level command and returns the Runner that calls its Run function
// (commands_*.cc) with plain structs; CLI11 stays in this file and main.cc.
#include "cli/command_line.h"

#include <memory>

#include <CLI/CLI.hpp>

#include "almanac/data/transforms.h"
#include "cli/commands_audit.h"
#include "cli/commands_backfill.h"
#include "cli/commands_export.h"
#include "cli/commands_monitor.h"
#include "cli/commands_multi.h"
#include "cli/commands_nowcast.h"
#include "cli/commands_nowcast_eval.h"
#include "cli/commands_pipeline.h"
#include "cli/commands_queue.h"
#include "cli/commands_registry.h"
#include "cli/commands_report.h"
#include "cli/commands_reconcile.h"
#include "cli/commands_risk.h"
#include "cli/commands_simulate.h"
#include "cli/commands_serve.h"
#include "cli/commands_users.h"

namespace almanac::cli {
namespace {

// ------------------------------------------------------------------------------------- data

Runner DefineInit(CLI::App&, GlobalOptions& g) {
  return [&g] { return RunInit(g); };
}

Runner DefineMigrate(CLI::App& cmd, GlobalOptions& g) {
  auto a = std::make_shared<MigrateArgs>();
  cmd.add_option("--from", a->from, "Workspace folder or sqlite:PATH")->required();
  cmd.add_option("--to", a->to, "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE")->required();
  return [&g, a] { return RunMigrate(g, *a); };
}

Runner DefineLoad(CLI::App& cmd, GlobalOptions& g) {
  auto a = std::make_shared<LoadArgs>();
  cmd.add_option("config", a->config, "Source configuration (YAML, docs/connectors.md)")->required();
  cmd.add_option("--source", a->sources, "Load only this source (repeatable)");
  cmd.add_option("--since", a->since,
                 "Only changes since DATE (SDMX updatedAfter, ALFRED realtime_start, FRED observation_start)");
  cmd.add_flag("--force", a->force, "Fetch everything, ignoring stored ETag/Last-Modified validators");
  cmd.add_flag("--no-quarantine", a->no_quarantine,
               "Fail a load that breaks a validation rule instead of quarantining it");
  return [&g, a] { return RunLoad(g, *a); };
}

Runner DefineQuarantine(CLI::App& cmd, GlobalOptions& g) {
  auto a = std::make_shared<QuarantineArgs>();
  cmd.require_subcommand(1);
  auto* list = cmd.add_subcommand("list", "List pending quarantined loads");
  list->add_flag("--all", a->all, "Also released and dropped ones");
  auto* show = cmd.add_subcommand("show", "Show a quarantined load: reasons and its series");
  show->add_option("id", a->id, "Quarantine id")->required();
  auto* release = cmd.add_subcommand("release", "Store a quarantined load as new vintages (audited with the reason)");
  release->add_option("id", a->id, "Quarantine id")->required();
  release->add_option("--reason", a->reason, "Why the data is right after all")->required();
  release->add_flag("--force", a->force,
                    "Release even though a series got a newer vintage since (its values become current)");
  auto* drop = cmd.add_subcommand("drop", "Discard a quarantined load (audited with the reason)");
  drop->add_option("id", a->id, "Quarantine id")->required();
  drop->add_option("--reason", a->reason, "Why the data is discarded")->required();
  return [&g, a, list, show, release] {
    if (*list) return RunQuarantineList(g, *a);
    if (*show) return RunQuarantineShow(g, *a);
    if (*release) return RunQuarantineRelease(g, *a);
    return RunQuarantineDrop(g, *a);
  };
}

Runner DefineIngest(CLI::App& cmd, GlobalOptions& g) {
  auto a = std::make_shared<IngestArgs>();
  cmd.add_option("files", a->files, "CSV files ('-' for standard input)")->required();
  cmd.add_option("--file-format", a->format, "auto (default), long, wide, fred or alfred");
  cmd.add_option("--series", a->series,
                 "Series key for a one-series file: a FRED file whose column is VALUE (or to rename its series)");
  cmd.add_option("--frequency", a->frequency, "Frequency of the series: A, Q, M, W, D or B");
  cmd.add_option("--title", a->title, "Series title");
  cmd.add_option("--unit", a->unit, "Unit of measure");
  cmd.add_option("--seasonal-adjustment", a->seasonal_adjustment, "e.g. SA, NSA, SAAR");
  cmd.add_option("--source", a->source, "Publisher of the data");
  cmd.add_option("--metadata", a->metadata_file, "YAML side file with per-series metadata");
  cmd.add_option("--realtime-start", a->realtime_start,
                 "Date the values became known, for rows without one (default today)");
  cmd.add_flag("--follow", a->follow,
               "Read NDJSON records ({series, period, value[, realtime_start, frequency]}) from FILE (following it) or "
               "'-'; each batch is one load");
  cmd.add_option("--batch-lines", a->batch_lines, "With --follow: records per batch at most (default 1000)");
  cmd.add_option("--flush-ms", a->flush_ms, "With --follow: commit a batch after this much idle time (default 1000)");
  cmd.add_flag("--any-day", a->any_day,
               "Accept any day within a period for date labels (default: the first day, or the last day for every "
               "date of a series)");
  cmd.add_option("--delimiter", a->delimiter,
                 "Field separator: auto (default: ',' unless the header line uses only ';' or tabs), ',', ';' or tab");
  cmd.add_option("--decimal", a->decimal, "Decimal mark of the values: '.' (default) or ','");
  cmd.add_option("--thousands", a->thousands, "Thousands separator of the values: none (default), ',' or '.'");
  return [&g, a] { return a->follow ? RunIngestFollow(g, *a) : RunIngest(g, *a); };
}

Runner DefineSeries(CLI::App& cmd, GlobalOptions& g) {
  struct Args {
    std::string key, as_of, period;
    SeriesShowArgs show;
  };
  auto a = std::make_shared<Args>();
  cmd.require_subcommand(1);
  auto* list = cmd.add_subcommand("list", "List series");
  auto* show = cmd.add_subcommand("show", "Show a series as of a date, or its vintages side by side");
  show->add_option("key", a->show.key, "Series key")->required();
  show->add_option("--as-of", a->show.as_of,
                   "Date (YYYY-MM-DD): values known then (default latest); with --vintages, the vintages until then");
  auto* wide = show->add_flag("--wide", a->show.wide, "Columns date,period,KEY: the period's first day and its label");
  show->add_flag("--vintages", a->show.vintages,
                 "One column per vintage (realtime_start), ALFRED style: the value known then, empty where the period "
                 "was not known yet")
      ->excludes(wide);
  show->add_option("-o,--output", a->show.output, "Output file (default stdout); FILE.xlsx writes an Excel workbook");
  show->add_flag("--xlsx", a->show.xlsx, "Write an Excel workbook (needs -o FILE)");
  auto* vintages = cmd.add_subcommand("vintages", "List a series' vintages");
  vintages->add_option("key", a->key, "Series key")->required();
  auto* history = cmd.add_subcommand("history", "Revision history of one period");
  history->add_option("key", a->key, "Series key")->required();
  history->add_option("period", a->period, "Period, e.g. 2024Q1")->required();
  return [&g, a, list, show, vintages] {
    if (*list) return RunSeriesList(g);
    if (*show) return RunSeriesShow(g, a->show);
    if (*vintages) return RunSeriesVintages(g, a->key);
    return RunSeriesHistory(g, a->key, a->period);
  };
}

Runner DefineSnapshot(CLI::App& cmd, GlobalOptions& g) {
  struct Args {
    SnapshotCreateArgs create;
    SnapshotExportArgs exp;
    std::string id, id2;
  };
  auto a = std::make_shared<Args>();
  cmd.require_subcommand(1);
  auto* create = cmd.add_subcommand("create", "Resolve series as of a date and store them; prints the id");
  create->add_option("name", a->create.name, "Snapshot name")->required();
  create->add_option("--series", a->create.series, "Series keys (comma-separated or repeated; default all)");
  create->add_option("--as-of", a->create.as_of, "Date (YYYY-MM-DD); default latest");
  auto* list = cmd.add_subcommand("list", "List snapshots");
  auto* show = cmd.add_subcommand("show", "Show a snapshot");
  show->add_option("snapshot", a->id, "Name, id or id prefix")->required();
  auto* exp = cmd.add_subcommand(
      "export", "Export a snapshot's data (csv: long form, --wide: periods x series; json: canonical content; .xlsx)");
  exp->add_option("snapshot", a->exp.id, "Name, id or id prefix")->required();
  exp->add_option("-o,--output", a->exp.output, "Output file (default stdout); FILE.xlsx writes an Excel workbook");
  exp->add_flag("--wide", a->exp.wide, "One row per period, one column per series (date,period,KEY...)");
  exp->add_flag("--xlsx", a->exp.xlsx, "Write an Excel workbook: sheets data (wide), series, snapshot (needs -o FILE)");
  auto* diff = cmd.add_subcommand("diff", "Compare two snapshots value by value");
  diff->add_option("a", a->id, "First snapshot")->required();
  diff->add_option("b", a->id2, "Second snapshot")->required();
  return [&g, a, create, list, show, exp] {
    if (*create) return RunSnapshotCreate(g, a->create);
    if (*list) return RunSnapshotList(g);
    if (*show) return RunSnapshotShow(g, a->id);
    if (*exp) return RunSnapshotExport(g, a->exp);
    return RunSnapshotDiff(g, a->id, a->id2);
  };
}

// --------------------------------------------------------------------------------- models

Runner DefineForecast(CLI::App& cmd, GlobalOptions& g) {
  struct Args {
    ForecastArgs forecast;
    std::string levels;
  };
  auto a = std::make_shared<Args>();
  ForecastArgs& f = a->forecast;
  cmd.add_option("series", f.series, "Series key (in the workspace, or in --input)");
  cmd.add_option("-i,--input", f.input, "Forecast from a CSV file (any ingest form) without a workspace");
  cmd.add_option("-m,--model", f.model, "Model type (see 'almanac model-types'; default auto_ets)");
  cmd.add_option("-H,--horizon", f.horizon, "Steps ahead (default " + std::to_string(models::kDefaultHorizon) + ")");
  cmd.add_option("--level", a->levels, "Interval levels in percent, comma-separated (default 80,95)");
  cmd.add_option("--as-of", f.as_of, "Use the data known on this date (YYYY-MM-DD)");
  cmd.add_option("-p,--param", f.params, "Model parameter KEY=VALUE (repeatable; VALUE is JSON or text)");
  cmd.add_option("--params", f.params_json, "Model parameters as a JSON object");
  cmd.add_option("--frequency", f.frequency, "Frequency of --input data when it cannot be inferred");
  cmd.add_option("--threads", f.threads, "Threads for fitting several series (default: all cores)");
  return [&g, a] {
    if (!a->levels.empty()) {
      auto levels = ParseLevelList(a->levels);
      if (!levels.ok()) return ReportError(levels.status());
      a->forecast.levels = *levels;
    }
    return RunForecast(g, a->forecast);
  };
}

Runner DefineModelTypes(CLI::App&, GlobalOptions& g) {
  return [&g] { return RunModelTypes(g); };
}

// Options shared by var, scenario and backtest.
void AddDataOptions(CLI::App& cmd, MultiDataArgs& d) {
  cmd.add_option("-i,--input", d.input, "Read the series from a CSV file (any ingest form) instead of the workspace");
  cmd.add_option("--frequency", d.frequency, "Frequency of --input data when it cannot be inferred");
  cmd.add_option("--as-of", d.as_of, "Use the data known on this date (YYYY-MM-DD)");
  // The transformations that need no parameters, by every name data accepts (pct, dlog, ...).
  std::vector<std::string> names;
  for (const auto& op : data::TransformOps()) {
    if (op.needs_params) continue;
    names.emplace_back(op.name);
    for (auto alias : op.aliases) names.emplace_back(alias);
  }
  cmd.add_option("--transform", d.transform,
                 "Transform every series first: none (default), log, diff, dlog (log_diff), pct (pct_change), yoy, lag, "
                 "interpolate")
      ->check(CLI::IsMember(names));
}

void AddModelOptions(CLI::App& cmd, ModelArgs& m, const std::string& what) {
  cmd.add_option("-p,--param", m.params, "Model parameter KEY=VALUE (repeatable; VALUE is JSON or text)");
  cmd.add_option("--params", m.params_json, "Model parameters as a JSON object" + what);
}

Runner DefineVar(CLI::App& cmd, GlobalOptions& g) {
  auto a = std::make_shared<VarArgs>();
  cmd.add_option("action", a->action, "forecast (default), coef, select, irf, fevd, granger, stability or simulate");
  cmd.add_option("series", a->data.series, "Series keys, in model order (comma-separated or separate)");
  AddDataOptions(cmd, a->data);
  cmd.add_option("-m,--model", a->model.model, "var (default), bvar or arimax");
  AddModelOptions(cmd, a->model, "");
  cmd.add_option("--lags", a->lags, "Lag order p");
  cmd.add_option("--max-lags", a->max_lags, "Largest order for selection (select; or with --ic)");
  cmd.add_option("--ic", a->ic, "Choose the order by aic, bic, hqic or fpe");
  cmd.add_option("--trend", a->trend, "Deterministic terms: n, c (default) or ct");
  cmd.add_option("-H,--horizon", a->horizon, "Steps ahead (default " + std::to_string(models::kDefaultHorizon) + ")");
  cmd.add_option("--level", a->levels, "Interval levels in percent, comma-separated (default 80,95)");
  cmd.add_option("--periods", a->periods, "IRF/FEVD horizon (default 10)");
  cmd.add_option("--bands", a->replications, "IRF error bands from this many bootstrap replications (default 0: none)");
  cmd.add_option("--band-level", a->band_level, "IRF band coverage in percent (default 95)");
  cmd.add_option("--seed", a->seed, "Seed for IRF bands and simulated paths (default 42)");
  cmd.add_flag("--plain", a->plain_irf, "Non-orthogonalised impulse responses");
  cmd.add_option("--caused", a->caused, "Granger: the caused variable(s) (default: every pair)");
  cmd.add_option("--causing", a->causing, "Granger: the causing variable(s) (default: all others)");
  cmd.add_option("--save", a->save, "Write the fitted model (canonical JSON envelope) to this file");
  cmd.add_option("--paths", a->paths, "simulate: number of joint paths (default 1000)");
  cmd.add_option("--shocks", a->shocks, "simulate: gaussian (default), t or bootstrap");
  cmd.add_option("--dof", a->dof, "simulate: degrees of freedom of t shocks, > 2 (default 5)");
  cmd.add_flag("--parameter-uncertainty", a->parameter_uncertainty,
               "simulate (bvar): draw the coefficients from the posterior once per path");
  cmd.add_option("-o,--output", a->output, "simulate: write the paths as CSV to this file (default: stdout)");
  cmd.add_option("--from", a->from, "simulate: from a model saved with --save (no fit, no series)");
  cmd.add_option("--register", a->register_model,
                 "Register the fitted var/bvar as the next version of this model (a tracked run; "
                 "almanac risk portfolio --model NAME@VERSION simulates from it)");
  cmd.add_option("--experiment", a->experiment, "With --register: the run's experiment (default: the model's name)");
  return [&g, a] { return RunVar(g, *a); };
}

Runner DefineScenario(CLI::App& cmd, GlobalOptions& g) {
  auto a = std::make_shared<ScenarioArgs>();
  cmd.add_option("file", a->file, "Scenario file (YAML)")->required();
  cmd.add_option("series", a->data.series, "Series keys (default: the file's 'series')");
  AddDataOptions(cmd, a->data);
  cmd.add_option("-m,--model", a->model.model, "var, bvar or arimax (default: the file's model, else var)");
  AddModelOptions(cmd, a->model, " (merged over the file's)");
  cmd.add_option("-H,--horizon", a->horizon, "Steps ahead (default: the file's horizon, else " + std::to_string(models::kDefaultHorizon) + ")");
  cmd.add_option("--level", a->levels, "Interval levels in percent (default 80,95)");
  cmd.add_option("--only", a->only, "Run only these scenarios (comma-separated)");
  return [&g, a] { return RunScenario(g, *a); };
}

Runner DefineBacktest(CLI::App& cmd, GlobalOptions& g) {
  auto a = std::make_shared<BacktestArgs>();
  cmd.add_option("series", a->data.series, "Series keys (one system for var/bvar)");
  AddDataOptions(cmd, a->data);
  cmd.add_option("-m,--model", a->model.model, "Model type (default auto_ets; var, bvar or arimax for systems)");
  AddModelOptions(cmd, a->model, "");
  cmd.add_option("--compare", a->compare.model, "A second model type, compared by the Diebold-Mariano test");
  cmd.add_option("--compare-params", a->compare.params_json, "Parameters of the second model (JSON object)");
  cmd.add_option("-H,--horizon", a->horizon, "Steps scored at each origin (default 4)");
  cmd.add_option("--origins", a->origins, "Number of forecast origins (default 8)");
  cmd.add_option("--step", a->step, "Periods between origins (default 1)");
  cmd.add_option("--window", a->window, "expanding (default) or sliding");
  cmd.add_option("--window-size", a->window_size, "Sliding window length (default: the first origin's)");
  cmd.add_option("--period", a->period, "Seasonal period (default from the frequency)");
  cmd.add_option("--level", a->levels, "Interval levels in percent (default 80,95)");
  cmd.add_flag("--real-time", a->real_time, "Fit each origin on the data known at that origin (vintages)");
  cmd.add_option("--publication-lag", a->publication_lag,
                 "Real time: days after a period ends before its origin's data are read (default 0)");
  cmd.add_option("--threads", a->threads, "Threads (default: all cores); results do not depend on it");
  cmd.add_option("--output", a->output, "summary (default), horizons, origins or dm");
  cmd.add_option("--power", a->power, "Diebold-Mariano loss |e|^power (default 2)");
  cmd.add_option("--known-future", a->known_future,
                 "var/bvar/arimax: variables given their realised future paths (default for arimax: the regressors)");
  return [&g, a] { return RunBacktest(g, *a); };
}

// ----------------------------------------------------------- pipelines, tracking, registry

Runner DefineRun(CLI::App& cmd, GlobalOptions& g) {
  auto a = std::make_shared<RunArgs>();
  cmd.add_option("pipelines", a->files, "Pipeline YAML files")->required();
  cmd.add_option("--shard", a->shard,
                 "I/N: run only the pipelines whose series fall in shard I of N (default: JOB_COMPLETION_INDEX of a "
                 "Kubernetes Indexed Job, with ALMANAC_SHARD_COUNT)");
  cmd.add_flag("--force", a->force, "Recompute every step instead of taking unchanged ones from the cache");
  cmd.add_option("--threads", a->threads, "Threads for fitting and backtests (default: all cores)");
  return [&g, a] { return RunPipeline(g, *a); };
}

Runner DefineValidate(CLI::App& cmd, GlobalOptions& g) {
  auto files = std::make_shared<std::vector<std::string>>();
  cmd.add_option("pipelines", *files, "Pipeline YAML files")->required();
  return [&g, files] { return RunValidatePipeline(g, *files); };
}

Runner DefineReproduce(CLI::App& cmd, GlobalOptions& g) {
  auto run = std::make_shared<std::string>();
  cmd.add_option("run", *run, "Run id")->required();
  return [&g, run] { return RunReproduce(g, *run); };
}

Runner DefineRuns(CLI::App& cmd, GlobalOptions& g) {
  struct Args {
    RunsListArgs list;
    std::string run;
    std::vector<std::string> compare;
  };
  auto a = std::make_shared<Args>();
  cmd.require_subcommand(1);
  auto* list = cmd.add_subcommand("list", "List runs, newest first");
  list->add_option("--experiment", a->list.experiment, "Only this experiment");
  list->add_option("--pipeline", a->list.pipeline, "Only this pipeline");
  list->add_option("--status", a->list.status, "running, finished, failed or killed");
  list->add_option("--limit", a->list.limit, "At most this many (default 20)");
  auto* show = cmd.add_subcommand("show", "A run's context, parameters, metrics and artifacts");
  show->add_option("run", a->run, "Run id")->required();
  auto* compare = cmd.add_subcommand("compare", "Parameters and metrics of runs side by side");
  compare->add_option("runs", a->compare, "Run ids")->required();
  return [&g, a, list, show] {
    if (*list) return RunRunsList(g, a->list);
    if (*show) return RunRunsShow(g, a->run);
    return RunRunsCompare(g, a->compare);
  };
}

Runner DefineModels(CLI::App& cmd, GlobalOptions& g) {
  struct Args {
    std::string model, reason, ref, output;
    PromoteArgs promote;
    std::vector<std::string> card_fields;
  };
  auto a = std::make_shared<Args>();
  cmd.require_subcommand(1);
  auto* list = cmd.add_subcommand("list", "Registered models");
  auto* show = cmd.add_subcommand("show", "One registered model");
  show->add_option("model", a->model, "Model name")->required();
  auto* versions = cmd.add_subcommand("versions", "Versions of a model");
  versions->add_option("model", a->model, "Model name")->required();
  auto* promote = cmd.add_subcommand("promote", "Move a version to staging, production or archived");
  promote->add_option("version", a->promote.ref, "MODEL@VERSION")->required();
  promote->add_option("--to", a->promote.to, "staging, production (default) or archived");
  promote->add_option("--reason", a->promote.reason, "Why (recorded in the audit log)");
  auto* approve = cmd.add_subcommand("approve", "Approve a pending promotion (four-eyes: not by its requester)");
  approve->add_option("version", a->promote.ref, "MODEL@VERSION")->required();
  approve->add_option("--reason", a->promote.reason, "Why");
  auto* reject = cmd.add_subcommand("reject", "Reject a pending promotion");
  reject->add_option("version", a->promote.ref, "MODEL@VERSION")->required();
  reject->add_option("--reason", a->promote.reason, "Why");
  auto* rollback = cmd.add_subcommand("rollback", "Request production for the previous production version");
  rollback->add_option("model", a->model, "Model name")->required();
  rollback->add_option("--reason", a->reason, "Why");
  auto* card = cmd.add_subcommand("card", "Show or edit the model card (purpose, assumptions, limitations, ...)");
  card->add_option("model", a->model, "Model name")->required();
  card->add_option("--set", a->card_fields, "FIELD=TEXT (repeatable)");
  auto* exp = cmd.add_subcommand("export", "Write a version's model package (checked against its SHA-256)");
  exp->add_option("version", a->ref, "MODEL@VERSION or MODEL (its production version)")->required();
  exp->add_option("-o,--output", a->output, "Output file (default stdout)");
  return [&g, a, list, show, versions, promote, approve, reject, rollback, card] {
    if (*list) return RunModelsList(g);
    if (*show) return RunModelsShow(g, a->model);
    if (*versions) return RunModelsVersions(g, a->model);
    if (*promote) return RunModelsPromote(g, a->promote);
    if (*approve) return RunModelsApprove(g, a->promote, true);
    if (*reject) return RunModelsApprove(g, a->promote, false);
    if (*rollback) return RunModelsRollback(g, a->model, a->reason);
    if (*card) return RunModelsCard(g, a->model, a->card_fields);
    return RunModelsExport(g, a->ref, a->output);
  };
}

Runner DefineLineage(CLI::App& cmd, GlobalOptions& g) {
  auto ref = std::make_shared<std::string>();
  cmd.add_option("version", *ref, "MODEL@VERSION")->required();
  return [&g, ref] { return RunLineage(g, *ref); };
}

Runner DefineAudit(CLI::App& cmd, GlobalOptions& g) {
  struct Args {
    AuditVerifyArgs verify;
    AuditAnchorArgs anchor;
    std::string output, keygen_out;
    int limit = 50;
  };
  auto a = std::make_shared<Args>();
  cmd.require_subcommand(1);
  auto* verify = cmd.add_subcommand(
      "verify", "Check that no entry was edited, deleted or reordered (with --anchors: against the signed anchors too)");
  verify->add_option("--expect-head", a->verify.expect_head, "Also require this head hash (from an earlier verify or export)");
  verify->add_option("--anchors", a->verify.anchors,
                     "Check this anchor file: signatures, line chain, every anchored entry against the store "
                     "(default --audit-anchors)");
  verify->add_option("--public-key", a->verify.public_key,
                     "The Ed25519 public key that signed the anchors (KEY.pub.pem; default: the public half of "
                     "--audit-key)")
      ->envname("ALMANAC_AUDIT_PUBLIC_KEY");
  auto* exp = cmd.add_subcommand("export", "Write every entry as JSON lines");
  exp->add_option("-o,--output", a->output, "Output file (default stdout)");
  auto* list = cmd.add_subcommand("list", "The latest entries");
  list->add_option("--limit", a->limit, "How many (default 50)");
  auto* anchor = cmd.add_subcommand("anchor", "Append a signed anchor of the entries since the file's last anchor");
  anchor->add_option("--key", a->anchor.key, "Ed25519 private key (PEM, mode 0600; default --audit-key)");
  anchor->add_option("--anchors", a->anchor.anchors, "Anchor file, appended to (default --audit-anchors)");
  auto* keygen = cmd.add_subcommand("keygen", "Create an Ed25519 key for signing anchors: KEY.pem (0600) and KEY.pub.pem");
  keygen->add_option("--out", a->keygen_out, "The private key file to create (never overwritten)")->required();
  return [&g, a, verify, exp, anchor, keygen] {
    if (*verify) return RunAuditVerify(g, a->verify);
    if (*exp) return RunAuditExport(g, a->output);
    if (*anchor) return RunAuditAnchor(g, a->anchor);
    if (*keygen) return RunAuditKeygen(g, a->keygen_out);
    return RunAuditList(g, a->limit);
  };
}

// Options of processes that serve Prometheus /metrics without an HTTP API.
void AddMetricsOptions(CLI::App& cmd, MetricsArgs& m) {
  cmd.add_option("--metrics-port", m.port, "Serve Prometheus /metrics on this port (0: any free port)");
  cmd.add_option("--metrics-host", m.host, "Address of the metrics endpoint (default 127.0.0.1)");
}

Runner DefineScheduler(CLI::App& cmd, GlobalOptions& g) {
  auto a = std::make_shared<SchedulerArgs>();
  cmd.add_option("pipelines", a->files, "Pipeline YAML files");
  cmd.add_option("--sources", a->sources,
                 "Source configuration (as for 'almanac load'): load every source with a schedule (repeatable)");
  cmd.add_option("--load-retries", a->load_retries, "Retries of a failed scheduled load (default 2)")
      ->check(CLI::Range(0, 20));
  cmd.add_flag("--now", a->now, "Fire every scheduled pipeline and source once at start, then follow the schedules");
  cmd.add_option("--max-runs", a->max_runs, "Stop after this many runs (default: run forever)");
  cmd.add_option("--run-for", a->run_for_s, "Stop after this many seconds");
  cmd.add_option("--retry-base-ms", a->retry_base_ms, "First retry delay in ms (doubles each retry; default 30000)");
  AddMetricsOptions(cmd, a->metrics);
  return [&g, a] { return RunSchedulerCommand(g, *a); };
}

Runner DefineBackfill(CLI::App& cmd, GlobalOptions& g) {
  auto a = std::make_shared<BackfillArgs>();
  cmd.add_option("pipeline", a->file, "Pipeline YAML file with a schedule (and timezone)")->required();
  cmd.add_option("--from", a->from, "First date (YYYY-MM-DD, in the schedule's time zone)")->required();
  cmd.add_option("--to", a->to, "Last date (inclusive)")->required();
  cmd.add_option("--concurrency", a->concurrency, "Points run at once (default 1)");
  cmd.add_option("--threads", a->threads, "Fitting threads per run (default: cores / concurrency)");
  cmd.add_flag("--queue", a->queue, "Submit one task per point for 'almanac worker' instead of running here");
  cmd.add_option("--max-attempts", a->max_attempts, "Attempts of each queued task (default 3)")->check(CLI::Range(1, 100));
  cmd.add_option("--max-points", a->max_points, "Refuse a range with more fires than this (default 1000)");
  cmd.add_flag("--dry-run", a->dry_run, "List the fires (as_of dates, local and UTC times); run nothing");
  return [&g, a] { return RunBackfillCommand(g, *a); };
}

// ---------------------------------------------------------------------------- task queue

Runner DefineSubmit(CLI::App& cmd, GlobalOptions& g) {
  auto a = std::make_shared<SubmitArgs>();
  cmd.add_option("pipelines", a->files, "Pipeline YAML files (checked before anything is queued)")->required();
  cmd.add_option("--key", a->key,
                 "Idempotency key: submitting the same file with the same key again is refused (default: always new)");
  cmd.add_option("--max-attempts", a->max_attempts, "Attempts before a task fails (default 3)")
      ->check(CLI::Range(1, 100));
  return [&g, a] { return RunSubmit(g, *a); };
}

Runner DefineWorker(CLI::App& cmd, GlobalOptions& g) {
  auto a = std::make_shared<WorkerArgs>();
  cmd.add_option("--concurrency", a->concurrency, "Tasks run at once (default 1)");
  cmd.add_option("--threads", a->threads, "Fitting threads per task (default: cores / concurrency)");
  cmd.add_option("--lease-seconds", a->lease_s,
                 "Lease of a claimed task; another worker re-runs it after (default 30)");
  cmd.add_option("--heartbeat-seconds", a->heartbeat_s, "Lease renewal interval (default: a third of the lease)");
  cmd.add_option("--retry-base-ms", a->retry_base_ms, "Backoff after a failed attempt in ms (doubles; default 30000)");
  cmd.add_option("--max-tasks", a->max_tasks, "Stop after this many tasks per concurrent slot (default: never)");
  cmd.add_option("--idle-exit", a->idle_exit_s, "Stop after this many seconds without work (default: never)");
  cmd.add_option("--poll-ms", a->poll_ms, "Wait between claims of an empty queue (default 1000)")
      ->check(CLI::Range(int64_t{1}, int64_t{60000}));
  AddMetricsOptions(cmd, a->metrics);
  return [&g, a] { return RunWorkerCommand(g, *a); };
}

Runner DefineTasks(CLI::App& cmd, GlobalOptions& g) {
  struct Args {
    std::string state, id, reason;
  };
  auto a = std::make_shared<Args>();
  cmd.require_subcommand(1);
  auto* list = cmd.add_subcommand("list", "Tasks, oldest first");
  list->add_option("--state", a->state, "queued, running, done or failed");
  auto* show = cmd.add_subcommand("show", "One task: attempts, lease, result or error");
  show->add_option("id", a->id, "Task id")->required();
  auto* retry = cmd.add_subcommand("retry", "Queue a failed task again with fresh attempts (audited)");
  retry->add_option("id", a->id, "Task id")->required();
  retry->add_option("--reason", a->reason, "Why (recorded in the audit log)")->required();
  auto* cancel = cmd.add_subcommand("cancel", "Fail a queued task so no worker runs it (audited)");
  cancel->add_option("id", a->id, "Task id")->required();
  cancel->add_option("--reason", a->reason, "Why (recorded in the audit log)")->required();
  return [&g, a, list, show, retry] {
    if (*list) return RunTasksList(g, a->state);
    if (*show) return RunTasksShow(g, a->id);
    if (*retry) return RunTasksRetry(g, a->id, a->reason);
    return RunTasksCancel(g, a->id, a->reason);
  };
}

// ----------------------------------------------------------------------------- monitoring

Runner DefineReport(CLI::App& cmd, GlobalOptions& g) {
  auto a = std::make_shared<ReportArgs>();
  cmd.add_option("ref", a->ref, "MODEL@VERSION (or MODEL@production)")->required();
  cmd.add_option("-o,--output", a->output, "HTML file (default MODEL-vVERSION-report.html)");
  cmd.add_option("--pdf", a->pdf, "Also print the report to this PDF (needs Chromium)");
  cmd.add_option("--risk", a->risk, "Add a risk section from this portfolio risk report (JSON of risk portfolio -o)");
  cmd.add_option("--var-backtest", a->var_backtest,
                 "Add a VaR backtest section from this file (JSON of risk var-backtest --format json, or a "
                 "pipeline's var_backtest.json)");
  return [&g, a] { return RunReport(g, *a); };
}

Runner DefineMonitor(CLI::App& cmd, GlobalOptions& g) {
  auto a = std::make_shared<MonitorArgs>();
  cmd.add_option("model", a->model, "Model name (default: every model with a production version)");
  cmd.add_flag("!--no-audit", a->audit, "Do not record verdict changes in the audit log");
  return [&g, a] { return RunMonitor(g, *a); };
}

// ------------------------------------------------------------------------------------ risk

Runner DefineRisk(CLI::App& cmd, GlobalOptions& g) {
  auto v = std::make_shared<RiskVarArgs>();
  auto b = std::make_shared<RiskBacktestArgs>();
  cmd.require_subcommand(1);
  auto* var = cmd.add_subcommand("var", "VaR and expected shortfall of a P&L file (historical, normal, Student-t); "
                                        "Euler contributions by position with --positions");
  var->add_option("--pnl", v->pnl, "CSV file with a header: a P&L column, or one column per position")->required();
  var->add_option("--column", v->column, "The P&L column (default: 'pnl', or the only column)");
  var->add_option("--level", v->levels, "Confidence levels in (0, 1), comma-separated (default 0.95,0.99)");
  var->add_option("--method", v->method, "historical, normal, t or all (default all)");
  var->add_option("--dof", v->dof, "Student-t degrees of freedom, > 2 (default 5)");
  var->add_flag("--positions", v->positions,
                "Every column (but scenario, date, id) is a position's P&L: VaR/ES of their sum and contributions");
  auto* backtest = cmd.add_subcommand("backtest", "Kupiec, Christoffersen and Basel traffic light of a P&L history "
                                                  "against its VaR series");
  backtest->add_option("--pnl", b->pnl, "CSV file with a header: the P&L and the VaR (or exception) columns")->required();
  backtest->add_option("--pnl-column", b->pnl_column, "The P&L column (default pnl)");
  backtest->add_option("--var-column", b->var_column, "The VaR column, as a positive loss");
  backtest->add_option("--exception-column", b->exception_column, "Exception indicators (0/1) instead of a VaR column");
  backtest->add_option("--level", b->level, "Confidence level of the VaR in (0, 1) (default 0.99)");
  // issue 24: the portfolio stress test on simulated macro paths.
  auto pf = std::make_shared<RiskPortfolioArgs>();
  auto* portfolio = cmd.add_subcommand("portfolio", "Portfolio P&L, VaR/ES and contributions per horizon on simulated "
                                                    "macro paths, unconditional or under each scenario of a YAML file");
  portfolio->add_option("series", pf->data.series, "Macro series keys, in model order (default: the scenario file's)");
  AddDataOptions(*portfolio, pf->data);
  portfolio->add_option("-m,--model", pf->model.model, "var (default) or bvar; default: the scenario file's model");
  AddModelOptions(*portfolio, pf->model, " (merged over the scenario file's)");
  portfolio->add_option("--lags", pf->lags, "Lag order of the macro model");
  portfolio->add_option("--positions", pf->positions, "Positions: CSV (asset,exposure[,currency][,id]) or JSON")->required();
  portfolio->add_option("--returns", pf->returns, "Asset return history: CSV period,ASSET1,ASSET2,...");
  portfolio->add_option("--return-series", pf->return_series,
                        "Or the asset returns from the store: ASSET=SERIES,... (as of --as-of)");
  portfolio->add_option("--experiment", pf->experiment,
                        "Record a tracked run in this experiment (params, inputs' SHA-256, VaR/ES metrics, the report)");
  portfolio->add_option("--fx", pf->fx, "FX rates to the base currency: CSV currency,rate");
  portfolio->add_option("--base-currency", pf->base_currency, "Reporting currency (default USD)");
  portfolio->add_option("--scenarios", pf->scenarios, "Scenario YAML (as for almanac scenario); default: unconditional");
  portfolio->add_option("--only", pf->only, "Run only these scenarios (comma-separated)");
  portfolio->add_option("--factors", pf->factors, "Model variables used as factors (comma-separated; default all)");
  portfolio->add_flag("--factor-changes", pf->factor_changes, "Regress returns on the factors' period changes");
  portfolio->add_option("--nw-lags", pf->nw_lags, "Newey-West lags of the factor regressions (default: automatic)");
  portfolio->add_option("--paths", pf->paths, "Simulated macro paths per scenario (default 10000)");
  portfolio->add_option("-H,--horizon", pf->horizon, "Steps ahead (default: the scenario file's horizon, else 8)");
  portfolio->add_option("--shocks", pf->shocks, "Macro shocks: gaussian (default), t or bootstrap (unconditional only)");
  portfolio->add_option("--shock-dof", pf->shock_dof, "Degrees of freedom of t shocks (default 5)");
  portfolio->add_flag("--model-parameter-uncertainty", pf->model_parameter_uncertainty,
                      "bvar: draw the macro model's coefficients from the posterior per path");
  portfolio->add_flag("--no-parameter-uncertainty", pf->no_parameter_uncertainty,
                      "Keep the factor coefficients at their estimates (default: drawn per path)");
  portfolio->add_flag("--no-residuals", pf->no_residuals, "Leave out the assets' residual returns");
  portfolio->add_option("--level", pf->levels, "Confidence levels in (0, 1) (default 0.95,0.99)");
  portfolio->add_option("--dof", pf->dof, "Student-t degrees of freedom of the parametric VaR (default 5)");
  portfolio->add_option("--seed", pf->seed, "Seed (default 42); results do not depend on --threads");
  portfolio->add_option("--threads", pf->threads, "Threads (default: all cores)");
  portfolio->add_flag("--contributions", pf->contributions,
                      "Also print contributions by position and factor (last horizon, highest level)");
  portfolio->add_option("-o,--output", pf->output, "Write the full JSON report to this file");
  portfolio->add_option("--model-file", pf->model_file,
                        "Simulate from this fitted var/bvar (almanac var --save) instead of refitting; "
                        "the series must be its variables");
  auto vb = std::make_shared<RiskVarBacktestArgs>();
  auto* var_backtest = cmd.add_subcommand("var-backtest", "Backtest of the portfolio's one-step-ahead VaR computed at "
                                                          "each origin from the data as known then (vintages)");
  var_backtest->add_option("series", vb->portfolio.data.series, "Macro series keys, in model order");
  AddDataOptions(*var_backtest, vb->portfolio.data);
  var_backtest->add_option("-m,--model", vb->portfolio.model.model, "var (default) or bvar");
  AddModelOptions(*var_backtest, vb->portfolio.model, "");
  var_backtest->add_option("--lags", vb->portfolio.lags, "Lag order of the macro model");
  var_backtest->add_option("--positions", vb->portfolio.positions, "Positions: CSV or JSON")->required();
  var_backtest->add_option("--returns", vb->portfolio.returns, "Asset return history: CSV period,ASSET,...");
  var_backtest->add_option("--return-series", vb->portfolio.return_series,
                           "Or the asset returns from the store: ASSET=SERIES,...");
  var_backtest->add_option("--experiment", vb->portfolio.experiment,
                           "Record a tracked run in this experiment (params, inputs' SHA-256, backtest metrics, the report)");
  var_backtest->add_option("--fx", vb->portfolio.fx, "FX rates to the base currency: CSV currency,rate");
  var_backtest->add_option("--base-currency", vb->portfolio.base_currency, "Reporting currency (default USD)");
  var_backtest->add_option("--factors", vb->portfolio.factors, "Model variables used as factors (default all)");
  var_backtest->add_flag("--factor-changes", vb->portfolio.factor_changes, "Regress returns on the factors' changes");
  var_backtest->add_option("--paths", vb->portfolio.paths, "Simulated paths per origin (default 10000)");
  var_backtest->add_option("--seed", vb->portfolio.seed, "Seed (default 42)");
  var_backtest->add_option("--threads", vb->portfolio.threads, "Threads (default: all cores)");
  var_backtest->add_option("--from", vb->from, "First origin period, e.g. 2005Q1")->required();
  var_backtest->add_option("--to", vb->to, "Last origin period")->required();
  var_backtest->add_option("--level", vb->level, "Confidence level in (0, 1) (default 0.99)");
  // issue 24: the macro paths themselves, stored as the pipeline's simulate step stores them.
  auto sm = std::make_shared<RiskSimulateArgs>();
  auto* simulate = cmd.add_subcommand("simulate", "Simulated macro paths (unconditional or under each scenario of a "
                                                  "YAML file) written as float32 with a JSON header, and their quantiles");
  simulate->add_option("series", sm->data.series, "Macro series keys, in model order (default: the scenario file's)");
  AddDataOptions(*simulate, sm->data);
  simulate->add_option("-m,--model", sm->model.model,
                       "var (default) or bvar; default: the scenario file's model; or NAME@VERSION, a registered "
                       "var/bvar (almanac var ... --register) simulated as it was fitted");
  AddModelOptions(*simulate, sm->model, " (merged over the scenario file's)");
  simulate->add_option("--lags", sm->lags, "Lag order of the macro model");
  simulate->add_option("--model-file", sm->model_file, "Simulate from this fitted var/bvar (almanac var --save)");
  simulate->add_option("--scenarios", sm->scenarios, "Scenario YAML (as for almanac scenario); default: unconditional");
  simulate->add_option("--only", sm->only, "Only these scenarios (comma-separated)");
  simulate->add_option("--paths", sm->paths, "Paths per scenario (default 1000; at most 2^25 values in all)");
  simulate->add_option("-H,--horizon", sm->horizon, "Steps ahead (default: the scenario file's horizon, else 8)");
  simulate->add_option("--shocks", sm->shocks, "gaussian (default), t or bootstrap (unconditional only)");
  simulate->add_option("--shock-dof", sm->shock_dof, "Degrees of freedom of t shocks (default 5)");
  simulate->add_flag("--model-parameter-uncertainty", sm->model_parameter_uncertainty,
                     "bvar: draw the coefficients from the posterior per path");
  simulate->add_option("--seed", sm->seed, "Seed (default 42); the paths do not depend on --threads");
  simulate->add_option("--threads", sm->threads, "Threads (default: all cores)");
  simulate->add_option("-o,--output", sm->output, "The paths file (float32 little-endian after a JSON header)")->required();
  simulate->add_option("--summary", sm->summary, "Also write the quantile summary as JSON to this file");
  return [&g, v, b, var, pf, portfolio, vb, var_backtest, sm, simulate] {
    if (*simulate) return RunRiskSimulate(g, *sm);
    if (*var) return RunRiskVar(g, *v);
    if (*portfolio) return RunRiskPortfolio(g, *pf);
    if (*var_backtest) return RunRiskVarBacktest(g, *vb);
    return RunRiskBacktest(g, *b);
  };
}

// ------------------------------------------------------------------------------ reconcile (issue 25)

Runner DefineReconcile(CLI::App& cmd, GlobalOptions& g) {
  auto a = std::make_shared<ReconcileArgs>();
  cmd.add_option("--hierarchy", a->hierarchy, "YAML file: bottom (series) and aggregates (name: [parts])")->required();
  cmd.add_option("--forecasts", a->forecasts,
                 "CSV file: one column of base forecasts per series of the hierarchy, one row per step; other "
                 "columns are labels")
      ->required();
  cmd.add_option("--residuals", a->residuals,
                 "CSV file in the same form: in-sample one-step errors (needed by wls_var and mint_shrink)");
  cmd.add_option("--method", a->method, "bottom_up, ols, wls_struct, wls_var or mint_shrink (default mint_shrink)");
  return [&g, a] { return RunReconcile(g, *a); };
}

// ------------------------------------------------------------------------------ nowcast (issue 25)

Runner DefineNowcast(CLI::App& cmd, GlobalOptions& g) {
  auto a = std::make_shared<NowcastArgs>();
  cmd.add_option("--config", a->config,
                 "YAML file: target (quarterly series), indicators (monthly series), blocks, EM options "
                 "(docs/nowcasting.md); required");
  cmd.add_option("--as-of", a->as_of, "Fit and nowcast on the data as known on DATE (default: everything loaded)");
  cmd.add_option("--compare-as-of", a->compare_as_of,
                 "Also decompose the change of the nowcast since the vintage of DATE into news and revisions");
  cmd.add_option("--quarter", a->quarter, "Target quarter, e.g. 2024Q1 (default: the quarter of --as-of or today)");
  cmd.add_option("--experiment", a->experiment,
                 "Record a tracked run in this experiment: settings as params, the nowcast as metric, the model");
  cmd.add_option("--chart", a->chart,
                 "Write the news chart (SVG: revisions and each series' impact) of the update to FILE; needs "
                 "--compare-as-of");
  // nowcast evaluate (issue 25): real-time accuracy against a random walk and an AR(2).
  auto e = std::make_shared<NowcastEvalArgs>();
  CLI::App* evaluate = cmd.add_subcommand(
      "evaluate", "Nowcast each month end (or release) of a window on the data as then known; RMSE/MAE of the DFM, "
                  "a random walk and an AR(2), Diebold-Mariano tests (docs/nowcasting.md, \"Evaluate\")");
  evaluate->add_option("--config", e->config, "YAML file of the nowcast (as for 'almanac nowcast')")->required();
  evaluate->add_option("--from", e->from, "First day of the evaluation window (YYYY-MM-DD)")->required();
  evaluate->add_option("--to", e->to, "Last day of the evaluation window (YYYY-MM-DD)")->required();
  evaluate->add_option("--every", e->every, "month (each month's last day, default) or release (each vintage date)");
  evaluate->add_option("--mode", e->mode,
                       "real-time (the stored vintage of each date, default) or pseudo (the latest data cut to the "
                       "same publication pattern)");
  evaluate->add_option("--refit", e->refit, "every (re-estimate the DFM at each date, default) or once (first date)");
  evaluate->add_option("--outcome", e->outcome,
                       "latest (the latest vintage's value, default) or first (the first release)");
  return [&g, a, e, evaluate] {
    if (*evaluate) return RunNowcastEvaluate(g, *e);
    if (a->config.empty()) return ReportError(InvalidArgumentError("nowcast: --config is required"));
    return RunNowcast(g, *a);
  };
}

// -------------------------------------------------------------------------------- serving

Runner DefineServe(CLI::App& cmd, GlobalOptions& g) {
  auto a = std::make_shared<ServeArgs>();
  cmd.add_option("--listen", a->listen, "HOST:PORT to listen on (default 127.0.0.1:8080; port 0: any free port)");
  cmd.add_option("--threads", a->threads, "I/O threads, each with its own event loop (default: one per core)");
  cmd.add_option("--workers", a->workers, "Threads for store reads and refits (default 2)");
  cmd.add_option("--poll-seconds", a->poll_seconds,
                 "Seconds between checks for registry, token and data changes (default 2)");
  cmd.add_flag("--no-auth", a->no_auth, "No tokens: every request acts as --user with the admin role (loopback only)");
  cmd.add_option("--tls-cert", a->tls_cert, "PEM certificate chain: serve HTTPS only");
  cmd.add_option("--tls-key", a->tls_key, "PEM private key of --tls-cert");
  cmd.add_option("--policy", a->policy,
                 "Versions to serve: production (default), staging, MODEL@VERSION; comma-separated");
  cmd.add_option("--max-body-bytes", a->max_body_bytes, "Larger request bodies get 413 (default 1048576)");
  cmd.add_option("--header-timeout-ms", a->header_timeout_ms, "First byte to end of header (default 10000)");
  cmd.add_option("--read-timeout-ms", a->read_timeout_ms, "End of header to end of body (default 30000)");
  cmd.add_option("--idle-timeout-ms", a->idle_timeout_ms,
                 "Keep-alive connections idle this long are closed (default 60000)");
  cmd.add_option("--max-connections", a->max_connections, "More open connections get 503 (default 1024)");
  cmd.add_option("--max-connections-per-address", a->max_connections_per_address,
                 "More open connections from one client address get 429 and are closed (default: a quarter of "
                 "--max-connections, none with --trusted-proxies; 0: no limit)");
  cmd.add_option("--rate-limit", a->rate_limit,
                 "Requests per second per client address; more get 429 with Retry-After (default 0: no limit)");
  cmd.add_option("--rate-burst", a->rate_burst,
                 "Requests a client may send at once within --rate-limit (default: twice the rate)");
  cmd.add_option("--trusted-proxies", a->trusted_proxies,
                 "Proxies in front that append to X-Forwarded-For: the client is the Nth address from the right "
                 "(default 0: ignore the header)");
  cmd.add_option("--log-repeat-limit", a->log_repeat_limit,
                 "Identical warnings per second per client before they are summarised (default 10; 0: no limit)");
  cmd.add_option("--max-queue", a->max_queue, "More waiting store reads or refits get 503 (default 64)");
  cmd.add_option("--cache-entries", a->cache_entries, "Forecast cache size (default 4096; 0 disables it)");
  cmd.add_option("--shutdown-timeout", a->shutdown_timeout_s,
                 "Seconds in-flight requests get after SIGTERM (default 10)");
  cmd.add_option("--ui-dir", a->ui_dir,
                 "The built web console served under /ui/ (default: $ALMANAC_UI_DIR, else ui/ or ../share/almanac/ui "
                 "beside the binary; docs/ui.md)");
  return [&g, a] { return RunServe(g, *a); };
}

Runner DefineTokens(CLI::App& cmd, GlobalOptions& g) {
  struct Args {
    TokenCreateArgs create;
    std::string id;
    std::string grace = "24h";
  };
  auto a = std::make_shared<Args>();
  cmd.require_subcommand(1);
  auto* create = cmd.add_subcommand("create", "Create a bearer token (printed once; only its SHA-256 is stored)");
  create->add_option("--role", a->create.role, "viewer, analyst, modeler, approver or admin")->required();
  create->add_option("--user", a->create.user, "Whom requests with the token act as (the audit actor)")->required();
  create->add_option("--description", a->create.description, "What the token is for");
  create->add_option("--expires", a->create.expires,
                     "Valid for this long (90d, 12h, 2w) or until this date/time (2027-03-31); default: until revoked");
  auto* list = cmd.add_subcommand("list", "List tokens (never their secrets), with expiry and last use");
  auto* revoke = cmd.add_subcommand("revoke", "Revoke a token by id (servers refuse it from their next poll)");
  revoke->add_option("id", a->id, "Token id (tok_...)")->required();
  auto* rotate = cmd.add_subcommand(
      "rotate", "Replace a token without downtime: a new secret now, the old one valid for the grace period");
  rotate->add_option("id", a->id, "Token id (tok_...)")->required();
  rotate->add_option("--grace", a->grace, "How long the old secret keeps working (default 24h; 0s revokes it at once)");
  return [&g, a, create, list, rotate] {
    if (*create) return RunTokensCreate(g, a->create);
    if (*list) return RunTokensList(g);
    if (*rotate) return RunTokensRotate(g, a->id, a->grace);
    return RunTokensRevoke(g, a->id);
  };
}

Runner DefineUsers(CLI::App& cmd, GlobalOptions& g) {
  auto a = std::make_shared<UsersArgs>();
  cmd.require_subcommand(1);
  auto* list = cmd.add_subcommand("list", "List the store users (principal, user, admin, granted by)");
  auto* grant = cmd.add_subcommand("grant", "Map a principal to a user and/or make it an admin (admins only)");
  grant->add_option("principal", a->principal, "Operating-system user (local workspace) or PostgreSQL role")->required();
  grant->add_option("--as", a->user, "The almanac user it acts as (default: its own name)");
  grant->add_flag("--admin", a->admin, "May act as other users (--user) and grant users");
  auto* revoke = cmd.add_subcommand("revoke", "Remove a principal's row (admins only; not the last admin)");
  revoke->add_option("principal", a->principal, "Operating-system user or PostgreSQL role")->required();
  return [&g, a, list, grant] {
    if (*list) return RunUsersList(g);
    if (*grant) return RunUsersGrant(g, *a);
    return RunUsersRevoke(g, a->principal);
  };
}

Runner DefineWhoami(CLI::App&, GlobalOptions& g) {
  return [&g] { return RunWhoami(g); };
}

// One row per command, in the order `almanac --help` lists them: data, models, pipelines and
// registry, queue, monitoring, serving.
// ------------------------------------------------------------------------------ export (issue 21)

Runner DefineExport(CLI::App& cmd, GlobalOptions& g) {
  auto a = std::make_shared<ExportOrchestratorArgs>();
  cmd.require_subcommand(1);
  auto* argo = cmd.add_subcommand("argo", "Argo Workflows: a CronWorkflow per schedule, a Workflow for the rest (YAML)");
  auto* airflow = cmd.add_subcommand("airflow", "Airflow: one DAG file (.py) with a DAG per schedule");
  for (CLI::App* sub : {argo, airflow}) {
    sub->add_option("pipelines", a->files, "Pipeline YAML files (checked first; nothing is written on an error)")
        ->required();
    sub->add_option("-o,--output", a->output, "Write to this file (default: standard output)");
    sub->add_option("--shards", a->shards,
                    "Run each schedule's pipelines as N parallel 'almanac run --shard I/N' (default 1)")
        ->check(CLI::Range(1, 1000));
  }
  argo->add_option("--image", a->image, "Container image that runs almanac (default almanac:latest)");
  argo->add_option("--store-secret", a->store_secret,
                   "Secret whose key 'url' is the store URI (ALMANAC_STORE; default almanac-store)");
  argo->add_option("--namespace", a->namespace_, "metadata.namespace of the workflows (default: none)");
  airflow->add_option("--binary", a->binary, "The almanac binary on the Airflow workers (default: almanac on PATH)");
  return [&g, a, argo] { return *argo ? RunExportArgo(g, *a) : RunExportAirflow(g, *a); };
}

constexpr CommandDef kCommands[] = {
    {"init", "Create a workspace (SQLite store and artifact folder), or the schema of a --store postgresql://... store",
     DefineInit},
    {"migrate",
     "Copy a whole SQLite workspace (data, vintages, runs, registry, artifacts, audit log) into an empty "
     "PostgreSQL store, and verify it",
     DefineMigrate},
    {"ingest", "Load CSV files (long, wide, FRED or ALFRED form) as new vintages", DefineIngest},
    {"load",
     "Fetch the sources of a YAML source configuration (FRED, ALFRED, ECB, OECD, Eurostat, World Bank, HTTP) as "
     "new vintages",
     DefineLoad},
    {"quarantine", "Loads that broke a validation rule: list, show, release, drop", DefineQuarantine},
    {"series", "Inspect series, vintages and revisions", DefineSeries},
    {"snapshot", "Create and inspect data snapshots (immutable data versions)", DefineSnapshot},
    {"forecast", "Fit a model and print point forecasts with prediction intervals", DefineForecast},
    {"model-types", "List the model types and their parameters", DefineModelTypes},
    {"var", "Vector autoregressions: forecasts, coefficients, lag selection, IRFs, FEVD, Granger tests", DefineVar},
    {"scenario", "Conditional forecasts of a VAR/BVAR under the named scenarios of a YAML file", DefineScenario},
    {"backtest",
     "Rolling-origin backtests (optionally in real time) with accuracy metrics and the Diebold-Mariano test",
     DefineBacktest},
    {"run", "Run pipeline files (load, validate, transform, train, evaluate, register, promote)", DefineRun},
    {"validate", "Check pipeline files against the schema without running them", DefineValidate},
    {"export", "Pipelines as Argo Workflows (CronWorkflows) or an Airflow DAG file, with schedule, shards and retries",
     DefineExport},
    {"reproduce", "Re-run a past run from its recorded inputs and compare every artifact", DefineReproduce},
    {"runs", "Tracked runs: list, show, compare", DefineRuns},
    {"models", "The model registry: versions, stages, four-eyes approvals", DefineModels},
    {"lineage", "The chain vintage -> snapshot -> run -> artifact -> version -> approvals", DefineLineage},
    {"audit", "The hash-chained audit log: verify, export, list; signed anchors outside the store (anchor, keygen)",
     DefineAudit},
    {"scheduler",
     "Run pipelines and source loads on their cron schedules, with retries and no overlaps; re-run "
     "pipelines with 'trigger: on_new_data' when a load brings new data",
     DefineScheduler},
    {"backfill",
     "Run a pipeline once per fire of its schedule between two dates, each on the data as then known "
     "(as_of = the fire's date); idempotent, in parallel or through the queue",
     DefineBackfill},
    {"submit", "Queue pipeline runs for 'almanac worker' processes (on any host sharing the store)", DefineSubmit},
    {"worker",
     "Run queued tasks: claim with a lease, renew it by heartbeats, retry failures with backoff; a task whose "
     "worker died is re-run by another",
     DefineWorker},
    {"tasks", "The task queue: list, show, retry failed, cancel queued", DefineTasks},
    {"reconcile",
     "Make base forecasts of a hierarchy or grouping coherent: bottom-up, OLS, WLS, MinT-shrink",
     DefineReconcile},
    {"nowcast", "Nowcast a quarterly series from monthly indicators (dynamic factor model) with the news of each release",
     DefineNowcast},
    {"risk", "Investment risk of P&L files: VaR and expected shortfall with contributions, VaR backtests", DefineRisk},
    {"monitor", "Realized accuracy of production forecasts against their backtests; flags degradation", DefineMonitor},
    {"report", "Model-risk report of MODEL@VERSION: one self-contained HTML file (and --pdf)", DefineReport},
    {"serve", "HTTP service: forecasts from the production versions, registry, data; tokens, metrics", DefineServe},
    {"tokens", "API tokens of almanac serve: create, list, rotate, revoke", DefineTokens},
    {"users", "Who may use the store: map OS users / database roles to users, grant admin", DefineUsers},
    {"whoami", "Who you are to this store (the audit actor of your commands) and how that was decided", DefineWhoami},
};

}  // namespace

std::span<const CommandDef> Commands() { return kCommands; }

}  // namespace almanac::cli
