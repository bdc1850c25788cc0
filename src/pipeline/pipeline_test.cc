#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/pipeline.h"
#include "core/testing/status_matchers.h"
#include "pipeline/testing/pipeline_testing.h"

namespace almanac::pipeline {
namespace {

using ::almanac::pipeline::testing::At;

using ::almanac::testing::IsOk;
using ::almanac::testing::StatusIs;
using ::testing::HasSubstr;

using ::almanac::pipeline::testing::BuiltinModels;
using ::almanac::pipeline::testing::ApplySpecEdit;
using ::almanac::pipeline::testing::SpecEdit;
using ::almanac::pipeline::testing::SpecEditName;

// --------------------------------------------------------------------------- rules, cron

TEST(RuleTest, ParsesAndRejects) {
  ASSERT_OK_AND_ASSIGN(Rule r, ParseRule("mase < 1 and better_than_production and coverage95 >= 0.9"));
  ASSERT_EQ(r.clauses.size(), 3u);
  EXPECT_EQ(r.clauses[0].metric, "mase");
  EXPECT_EQ(r.clauses[1].keyword, "better_than_production");
  EXPECT_EQ(r.clauses[2].op, ">=");
  EXPECT_THAT(ParseRule(""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseRule("mase <"), StatusIs(StatusCode::kInvalidArgument, "METRIC OP NUMBER"));
  EXPECT_THAT(ParseRule("mase == 1"), StatusIs(StatusCode::kInvalidArgument, "unknown comparison"));
  EXPECT_THAT(ParseRule("mase < one"), StatusIs(StatusCode::kInvalidArgument, "not a number"));
  EXPECT_THAT(ParseRule("mase < 1 or always"), StatusIs(StatusCode::kInvalidArgument, "expected 'and'"));
  EXPECT_THAT(ParseRule("always and"), StatusIs(StatusCode::kInvalidArgument, "ends with 'and'"));
}

TEST(CronTest, NextFireTimes) {
  ASSERT_OK_AND_ASSIGN(CronSchedule weekly, CronSchedule::Parse("0 6 * * 1"));
  // 2024-05-03 is a Friday: the next Monday 06:00 is 2024-05-06.
  EXPECT_EQ(FormatTimestamp(*weekly.Next(At("2024-05-03T12:00:00Z"))), "2024-05-06T06:00:00.000000Z");
  EXPECT_EQ(FormatTimestamp(*weekly.Next(At("2024-05-06T06:00:00Z"))), "2024-05-13T06:00:00.000000Z");
  ASSERT_OK_AND_ASSIGN(CronSchedule q, CronSchedule::Parse("*/15 9-17 * * MON-FRI"));
  EXPECT_EQ(FormatTimestamp(*q.Next(At("2024-05-03T17:50:00Z"))), "2024-05-06T09:00:00.000000Z");
  ASSERT_OK_AND_ASSIGN(CronSchedule monthly, CronSchedule::Parse("30 6 1 * *"));
  EXPECT_EQ(FormatTimestamp(*monthly.Next(At("2024-01-31T23:00:00Z"))), "2024-02-01T06:30:00.000000Z");
  ASSERT_OK_AND_ASSIGN(CronSchedule daily, CronSchedule::Parse("@daily"));
  EXPECT_EQ(FormatTimestamp(*daily.Next(At("2024-12-31T00:00:00Z"))), "2025-01-01T00:00:00.000000Z");
  // Both day fields restricted: either matches (13th of the month or any Friday).
  ASSERT_OK_AND_ASSIGN(CronSchedule either, CronSchedule::Parse("0 0 13 * 5"));
  EXPECT_EQ(FormatTimestamp(*either.Next(At("2024-05-01T00:00:00Z"))), "2024-05-03T00:00:00.000000Z");
  EXPECT_THAT(CronSchedule::Parse("61 * * * *"), StatusIs(StatusCode::kInvalidArgument, "minute"));
  EXPECT_THAT(CronSchedule::Parse("* * *"), StatusIs(StatusCode::kInvalidArgument, "5 fields"));
  EXPECT_THAT(CronSchedule::Parse("0 0 * * 1-"), StatusIs(StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(CronSchedule never, CronSchedule::Parse("0 0 31 2 *"));
  EXPECT_THAT(never.Next(At("2024-01-01T00:00:00Z")), StatusIs(StatusCode::kOutOfRange));
}

// ------------------------------------------------------------------------------ specs

const char* kGood = R"(name: gdp
data:
  series: [us:gdp]
transforms:
  - name: growth
    op: pct_change
    input: us:gdp
target: growth
horizon: 4
models:
  - name: naive
    type: naive
  - type: drift
evaluation:
  origins: 3
  horizon: 2
register:
  model: gdp
  when: mase < 5
promote:
  to: production
  when: better_than_production
schedule: "*/5 * * * *"
max_retries: 2
)";

TEST(SpecTest, ParsesAGoodFile) {
  ASSERT_OK_AND_ASSIGN(PipelineSpec s, ParsePipeline(kGood, "p.yaml", BuiltinModels()));
  EXPECT_EQ(s.name, "gdp");
  EXPECT_EQ(s.candidates.size(), 2u);
  EXPECT_EQ(s.candidates[1].name, "drift");
  EXPECT_EQ(s.transforms[0].op, "pct_change");
  EXPECT_EQ(s.evaluation.horizon, 2);
  EXPECT_EQ(s.promote.to, store::Stage::kProduction);
  EXPECT_EQ(s.source_hash, Sha256Hex(kGood));
  EXPECT_TRUE(s.schedule.has_value());
}

using BadSpec = SpecEdit;  // replaces in kGood

class BadSpecTest : public ::testing::TestWithParam<BadSpec> {};

TEST_P(BadSpecTest, NamesFileLineAndKey) {
  EXPECT_THAT(ParsePipeline(ApplySpecEdit(kGood, GetParam()), "p.yaml", BuiltinModels()),
              StatusIs(StatusCode::kInvalidArgument, GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadSpecTest,
    ::testing::Values(
        BadSpec{"InvalidYaml", "horizon: 4", "horizon: [4", "p.yaml:10: invalid YAML"},
        BadSpec{"UnknownTopKey", "horizon: 4", "horizn: 4", "p.yaml:9: horizn: unknown key 'horizn' (did you mean 'horizon'?)"},
        BadSpec{"UnknownModelType", "type: drift", "type: drfit", "p.yaml:13: models[1].type: unknown model type 'drfit' (did you mean 'drift'?)"},
        BadSpec{"UnknownModelParam", "  - type: drift", "  - type: ets\n    params: {modle: AAN}",
                "models[1].params: model 'ets' has no parameter 'modle' (did you mean 'model'?)"},
        BadSpec{"WrongParamType", "  - type: drift", "  - type: auto_ets\n    params: {damped: maybe}", "must be of type bool"},
        BadSpec{"TransformOfMissingSeries", "input: us:gdp", "input: us:gpd",
                "p.yaml:7: transforms[0]: input 'us:gpd' is neither a data series nor an earlier transform (did you mean 'us:gdp'?)"},
        BadSpec{"TransformCycle", "input: us:gdp", "input: growth", "uses itself (a cycle)"},
        BadSpec{"TransformLaterReference", "    input: us:gdp\n", "    input: later\n  - name: later\n    op: log\n    input: growth\n",
                "'later' is defined by a later transform"},
        BadSpec{"UnknownTransform", "op: pct_change", "op: pct_chnage", "unknown transformation 'pct_chnage' (did you mean 'pct_change'?)"},
        BadSpec{"UnknownTransformParam", "op: pct_change", "op: pct_change\n    window: 3", "unknown key 'window'"},
        BadSpec{"TargetUnknown", "target: growth", "target: grwth", "p.yaml:8: target: 'grwth' is neither"},
        BadSpec{"BadHorizon", "horizon: 4", "horizon: -1", "p.yaml:9: horizon: must be between 1"},
        BadSpec{"BadSeriesKey", "series: [us:gdp]", "series: [\"us:gdp; DROP TABLE\"]", "data.series[0]: series key"},
        BadSpec{"AsOfAndSnapshot", "series: [us:gdp]", "series: [us:gdp]\n  as_of: 2024-01-01\n  snapshot: s1", "either as_of or snapshot"},
        BadSpec{"BadAsOf", "series: [us:gdp]", "series: [us:gdp]\n  as_of: 2024-13-01", "data.as_of"},
        BadSpec{"RuleOnMissingMetric", "when: mase < 5", "when: mape < 5", "metric 'mape' is not computed"},
        BadSpec{"BadRule", "when: mase < 5", "when: mase ~ 5", "register.when: rule"},
        BadSpec{"BadStage", "to: production", "to: prod", "promote.to: expected staging or production"},
        BadSpec{"BadCron", "\"*/5 * * * *\"", "\"every five minutes\"", "schedule: cron expression"},
        BadSpec{"DuplicateCandidates", "  - type: drift", "  - type: naive", "two candidates are named 'naive'"},
        BadSpec{"MissingModels", "models:\n  - name: naive\n    type: naive\n  - type: drift\n", "", "models: required key is missing"},
        BadSpec{"NaNParam", "  - type: drift", "  - type: ets\n    params: {alpha: .nan}", "NaN"}),
    SpecEditName);

// --------------------------------------------------------------------------------- runner

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::StoreOptions o;
    o.clock = &clock_;
    store_ = *store::OpenStore("memory:", o);
    artifacts_ = *store::OpenArtifactStore("memory:");
    auto load = *store_->series().BeginLoad({.loader = "test", .default_realtime_start = *Date::Parse("2020-01-01")});
    double v = 100;
    for (int i = 0; i < 60; ++i) {
      v *= 1.002 + 0.02 * std::sin(i);  // growth with some falls
      EXPECT_OK(load->Add("us:gdp", *Period::Parse("2005Q1") + i, v, std::nullopt));
    }
    EXPECT_OK(load->Commit());
  }

  Environment Env() { return {store_.get(), artifacts_.get(), &BuiltinModels(), &clock_, 2}; }
  Result<RunResult> RunText(const std::string& text, RunOptions opts = {}) {
    ALMANAC_ASSIGN_OR_RETURN(PipelineSpec spec, ParsePipeline(text, "p.yaml", BuiltinModels()));
    if (opts.user.empty()) opts.user = "alice";
    Runner r(Env());
    return r.Run(spec, opts);
  }
  int Versions() {
    auto v = registry::Registry(*store_, clock_).ListVersions("gdp");
    return v.ok() ? static_cast<int>(v->size()) : 0;
  }

  FixedClock clock_{1714564800000000};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::ArtifactStore> artifacts_;
};

// data.as_of follows the as-of rule of the CLI and serve: not after today (the clock's).
TEST_F(RunnerTest, RefusesAnAsOfDateInTheFuture) {
  std::string text = kGood;
  const std::string series = "  series: [us:gdp]\n";
  text.replace(text.find(series), series.size(), series + "  as_of: 2024-05-02\n");
  EXPECT_THAT(RunText(text), StatusIs(StatusCode::kInvalidArgument, "data.as_of 2024-05-02 is in the future (today is 2024-05-01)"));
  text.replace(text.find("2024-05-02"), 10, "2024-05-01");
  ASSERT_OK_AND_ASSIGN(RunResult today, RunText(text));
  EXPECT_EQ(today.status, store::RunStatus::kFinished);
}

// The CLI's spellings of transformations work in a pipeline and are recorded by their
// canonical names, so the step hashes are the same as with the canonical spelling.
TEST(SpecTest, TransformAliasesAreRecordedByTheirCanonicalName) {
  std::string text = kGood;
  text.replace(text.find("op: pct_change"), 14, "op: pct");
  ASSERT_OK_AND_ASSIGN(PipelineSpec s, ParsePipeline(text, "p.yaml", BuiltinModels()));
  EXPECT_EQ(s.transforms[0].op, "pct_change");
  text.replace(text.find("op: pct"), 7, "op: dlog");
  ASSERT_OK_AND_ASSIGN(PipelineSpec d, ParsePipeline(text, "p.yaml", BuiltinModels()));
  EXPECT_EQ(d.transforms[0].op, "log_diff");
  text.replace(text.find("op: dlog"), 8, "op: dlog\n    scale: 2");
  EXPECT_THAT(ParsePipeline(text, "p.yaml", BuiltinModels()), StatusIs(StatusCode::kInvalidArgument, "scale"));
}

TEST_F(RunnerTest, RunsCachesReproducesAndRegistersOnce) {
  ASSERT_OK_AND_ASSIGN(RunResult first, RunText(kGood));
  EXPECT_EQ(first.status, store::RunStatus::kFinished);
  ASSERT_TRUE(first.registered.has_value());
  EXPECT_EQ(first.registered->version, 1);
  ASSERT_TRUE(first.promotion.has_value());
  EXPECT_TRUE(first.promotion->needs_approval);  // four-eyes by default
  for (const auto& s : first.steps) EXPECT_FALSE(s.cached) << s.step;
  EXPECT_TRUE(first.metrics.count("naive"));
  // Unchanged inputs: every cacheable step is cached, and no new version is registered.
  clock_.Advance(1000000);
  ASSERT_OK_AND_ASSIGN(RunResult second, RunText(kGood));
  int cached = 0;
  for (const auto& s : second.steps) cached += s.cached;
  EXPECT_EQ(cached, 5);  // transform, 2 x train, 2 x evaluate
  EXPECT_THAT(second.message, HasSubstr("unchanged"));
  EXPECT_EQ(Versions(), 1);
  ASSERT_OK_AND_ASSIGN(RunResult forced, RunText(kGood, {.force = true}));
  for (const auto& s : forced.steps) EXPECT_FALSE(s.cached) << s.step;
  // Reproduction: same bytes for every artifact.
  ASSERT_OK_AND_ASSIGN(ReproduceResult rep, Reproduce(Env(), first.run_id, {.user = "bob"}));
  EXPECT_TRUE(rep.identical);
  EXPECT_GE(rep.artifacts.size(), 7u);
  for (const auto& a : rep.artifacts) EXPECT_TRUE(a.identical) << a.name << ": " << a.why;
  EXPECT_EQ(Versions(), 1);
  ASSERT_OK(store::VerifyAuditChain(store_->metadata()));
}

TEST_F(RunnerTest, RuleBlocksRegistration) {
  std::string text = kGood;
  text.replace(text.find("when: mase < 5"), 14, "when: mase < 0.0001");
  ASSERT_OK_AND_ASSIGN(RunResult r, RunText(text));
  EXPECT_FALSE(r.registered.has_value());
  EXPECT_THAT(r.message, HasSubstr("not registered: mase ="));
  EXPECT_EQ(Versions(), 0);
}

TEST_F(RunnerTest, FailingStepMarksRunFailedAndRegistersNothing) {
  // The log of first differences fails: some differences are negative.
  const std::string text = R"(name: gdp
data:
  series: [us:gdp]
transforms:
  - name: d
    op: diff
    input: us:gdp
  - name: lg
    op: log
    input: d
target: lg
models:
  - type: naive
register:
  model: gdp
)";
  auto r = RunText(text);
  EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument, "step transform"));
  EXPECT_EQ(Versions(), 0);
  auto runs = *tracking::Tracker(store_->metadata(), *artifacts_, clock_).ListRuns({});
  ASSERT_FALSE(runs.empty());
  EXPECT_EQ(runs[0].status, store::RunStatus::kFailed);
  EXPECT_THAT(runs[0].error, HasSubstr("log of a non-positive value"));
}

// Issue 20: every run records its steps on a timeline (timeline.json) and its progress lines
// (run.log) as run-specific artifacts; a failed run too. A reproduction does not compare them.
TEST_F(RunnerTest, RecordsTheStepTimelineAndTheLog) {
  tracking::Tracker tracker(store_->metadata(), *artifacts_, clock_);
  auto records = [&](const std::string& run_id) {
    std::map<std::string, std::string> out;
    auto d = tracker.GetRun(run_id);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    if (!d.ok()) return out;
    for (const auto& a : d->artifacts) {
      if (!tracking::IsRunRecordArtifact(a.kind)) continue;
      EXPECT_EQ(a.name, "runs/" + run_id + "/" + a.kind);  // run-specific, not content-addressed
      auto b = tracker.ReadArtifact(a);
      EXPECT_TRUE(b.ok()) << b.status().ToString();
      if (b.ok()) out[a.kind] = *b;
    }
    return out;
  };
  std::vector<std::string> printed;
  ASSERT_OK_AND_ASSIGN(RunResult first, RunText(kGood, {.progress = [&](const std::string& l) { printed.push_back(l); }}));
  auto rec = records(first.run_id);
  ASSERT_EQ(rec.size(), 2u);
  ASSERT_OK_AND_ASSIGN(Json timeline, ParseJson(rec["timeline.json"]));
  ASSERT_TRUE(timeline.is_array());
  ASSERT_EQ(timeline.size(), first.steps.size());
  for (size_t i = 0; i < first.steps.size(); ++i) {
    const Json& e = timeline[i];
    EXPECT_EQ(e["step"], first.steps[i].step);
    EXPECT_EQ(e["cached"], false);
    EXPECT_EQ(e["status"], "ok");
    EXPECT_GE(e["start"].get<double>(), 0);
    EXPECT_NEAR(e["seconds"].get<double>(), first.steps[i].seconds, 2e-4) << e;
    if (i > 0 && first.steps[i].step.rfind("train:", 0) != 0) {
      EXPECT_GE(e["start"].get<double>() + 1e-4, timeline[i - 1]["start"].get<double>()) << e;
    }
  }
  EXPECT_EQ(timeline[0]["step"], "load");
  std::string joined;
  for (const auto& l : printed) joined += l + "\n";
  EXPECT_EQ(rec["run.log"], joined);
  EXPECT_THAT(rec["run.log"], HasSubstr("[train:naive] done"));

  // The second run: cached steps are marked on its timeline.
  clock_.Advance(1000000);
  ASSERT_OK_AND_ASSIGN(RunResult second, RunText(kGood));
  ASSERT_OK_AND_ASSIGN(Json t2, ParseJson(records(second.run_id)["timeline.json"]));
  int cached = 0;
  for (const auto& e : t2) cached += e["cached"].get<bool>();
  EXPECT_EQ(cached, 5);

  // A reproduction stays byte-identical: the timeline and log are not compared.
  ASSERT_OK_AND_ASSIGN(ReproduceResult rep, Reproduce(Env(), first.run_id, {.user = "bob"}));
  EXPECT_TRUE(rep.identical);
  for (const auto& a : rep.artifacts) EXPECT_FALSE(tracking::IsRunRecordArtifact(a.name)) << a.name;
  EXPECT_EQ(records(rep.new_run).size(), 2u);

  // A failing step: the failed step is on the timeline and the failure in the log. (The log
  // of first differences fails: some differences are negative.)
  const std::string bad = R"(name: gdp-bad
data:
  series: [us:gdp]
transforms:
  - name: d
    op: diff
    input: us:gdp
  - name: lg
    op: log
    input: d
target: lg
models:
  - type: naive
)";
  EXPECT_THAT(RunText(bad), StatusIs(StatusCode::kInvalidArgument, "step transform"));
  store::RunFilter only_failed;
  only_failed.status = store::RunStatus::kFailed;
  auto runs = *tracker.ListRuns(only_failed);
  ASSERT_EQ(runs.size(), 1u);
  auto failed = records(runs[0].id);
  ASSERT_OK_AND_ASSIGN(Json t3, ParseJson(failed["timeline.json"]));
  ASSERT_FALSE(t3.empty());
  EXPECT_EQ(t3.back()["step"], "transform");
  EXPECT_EQ(t3.back()["status"], "failed");
  EXPECT_EQ(t3.front()["step"], "load");
  EXPECT_EQ(t3.front()["status"], "ok");
  EXPECT_THAT(failed["run.log"], HasSubstr("[transform] failed after"));
  EXPECT_THAT(failed["run.log"], HasSubstr("run " + runs[0].id + " failed: "));
}

