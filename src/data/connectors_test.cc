// The HTTP client and LoadSource against a real HTTP server on 127.0.0.1 (started and
// stopped by each test) serving provider-format fixtures and failures. Every failing load
// must leave the store exactly as it was.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "almanac/core/json.h"
#include "almanac/data.h"
#include "core/testing/status_matchers.h"
#include "data/testing/fixture_server.h"

namespace almanac::data {
namespace {

using ::almanac::testing::IsOk;
using ::almanac::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::ElementsAre;
using ::testing::SizeIs;
using testing::FixtureRequest;
using testing::FixtureResponse;
using testing::FixtureServer;

constexpr char kKey[] = "s3cr3tapikey0123456789abcdef";

// Records requested sleeps instead of sleeping.
struct Sleeps {
  std::vector<int64_t> ms;
  std::function<void(std::chrono::milliseconds)> Fn() {
    return [this](std::chrono::milliseconds d) { ms.push_back(d.count()); };
  }
};

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ::setenv("no_proxy", "127.0.0.1", 1); }
  void Serve(FixtureServer::Handler h) {
    server_ = std::make_unique<FixtureServer>(std::move(h));
    ASSERT_TRUE(server_->Start());
  }
  std::unique_ptr<HttpClient> Client(int retries = 3) {
    HttpClientOptions o;
    o.max_retries = retries;
    o.timeout_ms = 2000;
    o.jitter_seed = 7;
    o.sleep = sleeps_.Fn();
    o.secrets = {kKey};
    return *HttpClient::Create(o);
  }
  Sleeps sleeps_;
  std::unique_ptr<FixtureServer> server_;
};

TEST_F(HttpClientTest, ConditionalRequestGets304) {
  Serve([](const FixtureRequest& r) {
    FixtureResponse resp;
    resp.headers = {{"ETag", "\"v1\""}, {"Last-Modified", "Wed, 01 May 2024 10:00:00 GMT"}};
    if (r.headers.count("if-none-match") && r.headers.at("if-none-match") == "\"v1\"") resp.status = 304;
    resp.body = "{}";
    return resp;
  });
  auto c = Client();
  ASSERT_OK_AND_ASSIGN(HttpResponse a, c->Get({server_->base_url() + "/x", {}, "", ""}));
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.etag, "\"v1\"");
  EXPECT_EQ(a.last_modified, "Wed, 01 May 2024 10:00:00 GMT");
  EXPECT_EQ(a.content_type, "application/json");
  ASSERT_OK_AND_ASSIGN(HttpResponse b, c->Get({server_->base_url() + "/x", {}, a.etag, a.last_modified}));
  EXPECT_TRUE(b.not_modified());
  EXPECT_TRUE(b.body.empty());
}

TEST_F(HttpClientTest, RetriesServerErrorsWithGrowingBackoff) {
  int calls = 0;
  Serve([&](const FixtureRequest&) {
    FixtureResponse r;
    if (++calls < 4) r.status = (calls == 2 ? 502 : 500);
    r.body = "{\"ok\":1}";
    return r;
  });
  ASSERT_OK_AND_ASSIGN(HttpResponse r, Client(5)->Get({server_->base_url() + "/x", {}, "", ""}));
  EXPECT_EQ(r.attempts, 4);
  ASSERT_EQ(sleeps_.ms.size(), 3u);
  // Jittered within [base*2^n / 2, base*2^n] for base 500 ms.
  EXPECT_GE(sleeps_.ms[0], 250);
  EXPECT_LE(sleeps_.ms[0], 500);
  EXPECT_GE(sleeps_.ms[1], 500);
  EXPECT_LE(sleeps_.ms[1], 1000);
  EXPECT_GE(sleeps_.ms[2], 1000);
  EXPECT_LE(sleeps_.ms[2], 2000);
}

TEST_F(HttpClientTest, HonoursRetryAfter) {
  int calls = 0;
  Serve([&](const FixtureRequest&) {
    FixtureResponse r;
    if (++calls == 1) {
      r.status = 429;
      r.headers = {{"Retry-After", "7"}};
    }
    return r;
  });
  ASSERT_OK(Client()->Get({server_->base_url() + "/x", {}, "", ""}).status());
  EXPECT_EQ(sleeps_.ms, std::vector<int64_t>{7000});
}

TEST_F(HttpClientTest, RetryAfterBeyondTheLimitFailsAtOnce) {
  Serve([&](const FixtureRequest&) {
    FixtureResponse r;
    r.status = 429;
    r.headers = {{"Retry-After", "86400"}};
    return r;
  });
  EXPECT_THAT(Client()->Get({server_->base_url() + "/x", {}, "", ""}).status(),
              StatusIs(StatusCode::kUnavailable, "retry after 86400 s, more than max_retry_after_s=300"));
  EXPECT_TRUE(sleeps_.ms.empty());
  EXPECT_EQ(server_->requests(), 1);
}

TEST_F(HttpClientTest, PersistentErrorsGiveUpAndRedactTheKey) {
  Serve([&](const FixtureRequest& r) {
    FixtureResponse resp;
    resp.status = 503;
    resp.content_type = "text/plain";
    resp.body = "overloaded while serving " + r.target;  // echoes the api key back
    return resp;
  });
  auto s = Client(2)->Get({server_->base_url() + "/x?api_key=" + kKey, {}, "", ""}).status();
  EXPECT_THAT(s, StatusIs(StatusCode::kUnavailable, "after 3 attempts"));
  EXPECT_THAT(s.message(), HasSubstr("HTTP 503"));
  EXPECT_THAT(s.message(), Not(HasSubstr(kKey)));
  EXPECT_EQ(server_->requests(), 3);
}

