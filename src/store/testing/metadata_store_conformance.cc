// Conformance tests of MetadataStore (tracking, registry primitives, audit chain). Instantiated
// for every back-end in store_test.cc with the same factories as the series suite.
#include <thread>
#include <mutex>
#include <algorithm>
#include <cmath>
#include <limits>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"
#include "store/testing/series_store_conformance.h"

namespace almanac::store::testing {

using ::almanac::testing::IsOk;
using ::almanac::testing::StatusIs;
using ::testing::SizeIs;

namespace {
RunRecord NewRun(const std::string& id, int64_t t) {
  RunRecord r;
  r.id = id;
  r.experiment = "exp";
  r.pipeline = "p";
  r.start_time = t;
  r.user = "alice";
  r.host = "h";
  r.almanac_version = "0.1.0";
  return r;
}
}  // namespace

TEST_P(MetadataStoreConformance, EachScheduledRunIsClaimedOnce) {
  auto claim = [&](const std::string& p, int64_t t, const std::string& who) {
    return store_->metadata().Transact<bool>([&](MetadataTxn& txn) { return txn.ClaimScheduledRun(p, t, who); });
  };
  EXPECT_THAT(claim("gdp", 100, "host-a"), ::almanac::testing::IsOkAndHolds(true));
  EXPECT_THAT(claim("gdp", 100, "host-b"), ::almanac::testing::IsOkAndHolds(false));
  EXPECT_THAT(claim("gdp", 200, "host-b"), ::almanac::testing::IsOkAndHolds(true));
  EXPECT_THAT(claim("cpi", 100, "host-b"), ::almanac::testing::IsOkAndHolds(true));
  // A lost claim does not spoil the rest of its transaction.
  ASSERT_OK(store_->metadata().Run([&](MetadataTxn& t) -> Status {
    ALMANAC_ASSIGN_OR_RETURN(bool won, t.ClaimScheduledRun("gdp", 100, "host-c"));
    EXPECT_FALSE(won);
    return t.Audit({"sched", "test.after_claim", "pipeline", "gdp", Json::object()}).status();
  }));
}

TEST_P(MetadataStoreConformance, RunsParamsMetricsTagsArtifacts) {
  auto& md = store_->metadata();
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    ALMANAC_RETURN_IF_ERROR(t.InsertRun(NewRun("r1", 10)));
    ALMANAC_RETURN_IF_ERROR(t.InsertRun(NewRun("r2", 20)));
    ALMANAC_RETURN_IF_ERROR(t.InsertParams("r1", {{"model", "auto_ets"}, {"horizon", "8"}}));
    std::vector<MetricPoint> pts;
    for (int i = 0; i < 100; ++i) pts.push_back({"loss", i, 1.0 / (i + 1), 5});
    pts.push_back({"mase", 0, 0.9, 6});
    ALMANAC_RETURN_IF_ERROR(t.InsertMetrics("r1", pts));
    ALMANAC_RETURN_IF_ERROR(t.SetTags("r1", {{"team", "macro"}}));
    ALMANAC_RETURN_IF_ERROR(t.SetTags("r1", {{"team", "risk"}}));
    return t.InsertArtifact("r1", {"runs/r1/model.json", std::string(64, 'a'), 10, "model-package"});
  }));
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    auto run = t.GetRun("r1");
    EXPECT_EQ(run->user, "alice");
    EXPECT_THAT(*t.GetParams("r1"), SizeIs(2));
    auto m = *t.GetMetrics("r1");
    EXPECT_THAT(m, SizeIs(101));
    EXPECT_EQ(m[0].key, "loss");
    EXPECT_EQ(m.back().key, "mase");
    EXPECT_EQ((*t.GetTags("r1"))[0].second, "risk");
    EXPECT_THAT(*t.GetArtifacts("r1"), SizeIs(1));
    auto runs = *t.ListRuns({"exp", "", std::nullopt, 10});
    EXPECT_EQ(runs[0].id, "r2");  // newest first
    RunRecord r = *run;
    r.status = RunStatus::kFinished;
    r.end_time = 30;
    EXPECT_OK(t.UpdateRun(r));
    auto finished = *t.ListRuns({"", "", RunStatus::kFinished, 10});
    EXPECT_THAT(finished, SizeIs(1));
    return Status::Ok();
  }));
  EXPECT_THAT(md.Run([](MetadataTxn& t) { return t.InsertRun(NewRun("r1", 1)); }), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(md.Run([](MetadataTxn& t) { return t.InsertParams("r1", {{"model", "x"}}); }),
              StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(md.Run([](MetadataTxn& t) { return t.InsertMetrics("nope", {{"m", 0, 1.0, 0}}); }),
              ::testing::Not(IsOk()));
  EXPECT_THAT(md.Run([](MetadataTxn& t) { return t.GetRun("nope").status(); }), StatusIs(StatusCode::kNotFound));
}

// Issue 22: MLflow accepts NaN and +-infinity as metric values, and so do the stores; several
// values at one step keep their order.
TEST_P(MetadataStoreConformance, MetricsKeepNanAndInfinities) {
  auto& md = store_->metadata();
  const double inf = std::numeric_limits<double>::infinity();
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    ALMANAC_RETURN_IF_ERROR(t.InsertRun(NewRun("r1", 10)));
    return t.InsertMetrics("r1", {{"m", 0, std::nan(""), 1}, {"m", 1, inf, 2}, {"m", 1, -inf, 3}, {"m", 2, -0.5, 4}});
  }));
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    auto m = *t.GetMetrics("r1");
    EXPECT_THAT(m, SizeIs(4));
    EXPECT_TRUE(std::isnan(m[0].value));
    EXPECT_EQ(m[1].value, inf);
    EXPECT_EQ(m[1].timestamp, 2);
    EXPECT_EQ(m[2].value, -inf);
    EXPECT_EQ(m[3].value, -0.5);
    return Status::Ok();
  }));
}

// Issue 22: the indexed metric filter of the MLflow API's runs/search compares the latest
// point of each run (highest step, then timestamp), within one experiment, never a NaN.
TEST_P(MetadataStoreConformance, RunsWithLatestMetricComparesTheLatestPoint) {
  auto& md = store_->metadata();
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    for (const char* id : {"r1", "r2", "r3", "r4"}) ALMANAC_RETURN_IF_ERROR(t.InsertRun(NewRun(id, 10)));
    RunRecord other = NewRun("r5", 10);
    other.experiment = "other";
    ALMANAC_RETURN_IF_ERROR(t.InsertRun(other));
    // r1: latest (step 2) 0.5 although step 0 was 5. r2: latest 3 (a later timestamp at step 1).
    ALMANAC_RETURN_IF_ERROR(t.InsertMetrics("r1", {{"rmse", 2, 0.5, 1}, {"rmse", 0, 5, 9}}));
    ALMANAC_RETURN_IF_ERROR(t.InsertMetrics("r2", {{"rmse", 1, 3, 2}, {"rmse", 1, 0.1, 1}}));
    ALMANAC_RETURN_IF_ERROR(t.InsertMetrics("r3", {{"rmse", 0, std::nan(""), 1}, {"mae", 0, 0.1, 1}}));
    ALMANAC_RETURN_IF_ERROR(t.InsertMetrics("r4", {{"rmse", 0, 1.0, 1}}));
    return t.InsertMetrics("r5", {{"rmse", 0, 0.1, 1}});
  }));
  auto ids = [&](std::string_view op, double v) {
    auto r = md.Transact<std::vector<std::string>>(
        [&](MetadataTxn& t) { return t.RunsWithLatestMetric("exp", "rmse", op, v); });
    EXPECT_OK(r.status());
    std::vector<std::string> out = r.ok() ? *r : std::vector<std::string>{};
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(ids("<", 1), std::vector<std::string>{"r1"});
  EXPECT_EQ(ids("<=", 1), (std::vector<std::string>{"r1", "r4"}));
  EXPECT_EQ(ids(">", 2), std::vector<std::string>{"r2"});
  EXPECT_EQ(ids(">=", 0), (std::vector<std::string>{"r1", "r2", "r4"}));
  EXPECT_EQ(ids("=", 1), std::vector<std::string>{"r4"});
  EXPECT_THAT(md.Run([](MetadataTxn& t) { return t.RunsWithLatestMetric("exp", "rmse", "!=", 1).status(); }),
              StatusIs(StatusCode::kInvalidArgument));
}

