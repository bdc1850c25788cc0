// Scenario files: the format, resolution against a model's variables and horizon, and errors
// that name the file, line and key.
#include <cmath>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/models.h"

#include "core/testing/status_matchers.h"

namespace almanac::models {
namespace {

using ::almanac::testing::IsOk;
using ::almanac::testing::StatusIs;

const char kGood[] = R"(# stress scenarios
horizon: 4
series: [us:realgdp, us:tbilrate]
model: {type: bvar, params: {lags: 2, delta: [0, 1], seed: 7}}
scenarios:
  baseline:
    description: no conditions
  adverse:
    description: rates up
    paths:
      us:tbilrate: [5.0, 5.5, null, 6]
  severely_adverse:
    paths:
      us:tbilrate: {2010Q1: 7.0, 2010Q3: 7.5}
      us:realgdp: [-0.02, null, null, null]
)";

const std::vector<std::string> kNames = {"us:realgdp", "us:tbilrate"};

TEST(ScenarioTest, ParsesTheFormat) {
  auto set = ParseScenarios(kGood, "stress.yaml");
  ASSERT_THAT(set, IsOk());
  EXPECT_EQ(set->horizon, 4);
  EXPECT_EQ(set->series, kNames);
  EXPECT_EQ(set->model_type, "bvar");
  EXPECT_EQ(set->model_params["lags"], 2);
  EXPECT_EQ(set->model_params["delta"], Json::array({0.0, 1.0}));
  ASSERT_EQ(set->scenarios.size(), 3u);
  EXPECT_EQ(set->scenarios[0].name, "baseline");
  EXPECT_TRUE(set->scenarios[0].paths.empty());
  EXPECT_EQ(set->scenarios[1].description, "rates up");
  EXPECT_EQ(set->scenarios[2].paths[0].line, 14);

  const Period first = Period::Parse("2010Q1").value();
  auto adverse = ResolveScenario(*set, set->scenarios[1], kNames, first, 4);
  ASSERT_THAT(adverse, IsOk());
  ASSERT_EQ(adverse->size(), 1u);
  EXPECT_EQ((*adverse)[0].variable, "us:tbilrate");
  EXPECT_EQ((*adverse)[0].values[1], 5.5);
  EXPECT_TRUE(std::isnan((*adverse)[0].values[2]));
  auto severe = ResolveScenario(*set, set->scenarios[2], kNames, first, 4);
  ASSERT_THAT(severe, IsOk());
  EXPECT_EQ((*severe)[0].values[0], 7.0);
  EXPECT_TRUE(std::isnan((*severe)[0].values[1]));
  EXPECT_EQ((*severe)[0].values[2], 7.5);
  EXPECT_EQ((*severe)[1].values[0], -0.02);
}

struct BadCase {
  const char* yaml;
  const char* expected;  // substring of the message
};

class ScenarioErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ScenarioErrorTest, NamesFileLineAndKey) {
  auto set = ParseScenarios(GetParam().yaml, "s.yaml");
  EXPECT_THAT(set, StatusIs(StatusCode::kInvalidArgument, GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ScenarioErrorTest,
    ::testing::Values(
        BadCase{"horizon: 3\nscenarios:\n  adverse:\n    paths:\n      x: [1, 2]\n",
                "s.yaml:5: scenarios.adverse.paths.x: the path has 2 values but the horizon is 3"},
        BadCase{"horizon: 2\nscenario:\n  a: {}\n", "s.yaml:2: scenario: unknown key (did you mean 'scenarios'?)"},
        BadCase{"scenarios:\n  a:\n    paths:\n      x: [1, abc]\n",
                "s.yaml:4: scenarios.a.paths.x[2]: expected a number"},
        BadCase{"scenarios:\n  a:\n    path: {}\n", "s.yaml:3: scenarios.a.path: unknown key (did you mean 'paths'?)"},
        BadCase{"scenarios:\n  a: {}\n  a: {}\n", "s.yaml:3: scenarios.a: scenario defined twice"},
        BadCase{"scenarios:\n  a:\n    paths:\n      x: [1]\n      x: [2]\n",
                "s.yaml:5: scenarios.a.paths.x: variable given twice"},
        BadCase{"horizon: 0\nscenarios: {a: {}}\n", "s.yaml:1: horizon: expected a whole number"},
        BadCase{"scenarios: [1, 2]\n", "s.yaml:1: scenarios: expected a mapping"},
        BadCase{"scenarios:\n  a:\n    paths:\n      x: [null, null]\n",
                "s.yaml:4: scenarios.a.paths.x: the path has no values"},
        BadCase{"scenarios: {a: [\n", "s.yaml:2: invalid YAML"},
        BadCase{"horizon: 2\n", "s.yaml: no 'scenarios' key"}));

TEST(ScenarioTest, ResolveErrorsNameTheKey) {
  auto set = ParseScenarios(
      "scenarios:\n  a:\n    paths:\n      us:realgpd: [1, 2, 3]\n  b:\n    paths:\n      us:realgdp: {2011Q1: 1}\n"
      "  c:\n    paths:\n      us:realgdp: [1, 2]\n  d:\n    paths:\n      us:realgdp: {2010-03: 1}\n",
      "s.yaml");
  ASSERT_THAT(set, IsOk());
  const Period first = Period::Parse("2010Q1").value();
  EXPECT_THAT(ResolveScenario(*set, set->scenarios[0], kNames, first, 3),
              StatusIs(StatusCode::kInvalidArgument,
                       "s.yaml:4: scenarios.a.paths.us:realgpd: unknown variable (did you mean 'us:realgdp'?)"));
  EXPECT_THAT(ResolveScenario(*set, set->scenarios[1], kNames, first, 3),
              StatusIs(StatusCode::kInvalidArgument,
                       "s.yaml:7: scenarios.b.paths.us:realgdp.2011Q1: outside the forecast horizon 2010Q1..2010Q3"));
  EXPECT_THAT(ResolveScenario(*set, set->scenarios[2], kNames, first, 3),
              StatusIs(StatusCode::kInvalidArgument, "s.yaml:10: scenarios.c.paths.us:realgdp: the path has 2 values"));
  EXPECT_THAT(ResolveScenario(*set, set->scenarios[3], kNames, first, 3),
              StatusIs(StatusCode::kInvalidArgument, "scenarios.d.paths.us:realgdp.2010-03: not a period"));
  EXPECT_THAT(ReadScenarioFile("/nonexistent/s.yaml"), StatusIs(StatusCode::kNotFound));
}

}  // namespace
}  // namespace almanac::models
