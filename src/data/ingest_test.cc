#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <fstream>

#include "almanac/data.h"
#include "core/testing/status_matchers.h"

namespace almanac::data {
namespace {

using ::almanac::testing::IsOk;
using ::almanac::testing::StatusIs;
using ::testing::HasSubstr;

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::StoreOptions o;
    o.clock = &clock_;
    store_ = *store::OpenStore("memory:", o);
  }

  Result<IngestResult> Ingest(const std::string& text, IngestOptions opts = {}) {
    auto r = CsvReader::FromString(text, "in.csv");
    return IngestReader(*r, opts, store_->series());
  }

  // Everything a reader can see, as text: to check that failed loads change nothing.
  std::string Dump() {
    std::string out;
    auto list = store_->series().ListSeries();
    for (const auto& s : *list) {
      out += s.key + "|" + std::string(FrequencyCode(s.frequency)) + "|" + s.title + ":";
      auto ts = store_->series().ReadAsOf(s.key, std::nullopt);
      for (int64_t i = 0; i < ts->size(); ++i) out += " " + (ts->at(i) ? FormatDouble(*ts->at(i)) : ".");
      out += " v" + std::to_string(store_->series().ListVintages(s.key)->size()) + "\n";
    }
    return out;
  }

  std::string Values(const std::string& key, std::optional<std::string> as_of = std::nullopt) {
    auto ts = store_->series().ReadAsOf(key, as_of ? std::optional<Date>(*Date::Parse(*as_of)) : std::nullopt);
    if (!ts.ok()) return ts.status().ToString();
    std::string out;
    for (int64_t i = 0; i < ts->size(); ++i)
      out += (out.empty() ? "" : " ") + ts->PeriodAt(i).ToString() + "=" + (ts->at(i) ? FormatDouble(*ts->at(i)) : ".");
    return out;
  }

  FixedClock clock_{1714564800000000};  // 2024-05-01
  std::unique_ptr<store::Store> store_;
};

TEST_F(IngestTest, LongForm) {
  ASSERT_OK_AND_ASSIGN(auto r, Ingest("series,period,value\nus:gdp,2024Q1,1.5\nus:gdp,2024Q2,\nus:cpi,2024-01,300\n"));
  EXPECT_EQ(r.format, FileFormat::kLong);
  EXPECT_EQ(r.report.rows_read, 3);
  EXPECT_EQ(Values("us:gdp"), "2024Q1=1.5");  // trailing explicit missing is not shown
  EXPECT_EQ(Values("us:cpi"), "2024-01=300");
  EXPECT_EQ(r.source_hash, Sha256Hex("series,period,value\nus:gdp,2024Q1,1.5\nus:gdp,2024Q2,\nus:cpi,2024-01,300\n"));
}

TEST_F(IngestTest, LongFormWithRealtimeStartsBuildsVintages) {
  ASSERT_OK(Ingest("series,period,value,realtime_start\nf:g,2020Q1,1,2020-04-29\nf:g,2020Q1,1.2,2020-05-28\n"));
  EXPECT_EQ(Values("f:g", "2020-05-01"), "2020Q1=1");
  EXPECT_EQ(Values("f:g"), "2020Q1=1.2");
}

TEST_F(IngestTest, LongFormDatesUseTheDeclaredFrequency) {
  IngestOptions o;
  o.defaults.frequency = Frequency::kQuarterly;
  ASSERT_OK(Ingest("series,period,value\nx:q,2024-01-01,1\nx:q,2024-04-01,2\n", o));
  EXPECT_EQ(Values("x:q"), "2024Q1=1 2024Q2=2");
  // Without a declaration, ISO dates are daily; a stored series keeps its frequency.
  ASSERT_OK(Ingest("series,period,value\nx:q,2024-07-01,3\n"));
  EXPECT_EQ(Values("x:q"), "2024Q1=1 2024Q2=2 2024Q3=3");
}

TEST_F(IngestTest, WideFormWithGaps) {
  ASSERT_OK_AND_ASSIGN(auto r, Ingest("period,a:x,b:y\n2020Q1,1,\n2020Q2,2,5\n2020Q3,.,6\n"));
  EXPECT_EQ(r.format, FileFormat::kWide);
  EXPECT_EQ(Values("a:x"), "2020Q1=1 2020Q2=2");
  EXPECT_EQ(Values("b:y"), "2020Q2=5 2020Q3=6");
}

