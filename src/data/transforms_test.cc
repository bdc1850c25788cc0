#include "almanac/data/transforms.h"

#include <cmath>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"

namespace almanac::data {
namespace {

using ::almanac::testing::IsOk;
using ::almanac::testing::IsOkAndHolds;
using ::almanac::testing::StatusIs;
using ::testing::HasSubstr;

TimeSeries Q(const std::string& start, std::vector<double> v) { return *TimeSeries::FromValues(*Period::Parse(start), std::move(v)); }

std::string Values(const TimeSeries& ts) {
  std::string out;
  for (int64_t i = 0; i < ts.size(); ++i)
    out += (out.empty() ? "" : " ") + ts.PeriodAt(i).ToString() + "=" + (ts.at(i) ? FormatDouble(std::round(*ts.at(i) * 1e6) / 1e6) : ".");
  return out;
}

Result<TimeSeries> Apply(const std::string& op, Json params, const std::map<std::string, TimeSeries>& in) {
  return ApplyTransform({"out", op, "x", std::move(params)}, in);
}

TEST(TransformTest, EveryOperation) {
  std::map<std::string, TimeSeries> in{{"x", Q("2023Q1", {100, 110, 121, 133.1, 146.41})},
                                       {"p", Q("2023Q1", {1, 1.1, 1.21, 1.331, 1.4641})}};
  EXPECT_EQ(Values(*Apply("none", {}, in)), "2023Q1=100 2023Q2=110 2023Q3=121 2023Q4=133.1 2024Q1=146.41");
  EXPECT_EQ(Values(*Apply("diff", {}, in)), "2023Q2=10 2023Q3=11 2023Q4=12.1 2024Q1=13.31");
  EXPECT_EQ(Values(*Apply("pct_change", {}, in)), "2023Q2=10 2023Q3=10 2023Q4=10 2024Q1=10");
  EXPECT_EQ(Values(*Apply("log_diff", {}, in)), "2023Q2=0.09531 2023Q3=0.09531 2023Q4=0.09531 2024Q1=0.09531");
  EXPECT_EQ(Values(*Apply("yoy", {}, in)), "2024Q1=46.41");
  EXPECT_EQ(Values(*Apply("lag", {{"periods", 1}}, in)), "2023Q2=100 2023Q3=110 2023Q4=121 2024Q1=133.1 2024Q2=146.41");
  EXPECT_EQ(Values(*Apply("moving_average", {{"window", 2}}, in)), "2023Q2=105 2023Q3=115.5 2023Q4=127.05 2024Q1=139.755");
  EXPECT_EQ(Values(*Apply("log", {}, in)).substr(0, 17), "2023Q1=4.60517 20");
  EXPECT_EQ(Values(*Apply("deflate", {{"by", "p"}, {"base", 1}}, in)), "2023Q1=100 2023Q2=100 2023Q3=100 2023Q4=100 2024Q1=100");
  std::map<std::string, TimeSeries> m{{"x", Q("2023-11", {1, 2, 3, 4, 5, 6, 7})}};  // Nov..May
  EXPECT_EQ(Values(*Apply("resample", {{"to", "Q"}, {"how", "mean"}}, m)), "2024Q1=4");  // only complete quarters
  EXPECT_EQ(Values(*Apply("resample", {{"to", "Q"}, {"how", "sum"}}, m)), "2024Q1=12");
  std::map<std::string, TimeSeries> gap{{"x", Q("2024-01", {1, NAN, NAN, 4})}};
  EXPECT_EQ(Values(*Apply("interpolate", {}, gap)), "2024-01=1 2024-02=2 2024-03=3 2024-04=4");
}

TEST(TransformTest, AliasesGiveTheCanonicalOperation) {
  std::map<std::string, TimeSeries> in{{"x", Q("2023Q1", {100, 110, 121, 133.1})}};
  EXPECT_EQ(Values(*Apply("pct", {}, in)), Values(*Apply("pct_change", {}, in)));
  EXPECT_EQ(Values(*Apply("dlog", {}, in)), Values(*Apply("log_diff", {}, in)));
  EXPECT_EQ(*CanonicalTransformName("pct"), "pct_change");
  EXPECT_EQ(*CanonicalTransformName("dlog"), "log_diff");
  EXPECT_EQ(*CanonicalTransformName("yoy"), "yoy");
  // Every row's name and aliases resolve to the row's name.
  for (const auto& row : TransformOps()) {
    EXPECT_EQ(*CanonicalTransformName(row.name), row.name);
    for (auto alias : row.aliases) EXPECT_EQ(*CanonicalTransformName(alias), row.name);
  }
}

TEST(TransformTest, UnknownNamesSuggestOrList) {
  EXPECT_THAT(CanonicalTransformName("pct_chnage"),
              StatusIs(StatusCode::kInvalidArgument, "unknown transformation 'pct_chnage' (did you mean 'pct_change'?)"));
  EXPECT_THAT(CanonicalTransformName("zzzzzzzzzzzz"), StatusIs(StatusCode::kInvalidArgument, "known: none, log, diff"));
  std::map<std::string, TimeSeries> in{{"x", Q("2023Q1", {1, 2, 3})}};
  EXPECT_THAT(Apply("cube", {}, in), StatusIs(StatusCode::kInvalidArgument, "transform 'out' (cube of x): unknown transformation"));
}

TEST(TransformTest, ErrorsNameTheTransform) {
  std::map<std::string, TimeSeries> in{{"x", Q("2023Q1", {1, -2, 3})}, {"m", *TimeSeries::FromValues(*Period::Parse("2023-01"), {1, 2})}};
  EXPECT_THAT(Apply("log", {}, in), StatusIs(StatusCode::kInvalidArgument, "transform 'out' (log of x): log of a non-positive value"));
  EXPECT_THAT(Apply("dlog", {}, in), StatusIs(StatusCode::kInvalidArgument, "(log_diff of x): log of a non-positive value (-2 at 2023Q2)"));
  EXPECT_THAT(Apply("deflate", {{"by", "m"}}, in), StatusIs(StatusCode::kInvalidArgument, "frequency"));
  EXPECT_THAT(Apply("resample", {{"to", "M"}}, in), StatusIs(StatusCode::kInvalidArgument, "lower frequency"));
  EXPECT_THAT(Apply("moving_average", {{"window", 10}}, in), StatusIs(StatusCode::kInvalidArgument, "at least 10"));
  EXPECT_THAT(ApplyTransform({"out", "diff", "nope", {}}, in), StatusIs(StatusCode::kInvalidArgument, "not available"));
  std::map<std::string, TimeSeries> zero{{"x", Q("2023Q1", {0, 1, 2})}};
  EXPECT_THAT(Apply("pct_change", {}, zero), StatusIs(StatusCode::kInvalidArgument, "zero value"));
  EXPECT_THAT(Apply("pct", {}, zero), StatusIs(StatusCode::kInvalidArgument, "percent change from a zero value at 2023Q1"));
}

// Parameters missing or of the wrong type (a package's recorded JSON is not trusted): an
// error, never an exception.
TEST(TransformTest, BadParametersAreErrors) {
  std::map<std::string, TimeSeries> in{{"x", Q("2023Q1", {1, 2, 3, 4})}};
  EXPECT_THAT(Apply("resample", {}, in), StatusIs(StatusCode::kInvalidArgument, "resample needs 'to'"));
  EXPECT_THAT(Apply("resample", {{"to", 4}}, in), StatusIs(StatusCode::kInvalidArgument, "to must be a string"));
  EXPECT_THAT(Apply("resample", {{"to", "A"}, {"how", "median"}}, in), StatusIs(StatusCode::kInvalidArgument, "how must be"));
  EXPECT_THAT(Apply("deflate", {}, in), StatusIs(StatusCode::kInvalidArgument, "deflate needs 'by'"));
  EXPECT_THAT(Apply("diff", {{"periods", "two"}}, in), StatusIs(StatusCode::kInvalidArgument, "periods must be an integer"));
  EXPECT_THAT(Apply("diff", {{"periods", 0}}, in), StatusIs(StatusCode::kInvalidArgument, "periods must be between 1 and 1000"));
  EXPECT_THAT(Apply("diff", {{"periods", 4}}, in), StatusIs(StatusCode::kInvalidArgument, "needs more than 4 observations"));
  EXPECT_THAT(Apply("pct_change", {{"scale", "x"}}, in), StatusIs(StatusCode::kInvalidArgument, "scale must be a number"));
  EXPECT_THAT(Apply("interpolate", {{"method", "spline"}}, in), StatusIs(StatusCode::kInvalidArgument, "method must be linear"));
  std::map<std::string, TimeSeries> empty{{"x", TimeSeries()}};
  EXPECT_THAT(Apply("log", {}, empty), StatusIs(StatusCode::kInvalidArgument, "has no observations"));
}

// One series, as the multivariate commands' --transform: named after the series.
TEST(TransformTest, TransformSeriesNamesTheSeries) {
  const TimeSeries x = Q("2023Q1", {100, 110, -1});
  EXPECT_EQ(Values(*TransformSeries(x, "none", "us:gdp")), "2023Q1=100 2023Q2=110 2023Q3=-1");
  EXPECT_EQ(Values(*TransformSeries(x, "", "us:gdp")), "2023Q1=100 2023Q2=110 2023Q3=-1");
  EXPECT_EQ(Values(*TransformSeries(x, "diff", "us:gdp")), "2023Q2=10 2023Q3=-111");
  EXPECT_THAT(TransformSeries(x, "dlog", "us:gdp"),
              StatusIs(StatusCode::kInvalidArgument, "log_diff of us:gdp: log of a non-positive value (-1 at 2023Q3)"));
  EXPECT_THAT(TransformSeries(x, "cube", "us:gdp"), StatusIs(StatusCode::kInvalidArgument, "unknown transformation 'cube'"));
}

TEST(RecordedTransformsTest, RoundTripAndMalformedLists) {
  const std::vector<TransformSpec> specs{{"g", "pct_change", "x", {{"periods", 1}}}, {"m", "moving_average", "g", {{"window", 2}}}};
  const Json j = TransformsToJson(specs);
  EXPECT_EQ(CompactJson(j),
            R"([{"input":"x","name":"g","op":"pct_change","params":{"periods":1}},{"input":"g","name":"m","op":"moving_average","params":{"window":2}}])");
  ASSERT_OK_AND_ASSIGN(auto back, TransformsFromJson(j));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].name, "m");
  EXPECT_EQ(back[1].params, (Json{{"window", 2}}));
  EXPECT_THAT(TransformsFromJson(Json(nullptr)), IsOk());
  EXPECT_THAT(TransformsFromJson(Json::object()), StatusIs(StatusCode::kInvalidArgument, "not a list"));
  EXPECT_THAT(TransformsFromJson(Json::parse(R"([{"name":"g","op":"log"}])")),
              StatusIs(StatusCode::kInvalidArgument, "malformed transform in the package"));
  std::map<std::string, TimeSeries> in{{"x", Q("2023Q1", {100, 110, 121, 133.1})}};
  ASSERT_OK_AND_ASSIGN(auto all, ApplyRecordedTransforms(j, in));
  EXPECT_EQ(all.size(), 3u);
  EXPECT_EQ(Values(all.at("m")), "2023Q3=10 2023Q4=10");
}

