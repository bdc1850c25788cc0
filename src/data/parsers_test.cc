// Parsers of provider formats, on the fixtures in testdata/connectors/ (written from each
// provider's documentation; see the README there) and on malformed variants.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "almanac/data.h"
#include "core/testing/status_matchers.h"
#include "data/testing/fixture_server.h"

namespace almanac::data {
namespace {

using ::almanac::testing::IsOk;
using ::almanac::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Keys(const std::vector<ParsedSeries>& s) {
  std::vector<std::string> out;
  for (const auto& x : s) out.push_back(x.info.key);
  return out;
}

std::string Values(const ParsedSeries& s) {
  std::string out;
  for (const auto& o : s.observations) {
    out += (out.empty() ? "" : " ") + o.period.ToString() + "=" + (o.value ? FormatDouble(*o.value) : ".");
    if (o.realtime_start) out += "@" + o.realtime_start->ToString();
  }
  return out;
}

TEST(FredParserTest, SeriesMetadata) {
  ASSERT_OK_AND_ASSIGN(FredSeriesMeta m, ParseFredSeries(testing::ReadFixture("fred_series_GDPC1.json"), "f"));
  EXPECT_EQ(m.id, "GDPC1");
  EXPECT_EQ(m.frequency, Frequency::kQuarterly);
  EXPECT_EQ(m.units, "Billions of Chained 2017 Dollars");
  EXPECT_EQ(m.seasonal_adjustment, "SAAR");
}

TEST(FredParserTest, SemiannualIsRejected) {
  std::string body = testing::ReadFixture("fred_series_GDPC1.json");
  body.replace(body.find("\"frequency_short\": \"Q\""), 22, "\"frequency_short\": \"SA\"");
  EXPECT_THAT(ParseFredSeries(body, "f").status(), StatusIs(StatusCode::kInvalidArgument, "frequency 'SA'"));
}

TEST(FredParserTest, ObservationsWithMissingDot) {
  ASSERT_OK_AND_ASSIGN(FredObservationsPage p, ParseFredObservations(testing::ReadFixture("fred_observations_GDPC1.json"), "f"));
  EXPECT_EQ(p.count, 5);
  EXPECT_EQ(p.limit, 100000);
  ASSERT_EQ(p.observations.size(), 5u);
  EXPECT_EQ(p.observations[0].date.ToString(), "2023-01-01");
  EXPECT_EQ(p.observations[0].value, 22112.329);
  EXPECT_EQ(p.observations[2].value, std::nullopt);
  EXPECT_EQ(p.observations[4].realtime_start.ToString(), "2024-05-01");
}

TEST(FredParserTest, AlfredVintages) {
  ASSERT_OK_AND_ASSIGN(FredObservationsPage p, ParseFredObservations(testing::ReadFixture("alfred_observations_GDPC1.json"), "f"));
  ASSERT_EQ(p.observations.size(), 6u);
  EXPECT_EQ(p.observations[1].realtime_start.ToString(), "2023-11-29");
  EXPECT_EQ(p.observations[1].realtime_end.ToString(), "2023-12-20");
  EXPECT_EQ(p.observations[4].value, std::nullopt);
}

TEST(FredParserTest, ErrorReplyNamesProviderMessage) {
  EXPECT_THAT(ParseFredObservations(testing::ReadFixture("fred_error.json"), "fred/series/observations").status(),
              StatusIs(StatusCode::kInvalidArgument, "FRED replied with an error: Bad Request."));
}

TEST(FredParserTest, MalformedBodies) {
  const std::string good = testing::ReadFixture("fred_observations_GDPC1.json");
  // Truncated.
  EXPECT_THAT(ParseFredObservations(good.substr(0, good.size() / 2), "u").status(),
              StatusIs(StatusCode::kInvalidArgument, "invalid JSON"));
  // HTML.
  EXPECT_THAT(ParseFredObservations("<html><body>Service down</body></html>", "u").status(),
              StatusIs(StatusCode::kInvalidArgument, "<html>"));
  // Invalid UTF-8 inside a string.
  std::string bad = good;
  bad.replace(bad.find("lin"), 3, "l\xff\xfe");
  EXPECT_THAT(ParseFredObservations(bad, "u").status(), StatusIs(StatusCode::kInvalidArgument));
  // Not a number.
  std::string nan = good;
  nan.replace(nan.find("22112.329"), 9, "22112,329");
  EXPECT_THAT(ParseFredObservations(nan, "u").status(),
              StatusIs(StatusCode::kInvalidArgument, "observation 0, field value: '22112,329' is not a number"));
  // Bad date.
  std::string date = good;
  date.replace(date.find("2023-04-01"), 10, "2023-13-01");
  EXPECT_THAT(ParseFredObservations(date, "u").status(), StatusIs(StatusCode::kInvalidArgument, "observation 1"));
  // Valid JSON, wrong shape.
  EXPECT_THAT(ParseFredObservations("{\"seriess\": []}", "u").status(),
              StatusIs(StatusCode::kInvalidArgument, "\"observations\""));
}

TEST(SdmxCsvTest, EcbCsvDataWithKeyColumn) {
  SdmxParseOptions o{"ecb", "ecb", "EXR"};
  ASSERT_OK_AND_ASSIGN(auto s, ParseSdmxCsv(testing::ReadFixture("ecb_exr.csv"), o));
  EXPECT_THAT(Keys(s), ElementsAre("ecb:EXR.M.USD.EUR.SP00.A", "ecb:EXR.M.JPY.EUR.SP00.A"));
  EXPECT_EQ(Values(s[0]), "2024-01=1.0905 2024-02=1.0795 2024-03=1.0872");
  EXPECT_EQ(Values(s[1]), "2024-01=159.46 2024-02=161.38 2024-03=.");
  EXPECT_EQ(s[0].info.frequency, Frequency::kMonthly);
}

TEST(SdmxCsvTest, Version1DataflowColumn) {
  SdmxParseOptions o{"oecd", "oecd", ""};
  ASSERT_OK_AND_ASSIGN(auto s, ParseSdmxCsv(testing::ReadFixture("oecd_sdmx_csv1.csv"), o));
  EXPECT_THAT(Keys(s), ElementsAre("oecd:DF_QNA.FRA.Q.B1GQ.XDC", "oecd:DF_QNA.DEU.Q.B1GQ.XDC"));
  EXPECT_EQ(Values(s[1]), "2023Q3=1042000 2023Q4=1039500");
}

TEST(SdmxCsvTest, Version2ActionDeleteIsAnExplicitMissingValue) {
  SdmxParseOptions o{"eurostat", "e", ""};
  ASSERT_OK_AND_ASSIGN(auto s, ParseSdmxCsv(testing::ReadFixture("eurostat_sdmx_csv2_delete.csv"), o));
  EXPECT_THAT(Keys(s), ElementsAre("eurostat:PRC_HICP_MANR.M.RCH_A.EA20"));
  EXPECT_EQ(Values(s[0]), "2024-01=2.8 2024-02=2.6 2024-03=.");
}

TEST(SdmxCsvTest, BadInput) {
  SdmxParseOptions o{"x", "resp", ""};
  EXPECT_THAT(ParseSdmxCsv("", o).status(), StatusIs(StatusCode::kInvalidArgument, "empty"));
  EXPECT_THAT(ParseSdmxCsv("<!DOCTYPE html><html>", o).status(),
              StatusIs(StatusCode::kInvalidArgument, "lacks TIME_PERIOD or OBS_VALUE"));
  EXPECT_THAT(ParseSdmxCsv("KEY,TIME_PERIOD,OBS_VALUE\nA.B,2024-01,abc\n", o).status(),
              StatusIs(StatusCode::kInvalidArgument, "line 2: OBS_VALUE: 'abc' is not a number"));
  EXPECT_THAT(ParseSdmxCsv("KEY,TIME_PERIOD,OBS_VALUE\nA.B,2024-01\n", o).status(),
              StatusIs(StatusCode::kInvalidArgument, "expected 3 fields"));
  EXPECT_THAT(ParseSdmxCsv("KEY,TIME_PERIOD,OBS_VALUE\nA.B,2024-S1,1\n", o).status(),
              StatusIs(StatusCode::kInvalidArgument, "TIME_PERIOD"));
  EXPECT_THAT(ParseSdmxCsv("KEY,TIME_PERIOD,OBS_VALUE\nA.B,2024-01,1\nA.B,2024-Q1,1\n", o).status(),
              StatusIs(StatusCode::kInvalidArgument, "mixes frequencies"));
  EXPECT_THAT(ParseSdmxCsv("KEY,TIME_PERIOD,OBS_VALUE\nA.\xff,2024-01,1\n", o).status(),
              StatusIs(StatusCode::kInvalidArgument, "UTF-8"));
}

TEST(SdmxJsonTest, DataMessage) {
  SdmxParseOptions o{"ecb", "ecb", "ICP"};
  ASSERT_OK_AND_ASSIGN(auto s, ParseSdmxJson(testing::ReadFixture("ecb_sdmx.json"), o));
  EXPECT_THAT(Keys(s), ElementsAre("ecb:ICP.M.U2.000000", "ecb:ICP.M.DE.000000"));
  EXPECT_EQ(Values(s[0]), "2024-01=2.8 2024-02=2.6 2024-03=2.4");
  EXPECT_EQ(Values(s[1]), "2024-01=3.1 2024-02=. 2024-03=2.9");
}

TEST(SdmxJsonTest, DeleteDataSet) {
  std::string body = testing::ReadFixture("ecb_sdmx.json");
  body.replace(body.find("\"Replace\""), 9, "\"Delete\"");
  ASSERT_OK_AND_ASSIGN(auto s, ParseSdmxJson(body, SdmxParseOptions{"ecb", "ecb", "ICP"}));
  EXPECT_EQ(Values(s[0]), "2024-01=. 2024-02=. 2024-03=.");
}

TEST(SdmxJsonTest, BadInput) {
  SdmxParseOptions o{"ecb", "resp", "ICP"};
  EXPECT_THAT(ParseSdmxJson("{\"foo\": 1}", o).status(),
              StatusIs(StatusCode::kInvalidArgument, "not an SDMX-JSON data message"));
  std::string body = testing::ReadFixture("ecb_sdmx.json");
  body.replace(body.find("\"0:1:0\""), 7, "\"0:7:0\"");
  EXPECT_THAT(ParseSdmxJson(body, o).status(),
              StatusIs(StatusCode::kInvalidArgument, "series key '0:7:0' does not match"));
  EXPECT_THAT(ParseSdmxJson("{\"errors\": [{\"code\": 404, \"title\": \"No results\"}]}", o).status(),
              StatusIs(StatusCode::kInvalidArgument, "No results"));
}

TEST(WorldBankTest, PagesAndErrors) {
  ASSERT_OK_AND_ASSIGN(WorldBankPage p1, ParseWorldBankPage(testing::ReadFixture("worldbank_page1.json"), "wb", "u"));
  EXPECT_EQ(p1.pages, 2);
  EXPECT_EQ(p1.total, 5);
  ASSERT_THAT(Keys(p1.series), ElementsAre("wb:NY.GDP.MKTP.CD.USA"));
  EXPECT_EQ(Values(p1.series[0]), "2020=. 2021=2.3594031e+13 2022=2.5744108e+13");
  EXPECT_EQ(p1.series[0].info.title, "GDP (current US$) - United States");
  ASSERT_OK_AND_ASSIGN(WorldBankPage p2, ParseWorldBankPage(testing::ReadFixture("worldbank_page2.json"), "wb", "u"));
  EXPECT_THAT(Keys(p2.series), ElementsAre("wb:NY.GDP.MKTP.CD.DEU"));
  EXPECT_THAT(ParseWorldBankPage(testing::ReadFixture("worldbank_error.json"), "wb", "u").status(),
              StatusIs(StatusCode::kInvalidArgument, "Invalid value: The provided parameter value is not valid"));
  EXPECT_THAT(ParseWorldBankPage("{\"page\": 1}", "wb", "u").status(),
              StatusIs(StatusCode::kInvalidArgument, "[metadata, data]"));
  ASSERT_OK_AND_ASSIGN(WorldBankPage empty, ParseWorldBankPage("[{\"page\":1,\"pages\":0,\"total\":0}, null]", "wb", "u"));
  EXPECT_TRUE(empty.series.empty());
}

TEST(MappedTest, CsvColumns) {
  FieldMapping m;
  m.period = "month";
  m.value = "level";
  m.series = "code";
  m.realtime_start = "published";
  m.key_prefix = "inhouse";
  ASSERT_OK_AND_ASSIGN(auto s, ParseMappedCsv(testing::ReadFixture("inhouse.csv"), m, "u"));
  EXPECT_THAT(Keys(s), ElementsAre("inhouse:CREDIT_HH", "inhouse:CREDIT_NFC"));
  EXPECT_EQ(Values(s[0]), "2024-01=101.5@2024-02-15 2024-02=102.25@2024-03-15");
  EXPECT_EQ(Values(s[1]), "2024-01=88@2024-02-15 2024-02=.@2024-03-15");
  m.value = "lvl";
  EXPECT_THAT(ParseMappedCsv(testing::ReadFixture("inhouse.csv"), m, "u").status(),
              StatusIs(StatusCode::kInvalidArgument, "the mapped column 'lvl' is not in the header"));
}

TEST(MappedTest, JsonPointers) {
  FieldMapping m;
  m.records = "/data/rows";
  m.period = "/period";
  m.value = "/v";
  m.series = "/id";
  m.key_prefix = "inhouse";
  ASSERT_OK_AND_ASSIGN(auto s, ParseMappedJson(testing::ReadFixture("inhouse.json"), m, "u"));
  EXPECT_THAT(Keys(s), ElementsAre("inhouse:RATE_MORTGAGE"));
  EXPECT_EQ(Values(s[0]), "2024Q1=4.1 2024Q2=4.25 2024Q3=.");
  m.records = "/data/nothing";
  EXPECT_THAT(ParseMappedJson(testing::ReadFixture("inhouse.json"), m, "u").status(), StatusIs(StatusCode::kInvalidArgument));
  m.records = "/data/rows";
  m.value = "/value";
  EXPECT_THAT(ParseMappedJson(testing::ReadFixture("inhouse.json"), m, "u").status(),
              StatusIs(StatusCode::kInvalidArgument, "record 0: no field at '/value'"));
}

TEST(RedactTest, SecretsAndKeyParameters) {
  EXPECT_EQ(RedactSecrets("GET https://h/x?series_id=A&api_key=abcdef123&file_type=json", {}),
            "GET https://h/x?series_id=A&api_key=***&file_type=json");
  EXPECT_EQ(RedactSecrets("token abcdef123 leaked", {"abcdef123"}), "token *** leaked");
  EXPECT_EQ(RedactSecrets("monkey=1&key=zz", {}), "monkey=1&key=***");
}

TEST(SourceConfigTest, ParsesEveryType) {
  const char* yaml = R"(
sources:
  - name: fred
    type: fred
    api_key_env: FRED_API_KEY
    schedule: "0 6 * * *"
    rules: {min: 0}
    series:
      - GDPC1
      - id: UNRATE
        title: Unemployment rate
        rules: {frequency: M, max: 30, max_staleness_days: 90}
  - name: ecb
    type: ecb
    format: json
    start_period: "2000-01"
    series: [EXR/M.USD.EUR.SP00.A]
  - name: oecd
    type: oecd
    series: [{id: "OECD.SDD.NAD,DSD_NAMAIN1@DF_QNA,1.0/Q.FRA.B1GQ", key: "oecd:QNA.FRA"}]
  - name: wb
    type: worldbank
    country: USA;DEU
    series: [NY.GDP.MKTP.CD]
  - name: inhouse
    type: http_json
    url: http://intranet/rates.json
    mapping: {records: /data/rows, period: /period, value: /v, series: /id}
)";
  ASSERT_OK_AND_ASSIGN(LoadConfig c, ParseLoadConfig(yaml, "s.yaml"));
  ASSERT_EQ(c.sources.size(), 5u);
  EXPECT_EQ(c.sources[0].base_url, "https://api.stlouisfed.org");
  EXPECT_EQ(c.sources[0].key_prefix, "fred");
  EXPECT_EQ(c.sources[0].series[1].rules.max, 30);
  EXPECT_EQ(c.sources[0].series[1].metadata.title, "Unemployment rate");
  EXPECT_EQ(c.sources[0].rules.min, 0);
  EXPECT_EQ(c.sources[1].type, SourceType::kSdmx);
  EXPECT_EQ(c.sources[1].format, "json");
  EXPECT_EQ(c.sources[2].http.requests_per_minute, 20);  // OECD's published limit
  EXPECT_EQ(c.sources[3].country, "USA;DEU");
  EXPECT_EQ(c.sources[4].mapping.records, "/data/rows");
  EXPECT_EQ(c.sources[4].mapping.key_prefix, "inhouse");
}

TEST(SourceConfigTest, ErrorsNameFileLineAndField) {
  auto bad = [](const std::string& yaml) { return ParseLoadConfig(yaml, "s.yaml").status(); };
  EXPECT_THAT(bad("sources:\n  - name: f\n    type: fred\n    serise: [A]\n"),
              StatusIs(StatusCode::kInvalidArgument, "s.yaml: line 4: source 'f': unknown field 'serise' (did you mean 'series'?)"));
  EXPECT_THAT(bad("sources:\n  - name: f\n    type: frde\n    series: [A]\n"),
              StatusIs(StatusCode::kInvalidArgument, "unknown source type 'frde'"));
  EXPECT_THAT(bad("sources:\n  - name: f\n    type: fred\n"), StatusIs(StatusCode::kInvalidArgument, "lists no series"));
  EXPECT_THAT(bad("sources:\n  - name: f\n    type: sdmx\n    series: [A/B]\n"),
              StatusIs(StatusCode::kInvalidArgument, "needs base_url"));
  EXPECT_THAT(bad("sources:\n  - name: f\n    type: fred\n    base_url: ftp://x\n    series: [A]\n"),
              StatusIs(StatusCode::kInvalidArgument, "must start with http:// or https://"));
  EXPECT_THAT(bad("sources:\n  - name: f\n    type: fred\n    series: [A, A]\n"),
              StatusIs(StatusCode::kInvalidArgument, "listed twice"));
  EXPECT_THAT(bad("sources:\n  - name: f\n    type: fred\n    retries: 99\n    series: [A]\n"),
              StatusIs(StatusCode::kInvalidArgument, "retries must be an integer in 0..20"));
  EXPECT_THAT(bad("sources:\n  - name: f\n    type: fred\n    rules: {min: 5, max: 1}\n    series: [A]\n"),
              StatusIs(StatusCode::kInvalidArgument, "rules.min is greater than rules.max"));
  EXPECT_THAT(bad("sources:\n  - name: f\n    type: http_csv\n    url: http://x/\n    mapping: {period: d}\n"),
              StatusIs(StatusCode::kInvalidArgument, "needs mapping.period and mapping.value"));
  EXPECT_THAT(bad("sources: [\n"), StatusIs(StatusCode::kInvalidArgument, "invalid YAML"));
  EXPECT_THAT(ReadLoadConfig("/nonexistent/s.yaml").status(), StatusIs(StatusCode::kNotFound));
}

}  // namespace
}  // namespace almanac::data