// Issue 22 (figures): the latest point that the metric filter compares is kept per (run, key)
// across separate writes (migration 12's run_latest_metrics on SQL): a later write of an earlier
// step does not replace it, a later write of the same step and timestamp does, and a NaN that
// becomes the latest point takes the run out of every comparison.
TEST_P(MetadataStoreConformance, LatestMetricFollowsLaterWrites) {
  auto& md = store_->metadata();
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    for (const char* id : {"r1", "r2", "r3", "r4"}) ALMANAC_RETURN_IF_ERROR(t.InsertRun(NewRun(id, 10)));
    ALMANAC_RETURN_IF_ERROR(t.InsertMetrics("r1", {{"rmse", 3, 0.2, 5}}));
    ALMANAC_RETURN_IF_ERROR(t.InsertMetrics("r2", {{"rmse", 0, 7, 1}}));
    ALMANAC_RETURN_IF_ERROR(t.InsertMetrics("r3", {{"rmse", 0, 0.01, 1}}));
    return t.InsertMetrics("r4", {{"rmse", 4, 0.4, 1}, {"mae", 9, 100, 1}});
  }));
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    ALMANAC_RETURN_IF_ERROR(t.InsertMetrics("r1", {{"rmse", 1, 9, 10}}));  // an earlier step: not the latest
    ALMANAC_RETURN_IF_ERROR(t.InsertMetrics("r2", {{"rmse", 0, 0.05, 2}}));  // a later timestamp: the latest
    ALMANAC_RETURN_IF_ERROR(t.InsertMetrics("r3", {{"rmse", 1, std::nan(""), 2}}));  // a NaN latest
    return t.InsertMetrics("r4", {{"mae", 10, 0.5, 1}});  // another key: rmse unchanged
  }));
  auto ids = [&](std::string_view key, std::string_view op, double v) {
    auto r = md.Transact<std::vector<std::string>>(
        [&](MetadataTxn& t) { return t.RunsWithLatestMetric("exp", key, op, v); });
    EXPECT_OK(r.status());
    std::vector<std::string> out = r.ok() ? *r : std::vector<std::string>{};
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(ids("rmse", "<", 1), (std::vector<std::string>{"r1", "r2", "r4"}));
  EXPECT_EQ(ids("rmse", ">=", 0), (std::vector<std::string>{"r1", "r2", "r4"}));
  EXPECT_EQ(ids("rmse", "=", 0.2), std::vector<std::string>{"r1"});
  EXPECT_EQ(ids("mae", "<", 1), std::vector<std::string>{"r4"});
  ASSERT_OK(md.Run([&](MetadataTxn& t) {  // the same step and timestamp, written later: the latest
    return t.InsertMetrics("r1", {{"rmse", 3, 0.3, 5}});
  }));
  EXPECT_EQ(ids("rmse", "=", 0.3), std::vector<std::string>{"r1"});
  EXPECT_TRUE(ids("rmse", "=", 0.2).empty());
}

// Points of a run that does not exist are refused as a whole and nothing is stored (on
// PostgreSQL through run_latest_metrics' foreign key since schema 12, see pg_migrations.cc).
TEST_P(MetadataStoreConformance, MetricsOfAnUnknownRunAreRefused) {
  auto& md = store_->metadata();
  ASSERT_OK(md.Run([&](MetadataTxn& t) { return t.InsertRun(NewRun("r1", 10)); }));
  EXPECT_FALSE(md.Run([&](MetadataTxn& t) {
                   return t.InsertMetrics("r-nosuch", {{"rmse", 0, 1, 1}, {"rmse", 1, 0.5, 2}, {"mae", 0, 2, 1}});
                 }).ok());
  auto points = md.Transact<std::vector<MetricPoint>>([](MetadataTxn& t) { return t.GetMetrics("r-nosuch"); });
  ASSERT_OK(points.status());
  EXPECT_TRUE(points->empty());
  auto ids = md.Transact<std::vector<std::string>>(
      [](MetadataTxn& t) { return t.RunsWithLatestMetric("exp", "rmse", ">=", 0); });
  ASSERT_OK(ids.status());
  EXPECT_TRUE(ids->empty());
}

