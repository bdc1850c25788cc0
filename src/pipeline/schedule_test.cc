// Issue 27: schedules in a time zone (spring-forward and fall-back days), backfills and
// catch-up of fires missed while the scheduler was down.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/pipeline.h"
#include "core/testing/status_matchers.h"
#include "pipeline/testing/pipeline_testing.h"

namespace almanac::pipeline {
namespace {

using ::almanac::pipeline::testing::At;
using ::almanac::pipeline::testing::BuiltinModels;
using ::almanac::testing::StatusIs;
using ::testing::HasSubstr;

CronSchedule ZonedCron(const std::string& text, const std::string& zone) {
  return *CronSchedule::Parse(text, *TimeZone::Load(zone));
}

// The fires after `from`, as UTC text.
std::vector<std::string> NextFires(const CronSchedule& c, const std::string& from, int n) {
  std::vector<std::string> out;
  int64_t t = At(from);
  for (int i = 0; i < n; ++i) {
    t = *c.Next(t);
    out.push_back(FormatTimestamp(t).substr(0, 16));
  }
  return out;
}

TEST(ZonedCronTest, NewYorkSpringForwardSkippedTimeFiresOnceAtTheEndOfTheGap) {
  // 2026-03-08: clocks go from 02:00 EST to 03:00 EDT; 02:30 does not exist that night.
  const CronSchedule daily = ZonedCron("30 2 * * *", "America/New_York");
  EXPECT_THAT(NextFires(daily, "2026-03-07T00:00:00Z", 3),
              ::testing::ElementsAre("2026-03-07T07:30", "2026-03-08T07:00", "2026-03-09T06:30"));
  // Every 30 minutes: 02:00 and 02:30 fall into the gap and fire once, at 03:00 EDT with 03:00's own fire.
  const CronSchedule half = ZonedCron("*/30 * * * *", "America/New_York");
  EXPECT_THAT(NextFires(half, "2026-03-08T06:00:00Z", 3),
              ::testing::ElementsAre("2026-03-08T06:30", "2026-03-08T07:00", "2026-03-08T07:30"));
  // The economist's 08:30 New York release follows the clock change: 13:30Z in winter, 12:30Z after.
  const CronSchedule release = ZonedCron("30 8 * * 1-5", "America/New_York");
  EXPECT_THAT(NextFires(release, "2026-03-05T00:00:00Z", 3),
              ::testing::ElementsAre("2026-03-05T13:30", "2026-03-06T13:30", "2026-03-09T12:30"));
  EXPECT_EQ(release.Format(At("2026-03-09T12:30:00Z")), "2026-03-09T08:30:00-04:00 EDT");
}

TEST(ZonedCronTest, NewYorkFallBackRepeatedTimeFiresOnceAtItsFirstOccurrence) {
  // 2026-11-01: clocks go from 02:00 EDT back to 01:00 EST; 01:30 happens twice.
  const CronSchedule daily = ZonedCron("30 1 * * *", "America/New_York");
  EXPECT_THAT(NextFires(daily, "2026-10-31T12:00:00Z", 2), ::testing::ElementsAre("2026-11-01T05:30", "2026-11-02T06:30"));
  // Hourly: 01:00 fires at 01:00 EDT only; the next fire is 02:00 EST, two hours later.
  const CronSchedule hourly = ZonedCron("0 * * * *", "America/New_York");
  EXPECT_THAT(NextFires(hourly, "2026-11-01T04:30:00Z", 3),
              ::testing::ElementsAre("2026-11-01T05:00", "2026-11-01T07:00", "2026-11-01T08:00"));
  // Asked from inside the second 01:xx hour, the schedule does not fire 01:30 again.
  EXPECT_EQ(FormatTimestamp(*daily.Next(At("2026-11-01T06:10:00Z"))).substr(0, 16), "2026-11-02T06:30");
}

TEST(ZonedCronTest, BerlinElevenOClockAcrossBothChanges) {
  const CronSchedule c = ZonedCron("0 11 * * *", "Europe/Berlin");
  EXPECT_THAT(NextFires(c, "2026-03-28T00:00:00Z", 2), ::testing::ElementsAre("2026-03-28T10:00", "2026-03-29T09:00"));
  EXPECT_THAT(NextFires(c, "2026-10-24T00:00:00Z", 2), ::testing::ElementsAre("2026-10-24T09:00", "2026-10-25T10:00"));
  const CronSchedule gap = ZonedCron("30 2 * * *", "Europe/Berlin");
  EXPECT_EQ(FormatTimestamp(*gap.Next(At("2026-03-28T12:00:00Z"))).substr(0, 16), "2026-03-29T01:00");  // 03:00 CEST
  const CronSchedule overlap = ZonedCron("30 2 * * *", "Europe/Berlin");
  EXPECT_THAT(NextFires(overlap, "2026-10-24T12:00:00Z", 2), ::testing::ElementsAre("2026-10-25T00:30", "2026-10-26T01:30"));
}

TEST(ZonedCronTest, BetweenIsBounded) {
  const CronSchedule c = ZonedCron("0 * * * *", "Europe/Berlin");
  ASSERT_OK_AND_ASSIGN(auto day, c.Between(At("2026-03-29T00:00:00Z"), At("2026-03-29T23:59:00Z"), 100));
  EXPECT_EQ(day.size(), 24u);
  EXPECT_THAT(c.Between(At("2026-03-01T00:00:00Z"), At("2026-04-01T00:00:00Z"), 100), StatusIs(StatusCode::kOutOfRange, "more than 100"));
  ASSERT_OK_AND_ASSIGN(auto none, c.Between(At("2026-03-02T00:00:00Z"), At("2026-03-01T00:00:00Z"), 100));
  EXPECT_TRUE(none.empty());
}

const char* kZonedPipeline = R"(name: gdp
data:
  series: [us:gdp]
target: us:gdp
horizon: 2
models:
  - type: naive
evaluation:
  origins: 2
  metrics: [mae]
  select_by: mae
register:
  model: gdp
schedule: "30 8 * * 1-5"
timezone: America/New_York
)";

TEST(ZonedSpecTest, TimezoneAndCatchupKeys) {
  ASSERT_OK_AND_ASSIGN(PipelineSpec spec, ParsePipeline(kZonedPipeline, "p.yaml", BuiltinModels()));
  ASSERT_TRUE(spec.schedule.has_value());
  EXPECT_EQ(spec.schedule->zone().name(), "America/New_York");
  EXPECT_FALSE(spec.catchup);
  ASSERT_OK_AND_ASSIGN(PipelineSpec c, ParsePipeline(std::string(kZonedPipeline) + "catchup: true\n", "p.yaml", BuiltinModels()));
  EXPECT_TRUE(c.catchup);
  struct Bad {
    std::string text;
    std::string message;
  };
  std::string no_schedule = kZonedPipeline;
  no_schedule.erase(no_schedule.find("schedule:"), std::string("schedule: \"30 8 * * 1-5\"\n").size());
  const std::vector<Bad> bad = {
      {std::string(kZonedPipeline).replace(std::string(kZonedPipeline).find("America/New_York"), 16, "America/Nowhere"),
       "p.yaml:15: timezone: unknown time zone 'America/Nowhere'"},
      {std::string(kZonedPipeline).replace(std::string(kZonedPipeline).find("America/New_York"), 16, "../../etc/passwd"),
       "timezone: time zone '../../etc/passwd' is not an IANA zone name"},
      {no_schedule, "timezone: applies to a schedule"},
      {std::string(kZonedPipeline) + "catchup: maybe\n", "catchup: expected true or false"},
      {"name: s\ndata:\n  series: [us:gdp]\n  snapshot: snap\ntarget: us:gdp\nmodels:\n  - type: naive\nschedule: \"@daily\"\ncatchup: true\n",
       "nothing to catch up"},
  };
  for (const auto& b : bad) {
    auto r = ParsePipeline(b.text, "p.yaml", BuiltinModels());
    EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument, b.message)) << b.text;
  }
}

