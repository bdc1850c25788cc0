#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/core.h"
#include "core/testing/status_matchers.h"

namespace almanac {
namespace {

using ::almanac::testing::StatusIs;

TEST(DateTest, ParseFormatAndWeekday) {
  ASSERT_OK_AND_ASSIGN(Date d, Date::Parse("1970-01-01"));
  EXPECT_EQ(d.days(), 0);
  EXPECT_EQ(d.weekday(), 4);  // Thursday
  ASSERT_OK_AND_ASSIGN(Date leap, Date::Parse("2024-02-29"));
  EXPECT_EQ(leap.ToString(), "2024-02-29");
  EXPECT_EQ((leap + 1).ToString(), "2024-03-01");
  EXPECT_EQ(Date::Parse("1900-03-01")->days() - Date::Parse("1900-02-28")->days(), 1);  // 1900 not leap
  EXPECT_THAT(Date::Parse("2023-02-29"), StatusIs(StatusCode::kInvalidArgument, "does not exist"));
  EXPECT_THAT(Date::Parse("2024-1-01"), StatusIs(StatusCode::kInvalidArgument, "YYYY-MM-DD"));
  EXPECT_THAT(Date::Parse("0999-01-01"), StatusIs(StatusCode::kOutOfRange));
}

struct RoundTrip {
  const char* text;
  Frequency freq;
};

class PeriodRoundTrip : public ::testing::TestWithParam<RoundTrip> {};

TEST_P(PeriodRoundTrip, ParsesToFrequencyAndPrintsBack) {
  ASSERT_OK_AND_ASSIGN(Period p, Period::Parse(GetParam().text));
  EXPECT_EQ(p.frequency(), GetParam().freq);
  EXPECT_EQ(p.ToString(), GetParam().text);
  ASSERT_OK_AND_ASSIGN(Period again, Period::Parse(p.ToString(), p.frequency()));
  EXPECT_EQ(again, p);
}

INSTANTIATE_TEST_SUITE_P(All, PeriodRoundTrip,
                         ::testing::Values(RoundTrip{"2024", Frequency::kAnnual}, RoundTrip{"2024Q1", Frequency::kQuarterly},
                                           RoundTrip{"1959Q4", Frequency::kQuarterly}, RoundTrip{"2024-03", Frequency::kMonthly},
                                           RoundTrip{"2024-W05", Frequency::kWeekly}, RoundTrip{"2020-W53", Frequency::kWeekly},
                                           RoundTrip{"2024-03-15", Frequency::kDaily}, RoundTrip{"1969-12-31", Frequency::kDaily}));

TEST(PeriodTest, AlternativeSpellings) {
  EXPECT_EQ(Period::Parse("2024-Q3")->ToString(), "2024Q3");
  EXPECT_EQ(Period::Parse("2024q2")->ToString(), "2024Q2");
  EXPECT_EQ(Period::Parse(" 2024-01 ")->ToString(), "2024-01");
}

TEST(PeriodTest, IsoWeeksAtYearBoundaries) {
  // 2021-01-03 (Sunday) belongs to ISO week 2020-W53; 2024-12-30 (Monday) to 2025-W01.
  EXPECT_EQ(Period::FromDate(*Date::Parse("2021-01-03"), Frequency::kWeekly)->ToString(), "2020-W53");
  EXPECT_EQ(Period::FromDate(*Date::Parse("2024-12-30"), Frequency::kWeekly)->ToString(), "2025-W01");
  EXPECT_EQ(Period::Parse("2025-W01")->StartDate().ToString(), "2024-12-30");
  EXPECT_THAT(Period::Parse("2021-W53"), StatusIs(StatusCode::kInvalidArgument, "has no ISO week 53"));
  EXPECT_EQ(Period::Parse("2025-W01")->year(), 2025);
  EXPECT_EQ(Period::Parse("2025-W01")->SeasonIndex(), 0);
}

TEST(PeriodTest, BusinessDays) {
  ASSERT_OK_AND_ASSIGN(Period fri, Period::Parse("2024-03-15", Frequency::kBusiness));
  EXPECT_EQ((fri + 1).ToString(), "2024-03-18");  // Monday
  EXPECT_EQ(*(fri + 5).Diff(fri), 5);
  EXPECT_THAT(Period::Parse("2024-03-16", Frequency::kBusiness), StatusIs(StatusCode::kInvalidArgument, "weekend"));
  EXPECT_EQ(Period::Parse("1969-12-29", Frequency::kBusiness)->ordinal(), 0);
  EXPECT_EQ(Period::Parse("1969-12-26", Frequency::kBusiness)->ordinal(), -1);
}

TEST(PeriodTest, ArithmeticAndDiff) {
  Period q = *Period::Parse("2023Q4");
  EXPECT_EQ((q + 1).ToString(), "2024Q1");
  EXPECT_EQ((q - 4).ToString(), "2022Q4");
  EXPECT_EQ(*Period::Parse("2025Q1")->Diff(q), 5);
  EXPECT_EQ((*Period::Parse("2024-01") - 1).ToString(), "2023-12");
  EXPECT_THAT(q.Diff(*Period::Parse("2024-01")), StatusIs(StatusCode::kInvalidArgument, "different frequencies"));
  EXPECT_EQ(q.SeasonIndex(), 3);
  EXPECT_EQ(q.StartDate().ToString(), "2023-10-01");
  EXPECT_EQ(q.EndDate().ToString(), "2023-12-31");
}

TEST(PeriodTest, ConvertBetweenFrequencies) {
  Period q = *Period::Parse("2024Q2");
  EXPECT_EQ(q.Convert(Frequency::kMonthly).ToString(), "2024-04");
  EXPECT_EQ(q.Convert(Frequency::kMonthly, Anchor::kEnd).ToString(), "2024-06");
  EXPECT_EQ(q.Convert(Frequency::kAnnual).ToString(), "2024");
  EXPECT_EQ(Period::Parse("2024-11")->Convert(Frequency::kQuarterly).ToString(), "2024Q4");
  EXPECT_EQ(q.Convert(Frequency::kDaily, Anchor::kEnd).ToString(), "2024-06-30");
  EXPECT_EQ(q.Convert(Frequency::kBusiness, Anchor::kEnd).ToString(), "2024-06-28");  // Friday
  EXPECT_EQ(q.Convert(Frequency::kWeekly).ToString(), "2024-W14");  // first full week (from Mon 2024-04-01)
  EXPECT_EQ(Period::Parse("2024-06-15")->Convert(Frequency::kBusiness).ToString(), "2024-06-14");  // Saturday -> Friday
}

TEST(PeriodTest, FrequencyDateParsingRules) {
  EXPECT_EQ(Period::Parse("2024-04-01", Frequency::kQuarterly)->ToString(), "2024Q2");
  EXPECT_THAT(Period::Parse("2024-04-02", Frequency::kQuarterly),
              StatusIs(StatusCode::kInvalidArgument, "does not fit frequency Q"));
  EXPECT_EQ(Period::Parse("2024-04-02", Frequency::kQuarterly, false)->ToString(), "2024Q2");
  EXPECT_EQ(Period::Parse("2024-01-05", Frequency::kWeekly)->ToString(), "2024-W01");
  EXPECT_THAT(Period::Parse("2024Q1", Frequency::kMonthly), StatusIs(StatusCode::kInvalidArgument, "declared"));
}

TEST(PeriodTest, BadText) {
  for (const char* bad : {"", "24", "2024Q5", "2024Q0", "2024-00", "2024-13", "abcd", "2024-W00", "2024/01", "2024-03-1x",
                          "20240301"}) {
    EXPECT_FALSE(Period::Parse(bad).ok()) << bad;
  }
  EXPECT_THAT(Period::Parse("10000"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Period::Parse("0999Q1"), StatusIs(StatusCode::kOutOfRange));
}

TEST(FrequencyTest, ParseAndSeasonalPeriod) {
  EXPECT_EQ(*ParseFrequency("q"), Frequency::kQuarterly);
  EXPECT_EQ(*ParseFrequency("Monthly"), Frequency::kMonthly);
  EXPECT_THAT(ParseFrequency("hourly"), StatusIs(StatusCode::kInvalidArgument, "A, Q, M, W, D, B"));
  EXPECT_EQ(SeasonalPeriod(Frequency::kMonthly), 12);
  EXPECT_TRUE(IsLowerFrequency(Frequency::kAnnual, Frequency::kQuarterly));
  EXPECT_FALSE(IsLowerFrequency(Frequency::kDaily, Frequency::kBusiness));
}

}  // namespace
}  // namespace almanac