// Issue 22 (figures): the batched reads of runs/search return per run exactly what the single
// reads do, skip unknown ids, return a repeated id once and keep the order of the ids.
TEST_P(MetadataStoreConformance, BatchedRunReadsMatchSingleReads) {
  auto& md = store_->metadata();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<std::string> all;
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    for (int i = 0; i < 120; ++i) {
      const std::string id = "run-" + std::to_string(i) + (i % 7 == 0 ? "\"q'\\" : "");
      all.push_back(id);
      ALMANAC_RETURN_IF_ERROR(t.InsertRun(NewRun(id, i)));
      if (i % 5 == 4) continue;  // no metrics, params or tags
      // Two points at one step keep their write order; keys arrive out of order.
      ALMANAC_RETURN_IF_ERROR(t.InsertMetrics(id, {{"rmse", 1, 0.25 * i, 2}, {"mae", 0, std::nan(""), 1},
                                                   {"rmse", 1, -inf, 1}, {"rmse", 0, i + 0.5, 3}}));
      if (i % 3 != 0) ALMANAC_RETURN_IF_ERROR(t.InsertParams(id, {{"z", "last"}, {"model", i % 2 ? "ets" : "arima"}}));
      ALMANAC_RETURN_IF_ERROR(t.SetTags(id, {{"team", "macro"}, {"b", std::to_string(i)}, {"team", "risk"}}));
    }
    return Status::Ok();
  }));
  std::vector<std::string> ask = {all[17], "nope", all[3], all[17], all[0], all[4], all[119]};
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    ALMANAC_ASSIGN_OR_RETURN(auto runs, t.GetRuns(ask));
    std::vector<std::string> got;
    for (const auto& r : runs) got.push_back(r.id);
    EXPECT_EQ(got, (std::vector<std::string>{all[17], all[3], all[0], all[4], all[119]}));
    EXPECT_EQ(runs[0].start_time, 17);
    EXPECT_EQ(runs[0].user, "alice");
    ALMANAC_ASSIGN_OR_RETURN(auto metrics, t.GetMetricsOfRuns(all));
    ALMANAC_ASSIGN_OR_RETURN(auto params, t.GetParamsOfRuns(all));
    ALMANAC_ASSIGN_OR_RETURN(auto tags, t.GetTagsOfRuns(all));
    EXPECT_EQ(metrics.size(), 96u);
    EXPECT_EQ(params.size(), 64u);
    EXPECT_EQ(tags.size(), 96u);
    for (const auto& id : all) {
      ALMANAC_ASSIGN_OR_RETURN(auto m1, t.GetMetrics(id));
      ALMANAC_ASSIGN_OR_RETURN(auto p1, t.GetParams(id));
      ALMANAC_ASSIGN_OR_RETURN(auto t1, t.GetTags(id));
      EXPECT_EQ(metrics.count(id), m1.empty() ? 0u : 1u) << id;
      EXPECT_EQ(params.count(id), p1.empty() ? 0u : 1u) << id;
      EXPECT_EQ(tags.count(id), t1.empty() ? 0u : 1u) << id;
      const auto m2 = metrics.count(id) ? metrics.at(id) : std::vector<MetricPoint>{};  // no operator[]: it inserts
      EXPECT_EQ(m2.size(), m1.size()) << id;
      for (size_t k = 0; k < std::min(m1.size(), m2.size()); ++k) {
        EXPECT_EQ(m2[k].key, m1[k].key) << id;
        EXPECT_EQ(m2[k].step, m1[k].step) << id;
        EXPECT_EQ(m2[k].timestamp, m1[k].timestamp) << id;
        EXPECT_TRUE(m2[k].value == m1[k].value || (std::isnan(m2[k].value) && std::isnan(m1[k].value))) << id;
      }
      EXPECT_EQ(params.count(id) ? params.at(id) : decltype(p1){}, p1) << id;
      EXPECT_EQ(tags.count(id) ? tags.at(id) : decltype(t1){}, t1) << id;
    }
    // Spot checks against what was written, so that both sides cannot be wrong alike.
    const auto& m = metrics.at(all[2]);
    EXPECT_EQ(m.size(), 4u);
    EXPECT_EQ(m[0].key, "mae");
    EXPECT_TRUE(std::isnan(m[0].value));
    EXPECT_EQ(m[1].value, 2.5);
    EXPECT_EQ(m[2].value, 0.5);  // step 1, written first
    EXPECT_EQ(m[3].value, -inf);
    EXPECT_EQ(params.at(all[2]), (std::vector<std::pair<std::string, std::string>>{{"model", "arima"}, {"z", "last"}}));
    EXPECT_EQ(tags.at(all[2]), (std::vector<std::pair<std::string, std::string>>{{"b", "2"}, {"team", "risk"}}));
    EXPECT_EQ(params.count(all[3]), 0u);
    EXPECT_EQ(metrics.count(all[4]), 0u);
    ALMANAC_ASSIGN_OR_RETURN(auto none, t.GetRuns({}));
    EXPECT_TRUE(none.empty());
    ALMANAC_ASSIGN_OR_RETURN(auto unknown, t.GetMetricsOfRuns({"nope"}));
    EXPECT_TRUE(unknown.empty());
    return Status::Ok();
  }));
}

// A batch of params stops at the first key already taken (in the run or earlier in the batch):
// the params before it are written, that one and those after it are not, and the transaction
// goes on.
TEST_P(MetadataStoreConformance, InsertParamsStopsAtTheFirstTakenKey) {
  auto& md = store_->metadata();
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    ALMANAC_RETURN_IF_ERROR(t.InsertRun(NewRun("r1", 1)));
    ALMANAC_RETURN_IF_ERROR(t.InsertParams("r1", {{"model", "ets"}}));
    EXPECT_THAT(t.InsertParams("r1", {{"a", "1"}, {"model", "x"}, {"c", "3"}}),
                StatusIs(StatusCode::kAlreadyExists, "parameter model of"));
    EXPECT_THAT(t.InsertParams("r1", {{"d", "4"}, {"d", "5"}, {"e", "6"}}), StatusIs(StatusCode::kAlreadyExists, "parameter d of"));
    return t.InsertParams("r1", {{"f", "7"}});
  }));
  auto params = md.Transact<std::vector<std::pair<std::string, std::string>>>(
      [](MetadataTxn& t) { return t.GetParams("r1"); });
  ASSERT_OK(params.status());
  EXPECT_EQ(*params, (std::vector<std::pair<std::string, std::string>>{{"a", "1"}, {"d", "4"}, {"f", "7"}, {"model", "ets"}}));
}

// Issue 22: run names and lifecycle, tag deletion, experiments with ids, tags and renames.
TEST_P(MetadataStoreConformance, ExperimentsRunNamesAndTagDeletion) {
  auto& md = store_->metadata();
  int64_t id = 0;
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    auto def = t.GetExperiment(0);
    EXPECT_OK(def.status());
    if (def.ok()) {
      EXPECT_EQ(def->name, "Default");
    }
    ExperimentRecord e;
    e.name = "exp";
    e.artifact_location = "runs:/exp";
    e.created_at = 5;
    e.updated_at = 5;
    e.tags = {{"team", "macro"}, {"b", "2"}};
    ALMANAC_ASSIGN_OR_RETURN(id, t.InsertExperiment(e));
    EXPECT_GT(id, 0);
    // A taken name fails and leaves the transaction usable.
    EXPECT_THAT(t.InsertExperiment(e).status(), StatusIs(StatusCode::kAlreadyExists));
    RunRecord r = NewRun("r1", 10);
    r.name = "first try";
    ALMANAC_RETURN_IF_ERROR(t.InsertRun(r));
    ALMANAC_RETURN_IF_ERROR(t.SetTags("r1", {{"a", "1"}, {"b", "2"}}));
    return Status::Ok();
  }));
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    ALMANAC_ASSIGN_OR_RETURN(ExperimentRecord e, t.GetExperimentByName("exp"));
    EXPECT_EQ(e.id, id);
    EXPECT_EQ(e.artifact_location, "runs:/exp");
    EXPECT_FALSE(e.deleted);
    EXPECT_EQ(e.tags, (std::vector<std::pair<std::string, std::string>>{{"b", "2"}, {"team", "macro"}}));
    ALMANAC_ASSIGN_OR_RETURN(RunRecord r, t.GetRun("r1"));
    EXPECT_EQ(r.name, "first try");
    EXPECT_FALSE(r.deleted);
    r.deleted = true;
    r.name = "renamed";
    ALMANAC_RETURN_IF_ERROR(t.UpdateRun(r));
    ALMANAC_RETURN_IF_ERROR(t.DeleteTag("r1", "a"));
    EXPECT_THAT(t.DeleteTag("r1", "a"), StatusIs(StatusCode::kNotFound));
    e.name = "exp2";
    e.deleted = true;
    e.updated_at = 9;
    e.tags.emplace_back("c", "3");
    ALMANAC_RETURN_IF_ERROR(t.UpdateExperiment(e));
    ExperimentRecord clash = e;
    clash.name = "Default";
    EXPECT_THAT(t.UpdateExperiment(clash), StatusIs(StatusCode::kAlreadyExists));
    ExperimentRecord missing = e;
    missing.id = 999;
    missing.name = "other";
    EXPECT_THAT(t.UpdateExperiment(missing), StatusIs(StatusCode::kNotFound));
    return Status::Ok();
  }));
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    ALMANAC_ASSIGN_OR_RETURN(RunRecord r, t.GetRun("r1"));
    EXPECT_EQ(r.name, "renamed");
    EXPECT_TRUE(r.deleted);
    EXPECT_EQ(r.experiment, "exp2");  // the rename moved its runs
    EXPECT_THAT(*t.GetTags("r1"), SizeIs(1));
    ALMANAC_ASSIGN_OR_RETURN(ExperimentRecord e, t.GetExperiment(id));
    EXPECT_EQ(e.name, "exp2");
    EXPECT_TRUE(e.deleted);
    EXPECT_EQ(e.updated_at, 9);
    EXPECT_THAT(e.tags, SizeIs(3));
    EXPECT_THAT(t.GetExperimentByName("exp").status(), StatusIs(StatusCode::kNotFound));
    EXPECT_THAT(t.GetExperiment(12345).status(), StatusIs(StatusCode::kNotFound));
    ALMANAC_ASSIGN_OR_RETURN(auto all, t.ListExperiments());
    EXPECT_THAT(all, SizeIs(2));
    if (all.size() == 2) {
      EXPECT_EQ(all[1].id, id);
    }
    return Status::Ok();
  }));
}