// A model whose saved state changes on every fit: not deterministic.
class FlakyModel : public models::Forecaster {
 public:
  explicit FlakyModel(models::ModelSpec spec) : spec_(std::move(spec)) {}
  const models::ModelSpec& spec() const override { return spec_; }
  Status Fit(const models::FitInput& in) override {
    static int counter = 0;
    fit_ = ++counter;
    last_ = in.y.back();
    return Status::Ok();
  }
  Result<models::Forecast> Predict(int h, std::span<const double> levels) const override {
    models::Forecast f;
    f.mean.assign(static_cast<size_t>(h), last_);
    for (double l : levels) f.intervals.push_back({l, f.mean, f.mean});
    return f;
  }
  models::ModelDescription Describe() const override { return {"flaky", "Flaky"}; }
  std::vector<double> Fitted() const override { return {}; }
  Result<Json> SaveState() const override { return Json{{"fit", fit_}, {"last", last_}}; }

 private:
  models::ModelSpec spec_;
  int fit_ = 0;
  double last_ = 0;
};

TEST_F(RunnerTest, ReproductionNamesArtifactsThatDiffer) {
  models::ForecasterRegistry reg;
  models::RegisterBuiltinModels(reg);
  models::ModelType flaky;
  flaky.name = "flaky";
  flaky.create = [](const models::ModelSpec& s, const models::ForecasterRegistry&) -> Result<std::unique_ptr<models::Forecaster>> {
    return std::unique_ptr<models::Forecaster>(std::make_unique<FlakyModel>(s));
  };
  flaky.load = [](const models::ModelSpec& s, const Json&, const models::ForecasterRegistry&) -> Result<std::unique_ptr<models::Forecaster>> {
    return std::unique_ptr<models::Forecaster>(std::make_unique<FlakyModel>(s));
  };
  ASSERT_OK(reg.Register(flaky));
  const std::string text = "name: gdp\ndata:\n  series: [us:gdp]\ntarget: us:gdp\nmodels:\n  - type: flaky\n  - type: naive\n";
  ASSERT_OK_AND_ASSIGN(PipelineSpec spec, ParsePipeline(text, "p.yaml", reg));
  Environment env = Env();
  env.models = &reg;
  ASSERT_OK_AND_ASSIGN(RunResult first, Runner(env).Run(spec, {.user = "alice"}));
  ASSERT_OK_AND_ASSIGN(ReproduceResult rep, Reproduce(env, first.run_id, {.user = "bob"}));
  EXPECT_FALSE(rep.identical);
  bool saw_flaky = false;
  for (const auto& a : rep.artifacts) {
    if (a.name == "model.flaky.json") {
      saw_flaky = true;
      EXPECT_FALSE(a.identical);
      EXPECT_THAT(a.why, HasSubstr("not deterministic"));
    }
    if (a.name == "model.naive.json" || a.name == "transform.json") {
      EXPECT_TRUE(a.identical) << a.name;
    }
  }
  EXPECT_TRUE(saw_flaky);
  // Only finished runs can be reproduced.
  auto tracker = tracking::Tracker(store_->metadata(), *artifacts_, clock_);
  auto started = *tracker.StartRun({.pipeline = "gdp", .user = "x"});
  EXPECT_THAT(Reproduce(Env(), started.id, {}), StatusIs(StatusCode::kFailedPrecondition, "did not finish"));
  EXPECT_THAT(Reproduce(Env(), "rnope", {}), StatusIs(StatusCode::kNotFound));
}