TEST_F(IngestTest, FredFormInfersFrequencyAndTreatsDotAsMissing) {
  ASSERT_OK_AND_ASSIGN(auto r, Ingest("observation_date,UNRATE\n2020-01-01,3.5\n2020-02-01,.\n2020-03-01,4.4\n"));
  EXPECT_EQ(r.format, FileFormat::kFred);
  EXPECT_EQ(Values("fred:UNRATE"), "2020-01=3.5 2020-02=. 2020-03=4.4");
  ASSERT_OK(Ingest("DATE,GDPC1\n2020-01-01,1\n2020-04-01,2\n"));
  EXPECT_EQ(Values("fred:GDPC1"), "2020Q1=1 2020Q2=2");
  ASSERT_OK(Ingest("DATE,X\n2018-01-01,1\n2019-01-01,2\n"));
  EXPECT_EQ(Values("fred:X"), "2018=1 2019=2");
  ASSERT_OK(Ingest("DATE,W\n2024-01-05,1\n2024-01-12,2\n"));
  EXPECT_EQ(Values("fred:W"), "2024-W01=1 2024-W02=2");
  ASSERT_OK(Ingest("DATE,B\n2024-01-04,1\n2024-01-05,2\n2024-01-08,3\n"));
  EXPECT_EQ(Values("fred:B"), "2024-01-04=1 2024-01-05=2 2024-01-08=3");
}

TEST_F(IngestTest, FredValueColumnNeedsASeriesKey) {
  EXPECT_THAT(Ingest("DATE,VALUE\n2020-01-01,1\n2020-02-01,2\n"), StatusIs(StatusCode::kInvalidArgument, "--series"));
  IngestOptions o;
  o.series_key = "my:series";
  ASSERT_OK(Ingest("DATE,VALUE\n2020-01-01,1\n2020-02-01,2\n", o));
  EXPECT_EQ(Values("my:series"), "2020-01=1 2020-02=2");
}

TEST_F(IngestTest, AlfredFormOneColumnPerVintage) {
  ASSERT_OK_AND_ASSIGN(auto r, Ingest("observation_date,GDPC1_20200130,GDPC1_20200227,GDPC1_20200326\n"
                                      "2019-07-01,100,100.5,100.5\n"
                                      "2019-10-01,101,101.2,101.3\n"));
  EXPECT_EQ(r.format, FileFormat::kAlfred);
  EXPECT_EQ(r.report.vintages_created, 3);
  EXPECT_EQ(Values("fred:GDPC1", "2020-02-01"), "2019Q3=100 2019Q4=101");
  EXPECT_EQ(Values("fred:GDPC1", "2020-03-01"), "2019Q3=100.5 2019Q4=101.2");
  EXPECT_EQ(Values("fred:GDPC1"), "2019Q3=100.5 2019Q4=101.3");
  // Re-loading the same vintages changes nothing.
  ASSERT_OK_AND_ASSIGN(auto again, Ingest("observation_date,GDPC1_20200130,GDPC1_20200227,GDPC1_20200326\n"
                                          "2019-07-01,100,100.5,100.5\n"
                                          "2019-10-01,101,101.2,101.3\n"));
  EXPECT_EQ(again.report.vintages_created, 0);
}

// ---- Issue 19: rough edges found when trying almanac as a new user.

// A long-form file of one series dated by the first day of `n` quarters from `year`.
std::string QuarterStarts(const std::string& key, int year, int n) {
  std::string out = "series,period,value\n";
  for (int i = 0; i < n; ++i) {
    const int y = year + i / 4, m = 1 + 3 * (i % 4);
    out +=
        key + "," + std::to_string(y) + (m < 10 ? "-0" : "-") + std::to_string(m) + "-01," + std::to_string(i) + "\n";
  }
  return out;
}

// 2: long form infers A/Q/M from ISO dates as the wide form does (the same function).
TEST_F(IngestTest, LongFormInfersTheFrequencyFromDates) {
  ASSERT_OK(
      Ingest("series,period,value\n"
             "x:q,2020-01-01,1\nx:q,2020-04-01,2\nx:q,2020-07-01,3\n"
             "x:m,2020-01-01,4\nx:m,2020-02-01,5\n"
             "x:a,2018-01-01,6\nx:a,2019-01-01,7\nx:a,2021-01-01,8\n"
             "x:w,2024-01-05,9\nx:w,2024-01-12,10\n"
             "x:d,2024-01-05,11\nx:d,2024-01-06,12\n"
             "x:b,2024-01-04,13\nx:b,2024-01-05,14\nx:b,2024-01-08,15\n"
             "x:q,2020-10-01,16\n"));  // a series seen again later keeps its frequency
  EXPECT_EQ(Values("x:q"), "2020Q1=1 2020Q2=2 2020Q3=3 2020Q4=16");
  EXPECT_EQ(Values("x:m"), "2020-01=4 2020-02=5");
  EXPECT_EQ(Values("x:a"), "2018=6 2019=7 2020=. 2021=8");
  EXPECT_EQ(Values("x:w"), "2024-W01=9 2024-W02=10");
  EXPECT_EQ(Values("x:d"), "2024-01-05=11 2024-01-06=12");
  EXPECT_EQ(Values("x:b"), "2024-01-04=13 2024-01-05=14 2024-01-08=15");
  EXPECT_EQ(store_->series().GetSeries("x:q")->frequency, Frequency::kQuarterly);
}