TEST_P(MetadataStoreConformance, FailedTransactionChangesNothing) {
  auto& md = store_->metadata();
  Status s = md.Run([&](MetadataTxn& t) -> Status {
    ALMANAC_RETURN_IF_ERROR(t.InsertRun(NewRun("r1", 1)));
    ALMANAC_RETURN_IF_ERROR(t.Audit({"alice", "run.start", "run", "r1", {}}).status());
    return InvalidArgumentError("rule violated");
  });
  EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument, "rule violated"));
  EXPECT_THAT(md.Run([](MetadataTxn& t) { return t.GetRun("r1").status(); }), StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(md.AuditHead()->first, 0);
}

TEST_P(MetadataStoreConformance, RegistryPrimitives) {
  auto& md = store_->metadata();
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    ALMANAC_RETURN_IF_ERROR(t.InsertRun(NewRun("r1", 1)));
    ALMANAC_RETURN_IF_ERROR(t.InsertRun(NewRun("r2", 2)));
    RegisteredModelRecord m{"gdp", "alice", "GDP growth", {{"four_eyes", true}}, {}, 1, "alice"};
    ALMANAC_RETURN_IF_ERROR(t.InsertModel(m));
    ModelVersionRecord v;
    v.model = "gdp";
    v.version = 1;
    v.run_id = "r1";
    v.artifact_name = "a";
    v.artifact_sha256 = "b";
    v.stage = Stage::kProduction;
    ALMANAC_RETURN_IF_ERROR(t.InsertVersion(v));
    v.version = 2;
    v.run_id = "r2";
    v.stage = Stage::kNone;
    return t.InsertVersion(v);
  }));
  // One production version per model.
  EXPECT_THAT(md.Run([](MetadataTxn& t) -> Status {
    auto v = t.GetVersion("gdp", 2);
    v->stage = Stage::kProduction;
    return t.UpdateVersion(*v);
  }),
              StatusIs(StatusCode::kFailedPrecondition, "production"));
  // A version is created once per run.
  EXPECT_THAT(md.Run([](MetadataTxn& t) -> Status {
    ModelVersionRecord v;
    v.model = "gdp";
    v.version = 3;
    v.run_id = "r1";
    return t.InsertVersion(v);
  }),
              StatusIs(StatusCode::kAlreadyExists));
  ASSERT_OK(md.Run([](MetadataTxn& t) -> Status {
    EXPECT_EQ(*t.MaxVersion("gdp"), 2);
    EXPECT_EQ(t.GetModel("gdp")->policy["four_eyes"], true);
    PromotionRequestRecord r;
    r.model = "gdp";
    r.version = 2;
    r.requested_by = "alice";
    auto id = t.InsertRequest(r);
    EXPECT_TRUE(id.ok());
    r.id = *id;
    r.status = RequestStatus::kApproved;
    r.decided_by = "bob";
    EXPECT_OK(t.UpdateRequest(r));
    EXPECT_EQ((*t.ListRequests("gdp"))[0].decided_by, "bob");
    return Status::Ok();
  }));
}

TEST_P(MetadataStoreConformance, AuditChainCoversLoadsSnapshotsAndTransactions) {
  ASSERT_OK(Load({"us:gdp,2024Q1,1"}));
  ASSERT_OK(store_->series().CreateSnapshot({"s1", {}, std::nullopt, "bob"}));
  ASSERT_OK(store_->metadata().Run([](MetadataTxn& t) {
    return t.Audit({"carol", "model.approve", "model", "gdp@1", {{"reason", "backtest ok"}}}).status();
  }));
  ASSERT_OK_AND_ASSIGN(auto entries, store_->metadata().ReadAudit(1, 0));
  ASSERT_THAT(entries, SizeIs(3));
  EXPECT_EQ(entries[0].event.action, "ingest");
  EXPECT_EQ(entries[0].event.actor, "test");
  EXPECT_EQ(entries[0].event.details["vintages_created"], 1);
  EXPECT_EQ(entries[1].event.action, "snapshot.create");
  EXPECT_EQ(entries[1].prev_hash, entries[0].hash);
  EXPECT_EQ(entries[2].event.details["reason"], "backtest ok");
  ASSERT_OK_AND_ASSIGN(AuditVerification v, VerifyAuditChain(store_->metadata()));
  EXPECT_EQ(v.entries, 3);
  EXPECT_EQ(v.head_hash, entries[2].hash);
}


