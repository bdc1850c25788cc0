// Scheduled loads and event-driven pipeline runs: the scheduler loads a source from a real
// HTTP server on 127.0.0.1 into a SQLite store on its cron schedule, and re-runs the pipelines
// that say `trigger: on_new_data` when the load created new vintages of their series.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/pipeline.h"
#include "core/testing/status_matchers.h"
#include "pipeline/testing/pipeline_testing.h"
#include "data/testing/fixture_server.h"

namespace almanac::pipeline {
namespace {

using ::almanac::pipeline::testing::At;

using ::almanac::testing::StatusIs;
using data::testing::FixtureRequest;
using data::testing::FixtureResponse;
using data::testing::FixtureServer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

using ::almanac::pipeline::testing::BuiltinModels;

// Quarterly values 2010Q1.. as published on `vintage` (CSV with a realtime_start column).
std::string Csv(int quarters, const std::string& vintage) {
  std::string out = "period,value,published\n";
  double v = 100;
  for (int i = 0; i < quarters; ++i) {
    v *= 1.004 + 0.01 * ((i % 3) - 1);
    out += (*Period::Parse("2010Q1") + i).ToString() + "," + FormatDouble(v) + "," + vintage + "\n";
  }
  return out;
}

std::string TriggeredPipeline(const std::string& name, const std::string& series) {
  return "name: " + name + "\ndata:\n  series: [" + series + "]\ntarget: " + series +
         "\nhorizon: 2\nmodels:\n  - type: naive\nevaluation:\n  origins: 2\ntrigger: on_new_data\n";
}

class ScheduledLoadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("almanac_schedloads_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store::StoreOptions o;
    o.clock = &clock_;
    o.create_if_missing = true;
    ASSERT_OK_AND_ASSIGN(store_, store::OpenStore("sqlite:" + (dir_ / "store.db").string(), o));
    ASSERT_OK_AND_ASSIGN(artifacts_, store::OpenArtifactStore("memory:"));
    server_ = std::make_unique<FixtureServer>([this](const FixtureRequest& r) { return Handle(r); });
    ASSERT_TRUE(server_->Start());
    sources_ = Write("sources.yaml", "sources:\n"
                                     "  - name: gdp\n"
                                     "    type: http_csv\n"
                                     "    url: " + server_->base_url() + "/gdp.csv\n"
                                     "    schedule: \"*/10 * * * *\"\n"
                                     "    retries: 0\n"
                                     "    timeout_s: 5\n"
                                     "    mapping: {period: period, value: value, realtime_start: published, series_key: in:gdp}\n");
    // A series no source loads, for the pipeline that must not be triggered.
    auto load = *store_->series().BeginLoad({.loader = "test", .default_realtime_start = *Date::Parse("2020-01-01")});
    for (int i = 0; i < 30; ++i) EXPECT_OK(load->Add("other:cpi", *Period::Parse("2010Q1") + i, 100.0 + i, std::nullopt));
    EXPECT_OK(load->Commit());
    clock_.Set(At("2024-05-06T10:01:00Z"));
  }
  void TearDown() override {
    server_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  FixtureResponse Handle(const FixtureRequest& r) {
    std::lock_guard<std::mutex> l(mu_);
    FixtureResponse resp;
    resp.content_type = "text/csv";
    if (r.path != "/gdp.csv") {
      resp.status = 404;
      return resp;
    }
    if (fail_) {
      resp.status = 500;
      resp.body = "upstream database down";
      return resp;
    }
    resp.body = body_;
    if (etag_) {
      const std::string etag = "\"" + std::to_string(std::hash<std::string>()(body_)) + "\"";
      resp.headers = {{"ETag", etag}};
      auto it = r.headers.find("if-none-match");
      if (it != r.headers.end() && it->second == etag) {
        resp.status = 304;
        resp.body.clear();
      }
    }
    return resp;
  }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string p = (dir_ / name).string();
    std::ofstream(p) << text;
    return p;
  }

  Environment Env() { return {store_.get(), artifacts_.get(), &BuiltinModels(), &clock_, 1}; }

  SchedulerOptions Options() {
    SchedulerOptions so;
    so.load_files = {sources_};
    so.lock_dir = dir_.string();
    so.retry_base_ms = 1000;
    so.user = "sched-user";
    so.log = [this](const std::string& l) { log_.push_back(l); };
    so.sleep_until = [this](int64_t t) {
      if (t > clock_.NowMicros()) clock_.Set(t);
      if (on_sleep_) on_sleep_(t);
    };
    return so;
  }