// What `almanac var --register --transform dlog` records (one spec per variable) gives the
// canonical op back; none recorded is "none"; an unknown op or a malformed list is an error.
TEST(RecordedTransformsTest, SeriesTransformOfAMultivariatePackage) {
  const Json dlog =
      TransformsToJson({{"us:gdp", "dlog", "us:gdp", Json::object()}, {"us:cpi", "dlog", "us:cpi", Json::object()}});
  EXPECT_THAT(RecordedSeriesTransform(dlog), IsOkAndHolds(std::string("log_diff")));
  EXPECT_THAT(RecordedSeriesTransform(Json(nullptr)), IsOkAndHolds(std::string("none")));
  EXPECT_THAT(RecordedSeriesTransform(Json::array()), IsOkAndHolds(std::string("none")));
  EXPECT_THAT(RecordedSeriesTransform(TransformsToJson({{"x", "cube", "x", Json::object()}})),
              StatusIs(StatusCode::kInvalidArgument, "unknown transformation 'cube'"));
  EXPECT_THAT(RecordedSeriesTransform(Json::object()), StatusIs(StatusCode::kInvalidArgument, "not a list"));
}

// ------------------------------------------------------------------- a package's target

class TargetAsOfTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = *store::OpenStore("memory:", {});
    // Two vintages: 2024-01-10 knows 2023Q1..Q3, 2024-04-10 revises Q3 and adds Q4.
    Load("2024-01-10", {{"2023Q1", 100}, {"2023Q2", 110}, {"2023Q3", 121}});
    Load("2024-04-10", {{"2023Q3", 120}, {"2023Q4", 132}});
  }
  void Load(const std::string& date, const std::vector<std::pair<std::string, double>>& rows) {
    auto s = store_->series().BeginLoad({.loader = "test", .source = "test"});
    ASSERT_TRUE(s.ok()) << s.status().message();
    for (const auto& [p, v] : rows) ASSERT_THAT((*s)->Add("us:gdp", *Period::Parse(p), v, *Date::Parse(date)), IsOk());
    ASSERT_THAT((*s)->Commit().status(), IsOk());
  }
  std::unique_ptr<store::Store> store_;
};

