#include "store/testing/series_store_conformance.h"

#include <cmath>

#include <gmock/gmock.h>

#include "core/testing/status_matchers.h"

namespace almanac::store::testing {

using ::almanac::testing::IsOk;
using ::almanac::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::SizeIs;

void SeriesStoreConformance::SetUp() {
  if (GetParam().unavailable) {
    if (std::string why = GetParam().unavailable(); !why.empty()) {
      const char* req = std::getenv("ALMANAC_REQUIRE_POSTGRES");
      if (req != nullptr && std::string(req) == "1") FAIL() << GetParam().name << " is required: " << why;
      GTEST_SKIP() << GetParam().name << " back-end not available here: " << why;
    }
  }
  auto s = GetParam().open(&clock_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  store_ = std::move(*s);
}

namespace {
std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}
}  // namespace

Result<LoadReport> SeriesStoreConformance::Load(const std::vector<std::string>& rows, std::optional<Date> default_rt) {
  LoadOptions opts;
  opts.loader = "test";
  opts.source = "conformance";
  opts.default_realtime_start = default_rt;
  ALMANAC_ASSIGN_OR_RETURN(auto session, store_->series().BeginLoad(opts));
  for (const auto& r : rows) {
    auto f = Split(r, ',');
    ALMANAC_ASSIGN_OR_RETURN(Period p, Period::Parse(f[1]));
    std::optional<double> v;
    if (f[2] != ".") v = std::stod(f[2]);
    std::optional<Date> rt;
    if (f.size() > 3) {
      ALMANAC_ASSIGN_OR_RETURN(rt, Date::Parse(f[3]));
    }
    ALMANAC_RETURN_IF_ERROR(session->Add(f[0], p, v, rt));
  }
  return session->Commit();
}

std::string SeriesStoreConformance::AsOf(const std::string& key, std::optional<std::string> as_of) {
  std::optional<Date> d;
  if (as_of) d = *Date::Parse(*as_of);
  auto ts = store_->series().ReadAsOf(key, d);
  if (!ts.ok()) return ts.status().ToString();
  std::string out;
  for (int64_t i = 0; i < ts->size(); ++i) {
    if (!out.empty()) out += " ";
    auto v = ts->at(i);
    out += ts->PeriodAt(i).ToString() + "=" + (v ? FormatDouble(*v) : ".");
  }
  return out;
}

TEST_P(SeriesStoreConformance, FirstLoadCreatesOneVintagePerSeries) {
  ASSERT_OK_AND_ASSIGN(LoadReport r, Load({"us:gdp,2024Q1,1", "us:gdp,2024Q2,2", "us:cpi,2024-01,100"}));
  EXPECT_EQ(r.rows_read, 3);
  EXPECT_EQ(r.series_created, 2);
  EXPECT_EQ(r.vintages_created, 2);
  EXPECT_EQ(r.observations_written, 3);
  EXPECT_EQ(AsOf("us:gdp", std::nullopt), "2024Q1=1 2024Q2=2");
  ASSERT_OK_AND_ASSIGN(auto vs, store_->series().ListVintages("us:gdp"));
  ASSERT_THAT(vs, SizeIs(1));
  EXPECT_EQ(vs[0].realtime_start.ToString(), "2024-05-01");  // the clock's today
  EXPECT_EQ(vs[0].loader, "test");
  EXPECT_EQ(vs[0].num_observations, 2);
  ASSERT_OK_AND_ASSIGN(auto info, store_->series().GetSeries("us:cpi"));
  EXPECT_EQ(info.frequency, Frequency::kMonthly);
}

// -0.0 is stored as 0 on every back-end (PostgreSQL keeps the sign, SQLite does not), so reads,
// digests and snapshot ids agree.
TEST_P(SeriesStoreConformance, NegativeZeroIsStoredAsZero) {
  ASSERT_OK(Load({"x:z,2024Q1,-0", "x:z,2024Q2,-0.0", "x:z,2024Q3,1"}));
  ASSERT_OK_AND_ASSIGN(TimeSeries ts, store_->series().ReadAsOf("x:z", std::nullopt));
  ASSERT_EQ(ts.size(), 3);
  for (int64_t i = 0; i < 2; ++i) {
    ASSERT_TRUE(ts.at(i).has_value());
    EXPECT_EQ(*ts.at(i), 0.0);
    EXPECT_FALSE(std::signbit(*ts.at(i))) << i;
  }
  clock_.Advance(86400000000LL);
  ASSERT_OK_AND_ASSIGN(LoadReport again, Load({"x:z,2024Q1,0", "x:z,2024Q2,0", "x:z,2024Q3,1"}));
  EXPECT_EQ(again.vintages_created, 0);
}

TEST_P(SeriesStoreConformance, IdenticalReloadCreatesNothing) {
  ASSERT_OK(Load({"us:gdp,2024Q1,1", "us:gdp,2024Q2,2"}));
  clock_.Advance(86400000000LL);
  ASSERT_OK_AND_ASSIGN(LoadReport r, Load({"us:gdp,2024Q1,1", "us:gdp,2024Q2,2"}));
  EXPECT_EQ(r.vintages_created, 0);
  EXPECT_EQ(r.observations_written, 0);
  EXPECT_EQ(r.series_unchanged, 1);
  ASSERT_OK_AND_ASSIGN(auto vs, store_->series().ListVintages("us:gdp"));
  EXPECT_THAT(vs, SizeIs(1));
}

// Unchanged re-loads are recognised from the stored digest of the latest view without reading
// the stored rows; these are the cases where that shortcut must NOT apply, or must agree with
// the full planning.
TEST_P(SeriesStoreConformance, UnchangedReloadShortcutAgreesWithFullPlanning) {
  const Date may = *Date::Parse("2024-05-01");
  ASSERT_OK(Load({"us:gdp,2024Q1,1", "us:gdp,2024Q2,2", "us:gdp,2024Q3,."}, may));
  // Identical, later date: nothing (the shortcut).
  ASSERT_OK_AND_ASSIGN(LoadReport r, Load({"us:gdp,2024Q3,.", "us:gdp,2024Q1,1", "us:gdp,2024Q2,2"},
                                          *Date::Parse("2024-06-01")));
  EXPECT_EQ(r.vintages_created, 0);
  EXPECT_EQ(r.series_unchanged, 1);
  // Identical values but dated before every stored vintage: a back-fill, which does create a
  // vintage (what was known on 2024-03-01), so it must not be skipped.
  ASSERT_OK_AND_ASSIGN(r, Load({"us:gdp,2024Q1,1", "us:gdp,2024Q2,2", "us:gdp,2024Q3,."}, *Date::Parse("2024-03-01")));
  EXPECT_EQ(r.vintages_created, 1);
  EXPECT_EQ(AsOf("us:gdp", "2024-03-15"), "2024Q1=1 2024Q2=2");  // trailing missing values are not shown
  // A subset of the periods, unchanged: full path, nothing written.
  ASSERT_OK_AND_ASSIGN(r, Load({"us:gdp,2024Q1,1"}, *Date::Parse("2024-07-01")));
  EXPECT_EQ(r.vintages_created, 0);
  // One value revised (missing -> number): one vintage with one row; then identical again.
  ASSERT_OK_AND_ASSIGN(r, Load({"us:gdp,2024Q1,1", "us:gdp,2024Q2,2", "us:gdp,2024Q3,3"}, *Date::Parse("2024-08-01")));
  EXPECT_EQ(r.vintages_created, 1);
  EXPECT_EQ(r.observations_written, 1);
  ASSERT_OK_AND_ASSIGN(r, Load({"us:gdp,2024Q1,1", "us:gdp,2024Q2,2", "us:gdp,2024Q3,3"}, *Date::Parse("2024-09-01")));
  EXPECT_EQ(r.vintages_created, 0);
  // The same values as the latest view but one period fewer and one more: a vintage.
  ASSERT_OK_AND_ASSIGN(r, Load({"us:gdp,2024Q1,1", "us:gdp,2024Q2,2", "us:gdp,2024Q4,3"}, *Date::Parse("2024-10-01")));
  EXPECT_EQ(r.vintages_created, 1);
  EXPECT_EQ(r.observations_written, 1);
  // Identical rows under two realtime_starts in one load: full path, nothing new.
  ASSERT_OK_AND_ASSIGN(r, Load({"us:gdp,2024Q1,1,2024-11-01", "us:gdp,2024Q1,1,2024-12-01"}));
  EXPECT_EQ(r.vintages_created, 0);
  EXPECT_EQ(AsOf("us:gdp", std::nullopt), "2024Q1=1 2024Q2=2 2024Q3=3 2024Q4=3");
  EXPECT_EQ(AsOf("us:gdp", "2024-07-15"), "2024Q1=1 2024Q2=2");
  ASSERT_OK_AND_ASSIGN(auto vs, store_->series().ListVintages("us:gdp"));
  EXPECT_THAT(vs, SizeIs(4));
}

// Many vintages revising every period (on SQLite this takes the skip-scan read plan): as-of
// reads at, between and before vintage dates, with missing values and late-starting periods.
// (50 stored rows for 3 periods: at least 16 per period, the skip-scan threshold.)
TEST_P(SeriesStoreConformance, AsOfOverManyFullRevisions) {
  for (int v = 0; v < 20; ++v) {
    std::vector<std::string> rows;
    const std::string rt = Date::FromDays(Date::Parse("2024-01-01")->days() + 10 * v).ToString();
    rows.push_back("us:x,2024Q1," + std::to_string(100 + v) + "," + rt);
    rows.push_back("us:x,2024Q2," + std::string(v % 3 == 0 ? "." : std::to_string(200 + v)) + "," + rt);
    if (v >= 10) rows.push_back("us:x,2024Q3," + std::to_string(300 + v) + "," + rt);
    ASSERT_OK(Load(rows));
  }
  EXPECT_EQ(AsOf("us:x", "2023-12-31"), "");
  EXPECT_EQ(AsOf("us:x", "2024-01-01"), "2024Q1=100");  // Q2 missing, trailing: not shown
  EXPECT_EQ(AsOf("us:x", "2024-01-15"), "2024Q1=101 2024Q2=201");
  EXPECT_EQ(AsOf("us:x", "2024-02-01"), "2024Q1=103");
  EXPECT_EQ(AsOf("us:x", "2024-04-10"), "2024Q1=110 2024Q2=210 2024Q3=310");
  EXPECT_EQ(AsOf("us:x", "2024-04-20"), "2024Q1=111 2024Q2=211 2024Q3=311");
  EXPECT_EQ(AsOf("us:x", "2024-05-01"), "2024Q1=112 2024Q2=. 2024Q3=312");
  EXPECT_EQ(AsOf("us:x", std::nullopt), "2024Q1=119 2024Q2=219 2024Q3=319");
}

// A change in one of many series is still found when the others are unchanged.
TEST_P(SeriesStoreConformance, ShortcutKeepsRevisionsOfOtherSeries) {
  ASSERT_OK(Load({"a:x,2024,1", "a:y,2024,1", "a:z,2024,1"}, *Date::Parse("2024-05-01")));
  ASSERT_OK_AND_ASSIGN(LoadReport r, Load({"a:x,2024,1", "a:y,2024,1.5", "a:z,2024,1"}, *Date::Parse("2024-06-01")));
  EXPECT_EQ(r.vintages_created, 1);
  EXPECT_EQ(r.series_unchanged, 2);
  EXPECT_EQ(AsOf("a:y", std::nullopt), "2024=1.5");
}

TEST_P(SeriesStoreConformance, RevisionStoresOnlyChangesAndAsOfReadsHistory) {
  ASSERT_OK(Load({"us:gdp,2024Q1,1", "us:gdp,2024Q2,2"}, *Date::Parse("2024-05-01")));
  ASSERT_OK_AND_ASSIGN(LoadReport r, Load({"us:gdp,2024Q1,1", "us:gdp,2024Q2,2.5", "us:gdp,2024Q3,3"},
                                          *Date::Parse("2024-08-01")));
  EXPECT_EQ(r.vintages_created, 1);
  EXPECT_EQ(r.observations_written, 2);  // Q2 revised, Q3 new; Q1 unchanged
  EXPECT_EQ(AsOf("us:gdp", "2024-04-30"), "");
  EXPECT_EQ(AsOf("us:gdp", "2024-05-01"), "2024Q1=1 2024Q2=2");
  EXPECT_EQ(AsOf("us:gdp", "2024-07-31"), "2024Q1=1 2024Q2=2");
  EXPECT_EQ(AsOf("us:gdp", "2024-08-01"), "2024Q1=1 2024Q2=2.5 2024Q3=3");
  EXPECT_EQ(AsOf("us:gdp", std::nullopt), "2024Q1=1 2024Q2=2.5 2024Q3=3");
  ASSERT_OK_AND_ASSIGN(auto hist, store_->series().RevisionHistory("us:gdp", *Period::Parse("2024Q2")));
  ASSERT_THAT(hist, SizeIs(2));
  EXPECT_EQ(*hist[0].value, 2);
  EXPECT_EQ(hist[0].realtime_start.ToString(), "2024-05-01");
  EXPECT_EQ(*hist[1].value, 2.5);
  EXPECT_EQ(hist[1].realtime_start.ToString(), "2024-08-01");
}

TEST_P(SeriesStoreConformance, ExplicitMissingValuesAreStoredAndRevisable) {
  ASSERT_OK(Load({"x:a,2024-01,1", "x:a,2024-02,.", "x:a,2024-03,3"}, *Date::Parse("2024-04-01")));
  EXPECT_EQ(AsOf("x:a", std::nullopt), "2024-01=1 2024-02=. 2024-03=3");
  ASSERT_OK_AND_ASSIGN(LoadReport same, Load({"x:a,2024-02,."}, *Date::Parse("2024-05-01")));
  EXPECT_EQ(same.vintages_created, 0);
  ASSERT_OK_AND_ASSIGN(LoadReport filled, Load({"x:a,2024-02,2"}, *Date::Parse("2024-06-01")));
  EXPECT_EQ(filled.observations_written, 1);
  EXPECT_EQ(AsOf("x:a", "2024-05-15"), "2024-01=1 2024-02=. 2024-03=3");
  EXPECT_EQ(AsOf("x:a", std::nullopt), "2024-01=1 2024-02=2 2024-03=3");
}

TEST_P(SeriesStoreConformance, SeveralVintagesInOneLoad) {
  ASSERT_OK_AND_ASSIGN(LoadReport r, Load({"f:gdp,2020Q1,10,2020-04-30", "f:gdp,2020Q1,11,2020-05-28",
                                           "f:gdp,2020Q2,20,2020-07-30", "f:gdp,2020Q1,11,2020-07-30"}));
  // 2020-07-30 repeats Q1 = 11 (unchanged), so its vintage holds Q2 only.
  EXPECT_EQ(r.vintages_created, 3);
  EXPECT_EQ(r.observations_written, 3);
  EXPECT_EQ(AsOf("f:gdp", "2020-05-01"), "2020Q1=10");
  EXPECT_EQ(AsOf("f:gdp", "2020-06-01"), "2020Q1=11");
  EXPECT_EQ(AsOf("f:gdp", "2020-08-01"), "2020Q1=11 2020Q2=20");
}

TEST_P(SeriesStoreConformance, InterleavedRowsGiveTheSameVintagesAsGrouped) {
  ASSERT_OK_AND_ASSIGN(LoadReport r, Load({"a:x,2024Q1,1", "b:y,2024Q1,5", "a:x,2024Q2,2", "b:y,2024Q2,6"}));
  EXPECT_EQ(r.vintages_created, 2);
  EXPECT_EQ(AsOf("a:x", std::nullopt), "2024Q1=1 2024Q2=2");
  EXPECT_EQ(AsOf("b:y", std::nullopt), "2024Q1=5 2024Q2=6");
  ASSERT_OK_AND_ASSIGN(auto vs, store_->series().ListVintages("a:x"));
  ASSERT_THAT(vs, SizeIs(1));
  EXPECT_EQ(vs[0].num_observations, 2);
}

TEST_P(SeriesStoreConformance, BackfillDoesNotChangeWhatLaterVintagesKnew) {
  // A June load is stored first; then an older (March) vintage is back-filled with a
  // different value. A read as of June must still show June's value.
  ASSERT_OK(Load({"f:u,2020-01,5.0,2020-06-05"}));
  ASSERT_OK_AND_ASSIGN(LoadReport r, Load({"f:u,2020-01,4.8,2020-03-06"}));
  EXPECT_EQ(AsOf("f:u", "2020-04-01"), "2020-01=4.8");
  EXPECT_EQ(AsOf("f:u", "2020-06-05"), "2020-01=5");
  EXPECT_EQ(AsOf("f:u", std::nullopt), "2020-01=5");
  // June's row stores 2020-01 itself, so no restatement is needed.
  EXPECT_EQ(r.vintages_created, 1);
}

TEST_P(SeriesStoreConformance, BackfillRestatesValuesLaterVintagesOnlyInherited) {
  // January knows 2019-12 = 1.0; June revises another period only (2019-11), so June
  // inherits 1.0 for 2019-12. Back-filling March with 2019-12 = 0.9 must not change what a
  // June reader sees: the store restates 1.0 at June.
  ASSERT_OK(Load({"f:u,2019-11,7,2020-01-10", "f:u,2019-12,1.0,2020-01-10"}));
  ASSERT_OK(Load({"f:u,2019-11,7.5,2020-06-05"}));
  ASSERT_OK_AND_ASSIGN(LoadReport r, Load({"f:u,2019-12,0.9,2020-03-06"}));
  EXPECT_EQ(r.vintages_created, 2);  // the March vintage and a restatement at June
  EXPECT_EQ(AsOf("f:u", "2020-02-01"), "2019-11=7 2019-12=1");
  EXPECT_EQ(AsOf("f:u", "2020-04-01"), "2019-11=7 2019-12=0.9");
  EXPECT_EQ(AsOf("f:u", "2020-07-01"), "2019-11=7.5 2019-12=1");
  ASSERT_OK_AND_ASSIGN(auto vs, store_->series().ListVintages("f:u"));
  ASSERT_THAT(vs, SizeIs(4));
  EXPECT_EQ(vs.back().kind, "restate");
  EXPECT_EQ(vs.back().realtime_start.ToString(), "2020-06-05");
}

TEST_P(SeriesStoreConformance, DuplicateRowFailsAndStoresNothing) {
  ASSERT_OK(Load({"us:gdp,2024Q1,1"}, *Date::Parse("2024-05-01")));
  auto r = Load({"us:gdp,2024Q2,2", "us:new,2024Q1,1", "us:gdp,2024Q2,3"}, *Date::Parse("2024-06-01"));
  EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument, "duplicate observation: series us:gdp period 2024Q2"));
  EXPECT_EQ(AsOf("us:gdp", std::nullopt), "2024Q1=1");
  EXPECT_THAT(store_->series().GetSeries("us:new"), StatusIs(StatusCode::kNotFound));
}