TEST(ZonedSpecTest, BackfillFiresAreTheScheduleInTheRange) {
  ASSERT_OK_AND_ASSIGN(PipelineSpec spec, ParsePipeline(kZonedPipeline, "p.yaml", BuiltinModels()));
  ASSERT_OK_AND_ASSIGN(auto fires, BackfillFires(spec, *Date::Parse("2026-03-02"), *Date::Parse("2026-03-13"), 100));
  ASSERT_EQ(fires.size(), 10u);  // two working weeks
  EXPECT_EQ(FormatTimestamp(fires[4]).substr(0, 16), "2026-03-06T13:30");  // Friday, EST
  EXPECT_EQ(FormatTimestamp(fires[5]).substr(0, 16), "2026-03-09T12:30");  // Monday, EDT
  EXPECT_EQ(FireDate(*spec.schedule, fires[5]).ToString(), "2026-03-09");
  // The bound counts only fires in the range: 41 days of an hourly schedule (984) fit in 1000.
  PipelineSpec hourly = spec;
  hourly.schedule = ZonedCron("0 * * * *", "America/New_York");
  ASSERT_OK_AND_ASSIGN(auto hours, BackfillFires(hourly, *Date::Parse("2026-03-01"), *Date::Parse("2026-04-10"), 1000));
  EXPECT_EQ(hours.size(), 41u * 24 - 1);  // 02:00 on 2026-03-08 does not exist: it is 03:00's fire
  ASSERT_OK_AND_ASSIGN(auto early, BackfillFires(spec, *Date::Parse("1970-01-01"), *Date::Parse("1970-01-09"), 100));
  EXPECT_EQ(early.size(), 7u);  // Thu 1, Fri 2, Mon 5 .. Fri 9
  // Errors: a reversed range, too many fires, no schedule, a fixed snapshot.
  EXPECT_THAT(BackfillFires(spec, *Date::Parse("2026-03-13"), *Date::Parse("2026-03-02"), 100),
              StatusIs(StatusCode::kInvalidArgument, "is after --to"));
  EXPECT_THAT(BackfillFires(spec, *Date::Parse("2026-03-02"), *Date::Parse("2026-03-13"), 3),
              StatusIs(StatusCode::kOutOfRange, "more than 3"));
  EXPECT_THAT(BackfillFires(spec, *Date::Parse("2026-01-01"), *Date::Parse("2036-01-01"), 1000),
              StatusIs(StatusCode::kOutOfRange, "more than 1000"));
  PipelineSpec unscheduled = spec;
  unscheduled.schedule.reset();
  EXPECT_THAT(BackfillFires(unscheduled, *Date::Parse("2026-03-02"), *Date::Parse("2026-03-13"), 100),
              StatusIs(StatusCode::kInvalidArgument, "has no schedule"));
  PipelineSpec snap = spec;
  snap.snapshot = "frozen";
  EXPECT_THAT(BackfillFires(snap, *Date::Parse("2026-03-02"), *Date::Parse("2026-03-13"), 100),
              StatusIs(StatusCode::kInvalidArgument, "same data"));
}