namespace almanac::store::testing {

TEST_P(MetadataStoreConformance, ApiTokensStoreHashesAndRevocations) {
  auto& md = store_->metadata();
  ApiTokenRecord a{"tok_a", std::string(64, 'a'), "alice", "modeler", "ci", 10, "admin", 0, ""};
  ApiTokenRecord b{"tok_b", std::string(64, 'b'), "bob", "approver", "", 20, "admin", 0, ""};
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    ALMANAC_RETURN_IF_ERROR(t.InsertToken(b));
    return t.InsertToken(a);
  }));
  // Duplicate id or hash.
  EXPECT_THAT(md.Run([&](MetadataTxn& t) { return t.InsertToken(a); }), StatusIs(StatusCode::kAlreadyExists));
  ApiTokenRecord same_hash = a;
  same_hash.id = "tok_c";
  EXPECT_THAT(md.Run([&](MetadataTxn& t) { return t.InsertToken(same_hash); }), StatusIs(StatusCode::kAlreadyExists));
  ApiTokenRecord bad_role = a;
  bad_role.id = "tok_d";
  bad_role.token_sha256 = std::string(64, 'd');
  bad_role.role = "root";
  EXPECT_THAT(md.Run([&](MetadataTxn& t) { return t.InsertToken(bad_role); }), StatusIs(StatusCode::kInvalidArgument, "role"));
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    auto list = t.ListTokens();
    EXPECT_THAT(*list, SizeIs(2));
    EXPECT_EQ((*list)[0].id, "tok_a");  // oldest first
    auto found = t.GetTokenByHash(std::string(64, 'b'));
    EXPECT_EQ(found->user, "bob");
    EXPECT_EQ(found->role, "approver");
    EXPECT_EQ(t.GetToken("tok_a")->description, "ci");
    EXPECT_THAT(t.GetTokenByHash(std::string(64, 'e')).status(), StatusIs(StatusCode::kNotFound));
    ApiTokenRecord revoked = *found;
    revoked.revoked_at = 30;
    revoked.revoked_by = "carol";
    revoked.user = "mallory";  // only the revocation fields change
    return t.UpdateToken(revoked);
  }));
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    auto b2 = t.GetToken("tok_b");
    EXPECT_EQ(b2->revoked_at, 30);
    EXPECT_EQ(b2->revoked_by, "carol");
    EXPECT_EQ(b2->user, "bob");
    ApiTokenRecord ghost;
    ghost.id = "tok_zzz";
    EXPECT_THAT(t.UpdateToken(ghost), StatusIs(StatusCode::kNotFound));
    EXPECT_THAT(t.TouchToken("tok_zzz", 5), StatusIs(StatusCode::kNotFound));
    return Status::Ok();
  }));
  // Expiry (migration 9) is written by InsertToken and UpdateToken; last use only by
  // TouchToken, which never moves it back.
  ApiTokenRecord e{"tok_e", std::string(64, 'e'), "erin", "viewer", "", 40, "admin", 0, "", 1000, 0};
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    ALMANAC_RETURN_IF_ERROR(t.InsertToken(e));
    ALMANAC_RETURN_IF_ERROR(t.TouchToken("tok_e", 500));
    ALMANAC_RETURN_IF_ERROR(t.TouchToken("tok_e", 400));
    ApiTokenRecord later = e;
    later.expires_at = 900;
    later.last_used_at = 1;  // ignored
    return t.UpdateToken(later);
  }));
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    auto got = t.GetToken("tok_e");
    EXPECT_EQ(got->expires_at, 900);
    EXPECT_EQ(got->last_used_at, 500);
    return Status::Ok();
  }));
}

TEST_P(MetadataStoreConformance, StoreUsersMapPrincipalsAndGrantAdmin) {
  auto& md = store_->metadata();
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    EXPECT_THAT(t.GetStoreUser("jdoe").status(), StatusIs(StatusCode::kNotFound));
    EXPECT_THAT(*t.ListStoreUsers(), SizeIs(0));
    ALMANAC_RETURN_IF_ERROR(t.PutStoreUser({"jdoe", "john.doe", false, "root", 10}));
    ALMANAC_RETURN_IF_ERROR(t.PutStoreUser({"jane@corp", "jane", true, "root", 11}));
    return t.PutStoreUser({"jdoe", "john.doe", true, "jane", 12});  // replaces
  }));
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    auto all = t.ListStoreUsers();
    EXPECT_THAT(*all, SizeIs(2));
    EXPECT_EQ((*all)[0].principal, "jane@corp");  // by principal
    auto j = t.GetStoreUser("jdoe");
    EXPECT_EQ(j->user, "john.doe");
    EXPECT_TRUE(j->admin);
    EXPECT_EQ(j->granted_by, "jane");
    EXPECT_EQ(j->granted_at, 12);
    // SQL metacharacters are data.
    ALMANAC_RETURN_IF_ERROR(t.PutStoreUser({"x'; DROP TABLE store_users; --", "x", false, "root", 13}));
    EXPECT_EQ(t.GetStoreUser("x'; DROP TABLE store_users; --")->user, "x");
    ALMANAC_RETURN_IF_ERROR(t.DeleteStoreUser("jdoe"));
    EXPECT_THAT(t.DeleteStoreUser("jdoe"), StatusIs(StatusCode::kNotFound));
    EXPECT_THAT(*t.ListStoreUsers(), SizeIs(2));
    return Status::Ok();
  }));
}

// Entries written while an authenticated user is set record it when the actor differs.
TEST_P(MetadataStoreConformance, AuditRecordsTheAuthenticatedUserWhenTheActorDiffers) {
  auto& md = store_->metadata();
  SetAuthenticatedUser("alice");
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    ALMANAC_RETURN_IF_ERROR(t.Audit({"alice", "x.same", "x", "1", {{"k", 1}}}).status());
    return t.Audit({"bob", "x.other", "x", "2", {{"k", 2}}}).status();
  }));
  SetAuthenticatedUser("");
  ASSERT_OK_AND_ASSIGN(auto entries, md.ReadAudit(1, 0));
  ASSERT_THAT(entries, SizeIs(2));
  EXPECT_FALSE(entries[0].event.details.contains("authenticated_as"));
  EXPECT_EQ(entries[1].event.details["authenticated_as"], "alice");
  EXPECT_EQ(entries[1].event.details["k"], 2);
  EXPECT_OK(VerifyAuditChain(md).status());
}

}  // namespace almanac::store::testing

namespace almanac::store::testing {

namespace {
IssuedForecastRecord Issued(int64_t version, const std::string& origin, int horizon) {
  IssuedForecastRecord f;
  f.model = "gdp";
  f.version = version;
  f.target = "us:gdp";
  f.origin = origin;
  f.levels = {80, 95};
  f.lower.resize(2);
  f.upper.resize(2);
  for (int h = 0; h < horizon; ++h) {
    f.mean.push_back(100 + h + 0.125);
    f.lower[0].push_back(99 + h);
    f.upper[0].push_back(101 + h);
    f.lower[1].push_back(98 + h);
    f.upper[1].push_back(102 + h);
  }
  f.issued_at = 1000 + version;
  f.issued_by = "serve";
  return f;
}
}  // namespace

TEST_P(MetadataStoreConformance, IssuedForecastsOnePerOriginLongestHorizonWins) {
  auto& md = store_->metadata();
  auto put = [&](const IssuedForecastRecord& f) {
    bool wrote = false;
    Status s = md.Run([&](MetadataTxn& t) -> Status {
      ALMANAC_ASSIGN_OR_RETURN(wrote, t.PutForecast(f));
      return Status::Ok();
    });
    return std::make_pair(s, wrote);
  };
  EXPECT_EQ(put(Issued(2, "2009Q3", 4)), std::make_pair(Status::Ok(), true));
  EXPECT_EQ(put(Issued(1, "2009Q2", 4)), std::make_pair(Status::Ok(), true));
  // The same forecast again, or a shorter one: not written.
  EXPECT_EQ(put(Issued(2, "2009Q3", 4)), std::make_pair(Status::Ok(), false));
  EXPECT_EQ(put(Issued(2, "2009Q3", 2)), std::make_pair(Status::Ok(), false));
  // A longer horizon replaces the values; the first issue's time stays.
  IssuedForecastRecord longer = Issued(2, "2009Q3", 6);
  longer.issued_at = 5000;
  EXPECT_EQ(put(longer), std::make_pair(Status::Ok(), true));
  EXPECT_EQ(put(Issued(2, "2009Q4", 4)), std::make_pair(Status::Ok(), true));
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    auto all = t.ListForecasts("gdp", 0);
    EXPECT_THAT(all, ::almanac::testing::IsOk());
    EXPECT_THAT(*all, SizeIs(3));
    EXPECT_EQ((*all)[0].version, 1);
    EXPECT_EQ((*all)[1].origin, "2009Q3");
    EXPECT_EQ((*all)[2].origin, "2009Q4");
    const IssuedForecastRecord& f = (*all)[1];
    EXPECT_EQ(f.mean.size(), 6u);
    EXPECT_EQ(f.mean[5], 105.125);  // doubles round-trip
    EXPECT_EQ(f.levels, (std::vector<double>{80, 95}));
    EXPECT_EQ(f.upper[1][5], 107);
    EXPECT_EQ(f.issued_at, 1002);
    EXPECT_EQ(f.issued_by, "serve");
    EXPECT_EQ(f.target, "us:gdp");
    auto v2 = t.ListForecasts("gdp", 2);
    EXPECT_THAT(*v2, SizeIs(2));
    EXPECT_THAT(*t.ListForecasts("cpi", 0), SizeIs(0));
    return Status::Ok();
  }));
}

