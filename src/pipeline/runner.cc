// The pipeline runner: load -> validate -> transform -> train -> evaluate -> register -> promote,
// with content-addressed, cached step outputs and full tracking.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "almanac/monitor/news_chart.h"
#include "almanac/pipeline.h"
#include "almanac/version.h"
#include "pipeline/evaluate.h"
#include "pipeline/nowcast.h"
#include "pipeline/risk_step.h"
#include "pipeline/simulate_step.h"

namespace almanac::pipeline {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string CodeVersion() { return std::string(ALMANAC_VERSION) + "+" + ALMANAC_GIT_COMMIT; }

// The canonical JSON of a set of series (same form as snapshot content).
Result<std::string> SeriesContent(const std::map<std::string, TimeSeries>& series) {
  std::vector<store::SnapshotSeries> v;
  for (const auto& [k, ts] : series) v.push_back({k, ts});
  return store::SnapshotCanonicalContent(v);
}

Json ModelJson(const models::ModelSpec& m) { return {{"type", m.type}, {"params", m.params.is_null() ? Json::object() : m.params}}; }

Json EvaluationJson(const EvaluationSpec& e) {
  return {{"origins", e.origins}, {"step", e.step}, {"window", e.window}, {"window_size", e.window_size},
          {"horizon", e.horizon}, {"metrics", e.metrics}};
}

bool Holds(const Rule::Clause& c, double v) {
  if (c.op == "<") return v < c.value;
  if (c.op == "<=") return v <= c.value;
  if (c.op == ">") return v > c.value;
  return v >= c.value;
}

// For coverage metrics "better" means closer to nominal; for the others, lower.
double Badness(const std::string& metric, double v) {
  if (metric.rfind("coverage", 0) == 0) return std::fabs(v - std::stod(metric.substr(8)) / 100.0);
  return v;
}

class Run {
 public:
  Run(const Environment& env, const PipelineSpec& spec, const RunOptions& opts)
      : env_(env), spec_(spec), opts_(opts), tracker_(env.store->metadata(), *env.artifacts, *env.clock),
        registry_(*env.store, *env.clock) {}

  Result<RunResult> Execute() {
    ALMANAC_RETURN_IF_ERROR(tracker_.ReapDeadRuns().status());
    tracking::RunContext ctx;
    ctx.experiment = spec_.experiment;
    ctx.pipeline = spec_.name;
    ctx.user = opts_.user;
    ctx.pipeline_hash = spec_.source_hash;
    ctx.git_commit = opts_.git_commit;
    ctx.seed = spec_.seed;
    ctx.reproduces = opts_.reproduces;
    ALMANAC_ASSIGN_OR_RETURN(store::RunRecord run, tracker_.StartRun(ctx));
    run_t0_ = SteadyClock::now();
    result_.run_id = run.id;
    if (!opts_.tags.empty()) ALMANAC_RETURN_IF_ERROR(tracker_.SetTags(run.id, opts_.tags));
    Progress("run " + run.id + " of pipeline " + spec_.name + (opts_.reproduces.empty() ? "" : " (reproducing " + opts_.reproduces + ")"));
    Status s = Steps();
    if (!s.ok()) {
      result_.status = store::RunStatus::kFailed;
      Progress("run " + run.id + " failed: " + s.message());
      SaveRunRecords().IgnoreError();  // best effort: the step's error is what the caller needs
      tracker_.FinishRun(run.id, store::RunStatus::kFailed, s.message()).IgnoreError();
      return s.WithContext("run " + run.id);
    }
    if (Status saved = SaveRunRecords(); !saved.ok()) {
      // Never leave the run "running": it failed to record itself.
      result_.status = store::RunStatus::kFailed;
      tracker_.FinishRun(run.id, store::RunStatus::kFailed, "storing the timeline and log: " + saved.message()).IgnoreError();
      return saved.WithContext("run " + run.id + ": storing the timeline and log");
    }
    ALMANAC_RETURN_IF_ERROR(tracker_.FinishRun(run.id, store::RunStatus::kFinished, ""));
    return result_;
  }

 private:
  // Every progress line also goes to the run's log (run.log): these lines are user-facing
  // already and carry no secrets.
  void Progress(const std::string& line) {
    log_ += line;
    log_ += '\n';
    if (opts_.progress) opts_.progress(line);
  }

  // Seconds since the run started, rounded to 0.1 ms (steady clock: immune to clock changes).
  double Offset(SteadyClock::time_point t) const {
    return std::round(std::chrono::duration<double>(t - run_t0_).count() * 1e4) / 1e4;
  }

  // Work a step did before Step() was called (the parallel fits of the train steps).
  struct EarlierWork {
    SteadyClock::time_point began;
    double seconds = 0;
  };

  // One entry of the run's timeline (timeline.json).
  void AddToTimeline(const std::string& name, double start, double seconds, bool cached, bool ok) {
    timeline_.push_back({{"step", name},
                         {"start", start},
                         {"seconds", std::round(seconds * 1e4) / 1e4},
                         {"cached", cached},
                         {"status", ok ? "ok" : "failed"}});
  }

  // Stores the timeline and the log on the run as run-specific artifacts (never content-
  // addressed: they differ on every run, and steps.json must not).
  Status SaveRunRecords() {
    ALMANAC_ASSIGN_OR_RETURN(std::string timeline, CanonicalJson(timeline_));
    ALMANAC_RETURN_IF_ERROR(tracker_
                                .LogArtifact(result_.run_id, tracking::kTimelineArtifact, timeline,
                                             tracking::kTimelineArtifact)
                                .status());
    return tracker_.LogArtifact(result_.run_id, tracking::kRunLogArtifact, log_, tracking::kRunLogArtifact).status();
  }

  // Runs a step function, timing it, reporting progress and adding it to the timeline.
  Status Step(const std::string& name, const std::function<Status(StepResult&)>& fn, const EarlierWork* earlier = nullptr) {
    StepResult sr;
    sr.step = name;
    const auto t0 = SteadyClock::now();
    Status s = fn(sr);
    sr.seconds = std::round(std::chrono::duration<double>(SteadyClock::now() - t0).count() * 1e4) / 1e4;
    const double start = Offset(earlier != nullptr ? earlier->began : t0);
    const double total = sr.seconds + (earlier != nullptr ? earlier->seconds : 0.0);
    AddToTimeline(name, start, total, s.ok() && sr.cached, s.ok());
    if (!s.ok()) {
      Progress("[" + name + "] failed after " + FormatFixed(sr.seconds, 2) + " s");
      return s.WithContext("step " + name);
    }
    Progress("[" + name + "] " + (sr.cached ? "cached" : "done") + (sr.summary.empty() ? "" : ": " + sr.summary) + " (" +
             FormatFixed(sr.seconds, 3) + " s)");
    step_log_[name] = {{"key", sr.cache_key}, {"inputs", current_inputs_}, {"cached", sr.cached}};
    result_.steps.push_back(std::move(sr));
    current_inputs_ = Json::object();
    return Status::Ok();
  }

