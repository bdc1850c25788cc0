// The risk steps of a pipeline (issue 24): the `risk:` and `var_backtest:` sections, the
// tracked run (inputs' SHA-256 as params, artifacts, metrics, cache) and its reproduction.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/models.h"
#include "almanac/pipeline.h"
#include "almanac/registry.h"
#include "almanac/tracking.h"
#include "core/testing/status_matchers.h"
#include "pipeline/testing/pipeline_testing.h"

namespace almanac::pipeline {
namespace {

using ::almanac::pipeline::testing::At;
using ::almanac::pipeline::testing::BuiltinModels;
using ::almanac::pipeline::testing::LoadVintagesCsv;
using ::almanac::pipeline::testing::ApplySpecEdit;
using ::almanac::pipeline::testing::SpecEdit;
using ::almanac::pipeline::testing::SpecEditName;
using ::almanac::pipeline::testing::ReadText;
using ::almanac::pipeline::testing::WriteText;
using ::almanac::testing::StatusIs;
using ::testing::HasSubstr;

const std::string kRiskDir = std::string(ALMANAC_SOURCE_DIR) + "/testdata/risk";

const char* kRisk = R"(name: book
data:
  series: [us:tbilrate, us:unemp, us:infl]
transforms:
  - name: unemp_change
    op: diff
    input: us:unemp
risk:
  positions: portfolio/positions.csv
  returns: portfolio/asset_returns.csv
  fx: portfolio/fx.csv
  scenarios: portfolio/scenarios.yaml
  factors: [us:tbilrate, us:unemp]
  factor_changes: true
  paths: 200
  seed: 7
var_backtest:
  from: 2008Q1
  to: 2008Q4
  level: 0.95
  paths: 100
)";

TEST(RiskSpecTest, ParsesTheSections) {
  ASSERT_OK_AND_ASSIGN(PipelineSpec s, ParsePipeline(kRisk, "p.yaml", BuiltinModels()));
  EXPECT_TRUE(s.risk.enabled);
  EXPECT_TRUE(s.candidates.empty());
  EXPECT_TRUE(s.target.empty());
  EXPECT_EQ(s.risk.positions, "portfolio/positions.csv");
  EXPECT_EQ(s.risk.factors, (std::vector<std::string>{"us:tbilrate", "us:unemp"}));
  EXPECT_TRUE(s.risk.factor_changes);
  EXPECT_EQ(s.risk.paths, 200);
  EXPECT_EQ(s.risk.seed, 7);
  EXPECT_EQ(s.risk.levels, (std::vector<double>{0.95, 0.99}));
  EXPECT_TRUE(s.var_backtest.enabled);
  EXPECT_EQ(s.var_backtest.level, 0.95);
  // The sample pipeline parses too.
  ASSERT_OK_AND_ASSIGN(PipelineSpec sample, LoadPipelineFile(kRiskDir + "/pipeline.yaml", BuiltinModels()));
  EXPECT_EQ(sample.name, "portfolio-risk");
  EXPECT_TRUE(sample.var_backtest.enabled);
}

using BadRisk = SpecEdit;  // replaces in kRisk

class BadRiskSpecTest : public ::testing::TestWithParam<BadRisk> {};

TEST_P(BadRiskSpecTest, NamesFileLineAndKey) {
  EXPECT_THAT(ParsePipeline(ApplySpecEdit(kRisk, GetParam()), "p.yaml", BuiltinModels()),
              StatusIs(StatusCode::kInvalidArgument, GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadRiskSpecTest,
    ::testing::Values(
        BadRisk{"UnknownKey", "  paths: 200", "  pahts: 200", "p.yaml:15: risk.pahts: unknown key 'pahts' (did you mean 'paths'?)"},
        BadRisk{"MissingPositions", "  positions: portfolio/positions.csv\n", "", "p.yaml:9: risk.positions: required key is missing"},
        BadRisk{"ParentFolder", "portfolio/positions.csv", "../../etc/positions.csv",
                "p.yaml:9: risk.positions: file '../../etc/positions.csv' must not leave the pipeline file's folder"},
        BadRisk{"ParentInside", "portfolio/fx.csv", "portfolio/../../fx.csv", "p.yaml:11: risk.fx: file 'portfolio/../../fx.csv' must not leave"},
        BadRisk{"Absolute", "portfolio/asset_returns.csv", "/etc/passwd",
                "p.yaml:10: risk.returns: file '/etc/passwd' must be relative to the pipeline file's folder"},
        BadRisk{"HomeFolder", "portfolio/scenarios.yaml", "~/scenarios.yaml", "p.yaml:12: risk.scenarios: file '~/scenarios.yaml' must be relative"},
        BadRisk{"FileNameNotText", "fx: portfolio/fx.csv", "fx: [a, b]", "p.yaml:11: risk.fx: expected a text value"},
        BadRisk{"BothReturns", "  fx: portfolio/fx.csv", "  return_series: {us_equity: us:infl}",
                "risk.returns: give exactly one of 'returns'"},
        BadRisk{"UnknownReturnSeries", "  returns: portfolio/asset_returns.csv", "  return_series: {us_equity: us:inlf}",
                "p.yaml:10: risk.return_series.us_equity: 'us:inlf' is neither a data series nor a transform of this "
                "pipeline (did you mean 'us:infl'?)"},
        BadRisk{"UnknownSeries", "  factors:", "  series: [us:tbilrate, us:unemp, us:gdp]\n  factors:",
                "p.yaml:13: risk.series[2]: 'us:gdp' is neither a data series nor a transform"},
        BadRisk{"DuplicateSeries", "  factors:", "  series: [us:tbilrate, us:unemp, us:unemp]\n  factors:",
                "risk.series[2]: 'us:unemp' is listed twice"},
        BadRisk{"FactorNotASeries", "  factors: [us:tbilrate, us:unemp]", "  series: [us:tbilrate, us:unemp]\n  factors: [us:tbilrate, us:unmep]",
                "risk.factors[1]: 'us:unmep' is not one of risk.series (did you mean 'us:unemp'?)"},
        BadRisk{"NoSeriesNoScenarios", "  scenarios: portfolio/scenarios.yaml\n", "", "risk.series: required without a scenarios file"},
        BadRisk{"UnknownModel", "  paths: 200", "  model: vra", "p.yaml:15: risk.model: unknown macro model 'vra' (did you mean 'var'?)"},
        BadRisk{"BadParams", "  paths: 200", "  params: {lags: many}", "p.yaml:15: risk.params:"},
        BadRisk{"PathsNotANumber", "paths: 200", "paths: many", "p.yaml:15: risk.paths: expected an integer, got 'many'"},
        BadRisk{"TooFewPaths", "paths: 200", "paths: 1", "risk.paths: must be between 2 and"},
        BadRisk{"LevelInPercent", "  seed: 7", "  levels: [95, 99]", "p.yaml:16: risk.levels[0]: must be in (0, 1)"},
        BadRisk{"LevelNaN", "  seed: 7", "  levels: [0.95, .nan]", "risk.levels[1]:"},
        BadRisk{"LevelTwice", "  seed: 7", "  levels: [0.95, 0.95]", "risk.levels[1]: level 0.95 is listed twice"},
        BadRisk{"BadBool", "factor_changes: true", "factor_changes: sometimes", "p.yaml:14: risk.factor_changes: expected true or false"},
        BadRisk{"BadShocks", "  seed: 7", "  shocks: cauchy", "p.yaml:16: risk.shocks:"},
        BadRisk{"NegativeSeed", "seed: 7", "seed: -1", "risk.seed: must be between 0"},
        BadRisk{"BacktestUnknownKey", "  level: 0.95", "  levle: 0.95", "var_backtest.levle: unknown key 'levle' (did you mean 'level'?)"},
        BadRisk{"BacktestBadPeriod", "from: 2008Q1", "from: 2008Q5", "p.yaml:18: var_backtest.from:"},
        BadRisk{"BacktestBackwards", "to: 2008Q4", "to: 2007Q4", "p.yaml:19: var_backtest.to: '2007Q4' is before var_backtest.from"},
        BadRisk{"BacktestMixedFrequencies", "to: 2008Q4", "to: 2008-12", "var_backtest.to: '2008-12' and '2008Q1' have different frequencies"},
        BadRisk{"BacktestLevelInPercent", "level: 0.95", "level: 95", "var_backtest.level: must be in (0, 1)"},
        BadRisk{"RootKeyDidYouMean", "risk:\n", "riskk:\n", "unknown key 'riskk' (did you mean 'risk'?)"},
        BadRisk{"RegisterWithoutModels", "var_backtest:", "register:\n  model: book\nvar_backtest:", "register: needs models"},
        BadRisk{"TargetWithoutModels", "risk:\n", "target: us:infl\nrisk:\n", "models: required key is missing"},
        // issue 24: a registered var/bvar (model: NAME@VERSION).
        BadRisk{"RegisteredWithParams", "  paths: 200", "  model: macro@1\n  params: {lags: 3}",
                "risk.params: does not apply to the registered model macro@1"},
        BadRisk{"RegisteredWithBacktest", "  paths: 200", "  model: macro@1",
                "var_backtest: refits the macro model at every origin on the data known then; it cannot use the "
                "registered model macro@1"},
        BadRisk{"RegisteredWithoutVersion", "  paths: 200", "  model: macro@", "p.yaml:15: risk.model: model version "
                "'macro@' is not NAME@VERSION"}),
    SpecEditName);

TEST(RiskSpecTest, BacktestNeedsRiskAndDataSeries) {
  std::string no_risk = std::string(kRisk);
  no_risk = no_risk.substr(0, no_risk.find("risk:")) + "target: us:infl\nmodels: [{type: naive}]\n" +
            no_risk.substr(no_risk.find("var_backtest:"));
  EXPECT_THAT(ParsePipeline(no_risk, "p.yaml", BuiltinModels()),
              StatusIs(StatusCode::kInvalidArgument, "var_backtest: needs a risk section"));
  std::string transform = kRisk;
  transform.replace(transform.find("  factors:"), 10, "  series: [us:tbilrate, unemp_change]\n  factors:");
  transform.replace(transform.find("[us:tbilrate, us:unemp]"), 23, "[us:tbilrate]");
  EXPECT_THAT(ParsePipeline(transform, "p.yaml", BuiltinModels()),
              StatusIs(StatusCode::kInvalidArgument, "risk.series 'unemp_change' is a transform"));
}

// ------------------------------------------------------------------------------ runner

class RiskRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::StoreOptions o;
    o.clock = &clock_;
    store_ = *store::OpenStore("memory:", o);
    artifacts_ = *store::OpenArtifactStore("memory:");
    // The worked example's macro vintages (first releases one month after each quarter).
    ASSERT_OK(LoadVintagesCsv(*store_, kRiskDir + "/portfolio/macro_vintages.csv"));
    // A folder with the pipeline and copies of the portfolio files, for tests that alter them.
    for (const char* name : {"positions.csv", "asset_returns.csv", "fx.csv", "scenarios.yaml"})
      WriteText(dir_ / "portfolio" / name, ReadText(kRiskDir + "/portfolio/" + name));
    WriteText(dir_ / "p.yaml", Pipeline());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Pipeline() {
    std::string text = kRisk;
    return text.insert(text.find("transforms:"), "  as_of: 2010-01-15\n");
  }

  Environment Env() { return {store_.get(), artifacts_.get(), &BuiltinModels(), &clock_, 2}; }
  Result<RunResult> RunFile(RunOptions opts = {}) {
    ALMANAC_ASSIGN_OR_RETURN(PipelineSpec spec, LoadPipelineFile((dir_ / "p.yaml").string(), BuiltinModels()));
    if (opts.user.empty()) opts.user = "alice";
    Runner r(Env());
    return r.Run(spec, opts);
  }
  tracking::RunDetails Details(const std::string& run_id) {
    return *tracking::Tracker(store_->metadata(), *artifacts_, clock_).GetRun(run_id);
  }
  std::map<std::string, store::ArtifactRecord> Artifacts(const std::string& run_id) {
    std::map<std::string, store::ArtifactRecord> out;
    for (const auto& a : Details(run_id).artifacts) out[a.kind] = a;
    return out;
  }
  std::string Param(const std::string& run_id, const std::string& key) {
    for (const auto& [k, v] : Details(run_id).params)
      if (k == key) return v;
    return "";
  }
  int Runs() {
    auto r = tracking::Tracker(store_->metadata(), *artifacts_, clock_).ListRuns({});
    return r.ok() ? static_cast<int>(r->size()) : -1;
  }

  FixedClock clock_{At("2026-01-05T12:00:00Z")};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::ArtifactStore> artifacts_;
  std::filesystem::path dir_ = std::filesystem::temp_directory_path() /
                               ("almanac-risk-step-" + std::to_string(::getpid()) + "-" +
                                ::testing::UnitTest::GetInstance()->current_test_info()->name());
};

TEST_F(RiskRunnerTest, RunsTracksCachesAndReproduces) {
  ASSERT_OK_AND_ASSIGN(RunResult first, RunFile());
  EXPECT_EQ(first.status, store::RunStatus::kFinished);
  std::vector<std::string> steps;
  for (const auto& s : first.steps) steps.push_back(s.step);
  EXPECT_EQ(steps, (std::vector<std::string>{"load", "validate", "transform", "risk", "var_backtest"}));
  EXPECT_THAT(first.steps[3].summary, HasSubstr("3 scenario(s) x 200 paths, horizon 8"));
  EXPECT_THAT(first.steps[4].summary, HasSubstr("periods at 0.95"));

  // The inputs' content ids are params; the files, the report, the quantiles and the
  // backtest are artifacts; VaR/ES are metrics.
  const std::string positions = ReadText((dir_ / "portfolio/positions.csv").string());
  EXPECT_EQ(Param(first.run_id, "risk.positions.sha256"), Sha256Hex(positions));
  EXPECT_EQ(Param(first.run_id, "risk.returns.sha256"), Sha256Hex(ReadText((dir_ / "portfolio/asset_returns.csv").string())));
  EXPECT_EQ(Param(first.run_id, "risk.scenarios.sha256"), Sha256Hex(ReadText((dir_ / "portfolio/scenarios.yaml").string())));
  EXPECT_EQ(Param(first.run_id, "risk.data.sha256").size(), 64u);
  auto arts = Artifacts(first.run_id);
  for (const char* label : {"input.risk.positions", "input.risk.returns", "input.risk.fx", "input.risk.scenarios", "risk.json",
                            "risk.quantiles.csv", "var_backtest.json", "steps.json"})
    EXPECT_TRUE(arts.count(label)) << label;
  tracking::Tracker tracker(store_->metadata(), *artifacts_, clock_);
  ASSERT_OK_AND_ASSIGN(std::string report_bytes, tracker.ReadArtifact(arts.at("risk.json")));
  ASSERT_OK_AND_ASSIGN(Json report, ParseJson(report_bytes));
  ASSERT_EQ(report["scenarios"].size(), 3u);
  EXPECT_EQ(report["scenarios"][2]["scenario"], "severely_adverse");
  EXPECT_EQ(report["inputs"]["positions"]["sha256"], Sha256Hex(positions));
  ASSERT_OK_AND_ASSIGN(std::string csv, tracker.ReadArtifact(arts.at("risk.quantiles.csv")));
  EXPECT_THAT(csv, HasSubstr("scenario,h,period,mean,sd,point,p01,p05,p25,p50,p75,p95,p99,var95,es95,var99,es99\n"));
  EXPECT_THAT(csv, HasSubstr("\nseverely_adverse,8,2011Q3,"));
  const auto metrics = Details(first.run_id).latest_metrics;
  ASSERT_TRUE(metrics.count("risk.severely_adverse.h8.es99"));
  ASSERT_TRUE(metrics.count("risk.baseline.h1.var95"));
  // The Monte Carlo figure of the report is the metric.
  for (const auto& f : report["scenarios"][2]["horizons"][7]["figures"])
    if (f["method"] == "monte_carlo" && f["level"] == 0.99) {
      EXPECT_EQ(metrics.at("risk.severely_adverse.h8.es99"), f["es"].get<double>());
    }
  EXPECT_TRUE(metrics.count("var_backtest.kupiec_p"));
  EXPECT_EQ(metrics.at("var_backtest.observations"), 4);

  // Unchanged inputs: both risk steps come from the cache.
  clock_.Advance(1000000);
  ASSERT_OK_AND_ASSIGN(RunResult second, RunFile());
  EXPECT_TRUE(second.steps[3].cached);
  EXPECT_TRUE(second.steps[4].cached);
  EXPECT_EQ(Artifacts(second.run_id).at("risk.json").sha256, arts.at("risk.json").sha256);
  // A changed positions file changes the step (not cached) and its recorded content id.
  WriteText(dir_ / "portfolio/positions.csv", positions + "extra,us_equity,10,USD\n");
  clock_.Advance(1000000);
  ASSERT_OK_AND_ASSIGN(RunResult third, RunFile());
  EXPECT_FALSE(third.steps[3].cached);
  EXPECT_NE(Param(third.run_id, "risk.positions.sha256"), Param(first.run_id, "risk.positions.sha256"));

  // Reproduction of the first run uses the files it stored, not the changed ones, and gives
  // every artifact byte for byte.
  clock_.Advance(1000000);
  ASSERT_OK_AND_ASSIGN(ReproduceResult rep, Reproduce(Env(), first.run_id, {.user = "auditor"}));
  EXPECT_TRUE(rep.identical);
  for (const auto& a : rep.artifacts) EXPECT_TRUE(a.identical) << a.name << ": " << a.why;
  EXPECT_GE(rep.artifacts.size(), 9u);
}

TEST_F(RiskRunnerTest, BadInputFailsTheRunNamingThePlaceAndStoresNoResult) {
  struct Case {
    std::string file, text, message;
    StatusCode code = StatusCode::kInvalidArgument;
  };
  const std::string returns = ReadText(kRiskDir + "/portfolio/asset_returns.csv");
  std::string nan_returns = returns;
  nan_returns.replace(nan_returns.find("\n1985Q2,") + 8, 1, "nan,");
  const std::vector<Case> cases = {
      {"portfolio/positions.csv", "id,asset,exposure,currency\neq,gold,400,USD\n", "position 'eq' (line 2)"},
      {"portfolio/positions.csv", "id,asset,exposure,currency\neq,us_equity,ten,USD\n",
       "portfolio/positions.csv:2"},
      {"portfolio/positions.csv", "id,asset,exposure,currency\neq,us_equity,nan,USD\n", "portfolio/positions.csv:2"},
      {"portfolio/positions.csv", "id,asset,exposure,currency\neq,us_equity,1,USD\neq,ig_credit,2,USD\n",
       "portfolio/positions.csv:3"},
      {"portfolio/asset_returns.csv", nan_returns, "portfolio/asset_returns.csv"},
      {"portfolio/scenarios.yaml",
       "horizon: 8\nseries: [us:tbilrate, us:unemp, us:infl]\nscenarios:\n  bad:\n    paths:\n      us:gdp: [1, 2, 3, 4, 5, 6, 7, 8]\n",
       "portfolio/scenarios.yaml:6"},
      {"portfolio/scenarios.yaml",
       "horizon: 8\nseries: [us:tbilrate, us:unemp, us:infl]\nscenarios:\n  bad:\n    paths:\n      us:unemp: [1, 2]\n",
       "portfolio/scenarios.yaml:6"},
      {"portfolio/fx.csv", "currency,rate\nEUR,-1\n", "portfolio/fx.csv"},
  };
  for (const auto& c : cases) {
    SetUp();
    WriteText(dir_ / c.file, c.text);
    auto r = RunFile();
    EXPECT_THAT(r, StatusIs(c.code, c.message)) << c.file << "\n" << c.text;
    EXPECT_THAT(r, StatusIs(c.code, "step risk")) << c.file;
    // The failed run stores no result of the step, and nothing is cached for it.
    auto runs = tracking::Tracker(store_->metadata(), *artifacts_, clock_).ListRuns({});
    ASSERT_TRUE(runs.ok());
    for (const auto& run : *runs) {
      EXPECT_EQ(run.status, store::RunStatus::kFailed);
      auto arts = Artifacts(run.id);
      EXPECT_FALSE(arts.count("risk.json")) << c.text;
      EXPECT_FALSE(arts.count("var_backtest.json")) << c.text;
    }
    TearDown();
  }
  // A symbolic link inside the folder that leads out of it is refused.
  SetUp();
  std::filesystem::remove(dir_ / "portfolio/fx.csv");
  std::filesystem::create_symlink(kRiskDir + "/portfolio/fx.csv", dir_ / "portfolio/fx.csv");
  auto linked = RunFile();
  EXPECT_THAT(linked, StatusIs(StatusCode::kInvalidArgument, "outside the pipeline file's folder"));
  EXPECT_THAT(linked.status().message(), HasSubstr("risk.fx: file 'portfolio/fx.csv' resolves to "));
  TearDown();
  // A missing file: NotFound naming the key and the file.
  SetUp();
  std::filesystem::remove(dir_ / "portfolio/fx.csv");
  EXPECT_THAT(RunFile(), StatusIs(StatusCode::kNotFound, "risk.fx: cannot read"));
}

TEST_F(RiskRunnerTest, ReturnsFromTheStoreAndBacktestAsOfBounds) {
  // Asset returns from series of the pipeline's data: two made-up "assets" that are the
  // period changes of inflation and the T-bill rate (transforms), as of data.as_of.
  std::string text = Pipeline();
  text.replace(text.find("  returns: portfolio/asset_returns.csv\n"), 39,
               "  return_series: {infl_asset: infl_change, rate_asset: unemp_change}\n");
  text.replace(text.find("transforms:\n"), 12,
               "transforms:\n  - name: infl_change\n    op: diff\n    input: us:infl\n");
  const std::string factors = "factors: [us:tbilrate, us:unemp]";
  text.replace(text.find(factors), factors.size(), "factors: [us:tbilrate]");
  WriteText(dir_ / "portfolio/positions.csv", "id,asset,exposure\na,infl_asset,100\nb,rate_asset,-50\n");
  WriteText(dir_ / "p.yaml", text.substr(0, text.find("var_backtest:")));
  ASSERT_OK_AND_ASSIGN(RunResult r, RunFile());
  EXPECT_EQ(r.steps.back().step, "risk");
  const auto arts = Artifacts(r.run_id);
  EXPECT_FALSE(arts.count("input.risk.returns"));
  ASSERT_OK_AND_ASSIGN(std::string bytes, tracking::Tracker(store_->metadata(), *artifacts_, clock_).ReadArtifact(arts.at("risk.json")));
  ASSERT_OK_AND_ASSIGN(Json report, ParseJson(bytes));
  EXPECT_EQ(report["inputs"]["return_series"], (Json{{"infl_asset", "infl_change"}, {"rate_asset", "unemp_change"}}));

  // A position on an asset without returns names the position.
  WriteText(dir_ / "portfolio/positions.csv", "id,asset,exposure\na,infl_asset,100\nc,gold,1\n");
  EXPECT_THAT(RunFile(), StatusIs(StatusCode::kInvalidArgument, "position 'c' (line 3)"));

  // The backtest may not read data newer than the pipeline's as-of date.
  WriteText(dir_ / "portfolio/positions.csv", ReadText(kRiskDir + "/portfolio/positions.csv"));
  std::string late = Pipeline();
  late.replace(late.find("to: 2008Q4"), 10, "to: 2010Q1");
  WriteText(dir_ / "p.yaml", late);
  EXPECT_THAT(RunFile(), StatusIs(StatusCode::kInvalidArgument,
                                  "var_backtest: origin 2010Q1 needs the macro data as known on 2010-04-01, after the pipeline's data as of 2010-01-15"));
  // Not in the future either (no as-of date: today's data).
  clock_.Set(At("2008-12-15T00:00:00Z"));
  std::string today = Pipeline();
  today.erase(today.find("  as_of: 2010-01-15\n"), 20);
  WriteText(dir_ / "p.yaml", today);
  EXPECT_THAT(RunFile(), StatusIs(StatusCode::kInvalidArgument, "var_backtest: origin 2008Q4"));
  // Within both bounds the backtest runs, on the vintages known at each origin.
  std::string within = Pipeline();
  within.replace(within.find("to: 2008Q4"), 10, "to: 2009Q4");
  WriteText(dir_ / "p.yaml", within);
  clock_.Set(At("2026-01-05T12:00:00Z"));
  ASSERT_OK_AND_ASSIGN(RunResult ok, RunFile());
  EXPECT_EQ(ok.steps.back().step, "var_backtest");
  EXPECT_THAT(ok.steps.back().summary, HasSubstr("in 7 periods"));
}

TEST_F(RiskRunnerTest, BacktestNeedsDataSeriesAlsoWhenTheScenarioFileNamesThem) {
  // risk.series not given: the scenario file's list names a transform.
  WriteText(dir_ / "portfolio/scenarios.yaml",
            "horizon: 4\nseries: [us:tbilrate, unemp_change]\nscenarios:\n  base:\n    description: none\n");
  std::string text = Pipeline();
  const std::string factors = "factors: [us:tbilrate, us:unemp]";
  text.replace(text.find(factors), factors.size(), "factors: [us:tbilrate]");
  WriteText(dir_ / "p.yaml", text);
  EXPECT_THAT(RunFile(), StatusIs(StatusCode::kInvalidArgument,
                                  "var_backtest: the macro variable 'unemp_change' is not in data.series"));
  // Without the backtest the transform is a fine macro variable.
  WriteText(dir_ / "p.yaml", text.substr(0, text.find("var_backtest:")));
  ASSERT_OK_AND_ASSIGN(RunResult r, RunFile());
  EXPECT_EQ(r.steps.back().step, "risk");
  EXPECT_THAT(r.steps.back().summary, HasSubstr("1 scenario(s) x 200 paths, horizon 4"));
}

// Issue 24: `model: NAME@VERSION` simulates a registered var as it was fitted: the same report
// as the refit with the same seed, the package stored with the run and reproduced byte for byte.
class RegisteredRiskRunnerTest : public RiskRunnerTest {
 protected:
  // Registers `envelope` with `manifest` as the next version of `model`; returns its SHA-256.
  std::string RegisterPackage(const std::string& model, registry::PackageManifest manifest, const Json& envelope) {
    registry::Registry reg(*store_, clock_);
    EXPECT_TRUE(reg.EnsureModel({model, "alice", "", {{"four_eyes", false}}}, "alice").ok());
    tracking::Tracker tracker(store_->metadata(), *artifacts_, clock_);
    auto run = tracker.StartRun({.experiment = model, .user = "alice"});
    EXPECT_TRUE(run.ok());
    const std::string bytes = *registry::BuildPackage(manifest, envelope);
    auto rec = *artifacts_->Put(store::ContentAddressedName(Sha256Hex(bytes)), bytes);
    EXPECT_TRUE(tracker.FinishRun(run->id, store::RunStatus::kFinished, "").ok());
    auto v = reg.CreateVersion({model, run->id, rec, "", {}, ""}, "alice");
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return rec.sha256;
  }
  // The VAR(2) of the scenario file, fitted on the pipeline's data (as known on 2010-01-15).
  std::string RegisterVar() {
    const std::vector<std::string> keys = {"us:tbilrate", "us:unemp", "us:infl"};
    std::vector<TimeSeries> series;
    for (const auto& k : keys) series.push_back(store_->series().ReadAsOf(k, *Date::Parse("2010-01-15"))->Trimmed());
    auto data = *models::AlignSeries(keys, series);
    auto model = *models::CreateMultivariate({"var", Json{{"lags", 2}}});
    EXPECT_TRUE(model->Fit(data).ok());
    registry::PackageManifest m;
    m.model_type = "var";
    m.model_spec = {{"type", "var"}, {"params", {{"lags", 2}}}};
    m.frequency = "Q";
    m.history_end = (*data.start + static_cast<int64_t>(data.size() - 1)).ToString();
    m.variables = keys;
    return RegisterPackage("macro", m, *models::MultivariateEnvelope(*model));
  }
  std::string WithModel(const std::string& model) {
    std::string text = Pipeline();
    text = text.substr(0, text.find("var_backtest:"));
    return text.insert(text.find("  paths: 200"), "  model: " + model + "\n");
  }
  Json Report(const std::string& run_id) {
    tracking::Tracker tracker(store_->metadata(), *artifacts_, clock_);
    return *ParseJson(*tracker.ReadArtifact(Artifacts(run_id).at("risk.json")));
  }
};

TEST_F(RegisteredRiskRunnerTest, SameReportAsTheRefitAndReproducible) {
  const std::string sha = RegisterVar();
  // The registered run first, so that none of its steps comes from the cache (steps.json
  // records that, and the reproduction recomputes every step).
  WriteText(dir_ / "p.yaml", WithModel("macro@1"));
  ASSERT_OK_AND_ASSIGN(RunResult registered, RunFile());
  EXPECT_EQ(registered.status, store::RunStatus::kFinished);
  clock_.Advance(1000000);
  std::string refit_text = Pipeline();
  WriteText(dir_ / "p.yaml", refit_text.substr(0, refit_text.find("var_backtest:")));
  ASSERT_OK_AND_ASSIGN(RunResult refit, RunFile());
  const Json a = Report(refit.run_id), b = Report(registered.run_id);
  for (const char* key : {"scenarios", "macro_model", "factor_model", "historical"}) EXPECT_EQ(a[key], b[key]) << key;
  EXPECT_EQ(b["inputs"]["registered_model"], (Json{{"version", "macro@1"}, {"sha256", sha}}));
  EXPECT_EQ(b["settings"]["model"]["registered"], "macro@1");
  EXPECT_EQ(Param(registered.run_id, "risk.model.sha256"), sha);
  EXPECT_TRUE(Artifacts(registered.run_id).count("input.risk.model"));
  // A reproduction uses the stored package (not the registry) and gives the same bytes.
  clock_.Advance(1000000);
  ASSERT_OK_AND_ASSIGN(ReproduceResult rep, Reproduce(Env(), registered.run_id, {.user = "auditor"}));
  EXPECT_TRUE(rep.identical);
  for (const auto& art : rep.artifacts) EXPECT_TRUE(art.identical) << art.name << ": " << art.why;
}

// The simulate step with `model: NAME@VERSION`: the same stored paths as the refit with the
// same seed (series defaulting to the version's variables), the package stored with the run, a
// reproduction identical; params with a registered model and an unknown version are refused.
TEST_F(RegisteredRiskRunnerTest, SimulateStepFromARegisteredVersionStoresThePathsOfTheRefit) {
  const std::string sha = RegisterVar();
  const std::string head = "name: paths\ndata:\n  series: [us:tbilrate, us:unemp, us:infl]\n  as_of: 2010-01-15\n"
                           "simulate:\n  scenarios: portfolio/scenarios.yaml\n  paths: 40\n  seed: 7\n";
  WriteText(dir_ / "p.yaml", head + "  model: macro@1\n");
  ASSERT_OK_AND_ASSIGN(RunResult registered, RunFile());
  EXPECT_EQ(registered.steps.back().step, "simulate");
  clock_.Advance(1000000);
  WriteText(dir_ / "p.yaml", head);
  ASSERT_OK_AND_ASSIGN(RunResult refit, RunFile());
  const auto a = Artifacts(refit.run_id), b = Artifacts(registered.run_id);
  EXPECT_EQ(a.at("paths.f32").sha256, b.at("paths.f32").sha256);
  EXPECT_EQ(a.at("paths.summary.json").sha256, b.at("paths.summary.json").sha256);
  EXPECT_EQ(Param(registered.run_id, "simulate.model.sha256"), sha);
  EXPECT_TRUE(b.count("input.simulate.model"));
  clock_.Advance(1000000);
  ASSERT_OK_AND_ASSIGN(ReproduceResult rep, Reproduce(Env(), registered.run_id, {.user = "auditor"}));
  EXPECT_TRUE(rep.identical);
  for (const auto& art : rep.artifacts) EXPECT_TRUE(art.identical) << art.name << ": " << art.why;

  WriteText(dir_ / "p.yaml", head + "  model: macro@1\n  params: {lags: 1}\n");
  EXPECT_THAT(RunFile(), StatusIs(StatusCode::kInvalidArgument, "simulate.params: does not apply to the registered model macro@1"));
  WriteText(dir_ / "p.yaml", head + "  model: macro@9\n");
  EXPECT_THAT(RunFile(), StatusIs(StatusCode::kNotFound, "simulate.model"));
}

TEST_F(RegisteredRiskRunnerTest, UnknownAndUnivariateVersionsFailTheRunAndStoreNoResult) {
  RegisterVar();
  registry::PackageManifest uni;
  uni.model_type = "naive";
  uni.model_spec = {{"type", "naive"}, {"params", Json::object()}};
  uni.target = "us:infl";
  RegisterPackage("infl", uni, {{"format", "almanac-model"}, {"format_version", 1},
                                {"spec", {{"type", "naive"}, {"params", Json::object()}}}, {"state", Json::object()}});
  struct Case {
    std::string model;
    StatusCode code;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{{"nosuch@1", StatusCode::kNotFound, "nosuch"},
                                         {"macro@7", StatusCode::kNotFound, "macro@7"},
                                         {"infl@1", StatusCode::kFailedPrecondition, "infl@1 is a naive model (univariate)"}}) {
    WriteText(dir_ / "p.yaml", WithModel(c.model));
    clock_.Advance(1000000);
    auto r = RunFile();
    EXPECT_THAT(r, StatusIs(c.code, c.message)) << c.model;
  }
  // No run stored a report.
  auto runs = tracking::Tracker(store_->metadata(), *artifacts_, clock_).ListRuns({});
  ASSERT_TRUE(runs.ok());
  for (const auto& run : *runs) EXPECT_FALSE(Artifacts(run.id).count("risk.json")) << run.id;
}

}  // namespace
}  // namespace almanac::pipeline