TEST_F(IngestTest, LongFormInfersFromVintageRowsInAnyOrder) {
  // Rows of several vintages, newest vintage first: the distinct dates decide.
  ASSERT_OK(
      Ingest("series,period,value,realtime_start\n"
             "f:g,2020-04-01,2.1,2020-10-29\nf:g,2020-01-01,1.1,2020-10-29\n"
             "f:g,2020-01-01,1,2020-04-29\n"));
  EXPECT_EQ(Values("f:g", "2020-05-01"), "2020Q1=1");
  EXPECT_EQ(Values("f:g"), "2020Q1=1.1 2020Q2=2.1");
}

TEST_F(IngestTest, LongFormKeepsDailyWhenTheDatesSayNothingElse) {
  // One date, or irregular days: daily, as before (declare the frequency to get more).
  ASSERT_OK(Ingest("series,period,value\nx:one,2020-01-01,1\nx:irr,2020-01-15,1\nx:irr,2020-02-20,2\n"));
  EXPECT_EQ(store_->series().GetSeries("x:one")->frequency, Frequency::kDaily);
  EXPECT_EQ(store_->series().GetSeries("x:irr")->frequency, Frequency::kDaily);
  // Over many rows of one series (past the look-ahead and the parser's batches).
  ASSERT_OK(Ingest(QuarterStarts("x:long", 1900, 400)));
  ASSERT_OK_AND_ASSIGN(TimeSeries ts, store_->series().ReadAsOf("x:long", std::nullopt));
  EXPECT_EQ(ts.frequency(), Frequency::kQuarterly);
  EXPECT_EQ(ts.size(), 400);
  EXPECT_EQ(ts.end().ToString(), "1999Q4");
}

// 3: period-end dates (Excel, FRED downloads with end-of-period dates) map to their periods.
TEST_F(IngestTest, WideFormAcceptsPeriodEndDatesWithANote) {
  ASSERT_OK_AND_ASSIGN(auto m, Ingest("date,a:m\n2020-01-31,1\n2020-02-29,2\n2020-03-31,3\n"));
  EXPECT_EQ(Values("a:m"), "2020-01=1 2020-02=2 2020-03=3");
  ASSERT_EQ(m.notes.size(), 1u);
  EXPECT_THAT(m.notes[0], HasSubstr("in.csv: dates are the last day of each period (2020-01-31 is 2020-01)"));
  ASSERT_OK(Ingest("date,a:q,b:q\n2020-03-31,1,5\n2020-06-30,2,6\n2020-09-30,3,\n2020-12-31,4,8\n"));
  EXPECT_EQ(Values("a:q"), "2020Q1=1 2020Q2=2 2020Q3=3 2020Q4=4");
  EXPECT_EQ(Values("b:q"), "2020Q1=5 2020Q2=6 2020Q3=. 2020Q4=8");
  ASSERT_OK(Ingest("DATE,YEARLY\n2018-12-31,1\n2019-12-31,2\n"));
  EXPECT_EQ(Values("fred:YEARLY"), "2018=1 2019=2");
  // First days need no note; a declared frequency takes period ends too.
  ASSERT_OK_AND_ASSIGN(auto starts, Ingest("date,c:m\n2020-01-01,1\n2020-02-01,2\n"));
  EXPECT_TRUE(starts.notes.empty());
  IngestOptions o;
  o.defaults.frequency = Frequency::kMonthly;
  ASSERT_OK(Ingest("date,d:m\n2021-01-31,1\n", o));
  EXPECT_EQ(Values("d:m"), "2021-01=1");
}