  // Content-addressed output of a step: stored once, recorded on the run under `label`.
  Result<store::ArtifactRecord> Output(const std::string& label, const std::string& bytes) {
    const std::string sha = Sha256Hex(bytes);
    ALMANAC_ASSIGN_OR_RETURN(store::ArtifactRecord rec, env_.artifacts->Put(store::ContentAddressedName(sha), bytes));
    rec.kind = label;
    if (!recorded_.insert(rec.name).second) {
      // The same bytes under another label in this run: record a run-specific copy.
      ALMANAC_ASSIGN_OR_RETURN(rec, tracker_.LogArtifact(result_.run_id, label, bytes, label));
      return rec;
    }
    ALMANAC_RETURN_IF_ERROR(tracker_.RecordArtifact(result_.run_id, rec));
    return rec;
  }

  // The cached outputs for `key` when present, intact and not forced.
  Result<std::optional<store::CacheEntry>> Cached(const std::string& key) {
    if (opts_.force || !opts_.reproduces.empty()) return std::optional<store::CacheEntry>();
    ALMANAC_ASSIGN_OR_RETURN(auto e, env_.store->metadata().Transact<std::optional<store::CacheEntry>>(
                                         [&](store::MetadataTxn& t) { return t.GetCache(key); }));
    return e;
  }

  Result<std::string> CachedBytes(const store::CacheEntry& e) {
    return env_.artifacts->Get(e.outputs.at("artifact").get<std::string>(), e.outputs.at("sha256").get<std::string>());
  }

  Status PutCache(const std::string& key, const std::string& step, const store::ArtifactRecord& rec) {
    store::CacheEntry e{key, step, result_.run_id, {{"artifact", rec.name}, {"sha256", rec.sha256}}, env_.clock->NowMicros()};
    return env_.store->metadata().Run([&](store::MetadataTxn& t) { return t.PutCache(e); });
  }

  Result<std::string> Key(const Json& inputs) {
    current_inputs_ = inputs;
    current_inputs_["code"] = CodeVersion();
    return ContentId(current_inputs_);
  }

  // Either reads the cached bytes for `key` or computes them; records the artifact.
  Status CachedOrCompute(StepResult& sr, const std::string& label, const Json& inputs,
                         const std::function<Result<std::string>()>& compute, std::string* bytes) {
    ALMANAC_ASSIGN_OR_RETURN(sr.cache_key, Key(inputs));
    ALMANAC_ASSIGN_OR_RETURN(auto cached, Cached(sr.cache_key));
    if (cached) {
      auto b = CachedBytes(*cached);
      if (b.ok()) {
        *bytes = std::move(*b);
        sr.cached = true;
      } else if (b.status().code() != StatusCode::kNotFound && b.status().code() != StatusCode::kDataLoss) {
        return b.status();
      }  // a lost or altered cache artifact is recomputed
    }
    if (!sr.cached) {
      ALMANAC_ASSIGN_OR_RETURN(*bytes, compute());
    }
    ALMANAC_ASSIGN_OR_RETURN(store::ArtifactRecord rec, Output(label, *bytes));
    if (!sr.cached) ALMANAC_RETURN_IF_ERROR(PutCache(sr.cache_key, label, rec));
    sr.outputs.push_back(rec);
    return Status::Ok();
  }

  Status Steps() {
    if (spec_.nowcast) return NowcastSteps();  // issue 25
    // Parameters: the whole spec, flattened.
    std::vector<std::pair<std::string, std::string>> params = {
        {"pipeline", spec_.name}, {"seed", std::to_string(spec_.seed)},
        {"transforms", CompactJson(data::TransformsToJson(spec_.transforms))}};
    if (!spec_.candidates.empty()) {  // a risk-only pipeline forecasts nothing (issue 24)
      params.insert(params.end(), {{"target", spec_.target}, {"horizon", std::to_string(spec_.horizon)},
                                   {"levels", CompactJson(spec_.levels)},
                                   {"evaluation", CompactJson(EvaluationJson(spec_.evaluation))}});
    }
    for (const auto& c : spec_.candidates) params.emplace_back("model." + c.name, CompactJson(ModelJson(c.model)));
    ALMANAC_RETURN_IF_ERROR(tracker_.LogParams(result_.run_id, params));
    // The pipeline file itself, for reproduction.
    ALMANAC_RETURN_IF_ERROR(Output("pipeline.yaml", spec_.source_bytes).status());

    ALMANAC_RETURN_IF_ERROR(Step("load", [&](StepResult& sr) { return Load(sr); }));
    ALMANAC_RETURN_IF_ERROR(Step("validate", [&](StepResult& sr) { return Validate(sr); }));
    ALMANAC_RETURN_IF_ERROR(Step("transform", [&](StepResult& sr) { return Transform(sr); }));
    ALMANAC_RETURN_IF_ERROR(Train());
    ALMANAC_RETURN_IF_ERROR(Evaluate());
    Select();
    if (spec_.simulate.enabled) ALMANAC_RETURN_IF_ERROR(Step("simulate", [&](StepResult& sr) { return Simulate(sr); }));
    if (spec_.risk.enabled) ALMANAC_RETURN_IF_ERROR(Step("risk", [&](StepResult& sr) { return Risk(sr); }));
    if (spec_.var_backtest.enabled)
      ALMANAC_RETURN_IF_ERROR(Step("var_backtest", [&](StepResult& sr) { return VarBacktest(sr); }));
    ALMANAC_ASSIGN_OR_RETURN(std::string steps_bytes, CanonicalJson(step_log_));
    ALMANAC_RETURN_IF_ERROR(Output("steps.json", steps_bytes).status());
    if (spec_.register_spec.enabled) ALMANAC_RETURN_IF_ERROR(Step("register", [&](StepResult& sr) { return Register(sr); }));
    if (!opts_.reproduces.empty()) {
      result_.message = "reproduction: the package was rebuilt; registration and promotion skipped";
      return Status::Ok();
    }
    if (!opts_.publish && spec_.register_spec.enabled) {
      result_.message = "not published: the package was built; registration and promotion skipped";
      return tracker_.SetTags(result_.run_id, {{"selected", result_.selected}});
    }
    if (spec_.promote.enabled && result_.registered && !unchanged_)
      ALMANAC_RETURN_IF_ERROR(Step("promote", [&](StepResult& sr) { return Promote(sr); }));
    std::vector<std::pair<std::string, std::string>> tags;
    if (!result_.selected.empty()) tags.emplace_back("selected", result_.selected);
    if (result_.registered)
      tags.emplace_back("registered", result_.registered->model + "@" + std::to_string(result_.registered->version));
    if (tags.empty()) return Status::Ok();
    return tracker_.SetTags(result_.run_id, tags);
  }

