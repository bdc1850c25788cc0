// MLflow's filter and order_by grammar (issue 22): well-formed filters parse into clauses,
// malformed ones are refused with InvalidArgument naming the problem, and matching follows
// MLflow's documented semantics (LIKE wildcards, missing keys never match).
#include "serve/mlflow_filter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"

namespace almanac::serve::mlflow {
namespace {

using ::almanac::testing::IsOk;
using ::almanac::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::SizeIs;

TEST(MlflowFilter, EmptyFilterHasNoClauses) {
  auto f = ParseFilter("   ", FilterTarget::kRuns);
  ASSERT_THAT(f.status(), IsOk());
  EXPECT_THAT(*f, SizeIs(0));
}

TEST(MlflowFilter, TheIssueExampleParses) {
  auto f = ParseFilter("metrics.rmse < 1 and params.model = 'ets' and tags.x != 'y'", FilterTarget::kRuns);
  ASSERT_THAT(f.status(), IsOk());
  ASSERT_THAT(*f, SizeIs(3));
  EXPECT_EQ((*f)[0].kind, FilterKind::kMetric);
  EXPECT_EQ((*f)[0].key, "rmse");
  EXPECT_EQ((*f)[0].op, "<");
  EXPECT_TRUE((*f)[0].numeric);
  EXPECT_EQ((*f)[0].number, 1.0);
  EXPECT_EQ((*f)[1].kind, FilterKind::kParam);
  EXPECT_EQ((*f)[1].strings, std::vector<std::string>{"ets"});
  EXPECT_EQ((*f)[2].kind, FilterKind::kTag);
  EXPECT_EQ((*f)[2].op, "!=");
}

struct Good {
  std::string filter;
  FilterKind kind;
  std::string key;
  std::string op;
};

class MlflowFilterGood : public ::testing::TestWithParam<Good> {};

TEST_P(MlflowFilterGood, Parses) {
  const Good& g = GetParam();
  auto f = ParseFilter(g.filter, FilterTarget::kRuns);
  ASSERT_THAT(f.status(), IsOk()) << g.filter;
  ASSERT_THAT(*f, SizeIs(1));
  EXPECT_EQ((*f)[0].kind, g.kind);
  EXPECT_EQ((*f)[0].key, g.key);
  EXPECT_EQ((*f)[0].op, g.op);
}

INSTANTIATE_TEST_SUITE_P(
    Grammar, MlflowFilterGood,
    ::testing::Values(Good{"metrics.rmse<=0.5", FilterKind::kMetric, "rmse", "<="},
                      Good{"metric.loss >= -1e-3", FilterKind::kMetric, "loss", ">="},
                      Good{"metrics.`my metric` > 2", FilterKind::kMetric, "my metric", ">"},
                      Good{"metrics.\"a b\" = 2", FilterKind::kMetric, "a b", "="},
                      Good{"params.model LIKE 'auto%'", FilterKind::kParam, "model", "LIKE"},
                      Good{"param.model ilike '%ETS'", FilterKind::kParam, "model", "ILIKE"},
                      Good{"tags.mlflow.runName = 'x'", FilterKind::kTag, "mlflow.runName", "="},
                      Good{"tag.`team` != \"macro\"", FilterKind::kTag, "team", "!="},
                      Good{"attributes.status = 'FINISHED'", FilterKind::kAttribute, "status", "="},
                      Good{"status IN ('RUNNING', 'FINISHED')", FilterKind::kAttribute, "status", "IN"},
                      Good{"attribute.status not in ('KILLED')", FilterKind::kAttribute, "status", "NOT IN"},
                      Good{"run.start_time > 1000", FilterKind::kAttribute, "start_time", ">"},
                      Good{"attributes.created < 5", FilterKind::kAttribute, "start_time", "<"},
                      Good{"`run name` = 'a'", FilterKind::kAttribute, "run_name", "="},
                      Good{"attributes.run_id = 'r1'", FilterKind::kAttribute, "run_id", "="},
                      Good{"metrics.x <> 3", FilterKind::kMetric, "x", "!="},
                      Good{"params.q = 'it''s'", FilterKind::kParam, "q", "="}));

class MlflowFilterBad : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(MlflowFilterBad, IsRefused) {
  const auto& [filter, why] = GetParam();
  EXPECT_THAT(ParseFilter(filter, FilterTarget::kRuns).status(), StatusIs(StatusCode::kInvalidArgument, why))
      << filter;
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, MlflowFilterBad,
    ::testing::Values(std::make_pair("metrics.rmse <", "expected a number"),
                      std::make_pair("metrics.rmse < 'a'", "expected a number"),
                      std::make_pair("metrics.rmse < 1e999", "expected a number"),
                      std::make_pair("params.model = ets", "expected a quoted value"),
                      std::make_pair("params.model = 'ets", "unterminated"),
                      std::make_pair("params.model < 'ets'", "does not apply to the text"),
                      std::make_pair("metrics.rmse LIKE '1'", "does not apply to the number"),
                      std::make_pair("foo.bar = 'x'", "invalid entity type"),
                      std::make_pair("colour = 'red'", "invalid attribute key"),
                      std::make_pair("metrics. < 1", "expected a key"),
                      std::make_pair("metrics.rmse ~ 1", "expected a comparator"),
                      std::make_pair("metrics.rmse < 1 and", "a clause must follow AND"),
                      std::make_pair("metrics.rmse < 1 or metrics.mae < 1", "OR is not supported"),
                      std::make_pair("metrics.rmse < 1 metrics.mae < 1", "expected AND"),
                      std::make_pair("status IN 'RUNNING'", "expected '('"),
                      std::make_pair("status IN ('A' 'B')", "expected ',' or ')'"),
                      std::make_pair("params.x IN ('a')", "attributes only"),
                      std::make_pair("status NOT 'x'", "expected IN after NOT"),
                      std::make_pair("= 1", "expected an identifier"),
                      std::make_pair("and", "invalid attribute key")));

TEST(MlflowFilter, TargetsLimitWhatMayBeNamed) {
  EXPECT_THAT(ParseFilter("name LIKE 'gdp%' and tags.team = 'x'", FilterTarget::kExperiments).status(), IsOk());
  EXPECT_THAT(ParseFilter("metrics.rmse < 1", FilterTarget::kExperiments).status(),
              StatusIs(StatusCode::kInvalidArgument, "only be searched in runs"));
  EXPECT_THAT(ParseFilter("status = 'x'", FilterTarget::kModels).status(),
              StatusIs(StatusCode::kInvalidArgument, "invalid attribute key"));
  EXPECT_THAT(ParseFilter("run_id = 'r1' and source LIKE 's3%'", FilterTarget::kModelVersions).status(), IsOk());
}

TEST(MlflowFilter, ErrorsNameThePosition) {
  EXPECT_THAT(ParseFilter("metrics.rmse < x", FilterTarget::kRuns).status().message(), HasSubstr("character 16"));
}

TEST(MlflowFilter, OrderBy) {
  auto k = ParseOrderBy("metrics.rmse DESC", FilterTarget::kRuns);
  ASSERT_THAT(k.status(), IsOk());
  EXPECT_EQ(k->kind, FilterKind::kMetric);
  EXPECT_FALSE(k->ascending);
  k = ParseOrderBy("attributes.start_time", FilterTarget::kRuns);
  ASSERT_THAT(k.status(), IsOk());
  EXPECT_TRUE(k->ascending);
  EXPECT_EQ(k->key, "start_time");
  k = ParseOrderBy("name asc", FilterTarget::kExperiments);
  ASSERT_THAT(k.status(), IsOk());
  EXPECT_THAT(ParseOrderBy("metrics.rmse sideways", FilterTarget::kRuns).status(),
              StatusIs(StatusCode::kInvalidArgument, "expected ASC, DESC"));
  EXPECT_THAT(ParseOrderBy("", FilterTarget::kRuns).status(), StatusIs(StatusCode::kInvalidArgument));
}

TEST(MlflowFilter, LikeMatching) {
  EXPECT_TRUE(LikeMatch("auto_ets", "auto%", false));
  EXPECT_TRUE(LikeMatch("auto_ets", "%ets", false));
  EXPECT_TRUE(LikeMatch("auto_ets", "a_to%", false));
  EXPECT_TRUE(LikeMatch("", "%", false));
  EXPECT_FALSE(LikeMatch("auto_ets", "AUTO%", false));
  EXPECT_TRUE(LikeMatch("auto_ets", "AUTO%", true));
  EXPECT_FALSE(LikeMatch("arima", "%ets%", false));
  EXPECT_TRUE(LikeMatch("abcabd", "%abd", false));
}

TEST(MlflowFilter, MatchingFollowsTheOperators) {
  auto f = *ParseFilter("metrics.rmse < 1 and params.model = 'ets' and status IN ('FINISHED', 'RUNNING')",
                        FilterTarget::kRuns);
  EXPECT_TRUE(MatchNumber(f[0], 0.5));
  EXPECT_FALSE(MatchNumber(f[0], 1.0));
  EXPECT_FALSE(MatchNumber(f[0], std::nullopt));  // a run without the metric never matches
  EXPECT_FALSE(MatchNumber(f[0], std::nan("")));
  EXPECT_TRUE(MatchString(f[1], std::string("ets")));
  EXPECT_FALSE(MatchString(f[1], std::nullopt));
  EXPECT_TRUE(MatchString(f[2], std::string("RUNNING")));
  EXPECT_FALSE(MatchString(f[2], std::string("FAILED")));
}

}  // namespace
}  // namespace almanac::serve::mlflow