TEST_P(MetadataStoreConformance, IssuedForecastsRejectMalformedRowsAndStoreNothing) {
  auto& md = store_->metadata();
  auto put = [&](const IssuedForecastRecord& f) {
    return md.Run([&](MetadataTxn& t) -> Status { return t.PutForecast(f).status(); });
  };
  IssuedForecastRecord f = Issued(1, "2009Q3", 3);
  f.upper.pop_back();
  EXPECT_THAT(put(f), StatusIs(StatusCode::kInvalidArgument, "one lower and one upper bound row per level"));
  f = Issued(1, "2009Q3", 3);
  f.lower[1].pop_back();
  EXPECT_THAT(put(f), StatusIs(StatusCode::kInvalidArgument, "are not as long as the forecast"));
  f = Issued(1, "2009Q3", 3);
  f.mean[1] = std::nan("");
  EXPECT_THAT(put(f), StatusIs(StatusCode::kInvalidArgument, "not finite"));
  f = Issued(1, "2009Q3", 0);
  EXPECT_THAT(put(f), StatusIs(StatusCode::kInvalidArgument, "horizon 0"));
  f = Issued(1, "", 3);
  EXPECT_THAT(put(f), StatusIs(StatusCode::kInvalidArgument, "required"));
  f = Issued(0, "2009Q3", 3);
  EXPECT_THAT(put(f), StatusIs(StatusCode::kInvalidArgument, "version must be positive"));
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    EXPECT_THAT(*t.ListForecasts("gdp", 0), SizeIs(0));
    return Status::Ok();
  }));
}

TEST_P(MetadataStoreConformance, QuarantineKeepsPayloadsAndDecisions) {
  auto& md = store_->metadata();
  QuarantineRecord q;
  q.source = "fred";
  q.reasons = {"series fred:GDP, 2024Q1: value 1e9 above max 1e6", "quote \" and \\ and\nnewline"};
  q.series = {"fred:GDP", "fred:CPI"};
  q.observations = 12;
  q.payload = R"({"series":[]})";
  q.payload_sha256 = std::string(64, 'a');
  q.created_at = 1000;
  q.created_by = "loader";
  int64_t first = 0, second = 0;
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    ALMANAC_ASSIGN_OR_RETURN(first, t.InsertQuarantine(q));
    QuarantineRecord other = q;
    other.source = "ecb";
    ALMANAC_ASSIGN_OR_RETURN(second, t.InsertQuarantine(other));
    return Status::Ok();
  }));
  EXPECT_GT(first, 0);
  EXPECT_GT(second, first);
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    auto got = t.GetQuarantine(first);
    EXPECT_THAT(got, ::almanac::testing::IsOk());
    EXPECT_EQ(got->source, "fred");
    EXPECT_EQ(got->reasons, q.reasons);
    EXPECT_EQ(got->series, q.series);
    EXPECT_EQ(got->observations, 12);
    EXPECT_EQ(got->payload, q.payload);
    EXPECT_EQ(got->state, QuarantineState::kPending);
    auto pending = t.ListQuarantine({QuarantineState::kPending});
    EXPECT_THAT(*pending, SizeIs(2));
    EXPECT_EQ((*pending)[0].id, first);
    EXPECT_TRUE((*pending)[0].payload.empty());  // lists leave payloads out
    EXPECT_EQ((*pending)[0].payload_sha256, q.payload_sha256);
    QuarantineRecord decided = *got;
    decided.state = QuarantineState::kReleased;
    decided.decided_at = 2000;
    decided.decided_by = "reviewer";
    decided.decision_reason = "checked with the provider";
    decided.load_id = 7;
    decided.source = "changed";  // not an updatable field
    return t.UpdateQuarantine(decided);
  }));
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    auto got = t.GetQuarantine(first);
    EXPECT_EQ(got->state, QuarantineState::kReleased);
    EXPECT_EQ(got->decided_by, "reviewer");
    EXPECT_EQ(got->decision_reason, "checked with the provider");
    EXPECT_EQ(got->load_id, 7);
    EXPECT_EQ(got->source, "fred");
    EXPECT_THAT(*t.ListQuarantine({QuarantineState::kPending}), SizeIs(1));
    EXPECT_THAT(*t.ListQuarantine({QuarantineState::kReleased, QuarantineState::kDropped}), SizeIs(1));
    EXPECT_THAT(*t.ListQuarantine({}), SizeIs(2));
    return Status::Ok();
  }));
}

TEST_P(MetadataStoreConformance, QuarantineRejectsBadRecordsAndUnknownIds) {
  auto& md = store_->metadata();
  QuarantineRecord q;
  q.source = "fred";
  q.reasons = {"r"};
  q.payload = "{}";
  q.payload_sha256 = std::string(64, 'b');
  auto insert = [&](const QuarantineRecord& r) {
    return md.Run([&](MetadataTxn& t) -> Status { return t.InsertQuarantine(r).status(); });
  };
  QuarantineRecord bad = q;
  bad.reasons.clear();
  EXPECT_THAT(insert(bad), StatusIs(StatusCode::kInvalidArgument, "no reason"));
  bad = q;
  bad.source.clear();
  EXPECT_THAT(insert(bad), StatusIs(StatusCode::kInvalidArgument, "source is required"));
  bad = q;
  bad.payload.clear();
  EXPECT_THAT(insert(bad), StatusIs(StatusCode::kInvalidArgument, "empty payload"));
  EXPECT_THAT(md.Run([&](MetadataTxn& t) -> Status { return t.GetQuarantine(99).status(); }),
              StatusIs(StatusCode::kNotFound, "no quarantined load 99"));
  QuarantineRecord unknown = q;
  unknown.id = 99;
  EXPECT_THAT(md.Run([&](MetadataTxn& t) -> Status { return t.UpdateQuarantine(unknown); }),
              StatusIs(StatusCode::kNotFound, "quarantined load 99"));
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    EXPECT_THAT(*t.ListQuarantine({}), SizeIs(0));
    return Status::Ok();
  }));
}

namespace {
TaskRecord Task(const std::string& name, const std::string& kind = "pipeline") {
  TaskRecord t;
  t.kind = kind;
  t.name = name;
  t.payload = R"({"file":"x"})";
  t.dedupe_key = kind + ":" + name;
  t.max_attempts = 2;
  t.created_at = 100;
  t.created_by = "tester";
  return t;
}
}  // namespace