TEST_F(HttpClientTest, ClientErrorsAreNotRetried) {
  Serve([&](const FixtureRequest& r) {
    FixtureResponse resp;
    resp.status = r.path == "/missing" ? 404 : 403;
    return resp;
  });
  auto c = Client();
  EXPECT_THAT(c->Get({server_->base_url() + "/missing", {}, "", ""}).status(), StatusIs(StatusCode::kNotFound, "HTTP 404"));
  EXPECT_THAT(c->Get({server_->base_url() + "/secret", {}, "", ""}).status(),
              StatusIs(StatusCode::kPermissionDenied, "HTTP 403"));
  EXPECT_EQ(server_->requests(), 2);
}

TEST_F(HttpClientTest, TruncatedBodyIsRetriedThenDataLoss) {
  Serve([&](const FixtureRequest&) {
    FixtureResponse r;
    r.body = std::string(10000, 'x');
    r.truncate = true;
    return r;
  });
  EXPECT_THAT(Client(1)->Get({server_->base_url() + "/x", {}, "", ""}).status(),
              StatusIs(StatusCode::kDataLoss, "truncated"));
  EXPECT_EQ(server_->requests(), 2);
}

TEST_F(HttpClientTest, SlowServerTimesOut) {
  Serve([&](const FixtureRequest&) {
    FixtureResponse r;
    r.delay_ms = 1500;
    return r;
  });
  HttpClientOptions o;
  o.max_retries = 0;
  o.timeout_ms = 200;
  auto c = *HttpClient::Create(o);
  EXPECT_THAT(c->Get({server_->base_url() + "/x", {}, "", ""}).status(), StatusIs(StatusCode::kDeadlineExceeded, "timed out"));
}

TEST_F(HttpClientTest, ConnectionRefusedIsUnavailable) {
  Serve([](const FixtureRequest&) { return FixtureResponse(); });
  const std::string url = server_->base_url() + "/x";
  server_->Stop();
  EXPECT_THAT(Client(1)->Get({url, {}, "", ""}).status(), StatusIs(StatusCode::kUnavailable, "after 2 attempts"));
  EXPECT_EQ(sleeps_.ms.size(), 1u);
}

TEST_F(HttpClientTest, BodyOverTheLimitIsRejected) {
  Serve([&](const FixtureRequest&) {
    FixtureResponse r;
    r.body = std::string(50 << 20, ' ');  // 50 MB
    return r;
  });
  HttpClientOptions o;
  o.max_body_bytes = 8 << 20;
  auto c = *HttpClient::Create(o);
  EXPECT_THAT(c->Get({server_->base_url() + "/x", {}, "", ""}).status(),
              StatusIs(StatusCode::kResourceExhausted, "exceeds the limit of 8388608 bytes"));
  // The default limit (256 MiB) takes it.
  auto d = *HttpClient::Create(HttpClientOptions());
  ASSERT_OK_AND_ASSIGN(HttpResponse big, d->Get({server_->base_url() + "/x", {}, "", ""}));
  EXPECT_EQ(big.body.size(), 50u << 20);
}

TEST_F(HttpClientTest, RateLimitSpacesRequests) {
  Serve([](const FixtureRequest&) { return FixtureResponse(); });
  HttpClientOptions o;
  o.requests_per_minute = 20;  // one request every 3 s
  o.sleep = sleeps_.Fn();
  auto c = *HttpClient::Create(o);
  for (int i = 0; i < 3; ++i) ASSERT_OK(c->Get({server_->base_url() + "/x", {}, "", ""}).status());
  ASSERT_EQ(sleeps_.ms.size(), 2u);
  EXPECT_GT(sleeps_.ms[0], 2900);
  EXPECT_LE(sleeps_.ms[0], 3000);
}

TEST_F(HttpClientTest, BadOptions) {
  HttpClientOptions o;
  o.timeout_ms = 0;
  EXPECT_THAT(HttpClient::Create(o).status(), StatusIs(StatusCode::kInvalidArgument));
  o = HttpClientOptions();
  o.max_retries = 50;
  EXPECT_THAT(HttpClient::Create(o).status(), StatusIs(StatusCode::kInvalidArgument));
}

// ------------------------------------------------------------------------------ LoadSource