// A store whose us:gdp has two vintages: 40 quarters known from 2020, 4 more from 2026-03-04.
class BackfillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("almanac_backfill_" + std::to_string(::getpid()) + "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store::StoreOptions o;
    o.clock = &clock_;
    o.create_if_missing = true;
    store_ = *store::OpenStore("sqlite:" + (dir_ / "store.db").string(), o);
    artifacts_ = *store::OpenArtifactStore("memory:");
    for (const auto& [from, n] : std::vector<std::pair<std::string, int>>{{"2020-01-01", 40}, {"2026-03-04", 44}}) {
      auto load = *store_->series().BeginLoad({.loader = "test", .default_realtime_start = *Date::Parse(from)});
      double v = 100;
      for (int i = 0; i < n; ++i) {
        v *= 1.003 + 0.01 * ((i % 3) - 1);
        EXPECT_OK(load->Add("us:gdp", *Period::Parse("2010Q1") + i, v, std::nullopt));
      }
      EXPECT_OK(load->Commit());
    }
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  Environment Env() { return {store_.get(), artifacts_.get(), &BuiltinModels(), &clock_, 1}; }
  int64_t AuditCount(const std::string& action) {
    int64_t n = 0;
    auto entries = store_->metadata().ReadAudit(1, 0);
    if (!entries.ok()) return -1;
    for (const auto& e : *entries) n += e.event.action == action ? 1 : 0;
    return n;
  }
  std::map<std::string, std::string> Tags(const std::string& run_id) {
    std::map<std::string, std::string> out;
    auto d = tracking::Tracker(store_->metadata(), *artifacts_, clock_).GetRun(run_id);
    if (!d.ok()) return out;
    for (const auto& [k, v] : d->tags) out[k] = v;
    return out;
  }

  FixedClock clock_{At("2026-03-20T12:00:00Z")};
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::ArtifactStore> artifacts_;
};

