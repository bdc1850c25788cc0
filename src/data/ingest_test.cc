#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
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

// Each bad input gives a clear error naming the place, and leaves the store as it was.
struct BadInput {
  std::string name;
  std::string text;
  std::string message;
  StatusCode code = StatusCode::kInvalidArgument;
  std::optional<Frequency> frequency;
};

class BadInputTest : public IngestTest, public ::testing::WithParamInterface<BadInput> {};

TEST_P(BadInputTest, FailsClearlyAndStoresNothing) {
  ASSERT_OK(Ingest("series,period,value\nus:gdp,2024Q1,1\nus:cpi,2024-01,300\n"));
  const std::string before = Dump();
  clock_.Advance(86400000000LL);
  IngestOptions o;
  o.defaults.frequency = GetParam().frequency;
  auto r = Ingest(GetParam().text, o);
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
        BadInput{"ParseErrorAfterManyRows", ManyRows(3, 10000, "s:9,2001-01-01,abc\n"),
                 "in.csv: line 30002, column 3 (value): value 'abc' is not a number"},
        BadInput{"DuplicateAfterManyRows", ManyRows(3, 10000, "s:3,2000-01-01,1\ns:1,2000-01-05,1\n"),
                 "in.csv: line 30003: duplicate observation: series s:1 period 2000-01-05"},
        BadInput{"RaggedRowAfterManyRows", ManyRows(3, 10000, "s:1\n"), "in.csv: line 30002: has 1 fields"}),
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