// A provider simulator: FRED, SDMX, World Bank and in-house routes with ETags, plus a
// per-path override to inject failures.
class LoadSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("no_proxy", "127.0.0.1", 1);
    store::StoreOptions so;
    store_ = *store::OpenStore("memory:", so);
    server_ = std::make_unique<FixtureServer>([this](const FixtureRequest& r) { return Handle(r); });
    ASSERT_TRUE(server_->Start());
  }

  FixtureResponse Handle(const FixtureRequest& r) {
    std::lock_guard<std::mutex> l(mu_);
    paths_.push_back(r.target);
    if (auto it = override_.find(r.path); it != override_.end()) return it->second(r);
    FixtureResponse resp;
    std::string body;
    if (r.path == "/fred/series") {
      body = testing::ReadFixture("fred_series_GDPC1.json");
    } else if (r.path == "/fred/series/observations") {
      body = r.query.count("realtime_end") ? testing::ReadFixture("alfred_observations_GDPC1.json") : fred_obs_;
    } else if (r.path == "/data/EXR/M.USD+JPY.EUR.SP00.A") {
      body = testing::ReadFixture("ecb_exr.csv");
      resp.content_type = "application/vnd.sdmx.data+csv; version=1.0.0; charset=utf-8";
    } else if (r.path == "/data/ICP/M..000000") {
      body = testing::ReadFixture("ecb_sdmx.json");
      resp.content_type = "application/vnd.sdmx.data+json; version=1.0.0";
    } else if (r.path == "/data/PRC_HICP_MANR/M.RCH_A.EA20") {
      body = hicp_;
      resp.content_type = "application/vnd.sdmx.data+csv; version=2.0.0";
    } else if (r.path == "/country/USA;DEU/indicator/NY.GDP.MKTP.CD") {
      body = testing::ReadFixture(r.query.count("page") && r.query.at("page") == "2" ? "worldbank_page2.json" : "worldbank_page1.json");
    } else {
      resp.status = 404;
      return resp;
    }
    const std::string etag = "\"" + Sha256Hex(body).substr(0, 16) + "\"";
    resp.headers = {{"ETag", etag}};
    if (r.headers.count("if-none-match") && r.headers.at("if-none-match") == etag) {
      resp.status = 304;
      return resp;
    }
    resp.body = body;
    return resp;
  }

  SourceConfig Fred(std::vector<std::string> ids = {"GDPC1"}) {
    SourceConfig s;
    s.name = "fred";
    s.type = SourceType::kFred;
    s.base_url = server_->base_url();
    s.key_prefix = "fred";
    s.api_key_env = "FRED_API_KEY";
    for (const auto& id : ids) s.series.push_back({id, "", {}, {}});
    return s;
  }

  SourceLoadOptions Opts() {
    SourceLoadOptions o;
    o.loader = "test";
    o.getenv = [](const std::string& n) -> std::optional<std::string> {
      if (n == "FRED_API_KEY") return std::string(kKey);
      return std::nullopt;
    };
    o.adjust_http = [this](HttpClientOptions& h) {
      h.sleep = sleeps_.Fn();
      h.timeout_ms = 1000;
      h.max_retries = 2;
    };
    return o;
  }

  // Everything a reader can see, to check that failed loads change nothing.
  std::string Dump() {
    std::string out;
    auto list = store_->series().ListSeries();
    for (const auto& s : *list) {
      out += s.key + "|" + std::string(FrequencyCode(s.frequency)) + "|" + s.title + ":";
      auto ts = store_->series().ReadAsOf(s.key, std::nullopt);
      for (int64_t i = 0; i < ts->size(); ++i) out += " " + (ts->at(i) ? FormatDouble(*ts->at(i)) : ".");
      out += " v" + std::to_string(store_->series().ListVintages(s.key)->size()) + "\n";
    }
    out += "audit " + std::to_string(store_->metadata().AuditHead()->first);
    return out;
  }

  void Override(const std::string& path, std::function<FixtureResponse(const FixtureRequest&)> f) {
    std::lock_guard<std::mutex> l(mu_);
    override_[path] = std::move(f);
  }

  std::unique_ptr<store::Store> store_;
  std::unique_ptr<FixtureServer> server_;
  std::mutex mu_;
  std::map<std::string, std::function<FixtureResponse(const FixtureRequest&)>> override_;
  std::vector<std::string> paths_;
  std::string fred_obs_ = testing::ReadFixture("fred_observations_GDPC1.json");
  std::string hicp_ = testing::ReadFixture("eurostat_sdmx_csv2_delete.csv");
  Sleeps sleeps_;
};

TEST_F(LoadSourceTest, FredLoadThenUnchangedReloadCosts304) {
  ASSERT_OK_AND_ASSIGN(SourceLoadResult r, LoadSource(Fred(), Opts(), *store_));
  EXPECT_TRUE(r.committed);
  EXPECT_EQ(r.requests, 2);  // fred/series (new series) + observations
  EXPECT_EQ(r.report.vintages_created, 1);
  ASSERT_OK_AND_ASSIGN(auto info, store_->series().GetSeries("fred:GDPC1"));
  EXPECT_EQ(info.title, "Real Gross Domestic Product");
  EXPECT_EQ(info.frequency, Frequency::kQuarterly);
  ASSERT_OK_AND_ASSIGN(TimeSeries ts, store_->series().ReadAsOf("fred:GDPC1", std::nullopt));
  EXPECT_EQ(ts.start().ToString(), "2023Q1");
  EXPECT_EQ(ts.size(), 5);
  EXPECT_EQ(ts.at(2), std::nullopt);  // '.'
  EXPECT_EQ(*ts.at(4), 22758.752);
  ASSERT_OK_AND_ASSIGN(auto vintages, store_->series().ListVintages("fred:GDPC1"));
  EXPECT_EQ(vintages[0].realtime_start.ToString(), "2024-05-01");
  // The api key went to the server but is in no stored text.
  EXPECT_THAT(paths_.back(), HasSubstr(std::string("api_key=") + kKey));
  EXPECT_THAT(vintages[0].source, Not(HasSubstr(kKey)));
  auto audit = *store_->metadata().ReadAudit(1, 1000);
  for (const auto& e : audit) EXPECT_THAT(CompactJson(e.event.details), Not(HasSubstr(kKey)));

  const std::string before = Dump();
  ASSERT_OK_AND_ASSIGN(SourceLoadResult again, LoadSource(Fred(), Opts(), *store_));
  EXPECT_FALSE(again.committed);
  EXPECT_EQ(again.requests, 1);
  EXPECT_EQ(again.not_modified, 1);
  EXPECT_EQ(again.series_unchanged, 1);
  EXPECT_EQ(Dump(), before);

  // A revision: new body, new ETag, new vintage.
  fred_obs_.replace(fred_obs_.find("22758.752"), 9, "22800.000");
  {
    std::string& b = fred_obs_;
    for (size_t p; (p = b.find("2024-05-01")) != std::string::npos;) b.replace(p, 10, "2024-06-01");
  }
  ASSERT_OK_AND_ASSIGN(SourceLoadResult rev, LoadSource(Fred(), Opts(), *store_));
  EXPECT_TRUE(rev.committed);
  EXPECT_EQ(rev.report.vintages_created, 1);
  EXPECT_EQ(*store_->series().ReadAsOf("fred:GDPC1", std::nullopt)->at(4), 22800.0);
  EXPECT_EQ(*store_->series().ReadAsOf("fred:GDPC1", *Date::Parse("2024-05-15"))->at(4), 22758.752);
}