TEST_F(IngestTest, LongFormAcceptsPeriodEndDates) {
  ASSERT_OK_AND_ASSIGN(auto r, Ingest("series,period,value\nx:q,2020-03-31,1\nx:q,2020-06-30,2\n"
                                      "x:m,2020-01-31,3\nx:m,2020-02-29,4\n"));
  EXPECT_EQ(Values("x:q"), "2020Q1=1 2020Q2=2");
  EXPECT_EQ(Values("x:m"), "2020-01=3 2020-02=4");
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_THAT(r.notes[0],
              HasSubstr("in.csv: dates of series x:q, x:m are the last day of each period (2020-03-31 is 2020Q1)"));
  // A stored quarterly series takes quarter ends, and a declared one too.
  ASSERT_OK(Ingest("series,period,value\nx:q,2020-09-30,3\n"));
  EXPECT_EQ(Values("x:q"), "2020Q1=1 2020Q2=2 2020Q3=3");
  ASSERT_OK(Ingest("series,period,value\nus:gdp,2024Q1,1\n"));
  ASSERT_OK(Ingest("series,period,value\nus:gdp,2024-06-30,2\n"));
  EXPECT_EQ(Values("us:gdp"), "2024Q1=1 2024Q2=2");
}

TEST_F(IngestTest, AnyDayStillAcceptsAnyDayWithinThePeriod) {
  IngestOptions o;
  o.defaults.frequency = Frequency::kMonthly;
  o.any_day_in_period = true;
  ASSERT_OK(Ingest("date,a:m\n2020-01-15,1\n2020-02-03,2\n", o));
  EXPECT_EQ(Values("a:m"), "2020-01=1 2020-02=2");
}