  Status Load(StepResult& sr) {
    auto& ss = env_.store->series();
    std::string ref = !opts_.snapshot_override.empty() ? opts_.snapshot_override : spec_.snapshot;
    if (ref.empty()) {
      // The as-of rule of every entry point: a date not after today (what is read "as of" a
      // later date would change as data arrives, and the run could not be reproduced).
      if (spec_.as_of) ALMANAC_RETURN_IF_ERROR(CheckAsOfDate(*spec_.as_of, *env_.clock, "data.as_of"));
      // Resolve the series as of the date, name the snapshot after its content.
      std::vector<store::SnapshotSeries> series;
      for (const auto& k : spec_.series) {
        ALMANAC_ASSIGN_OR_RETURN(TimeSeries ts, ss.ReadAsOf(k, spec_.as_of));
        series.push_back({k, std::move(ts)});
      }
      ALMANAC_ASSIGN_OR_RETURN(std::string id, store::SnapshotContentId(series));
      ref = spec_.name + "." + id.substr(0, 16);
      auto existing = ss.GetSnapshot(ref);
      if (!existing.ok()) {
        if (existing.status().code() != StatusCode::kNotFound) return existing.status();
        // Concurrent runs (a backfill's points) may resolve the same content at once.
        if (auto created = ss.CreateSnapshot({ref, spec_.series, spec_.as_of, opts_.user});
            !created.ok() && created.status().code() != StatusCode::kAlreadyExists)
          return created.status();
      }
    }
    ALMANAC_ASSIGN_OR_RETURN(store::Snapshot snap, ss.GetSnapshot(ref));
    result_.snapshot_id = snap.info.id;
    snapshot_as_of_ = snap.info.as_of;
    for (auto& s : snap.series) data_[s.key] = std::move(s.values);
    ALMANAC_RETURN_IF_ERROR(tracker_.SetSnapshot(result_.run_id, snap.info.id));
    current_inputs_ = {{"snapshot", snap.info.id}};
    sr.cache_key = snap.info.id;
    sr.summary = "snapshot " + snap.info.id.substr(0, 12) + " (" + std::to_string(snap.series.size()) + " series, as of " +
                 (snap.info.as_of ? snap.info.as_of->ToString() : std::string("latest")) + ")";
    return Status::Ok();
  }

  Status Validate(StepResult& sr) {
    std::vector<std::string> need = spec_.series;
    for (const auto& k : need) {
      auto it = data_.find(k);
      if (it == data_.end()) return NotFoundError("series " + k + " is not in snapshot " + result_.snapshot_id.substr(0, 12));
      if (it->second.empty() || it->second.size() == it->second.CountMissing())
        return FailedPreconditionError("series " + k + " has no observations in snapshot " + result_.snapshot_id.substr(0, 12));
    }
    sr.summary = std::to_string(need.size()) + " series present";
    current_inputs_ = {{"snapshot", result_.snapshot_id}};
    return Status::Ok();
  }

  Status Transform(StepResult& sr) {
    std::string bytes;
    ALMANAC_RETURN_IF_ERROR(CachedOrCompute(
        sr, "transform.json", {{"step", "transform"}, {"snapshot", result_.snapshot_id}, {"transforms", data::TransformsToJson(spec_.transforms)}},
        [&]() -> Result<std::string> {
          std::map<std::string, TimeSeries> all = data_, derived;
          for (const auto& t : spec_.transforms) {
            ALMANAC_ASSIGN_OR_RETURN(TimeSeries ts, data::ApplyTransform(t, all));
            all[t.name] = ts;
            derived[t.name] = ts;
          }
          // The target (derived or not) is what every later step uses.
          if (!spec_.target.empty()) derived[spec_.target] = all.at(spec_.target);
          return SeriesContent(derived);
        },
        &bytes));
    ALMANAC_ASSIGN_OR_RETURN(auto series, store::ParseSnapshotCanonicalContent(bytes));
    for (auto& s : series) derived_[s.key] = std::move(s.values);
    if (spec_.target.empty()) {  // a risk-only pipeline: no forecasting target
      sr.summary = std::to_string(spec_.transforms.size()) + " transform(s)";
      return Status::Ok();
    }
    auto it = derived_.find(spec_.target);
    if (it == derived_.end()) return InternalError("the transform output lacks the target " + spec_.target);
    target_ = it->second.Trimmed();
    ALMANAC_ASSIGN_OR_RETURN(std::string target_bytes, SeriesContent({{spec_.target, target_}}));
    target_hash_ = Sha256Hex(target_bytes);
    if (target_.size() < 4) return FailedPreconditionError("target " + spec_.target + " has fewer than 4 observations");
    sr.summary = spec_.target + " " + target_.start().ToString() + ".." + target_.end().ToString() + " (" +
                 std::to_string(target_.size()) + " observations)";
    return Status::Ok();
  }

  models::ModelSpec SeededSpec(const models::ModelSpec& m) {
    models::ModelSpec out = m;
    if (out.params.is_null()) out.params = Json::object();
    const models::ModelType* type = env_.models->Find(m.type);
    if (type != nullptr && !out.params.contains("seed"))
      for (const auto& p : type->params)
        if (p.name == "seed") out.params["seed"] = spec_.seed;
    return out;
  }

