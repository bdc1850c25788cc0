// The simulate step of a pipeline (issue 24): the `simulate:` section, the stored paths
// (paths.f32) and their summary, params, metrics, cache and reproduction, and the errors
// (nothing stored).
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/pipeline.h"
#include "almanac/risk.h"
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

const std::string kSimRiskDir = std::string(ALMANAC_SOURCE_DIR) + "/testdata/risk";

const char* kSimulate = R"(name: paths
data:
  series: [us:tbilrate, us:unemp, us:infl]
  as_of: 2010-01-15
simulate:
  scenarios: portfolio/scenarios.yaml
  paths: 60
  seed: 7
)";

TEST(SimulateSpecTest, ParsesTheSection) {
  ASSERT_OK_AND_ASSIGN(PipelineSpec s, ParsePipeline(kSimulate, "p.yaml", BuiltinModels()));
  EXPECT_TRUE(s.simulate.enabled);
  EXPECT_TRUE(s.candidates.empty());
  EXPECT_EQ(s.simulate.scenarios, "portfolio/scenarios.yaml");
  EXPECT_EQ(s.simulate.paths, 60);
  EXPECT_EQ(s.simulate.seed, 7);
  EXPECT_TRUE(s.simulate.series.empty());  // the scenario file's
  ASSERT_OK_AND_ASSIGN(PipelineSpec sample, LoadPipelineFile(kSimRiskDir + "/simulate.yaml", BuiltinModels()));
  EXPECT_EQ(sample.name, "macro-paths");
  EXPECT_TRUE(sample.simulate.enabled);
  ASSERT_OK_AND_ASSIGN(
      PipelineSpec full,
      ParsePipeline("name: p\ndata:\n  series: [us:unemp, us:infl]\nsimulate:\n  series: [us:unemp, us:infl]\n  model: bvar\n"
                    "  params: {lags: 1}\n  horizon: 4\n  shocks: t\n  shock_dof: 6\n  parameter_uncertainty: true\n",
                    "p.yaml", BuiltinModels()));
  EXPECT_EQ(full.simulate.model_type, "bvar");
  EXPECT_EQ(full.simulate.horizon, 4);
  EXPECT_EQ(full.simulate.shocks, "t");
  EXPECT_TRUE(full.simulate.parameter_uncertainty);
}

using BadSimulate = SpecEdit;  // replaces in kSimulate

class BadSimulateSpecTest : public ::testing::TestWithParam<BadSimulate> {};