// 4: only a FRED series id (upper-case letters, digits, _) makes a two-column file a FRED
// download; an almanac key stays what it is.
TEST_F(IngestTest, OneSeriesFileWithAnAlmanacKeyIsWideNotFred) {
  ASSERT_OK_AND_ASSIGN(auto r, Ingest("date,x:c\n2020-01-01,1\n2020-02-01,2\n"));
  EXPECT_EQ(r.format, FileFormat::kWide);
  EXPECT_EQ(Values("x:c"), "2020-01=1 2020-02=2");
  EXPECT_THAT(store_->series().GetSeries("fred:x:c"), StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(auto lower, Ingest("observation_date,gdp\n2020-01-01,1\n2020-04-01,2\n"));
  EXPECT_EQ(lower.format, FileFormat::kWide);
  EXPECT_EQ(Values("gdp"), "2020Q1=1 2020Q2=2");
  ASSERT_OK_AND_ASSIGN(auto fred, Ingest("observation_date,T10Y2Y\n2024-01-02,1\n2024-01-03,2\n"));
  EXPECT_EQ(fred.format, FileFormat::kFred);
  EXPECT_EQ(Values("fred:T10Y2Y"), "2024-01-02=1 2024-01-03=2");
  // An almanac key with a date-like suffix is not an ALFRED vintage column.
  ASSERT_OK_AND_ASSIGN(auto alfred_like, Ingest("date,us:gdp_20200130\n2020-01-01,1\n2020-04-01,2\n"));
  EXPECT_EQ(alfred_like.format, FileFormat::kWide);
  EXPECT_EQ(Values("us:gdp_20200130"), "2020Q1=1 2020Q2=2");
  // --series still names the one series of such a file.
  IngestOptions o;
  o.series_key = "y:z";
  ASSERT_OK(Ingest("date,x:other\n2020-01-01,1\n2020-02-01,2\n", o));
  EXPECT_EQ(Values("y:z"), "2020-01=1 2020-02=2");
}

// 5: ';' and tab separators, decimal commas and thousands separators.
TEST_F(IngestTest, SemicolonAndTabSeparatorsAreDetectedFromTheHeader) {
  ASSERT_OK_AND_ASSIGN(auto semi, Ingest("date;a:x\n2020-01-01;1.5\n2020-02-01;2\n"));
  EXPECT_EQ(semi.delimiter, ';');
  EXPECT_EQ(Values("a:x"), "2020-01=1.5 2020-02=2");
  ASSERT_EQ(semi.notes.size(), 1u);
  EXPECT_THAT(semi.notes[0],
              HasSubstr("in.csv: fields are separated by ';' (detected from the header; --delimiter chooses)"));
  ASSERT_OK_AND_ASSIGN(auto tab, Ingest("series\tperiod\tvalue\nt:x\t2020Q1\t1\nt:x\t2020Q2\t\"2\"\n"));
  EXPECT_EQ(tab.delimiter, '\t');
  EXPECT_EQ(Values("t:x"), "2020Q1=1 2020Q2=2");
  // Given: no note. A comma file stays one (the reader's tests cover quoted separators).
  IngestOptions o;
  o.delimiter = '\t';
  ASSERT_OK_AND_ASSIGN(auto given, Ingest("period\tg:x\n2020Q1\t1\n", o));
  EXPECT_TRUE(given.notes.empty());
  ASSERT_OK_AND_ASSIGN(auto comma, Ingest("period,c:x\n2020Q1,1\n"));
  EXPECT_EQ(comma.delimiter, ',');
  EXPECT_TRUE(comma.notes.empty());
}

TEST_F(IngestTest, DecimalCommasAndThousandsSeparatorsWithOptions) {
  IngestOptions eu;
  eu.numbers = NumberFormat{',', '.'};
  ASSERT_OK(
      Ingest("date;a:x\n2020-01-01;1,5\n2020-02-01;1.600,5\n2020-03-01;-1.234.567,25\n2020-04-01;.\n"
             "2020-05-01;1,5e3\n",
             eu));
  EXPECT_EQ(Values("a:x"), "2020-01=1.5 2020-02=1600.5 2020-03=-1234567.25 2020-04=. 2020-05=1500");
  ASSERT_OK(Ingest("series;period;value\nb:x;2020Q1;1.600,5\nb:x;2020Q2;NA\nb:x;2020Q3;7\n", eu));
  EXPECT_EQ(Values("b:x"), "2020Q1=1600.5 2020Q2=. 2020Q3=7");
  IngestOptions us;
  us.numbers = NumberFormat{'.', ','};
  ASSERT_OK(Ingest("date,c:x\n2020-01-01,\"1,600.5\"\n2020-02-01,\"12,345,678\"\n2020-03-01,999.25\n", us));
  EXPECT_EQ(Values("c:x"), "2020-01=1600.5 2020-02=12345678 2020-03=999.25");
  IngestOptions comma_only;
  comma_only.numbers = NumberFormat{',', 0};
  ASSERT_OK(Ingest("period\td:x\n2020Q1\t1,25\n2020Q2\t3\n", comma_only));
  EXPECT_EQ(Values("d:x"), "2020Q1=1.25 2020Q2=3");
}

TEST_F(IngestTest, MetadataFromOptions) {
  IngestOptions o;
  o.defaults.title = "default title";
  o.metadata["a:x"] = SeriesMetadata{Frequency::kQuarterly, "Series X", "USD", "SA", "test"};
  ASSERT_OK(Ingest("period,a:x,b:y\n2020Q1,1,2\n", o));
  EXPECT_EQ(store_->series().GetSeries("a:x")->title, "Series X");
  EXPECT_EQ(store_->series().GetSeries("b:y")->title, "default title");
}

// A long-form file of `series` daily series x `days` rows (value = series * 1000 + day), then
// `tail`: long enough that the parser thread hands over many batches before the tail.
std::string ManyRows(int series, int days, const std::string& tail) {
  std::string out = "series,period,value\n";
  const Date start = *Date::Parse("2000-01-01");
  for (int s = 0; s < series; ++s)
    for (int d = 0; d < days; ++d)
      out += "s:" + std::to_string(s) + "," + (start + d).ToString() + "," + std::to_string(s * 1000 + d) + "\n";
  return out + tail;
}

TEST_F(IngestTest, LongFormAcrossManyParserBatches) {
  ASSERT_OK_AND_ASSIGN(auto r, Ingest(ManyRows(3, 10000, "s:1,1999-12-31,-1\n")));
  EXPECT_EQ(r.report.rows_read, 30001);
  EXPECT_EQ(r.report.series_created, 3);
  ASSERT_OK_AND_ASSIGN(TimeSeries ts, store_->series().ReadAsOf("s:1", std::nullopt));
  ASSERT_EQ(ts.size(), 10001);
  EXPECT_EQ(ts.start().ToString(), "1999-12-31");
  EXPECT_EQ(*ts.at(0), -1);
  EXPECT_EQ(*ts.at(1), 1000);
  EXPECT_EQ(*ts.at(10000), 1000 + 9999);
}

// The input of a bad-input case: a literal, or text built when the case runs. gtest builds
// every case of the suite when the binary starts, and ctest starts the binary once per test,
// so the 30,000-row inputs are built lazily (they cost 0.2 s per start under ASan).
struct CaseText {
  CaseText(const char* literal) : text(literal) {}    // NOLINT: implicit, as the literals are
  CaseText(std::string literal) : text(std::move(literal)) {}  // NOLINT
  explicit CaseText(std::function<std::string()> build) : make(std::move(build)) {}
  std::string Get() const { return make ? make() : text; }

  std::string text;
  std::function<std::string()> make;
};

CaseText LazyManyRows(int series, int days, std::string tail) {
  return CaseText(std::function<std::string()>([=] { return ManyRows(series, days, tail); }));
}

// Each bad input gives a clear error naming the place, and leaves the store as it was.
struct BadInput {
  std::string name;
  CaseText text;
  std::string message;
  StatusCode code = StatusCode::kInvalidArgument;
  std::optional<Frequency> frequency;
  char delimiter = 0;
  NumberFormat numbers;
  FileFormat format = FileFormat::kAuto;
};

void PrintTo(const BadInput& b, std::ostream* os) { *os << b.name; }

class BadInputTest : public IngestTest, public ::testing::WithParamInterface<BadInput> {};

TEST_P(BadInputTest, FailsClearlyAndStoresNothing) {
  ASSERT_OK(Ingest("series,period,value\nus:gdp,2024Q1,1\nus:cpi,2024-01,300\n"));
  const std::string before = Dump();
  clock_.Advance(86400000000LL);
  IngestOptions o;
  o.defaults.frequency = GetParam().frequency;
  o.delimiter = GetParam().delimiter;
  o.numbers = GetParam().numbers;
  o.format = GetParam().format;
  auto r = Ingest(GetParam().text.Get(), o);
  EXPECT_THAT(r, StatusIs(GetParam().code, GetParam().message));
  EXPECT_EQ(Dump(), before);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadInputTest,
    ::testing::Values(
        BadInput{"UnbalancedQuote", "series,period,value\nus:gdp,2024Q2,\"2\nus:gdp,2024Q3,3\n", "line 2: unbalanced quote"},
        BadInput{"RaggedRow", "series,period,value\nus:gdp,2024Q2,2\nus:gdp,2024Q3\n", "in.csv: line 3: has 2 fields, the header has 3"},
        BadInput{"RaggedWideRow", "period,us:gdp,x:y\n2024Q2,1,2\n2024Q3,1,2,3\n", "line 3: has 4 fields"},
        BadInput{"NonNumeric", "series,period,value\nus:gdp,2024Q2,2\nus:gdp,2024Q3,abc\n",
                 "in.csv: line 3, column 3 (value): value 'abc' is not a number"},
        BadInput{"NaNText", "series,period,value\nus:gdp,2024Q2,NaN\n", "line 2, column 3 (value): value 'NaN' is not a finite number"},
        BadInput{"InfText", "period,us:gdp\n2024Q2,-Infinity\n", "line 2, column 2 (us:gdp): value '-Infinity' is not a finite"},
        BadInput{"HugeNumber", "series,period,value\nus:gdp,2024Q2,1e999\n", "outside the range"},
        BadInput{"DuplicatePeriod", "series,period,value\nus:gdp,2024Q2,2\nus:gdp,2024Q3,3\nus:gdp,2024Q2,2.1\n",
                 "in.csv: line 4: duplicate observation: series us:gdp period 2024Q2"},
        BadInput{"DuplicateDateWide", "period,a:b\n2024Q1,1\n2024Q1,2\n", "line 3: duplicate observation"},
        BadInput{"PeriodNotFittingDeclaredFrequency", "series,period,value\nx:new,2024-02-01,1\n",
                 "line 2, column 2 (period): date 2024-02-01 does not fit frequency Q", StatusCode::kInvalidArgument,
                 Frequency::kQuarterly},
        BadInput{"PeriodOfAnotherFrequencyThanStored", "series,period,value\nus:gdp,2024-05,1\n",
                 "line 2, column 2 (period): period '2024-05' is M but frequency Q was declared"},
        BadInput{"MixedLabelsInWideFile", "period,a:b\n2024Q1,1\n2024-05,2\n", "line 3, column 1 (period)"},
        BadInput{"DateOutOfRange", "series,period,value\nx:y,0999-01-01,1\n", "out of range", StatusCode::kOutOfRange},
        BadInput{"ImpossibleDate", "DATE,X\n2024-01-01,1\n2024-02-30,2\n", "day 30 does not exist"},
        BadInput{"BadMonth", "series,period,value\nx:y,2024-13,1\n", "month must be 01..12"},
        BadInput{"EmptyFile", "", "in.csv is empty"},
        BadInput{"HeaderOnly", "series,period,value\n", "has a header but no data rows"},
        BadInput{"NotText", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16), "not a text file"},
        BadInput{"KeyWithSqlMetacharacters", "series,period,value\nx'); DROP TABLE series;--,2024,1\n",
                 "line 2, column 1 (series): series key"},
        BadInput{"KeyWithPathSeparator", "period,../../etc/passwd\n2024Q1,1\n", "column 2 (../../etc/passwd): series key"},
        BadInput{"UnknownLongColumn", "series,period,valeu\nx:y,2024,1\n", "did you mean 'value'"},
        BadInput{"LongWithoutValueColumn", "series,period\nx:y,2024\n", "needs the columns series, period and value"},
        BadInput{"DuplicateWideColumn", "period,a:b,a:b\n2024Q1,1,2\n", "series a:b has two columns"},
        BadInput{"UnknownForm", "foo,bar\n1,2\n", "cannot tell the CSV form"},
        BadInput{"FrequencyNotInferable", "DATE,X\n2024-01-01,1\n", "cannot infer the frequency"},
        // Far into a long file, past many batches of the parser thread: the line is still right.
        BadInput{"ParseErrorAfterManyRows", LazyManyRows(3, 10000, "s:9,2001-01-01,abc\n"),
                 "in.csv: line 30002, column 3 (value): value 'abc' is not a number"},
        BadInput{"DuplicateAfterManyRows", LazyManyRows(3, 10000, "s:3,2000-01-01,1\ns:1,2000-01-05,1\n"),
                 "in.csv: line 30003: duplicate observation: series s:1 period 2000-01-05"},
        BadInput{"RaggedRowAfterManyRows", LazyManyRows(3, 10000, "s:1\n"), "in.csv: line 30002: has 1 fields"},
        // Issue 19 (rough edges for a new user).
        // 1: the hint names the option that exists.
        BadInput{"UnknownFormNamesTheFileFormatOption", "foo,bar\n1,2\n",
                 "or pass --file-format long, wide, fred or alfred"},
        // 2: a long-form series whose frequency was inferred from its first dates.
        BadInput{"LongInferredQuartersThenAMidQuarterDate", QuarterStarts("x:q", 2000, 16) + "x:q,2004-02-15,1\n",
                 "line 18, column 2 (period): date 2004-02-15 does not fit frequency Q: expected the first day of "
                 "a period like the earlier dates (2004-01-01 for 2004Q1); pass --any-day"},
        // 3: period-end dates are accepted, irregular days are not (without --any-day).
        BadInput{"WideMidMonthDatesWithDeclaredFrequency", "date,a:m\n2020-01-15,1\n2020-02-15,2\n",
                 "line 2, column 1 (date): date 2020-01-15 does not fit frequency M: expected the first or the last "
                 "day of a period (2020-01-01 or 2020-01-31 for 2020-01); pass --any-day",
                 StatusCode::kInvalidArgument, Frequency::kMonthly},
        BadInput{"WideMonthEndsThenAMidMonthDate", "date,a:m\n2020-01-31,1\n2020-02-29,2\n2020-03-15,3\n",
                 "line 4, column 1 (date): date 2020-03-15 does not fit frequency M: expected the last day of a "
                 "period like the earlier dates (2020-03-31 for 2020-03); pass --any-day",
                 StatusCode::kInvalidArgument, Frequency::kMonthly},
        BadInput{"WideMonthStartsThenAMonthEnd", "date,a:m\n2020-01-01,1\n2020-02-29,2\n",
                 "line 3, column 1 (date): date 2020-02-29 does not fit frequency M: expected the first day of a "
                 "period like the earlier dates (2020-02-01 for 2020-02)",
                 StatusCode::kInvalidArgument, Frequency::kMonthly},
        BadInput{"WideIrregularDatesCannotBeInferred", "date,a:m\n2020-01-31,1\n2020-02-29,2\n2020-03-15,3\n",
                 "cannot infer the frequency from dates 2020-01-31, 2020-02-29, ...; pass --frequency (with --any-day "
                 "if the dates are not the first or the last day of their periods)"},
        BadInput{"LongStoredQuarterlyGetsMidQuarterDate", "series,period,value\nus:gdp,2024-05-15,1\n",
                 "line 2, column 2 (period): date 2024-05-15 does not fit frequency Q: expected the first or the "
                 "last day of a period (2024-04-01 or 2024-06-30 for 2024Q2); pass --any-day"},
        // 4: a VALUE column (any case) is a FRED download without a series id (a guard: it
        // passed before the change, and must not become a wide file named "value").
        BadInput{"FredLowerCaseValueColumnNeedsASeriesKey", "date,value\n2020-01-01,1\n2020-02-01,2\n", "--series"},
        // 5: separators and decimal marks.
        BadInput{
            "DecimalCommaWithoutTheOption", "date;a:x\n2020-01-01;1,5\n2020-02-01;2\n",
            "line 2, column 2 (a:x): value '1,5' is not a number (it looks like a decimal comma: pass --decimal ,)"},
        BadInput{"ThousandsSeparatorWithoutTheOption", "date,a:x\n2020-01-01,\"1,600.5\"\n2020-02-01,2\n",
                 "line 2, column 2 (a:x): value '1,600.5' is not a number (it looks like ',' separates thousands: "
                 "pass --thousands ,)"},
        BadInput{"EuropeanNumberWithoutTheOptions", "series;period;value\nx:y;2020Q1;1.600,5\n",
                 "line 2, column 3 (value): value '1.600,5' is not a number (it looks like a decimal comma with '.' "
                 "separating thousands: pass --decimal , --thousands .)"},
        BadInput{"AmbiguousCommaWithoutTheOption", "series;period;value\nx:y;2020Q1;1,500\n",
                 "value '1,500' is not a number (',' is a decimal comma or separates thousands: pass --decimal , or "
                 "--thousands ,)"},
        BadInput{"EuropeanNumberWithOnlyDecimalComma", "series;period;value\nx:y;2020Q1;1.600,5\n",
                 "value '1.600,5' is not a number with the decimal mark ',' and no thousands separator (it looks like "
                 "'.' separates thousands: pass --thousands .)",
                 StatusCode::kInvalidArgument, std::nullopt, 0, NumberFormat{',', 0}},
        BadInput{"MisplacedThousandsSeparator", "series,period,value\nx:y,2020Q1,\"1,60.5\"\n",
                 "line 2, column 3 (value): value '1,60.5' is not a number: the thousands separator ',' must group "
                 "three digits",
                 StatusCode::kInvalidArgument, std::nullopt, 0, NumberFormat{'.', ','}},
        BadInput{"PointInADecimalCommaFile", "series;period;value\nx:y;2020Q1;1.5\n",
                 "value '1.5' is not a number with the decimal mark ','", StatusCode::kInvalidArgument, std::nullopt, 0,
                 NumberFormat{',', 0}},
        BadInput{"NaNWithDecimalComma", "series;period;value\nx:y;2020Q1;NaN\n",
                 "line 2, column 3 (value): value 'NaN' is not a finite number", StatusCode::kInvalidArgument,
                 std::nullopt, 0, NumberFormat{',', '.'}},
        // A guard (passed before the change): number formats do not let infinities in.
        BadInput{"InfinityWithThousands", "date,a:x\n2020-01-01,inf\n2020-02-01,1\n",
                 "line 2, column 2 (a:x): value 'inf' is not a finite number", StatusCode::kInvalidArgument,
                 std::nullopt, 0, NumberFormat{'.', ','}},
        BadInput{"SemicolonRowsUnderACommaHeader", "series,period,value\nx:y;2020Q1;1\n",
                 "in.csv: line 2: has 1 fields, the header has 3 (the line contains ';': if the file is ';'-separated, "
                 "pass --delimiter ';')"},
        BadInput{"SemicolonHeaderWithCommaDelimiterGivenNamesTheOption", "date;a:x\n2020-01-01;1\n",
                 "the header contains ';': pass --delimiter ';'", StatusCode::kInvalidArgument, std::nullopt, ','}),
    [](const auto& info) { return info.param.name; });