TEST_F(RunnerTest, SchedulerFiresRetriesAndSkipsOverlaps) {
  const auto dir = std::filesystem::temp_directory_path() / ("almanac_sched_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string good = (dir / "good.yaml").string(), bad = (dir / "bad.yaml").string();
  std::ofstream(good) << kGood;
  std::string failing = kGood;
  failing.replace(failing.find("name: gdp"), 9, "name: broken");
  failing.replace(failing.find("series: [us:gdp]"), 16, "series: [us:none]");
  failing.replace(failing.find("input: us:gdp"), 13, "input: us:none");
  failing.replace(failing.find("schedule: \"*/5 * * * *\""), 23, "schedule: \"*/10 * * * *\"");
  std::ofstream(bad) << failing;
  SchedulerOptions so;
  so.pipeline_files = {good, bad};
  so.lock_dir = dir.string();
  so.retry_base_ms = 1000;
  so.max_runs = 4;
  std::vector<std::string> log;
  so.log = [&](const std::string& l) { log.push_back(l); };
  so.sleep_until = [&](int64_t t) {
    if (t > clock_.NowMicros()) clock_.Set(t);
  };
  // Monitoring hooks: every fire reported with its outcome; steps only for a finished run.
  struct Seen {
    std::string pipeline;
    bool ok;
    size_t steps;
  };
  std::vector<Seen> runs;
  std::vector<int64_t> waiting;
  so.on_run = [&](const ScheduledRun& r, double seconds, const RunResult* result) {
    EXPECT_GE(seconds, 0);
    runs.push_back({r.pipeline, r.status == store::RunStatus::kFinished, result ? result->steps.size() : 0});
    EXPECT_EQ(result != nullptr, r.status == store::RunStatus::kFinished);
  };
  so.on_queue = [&](int64_t w) { waiting.push_back(w); };
  clock_.Set(At("2024-05-06T10:01:00Z"));
  ASSERT_OK_AND_ASSIGN(auto history, RunScheduler(Env(), so));
  ASSERT_EQ(history.size(), 4u);
  ASSERT_EQ(runs.size(), 4u);
  ASSERT_EQ(waiting.size(), 4u);
  EXPECT_EQ(waiting[0], 0);
  EXPECT_EQ(waiting[1], 1);  // at 10:10 both are due: one waits behind the other
  for (size_t i = 0; i < runs.size(); ++i) {
    EXPECT_EQ(runs[i].pipeline, history[i].pipeline);
    EXPECT_EQ(runs[i].ok, runs[i].pipeline == "gdp");
    EXPECT_EQ(runs[i].steps > 0, runs[i].ok);
  }
  EXPECT_EQ(history[0].pipeline, "gdp");
  EXPECT_EQ(FormatTimestamp(history[0].fired_at), "2024-05-06T10:05:00.000000Z");
  EXPECT_EQ(history[0].status, store::RunStatus::kFinished);
  // At 10:10 both are due; the broken one fails three times (max_retries 2).
  const ScheduledRun& broken = history[1].pipeline == "broken" ? history[1] : history[2];
  EXPECT_EQ(broken.pipeline, "broken");
  EXPECT_EQ(broken.status, store::RunStatus::kFailed);
  EXPECT_EQ(broken.attempts, 3);  // max_retries 2
  EXPECT_THAT(broken.error, HasSubstr("us:none"));
  // Another process holding the pipeline's lock: the fire is skipped, not overlapped.
  int fd = ::open((dir / "gdp.lock").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  so.pipeline_files = {good};
  so.max_runs = 1;
  so.on_run = nullptr;
  so.on_queue = nullptr;
  ASSERT_OK_AND_ASSIGN(auto skipped, RunScheduler(Env(), so));
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_TRUE(skipped[0].skipped);
  ::close(fd);
  std::filesystem::remove_all(dir);
}

TEST_F(RunnerTest, TwoSchedulersOnOneScheduleRunEachFireOnce) {
  const auto dir = std::filesystem::temp_directory_path() / ("almanac_sched2_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string good = (dir / "good.yaml").string();
  std::ofstream(good) << kGood;
  // Two schedulers (as on two hosts: no shared lock folder), one store, the same clock: the
  // store's claim lets exactly one of them run each fire.
  auto make = [&](const std::string& holder) {
    SchedulerOptions so;
    so.pipeline_files = {good};
    so.max_runs = 3;
    so.claim = [this, holder](const std::string& name, int64_t fired_at) {
      return store_->metadata().Transact<bool>(
          [&](store::MetadataTxn& t) { return t.ClaimScheduledRun(name, fired_at, holder); });
    };
    so.sleep_until = [&](int64_t t) {
      if (t > clock_.NowMicros()) clock_.Set(t);
    };
    return so;
  };
  clock_.Set(At("2024-05-06T10:01:00Z"));
  ASSERT_OK_AND_ASSIGN(auto a, RunScheduler(Env(), make("host-a")));
  clock_.Set(At("2024-05-06T10:01:00Z"));  // the second host fires the same times
  ASSERT_OK_AND_ASSIGN(auto b, RunScheduler(Env(), make("host-b")));
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_FALSE(a[i].skipped);
    EXPECT_FALSE(a[i].run_id.empty());
    EXPECT_TRUE(b[i].skipped) << i;
    EXPECT_THAT(b[i].error, HasSubstr("another scheduler already ran this fire"));
    EXPECT_EQ(a[i].fired_at, b[i].fired_at);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace almanac::pipeline

namespace almanac::pipeline {
namespace {

class WorkerTest : public RunnerTest {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    const auto dir = std::filesystem::temp_directory_path() / ("almanac_worker_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string p = (dir / name).string();
    std::ofstream(p) << text;
    return p;
  }
  WorkerOptions Options(const std::string& id) {
    WorkerOptions o;
    o.worker_id = id;
    o.lease_ms = 2000;
    o.heartbeat_ms = 500;
    o.retry_base_ms = 1000;
    o.poll_ms = 1;
    o.idle_exit_ms = 1;
    return o;
  }
};

TEST_F(WorkerTest, RunsSubmittedPipelinesOnceAndRefusesDuplicates) {
  const std::string good = Write("good.yaml", kGood);
  ASSERT_OK_AND_ASSIGN(int64_t id, SubmitPipeline(store_->metadata(), BuiltinModels(), good, "manual-1", "alice", 2));
  EXPECT_THAT(SubmitPipeline(store_->metadata(), BuiltinModels(), good, "manual-1", "alice", 2).status(),
              StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(SubmitPipeline(store_->metadata(), BuiltinModels(), "/nonexistent.yaml", "k", "alice", 2).status(),
              StatusIs(StatusCode::kNotFound, "cannot read pipeline file"));
  ASSERT_OK_AND_ASSIGN(auto done, RunWorker(Env(), Options("w1")));
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].id, id);
  EXPECT_EQ(done[0].state, store::TaskState::kDone);
  EXPECT_THAT(done[0].result, HasSubstr("\"version\":1"));
  EXPECT_EQ(Versions(), 1);
  // Nothing left: a second worker finds no work.
  ASSERT_OK_AND_ASSIGN(auto none, RunWorker(Env(), Options("w2")));
  EXPECT_TRUE(none.empty());
  ASSERT_OK(store::VerifyAuditChain(store_->metadata()));
}

TEST_F(WorkerTest, FailedAttemptsBackOffThenFail) {
  std::string failing = kGood;
  failing.replace(failing.find("series: [us:gdp]"), 16, "series: [us:none]");
  failing.replace(failing.find("input: us:gdp"), 13, "input: us:none");
  const std::string bad = Write("bad.yaml", failing);
  ASSERT_OK_AND_ASSIGN(int64_t id, SubmitPipeline(store_->metadata(), BuiltinModels(), bad, "k", "alice", 2));
  ASSERT_OK_AND_ASSIGN(auto first, RunWorker(Env(), Options("w1")));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].state, store::TaskState::kQueued);  // attempt 1 of 2 failed: back off
  EXPECT_EQ(first[0].not_before, clock_.NowMicros() + 1000000);
  EXPECT_THAT(first[0].error, HasSubstr("us:none"));
  ASSERT_OK_AND_ASSIGN(auto early, RunWorker(Env(), Options("w2")));
  EXPECT_TRUE(early.empty());  // not before the backoff
  clock_.Advance(1000000);
  ASSERT_OK_AND_ASSIGN(auto second, RunWorker(Env(), Options("w2")));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].id, id);
  EXPECT_EQ(second[0].state, store::TaskState::kFailed);
  EXPECT_EQ(second[0].attempts, 2);
  EXPECT_EQ(Versions(), 0);
}

TEST_F(WorkerTest, BadPipelinesAreRefusedAtSubmitAndNothingIsQueued) {
  const std::string bad = Write("broken.yaml", "name: x\nmodels: [[[\n");
  EXPECT_THAT(SubmitPipeline(store_->metadata(), BuiltinModels(), bad, "k", "alice", 2).status(),
              StatusIs(StatusCode::kInvalidArgument));
  const std::string good = Write("good.yaml", kGood);
  EXPECT_THAT(SubmitPipeline(store_->metadata(), BuiltinModels(), good, "k", "alice", 0).status(),
              StatusIs(StatusCode::kInvalidArgument, "at least 1"));
  auto tasks = store_->metadata().Transact<std::vector<store::TaskRecord>>(
      [](store::MetadataTxn& x) { return x.ListTasks({}); });
  ASSERT_OK(tasks);
  EXPECT_TRUE(tasks->empty());
}

// A worker died half way (its lease expired, its run still "running"): the next worker re-runs
// the task, marks the dead attempt's run killed, and the registry gets exactly one version.
TEST_F(WorkerTest, ATaskWhoseWorkerDiedIsRerunOnceAndItsRunMarkedKilled) {
  const std::string good = Write("good.yaml", kGood);
  ASSERT_OK_AND_ASSIGN(int64_t id, SubmitPipeline(store_->metadata(), BuiltinModels(), good, "k", "alice", 3));
  const int64_t now = clock_.NowMicros();
  auto claimed = store_->metadata().Transact<std::optional<store::TaskRecord>>(
      [&](store::MetadataTxn& x) { return x.ClaimTask("dead-host:1:0", now, now + 2000000, {"pipeline"}); });
  ASSERT_OK(claimed);
  ASSERT_TRUE(claimed->has_value());
  tracking::Tracker tracker(store_->metadata(), *artifacts_, clock_);
  ASSERT_OK_AND_ASSIGN(auto ghost, tracker.StartRun({.pipeline = "gdp-pipeline", .user = "alice", .host = "dead-host"}));
  ASSERT_OK(tracker.SetTags(ghost.id, {{"almanac.task", std::to_string(id)}}));
  // While the lease holds nobody takes the task.
  ASSERT_OK_AND_ASSIGN(auto none, RunWorker(Env(), Options("w2")));
  EXPECT_TRUE(none.empty());
  clock_.Advance(2000001);
  std::vector<std::string> outcomes;
  WorkerOptions o = Options("w2");
  o.on_task = [&](const store::TaskRecord&, std::string_view outcome, double, const RunResult* run) {
    outcomes.emplace_back(outcome);
    EXPECT_NE(run, nullptr);
  };
  ASSERT_OK_AND_ASSIGN(auto done, RunWorker(Env(), o));
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].state, store::TaskState::kDone);
  EXPECT_EQ(done[0].attempts, 2);
  EXPECT_EQ(outcomes, std::vector<std::string>{"done"});
  EXPECT_EQ(Versions(), 1);
  ASSERT_OK_AND_ASSIGN(auto details, tracker.GetRun(ghost.id));
  EXPECT_EQ(details.run.status, store::RunStatus::kKilled);
  EXPECT_THAT(details.run.error, HasSubstr("stopped renewing the lease"));
  // The dead worker cannot mark the task any more (fencing is by lease owner).
  auto t = store_->metadata().Transact<store::TaskRecord>([&](store::MetadataTxn& x) { return x.GetTask(id); });
  ASSERT_OK(t);
  EXPECT_EQ(t->lease_owner, "");
  ASSERT_OK(store::VerifyAuditChain(store_->metadata()));
}