TEST_F(BackfillTest, EachPointSeesTheDataAsThenKnownAndRerunsSkip) {
  ASSERT_OK_AND_ASSIGN(PipelineSpec spec, ParsePipeline(kZonedPipeline, "p.yaml", BuiltinModels()));
  BackfillOptions o;
  o.from = *Date::Parse("2026-03-02");
  o.to = *Date::Parse("2026-03-06");
  o.concurrency = 3;
  o.user = "alice";
  std::vector<std::string> lines;
  o.progress = [&](const std::string& l) { lines.push_back(l); };
  ASSERT_OK_AND_ASSIGN(auto points, RunBackfill(Env(), spec, o));
  ASSERT_EQ(points.size(), 5u);
  std::set<std::string> before, after;
  for (const auto& p : points) {
    ASSERT_EQ(p.outcome, "done") << p.error;
    auto run = *tracking::Tracker(store_->metadata(), *artifacts_, clock_).GetRun(p.run_id);
    (p.as_of < *Date::Parse("2026-03-04") ? before : after).insert(run.run.snapshot_id);
    auto tags = Tags(p.run_id);
    EXPECT_EQ(tags[kTagTrigger], "backfill");
    EXPECT_EQ(tags[kTagAsOf], p.as_of.ToString());
    EXPECT_EQ(tags[kTagFire], FormatTimestamp(p.fire));
  }
  // Mon and Tue saw the 2020 vintage, Wed..Fri the 2026-03-04 one: two snapshots in all.
  EXPECT_EQ(before.size(), 1u);
  EXPECT_EQ(after.size(), 1u);
  EXPECT_NE(*before.begin(), *after.begin());
  EXPECT_EQ(lines.size(), 10u);  // running + done per point
  EXPECT_THAT(lines.back(), HasSubstr("backfill "));
  // Nothing was registered: past runs must not become the newest model version.
  EXPECT_FALSE(registry::Registry(*store_, clock_).ListVersions("gdp").ok() &&
               !registry::Registry(*store_, clock_).ListVersions("gdp")->empty());
  EXPECT_EQ(AuditCount("pipeline.backfill"), 1);

  // Again, over a wider range: the five points run before are skipped, the new ones run.
  o.to = *Date::Parse("2026-03-10");
  ASSERT_OK_AND_ASSIGN(auto again, RunBackfill(Env(), spec, o));
  ASSERT_EQ(again.size(), 7u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(again[i].outcome, "skipped") << i;
    EXPECT_EQ(again[i].run_id, points[i].run_id);
  }
  EXPECT_EQ(again[5].outcome, "done");
  EXPECT_EQ(again[6].outcome, "done");
  EXPECT_EQ(AuditCount("pipeline.backfill"), 2);
}

