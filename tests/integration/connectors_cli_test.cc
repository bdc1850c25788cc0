// `almanac load` end to end: the real binary fetches from an HTTP server on 127.0.0.1
// started by the test, in each provider's format (issue 8).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <thread>
#include <sstream>

#include "data/testing/fixture_server.h"
#include "integration/cli_runner.h"

namespace almanac::testing {
namespace {

using data::testing::FixtureRequest;
using data::testing::FixtureResponse;
using data::testing::FixtureServer;
using data::testing::ReadFixture;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kKey[] = "clitestkey0123456789abcdefabcdef";

class LoadCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ws_ = dir_ / "ws";
    server_ = std::make_unique<FixtureServer>([this](const FixtureRequest& r) { return Handle(r); });
    ASSERT_TRUE(server_->Start());
    WriteFile(dir_ / "sources.yaml", "sources:\n"
                                     "  - name: fred\n"
                                     "    type: fred\n"
                                     "    base_url: " + server_->base_url() + "\n"
                                     "    api_key_env: FRED_API_KEY\n"
                                     "    retries: 1\n"
                                     "    timeout_s: 2\n"
                                     "    series: [GDPC1]\n"
                                     "  - name: ecb\n"
                                     "    type: ecb\n"
                                     "    base_url: " + server_->base_url() + "\n"
                                     "    retries: 0\n"
                                     "    series:\n"
                                     "      - id: EXR/M.USD+JPY.EUR.SP00.A\n"
                                     "        rules: {min: 0, max: 1000}\n");
    ASSERT_EQ(Run({"init"}).exit_code, 0);
  }

  FixtureResponse Handle(const FixtureRequest& r) {
    std::lock_guard<std::mutex> l(mu_);
    FixtureResponse resp;
    if (fail_) {
      resp.status = 500;
      resp.body = "internal error for " + r.target;
      return resp;
    }
    if (r.path == "/fred/series") resp.body = ReadFixture("fred_series_GDPC1.json");
    else if (r.path == "/fred/series/observations") resp.body = ReadFixture("fred_observations_GDPC1.json");
    else if (r.path == "/data/EXR/M.USD+JPY.EUR.SP00.A") {
      resp.body = ecb_;
      resp.content_type = "application/vnd.sdmx.data+csv; version=1.0.0";
    } else {
      resp.status = 404;
      return resp;
    }
    const std::string etag = "\"" + std::to_string(std::hash<std::string>()(resp.body)) + "\"";
    resp.headers = {{"ETag", etag}};
    if (r.headers.count("if-none-match") && r.headers.at("if-none-match") == etag) {
      resp.status = 304;
      resp.body.clear();
    }
    return resp;
  }

  CommandResult Run(std::vector<std::string> args, bool with_key = true, std::vector<std::string> env = {}) {
    args.insert(args.begin(), {"--workspace", ws_});
    env.push_back("no_proxy=127.0.0.1");
    if (with_key) env.push_back(std::string("FRED_API_KEY=") + kKey);
    return RunAlmanac(args, "", env);
  }

  std::string State() {
    std::string s = Run({"series", "list", "--format", "csv"}).out;
    for (const char* k : {"fred:GDPC1", "ecb:EXR.M.USD.EUR.SP00.A", "ecb:EXR.M.JPY.EUR.SP00.A"}) {
      s += Run({"series", "show", k, "--format", "csv"}).out;
      s += Run({"series", "vintages", k, "--format", "csv"}).out;
    }
    return s;
  }

  TempDir dir_;
  std::string ws_;
  std::unique_ptr<FixtureServer> server_;
  std::mutex mu_;
  bool fail_ = false;
  std::string ecb_ = ReadFixture("ecb_exr.csv");
};