namespace almanac::data {
namespace {

TEST(NdjsonTest, Records) {
  ASSERT_OK_AND_ASSIGN(NdjsonRecord r, ParseNdjsonRecord(R"({"series":"push:a","period":"2024-01","value":"2.5","realtime_start":"2024-02-01"})"));
  EXPECT_EQ(r.key, "push:a");
  EXPECT_EQ(r.value, 2.5);
  EXPECT_EQ(r.realtime_start->ToString(), "2024-02-01");
  ASSERT_OK_AND_ASSIGN(r, ParseNdjsonRecord(R"({"series":"push:a","period":"2024-01-01","value":null,"frequency":"M"})"));
  EXPECT_EQ(r.value, std::nullopt);
  EXPECT_EQ(r.frequency, Frequency::kMonthly);
  auto bad = [](const char* line) { return ParseNdjsonRecord(line).status(); };
  EXPECT_THAT(bad("{\"series\":\"a\"}"), StatusIs(StatusCode::kInvalidArgument, "no \"period\" field"));
  EXPECT_THAT(bad("{\"series\":\"a\",\"period\":\"2024\"}"), StatusIs(StatusCode::kInvalidArgument, "no \"value\" field"));
  EXPECT_THAT(bad("{\"series\":\"a b\",\"period\":\"2024\",\"value\":1}"), StatusIs(StatusCode::kInvalidArgument, "series key"));
  EXPECT_THAT(bad("{\"series\":\"a\",\"period\":\"2024\",\"value\":true}"),
              StatusIs(StatusCode::kInvalidArgument, "must be a number, a numeric string or null"));
  EXPECT_THAT(bad("{\"series\":\"a\",\"period\":\"2024\",\"value\":1,\"vlaue\":2}"),
              StatusIs(StatusCode::kInvalidArgument, "unknown field 'vlaue'"));
  EXPECT_THAT(bad("[1,2]"), StatusIs(StatusCode::kInvalidArgument, "expected a JSON object"));
  EXPECT_THAT(bad("{\"series\":"), StatusIs(StatusCode::kInvalidArgument, "not a JSON object"));
  EXPECT_THAT(bad("{\"series\":\"a\",\"period\":\"2024\",\"value\":1,\"realtime_start\":\"2024-02-30\"}"),
              StatusIs(StatusCode::kInvalidArgument, "realtime_start"));
}

TEST(NdjsonTest, BatchIsOneLoadAndAllOrNothing) {
  auto store = *store::OpenStore("memory:", store::StoreOptions());
  std::vector<NdjsonRecord> batch;
  for (const char* line : {R"({"series":"push:a","period":"2024-01","value":1})",
                           R"({"series":"push:a","period":"2024-02","value":2})",
                           R"({"series":"push:b","period":"2024Q1","value":3,"realtime_start":"2024-04-02"})",
                           R"({"series":"push:b","period":"2024Q1","value":4,"realtime_start":"2024-05-02"})"})
    batch.push_back(*ParseNdjsonRecord(line));
  ASSERT_OK_AND_ASSIGN(store::LoadReport rep, IngestBatch(batch, "t", "stream", store->series()));
  EXPECT_EQ(rep.vintages_created, 3);  // a: 1; b: one per realtime_start
  EXPECT_EQ(store->series().ListVintages("push:b")->size(), 2u);
  // The stored frequency wins: a date label of a monthly series is its month.
  std::vector<NdjsonRecord> more = {*ParseNdjsonRecord(R"({"series":"push:a","period":"2024-03-01","value":3})"),
                                    *ParseNdjsonRecord(R"({"series":"push:c","period":"2024-01","value":1})"),
                                    *ParseNdjsonRecord(R"({"series":"push:c","period":"2024Q1","value":1})")};
  EXPECT_THAT(IngestBatch(more, "t", "stream", store->series()).status(),
              StatusIs(StatusCode::kInvalidArgument, "record 3 (series push:c)"));
  EXPECT_THAT(store->series().GetSeries("push:c").status(), StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(store->series().ReadAsOf("push:a", std::nullopt)->size(), 2);
  more.pop_back();
  ASSERT_OK(IngestBatch(more, "t", "stream", store->series()).status());
  EXPECT_EQ(store->series().ReadAsOf("push:a", std::nullopt)->size(), 3);
  EXPECT_THAT(IngestBatch({}, "t", "s", store->series()).status(), StatusIs(StatusCode::kInvalidArgument, "empty batch"));
}

}  // namespace
}  // namespace almanac::data