TEST_P(MetadataStoreConformance, TaskQueueClaimsLeasesAndReclaimsExpiredLeases) {
  auto& md = store_->metadata();
  auto insert = [&](const TaskRecord& t) { return md.Transact<int64_t>([&](MetadataTxn& x) { return x.InsertTask(t); }); };
  auto claim = [&](const std::string& w, int64_t now, std::vector<std::string> kinds = {}) {
    return md.Transact<std::optional<TaskRecord>>(
        [&](MetadataTxn& x) { return x.ClaimTask(w, now, now + 1000, kinds); });
  };
  ASSERT_OK_AND_ASSIGN(int64_t a, insert(Task("a")));
  ASSERT_OK_AND_ASSIGN(int64_t b, insert(Task("b", "load")));
  TaskRecord later = Task("c");
  later.not_before = 5000;
  ASSERT_OK_AND_ASSIGN(int64_t c, insert(later));
  EXPECT_THAT(insert(Task("a")).status(), StatusIs(StatusCode::kAlreadyExists));

  // Oldest first, kinds filter, not_before respected.
  ASSERT_OK_AND_ASSIGN(auto got, claim("w1", 200, {"load"}));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->id, b);
  ASSERT_OK_AND_ASSIGN(got, claim("w1", 200));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->id, a);
  EXPECT_EQ(got->state, TaskState::kRunning);
  EXPECT_EQ(got->lease_owner, "w1");
  EXPECT_EQ(got->lease_expires_at, 1200);
  EXPECT_EQ(got->attempts, 1);
  EXPECT_EQ(got->payload, R"({"file":"x"})");
  ASSERT_OK_AND_ASSIGN(got, claim("w2", 300));
  EXPECT_FALSE(got.has_value());  // c waits until 5000; a and b are leased
  // w1 dies: after its lease a second worker takes a (attempt 2 of 2) ...
  ASSERT_OK_AND_ASSIGN(got, claim("w2", 1500, {"pipeline"}));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->id, a);
  EXPECT_EQ(got->lease_owner, "w2");
  EXPECT_EQ(got->attempts, 2);
  // ... and once its attempts are used up an expired lease is not claimed again.
  ASSERT_OK_AND_ASSIGN(got, claim("w3", 4000, {"pipeline"}));
  EXPECT_FALSE(got.has_value());
  ASSERT_OK_AND_ASSIGN(got, claim("w3", 6000, {"pipeline"}));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->id, c);

  // Finishing: the record keeps what the worker wrote.
  ASSERT_OK(md.Run([&](MetadataTxn& x) -> Status {
    ALMANAC_ASSIGN_OR_RETURN(TaskRecord t, x.GetTask(c));
    t.state = TaskState::kDone;
    t.finished_at = 6500;
    t.result = R"({"run":"r1"})";
    return x.UpdateTask(t);
  }));
  ASSERT_OK(md.Run([&](MetadataTxn& x) -> Status {
    auto t = x.GetTask(c);
    EXPECT_EQ(t->state, TaskState::kDone);
    EXPECT_EQ(t->result, R"({"run":"r1"})");
    auto done = x.ListTasks({TaskState::kDone});
    EXPECT_THAT(*done, SizeIs(1));
    EXPECT_TRUE((*done)[0].payload.empty());
    EXPECT_THAT(*x.ListTasks({}), SizeIs(3));
    // Several states: every task is in exactly one of two complementary filters.
    EXPECT_EQ(x.ListTasks({TaskState::kDone, TaskState::kQueued})->size() +
                  x.ListTasks({TaskState::kRunning, TaskState::kFailed})->size(),
              3u);
    return Status::Ok();
  }));
}

TEST_P(MetadataStoreConformance, TaskQueueRejectsBadTasksAndUnknownIds) {
  auto& md = store_->metadata();
  auto insert = [&](const TaskRecord& t) { return md.Run([&](MetadataTxn& x) { return x.InsertTask(t).status(); }); };
  TaskRecord t = Task("a");
  t.dedupe_key.clear();
  EXPECT_THAT(insert(t), StatusIs(StatusCode::kInvalidArgument, "dedupe key"));
  t = Task("a");
  t.kind.clear();
  EXPECT_THAT(insert(t), StatusIs(StatusCode::kInvalidArgument, "kind and name"));
  t = Task("a");
  t.max_attempts = 0;
  EXPECT_THAT(insert(t), StatusIs(StatusCode::kInvalidArgument, "max_attempts"));
  EXPECT_THAT(md.Run([&](MetadataTxn& x) { return x.GetTask(42).status(); }), StatusIs(StatusCode::kNotFound, "no task 42"));
  t = Task("a");
  t.id = 42;
  EXPECT_THAT(md.Run([&](MetadataTxn& x) { return x.UpdateTask(t); }), StatusIs(StatusCode::kNotFound, "task 42"));
  ASSERT_OK(md.Run([&](MetadataTxn& x) -> Status {
    EXPECT_THAT(*x.ListTasks({}), SizeIs(0));
    return Status::Ok();
  }));
}

TEST_P(MetadataStoreConformance, ConcurrentWorkersClaimEachTaskOnce) {
  auto& md = store_->metadata();
  constexpr int kTasks = 24;
  for (int i = 0; i < kTasks; ++i)
    ASSERT_OK(md.Run([&](MetadataTxn& x) { return x.InsertTask(Task("t" + std::to_string(i))).status(); }));
  std::mutex mu;
  std::vector<int64_t> claimed;
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&, w] {
      for (;;) {
        auto got = md.Transact<std::optional<TaskRecord>>(
            [&](MetadataTxn& x) { return x.ClaimTask("w" + std::to_string(w), 200, 100000, {}); });
        if (!got.ok()) continue;  // busy store: try again
        if (!got->has_value()) return;
        std::lock_guard l(mu);
        claimed.push_back((*got)->id);
      }
    });
  }
  for (auto& t : workers) t.join();
  std::sort(claimed.begin(), claimed.end());
  EXPECT_EQ(claimed.size(), static_cast<size_t>(kTasks));
  EXPECT_EQ(std::adjacent_find(claimed.begin(), claimed.end()), claimed.end());  // no task twice
}

}  // namespace almanac::store::testing