// libcurl is opened on first use (src/data/libcurl.h): when it cannot be, the load says which
// library and package, fetches nothing and stores nothing.
TEST_F(LoadCliTest, MissingLibcurlIsAClearErrorAndStoresNothing) {
  const std::string before = State();
  auto r = Run({"load", dir_ / "sources.yaml"}, true, {"ALMANAC_LIBCURL=/nonexistent/libcurl.so.4"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("cannot load /nonexistent/libcurl.so.4 (install the Debian package libcurl4)"));
  EXPECT_THAT(r.err, Not(HasSubstr("internal error")));
  EXPECT_EQ(State(), before);
}

TEST_F(LoadCliTest, LoadsEverySourceThenCosts304) {
  auto r = Run({"load", dir_ / "sources.yaml", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("fred,loaded,2,0,"));
  EXPECT_THAT(r.out, HasSubstr("ecb,loaded,1,0,"));
  auto show = Run({"series", "show", "fred:GDPC1", "--format", "csv"});
  EXPECT_THAT(show.out, HasSubstr("2024Q1,22758.752"));
  EXPECT_THAT(Run({"series", "show", "ecb:EXR.M.JPY.EUR.SP00.A", "--format", "csv"}).out, HasSubstr("2024-02,161.38"));
  const std::string before = State();

  auto again = Run({"load", dir_ / "sources.yaml", "--format", "csv"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("fred,unchanged,1,1,"));
  EXPECT_THAT(again.out, HasSubstr("ecb,unchanged,1,1,"));
  EXPECT_EQ(State(), before);

  // --source picks one; a misspelt one gets a hint and loads nothing.
  auto one = Run({"load", dir_ / "sources.yaml", "--source", "ecb", "--force", "--format", "csv"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_THAT(one.out, Not(HasSubstr("fred")));
  auto typo = Run({"load", dir_ / "sources.yaml", "--source", "ebc"});
  EXPECT_EQ(typo.exit_code, 1);
  EXPECT_THAT(typo.err, HasSubstr("has no source 'ebc' (did you mean 'ecb'?)"));
}

TEST_F(LoadCliTest, FailuresStoreNothingAndAreAuditedWithoutTheKey) {
  {
    std::lock_guard<std::mutex> l(mu_);
    fail_ = true;
  }
  const std::string before = State();
  auto r = Run({"load", dir_ / "sources.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("source fred: GET http://127.0.0.1:"));
  EXPECT_THAT(r.err, HasSubstr("HTTP 500"));
  EXPECT_THAT(r.err, HasSubstr("api_key=***"));
  EXPECT_THAT(r.err, Not(HasSubstr(kKey)));
  EXPECT_EQ(State(), before);
  auto audit = Run({"audit", "list", "--format", "json"});
  EXPECT_THAT(audit.out, HasSubstr("source.load_failed"));
  EXPECT_THAT(audit.out, Not(HasSubstr(kKey)));
  EXPECT_EQ(Run({"audit", "verify"}).exit_code, 0);
}

TEST_F(LoadCliTest, ValidationFailureAndMissingKey) {
  {
    std::lock_guard<std::mutex> l(mu_);
    ecb_ = ReadFixture("ecb_exr.csv");
    ecb_.replace(ecb_.find("161.38"), 6, "1161.38");
  }
  const std::string before = State();
  auto r = Run({"load", dir_ / "sources.yaml", "--source", "ecb"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("series ecb:EXR.M.JPY.EUR.SP00.A, 2024-02: value 1161.38 is above the allowed maximum 1000 (rule max)"));
  auto nokey = Run({"load", dir_ / "sources.yaml", "--source", "fred"}, /*with_key=*/false);
  EXPECT_EQ(nokey.exit_code, 1);
  EXPECT_THAT(nokey.err, HasSubstr("FRED_API_KEY (api_key_env) is not set"));
  EXPECT_EQ(State(), before);
  auto bad = Run({"load", dir_ / "missing.yaml"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("cannot read source configuration"));
  auto since = Run({"load", dir_ / "sources.yaml", "--since", "yesterday"});
  EXPECT_EQ(since.exit_code, 1);
  EXPECT_THAT(since.err, HasSubstr("--since"));
}

TEST_F(LoadCliTest, QuarantineListShowReleaseDrop) {
  {
    std::lock_guard<std::mutex> l(mu_);
    ecb_ = ReadFixture("ecb_exr.csv");
    ecb_.replace(ecb_.find("161.38"), 6, "1161.38");
  }
  const std::string before = State();
  auto refused = Run({"load", dir_ / "sources.yaml", "--source", "ecb", "--no-quarantine"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr("(rule max)"));
  EXPECT_EQ(Run({"quarantine", "list", "--format", "csv"}).out, "id,source,state,created_at,created_by,series,observations,first_reason,decided_by,decided_at\n");

  auto r = Run({"load", dir_ / "sources.yaml", "--source", "ecb"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("source ecb: the load broke 1 validation rule and is quarantined as 1; nothing was stored"));
  EXPECT_THAT(r.err, HasSubstr("value 1161.38 is above the allowed maximum 1000 (rule max)"));
  EXPECT_THAT(r.out, HasSubstr("quarantined #1"));
  EXPECT_EQ(State(), before);
  auto list = Run({"quarantine", "list", "--format", "json"});
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_THAT(list.out, HasSubstr("\"state\": \"pending\""));
  EXPECT_THAT(list.out, HasSubstr("\"source\": \"ecb\""));
  auto show = Run({"quarantine", "show", "1", "--format", "json"});
  EXPECT_EQ(show.exit_code, 0);
  EXPECT_THAT(show.out, HasSubstr("ecb:EXR.M.JPY.EUR.SP00.A"));
  EXPECT_THAT(show.out, HasSubstr("1161.38"));
  EXPECT_THAT(show.out, HasSubstr("(rule max)"));

  // Bad decisions change nothing.
  auto noreason = Run({"quarantine", "release", "1"});
  EXPECT_EQ(noreason.exit_code, 2);
  EXPECT_THAT(noreason.err, HasSubstr("--reason"));
  auto unknown = Run({"quarantine", "drop", "99", "--reason", "x"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("no quarantined load 99"));
  auto notnumber = Run({"quarantine", "show", "1;DROP TABLE quarantine"});
  EXPECT_EQ(notnumber.exit_code, 2);
  EXPECT_EQ(State(), before);
  // A payload edited in the database behind almanac's back no longer matches its SHA-256:
  // release refuses it and stores nothing; put back, it can be released.
  auto edit = [&](const std::string& from, const std::string& to) {
    const std::string sql = "UPDATE quarantine SET payload = replace(payload, '" + from + "', '" + to + "') WHERE id = 1";
    return std::system(("sqlite3 '" + ws_ + "/almanac.db' \"" + sql + "\"").c_str());
  };
  ASSERT_EQ(edit("1161.38", "1161.39"), 0);
  auto tampered = Run({"quarantine", "release", "1", "--reason", "looks fine"});
  EXPECT_EQ(tampered.exit_code, 3);  // a corrupt store (docs/cli.md)
  EXPECT_THAT(tampered.err, HasSubstr("does not match its SHA-256; it was altered"));
  EXPECT_EQ(State(), before);
  EXPECT_THAT(Run({"quarantine", "list", "--format", "csv"}).out, HasSubstr("pending"));
  ASSERT_EQ(edit("1161.39", "1161.38"), 0);

  auto rel = Run({"--user", "reviewer", "quarantine", "release", "1", "--reason", "JPY rebased; confirmed by the ECB"});
  EXPECT_EQ(rel.exit_code, 0) << rel.err;
  EXPECT_THAT(rel.out, HasSubstr("released quarantined load 1 as load"));
  EXPECT_THAT(Run({"series", "show", "ecb:EXR.M.JPY.EUR.SP00.A", "--format", "csv"}).out, HasSubstr("1161.38"));
  auto again = Run({"quarantine", "drop", "1", "--reason", "late"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.err, HasSubstr("was already released by reviewer"));
  EXPECT_EQ(Run({"quarantine", "list", "--format", "csv"}).out.find("ecb"), std::string::npos);
  EXPECT_THAT(Run({"quarantine", "list", "--all", "--format", "csv"}).out, HasSubstr("released"));
  auto audit = Run({"audit", "export"});
  EXPECT_THAT(audit.out, HasSubstr("load.quarantine"));
  EXPECT_THAT(audit.out, HasSubstr("quarantine.release"));
  EXPECT_THAT(audit.out, HasSubstr("JPY rebased"));
  EXPECT_EQ(Run({"audit", "verify"}).exit_code, 0);
}

}  // namespace
}  // namespace almanac::testing

namespace almanac::testing {
namespace {

TEST(IngestFollowTest, NdjsonBatchesFromStdin) {
  TempDir dir;
  const std::string ws = dir / "ws";
  ASSERT_EQ(RunAlmanac({"--workspace", ws, "init"}).exit_code, 0);
  const std::string stream =
      "{\"series\":\"push:a\",\"period\":\"2024-01\",\"value\":1}\n"
      "{\"series\":\"push:a\",\"period\":\"2024-02\",\"value\":2}\n"
      "\n"
      "{\"series\":\"push:a\",\"period\":\"2024-03\",\"value\":\"oops\"}\n"   // rejects batch 2 (lines 4-5)
      "{\"series\":\"push:b\",\"period\":\"2024Q1\",\"value\":5}\n"
      "{\"series\":\"push:b\",\"period\":\"2024Q2\",\"value\":6,\"realtime_start\":\"2024-08-01\"}\n";
  auto r = RunAlmanac({"--workspace", ws, "ingest", "--follow", "-", "--batch-lines", "2", "--format", "csv"}, stream);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("batch lines 4-5 rejected, nothing stored: line 4: \"value\" 'oops' is not a number"));
  EXPECT_THAT(r.out, HasSubstr("-,2,1,3,2"));  // batches, rejected, records, vintages
  EXPECT_THAT(RunAlmanac({"--workspace", ws, "series", "show", "push:a", "--format", "csv"}).out,
              HasSubstr("2024-01,1\n2024-02,2\n"));
  EXPECT_EQ(RunAlmanac({"--workspace", ws, "series", "show", "push:b", "--format", "csv"}).out, "period,value\n2024Q2,6\n");
  auto usage = RunAlmanac({"--workspace", ws, "ingest", "--follow", "a", "b"});
  EXPECT_EQ(usage.exit_code, 2);
}

// --follow FILE follows the file like `tail -f`: lines appended later become new batches
// until SIGTERM, which stops it cleanly (flushing what it has).
TEST(IngestFollowTest, FollowsAGrowingFileUntilSigterm) {
  TempDir dir;
  const std::string ws = dir / "ws";
  ASSERT_EQ(RunAlmanac({"--workspace", ws, "init"}).exit_code, 0);
  const std::string feed = dir / "feed.ndjson";
  WriteFile(feed, "{\"series\":\"push:f\",\"period\":\"2024-01\",\"value\":1}\n");
  const pid_t pid = StartAlmanac({"--workspace", ws, "ingest", "--follow", feed, "--flush-ms", "100", "--format", "csv"},
                                 dir / "err.log", nullptr, dir / "out.log");
  ASSERT_GT(pid, 0);
  auto value_count = [&]() {
    auto r = RunAlmanac({"--workspace", ws, "series", "show", "push:f", "--format", "csv"});
    return r.exit_code == 0 ? std::count(r.out.begin(), r.out.end(), '\n') - 1 : 0;
  };
  auto wait_for = [&](long n) {
    for (int i = 0; i < 100 && value_count() != n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return value_count();
  };
  EXPECT_EQ(wait_for(1), 1);
  {
    std::ofstream out(feed, std::ios::app);
    out << "{\"series\":\"push:f\",\"period\":\"2024-02\",\"value\":2}\n"
        << "{\"series\":\"push:f\",\"period\":\"2024-03\",\"value\":3}\n";
  }
  EXPECT_EQ(wait_for(3), 3);
  ::kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << ReadFile(dir / "err.log");
  EXPECT_EQ(WEXITSTATUS(status), 0) << ReadFile(dir / "err.log");
  EXPECT_THAT(ReadFile(dir / "out.log"), HasSubstr(",0,3,"));  // (batches,) rejected, records(, vintages)
  EXPECT_EQ(RunAlmanac({"--workspace", ws, "series", "show", "push:f", "--format", "csv"}).out,
            "period,value\n2024-01,1\n2024-02,2\n2024-03,3\n");
}

// `almanac scheduler --sources`: a scheduled source is loaded (--now: at once) and its new data
// triggers the pipeline that says `trigger: on_new_data`; the run shows in `runs list`.
TEST(SchedulerCliTest, ScheduledLoadTriggersTheDependentPipeline) {
  TempDir dir;
  std::string csv = "period,value\n";
  for (int i = 0; i < 32; ++i) csv += std::to_string(2016 + i / 4) + "Q" + std::to_string(i % 4 + 1) + "," + std::to_string(100 + i * 0.7 + (i % 3)) + "\n";
  FixtureServer server([&csv](const FixtureRequest& r) {
    FixtureResponse resp;
    resp.content_type = "text/csv";
    if (r.path == "/gdp.csv") resp.body = csv;
    else resp.status = 404;
    return resp;
  });
  ASSERT_TRUE(server.Start());
  WriteFile(dir / "sources.yaml", "sources:\n"
                                  "  - name: gdp\n"
                                  "    type: http_csv\n"
                                  "    url: " + server.base_url() + "/gdp.csv\n"
                                  "    schedule: \"0 6 * * *\"\n"
                                  "    retries: 0\n"
                                  "    mapping: {period: period, value: value, series_key: in:gdp}\n");
  WriteFile(dir / "gdp.yaml", "name: gdp_fc\ndata:\n  series: [in:gdp]\ntarget: in:gdp\nhorizon: 2\n"
                              "models:\n  - type: naive\nevaluation:\n  origins: 2\ntrigger: on_new_data\n");
  const std::string ws = dir / "ws";
  const std::vector<std::string> env = {"no_proxy=127.0.0.1"};
  ASSERT_EQ(RunAlmanac({"--workspace", ws, "init"}).exit_code, 0);
  auto r = RunAlmanac({"--workspace", ws, "--format", "csv", "scheduler", dir / "gdp.yaml", "--sources", dir / "sources.yaml",
                       "--now", "--max-runs", "2"},
                      "", env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("source gdp: load committed"));
  EXPECT_THAT(r.err, HasSubstr("pipeline gdp_fc: triggered by load:gdp@"));
  EXPECT_THAT(r.out, HasSubstr("load:gdp,"));
  EXPECT_THAT(r.out, HasSubstr(",committed,"));
  EXPECT_THAT(r.out, HasSubstr("gdp_fc,"));
  EXPECT_EQ(server.requests(), 1);
  auto runs = RunAlmanac({"--workspace", ws, "runs", "list", "--format", "csv"});
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  EXPECT_THAT(runs.out, HasSubstr("gdp_fc"));
  EXPECT_THAT(runs.out, HasSubstr("finished"));
  EXPECT_THAT(runs.out, HasSubstr(",on_new_data"));  // why the run happened (issue 27)
  EXPECT_THAT(RunAlmanac({"--workspace", ws, "series", "show", "in:gdp", "--format", "csv"}).out, HasSubstr("2023Q4,"));

  // A bad source schedule: refused before anything is fetched, naming the file and source.
  WriteFile(dir / "bad.yaml", "sources:\n"
                              "  - name: gdp\n"
                              "    type: http_csv\n"
                              "    url: " + server.base_url() + "/gdp.csv\n"
                              "    schedule: \"every day\"\n"
                              "    mapping: {period: period, value: value, series_key: in:gdp}\n");
  auto bad = RunAlmanac({"--workspace", ws, "scheduler", "--sources", dir / "bad.yaml", "--max-runs", "1"}, "", env);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.err, HasSubstr(dir / "bad.yaml" + ": source gdp: schedule:"));
  EXPECT_EQ(server.requests(), 1);
  // Issue 27: a source's schedule may name its time zone; an unknown one is refused when read.
  WriteFile(dir / "badtz.yaml", "sources:\n"
                                "  - name: gdp\n"
                                "    type: http_csv\n"
                                "    url: " + server.base_url() + "/gdp.csv\n"
                                "    schedule: \"35 8 * * 1-5\"\n"
                                "    timezone: America/New_Yrok\n"
                                "    mapping: {period: period, value: value, series_key: in:gdp}\n");
  auto badtz = RunAlmanac({"--workspace", ws, "scheduler", "--sources", dir / "badtz.yaml", "--max-runs", "1"}, "", env);
  EXPECT_NE(badtz.exit_code, 0);
  EXPECT_THAT(badtz.err, HasSubstr("timezone: unknown time zone 'America/New_Yrok'"));
  EXPECT_EQ(server.requests(), 1);
}

}  // namespace
}  // namespace almanac::testing