TEST_P(BadSimulateSpecTest, NamesFileLineAndKey) {
  EXPECT_THAT(ParsePipeline(ApplySpecEdit(kSimulate, GetParam()), "p.yaml", BuiltinModels()),
              StatusIs(StatusCode::kInvalidArgument, GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadSimulateSpecTest,
    ::testing::Values(
        BadSimulate{"UnknownKey", "  paths: 60", "  pahts: 60", "p.yaml:7: simulate.pahts: unknown key 'pahts' (did you mean 'paths'?)"},
        BadSimulate{"UnknownVariable", "  paths: 60", "  series: [us:tbilrate, us:unmep]\n  paths: 60",
                    "p.yaml:7: simulate.series[1]: 'us:unmep' is neither a data series nor a transform of this pipeline "
                    "(did you mean 'us:unemp'?)"},
        BadSimulate{"NoSeriesNoScenarios", "  scenarios: portfolio/scenarios.yaml\n", "",
                    "simulate.series: required without a scenarios file"},
        BadSimulate{"HorizonZero", "  paths: 60", "  horizon: 0\n  paths: 60", "p.yaml:7: simulate.horizon: must be between 1 and"},
        BadSimulate{"HorizonText", "  paths: 60", "  horizon: eight\n  paths: 60", "simulate.horizon: expected an integer, got 'eight'"},
        BadSimulate{"NoPaths", "paths: 60", "paths: 0", "p.yaml:7: simulate.paths: must be between 1 and 1000000"},
        BadSimulate{"TooManyPaths", "paths: 60", "paths: 5000000", "simulate.paths: must be between 1 and 1000000"},
        BadSimulate{"NegativeSeed", "seed: 7", "seed: -7", "p.yaml:8: simulate.seed: must be between 0"},
        BadSimulate{"SeedNotANumber", "seed: 7", "seed: lucky", "p.yaml:8: simulate.seed: expected an integer, got 'lucky'"},
        BadSimulate{"BadShocks", "  seed: 7", "  shocks: cauchy", "p.yaml:8: simulate.shocks:"},
        BadSimulate{"UnknownModel", "  seed: 7", "  model: vra", "p.yaml:8: simulate.model: unknown macro model 'vra' (did you mean 'var'?)"},
        BadSimulate{"ModelFileAndModel", "  seed: 7", "  model: var\n  model_file: var.json",
                    "simulate.model_file: give either a fitted model file or model/params to fit, not both"},
        BadSimulate{"ModelFileOutside", "  seed: 7", "  model_file: ../var.json",
                    "simulate.model_file: file '../var.json' must not leave the pipeline file's folder"},
        BadSimulate{"OnlyWithoutScenarios", "  scenarios: portfolio/scenarios.yaml\n",
                    "  series: [us:unemp]\n  only: [adverse]\n", "simulate.only: needs a scenarios file"}),
    SpecEditName);

TEST(SimulateSpecTest, ANowcastPipelineHasNoSimulateStep) {
  EXPECT_THAT(ParsePipeline("name: n\ndata:\n  series: [a]\nnowcast:\n  target: a\nsimulate:\n  series: [a]\n", "p.yaml",
                            BuiltinModels()),
              StatusIs(StatusCode::kInvalidArgument, "simulate: a nowcast pipeline has no simulate step"));
}

// ------------------------------------------------------------------------------ runner

class SimulateRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::StoreOptions o;
    o.clock = &clock_;
    store_ = *store::OpenStore("memory:", o);
    artifacts_ = *store::OpenArtifactStore("memory:");
    ASSERT_OK(LoadVintagesCsv(*store_, kSimRiskDir + "/portfolio/macro_vintages.csv"));
    WriteText(dir_ / "portfolio/scenarios.yaml", ReadText(kSimRiskDir + "/portfolio/scenarios.yaml"));
    WriteText(dir_ / "p.yaml", kSimulate);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

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
  std::string Read(const store::ArtifactRecord& a) {
    return *tracking::Tracker(store_->metadata(), *artifacts_, clock_).ReadArtifact(a);
  }

  FixedClock clock_{At("2026-01-05T12:00:00Z")};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::ArtifactStore> artifacts_;
  std::filesystem::path dir_ = std::filesystem::temp_directory_path() /
                               ("almanac-simulate-step-" + std::to_string(::getpid()) + "-" +
                                ::testing::UnitTest::GetInstance()->current_test_info()->name());
};

TEST_F(SimulateRunnerTest, StoresThePathsTracksCachesAndReproduces) {
  ASSERT_OK_AND_ASSIGN(RunResult first, RunFile());
  EXPECT_EQ(first.status, store::RunStatus::kFinished);
  std::vector<std::string> steps;
  for (const auto& s : first.steps) steps.push_back(s.step);
  EXPECT_EQ(steps, (std::vector<std::string>{"load", "validate", "transform", "simulate"}));
  EXPECT_THAT(first.steps[3].summary, HasSubstr("3 scenario(s) x 60 paths x 8 periods x 3 variables; paths.f32"));

  auto arts = Artifacts(first.run_id);
  for (const char* label : {"input.simulate.scenarios", "paths.f32", "paths.summary.json"})
    ASSERT_TRUE(arts.count(label)) << label;
  // The paths' content id is a param of the run, as are the scenario file's and the data's.
  EXPECT_EQ(Param(first.run_id, "simulate.paths.sha256"), arts.at("paths.f32").sha256);
  EXPECT_EQ(Param(first.run_id, "simulate.scenarios.sha256"),
            Sha256Hex(ReadText(kSimRiskDir + "/portfolio/scenarios.yaml")));
  EXPECT_EQ(Param(first.run_id, "simulate.data.sha256").size(), 64u);
  EXPECT_THAT(Param(first.run_id, "simulate.settings"), HasSubstr("\"paths\":60"));

  // 3 scenarios x 60 paths x 8 quarters x 3 variables as float32, 4 bytes each.
  const std::string bytes = Read(arts.at("paths.f32"));
  ASSERT_OK_AND_ASSIGN(risk::DecodedMacroPaths paths, risk::DecodeMacroPaths(bytes));
  EXPECT_EQ(paths.scenarios, (std::vector<std::string>{"baseline", "adverse", "severely_adverse"}));
  EXPECT_EQ(paths.variables, (std::vector<std::string>{"us:tbilrate", "us:unemp", "us:infl"}));
  EXPECT_EQ(paths.num_paths, 60);
  EXPECT_EQ(paths.horizon, 8);
  EXPECT_EQ(paths.header["first_period"], "2009Q4");
  EXPECT_EQ(paths.header["seed"], 7);
  EXPECT_EQ(paths.values.size(), 3u * 60 * 8 * 3);
  auto at = [&](size_t s, size_t i, size_t h, size_t k) { return paths.values[((s * 60 + i) * 8 + h) * 3 + k]; };
  // The adverse scenario's unemployment is its path on every draw (10.0, 10.4, ... as float).
  for (size_t i = 0; i < 60; ++i) {
    EXPECT_EQ(at(1, i, 0, 1), 10.0f);
    EXPECT_EQ(at(1, i, 3, 1), 11.0f);
    EXPECT_EQ(at(2, i, 7, 0), 1.5f);  // severely adverse T-bill rate in 2011Q3
  }

  // The summary: quantiles per scenario, variable and quarter; the median of the stored floats.
  ASSERT_OK_AND_ASSIGN(Json summary, ParseJson(Read(arts.at("paths.summary.json"))));
  EXPECT_EQ(summary["model"], "VAR(2), constant");
  const Json& infl = summary["scenarios"][0]["variables"][2];
  EXPECT_EQ(infl["variable"], "us:infl");
  std::vector<float> h8;
  for (size_t i = 0; i < 60; ++i) h8.push_back(at(0, i, 7, 2));
  std::sort(h8.begin(), h8.end());
  EXPECT_EQ(infl["periods"][7]["period"], "2011Q3");
  EXPECT_NEAR(infl["periods"][7]["p50"].get<double>(), h8[29], 1e-5 * std::max(1.0f, std::abs(h8[29])));  // x(30)
  // Metrics: per scenario, variable and statistic, one point per quarter (step = h).
  const auto metrics = Details(first.run_id).latest_metrics;
  ASSERT_TRUE(metrics.count("simulate.baseline.us:infl.p50"));
  ASSERT_TRUE(metrics.count("simulate.severely_adverse.us:unemp.mean"));
  EXPECT_NEAR(metrics.at("simulate.severely_adverse.us:unemp.mean"), 12.5, 1e-9);  // its last quarter

  // Unchanged: from the cache, the same bytes.
  clock_.Advance(1000000);
  ASSERT_OK_AND_ASSIGN(RunResult second, RunFile());
  EXPECT_TRUE(second.steps[3].cached);
  EXPECT_EQ(Artifacts(second.run_id).at("paths.f32").sha256, arts.at("paths.f32").sha256);
  // Another seed: other paths.
  std::string text = kSimulate;
  WriteText(dir_ / "p.yaml", text.replace(text.find("seed: 7"), 7, "seed: 8"));
  clock_.Advance(1000000);
  ASSERT_OK_AND_ASSIGN(RunResult third, RunFile());
  EXPECT_FALSE(third.steps[3].cached);
  EXPECT_NE(Param(third.run_id, "simulate.paths.sha256"), arts.at("paths.f32").sha256);

  // Reproduction of the first run: every artifact byte for byte.
  clock_.Advance(1000000);
  ASSERT_OK_AND_ASSIGN(ReproduceResult rep, Reproduce(Env(), first.run_id, {.user = "auditor"}));
  EXPECT_TRUE(rep.identical);
  for (const auto& a : rep.artifacts) EXPECT_TRUE(a.identical) << a.name << ": " << a.why;
}

TEST_F(SimulateRunnerTest, BadInputFailsTheRunClearlyAndStoresNoPaths) {
  struct Case {
    std::string pipeline_from, pipeline_to;  // in kSimulate
    std::string scenarios;                   // replaces the scenario file when not empty
    std::string message;
  };
  const std::vector<Case> cases = {
      // The memory cap, checked before anything is simulated.
      {"paths: 60", "paths: 1000000", "",
       "3 scenario(s) x 1000000 paths x 8 periods x 3 variables = 72000000 values (274.7 MiB as float32) exceed the "
       "cap of 33554432 values (128 MiB); at most 466033 paths"},
      // A scenario naming a variable the model does not have, or of the wrong length.
      {"", "", "horizon: 8\nseries: [us:tbilrate, us:unemp, us:infl]\nscenarios:\n  bad:\n    paths:\n      us:gdp: [1, 2, 3, 4, 5, 6, 7, 8]\n",
       "portfolio/scenarios.yaml:6"},
      {"", "", "series: [us:tbilrate, us:unemp, us:infl]\nscenarios:\n  bad:\n    paths:\n      us:unemp: [1, 2]\n",
       "portfolio/scenarios.yaml:5"},
      // The scenario file's variables must be series of the pipeline.
      {"", "", "series: [us:tbilrate, us:gdp]\nscenarios:\n  calm: {}\n", "simulate.series: 'us:gdp' (from the scenarios file)"},
      // Conditional paths need Gaussian shocks.
      {"  seed: 7", "  seed: 7\n  shocks: t", "", "scenario adverse"},
  };
  for (const auto& c : cases) {
    SetUp();
    std::string text = kSimulate;
    if (!c.pipeline_from.empty()) text.replace(text.find(c.pipeline_from), c.pipeline_from.size(), c.pipeline_to);
    WriteText(dir_ / "p.yaml", text);
    if (!c.scenarios.empty()) WriteText(dir_ / "portfolio/scenarios.yaml", c.scenarios);
    auto r = RunFile();
    EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument, c.message)) << c.message;
    EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument, "step simulate")) << c.message;
    auto runs = tracking::Tracker(store_->metadata(), *artifacts_, clock_).ListRuns({});
    ASSERT_TRUE(runs.ok());
    for (const auto& run : *runs) {
      EXPECT_EQ(run.status, store::RunStatus::kFailed);
      auto arts = Artifacts(run.id);
      EXPECT_FALSE(arts.count("paths.f32")) << c.message;
      EXPECT_FALSE(arts.count("paths.summary.json")) << c.message;
      EXPECT_EQ(Param(run.id, "simulate.paths.sha256"), "") << c.message;
    }
    TearDown();
  }
}