  Status Train() {
    const size_t n = spec_.candidates.size();
    models_.assign(n, std::string());
    std::vector<StepResult> results(n);
    std::vector<Status> status(n);
    // Keys and cache lookups first (sequential: they touch the store), then fit in parallel.
    std::vector<bool> need(n, false);
    std::vector<Json> inputs(n);
    for (size_t i = 0; i < n; ++i) {
      const auto& c = spec_.candidates[i];
      results[i].step = "train:" + c.name;
      inputs[i] = {{"step", "train"}, {"target", target_hash_}, {"model", ModelJson(SeededSpec(c.model))}};
      ALMANAC_ASSIGN_OR_RETURN(results[i].cache_key, Key(inputs[i]));
      ALMANAC_ASSIGN_OR_RETURN(auto cached, Cached(results[i].cache_key));
      if (cached) {
        auto b = CachedBytes(*cached);
        if (b.ok()) {
          models_[i] = std::move(*b);
          results[i].cached = true;
          continue;
        }
      }
      need[i] = true;
    }
    std::vector<double> seconds(n, 0);
    std::vector<SteadyClock::time_point> began(n);
    ParallelFor(n, env_.threads, [&](size_t i) {
      if (!need[i]) return;
      began[i] = SteadyClock::now();
      status[i] = [&]() -> Status {
        ALMANAC_ASSIGN_OR_RETURN(auto m, env_.models->Create(SeededSpec(spec_.candidates[i].model)));
        ALMANAC_RETURN_IF_ERROR(m->Fit(models::ToFitInput(target_)));
        ALMANAC_ASSIGN_OR_RETURN(models_[i], models::SerializeModel(*m));
        return Status::Ok();
      }();
      seconds[i] = std::chrono::duration<double>(SteadyClock::now() - began[i]).count();
    });
    for (size_t i = 0; i < n; ++i) {
      const auto& c = spec_.candidates[i];
      // On the timeline a fitted candidate starts when its fit began (in parallel with others).
      const EarlierWork fit{began[i], seconds[i]};
      ALMANAC_RETURN_IF_ERROR(Step("train:" + c.name, [&](StepResult& sr) -> Status {
        if (!status[i].ok()) return status[i].WithContext("model " + c.name + " (" + c.model.type + ")");
        sr = results[i];
        current_inputs_ = inputs[i];
        current_inputs_["code"] = CodeVersion();
        ALMANAC_ASSIGN_OR_RETURN(store::ArtifactRecord rec, Output("model." + c.name + ".json", models_[i]));
        if (!sr.cached) ALMANAC_RETURN_IF_ERROR(PutCache(sr.cache_key, "train:" + c.name, rec));
        sr.outputs.push_back(rec);
        ALMANAC_ASSIGN_OR_RETURN(auto model, env_.models->Deserialize(models_[i]));
        sr.summary = model->Describe().method;
        return Status::Ok();
      }, need[i] ? &fit : nullptr));
      result_.steps.back().seconds += seconds[i];
    }
    return Status::Ok();
  }

  Status Evaluate() {
    if (spec_.evaluation.origins == 0) return Status::Ok();
    for (size_t i = 0; i < spec_.candidates.size(); ++i) {
      const auto& c = spec_.candidates[i];
      ALMANAC_RETURN_IF_ERROR(Step("evaluate:" + c.name, [&](StepResult& sr) -> Status {
        std::string bytes;
        ALMANAC_RETURN_IF_ERROR(CachedOrCompute(
            sr, "metrics." + c.name + ".json",
            {{"step", "evaluate"}, {"target", target_hash_}, {"model", ModelJson(SeededSpec(c.model))},
             {"evaluation", EvaluationJson(spec_.evaluation)}},
            [&]() -> Result<std::string> {
              ALMANAC_ASSIGN_OR_RETURN(CandidateEvaluation e, EvaluateCandidate(*env_.models, SeededSpec(c.model), target_,
                                                                               spec_.evaluation, env_.threads));
              return CanonicalJson({{"metrics", e.metrics}, {"by_origin", e.by_origin}, {"notes", e.notes}});
            },
            &bytes));
        ALMANAC_ASSIGN_OR_RETURN(Json j, ParseJson(bytes));
        result_.metrics[c.name] = j["metrics"];
        std::vector<store::MetricPoint> points;
        for (auto it = j["metrics"].begin(); it != j["metrics"].end(); ++it)
          points.push_back({c.name + "." + it.key(), 0, it.value().get<double>(), 0});
        int64_t step = 0;
        for (const auto& row : j["by_origin"]) {
          for (auto it = row.begin(); it != row.end(); ++it)
            if (it.value().is_number()) points.push_back({c.name + "." + it.key() + ".by_origin", step, it.value().get<double>(), 0});
          ++step;
        }
        ALMANAC_RETURN_IF_ERROR(tracker_.LogMetrics(result_.run_id, points));
        std::string summary;
        for (auto it = j["metrics"].begin(); it != j["metrics"].end(); ++it)
          summary += (summary.empty() ? "" : ", ") + it.key() + " " + FormatFixed(it.value().get<double>(), 3);
        sr.summary = summary;
        return Status::Ok();
      }));
    }
    return Status::Ok();
  }

  void Select() {
    selected_ = 0;
    if (spec_.candidates.empty()) return;  // a risk-only pipeline
    const std::string& key = spec_.evaluation.select_by;
    double best = INFINITY;
    for (size_t i = 0; i < spec_.candidates.size(); ++i) {
      auto it = result_.metrics.find(spec_.candidates[i].name);
      if (it == result_.metrics.end() || !it->second.contains(key)) continue;
      const double b = Badness(key, it->second[key].get<double>());
      if (b < best) {
        best = b;
        selected_ = i;
      }
    }
    result_.selected = spec_.candidates[selected_].name;
    Progress("selected " + result_.selected + (result_.metrics.count(result_.selected) ? " by " + key : std::string()));
  }