// Issue 27: a FRED series with `frequency:` configured needs no fred/series request, even on
// its first load (docs/connectors.md); its title is the configured one.
TEST_F(LoadSourceTest, Issue27FredFrequencySkipsTheSeriesRequest) {
  SourceConfig src = Fred();
  src.series[0].metadata.frequency = Frequency::kQuarterly;
  src.series[0].metadata.title = "GDP (configured)";
  ASSERT_OK_AND_ASSIGN(SourceLoadResult r, LoadSource(src, Opts(), *store_));
  EXPECT_TRUE(r.committed);
  EXPECT_EQ(r.requests, 1);  // observations only
  ASSERT_EQ(paths_.size(), 1u);
  EXPECT_THAT(paths_[0], HasSubstr("/fred/series/observations?"));
  ASSERT_OK_AND_ASSIGN(auto info, store_->series().GetSeries("fred:GDPC1"));
  EXPECT_EQ(info.title, "GDP (configured)");
  EXPECT_EQ(info.frequency, Frequency::kQuarterly);
  // Without it, the first load asks fred/series for the frequency.
  paths_.clear();
  ASSERT_OK(LoadSource(Fred({"GDPC1"}), Opts(), *store_).status());  // stored now: no fred/series either
  for (const auto& p : paths_) EXPECT_THAT(p, Not(HasSubstr("/fred/series?")));
  // A wrong configured frequency is caught by the dates, not silently stored.
  SourceConfig annual = Fred({"NEWQ"});  // quarterly data configured as annual
  annual.series[0].metadata.frequency = Frequency::kAnnual;
  paths_.clear();
  auto bad = LoadSource(annual, Opts(), *store_);
  EXPECT_FALSE(bad.ok());
  for (const auto& p : paths_) EXPECT_THAT(p, Not(HasSubstr("/fred/series?")));
}

TEST_F(LoadSourceTest, AlfredVintagesBecomeStoreVintages) {
  SourceConfig s = Fred();
  s.type = SourceType::kAlfred;
  ASSERT_OK_AND_ASSIGN(SourceLoadResult r, LoadSource(s, Opts(), *store_));
  EXPECT_EQ(r.report.vintages_created, 6);
  EXPECT_THAT(paths_.back(), HasSubstr("realtime_start=1776-07-04&realtime_end=9999-12-31"));
  auto as_of = [&](const char* d) { return *store_->series().ReadAsOf("fred:GDPC1", *Date::Parse(d)); };
  EXPECT_EQ(*as_of("2023-11-01").at(*Period::Parse("2023Q3")), 22491.567);
  EXPECT_EQ(*as_of("2023-12-01").at(*Period::Parse("2023Q3")), 22506.363);
  EXPECT_EQ(as_of("2024-03-01").at(*Period::Parse("2023Q4")), std::nullopt);  // '.' in that vintage
  EXPECT_EQ(*as_of("2024-04-01").at(*Period::Parse("2023Q4")), 22679.255);
}

TEST_F(LoadSourceTest, FredPagingOverOffsetAndLimit) {
  // 5 observations, 2 per page: offset 0, 2, 4.
  Override("/fred/series/observations", [this](const FixtureRequest& r) {
    FixtureResponse resp;
    const int off = std::stoi(r.query.at("offset")), lim = std::stoi(r.query.at("limit"));
    Json full = *ParseJson(fred_obs_);
    Json page = full;
    page["offset"] = off;
    page["limit"] = lim;
    page["observations"] = Json::array();
    for (int i = off; i < std::min<int>(off + lim, full["observations"].size()); ++i)
      page["observations"].push_back(full["observations"][i]);
    resp.body = page.dump();
    return resp;
  });
  SourceConfig s = Fred();
  s.page_size = 2;
  ASSERT_OK_AND_ASSIGN(SourceLoadResult r, LoadSource(s, Opts(), *store_));
  EXPECT_EQ(r.requests, 4);
  EXPECT_EQ(store_->series().ReadAsOf("fred:GDPC1", std::nullopt)->size(), 5);
}

