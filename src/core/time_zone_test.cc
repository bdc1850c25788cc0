// Time zones from the system tz database (package tzdata) and from hand-made TZif bytes.
#include "almanac/core/time_zone.h"

#include <stdlib.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/core/clock.h"
#include "core/testing/status_matchers.h"

namespace almanac {
namespace {

using ::almanac::testing::StatusIs;
using ::testing::HasSubstr;

int64_t TzAt(const char* text) { return *ParseTimestamp(text); }
std::string TzUtc(int64_t micros) { return FormatTimestamp(micros); }

TEST(TimeZoneTest, NewYorkOffsetsAroundBothChangesOf2026) {
  ASSERT_OK_AND_ASSIGN(TimeZone ny, TimeZone::Load("America/New_York"));
  EXPECT_EQ(ny.name(), "America/New_York");
  EXPECT_EQ(ny.OffsetAt(TzAt("2026-03-08T06:59:59Z") / 1000000), -5 * 3600);
  EXPECT_EQ(ny.OffsetAt(TzAt("2026-03-08T07:00:00Z") / 1000000), -4 * 3600);
  EXPECT_EQ(ny.OffsetAt(TzAt("2026-11-01T05:59:59Z") / 1000000), -4 * 3600);
  EXPECT_EQ(ny.OffsetAt(TzAt("2026-11-01T06:00:00Z") / 1000000), -5 * 3600);
  EXPECT_EQ(ny.FormatLocal(TzAt("2026-03-09T12:30:00Z")), "2026-03-09T08:30:00-04:00 EDT");
  EXPECT_EQ(ny.FormatLocal(TzAt("2026-01-05T13:30:00Z")), "2026-01-05T08:30:00-05:00 EST");
  // Beyond the file's listed transitions the POSIX rule of its footer applies.
  EXPECT_EQ(ny.OffsetAt(TzAt("2061-07-01T00:00:00Z") / 1000000), -4 * 3600);
  EXPECT_EQ(ny.OffsetAt(TzAt("2061-12-01T00:00:00Z") / 1000000), -5 * 3600);
}

TEST(TimeZoneTest, LocalTimesInTheGapAndTheRepeatedHour) {
  ASSERT_OK_AND_ASSIGN(TimeZone ny, TimeZone::Load("America/New_York"));
  // Spring forward, 2026-03-08: 02:00..02:59 do not exist; they map to the end of the gap.
  EXPECT_EQ(TzUtc(ny.LocalToUtc(TzAt("2026-03-08T01:59:00Z"))), "2026-03-08T06:59:00.000000Z");
  EXPECT_EQ(TzUtc(ny.LocalToUtc(TzAt("2026-03-08T02:00:00Z"))), "2026-03-08T07:00:00.000000Z");
  EXPECT_EQ(TzUtc(ny.LocalToUtc(TzAt("2026-03-08T02:30:00Z"))), "2026-03-08T07:00:00.000000Z");
  EXPECT_EQ(TzUtc(ny.LocalToUtc(TzAt("2026-03-08T03:00:00Z"))), "2026-03-08T07:00:00.000000Z");
  EXPECT_EQ(TzUtc(ny.LocalToUtc(TzAt("2026-03-08T03:01:00Z"))), "2026-03-08T07:01:00.000000Z");
  // Fall back, 2026-11-01: 01:00..01:59 happen twice; the first occurrence (EDT) is meant.
  EXPECT_EQ(TzUtc(ny.LocalToUtc(TzAt("2026-11-01T01:30:00Z"))), "2026-11-01T05:30:00.000000Z");
  EXPECT_EQ(TzUtc(ny.LocalToUtc(TzAt("2026-11-01T02:00:00Z"))), "2026-11-01T07:00:00.000000Z");
  EXPECT_EQ(ny.UtcToLocal(TzAt("2026-11-01T06:30:00Z")), TzAt("2026-11-01T01:30:00Z"));  // the second 01:30
}

TEST(TimeZoneTest, BerlinChangesOnTheLastSundays) {
  ASSERT_OK_AND_ASSIGN(TimeZone be, TimeZone::Load("Europe/Berlin"));
  EXPECT_EQ(be.FormatLocal(TzAt("2026-03-29T00:59:59Z")), "2026-03-29T01:59:59+01:00 CET");
  EXPECT_EQ(be.FormatLocal(TzAt("2026-03-29T01:00:00Z")), "2026-03-29T03:00:00+02:00 CEST");
  EXPECT_EQ(TzUtc(be.LocalToUtc(TzAt("2026-03-29T02:30:00Z"))), "2026-03-29T01:00:00.000000Z");
  EXPECT_EQ(TzUtc(be.LocalToUtc(TzAt("2026-10-25T02:30:00Z"))), "2026-10-25T00:30:00.000000Z");
  EXPECT_EQ(TzUtc(be.LocalToUtc(TzAt("2026-07-01T11:00:00Z"))), "2026-07-01T09:00:00.000000Z");
}

TEST(TimeZoneTest, UtcNeedsNoFile) {
  ASSERT_OK_AND_ASSIGN(TimeZone utc, TimeZone::Load("UTC"));
  EXPECT_TRUE(utc.IsUtc());
  EXPECT_TRUE(TimeZone::Utc().IsUtc());
  EXPECT_EQ(utc.LocalToUtc(TzAt("2026-03-08T02:30:00Z")), TzAt("2026-03-08T02:30:00Z"));
  EXPECT_EQ(utc.FormatLocal(TzAt("2026-03-08T02:30:00Z")), "2026-03-08T02:30:00Z");
}

TEST(TimeZoneTest, BadNamesAreClearErrors) {
  for (const char* name : {"", "../../etc/passwd", "/etc/localtime", "America/New York", "Europe/", "a\nb"})
    EXPECT_THAT(TimeZone::Load(name), StatusIs(StatusCode::kInvalidArgument)) << name;
  auto unknown = TimeZone::Load("America/Nowhere");
  EXPECT_THAT(unknown, StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(unknown.status().message(), HasSubstr("unknown time zone 'America/Nowhere'"));
  EXPECT_THAT(TimeZone::Load("America"), StatusIs(StatusCode::kNotFound));  // a directory
}

// TZif v2 bytes with no transitions and only a footer rule: the POSIX TZ rule alone decides.
std::string TzifWithRule(const std::string& rule) {
  auto header = [](int typecnt, int charcnt) {
    std::string h = "TZif2";
    h += std::string(15, '\0');
    const int counts[6] = {0, 0, 0, 0, typecnt, charcnt};
    for (int c : counts) h += std::string{'\0', '\0', '\0', static_cast<char>(c)};
    return h;
  };
  const std::string type = std::string("\xff\xff\xb9\xb0", 4) + std::string("\0\0", 2);  // -18000 s, std, abbr 0
  const std::string chars = std::string("EST\0", 4);
  return header(1, 4) + type + chars + header(1, 4) + type + chars + "\n" + rule + "\n";
}

TEST(TimeZoneTest, FooterRulesAloneFollowThePosixRule) {
  ASSERT_OK_AND_ASSIGN(TimeZone z, TimeZone::FromTzif("Test/Rule", TzifWithRule("EST5EDT,M3.2.0,M11.1.0")));
  EXPECT_EQ(z.FormatLocal(TzAt("2026-03-08T06:59:59Z")), "2026-03-08T01:59:59-05:00 EST");
  EXPECT_EQ(z.FormatLocal(TzAt("2026-03-08T07:00:00Z")), "2026-03-08T03:00:00-04:00 EDT");
  EXPECT_EQ(z.FormatLocal(TzAt("2026-11-01T05:59:59Z")), "2026-11-01T01:59:59-04:00 EDT");
  EXPECT_EQ(z.FormatLocal(TzAt("2026-11-01T06:00:00Z")), "2026-11-01T01:00:00-05:00 EST");
  // Southern hemisphere (DST over the new year) and angle-bracket names with an explicit time.
  ASSERT_OK_AND_ASSIGN(TimeZone s, TimeZone::FromTzif("Test/South", TzifWithRule("<-03>3<-02>,M10.1.0/0,M3.4.0/0")));
  EXPECT_EQ(s.OffsetAt(TzAt("2026-01-15T00:00:00Z") / 1000000), -2 * 3600);
  EXPECT_EQ(s.OffsetAt(TzAt("2026-06-15T00:00:00Z") / 1000000), -3 * 3600);
  ASSERT_OK_AND_ASSIGN(TimeZone fixed, TimeZone::FromTzif("Test/Fixed", TzifWithRule("<+0530>-5:30")));
  EXPECT_EQ(fixed.FormatLocal(TzAt("2026-01-01T00:00:00Z")), "2026-01-01T05:30:00+05:30");  // a numeric abbreviation is not repeated
}

TEST(TimeZoneTest, AMissingDatabaseSaysToInstallTzdata) {
  ::setenv("TZDIR", "/nonexistent/zoneinfo", 1);
  auto z = TimeZone::Load("Europe/Berlin");
  auto utc = TimeZone::Load("UTC");  // needs no file
  ::unsetenv("TZDIR");
  EXPECT_THAT(z, StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(z.status().message(), HasSubstr("install the tzdata package"));
  EXPECT_TRUE(utc.ok());
}

TEST(TimeZoneTest, LeapSecondZonesAreRefused) {
  // A v2 file counting one leap second (as the right/ zones do).
  auto header = [](int leapcnt) {
    std::string h = "TZif2";
    h += std::string(15, '\0');
    const int counts[6] = {0, 0, leapcnt, 0, 1, 4};
    for (int c : counts) h += std::string{'\0', '\0', '\0', static_cast<char>(c)};
    return h;
  };
  const std::string type = std::string(6, '\0') + std::string("UTC\0", 4);
  const std::string bytes = header(1) + type + std::string(8, '\0') + header(1) + type + std::string(12, '\0') + "\nUTC0\n";
  EXPECT_THAT(TimeZone::FromTzif("right/UTC", bytes), StatusIs(StatusCode::kUnimplemented, "leap seconds"));
}

TEST(TimeZoneTest, MalformedTzifIsDataLoss) {
  EXPECT_THAT(TimeZone::FromTzif("X", "not a tz file at all, definitely not"), StatusIs(StatusCode::kDataLoss));
  const std::string good = TzifWithRule("EST5EDT,M3.2.0,M11.1.0");
  EXPECT_THAT(TimeZone::FromTzif("X", good.substr(0, 60)), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(TimeZone::FromTzif("X", TzifWithRule("EST5EDT,M13.2.0,M11.1.0")), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(TimeZone::FromTzif("X", TzifWithRule("5EST")), StatusIs(StatusCode::kDataLoss));
}

}  // namespace
}  // namespace almanac