TEST_P(SeriesStoreConformance, DuplicateAcrossNonContiguousChunksIsCaught) {
  auto r = Load({"a:x,2024Q1,1", "b:y,2024Q1,5", "a:x,2024Q1,1"});
  EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument, "duplicate observation"));
}

TEST_P(SeriesStoreConformance, FrequencyMismatchFailsAndStoresNothing) {
  ASSERT_OK(Load({"us:gdp,2024Q1,1"}));
  auto r = Load({"us:gdp,2024-05,2"});
  EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument, "does not fit series us:gdp"));
  EXPECT_EQ(AsOf("us:gdp", std::nullopt), "2024Q1=1");
}

TEST_P(SeriesStoreConformance, BadKeysAreRejected) {
  for (const char* key : {"a'; DROP TABLE series; --", "../etc/passwd", "a/b", "", "a b", "a..b", "x\\y"}) {
    LoadOptions opts;
    ASSERT_OK_AND_ASSIGN(auto session, store_->series().BeginLoad(opts));
    EXPECT_THAT(session->Add(key, *Period::Parse("2024"), 1.0, std::nullopt), StatusIs(StatusCode::kInvalidArgument))
        << key;
    EXPECT_THAT(session->Commit(), StatusIs(StatusCode::kInvalidArgument));
  }
  ASSERT_OK_AND_ASSIGN(auto all, store_->series().ListSeries());
  EXPECT_TRUE(all.empty());
}

