// Macro scenario paths on their own (issue 24): the simulator shared with the stress test, the
// stored float32 form, the per-period summary, and the errors (nothing simulated or stored).
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/core/json.h"
#include "almanac/models.h"
#include "almanac/risk.h"

#include "core/testing/status_matchers.h"

namespace almanac::risk {
namespace {

using ::almanac::testing::IsOk;
using ::almanac::testing::StatusIs;
using ::testing::HasSubstr;

// A small VAR(1)-like data set: three variables, 40 quarters from 2000Q1, deterministic.
models::MultiInput MacroPathsData() {
  models::MultiInput d;
  d.names = {"us:tbilrate", "us:unemp", "us:infl"};
  d.start = Period::Parse("2000Q1").value();
  d.values.assign(3, {});
  double a = 3, b = 5, c = 2;
  for (int t = 0; t < 40; ++t) {
    const double e1 = std::sin(1.3 * t), e2 = std::cos(0.7 * t + 1), e3 = std::sin(2.1 * t + 0.5);
    a = 0.5 + 0.8 * a + 0.3 * e1;
    b = 1.0 + 0.8 * b - 0.1 * a + 0.2 * e2;
    c = 0.4 + 0.6 * c + 0.05 * a + 0.3 * e3;
    d.values[0].push_back(a);
    d.values[1].push_back(b);
    d.values[2].push_back(c);
  }
  return d;
}

MacroSimulationRequest MacroPathsRequest() {
  MacroSimulationRequest r;
  r.data = MacroPathsData();
  r.model = {"var", Json{{"lags", 1}}};
  r.num_paths = 50;
  r.horizon = 4;
  r.seed = 11;
  r.threads = 1;
  return r;
}

TEST(MacroPathsTest, UnconditionalPathsAreTheModelsOwnAndRoundTripAsFloat32) {
  auto sim = MacroScenarioSimulator::Create(MacroPathsRequest());
  ASSERT_THAT(sim, IsOk());
  EXPECT_EQ(sim->scenario_names(), std::vector<std::string>{"unconditional"});
  EXPECT_EQ(sim->first_period().ToString(), "2010Q1");
  EXPECT_EQ(sim->sample(), "2000Q1..2009Q4 (40 obs)");
  auto paths = sim->Simulate(0);
  ASSERT_THAT(paths, IsOk());
  // The same numbers as fitting and simulating directly.
  auto model = models::CreateMultivariate({"var", Json{{"lags", 1}}}).value();
  ASSERT_THAT(model->Fit(MacroPathsData()), IsOk());
  auto direct = model->SimulatePaths({.num_paths = 50, .horizon = 4, .seed = 11, .threads = 2});
  ASSERT_THAT(direct, IsOk());
  EXPECT_EQ(paths->values, direct->values);
  EXPECT_THAT(sim->Simulate(1), StatusIs(StatusCode::kOutOfRange));

  auto bytes = EncodeMacroPaths({"unconditional"}, {*paths}, Json{{"seed", 11}});
  ASSERT_THAT(bytes, IsOk());
  // 8 magic + 4 length + header + 50 x 4 x 3 float32.
  const size_t header = bytes->size() - 8 - 4 - 50 * 4 * 3 * 4;
  EXPECT_EQ(bytes->substr(0, 8), "ALMPATH1");
  EXPECT_EQ(static_cast<size_t>(static_cast<unsigned char>((*bytes)[8]) | (static_cast<unsigned char>((*bytes)[9]) << 8)),
            header);
  auto back = DecodeMacroPaths(*bytes);
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->scenarios, std::vector<std::string>{"unconditional"});
  EXPECT_EQ(back->variables, MacroPathsData().names);
  EXPECT_EQ(back->num_paths, 50);
  EXPECT_EQ(back->horizon, 4);
  EXPECT_EQ(back->header["seed"], 11);
  EXPECT_EQ(back->header["first_period"], "2010Q1");
  EXPECT_EQ(back->header["layout"], "scenario,path,step,variable");
  ASSERT_EQ(back->values.size(), paths->values.size());
  for (size_t i = 0; i < back->values.size(); ++i) ASSERT_EQ(back->values[i], static_cast<float>(paths->values[i])) << i;
  // The value of path 17, step 3, variable 2, read at its documented offset.
  const size_t at = 8 + 4 + header + 4 * ((17 * 4 + 2) * 3 + 2);
  float f = 0;
  std::memcpy(&f, bytes->data() + at, 4);  // the test host is little-endian (x86-64, arm64)
  EXPECT_EQ(f, static_cast<float>(paths->at(17, 2, 2)));
}

TEST(MacroPathsTest, ScenarioPathsHitTheScenarioExactly) {
  MacroSimulationRequest r = MacroPathsRequest();
  r.scenarios = models::ParseScenarios("horizon: 4\nscenarios:\n  calm:\n    description: none\n"
                                       "  shock:\n    paths:\n      us:unemp: [6.0, 7.0, null, 8.0]\n",
                                       "s.yaml")
                    .value();
  auto sim = MacroScenarioSimulator::Create(r);
  ASSERT_THAT(sim, IsOk());
  EXPECT_EQ(sim->scenario_names(), (std::vector<std::string>{"calm", "shock"}));
  auto shock = sim->Simulate(1);
  ASSERT_THAT(shock, IsOk());
  for (int i = 0; i < shock->num_paths; ++i) {
    EXPECT_NEAR(shock->at(i, 0, 1), 6.0, 1e-9);
    EXPECT_NEAR(shock->at(i, 1, 1), 7.0, 1e-9);
    EXPECT_NEAR(shock->at(i, 3, 1), 8.0, 1e-9);
  }
  const Json summary = MacroPathsSummary("shock", *shock);
  EXPECT_EQ(summary["variables"][1]["variable"], "us:unemp");
  EXPECT_NEAR(summary["variables"][1]["periods"][0]["p50"].get<double>(), 6.0, 1e-9);
  EXPECT_NEAR(summary["variables"][1]["periods"][0]["sd"].get<double>(), 0.0, 1e-9);
  EXPECT_EQ(summary["variables"][1]["periods"][3]["period"], "2010Q4");
  // Only one scenario; an unknown one is NotFound naming the file.
  r.only = {"shock"};
  auto only = MacroScenarioSimulator::Create(r);
  ASSERT_THAT(only, IsOk());
  EXPECT_EQ(only->scenario_names(), std::vector<std::string>{"shock"});
  r.only = {"mild"};
  EXPECT_THAT(MacroScenarioSimulator::Create(r), StatusIs(StatusCode::kNotFound, "s.yaml: no scenario named 'mild'"));
}

TEST(MacroPathsTest, BadScenariosFailBeforeAnySimulation) {
  MacroSimulationRequest r = MacroPathsRequest();
  r.scenarios = models::ParseScenarios("horizon: 4\nscenarios:\n  x:\n    paths:\n      us:gdp: [1, 2, 3, 4]\n", "s.yaml").value();
  auto sim = MacroScenarioSimulator::Create(r);
  EXPECT_EQ(sim.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(sim.status().message(), HasSubstr("s.yaml"));
  EXPECT_THAT(sim.status().message(), HasSubstr("us:gdp"));
  r.scenarios = models::ParseScenarios("scenarios:\n  x:\n    paths:\n      us:unemp: [1, 2]\n", "s.yaml").value();
  EXPECT_THAT(MacroScenarioSimulator::Create(r), StatusIs(StatusCode::kInvalidArgument));
  r = MacroPathsRequest();
  r.data.start.reset();
  EXPECT_THAT(MacroScenarioSimulator::Create(r), StatusIs(StatusCode::kInvalidArgument, "macro data: no periods"));
}

TEST(MacroPathsTest, SummaryQuantilesAreTheLowerEmpiricalOnes) {
  // Ten paths of one variable over one step: the values 10, 9, ..., 1.
  models::SimulatedPaths p;
  p.names = {"x"};
  p.num_paths = 10;
  p.horizon = 1;
  p.num_vars = 1;
  for (int i = 0; i < 10; ++i) p.values.push_back(10.0 - i);
  const Json row = MacroPathsSummary("s", p)["variables"][0]["periods"][0];
  EXPECT_EQ(row["h"], 1);
  EXPECT_TRUE(row["period"].is_null());
  EXPECT_DOUBLE_EQ(row["mean"].get<double>(), 5.5);
  EXPECT_DOUBLE_EQ(row["sd"].get<double>(), std::sqrt(82.5 / 9));
  // x(ceil(10 p)): p01 -> x(1), p05 -> x(1), p25 -> x(3), p50 -> x(5), p75 -> x(8), p95 -> x(10).
  EXPECT_EQ(row["p01"], 1.0);
  EXPECT_EQ(row["p05"], 1.0);
  EXPECT_EQ(row["p25"], 3.0);
  EXPECT_EQ(row["p50"], 5.0);
  EXPECT_EQ(row["p75"], 8.0);
  EXPECT_EQ(row["p95"], 10.0);
  EXPECT_EQ(row["p99"], 10.0);
}

TEST(MacroPathsTest, TheMemoryCapIsStatedAndCheckedBeforeSimulating) {
  EXPECT_THAT(MacroPathsSizeCheck(3, 100000, 8, 10), IsOk());  // 24M values = 96 MiB
  const Status s = MacroPathsSizeCheck(3, 200000, 8, 10);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("3 scenario(s) x 200000 paths x 8 periods x 10 variables = 48000000 values "
                                     "(183.1 MiB as float32) exceed the cap of 33554432 values (128 MiB); at most "
                                     "139810 paths"));
  EXPECT_THAT(MacroPathsSizeCheck(1, 0, 8, 10), StatusIs(StatusCode::kInvalidArgument));
  // No int64 overflow for absurd sizes.
  EXPECT_THAT(MacroPathsSizeCheck(1 << 30, 1 << 30, 1 << 30, 1 << 30), StatusIs(StatusCode::kInvalidArgument));
}

TEST(MacroPathsTest, DecodeRefusesForeignOrDamagedBytes) {
  auto paths = MacroScenarioSimulator::Create(MacroPathsRequest()).value().Simulate(0).value();
  const std::string bytes = EncodeMacroPaths({"u"}, {paths}, Json::object()).value();
  EXPECT_THAT(DecodeMacroPaths("PK\x03\x04 not paths"), StatusIs(StatusCode::kDataLoss, "no ALMPATH1 magic"));
  EXPECT_THAT(DecodeMacroPaths(bytes.substr(0, bytes.size() - 4)), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(DecodeMacroPaths(bytes.substr(0, 20)), StatusIs(StatusCode::kDataLoss));
  // Headers whose sizes are not positive integers, or that do not match the values.
  auto file = [](const std::string& header, size_t values) {
    std::string out = "ALMPATH1";
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((header.size() >> (8 * i)) & 0xFF));
    return out + header + std::string(4 * values, '\0');
  };
  const std::string head = R"("byte_order":"little","dtype":"float32","scenarios":["u"],"variables":["x","y"])";
  EXPECT_THAT(DecodeMacroPaths(file("{" + head + R"(,"num_paths":2,"horizon":3})", 12)), IsOk());
  EXPECT_THAT(DecodeMacroPaths(file("{" + head + R"(,"num_paths":-2,"horizon":3})", 12)),
              StatusIs(StatusCode::kDataLoss, "num_paths and horizon must be positive integers"));
  EXPECT_THAT(DecodeMacroPaths(file("{" + head + R"(,"num_paths":2.5,"horizon":3})", 12)), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(DecodeMacroPaths(file("{" + head + R"(,"num_paths":1e300,"horizon":3})", 12)), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(DecodeMacroPaths(file("{" + head + R"(,"num_paths":2,"horizon":3})", 11)),
              StatusIs(StatusCode::kDataLoss, "44 bytes of values, expected 48"));
  // Two scenarios of different shapes cannot share a file; an exploding value is named.
  models::SimulatedPaths other = paths;
  other.horizon = 2;
  EXPECT_THAT(EncodeMacroPaths({"a", "b"}, {paths, other}, Json::object()), StatusIs(StatusCode::kInvalidArgument));
  paths.values[5] = 1e300;
  EXPECT_THAT(EncodeMacroPaths({"u"}, {paths}, Json::object()),
              StatusIs(StatusCode::kInvalidArgument, "scenario u, path 0, step 2, us:infl: 1e+300 does not fit a float32"));
}

}  // namespace
}  // namespace almanac::risk