  // The risk step (issue 24): the stress test of the `risk:` section on the pipeline's series.
  // Its input files are stored with the run (input.risk.*), their SHA-256 recorded as params;
  // the output risk.json is cached by the content of the series, files and settings.
  Status Risk(StepResult& sr) {
    ALMANAC_ASSIGN_OR_RETURN(std::vector<RiskInputFile> files,
                             ReadRiskInputs(spec_, opts_, [&](const std::string& ref) {
                               return registry::ReadVersionPackage(registry_, *env_.artifacts, ref);
                             }));
    std::vector<std::pair<std::string, std::string>> params;
    Json file_ids = Json::object();
    for (const auto& f : files) {
      ALMANAC_ASSIGN_OR_RETURN(store::ArtifactRecord rec, Output(f.label, f.bytes));
      params.emplace_back(f.label.substr(6) + ".sha256", rec.sha256);  // risk.positions.sha256
      file_ids[f.label] = rec.sha256;
    }
    std::map<std::string, TimeSeries> all = data_;
    for (const auto& [k, v] : derived_) all[k] = v;
    ALMANAC_ASSIGN_OR_RETURN(risk_plan_, BuildRiskPlan(spec_, files, all, env_.threads));
    std::map<std::string, TimeSeries> used;
    for (const auto& k : risk_plan_.series) used[k] = all.at(k);
    for (const auto& [asset, k] : spec_.risk.return_series) used[k] = all.at(k);
    ALMANAC_ASSIGN_OR_RETURN(std::string content, SeriesContent(used));
    const std::string data_sha = Sha256Hex(content);
    params.emplace_back("risk.data.sha256", data_sha);
    params.emplace_back("risk.settings", CompactJson(risk_plan_.settings));
    ALMANAC_RETURN_IF_ERROR(tracker_.LogParams(result_.run_id, params));
    risk_inputs_ = {{"data", data_sha}, {"files", file_ids}, {"settings", risk_plan_.settings},
                    {"return_series", risk_plan_.inputs.value("return_series", Json(nullptr))}};
    Json key = risk_inputs_;
    key["step"] = "risk";
    std::string bytes;
    ALMANAC_RETURN_IF_ERROR(CachedOrCompute(sr, "risk.json", key, [&]() { return RiskReportBytes(risk_plan_); }, &bytes));
    ALMANAC_ASSIGN_OR_RETURN(Json report, ParseJson(bytes));
    ALMANAC_ASSIGN_OR_RETURN(std::string csv, RiskQuantilesCsv(report));
    ALMANAC_ASSIGN_OR_RETURN(store::ArtifactRecord qrec, Output("risk.quantiles.csv", csv));
    sr.outputs.push_back(qrec);
    ALMANAC_RETURN_IF_ERROR(tracker_.LogMetrics(result_.run_id, RiskMetrics(report)));
    // The summary: the worst Monte Carlo ES at the highest level over scenarios and horizons.
    double worst = -INFINITY, top = 0;
    std::string where;
    for (double l : risk_plan_.request.risk.levels) top = std::max(top, l);
    for (const auto& s : report["scenarios"])
      for (const auto& h : s["horizons"])
        for (const auto& f : h["figures"])
          if (f["method"] == "monte_carlo" && f["level"].get<double>() == top && f["es"].get<double>() > worst) {
            worst = f["es"].get<double>();
            where = s["scenario"].get<std::string>() + " h" + std::to_string(h["h"].get<int>());
          }
    sr.summary = std::to_string(report["scenarios"].size()) + " scenario(s) x " +
                 std::to_string(risk_plan_.request.num_paths) + " paths, horizon " +
                 std::to_string(risk_plan_.request.horizon) + "; highest ES" + FormatDouble(top * 100) + " " +
                 FormatFixed(worst, 2) + " (" + where + ")";
    return Status::Ok();
  }

  // The simulate step (issue 24): the macro paths of the `simulate:` section stored as
  // paths.f32 (float32 after a JSON header, risk::EncodeMacroPaths) and their quantiles as
  // paths.summary.json, both cached by the content of the series, files and settings; the
  // paths' SHA-256 is a param of the run (simulate.paths.sha256).
  Status Simulate(StepResult& sr) {
    ALMANAC_ASSIGN_OR_RETURN(std::vector<RiskInputFile> files,
                             ReadSimulateInputs(spec_, opts_, [&](const std::string& ref) {
                               return registry::ReadVersionPackage(registry_, *env_.artifacts, ref);
                             }));
    std::vector<std::pair<std::string, std::string>> params;
    Json file_ids = Json::object();
    for (const auto& f : files) {
      ALMANAC_ASSIGN_OR_RETURN(store::ArtifactRecord rec, Output(f.label, f.bytes));
      params.emplace_back(f.label.substr(6) + ".sha256", rec.sha256);  // simulate.scenarios.sha256
      file_ids[f.label] = rec.sha256;
    }
    std::map<std::string, TimeSeries> all = data_;
    for (const auto& [k, v] : derived_) all[k] = v;
    ALMANAC_ASSIGN_OR_RETURN(SimulatePlan plan, BuildSimulatePlan(spec_, files, all, env_.threads));
    std::map<std::string, TimeSeries> used;
    for (const auto& k : plan.series) used[k] = all.at(k);
    ALMANAC_ASSIGN_OR_RETURN(std::string content, SeriesContent(used));
    const Json base = {{"data", Sha256Hex(content)}, {"files", file_ids}, {"settings", plan.settings}};
    // One simulation gives both artifacts; it runs again only if one of them was cached alone.
    std::optional<risk::StoredMacroPaths> computed;
    auto simulate = [&]() -> Status {
      if (computed) return Status::Ok();
      ALMANAC_ASSIGN_OR_RETURN(computed, risk::SimulateMacroPathsForStorage(plan.request, {{"seed", plan.request.seed}}));
      return Status::Ok();
    };
    Json key = base;
    key["step"] = "simulate";
    std::string paths_bytes, summary_bytes;
    ALMANAC_RETURN_IF_ERROR(CachedOrCompute(sr, "paths.f32", key, [&]() -> Result<std::string> {
      ALMANAC_RETURN_IF_ERROR(simulate());
      return std::move(computed->bytes);
    }, &paths_bytes));
    const store::ArtifactRecord paths_rec = sr.outputs.back();
    key["step"] = "simulate:summary";
    ALMANAC_RETURN_IF_ERROR(CachedOrCompute(sr, "paths.summary.json", key, [&]() -> Result<std::string> {
      ALMANAC_RETURN_IF_ERROR(simulate());
      return CanonicalJson(computed->summary);
    }, &summary_bytes));
    ALMANAC_ASSIGN_OR_RETURN(Json summary, ParseJson(summary_bytes));
    params.emplace_back("simulate.data.sha256", base["data"].get<std::string>());
    params.emplace_back("simulate.settings", CompactJson(plan.settings));
    params.emplace_back("simulate.paths.sha256", paths_rec.sha256);
    ALMANAC_RETURN_IF_ERROR(tracker_.LogParams(result_.run_id, params));
    ALMANAC_RETURN_IF_ERROR(tracker_.LogMetrics(result_.run_id, SimulateMetrics(summary)));
    sr.summary = std::to_string(summary["scenarios"].size()) + " scenario(s) x " + std::to_string(plan.request.num_paths) +
                 " paths x " + std::to_string(plan.request.horizon) + " periods x " + std::to_string(plan.series.size()) +
                 " variables; paths.f32 " + FormatFixed(static_cast<double>(paths_bytes.size()) / (1 << 20), 2) + " MiB (" +
                 paths_rec.sha256.substr(0, 12) + ")";
    return Status::Ok();
  }