TEST_F(TargetAsOfTest, ReadsTheInputsAsOfTheDateAndAppliesTheTransforms) {
  const TargetRecipe growth{"g", TransformsToJson({{"g", "pct_change", "us:gdp", {{"periods", 1}}}}), {"us:gdp"}};
  ASSERT_OK_AND_ASSIGN(auto then, TargetAsOf(store_->series(), growth, *Date::Parse("2024-02-01")));
  EXPECT_EQ(Values(then.target), "2023Q2=10 2023Q3=10");
  EXPECT_EQ(then.inputs.count("us:gdp"), 1u);
  ASSERT_OK_AND_ASSIGN(auto now, TargetAsOf(store_->series(), growth, std::nullopt));
  EXPECT_EQ(Values(now.target), "2023Q2=10 2023Q3=9.090909 2023Q4=10");
  // Without transforms the target is a series read as of the date.
  ASSERT_OK_AND_ASSIGN(auto plain, TargetAsOf(store_->series(), TargetRecipe{"us:gdp", Json::array(), {}}, *Date::Parse("2024-02-01")));
  EXPECT_EQ(Values(plain.target), "2023Q1=100 2023Q2=110 2023Q3=121");
}

TEST_F(TargetAsOfTest, Errors) {
  const Date d = *Date::Parse("2024-02-01");
  // A target that no transform produces: one message wherever the target is derived.
  const TargetRecipe lost{"h", TransformsToJson({{"g", "diff", "us:gdp", {}}}), {"us:gdp"}};
  EXPECT_THAT(TargetAsOf(store_->series(), lost, d),
              StatusIs(StatusCode::kFailedPrecondition, "the package's target h cannot be derived from its inputs"));
  EXPECT_THAT(DeriveTarget(TargetRecipe{"us:cpi", Json::array(), {}}, {}),
              StatusIs(StatusCode::kFailedPrecondition, "the package's target us:cpi cannot be derived from its inputs"));
  // An input the store does not have: the read's error, with the date.
  const TargetRecipe missing{"g", TransformsToJson({{"g", "diff", "us:cpi", {}}}), {"us:cpi"}};
  auto r = TargetAsOf(store_->series(), missing, d);
  EXPECT_THAT(r, StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(r.status().message(), HasSubstr("as of 2024-02-01"));
  // A transform that fails on the data as read then.
  const TargetRecipe too_short{"g", TransformsToJson({{"g", "moving_average", "us:gdp", {{"window", 4}}}}), {"us:gdp"}};
  EXPECT_THAT(TargetAsOf(store_->series(), too_short, d), StatusIs(StatusCode::kInvalidArgument, "needs at least 4 observations"));
  EXPECT_THAT(TargetAsOf(store_->series(), too_short, std::nullopt), IsOk());
  // A malformed recorded list.
  EXPECT_THAT(TargetAsOf(store_->series(), TargetRecipe{"g", Json::object({{"op", "log"}}), {"us:gdp"}}, d),
              StatusIs(StatusCode::kInvalidArgument, "not a list"));
}

}  // namespace
}  // namespace almanac::data