  std::vector<store::RunRecord> Runs(const std::string& pipeline) {
    store::RunFilter f;
    f.pipeline = pipeline;
    return *tracking::Tracker(store_->metadata(), *artifacts_, clock_).ListRuns(f);
  }

  void SetBody(std::string body, bool etag = true) {
    std::lock_guard<std::mutex> l(mu_);
    body_ = std::move(body);
    etag_ = etag;
  }

  std::filesystem::path dir_;
  FixedClock clock_{At("2024-05-06T10:00:00Z")};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::ArtifactStore> artifacts_;
  std::unique_ptr<FixtureServer> server_;
  std::string sources_;
  std::vector<std::string> log_;
  std::function<void(int64_t)> on_sleep_;
  std::mutex mu_;
  std::string body_ = Csv(36, "2024-04-30");
  bool etag_ = true;
  bool fail_ = false;
};

TEST_F(ScheduledLoadsTest, LoadsOnScheduleAndTriggersOnlyDependentPipelines) {
  SchedulerOptions so = Options();
  so.pipeline_files = {Write("gdp.yaml", TriggeredPipeline("gdp_fc", "in:gdp")),
                       Write("cpi.yaml", TriggeredPipeline("cpi_fc", "other:cpi"))};
  // 10:10 first load; 10:20 unchanged (304); 10:30 a new quarter; 10:40 the same data again
  // from a server without ETags (a full fetch that changes nothing).
  on_sleep_ = [this](int64_t t) {
    if (t == At("2024-05-06T10:30:00Z")) SetBody(Csv(37, "2024-05-06"));
    if (t == At("2024-05-06T10:40:00Z")) SetBody(Csv(37, "2024-05-06"), /*etag=*/false);
  };
  std::vector<std::string> outcomes;
  so.on_load = [&](const ScheduledRun& l, double seconds, const data::SourceLoadResult* r) {
    EXPECT_EQ(l.kind, "load");
    EXPECT_GE(seconds, 0);
    EXPECT_NE(r, nullptr);
    outcomes.push_back(l.outcome);
  };
  std::vector<std::string> runs;
  so.on_run = [&](const ScheduledRun& r, double, const RunResult* result) {
    EXPECT_NE(result, nullptr);
    runs.push_back(r.pipeline);
  };
  so.max_runs = 6;
  ASSERT_OK_AND_ASSIGN(auto h, RunScheduler(Env(), so));
  ASSERT_EQ(h.size(), 6u);
  EXPECT_THAT(outcomes, ElementsAre("committed", "unchanged", "committed", "unchanged"));
  EXPECT_THAT(runs, ElementsAre("gdp_fc", "gdp_fc"));

  EXPECT_EQ(h[0].kind, "load");
  EXPECT_EQ(h[0].source, "gdp");
  EXPECT_EQ(FormatTimestamp(h[0].fired_at), "2024-05-06T10:10:00.000000Z");
  EXPECT_GT(h[0].load_id, 0);
  EXPECT_EQ(h[0].vintages_created, 1);
  EXPECT_EQ(h[1].kind, "pipeline");
  EXPECT_EQ(h[1].pipeline, "gdp_fc");
  EXPECT_EQ(h[1].status, store::RunStatus::kFinished);
  EXPECT_EQ(h[1].triggered_by, "load:gdp@2024-05-06T10:10:00.000000Z (load " + std::to_string(h[0].load_id) + ")");
  EXPECT_EQ(h[2].outcome, "unchanged");
  EXPECT_EQ(h[2].load_id, 0);
  EXPECT_EQ(h[3].outcome, "committed");
  EXPECT_GT(h[3].load_id, h[0].load_id);
  EXPECT_EQ(h[4].pipeline, "gdp_fc");
  EXPECT_THAT(h[4].triggered_by, HasSubstr("load:gdp@2024-05-06T10:30:00"));
  EXPECT_EQ(h[5].outcome, "unchanged");  // committed a load, but no new vintage
  EXPECT_EQ(h[5].vintages_created, 0);

  // Two runs of the dependent pipeline, none of the other; the data was loaded as the user.
  EXPECT_EQ(Runs("gdp_fc").size(), 2u);
  EXPECT_TRUE(Runs("cpi_fc").empty());
  ASSERT_OK_AND_ASSIGN(auto vintages, store_->series().ListVintages("in:gdp"));
  ASSERT_EQ(vintages.size(), 2u);
  for (const auto& v : vintages) EXPECT_EQ(v.loader, "sched-user");
  EXPECT_EQ(vintages[1].realtime_start.ToString(), "2024-05-06");
  // The pipeline whose series no source loads was named in a warning.
  bool warned = false;
  for (const auto& l : log_)
    warned = warned || (l.find("warning: pipeline cpi_fc") != std::string::npos && l.find("other:cpi") != std::string::npos);
  EXPECT_TRUE(warned);
}

TEST_F(ScheduledLoadsTest, FailingSourceIsRetriedWithBackoffAndStoresNothing) {
  fail_ = true;
  SchedulerOptions so = Options();
  so.pipeline_files = {Write("gdp.yaml", TriggeredPipeline("gdp_fc", "in:gdp"))};
  std::vector<int64_t> sleeps;
  on_sleep_ = [&](int64_t t) { sleeps.push_back(t); };
  std::vector<std::string> outcomes;
  so.on_load = [&](const ScheduledRun& l, double, const data::SourceLoadResult* r) {
    EXPECT_EQ(r, nullptr);
    outcomes.push_back(l.outcome);
  };
  so.max_runs = 1;
  ASSERT_OK_AND_ASSIGN(auto series_before, store_->series().ListSeries());
  ASSERT_OK_AND_ASSIGN(auto h, RunScheduler(Env(), so));
  ASSERT_EQ(h.size(), 1u);  // no triggered run
  EXPECT_EQ(h[0].kind, "load");
  EXPECT_EQ(h[0].status, store::RunStatus::kFailed);
  EXPECT_EQ(h[0].attempts, 3);  // load_max_retries 2
  EXPECT_EQ(h[0].outcome, "failed");
  EXPECT_THAT(h[0].error, HasSubstr("500"));
  EXPECT_THAT(outcomes, ElementsAre("failed"));
  EXPECT_EQ(server_->requests(), 3);
  // The fire at 10:10, then 1 s and 2 s backoff.
  ASSERT_EQ(sleeps.size(), 3u);
  EXPECT_EQ(sleeps[0], At("2024-05-06T10:10:00Z"));
  EXPECT_EQ(sleeps[1] - sleeps[0], 1000000);
  EXPECT_EQ(sleeps[2] - sleeps[1], 2000000);
  ASSERT_OK_AND_ASSIGN(auto series_after, store_->series().ListSeries());
  EXPECT_EQ(series_after.size(), series_before.size());
  EXPECT_THAT(store_->series().ListVintages("in:gdp"), StatusIs(StatusCode::kNotFound));
  EXPECT_TRUE(Runs("gdp_fc").empty());
}

TEST_F(ScheduledLoadsTest, QuarantinedLoadIsNotRetriedAndTriggersNothing) {
  sources_ = Write("strict.yaml", "sources:\n"
                                  "  - name: gdp\n"
                                  "    type: http_csv\n"
                                  "    url: " + server_->base_url() + "/gdp.csv\n"
                                  "    schedule: \"*/10 * * * *\"\n"
                                  "    retries: 0\n"
                                  "    rules: {max: 1}\n"
                                  "    mapping: {period: period, value: value, realtime_start: published, series_key: in:gdp}\n");
  SchedulerOptions so = Options();
  so.pipeline_files = {Write("gdp.yaml", TriggeredPipeline("gdp_fc", "in:gdp"))};
  std::vector<std::string> outcomes;
  so.on_load = [&](const ScheduledRun& l, double, const data::SourceLoadResult* r) {
    ASSERT_NE(r, nullptr);
    EXPECT_GT(r->quarantine_id, 0);
    outcomes.push_back(l.outcome);
  };
  so.max_runs = 1;
  ASSERT_OK_AND_ASSIGN(auto h, RunScheduler(Env(), so));
  ASSERT_EQ(h.size(), 1u);  // no triggered run
  EXPECT_EQ(h[0].outcome, "quarantined");
  EXPECT_EQ(h[0].attempts, 1);  // not retried
  EXPECT_THAT(h[0].error, HasSubstr("quarantined as 1: series in:gdp"));
  EXPECT_THAT(h[0].error, HasSubstr("(rule max)"));
  EXPECT_THAT(outcomes, ElementsAre("quarantined"));
  EXPECT_THAT(store_->series().ListVintages("in:gdp"), StatusIs(StatusCode::kNotFound));
  EXPECT_TRUE(Runs("gdp_fc").empty());
  auto pending = store_->metadata().Transact<std::vector<store::QuarantineRecord>>(
      [](store::MetadataTxn& t) { return t.ListQuarantine({store::QuarantineState::kPending}); });
  ASSERT_THAT(*pending, SizeIs(1));
  EXPECT_EQ((*pending)[0].created_by, "sched-user");
}

TEST_F(ScheduledLoadsTest, TwoSchedulersOnOneStoreLoadAndTriggerOnce) {
  auto make = [&](const std::string& holder, std::vector<std::string>* loads, int max_runs) {
    SchedulerOptions so = Options();
    so.lock_dir.clear();  // as on two hosts: only the store's claim is shared
    so.pipeline_files = {Write("gdp.yaml", TriggeredPipeline("gdp_fc", "in:gdp"))};
    so.claim = [this, holder](const std::string& name, int64_t fired_at) {
      return store_->metadata().Transact<bool>(
          [&](store::MetadataTxn& t) { return t.ClaimScheduledRun(name, fired_at, holder); });
    };
    so.on_load = [loads](const ScheduledRun& l, double, const data::SourceLoadResult*) { loads->push_back(l.outcome); };
    so.max_runs = max_runs;
    return so;
  };
  std::vector<std::string> a_loads, b_loads;
  ASSERT_OK_AND_ASSIGN(auto a, RunScheduler(Env(), make("host-a", &a_loads, 2)));
  clock_.Set(At("2024-05-06T10:01:00Z"));  // the second host fires the same times
  ASSERT_OK_AND_ASSIGN(auto b, RunScheduler(Env(), make("host-b", &b_loads, 1)));
  ASSERT_EQ(a.size(), 2u);  // the load at 10:10 and its triggered run
  EXPECT_EQ(a[1].pipeline, "gdp_fc");
  EXPECT_THAT(a_loads, ElementsAre("committed"));
  ASSERT_EQ(b.size(), 1u);  // the load at 10:10 only: no triggered run
  EXPECT_TRUE(b[0].skipped);
  EXPECT_THAT(b_loads, ElementsAre("skipped"));
  EXPECT_THAT(b[0].error, HasSubstr("another scheduler already ran this fire"));
  EXPECT_EQ(Runs("gdp_fc").size(), 1u);
  EXPECT_EQ(server_->requests(), 1);
}

TEST_F(ScheduledLoadsTest, BadConfigurationIsRejectedBeforeAnythingRuns) {
  // A source schedule that is not cron: the error names the file and the source.
  const std::string bad = Write("bad_sources.yaml", "sources:\n"
                                                    "  - name: gdp\n"
                                                    "    type: http_csv\n"
                                                    "    url: " + server_->base_url() + "/gdp.csv\n"
                                                    "    schedule: \"61 * * * *\"\n"
                                                    "    mapping: {period: period, value: value, series_key: in:gdp}\n");
  SchedulerOptions so = Options();
  so.load_files = {bad};
  so.max_runs = 1;
  auto r = RunScheduler(Env(), so);
  EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument, bad + ": source gdp: schedule:"));
  EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument, "minute"));
  // A misspelt trigger (key or value) gets a did-you-mean, naming file and line.
  so = Options();
  std::string typo = TriggeredPipeline("gdp_fc", "in:gdp");
  typo.replace(typo.find("on_new_data"), 11, "on_new_dta");
  so.pipeline_files = {Write("typo.yaml", typo)};
  EXPECT_THAT(RunScheduler(Env(), so),
              StatusIs(StatusCode::kInvalidArgument, "typo.yaml:10: trigger: unknown trigger 'on_new_dta' (did you mean 'on_new_data'?)"));
  std::string key_typo = TriggeredPipeline("gdp_fc", "in:gdp");
  key_typo.replace(key_typo.find("trigger:"), 8, "triger:");
  EXPECT_THAT(ParsePipeline(key_typo, "p.yaml", BuiltinModels()),
              StatusIs(StatusCode::kInvalidArgument, "p.yaml:10: triger: unknown key 'triger' (did you mean 'trigger'?)"));
  EXPECT_THAT(ParsePipeline("name: s\ndata:\n  series: [x]\n  snapshot: q1\ntarget: x\nmodels:\n  - type: naive\ntrigger: on_new_data\n", "s.yaml", BuiltinModels()),
              StatusIs(StatusCode::kInvalidArgument, "never sees new data"));
  // Nothing with a schedule: a triggered pipeline without sources cannot fire.
  so = Options();
  so.load_files.clear();
  so.pipeline_files = {Write("gdp.yaml", TriggeredPipeline("gdp_fc", "in:gdp"))};
  EXPECT_THAT(RunScheduler(Env(), so), StatusIs(StatusCode::kFailedPrecondition, "nothing to schedule"));
  // None of it touched the server or the store.
  EXPECT_EQ(server_->requests(), 0);
  EXPECT_THAT(store_->series().ListVintages("in:gdp"), StatusIs(StatusCode::kNotFound));
  EXPECT_TRUE(Runs("gdp_fc").empty());
}

}  // namespace
}  // namespace almanac::pipeline
