#include "cli/arguments.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"

namespace almanac::cli {
namespace {

using ::almanac::testing::IsOk;
using ::almanac::testing::StatusIs;

FixedClock On(const char* date) { return FixedClock(Date::Parse(date)->days() * 86400000000LL + 1); }

TEST(ArgumentsTest, AsOfIsADateNotInTheFuture) {
  const FixedClock clock = On("2024-05-01");
  EXPECT_EQ(*ParseAsOfOption("", clock), std::nullopt);
  EXPECT_EQ(ParseAsOfOption("2024-05-01", clock)->value().ToString(), "2024-05-01");
  EXPECT_EQ(ParseAsOfOption("2009-12-20", clock)->value().ToString(), "2009-12-20");
  EXPECT_THAT(ParseAsOfOption("2009-13-01", clock),
              StatusIs(StatusCode::kInvalidArgument, "--as-of '2009-13-01' is not a date (YYYY-MM-DD)"));
  EXPECT_THAT(ParseAsOfOption("20091201", clock), StatusIs(StatusCode::kInvalidArgument, "--as-of '20091201'"));
  EXPECT_THAT(ParseAsOfOption("2024-05-02", clock),
              StatusIs(StatusCode::kInvalidArgument, "--as-of 2024-05-02 is in the future (today is 2024-05-01)"));
  // With the system clock: far in the future is refused, long ago is fine.
  EXPECT_THAT(ParseAsOfOption("2999-01-01"), StatusIs(StatusCode::kInvalidArgument, "in the future"));
  EXPECT_THAT(ParseAsOfOption("2000-01-01"), IsOk());
}

TEST(ArgumentsTest, OtherDatesMayBeInTheFuture) {
  EXPECT_EQ(*OptionalDate("", "--since"), std::nullopt);
  EXPECT_EQ(OptionalDate("2999-01-01", "--since")->value().ToString(), "2999-01-01");
  EXPECT_THAT(OptionalDate("2024-02-30", "--realtime-start"), StatusIs(StatusCode::kInvalidArgument, "--realtime-start"));
}

TEST(ArgumentsTest, OneHorizonRule) {
  EXPECT_THAT(CheckHorizon(1), IsOk());
  EXPECT_THAT(CheckHorizon(models::kMaxHorizon), IsOk());
  EXPECT_THAT(CheckHorizon(0), StatusIs(StatusCode::kInvalidArgument, "horizon must be at least 1, got 0"));
  EXPECT_THAT(CheckHorizon(-3), StatusIs(StatusCode::kInvalidArgument, "horizon must be at least 1, got -3"));
  EXPECT_THAT(CheckHorizon(models::kMaxHorizon + 1),
              StatusIs(StatusCode::kInvalidArgument, "horizon 10001 is larger than the maximum 10000"));
  EXPECT_EQ(HorizonOrDefault(0), models::kDefaultHorizon);
  EXPECT_EQ(HorizonOrDefault(0, 12), 12);
  EXPECT_EQ(HorizonOrDefault(3, 12), 3);
  EXPECT_EQ(models::kDefaultHorizon, 8);
}

TEST(ArgumentsTest, Levels) {
  EXPECT_EQ(*ParseLevelList("80, 95"), (std::vector<double>{80, 95}));
  EXPECT_EQ(*ParseLevelList(""), std::vector<double>{});
  EXPECT_THAT(ParseLevelList("80,high"), StatusIs(StatusCode::kInvalidArgument, "--level"));
  EXPECT_THAT(ParseLevelList("80,100"), StatusIs(StatusCode::kInvalidArgument, "--level: interval level 100 is not in (0, 100)"));
  EXPECT_THAT(CheckLevels({0}), StatusIs(StatusCode::kInvalidArgument, "interval level 0 is not in (0, 100)"));
  EXPECT_THAT(CheckLevels({50, 99.5}), IsOk());
}

TEST(ArgumentsTest, TransformNamesAndAliases) {
  EXPECT_EQ(*ParseTransformOption("pct"), "pct_change");
  EXPECT_EQ(*ParseTransformOption("dlog"), "log_diff");
  EXPECT_EQ(*ParseTransformOption("none"), "none");
  EXPECT_THAT(ParseTransformOption("dlg"), StatusIs(StatusCode::kInvalidArgument, "--transform: unknown transformation 'dlg'"));
}

TEST(ArgumentsTest, SplitList) {
  EXPECT_EQ(SplitList({"a, b", "c", ",,", " d "}), (std::vector<std::string>{"a", "b", "c", "d"}));
}

}  // namespace
}  // namespace almanac::cli