TEST_F(LoadSourceTest, SdmxCsvJsonAndDeletions) {
  SourceConfig ecb;
  ecb.name = "ecb";
  ecb.type = SourceType::kSdmx;
  ecb.base_url = server_->base_url();
  ecb.key_prefix = "ecb";
  ecb.series = {{"EXR/M.USD+JPY.EUR.SP00.A", "", {}, {}}};
  ASSERT_OK_AND_ASSIGN(SourceLoadResult r, LoadSource(ecb, Opts(), *store_));
  EXPECT_EQ(r.report.series_created, 2);
  EXPECT_EQ(*store_->series().ReadAsOf("ecb:EXR.M.JPY.EUR.SP00.A", std::nullopt)->at(1), 161.38);

  ecb.format = "json";
  ecb.series = {{"ICP/M..000000", "", {}, {}}};
  ASSERT_OK_AND_ASSIGN(r, LoadSource(ecb, Opts(), *store_));
  EXPECT_EQ(r.report.series_created, 2);
  EXPECT_EQ(store_->series().ReadAsOf("ecb:ICP.M.DE.000000", std::nullopt)->size(), 3);

  // Eurostat: first a load with values for 2024-01..03, then the provider deletes 2024-03.
  SourceConfig es = ecb;
  es.name = "eurostat";
  es.key_prefix = "eurostat";
  es.format = "csv";
  es.series = {{"PRC_HICP_MANR/M.RCH_A.EA20", "", {}, {}}};
  hicp_ = "STRUCTURE,STRUCTURE_ID,ACTION,freq,unit,geo,TIME_PERIOD,OBS_VALUE\n"
          "dataflow,ESTAT:PRC_HICP_MANR(1.0),I,M,RCH_A,EA20,2024-03,2.4\n";
  SourceLoadOptions o = Opts();
  ASSERT_OK(LoadSource(es, o, *store_).status());
  const std::string key = "eurostat:PRC_HICP_MANR.M.RCH_A.EA20";
  EXPECT_EQ(*store_->series().ReadAsOf(key, std::nullopt)->at(*Period::Parse("2024-03")), 2.4);
  hicp_ = testing::ReadFixture("eurostat_sdmx_csv2_delete.csv");
  ASSERT_OK(LoadSource(es, o, *store_).status());
  ASSERT_OK_AND_ASSIGN(TimeSeries after, store_->series().ReadAsOf(key, std::nullopt));
  EXPECT_EQ(after.end().ToString(), "2024-02");  // the deleted 2024-03 is gone from the latest view
  // --since becomes updatedAfter.
  o.since = *Date::Parse("2024-04-01");
  ASSERT_OK(LoadSource(es, o, *store_).status());
  EXPECT_THAT(paths_.back(), HasSubstr("updatedAfter=2024-04-01"));
}

TEST_F(LoadSourceTest, WorldBankPages) {
  SourceConfig wb;
  wb.name = "wb";
  wb.type = SourceType::kWorldBank;
  wb.base_url = server_->base_url();
  wb.key_prefix = "wb";
  wb.country = "USA;DEU";
  wb.series = {{"NY.GDP.MKTP.CD", "", {}, {}}};
  ASSERT_OK_AND_ASSIGN(SourceLoadResult r, LoadSource(wb, Opts(), *store_));
  EXPECT_EQ(r.requests, 2);
  EXPECT_EQ(r.report.series_created, 2);
  EXPECT_EQ(*store_->series().ReadAsOf("wb:NY.GDP.MKTP.CD.DEU", std::nullopt)->at(*Period::Parse("2022")), 4082469490000.0);
}

// Each failure: the load fails with a specific error, and the store is unchanged.
struct FailureCase {
  const char* name;
  std::function<FixtureResponse()> respond;
  StatusCode code;
  const char* message;
  int timeout_ms = 700;  // per attempt; the slow-server case relies on it
};