  // The as-of VaR backtest (issue 24): the macro data as known after each origin are read from
  // the store's vintages (never after the pipeline's as-of date, nor after today), so the step
  // is reproducible; cached by the content of every vintage read.
  Status VarBacktest(StepResult& sr) {
    ALMANAC_ASSIGN_OR_RETURN(std::vector<Period> origins, VarBacktestOrigins(spec_.var_backtest));
    // The vintages are the store's: the macro variables (here from the scenario file, when
    // risk.series is not given) must be data series, not transforms.
    for (const auto& k : risk_plan_.series)
      if (std::find(spec_.series.begin(), spec_.series.end(), k) == spec_.series.end())
        return InvalidArgumentError("var_backtest: the macro variable '" + k +
                                    "' is not in data.series; the backtest reads each origin's vintage of it from the store");
    std::map<Date, models::MultiInput> vintages;
    Json vintage_ids = Json::object();
    for (const Period& origin : origins) {
      const Date as_of = (origin + 1).StartDate();
      if (vintages.count(as_of)) continue;
      const std::string where = "var_backtest: origin " + origin.ToString();
      if (snapshot_as_of_ && *snapshot_as_of_ < as_of)
        return InvalidArgumentError(where + " needs the macro data as known on " + as_of.ToString() +
                                    ", after the pipeline's data as of " + snapshot_as_of_->ToString());
      ALMANAC_RETURN_IF_ERROR(CheckAsOfDate(as_of, *env_.clock, where));
      std::map<std::string, TimeSeries> read;
      std::vector<TimeSeries> aligned;
      for (const auto& k : risk_plan_.series) {
        auto ts = env_.store->series().ReadAsOf(k, as_of);
        if (!ts.ok()) return ts.status().WithContext(where + ", as of " + as_of.ToString());
        TimeSeries t = ts->Trimmed();
        if (t.empty())
          return InvalidArgumentError(where + ": series " + k + " has no observations known on " + as_of.ToString());
        read[k] = t;
        aligned.push_back(std::move(t));
      }
      ALMANAC_ASSIGN_OR_RETURN(std::string content, SeriesContent(read));
      vintage_ids[as_of.ToString()] = Sha256Hex(content);
      auto data = models::AlignSeries(risk_plan_.series, aligned);
      if (!data.ok()) return data.status().WithContext(where);
      vintages[as_of] = std::move(*data);
    }
    const auto& vb = spec_.var_backtest;
    Json key = {{"step", "var_backtest"}, {"risk", risk_inputs_}, {"vintages", vintage_ids},
                {"var_backtest", {{"from", vb.from}, {"to", vb.to}, {"level", vb.level}, {"paths", vb.paths}}}};
    std::string bytes;
    ALMANAC_RETURN_IF_ERROR(CachedOrCompute(sr, "var_backtest.json", key,
                                            [&]() { return VarBacktestBytes(spec_, risk_plan_, vintages); }, &bytes));
    ALMANAC_ASSIGN_OR_RETURN(Json report, ParseJson(bytes));
    ALMANAC_RETURN_IF_ERROR(tracker_.LogMetrics(result_.run_id, VarBacktestMetrics(report)));
    const Json& b = report["backtest"];
    sr.summary = std::to_string(b["exceptions"].get<int64_t>()) + " exception(s) in " +
                 std::to_string(b["observations"].get<int64_t>()) + " periods at " + FormatDouble(vb.level) +
                 " (expected " + FormatFixed(b["expected_exceptions"].get<double>(), 1) + "), Kupiec p " +
                 FormatFixed(b["kupiec_p"].get<double>(), 3) + ", zone " + b["zone"].get<std::string>();
    return Status::Ok();
  }

  // Evaluates a rule on the selected candidate; explains the outcome in `why`.
  Result<bool> Check(const Rule& rule, std::string* why) {
    const Json metrics = result_.metrics.count(result_.selected) ? result_.metrics[result_.selected] : Json::object();
    for (const auto& c : rule.clauses) {
      if (c.keyword == "always") continue;
      if (c.keyword == "better_than_production") {
        auto prod = registry_.Resolve(spec_.register_spec.model, "production");
        if (!prod.ok()) {
          if (prod.status().code() == StatusCode::kNotFound) continue;  // nothing to beat
          return prod.status();
        }
        const std::string& key = spec_.evaluation.select_by;
        if (!prod->metrics.contains(key) || !metrics.contains(key)) continue;
        const double ours = metrics[key].get<double>(), theirs = prod->metrics[key].get<double>();
        if (!(Badness(key, ours) < Badness(key, theirs))) {
          *why = key + " " + FormatFixed(ours, 4) + " is not better than production version " + std::to_string(prod->version) +
                 "'s " + FormatFixed(theirs, 4);
          return false;
        }
        continue;
      }
      if (!metrics.contains(c.metric)) {
        *why = "metric " + c.metric + " was not computed";
        return false;
      }
      const double v = metrics[c.metric].get<double>();
      if (!Holds(c, v)) {
        *why = c.metric + " = " + FormatFixed(v, 4) + " fails '" + c.metric + " " + c.op + " " + FormatDouble(c.value) + "'";
        return false;
      }
    }
    *why = "'" + rule.text + "' holds";
    return true;
  }