// Issue 22 (MLflow registry, migration 11): tags of models and versions, aliases, deleted
// versions as tombstones, deleting and renaming a model with every row under its name.
TEST_P(MetadataStoreConformance, Issue22RegistryTagsAliasesDeleteRename) {
  auto& md = store_->metadata();
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    for (const char* id : {"m1", "m2", "m3"}) ALMANAC_RETURN_IF_ERROR(t.InsertRun(NewRun(id, 10)));
    RegisteredModelRecord m;
    m.name = "gdp";
    m.owner = "alice";
    m.created_by = "alice";
    ALMANAC_RETURN_IF_ERROR(t.InsertModel(m));
    m.name = "cpi";
    ALMANAC_RETURN_IF_ERROR(t.InsertModel(m));
    ModelVersionRecord v;
    v.model = "gdp";
    v.artifact_name = "a";
    v.artifact_sha256 = "b";
    for (int64_t i = 1; i <= 3; ++i) {
      v.version = i;
      v.run_id = "m" + std::to_string(i);
      ALMANAC_RETURN_IF_ERROR(t.InsertVersion(v));
    }
    PromotionRequestRecord r;
    r.model = "gdp";
    r.version = 2;
    r.requested_by = "alice";
    r.status = RequestStatus::kRejected;
    return t.InsertRequest(r).status();
  }));
  // Tags: version 0 is the model itself; values with quotes and SQL are stored as given.
  const std::string sql_text = "x'); DROP TABLE model_tags; --";
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    ALMANAC_RETURN_IF_ERROR(t.SetModelTag("gdp", 0, "team", "macro"));
    ALMANAC_RETURN_IF_ERROR(t.SetModelTag("gdp", 0, "Area", sql_text));
    ALMANAC_RETURN_IF_ERROR(t.SetModelTag("gdp", 0, "team", "nowcast"));  // replaces
    ALMANAC_RETURN_IF_ERROR(t.SetModelTag("gdp", 2, "team", "v2"));
    return t.SetModelTag("cpi", 0, "team", "prices");
  }));
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    using KV = std::vector<std::pair<std::string, std::string>>;
    EXPECT_EQ(*t.GetModelTags("gdp", 0), (KV{{"Area", sql_text}, {"team", "nowcast"}}));  // bytewise order
    EXPECT_EQ(*t.GetModelTags("gdp", 2), (KV{{"team", "v2"}}));
    EXPECT_TRUE(t.GetModelTags("gdp", 1)->empty());
    EXPECT_THAT(t.DeleteModelTag("gdp", 0, "nope"), StatusIs(StatusCode::kNotFound));
    EXPECT_OK(t.DeleteModelTag("gdp", 0, "Area"));
    EXPECT_EQ(*t.GetModelTags("gdp", 0), (KV{{"team", "nowcast"}}));
    return Status::Ok();
  }));
  // Aliases: set, move, delete; an alias needs a live version.
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    ALMANAC_RETURN_IF_ERROR(t.SetAlias("gdp", "champion", 1));
    ALMANAC_RETURN_IF_ERROR(t.SetAlias("gdp", "Challenger", 2));
    ALMANAC_RETURN_IF_ERROR(t.SetAlias("gdp", "champion", 2));  // moves
    return t.SetAlias("gdp", "old", 3);
  }));
  EXPECT_THAT(md.Run([](MetadataTxn& t) { return t.SetAlias("gdp", "x", 9); }), StatusIs(StatusCode::kNotFound));
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    using AV = std::vector<std::pair<std::string, int64_t>>;
    EXPECT_EQ(*t.ListAliases("gdp"), (AV{{"Challenger", 2}, {"champion", 2}, {"old", 3}}));
    EXPECT_TRUE(t.ListAliases("cpi")->empty());
    EXPECT_THAT(t.DeleteAlias("gdp", "nope"), StatusIs(StatusCode::kNotFound));
    EXPECT_OK(t.DeleteAlias("gdp", "Challenger"));
    EXPECT_EQ(*t.ListAliases("gdp"), (AV{{"champion", 2}, {"old", 3}}));
    return Status::Ok();
  }));
  // A deleted version is a tombstone: gone from reads, its tags and aliases dropped, its number
  // still counted, its run still taken, its promotion requests kept.
  ASSERT_OK(md.Run([](MetadataTxn& t) { return t.DeleteVersion("gdp", 2, 500); }));
  EXPECT_THAT(md.Run([](MetadataTxn& t) { return t.DeleteVersion("gdp", 2, 600); }), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(md.Run([](MetadataTxn& t) { return t.DeleteVersion("gdp", 7, 600); }), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(md.Run([](MetadataTxn& t) { return t.SetAlias("gdp", "champion", 2); }), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(md.Run([](MetadataTxn& t) -> Status {
    ModelVersionRecord v;
    v.model = "gdp";
    v.version = 4;
    v.run_id = "m2";
    return t.InsertVersion(v);
  }),
              StatusIs(StatusCode::kAlreadyExists));
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    EXPECT_THAT(t.GetVersion("gdp", 2), StatusIs(StatusCode::kNotFound));
    auto versions = t.ListVersions("gdp");
    EXPECT_THAT(*versions, SizeIs(2));
    EXPECT_EQ((*versions)[0].version, 1);
    EXPECT_EQ((*versions)[1].version, 3);
    EXPECT_EQ(*t.MaxVersion("gdp"), 3);
    EXPECT_TRUE(t.GetModelTags("gdp", 2)->empty());
    using AV = std::vector<std::pair<std::string, int64_t>>;
    EXPECT_EQ(*t.ListAliases("gdp"), (AV{{"old", 3}}));
    EXPECT_THAT(*t.ListRequests("gdp"), SizeIs(1));
    return Status::Ok();
  }));
  // Rename moves every row; the old name is free, the new one must be.
  EXPECT_THAT(md.Run([](MetadataTxn& t) { return t.RenameModel("gdp", "cpi"); }), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(md.Run([](MetadataTxn& t) { return t.RenameModel("nope", "x"); }), StatusIs(StatusCode::kNotFound));
  ASSERT_OK(md.Run([](MetadataTxn& t) { return t.RenameModel("gdp", "gdp_real"); }));
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    EXPECT_THAT(t.GetModel("gdp"), StatusIs(StatusCode::kNotFound));
    EXPECT_EQ(t.GetModel("gdp_real")->owner, "alice");
    EXPECT_TRUE(t.ListVersions("gdp")->empty());
    auto versions = t.ListVersions("gdp_real");
    EXPECT_THAT(*versions, SizeIs(2));
    EXPECT_EQ((*versions)[0].model, "gdp_real");
    EXPECT_THAT(t.GetVersion("gdp_real", 2), StatusIs(StatusCode::kNotFound));  // still deleted
    EXPECT_EQ(*t.MaxVersion("gdp_real"), 3);
    EXPECT_THAT(*t.ListRequests("gdp_real"), SizeIs(1));
    EXPECT_TRUE(t.ListRequests("gdp")->empty());
    EXPECT_THAT(*t.GetModelTags("gdp_real", 0), SizeIs(1));
    EXPECT_THAT(*t.ListAliases("gdp_real"), SizeIs(1));
    EXPECT_TRUE(t.ListAliases("gdp")->empty());
    return Status::Ok();
  }));
  // Delete removes the model with everything under its name; the name can be used again.
  EXPECT_THAT(md.Run([](MetadataTxn& t) { return t.DeleteModel("gdp"); }), StatusIs(StatusCode::kNotFound));
  ASSERT_OK(md.Run([](MetadataTxn& t) { return t.DeleteModel("gdp_real"); }));
  ASSERT_OK(md.Run([&](MetadataTxn& t) -> Status {
    EXPECT_THAT(t.GetModel("gdp_real"), StatusIs(StatusCode::kNotFound));
    EXPECT_TRUE(t.ListVersions("gdp_real")->empty());
    EXPECT_EQ(*t.MaxVersion("gdp_real"), 0);
    EXPECT_TRUE(t.ListRequests("gdp_real")->empty());
    EXPECT_TRUE(t.GetModelTags("gdp_real", 0)->empty());
    EXPECT_TRUE(t.ListAliases("gdp_real")->empty());
    EXPECT_EQ(*t.GetModelTags("cpi", 0), (std::vector<std::pair<std::string, std::string>>{{"team", "prices"}}));
    RegisteredModelRecord m;
    m.name = "gdp_real";
    m.owner = "bob";
    m.created_by = "bob";
    return t.InsertModel(m);
  }));
}

}  // namespace almanac::store::testing