TEST_F(WorkerTest, BadOptionsAreRefused) {
  WorkerOptions o = Options("");
  EXPECT_THAT(RunWorker(Env(), o).status(), StatusIs(StatusCode::kInvalidArgument, "needs an id"));
  o = Options("w");
  o.lease_ms = 100;
  o.heartbeat_ms = 500;
  EXPECT_THAT(RunWorker(Env(), o).status(), StatusIs(StatusCode::kInvalidArgument, "longer than the heartbeat"));
}

}  // namespace
}  // namespace almanac::pipeline

namespace almanac::pipeline {
namespace {

TEST(ShardTest, ParsesAndRefusesBadShards) {
  ASSERT_OK_AND_ASSIGN(Shard s, ParseShard("2/4"));
  EXPECT_EQ(s.index, 2);
  EXPECT_EQ(s.count, 4);
  for (const char* bad : {"", "4/4", "-1/4", "1/0", "a/b", "1", "1/", "/4", "1/4/2", "0/1000001"})
    EXPECT_THAT(ParseShard(bad).status(), StatusIs(StatusCode::kInvalidArgument, "0 <= I < N")) << bad;
}

TEST(ShardTest, EveryKeyHasOneStableBalancedShard) {
  // The same key lands in the same shard on every host and build: pinned values, from the first
  // 8 bytes of SHA-256 (python3: int(sha256(key).hexdigest()[:16], 16) % n).
  EXPECT_EQ(ShardOf("us:realgdp", 4), 3);
  EXPECT_EQ(ShardOf("us:realgdp", 7), 2);
  EXPECT_EQ(ShardOf("m3:N1402", 4), 1);
  EXPECT_EQ(ShardOf("m3:N1402", 7), 6);
  EXPECT_EQ(ShardOf("anything", 1), 0);
  std::vector<int> counts(4, 0);
  for (int i = 0; i < 10000; ++i) {
    const int s = ShardOf("m3:N" + std::to_string(i), 4);
    ASSERT_GE(s, 0);
    ASSERT_LT(s, 4);
    ++counts[s];
  }
  for (int c : counts) {
    EXPECT_GT(c, 2300);
    EXPECT_LT(c, 2700);
  }
}

TEST(ShardTest, ReadsAKubernetesIndexedJob) {
  ::unsetenv("JOB_COMPLETION_INDEX");
  ::unsetenv("ALMANAC_SHARD_COUNT");
  ASSERT_OK_AND_ASSIGN(auto none, ShardFromEnvironment());
  EXPECT_FALSE(none.has_value());
  ::setenv("JOB_COMPLETION_INDEX", "3", 1);
  EXPECT_THAT(ShardFromEnvironment().status(), StatusIs(StatusCode::kInvalidArgument, "ALMANAC_SHARD_COUNT"));
  ::setenv("ALMANAC_SHARD_COUNT", "3", 1);
  EXPECT_THAT(ShardFromEnvironment().status(), StatusIs(StatusCode::kInvalidArgument, "0 <= I < N"));
  ::setenv("ALMANAC_SHARD_COUNT", "8", 1);
  ASSERT_OK_AND_ASSIGN(auto s, ShardFromEnvironment());
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->index, 3);
  EXPECT_EQ(s->count, 8);
  ::unsetenv("JOB_COMPLETION_INDEX");
  ::unsetenv("ALMANAC_SHARD_COUNT");
}

}  // namespace
}  // namespace almanac::pipeline