TEST_F(BackfillTest, ThroughTheQueueEachPointIsOneTaskOnce) {
  ASSERT_OK_AND_ASSIGN(PipelineSpec spec, ParsePipeline(kZonedPipeline, "p.yaml", BuiltinModels()));
  BackfillOptions o;
  o.from = *Date::Parse("2026-03-05");
  o.to = *Date::Parse("2026-03-09");
  o.queue = true;
  o.user = "alice";
  ASSERT_OK_AND_ASSIGN(auto points, RunBackfill(Env(), spec, o));
  ASSERT_EQ(points.size(), 3u);  // Thu, Fri, Mon
  for (const auto& p : points) EXPECT_EQ(p.outcome, "queued");
  ASSERT_OK_AND_ASSIGN(auto again, RunBackfill(Env(), spec, o));
  for (const auto& p : again) EXPECT_EQ(p.outcome, "skipped");
  // A worker runs them with their as_of and tags.
  WorkerOptions w;
  w.worker_id = "w1";
  w.max_tasks = 3;
  w.poll_ms = 1;
  w.idle_exit_ms = 2000;
  ASSERT_OK_AND_ASSIGN(auto done, RunWorker(Env(), w));
  ASSERT_EQ(done.size(), 3u);
  for (const auto& t : done) EXPECT_EQ(t.state, store::TaskState::kDone) << t.error;
  auto runs = *tracking::Tracker(store_->metadata(), *artifacts_, clock_).ListRuns({"", "gdp", std::nullopt, 0});
  ASSERT_EQ(runs.size(), 3u);
  std::set<std::string> as_of;
  for (const auto& r : runs) {
    auto tags = Tags(r.id);
    EXPECT_EQ(tags[kTagTrigger], "backfill");
    EXPECT_FALSE(tags["almanac.task"].empty());
    as_of.insert(tags[kTagAsOf]);
  }
  EXPECT_EQ(as_of, (std::set<std::string>{"2026-03-05", "2026-03-06", "2026-03-09"}));
  // Run locally now, the points that ran through the queue are skipped.
  o.queue = false;
  ASSERT_OK_AND_ASSIGN(auto local, RunBackfill(Env(), spec, o));
  for (const auto& p : local) EXPECT_EQ(p.outcome, "skipped");
}

TEST_F(BackfillTest, BadInputsChangeNothing) {
  ASSERT_OK_AND_ASSIGN(PipelineSpec spec, ParsePipeline(kZonedPipeline, "p.yaml", BuiltinModels()));
  const int64_t audit_before = store_->metadata().AuditHead()->first;
  BackfillOptions o;
  o.from = *Date::Parse("2026-03-09");
  o.to = *Date::Parse("2026-03-02");
  EXPECT_THAT(RunBackfill(Env(), spec, o), StatusIs(StatusCode::kInvalidArgument, "is after --to"));
  o.from = *Date::Parse("2026-01-01");
  o.to = *Date::Parse("2026-12-31");
  o.max_points = 10;
  EXPECT_THAT(RunBackfill(Env(), spec, o), StatusIs(StatusCode::kOutOfRange, "more than 10"));
  o.max_points = 1000;
  o.concurrency = 0;
  EXPECT_THAT(RunBackfill(Env(), spec, o), StatusIs(StatusCode::kInvalidArgument, "--concurrency"));
  EXPECT_EQ(store_->metadata().AuditHead()->first, audit_before);
  EXPECT_TRUE(tracking::Tracker(store_->metadata(), *artifacts_, clock_).ListRuns({})->empty());
}