TEST(MetadataFileTest, ParsesAndRejectsBadFields) {
  auto dir = std::filesystem::temp_directory_path();
  auto good = dir / ("meta_good_" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(good) << "series:\n  us:gdp:\n    title: GDP\n    frequency: Q\n";
  ASSERT_OK_AND_ASSIGN(auto m, ReadMetadataFile(good.string()));
  EXPECT_EQ(m["us:gdp"].title, "GDP");
  EXPECT_EQ(*m["us:gdp"].frequency, Frequency::kQuarterly);
  auto bad = dir / ("meta_bad_" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(bad) << "series:\n  us:gdp:\n    titel: GDP\n";
  EXPECT_THAT(ReadMetadataFile(bad.string()), StatusIs(StatusCode::kInvalidArgument, "did you mean 'title'"));
  std::ofstream(bad) << "series:\n  us:gdp:\n    frequency: fortnightly\n";
  EXPECT_THAT(ReadMetadataFile(bad.string()), StatusIs(StatusCode::kInvalidArgument, "unknown frequency"));
  std::ofstream(bad) << "series: [unclosed\n";
  EXPECT_THAT(ReadMetadataFile(bad.string()), StatusIs(StatusCode::kInvalidArgument, "invalid YAML"));
  EXPECT_THAT(ReadMetadataFile("/nonexistent.yaml"), StatusIs(StatusCode::kNotFound));
  std::filesystem::remove(good);
  std::filesystem::remove(bad);
}

}  // namespace
}  // namespace almanac::data