  Status Register(StepResult& sr) {
    std::string why = "reproduction";
    bool ok = true;
    if (opts_.reproduces.empty() && opts_.publish) {
      ALMANAC_ASSIGN_OR_RETURN(ok, Check(spec_.register_spec.when, &why));
    }
    if (!ok) {
      result_.message = "not registered: " + why;
      sr.summary = result_.message;
      return Status::Ok();
    }
    const auto& c = spec_.candidates[selected_];
    ALMANAC_ASSIGN_OR_RETURN(Json envelope, ParseJson(models_[selected_]));
    registry::PackageManifest m;
    m.model_type = c.model.type;
    m.model_spec = ModelJson(SeededSpec(c.model));
    m.snapshot_id = result_.snapshot_id;
    m.target = spec_.target;
    m.frequency = std::string(FrequencyCode(target_.frequency()));
    m.history_end = target_.end().ToString();
    m.horizon = spec_.horizon;
    m.levels = spec_.levels;
    m.metrics = result_.metrics.count(c.name) ? result_.metrics[c.name] : Json::object();
    m.transforms = data::TransformsToJson(spec_.transforms);
    m.pipeline_hash = spec_.source_hash;
    m.almanac_version = CodeVersion();
    ALMANAC_ASSIGN_OR_RETURN(std::string package, registry::BuildPackage(m, envelope));
    ALMANAC_ASSIGN_OR_RETURN(store::ArtifactRecord rec, Output("package.json", package));
    sr.outputs.push_back(rec);
    if (!opts_.reproduces.empty() || !opts_.publish) {
      sr.summary = !opts_.reproduces.empty() ? "package rebuilt (not registered: reproduction)" : "package built (not registered: not published)";
      return Status::Ok();
    }
    const auto& rs = spec_.register_spec;
    // An identical package (same data, model, code) is not registered twice.
    if (auto versions = registry_.ListVersions(rs.model); versions.ok()) {
      for (const auto& v : *versions) {
        if (v.artifact_sha256 != rec.sha256) continue;
        result_.registered = v;
        result_.message = "unchanged: the package is identical to " + v.model + "@" + std::to_string(v.version);
        sr.summary = result_.message;
        unchanged_ = true;
        return Status::Ok();
      }
    }
    ALMANAC_RETURN_IF_ERROR(registry_.EnsureModel({rs.model, rs.owner, rs.description, rs.policy}, opts_.user).status());
    if (rs.card.is_object() && !rs.card.empty()) {
      ALMANAC_ASSIGN_OR_RETURN(auto model, registry_.GetModel(rs.model));
      bool differs = false;
      for (auto it = rs.card.begin(); it != rs.card.end(); ++it)
        if (!model.card.contains(it.key()) || model.card[it.key()] != it.value()) differs = true;
      if (differs) ALMANAC_RETURN_IF_ERROR(registry_.UpdateCard(rs.model, rs.card, opts_.user).status());
    }
    registry::NewVersion nv{rs.model, result_.run_id, rec, result_.snapshot_id, m.metrics, spec_.description};
    nv.reuse_identical_package = true;  // another run (a re-run task, a second worker) may have won the race
    ALMANAC_ASSIGN_OR_RETURN(store::ModelVersionRecord v, registry_.CreateVersion(nv, opts_.user));
    result_.registered = v;
    if (v.run_id != result_.run_id) {
      result_.message = "unchanged: the package is identical to " + v.model + "@" + std::to_string(v.version);
      sr.summary = result_.message;
      unchanged_ = true;
      return Status::Ok();
    }
    sr.summary = "registered " + v.model + "@" + std::to_string(v.version) + " (" + c.name + "; " + why + ")";
    result_.message = sr.summary;
    return Status::Ok();
  }

  Status Promote(StepResult& sr) {
    std::string why;
    ALMANAC_ASSIGN_OR_RETURN(bool ok, Check(spec_.promote.when, &why));
    if (!ok) {
      sr.summary = "not promoted: " + why;
      result_.message += "; " + sr.summary;
      return Status::Ok();
    }
    const auto& v = *result_.registered;
    ALMANAC_ASSIGN_OR_RETURN(registry::PromotionResult p,
                             registry_.Promote(v.model, v.version, spec_.promote.to, opts_.user,
                                               "pipeline " + spec_.name + " run " + result_.run_id + ": " + why));
    result_.promotion = p;
    sr.summary = p.applied ? "promoted to " + std::string(store::StageName(spec_.promote.to))
                           : "promotion to " + std::string(store::StageName(spec_.promote.to)) +
                                 " requested; waiting for approval by a second person";
    result_.message += "; " + sr.summary;
    return Status::Ok();
  }

  // ------------------------------------------------ issue 25: nowcast pipelines (`nowcast:`)
  // load -> validate -> nowcast:fit -> nowcast (docs/nowcasting.md, "Platform"); the
  // computation is in nowcast.cc.

  // The vintage to explain the change against: the newest earlier finished run of this
  // pipeline (not a reproduction) that stored a nowcast on another snapshot. A reproduction
  // uses the one its original recorded, so that it gives the same bytes.
  Result<std::optional<NowcastBaseline>> FindBaseline() {
    if (!opts_.reproduces.empty()) {
      ALMANAC_ASSIGN_OR_RETURN(tracking::RunDetails original, tracker_.GetRun(opts_.reproduces));
      for (const auto& a : original.artifacts) {
        if (a.kind != kNowcastArtifact) continue;
        ALMANAC_ASSIGN_OR_RETURN(std::string bytes, tracker_.ReadArtifact(a));
        ALMANAC_ASSIGN_OR_RETURN(Json doc, ParseJson(bytes));
        if (!doc.contains("news") || !doc["news"].is_object()) return std::optional<NowcastBaseline>();
        const Json& n = doc["news"];
        if (!n.contains("compare_run") || !n["compare_run"].is_string() || !n.contains("compare_snapshot") ||
            !n["compare_snapshot"].is_string())
          return DataLossError("the nowcast of run " + opts_.reproduces + " does not name the run it was compared with");
        return std::optional<NowcastBaseline>(NowcastBaseline{n["compare_run"].get<std::string>(),
                                                              n["compare_snapshot"].get<std::string>(), std::nullopt});
      }
      return std::optional<NowcastBaseline>();
    }
    store::RunFilter filter;
    filter.pipeline = spec_.name;
    filter.status = store::RunStatus::kFinished;
    filter.limit = 50;
    ALMANAC_ASSIGN_OR_RETURN(std::vector<store::RunRecord> runs, tracker_.ListRuns(filter));
    for (const auto& r : runs) {  // newest first
      if (r.id == result_.run_id || !r.reproduces.empty() || r.snapshot_id.empty() || r.snapshot_id == result_.snapshot_id)
        continue;
      ALMANAC_ASSIGN_OR_RETURN(tracking::RunDetails details, tracker_.GetRun(r.id));
      for (const auto& a : details.artifacts)
        if (a.kind == kNowcastArtifact) return std::optional<NowcastBaseline>(NowcastBaseline{r.id, r.snapshot_id, std::nullopt});
    }
    return std::optional<NowcastBaseline>();
  }