// Catch-up: a scheduler ran Monday's fire; it was down until Thursday noon. With
// `catchup: true` the next start runs Tuesday's, Wednesday's and Thursday's 08:30 fires first,
// each with its date as data.as_of; with `catchup: false` they are not made up.
TEST_F(BackfillTest, CatchupRunsTheFiresMissedWhileDown) {
  const std::string file = (dir_ / "gdp.yaml").string();
  std::ofstream(file) << kZonedPipeline << "catchup: true\n";
  auto options = [&](int max_runs) {
    SchedulerOptions so;
    so.pipeline_files = {file};
    so.max_runs = max_runs;
    so.sleep_until = [&](int64_t t) {
      if (t > clock_.NowMicros()) clock_.Set(t);
    };
    return so;
  };
  clock_.Set(At("2026-03-02T13:00:00Z"));  // Monday 08:00 EST
  std::vector<std::string> log;
  SchedulerOptions first = options(1);
  first.log = [&](const std::string& l) { log.push_back(l); };
  ASSERT_OK_AND_ASSIGN(auto h1, RunScheduler(Env(), first));
  ASSERT_EQ(h1.size(), 1u);
  EXPECT_EQ(FormatTimestamp(h1[0].fired_at).substr(0, 16), "2026-03-02T13:30");
  EXPECT_FALSE(h1[0].as_of.has_value());
  // The start shows the next fire in the schedule's zone.
  bool shown = false;
  for (const auto& l : log) shown = shown || l.find("next run at 2026-03-02T08:30:00-05:00 EST") != std::string::npos;
  EXPECT_TRUE(shown) << ::testing::PrintToString(log);

  clock_.Set(At("2026-03-05T17:00:00Z"));  // Thursday noon EST
  ASSERT_OK_AND_ASSIGN(auto h2, RunScheduler(Env(), options(4)));
  ASSERT_EQ(h2.size(), 4u);
  const char* expected[] = {"2026-03-03", "2026-03-04", "2026-03-05"};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(h2[static_cast<size_t>(i)].as_of.has_value()) << i;
    EXPECT_EQ(h2[static_cast<size_t>(i)].as_of->ToString(), expected[i]);
    EXPECT_EQ(h2[static_cast<size_t>(i)].status, store::RunStatus::kFinished) << h2[static_cast<size_t>(i)].error;
    EXPECT_THAT(h2[static_cast<size_t>(i)].triggered_by, HasSubstr("catchup as_of"));
    EXPECT_EQ(Tags(h2[static_cast<size_t>(i)].run_id)[kTagTrigger], "catchup");
  }
  EXPECT_EQ(FormatTimestamp(h2[3].fired_at).substr(0, 16), "2026-03-06T13:30");  // then the schedule goes on
  EXPECT_FALSE(h2[3].as_of.has_value());
  EXPECT_EQ(AuditCount("schedule.catchup"), 1);

  // Down again over the weekend, now without catchup: Monday's fire is not made up.
  std::ofstream(file) << kZonedPipeline;
  clock_.Set(At("2026-03-09T18:00:00Z"));
  ASSERT_OK_AND_ASSIGN(auto h3, RunScheduler(Env(), options(1)));
  ASSERT_EQ(h3.size(), 1u);
  EXPECT_EQ(FormatTimestamp(h3[0].fired_at).substr(0, 16), "2026-03-10T12:30");
  EXPECT_FALSE(h3[0].as_of.has_value());
  EXPECT_EQ(AuditCount("schedule.catchup"), 1);
}

TEST_F(BackfillTest, CatchupIsBoundedAndNeedsARecordedFire) {
  const std::string file = (dir_ / "gdp.yaml").string();
  std::ofstream(file) << kZonedPipeline << "catchup: true\n";
  SchedulerOptions so;
  so.pipeline_files = {file};
  so.max_runs = 1;
  so.max_catchup = 2;
  std::vector<std::string> log;
  so.log = [&](const std::string& l) { log.push_back(l); };
  so.sleep_until = [&](int64_t t) {
    if (t > clock_.NowMicros()) clock_.Set(t);
  };
  // No fire recorded yet: nothing is made up.
  clock_.Set(At("2026-03-02T13:00:00Z"));
  ASSERT_OK_AND_ASSIGN(auto h1, RunScheduler(Env(), so));
  ASSERT_EQ(h1.size(), 1u);
  EXPECT_FALSE(h1[0].as_of.has_value());
  // Ten working days missed, two made up: the latest.
  clock_.Set(At("2026-03-16T20:00:00Z"));
  so.max_runs = 2;
  ASSERT_OK_AND_ASSIGN(auto h2, RunScheduler(Env(), so));
  ASSERT_EQ(h2.size(), 2u);
  EXPECT_EQ(h2[0].as_of->ToString(), "2026-03-13");
  EXPECT_EQ(h2[1].as_of->ToString(), "2026-03-16");
  bool dropped = false;
  for (const auto& l : log) dropped = dropped || l.find("dropping 8") != std::string::npos;
  EXPECT_TRUE(dropped) << ::testing::PrintToString(log);
}

}  // namespace
}  // namespace almanac::pipeline