TEST_F(LoadSourceTest, FailuresStoreNothing) {
  ASSERT_OK(LoadSource(Fred(), Opts(), *store_).status());
  const std::string before = Dump();
  const std::vector<FailureCase> cases = {
      {"500", [] { FixtureResponse r; r.status = 500; r.body = "boom"; return r; }, StatusCode::kUnavailable, "HTTP 500"},
      {"html with 200",
       [] {
         FixtureResponse r;
         r.content_type = "text/html; charset=utf-8";
         r.body = "<!DOCTYPE html><html><body>Maintenance</body></html>";
         return r;
       },
       StatusCode::kInvalidArgument, "the server sent an HTML page"},
      {"wrong content type",
       [] { FixtureResponse r; r.content_type = "application/xml"; r.body = "<message/>"; return r; },
       StatusCode::kInvalidArgument, "expected JSON but the Content-Type is application/xml"},
      {"truncated", [] { FixtureResponse r; r.body = std::string(4000, ' ') + "{}"; r.truncate = true; return r; },
       StatusCode::kDataLoss, "truncated"},
      {"slow", [] { FixtureResponse r; r.delay_ms = 1400; r.body = "{}"; return r; }, StatusCode::kDeadlineExceeded,
       "timed out"},
      {"invalid utf-8",
       [] {
         FixtureResponse r;
         r.body = "{\"count\":1,\"observations\":[{\"date\":\"2024-01-01\",\"value\":\"1\xff\"}]}";
         return r;
       },
       StatusCode::kInvalidArgument, "invalid JSON"},
      {"50 MB over the limit", [] { FixtureResponse r; r.body = std::string(50 << 20, ' '); return r; },
       StatusCode::kResourceExhausted, "exceeds the limit", 20000},  // building 50 MB is slow under sanitizers
      {"200 with a FRED error body", [] { FixtureResponse r; r.body = testing::ReadFixture("fred_error.json"); return r; },
       StatusCode::kInvalidArgument, "FRED replied with an error"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Override("/fred/series/observations", [&](const FixtureRequest&) { return c.respond(); });
    SourceConfig s = Fred({"GDPC1", "UNRATE"});
    s.series[0].metadata.frequency = Frequency::kQuarterly;
    SourceLoadOptions o = Opts();
    o.force = true;  // no 304 shortcut
    auto adjust = o.adjust_http;
    o.adjust_http = [adjust, &c](HttpClientOptions& h) {
      adjust(h);
      h.max_body_bytes = 16 << 20;
      h.max_retries = 1;
      h.timeout_ms = c.timeout_ms;
    };
    auto r = LoadSource(s, o, *store_);
    EXPECT_THAT(r.status(), StatusIs(c.code, c.message));
    EXPECT_THAT(r.status().message(), HasSubstr("source fred"));
    EXPECT_THAT(r.status().message(), Not(HasSubstr(kKey)));
    EXPECT_EQ(Dump(), before);
  }
}

TEST_F(LoadSourceTest, OneBadSeriesStoresNoneOfTheSource) {
  // GDPC1 is fine, the second series' request fails: GDPC1 must not be stored either.
  Override("/fred/series", [](const FixtureRequest& r) {
    FixtureResponse resp;
    if (r.query.at("series_id") == "BROKEN") {
      resp.status = 400;
      resp.body = testing::ReadFixture("fred_error.json");
      return resp;
    }
    resp.body = testing::ReadFixture("fred_series_GDPC1.json");
    return resp;
  });
  const std::string before = Dump();
  EXPECT_THAT(LoadSource(Fred({"GDPC1", "BROKEN"}), Opts(), *store_).status(),
              StatusIs(StatusCode::kInvalidArgument, "HTTP 400"));
  EXPECT_EQ(Dump(), before);
}

TEST_F(LoadSourceTest, RetryAfterThenSuccess) {
  int calls = 0;
  Override("/fred/series/observations", [&](const FixtureRequest&) {
    FixtureResponse r;
    if (++calls == 1) {
      r.status = 429;
      r.headers = {{"Retry-After", "3"}};
      return r;
    }
    r.body = fred_obs_;
    return r;
  });
  ASSERT_OK(LoadSource(Fred(), Opts(), *store_).status());
  EXPECT_EQ(sleeps_.ms, std::vector<int64_t>{3000});
}

TEST_F(LoadSourceTest, ValidationRulesRejectLoudly) {
  const std::string before = Dump();
  auto with = [&](ValidationRules rules) {
    SourceConfig s = Fred();
    s.series[0].rules = rules;
    SourceLoadOptions o = Opts();
    o.quarantine = false;
    return LoadSource(s, o, *store_).status();
  };
  EXPECT_THAT(with({.max = 20000.0}), StatusIs(StatusCode::kInvalidArgument,
                                               "series fred:GDPC1, 2023Q1: value 22112.329 is above the allowed maximum 20000 (rule max)"));
  EXPECT_THAT(with({.frequency = Frequency::kMonthly}),
              StatusIs(StatusCode::kInvalidArgument, "expected frequency M, the source sends Q (rule frequency)"));
  EXPECT_THAT(with({.max_staleness_days = 30}), StatusIs(StatusCode::kInvalidArgument, "(rule max_staleness_days)"));
  EXPECT_THAT(with({.max_gap = 0}), StatusIs(StatusCode::kInvalidArgument, "ending at 2023Q3 (rule max_gap)"));
  EXPECT_EQ(Dump(), before);
  // Within the rules it loads; then a revision larger than max_revision is refused.
  ASSERT_OK(with({.min = 0.0, .max_revision = 100.0, .max_gap = 1}));
  fred_obs_.replace(fred_obs_.find("22758.752"), 9, "23758.752");
  const std::string loaded = Dump();
  SourceConfig s = Fred();
  s.series[0].rules.max_revision = 100;
  SourceLoadOptions refuse = Opts();
  refuse.quarantine = false;
  EXPECT_THAT(LoadSource(s, refuse, *store_).status(),
              StatusIs(StatusCode::kInvalidArgument, "2024Q1: revision from 22758.752 to 23758.752 exceeds the maximum revision 100"));
  EXPECT_EQ(Dump(), loaded);
}

// ---- quarantine

std::string SeriesOnly(const std::string& dump) { return dump.substr(0, dump.rfind("audit ")); }

std::vector<std::string> AuditActions(store::Store& st) {
  std::vector<std::string> out;
  auto entries = st.metadata().ReadAudit(1, 0);
  for (const auto& e : *entries) out.push_back(e.event.action);
  return out;
}

TEST_F(LoadSourceTest, ViolatingLoadIsQuarantinedThenReleased) {
  const std::string before = SeriesOnly(Dump());
  SourceConfig s = Fred();
  s.series[0].rules.max = 20000.0;
  ASSERT_OK_AND_ASSIGN(SourceLoadResult r, LoadSource(s, Opts(), *store_));
  EXPECT_FALSE(r.committed);
  EXPECT_GT(r.quarantine_id, 0);
  EXPECT_FALSE(r.quarantine_repeat);
  ASSERT_THAT(r.violations, SizeIs(1));
  EXPECT_THAT(r.violations[0], HasSubstr("series fred:GDPC1, 2023Q1: value 22112.329 is above the allowed maximum 20000"));
  EXPECT_EQ(SeriesOnly(Dump()), before);
  EXPECT_THAT(AuditActions(*store_), ElementsAre("load.quarantine"));
  // The provider sends the same bad data again: one entry, audited again.
  ASSERT_OK_AND_ASSIGN(SourceLoadResult again, LoadSource(s, Opts(), *store_));
  EXPECT_EQ(again.quarantine_id, r.quarantine_id);
  EXPECT_TRUE(again.quarantine_repeat);
  auto pending = store_->metadata().Transact<std::vector<store::QuarantineRecord>>(
      [](store::MetadataTxn& t) { return t.ListQuarantine({store::QuarantineState::kPending}); });
  ASSERT_THAT(*pending, SizeIs(1));
  EXPECT_EQ((*pending)[0].series, std::vector<std::string>{"fred:GDPC1"});
  EXPECT_EQ((*pending)[0].created_by, "test");

  EXPECT_THAT(ReleaseQuarantined(r.quarantine_id, {"reviewer", "  ", false}, *store_).status(),
              StatusIs(StatusCode::kInvalidArgument, "a reason is required"));
  EXPECT_THAT(ReleaseQuarantined(r.quarantine_id + 1, {"reviewer", "ok", false}, *store_).status(),
              StatusIs(StatusCode::kNotFound, "no quarantined load"));
  EXPECT_EQ(SeriesOnly(Dump()), before);
  ASSERT_OK_AND_ASSIGN(store::LoadReport rep,
                       ReleaseQuarantined(r.quarantine_id, {"reviewer", "real-GDP rebasing, checked", false}, *store_));
  EXPECT_GT(rep.load_id, 0);
  EXPECT_EQ(rep.vintages_created, 1);
  EXPECT_THAT(Dump(), HasSubstr("fred:GDPC1|Q|Real Gross Domestic Product:"));
  EXPECT_THAT(Dump(), HasSubstr("22112.329"));
  auto q = store_->metadata().Transact<store::QuarantineRecord>(
      [&](store::MetadataTxn& t) { return t.GetQuarantine(r.quarantine_id); });
  EXPECT_EQ(q->state, store::QuarantineState::kReleased);
  EXPECT_EQ(q->decided_by, "reviewer");
  EXPECT_EQ(q->load_id, rep.load_id);
  EXPECT_THAT(AuditActions(*store_), ElementsAre("load.quarantine", "load.quarantine", "ingest", "quarantine.release"));
  // Decided once only.
  const std::string released = Dump();
  EXPECT_THAT(ReleaseQuarantined(r.quarantine_id, {"reviewer", "again", false}, *store_).status(),
              StatusIs(StatusCode::kFailedPrecondition, "was already released by reviewer"));
  EXPECT_THAT(DropQuarantined(r.quarantine_id, {"reviewer", "oops", false}, *store_),
              StatusIs(StatusCode::kFailedPrecondition, "was already released"));
  EXPECT_EQ(Dump(), released);
}

TEST_F(LoadSourceTest, DroppedQuarantineStoresNothing) {
  const std::string before = SeriesOnly(Dump());
  SourceConfig s = Fred();
  s.series[0].rules.max_gap = 0;
  ASSERT_OK_AND_ASSIGN(SourceLoadResult r, LoadSource(s, Opts(), *store_));
  ASSERT_GT(r.quarantine_id, 0);
  EXPECT_THAT(DropQuarantined(r.quarantine_id, {"reviewer", "", false}, *store_),
              StatusIs(StatusCode::kInvalidArgument, "a reason is required"));
  EXPECT_THAT(DropQuarantined(999, {"reviewer", "x", false}, *store_), StatusIs(StatusCode::kNotFound));
  ASSERT_OK(DropQuarantined(r.quarantine_id, {"reviewer", "provider glitch", false}, *store_));
  EXPECT_EQ(SeriesOnly(Dump()), before);
  EXPECT_THAT(AuditActions(*store_), ElementsAre("load.quarantine", "quarantine.drop"));
  EXPECT_THAT(ReleaseQuarantined(r.quarantine_id, {"reviewer", "changed my mind", false}, *store_).status(),
              StatusIs(StatusCode::kFailedPrecondition, "was already dropped"));
  EXPECT_EQ(SeriesOnly(Dump()), before);
}

TEST_F(LoadSourceTest, ReleaseRefusesToRollBackANewerVintageUnlessForced) {
  ASSERT_OK(LoadSource(Fred(), Opts(), *store_).status());
  // A big revision is quarantined ...
  fred_obs_.replace(fred_obs_.find("22758.752"), 9, "23758.752");
  SourceConfig strict = Fred();
  strict.series[0].rules.max_revision = 100;
  ASSERT_OK_AND_ASSIGN(SourceLoadResult q, LoadSource(strict, Opts(), *store_));
  ASSERT_GT(q.quarantine_id, 0);
  EXPECT_THAT(q.violations[0], HasSubstr("revision from 22758.752 to 23758.752"));
  // ... then newer, acceptable data arrives.
  fred_obs_.replace(fred_obs_.find("23758.752"), 9, "22760.000");
  ASSERT_OK_AND_ASSIGN(SourceLoadResult ok, LoadSource(strict, Opts(), *store_));
  ASSERT_TRUE(ok.committed);
  const std::string current = SeriesOnly(Dump());
  EXPECT_THAT(ReleaseQuarantined(q.quarantine_id, {"reviewer", "fine", false}, *store_).status(),
              StatusIs(StatusCode::kFailedPrecondition, "got a newer vintage"));
  EXPECT_EQ(SeriesOnly(Dump()), current);
  ASSERT_OK(ReleaseQuarantined(q.quarantine_id, {"reviewer", "the provider confirmed it", true}, *store_).status());
  EXPECT_THAT(Dump(), HasSubstr("23758.752"));
}

TEST_F(LoadSourceTest, NotQuarantiningFailsAndStoresNothing) {
  const std::string before = Dump();
  SourceConfig s = Fred();
  s.series[0].rules.max = 20000.0;
  SourceLoadOptions o = Opts();
  o.quarantine = false;
  EXPECT_THAT(LoadSource(s, o, *store_).status(), StatusIs(StatusCode::kInvalidArgument, "source fred: series fred:GDPC1"));
  EXPECT_EQ(Dump(), before);
}

TEST(QuarantinePayloadTest, RoundTripsAndRejectsDamage) {
  ParsedSeries s;
  s.info.key = "x:a\"b";
  s.info.frequency = Frequency::kMonthly;
  s.info.title = "T\nitle";
  s.observations.push_back({*Period::Parse("2024-01", Frequency::kMonthly), 1.5, std::nullopt});
  s.observations.push_back({*Period::Parse("2024-02", Frequency::kMonthly), std::nullopt, *Date::Parse("2024-03-05")});
  s.observations.push_back({*Period::Parse("2024-03", Frequency::kMonthly), 0.1 + 0.2, std::nullopt});
  const std::string text = EncodeQuarantinePayload({s});
  ASSERT_OK_AND_ASSIGN(auto back, DecodeQuarantinePayload(text));
  ASSERT_THAT(back, SizeIs(1));
  EXPECT_EQ(back[0].info.key, s.info.key);
  EXPECT_EQ(back[0].info.title, s.info.title);
  EXPECT_EQ(back[0].info.frequency, Frequency::kMonthly);
  ASSERT_THAT(back[0].observations, SizeIs(3));
  EXPECT_EQ(back[0].observations[0].value, 1.5);
  EXPECT_FALSE(back[0].observations[1].value.has_value());
  EXPECT_EQ(back[0].observations[1].realtime_start->ToString(), "2024-03-05");
  EXPECT_EQ(*back[0].observations[2].value, 0.1 + 0.2);  // exact round trip
  EXPECT_EQ(EncodeQuarantinePayload(back), text);
  EXPECT_THAT(DecodeQuarantinePayload("{").status(), StatusIs(StatusCode::kDataLoss, "not JSON"));
  EXPECT_THAT(DecodeQuarantinePayload(R"({"format":"other","series":[]})").status(),
              StatusIs(StatusCode::kDataLoss, "not an almanac.quarantine.v1 document"));
  EXPECT_THAT(DecodeQuarantinePayload(
                  R"({"format":"almanac.quarantine.v1","series":[{"key":"k","frequency":"M","observations":[["2024-13",1,null]]}]})")
                  .status(),
              StatusIs(StatusCode::kDataLoss, "k:"));
  EXPECT_THAT(DecodeQuarantinePayload(
                  R"({"format":"almanac.quarantine.v1","series":[{"key":"k","frequency":"M","observations":[["2024-01","1",null]]}]})")
                  .status(),
              StatusIs(StatusCode::kDataLoss, "neither a number nor null"));
}

TEST_F(LoadSourceTest, MissingApiKeyIsAPreconditionError) {
  SourceLoadOptions o = Opts();
  o.getenv = [](const std::string&) { return std::optional<std::string>(); };
  EXPECT_THAT(LoadSource(Fred(), o, *store_).status(),
              StatusIs(StatusCode::kFailedPrecondition, "FRED_API_KEY (api_key_env) is not set"));
  EXPECT_EQ(server_->requests(), 0);
}

TEST_F(LoadSourceTest, GenericCsvSource) {
  Override("/inhouse.csv", [](const FixtureRequest&) {
    FixtureResponse r;
    r.content_type = "text/csv";
    r.body = testing::ReadFixture("inhouse.csv");
    return r;
  });
  SourceConfig s;
  s.name = "inhouse";
  s.type = SourceType::kHttpCsv;
  s.base_url = server_->base_url() + "/inhouse.csv";
  s.key_prefix = "inhouse";
  s.mapping = {"month", "level", "code", "published", "", "", "inhouse", std::nullopt};
  ASSERT_OK_AND_ASSIGN(SourceLoadResult r, LoadSource(s, Opts(), *store_));
  EXPECT_EQ(r.report.series_created, 2);
  ASSERT_OK_AND_ASSIGN(auto v, store_->series().ListVintages("inhouse:CREDIT_HH"));
  EXPECT_EQ(v.size(), 2u);  // one per published date
}

}  // namespace
}  // namespace almanac::data