  Status NowcastSteps() {
    const NowcastSpec& nc = *spec_.nowcast;
    ALMANAC_RETURN_IF_ERROR(tracker_.LogParams(result_.run_id, {{"pipeline", spec_.name},
                                                                {"nowcast", CompactJson(NowcastSpecJson(nc))},
                                                                {"seed", std::to_string(spec_.seed)}}));
    ALMANAC_RETURN_IF_ERROR(Output("pipeline.yaml", spec_.source_bytes).status());
    ALMANAC_RETURN_IF_ERROR(Step("load", [&](StepResult& sr) { return Load(sr); }));
    ALMANAC_RETURN_IF_ERROR(Step("validate", [&](StepResult& sr) { return Validate(sr); }));
    std::optional<NowcastBaseline> baseline;
    NowcastGrid grid;
    std::string model_json;
    const std::string ours = "snapshot " + result_.snapshot_id.substr(0, 12);
    ALMANAC_RETURN_IF_ERROR(Step("nowcast:fit", [&](StepResult& sr) -> Status {
      ALMANAC_ASSIGN_OR_RETURN(grid, BuildNowcastGrid(nc, data_, nullptr, ours, ""));  // this run's data errors first
      ALMANAC_ASSIGN_OR_RETURN(baseline, FindBaseline());
      if (baseline) {
        ALMANAC_ASSIGN_OR_RETURN(store::Snapshot old, env_.store->series().GetSnapshot(baseline->snapshot_id));
        baseline->as_of = old.info.as_of;
        NowcastSeries before;
        for (auto& s : old.series) before[s.key] = std::move(s.values);
        const std::string theirs = "snapshot " + baseline->snapshot_id.substr(0, 12) + " of run " + baseline->run_id;
        auto both = BuildNowcastGrid(nc, data_, &before, ours, theirs);
        if (both.ok()) {
          grid = std::move(*both);
        } else {
          if (!opts_.reproduces.empty()) return both.status();
          // The previous run read other series (the file changed): a nowcast without news.
          Progress("no news decomposition: " + both.status().message());
          baseline.reset();
        }
      }
      ALMANAC_RETURN_IF_ERROR(CachedOrCompute(
          sr, kNowcastModelArtifact,
          {{"step", "nowcast:fit"},
           {"snapshot", result_.snapshot_id},
           {"baseline", baseline ? Json(baseline->snapshot_id) : Json(nullptr)},
           {"nowcast", NowcastSpecJson(nc)}},
          [&]() { return FitNowcastModel(nc, grid); }, &model_json));
      sr.summary = nc.type + " on " + std::to_string(grid.now.num_vars()) + " series, " + grid.now.start.ToString() + ".." +
                   (grid.now.start + (grid.now.size() - 1)).ToString();
      return Status::Ok();
    }));
    std::string doc_bytes;
    ALMANAC_RETURN_IF_ERROR(Step("nowcast", [&](StepResult& sr) -> Status {
      ALMANAC_RETURN_IF_ERROR(CachedOrCompute(
          sr, kNowcastArtifact,
          {{"step", "nowcast"},
           {"model", Sha256Hex(model_json)},
           {"snapshot", result_.snapshot_id},
           {"as_of", snapshot_as_of_ ? Json(snapshot_as_of_->ToString()) : Json(nullptr)},
           {"baseline", baseline ? Json({{"run", baseline->run_id}, {"snapshot", baseline->snapshot_id}}) : Json(nullptr)},
           {"nowcast", NowcastSpecJson(nc)}},
          [&]() { return NowcastDocument(nc, grid, model_json, result_.snapshot_id, snapshot_as_of_, baseline); },
          &doc_bytes));
      ALMANAC_ASSIGN_OR_RETURN(Json doc, ParseJson(doc_bytes));
      const double value = doc["nowcast"]["value"].get<double>();
      std::vector<store::MetricPoint> m = {{"nowcast", 0, value, 0},
                                           {"nowcast_std_error", 0, doc["nowcast"]["std_error"].get<double>(), 0},
                                           {"loglik", 0, doc["model"]["loglik"].get<double>(), 0},
                                           {"em_iterations", 0, doc["model"]["iterations"].get<double>(), 0}};
      sr.summary = nc.target + " " + doc["quarter"].get<std::string>() + ": " + FormatDouble(value);
      if (doc["news"].is_object()) {
        const Json& n = doc["news"];
        m.push_back({"news_old_value", 0, n["old_value"].get<double>(), 0});
        m.push_back({"news_revision_impact", 0, n["revision_impact"].get<double>(), 0});
        m.push_back({"news_news_impact", 0, n["news_impact"].get<double>(), 0});
        // The chart of this update (docs/nowcasting.md): revisions and each series' impact.
        ALMANAC_ASSIGN_OR_RETURN(
            std::string svg, monitor::NewsChartSvg(n, nc.target + " " + doc["quarter"].get<std::string>() +
                                                          ": news since run " + n["compare_run"].get<std::string>()));
        ALMANAC_RETURN_IF_ERROR(Output(kNowcastNewsChartArtifact, svg).status());
        sr.summary += " (" + std::string(n["change"].get<double>() >= 0 ? "+" : "") + FormatDouble(n["change"].get<double>()) +
                      " since run " + n["compare_run"].get<std::string>() + ": revisions " +
                      FormatDouble(n["revision_impact"].get<double>()) + ", " + std::to_string(n["releases"].size()) +
                      " releases " + FormatDouble(n["news_impact"].get<double>()) + ")";
      }
      Json metrics = Json::object();
      for (const auto& p : m) metrics[p.key] = p.value;
      result_.metrics[nc.type] = metrics;
      ALMANAC_RETURN_IF_ERROR(tracker_.LogMetrics(result_.run_id, std::move(m)));
      result_.message = sr.summary;
      return Status::Ok();
    }));
    result_.selected = nc.type;
    ALMANAC_ASSIGN_OR_RETURN(std::string steps_bytes, CanonicalJson(step_log_));
    ALMANAC_RETURN_IF_ERROR(Output("steps.json", steps_bytes).status());
    if (!opts_.reproduces.empty()) return Status::Ok();
    return tracker_.SetTags(result_.run_id, {{"selected", nc.type}, {"nowcast.target", nc.target},
                                             {"nowcast.quarter", grid.quarter.ToString()}});
  }

  std::optional<Date> snapshot_as_of_;  // of the snapshot the run read (nowcast.json, var_backtest)

  const Environment& env_;
  const PipelineSpec& spec_;
  const RunOptions& opts_;
  tracking::Tracker tracker_;
  registry::Registry registry_;
  RunResult result_;
  std::map<std::string, TimeSeries> data_, derived_;
  TimeSeries target_;
  std::string target_hash_;
  std::vector<std::string> models_;  // serialized, per candidate
  size_t selected_ = 0;
  bool unchanged_ = false;
  Json current_inputs_ = Json::object();
  Json step_log_ = Json::object();
  std::set<std::string> recorded_;
  RiskPlan risk_plan_;        // the risk step's request, for the var_backtest step
  Json risk_inputs_ = Json::object();
  SteadyClock::time_point run_t0_ = SteadyClock::now();
  Json timeline_ = Json::array();  // one entry per step, in the order they finished
  std::string log_;                // the progress lines
};

}  // namespace

Runner::Runner(Environment env) : env_(env) {
  if (env_.clock == nullptr) env_.clock = &SystemClock();
}

Result<RunResult> Runner::Run(const PipelineSpec& spec, const RunOptions& options) {
  if (env_.store == nullptr || env_.artifacts == nullptr || env_.models == nullptr)
    return InvalidArgumentError("pipeline runner needs a store, an artifact store and model types");
  class Run r(env_, spec, options);
  return r.Execute();
}

}  // namespace almanac::pipeline