TEST_P(SeriesStoreConformance, MetadataWithQuotesBackslashesAndLongStringsRoundTrips) {
  SeriesInfo info;
  info.key = "weird:Key.1-x_y";
  info.frequency = Frequency::kQuarterly;
  info.title = "O'Brien \"index\" \\ '); DROP TABLE series; -- \t\n" + std::string(100000, 'x');
  info.unit = "%\\N\\.";
  info.source = "https://example.test/?a=1&b='2'";
  {
    ASSERT_OK_AND_ASSIGN(auto session, store_->series().BeginLoad({}));
    ASSERT_OK(session->DeclareSeries(info));
    ASSERT_OK(session->Add(info.key, *Period::Parse("2024Q1"), 1.5, std::nullopt));
    ASSERT_OK(session->Commit().status());
  }
  ASSERT_OK_AND_ASSIGN(SeriesInfo back, store_->series().GetSeries(info.key));
  EXPECT_EQ(back.title, info.title);
  EXPECT_EQ(back.unit, info.unit);
  EXPECT_EQ(back.source, info.source);
  EXPECT_EQ(AsOf(info.key, std::nullopt), "2024Q1=1.5");
}

TEST_P(SeriesStoreConformance, NulBytesInMetadataAreRejectedAndStoreNothing) {
  SeriesInfo info;
  info.key = "nul";
  info.frequency = Frequency::kAnnual;
  info.title = std::string("before\0after", 12);
  ASSERT_OK_AND_ASSIGN(auto session, store_->series().BeginLoad({}));
  EXPECT_THAT(session->DeclareSeries(info), StatusIs(StatusCode::kInvalidArgument, "NUL byte"));
  EXPECT_THAT(session->Commit(), StatusIs(StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(auto all, store_->series().ListSeries());
  EXPECT_TRUE(all.empty());
}

TEST_P(SeriesStoreConformance, AbandonedLoadLeavesNothing) {
  {
    ASSERT_OK_AND_ASSIGN(auto session, store_->series().BeginLoad(LoadOptions{}));
    ASSERT_OK(session->Add("us:gdp", *Period::Parse("2024Q1"), 1.0, std::nullopt));
  }  // destroyed without Commit
  EXPECT_THAT(store_->series().GetSeries("us:gdp"), StatusIs(StatusCode::kNotFound));
  ASSERT_OK(Load({"us:gdp,2024Q1,2"}));
  EXPECT_EQ(AsOf("us:gdp", std::nullopt), "2024Q1=2");
}

TEST_P(SeriesStoreConformance, DeclaredMetadataIsKeptAndFrequencyConflictsRejected) {
  {
    ASSERT_OK_AND_ASSIGN(auto session, store_->series().BeginLoad(LoadOptions{}));
    SeriesInfo info{"fred:GDPC1", Frequency::kQuarterly, "Real GDP", "Bil. of Chn. 2017 $", "SAAR", "BEA"};
    ASSERT_OK(session->DeclareSeries(info));
    ASSERT_OK(session->Add("fred:GDPC1", *Period::Parse("2024Q1"), 1.0, std::nullopt));
    ASSERT_OK(session->Commit());
  }
  ASSERT_OK_AND_ASSIGN(SeriesInfo got, store_->series().GetSeries("fred:GDPC1"));
  EXPECT_EQ(got.title, "Real GDP");
  EXPECT_EQ(got.seasonal_adjustment, "SAAR");
  ASSERT_OK_AND_ASSIGN(auto session, store_->series().BeginLoad(LoadOptions{}));
  EXPECT_THAT(session->DeclareSeries({"fred:GDPC1", Frequency::kMonthly}),
              StatusIs(StatusCode::kFailedPrecondition, "frequency"));
}

TEST_P(SeriesStoreConformance, UnknownSeriesReadsAreNotFound) {
  EXPECT_THAT(store_->series().ReadAsOf("no:such", std::nullopt), StatusIs(StatusCode::kNotFound, "no:such"));
  EXPECT_THAT(store_->series().ListVintages("no:such"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->series().GetSeries("x'; --"), StatusIs(StatusCode::kNotFound));
}

TEST_P(SeriesStoreConformance, SnapshotIdIsTheContentHash) {
  ASSERT_OK(Load({"us:gdp,2024Q1,1", "us:gdp,2024Q2,2", "us:cpi,2024-01,100"}, *Date::Parse("2024-05-01")));
  ASSERT_OK(Load({"us:gdp,2024Q2,2.5"}, *Date::Parse("2024-08-01")));
  ASSERT_OK_AND_ASSIGN(SnapshotInfo a, store_->series().CreateSnapshot({"before", {"us:gdp"}, *Date::Parse("2024-06-01"), "alice"}));
  ASSERT_OK_AND_ASSIGN(SnapshotInfo b, store_->series().CreateSnapshot({"after", {"us:gdp"}, std::nullopt, "alice"}));
  ASSERT_OK_AND_ASSIGN(SnapshotInfo c, store_->series().CreateSnapshot({"before-again", {"us:gdp"}, *Date::Parse("2024-07-01"), "bob"}));
  EXPECT_TRUE(IsSha256Hex(a.id));
  EXPECT_NE(a.id, b.id);
  EXPECT_EQ(a.id, c.id);  // same data, another name and date
  // The id is the hash of the canonical content, identical on every back-end.
  std::vector<SnapshotSeries> expected;
  TimeSeries ts(*Period::Parse("2024Q1"));
  ASSERT_OK(ts.Append(1));
  ASSERT_OK(ts.Append(2));
  expected.push_back({"us:gdp", ts});
  ASSERT_OK_AND_ASSIGN(std::string id, SnapshotContentId(expected));
  EXPECT_EQ(a.id, id);
  ASSERT_OK_AND_ASSIGN(Snapshot got, store_->series().GetSnapshot("before"));
  EXPECT_EQ(got.info.as_of->ToString(), "2024-06-01");
  ASSERT_THAT(got.series, SizeIs(1));
  EXPECT_EQ(*got.series[0].values.at(1), 2);
  ASSERT_OK_AND_ASSIGN(Snapshot by_prefix, store_->series().GetSnapshot(b.id.substr(0, 10)));
  EXPECT_EQ(by_prefix.info.name, "after");
  EXPECT_THAT(store_->series().CreateSnapshot({"after", {"us:gdp"}, std::nullopt, "x"}),
              StatusIs(StatusCode::kAlreadyExists, "already exists"));
  EXPECT_THAT(store_->series().CreateSnapshot({"bad/name", {"us:gdp"}, std::nullopt, "x"}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store_->series().CreateSnapshot({"nope", {"no:such"}, std::nullopt, "x"}), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->series().GetSnapshot("zzzzzzzz"), StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(auto list, store_->series().ListSnapshots());
  EXPECT_THAT(list, SizeIs(3));
}

TEST_P(SeriesStoreConformance, SnapshotOfAllSeries) {
  ASSERT_OK(Load({"b:y,2024,1", "a:x,2024,2"}));
  ASSERT_OK_AND_ASSIGN(SnapshotInfo s, store_->series().CreateSnapshot({"all", {}, std::nullopt, "t"}));
  EXPECT_EQ(s.num_series, 2);
  EXPECT_EQ(s.num_observations, 2);
  ASSERT_OK_AND_ASSIGN(Snapshot got, store_->series().GetSnapshot(s.id));
  EXPECT_EQ(got.series[0].key, "a:x");
}

}  // namespace almanac::store::testing