TEST_F(SimulateRunnerTest, FromASavedModelFileTheSamePathsAsTheFit) {
  // The model the step fits, saved and given as model_file: the same paths.
  ASSERT_OK_AND_ASSIGN(RunResult fitted, RunFile());
  auto fitted_paths = risk::DecodeMacroPaths(Read(Artifacts(fitted.run_id).at("paths.f32")));
  ASSERT_TRUE(fitted_paths.ok());
  std::vector<TimeSeries> series;
  for (const char* k : {"us:tbilrate", "us:unemp", "us:infl"})
    series.push_back(store_->series().ReadAsOf(k, *Date::Parse("2010-01-15"))->Trimmed());
  const std::vector<std::string> names = {"us:tbilrate", "us:unemp", "us:infl"};
  ASSERT_OK_AND_ASSIGN(models::MultiInput data, models::AlignSeries(names, series));
  ASSERT_OK_AND_ASSIGN(auto model, models::CreateMultivariate({"var", Json{{"lags", 2}}}));
  ASSERT_OK(model->Fit(data));
  ASSERT_OK_AND_ASSIGN(std::string saved, models::SerializeMultivariate(*model));
  WriteText(dir_ / "var.json", saved);
  std::string text = kSimulate;
  WriteText(dir_ / "p.yaml", text.replace(text.find("  seed: 7"), 9, "  seed: 7\n  model_file: var.json"));
  clock_.Advance(1000000);
  ASSERT_OK_AND_ASSIGN(RunResult from_file, RunFile());
  EXPECT_EQ(Param(from_file.run_id, "simulate.model_file.sha256"), Sha256Hex(saved));
  auto file_paths = risk::DecodeMacroPaths(Read(Artifacts(from_file.run_id).at("paths.f32")));
  ASSERT_TRUE(file_paths.ok());
  EXPECT_EQ(file_paths->values, fitted_paths->values);
  // A file that is not a saved model: a clear error.
  WriteText(dir_ / "var.json", "{\"not\": \"a model\"}");
  clock_.Advance(1000000);
  auto bad = RunFile();
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("simulate.model_file var.json: "));
  EXPECT_THAT(bad.status().message(), HasSubstr("(expected a var or bvar saved by almanac var --save)"));
}

}  // namespace
}  // namespace almanac::pipeline
