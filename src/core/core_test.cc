#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>

#include "almanac/core.h"
#include "almanac/core/json.h"
#include "core/testing/status_matchers.h"

namespace almanac {
namespace {

using ::almanac::testing::IsOk;
using ::almanac::testing::StatusIs;

Result<int> Half(int x) {
  if (x % 2) return InvalidArgumentError("odd: " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  ALMANAC_ASSIGN_OR_RETURN(int h, Half(x));
  ALMANAC_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int x) {
  ALMANAC_RETURN_IF_ERROR_CTX(Half(x), "checking " + std::to_string(x));
  return Status::Ok();
}

TEST(StatusTest, MacrosPropagateAndAddContext) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_THAT(Quarter(6), StatusIs(StatusCode::kInvalidArgument, "odd: 3"));
  EXPECT_THAT(CheckEven(3), StatusIs(StatusCode::kInvalidArgument, "checking 3: odd: 3"));
  EXPECT_EQ(NotFoundError("x").ToString(), "NOT_FOUND: x");
  EXPECT_TRUE(Status().ok());
  Result<int> bad{Status()};
  EXPECT_THAT(bad, StatusIs(StatusCode::kInternal));
}

TEST(TimeSeriesTest, MissingValuesAreExplicit) {
  TimeSeries ts(*Period::Parse("2024Q1"));
  ASSERT_OK(ts.Append(1.0));
  ts.AppendMissing();
  ASSERT_OK(ts.Append(3.0));
  EXPECT_THAT(ts.Append(std::nan("")), StatusIs(StatusCode::kInvalidArgument, "not finite"));
  EXPECT_THAT(ts.Append(INFINITY), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(ts.size(), 3);
  EXPECT_TRUE(ts.missing(1));
  EXPECT_FALSE(ts.at(1).has_value());
  EXPECT_EQ(*ts.at(*Period::Parse("2024Q3")), 3.0);
  EXPECT_FALSE(ts.at(*Period::Parse("2025Q1")).has_value());
  EXPECT_EQ(ts.CountMissing(), 1);
  EXPECT_EQ(ts.end().ToString(), "2024Q3");
}

TEST(TimeSeriesTest, SetGrowsBothWaysAndTrimSlice) {
  TimeSeries ts;
  ASSERT_OK(ts.Set(*Period::Parse("2024-03"), 3.0));
  ASSERT_OK(ts.Set(*Period::Parse("2024-01"), 1.0));
  ASSERT_OK(ts.Set(*Period::Parse("2024-05"), std::nullopt));
  EXPECT_EQ(ts.start().ToString(), "2024-01");
  EXPECT_EQ(ts.size(), 5);
  TimeSeries t = ts.Trimmed();
  EXPECT_EQ(t.size(), 3);
  TimeSeries s = ts.Slice(*Period::Parse("2024-02"), *Period::Parse("2024-03"));
  EXPECT_EQ(s.size(), 2);
  EXPECT_EQ(*s.at(1), 3.0);
  EXPECT_THAT(ts.Set(*Period::Parse("2024Q1"), 1.0), StatusIs(StatusCode::kInvalidArgument));
}

TEST(TimeSeriesTest, Align) {
  auto a = *TimeSeries::FromValues(*Period::Parse("2020Q1"), {1, 2, 3, 4});
  auto b = *TimeSeries::FromValues(*Period::Parse("2020Q3"), {1, 2, 3, 4});
  ASSERT_OK_AND_ASSIGN(PeriodRange r, Align(a, b));
  EXPECT_EQ(r.first.ToString(), "2020Q3");
  EXPECT_EQ(r.last.ToString(), "2020Q4");
  auto m = *TimeSeries::FromValues(*Period::Parse("2020-01"), {1});
  EXPECT_THAT(Align(a, m), StatusIs(StatusCode::kFailedPrecondition));
}

TEST(HashTest, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 h;
  h.Update("a");
  h.Update("bc");
  EXPECT_EQ(h.HexDigest(), Sha256Hex("abc"));
  EXPECT_TRUE(IsSha256Hex(Sha256Hex("x")));
  EXPECT_FALSE(IsSha256Hex("ABC"));
}

TEST(CanonicalJsonTest, SortedKeysNoSpacesShortestNumbers) {
  Json j = {{"b", 0.1}, {"a", {1, 2.5, nullptr}}, {"c", "é\n"}, {"d", 1e20}, {"e", 3.0}};
  ASSERT_OK_AND_ASSIGN(std::string s, CanonicalJson(j));
  EXPECT_EQ(s, "{\"a\":[1,2.5,null],\"b\":0.1,\"c\":\"é\\n\",\"d\":1e+20,\"e\":3.0}");
  ASSERT_OK_AND_ASSIGN(std::string id, ContentId(j));
  EXPECT_EQ(id, Sha256Hex(s));
  // Parsing and re-serializing gives the same bytes.
  ASSERT_OK_AND_ASSIGN(Json back, ParseJson(s));
  EXPECT_EQ(*CanonicalJson(back), s);
}

TEST(CanonicalJsonTest, RejectsNonFiniteAndInvalidUtf8) {
  EXPECT_THAT(CanonicalJson(Json{{"x", {1.0, std::nan("")}}}), StatusIs(StatusCode::kInvalidArgument, "/x/1"));
  EXPECT_THAT(CanonicalJson(Json("bad \xff")), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseJson("{\"a\":"), StatusIs(StatusCode::kInvalidArgument, "invalid JSON"));
  // The library's "[json.exception.parse_error.101]" prefix is not shown to users.
  const Status bad = ParseJson("{\"a\": tru}").status();
  EXPECT_THAT(bad.message(), ::testing::HasSubstr("at byte"));
  EXPECT_THAT(bad.message(), ::testing::Not(::testing::HasSubstr("exception")));
}

TEST(FormatTest, JoinList) {
  EXPECT_EQ(JoinList({}), "");
  EXPECT_EQ(JoinList({"us:gdp"}), "us:gdp");
  EXPECT_EQ(JoinList({"us:gdp", "us:cpi", "us:unemp"}), "us:gdp, us:cpi, us:unemp");
  EXPECT_EQ(JoinList({"a", "b"}, " | "), "a | b");
}

TEST(FormatTest, NumbersAndKeys) {
  EXPECT_EQ(FormatDouble(0.1), "0.1");
  EXPECT_EQ(*ParseFiniteDouble(" +1.5e3 "), 1500);
  EXPECT_THAT(ParseFiniteDouble("nan"), StatusIs(StatusCode::kInvalidArgument, "not a finite number"));
  EXPECT_THAT(ParseFiniteDouble("-inf"), StatusIs(StatusCode::kInvalidArgument, "not a finite number"));
  EXPECT_THAT(ParseFiniteDouble("0x10"), StatusIs(StatusCode::kInvalidArgument, "not a number"));
  EXPECT_THAT(ParseFiniteDouble("1,5"), StatusIs(StatusCode::kInvalidArgument, "not a number"));
  EXPECT_THAT(ParseFiniteDouble(""), StatusIs(StatusCode::kInvalidArgument, "empty"));
  EXPECT_OK(ValidateSeriesKey("ecb:ICP.M.U2.N.000000.4.ANR"));
  EXPECT_OK(ValidateSeriesKey("fred:GDPC1"));
  for (const char* bad : {"", "a b", "a/b", "a\\b", "a;b", "a'b", "-x", ".x", "a..b", "x%2e"})
    EXPECT_THAT(ValidateSeriesKey(bad), StatusIs(StatusCode::kInvalidArgument)) << bad;
  EXPECT_THAT(ValidateSeriesKey(std::string(201, 'a')), StatusIs(StatusCode::kInvalidArgument, "longer than 200"));
  EXPECT_EQ(DidYouMean("valeu", {"value", "series"}), "value");
  EXPECT_EQ(DidYouMean("zzzzzz", {"value", "series"}), "");
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9"));
  EXPECT_FALSE(IsValidUtf8("caf\xe9"));
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // surrogate
  EXPECT_EQ(QuoteForMessage("a'\n"), "'a\\'\\x0a'");
}

TEST(ClockTest, TimestampsRoundTrip) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000000Z");
  ASSERT_OK_AND_ASSIGN(int64_t t, ParseTimestamp("2024-05-01T12:34:56.5Z"));
  EXPECT_EQ(FormatTimestamp(t), "2024-05-01T12:34:56.500000Z");
  // The same second again (its formatted part is reused), the next one, and before 1970.
  EXPECT_EQ(FormatTimestamp(t + 499999), "2024-05-01T12:34:56.999999Z");
  EXPECT_EQ(FormatTimestamp(t + 500000), "2024-05-01T12:34:57.000000Z");
  EXPECT_EQ(FormatTimestamp(t - 500000), "2024-05-01T12:34:56.000000Z");
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatTimestamp(-86400000000LL - 1000000), "1969-12-30T23:59:59.000000Z");
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(*ParseTimestamp("2024-05-01"), Date::Parse("2024-05-01")->days() * 86400000000LL);
  EXPECT_THAT(ParseTimestamp("2024-05-01T25:00:00Z"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(*ParseDuration("45s"), 45'000'000);
  EXPECT_EQ(*ParseDuration("2w"), 14 * 86'400'000'000LL);
  EXPECT_EQ(*ParseDuration("0s"), 0);
  for (const char* bad : {"", "s", "90", "-1d", "1.5h", "1 h", "1y", "99999999999999d"})
    EXPECT_THAT(ParseDuration(bad), StatusIs(StatusCode::kInvalidArgument)) << bad;
  FixedClock c(86400000000LL * 3 + 5);
  EXPECT_EQ(c.Today().ToString(), "1970-01-04");
}

// One as-of rule for the CLI and serve: a date, and not after today.
TEST(ClockTest, AsOfDatesAreDatesNotInTheFuture) {
  FixedClock clock(Date::Parse("2024-05-01")->days() * 86400000000LL + 3600000000LL);  // 01:00 UTC
  EXPECT_EQ(ParseAsOfDate("2024-05-01", clock)->ToString(), "2024-05-01");
  EXPECT_EQ(ParseAsOfDate("1999-12-31", clock)->ToString(), "1999-12-31");
  EXPECT_THAT(ParseAsOfDate("2024-05-02", clock),
              StatusIs(StatusCode::kInvalidArgument, "as_of 2024-05-02 is in the future (today is 2024-05-01)"));
  EXPECT_THAT(ParseAsOfDate("2024-13-01", clock, "--as-of"),
              StatusIs(StatusCode::kInvalidArgument, "--as-of '2024-13-01' is not a date (YYYY-MM-DD)"));
  for (const char* bad : {"", "2024-5-1", "20240501", "2024-02-30", "yesterday", "2024-05-01T00:00:00Z"})
    EXPECT_THAT(ParseAsOfDate(bad, clock), StatusIs(StatusCode::kInvalidArgument, "is not a date")) << bad;
}

TEST(ThreadPoolTest, EveryIndexOnceWhateverTheThreadCount) {
  for (int threads : {1, 2, 7}) {
    std::vector<std::atomic<int>> hits(1000);
    ParallelFor(hits.size(), threads, [&](size_t i) { hits[i]++; });
    for (auto& h : hits) EXPECT_EQ(h.load(), 1);
  }
  ParallelFor(0, 4, [](size_t) { FAIL(); });
}

}  // namespace
}  // namespace almanac
