#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/registry.h"
#include "almanac/tracking.h"
#include "core/testing/status_matchers.h"

namespace almanac::registry {
namespace {

using ::almanac::testing::IsOk;
using ::almanac::testing::StatusIs;

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::StoreOptions o;
    o.clock = &clock_;
    store_ = *store::OpenStore("memory:", o);
    artifacts_ = *store::OpenArtifactStore("memory:");
    tracker_ = std::make_unique<tracking::Tracker>(store_->metadata(), *artifacts_, clock_);
    reg_ = std::make_unique<Registry>(*store_, clock_);
  }

  // A run with a package; returns the new version number.
  int64_t NewVersion(const std::string& model = "gdp") {
    clock_.Advance(1000000);
    auto run = *tracker_->StartRun({.pipeline = "p", .user = "alice"});
    PackageManifest m;
    m.model_type = "naive";
    m.model_spec = {{"type", "naive"}, {"params", Json::object()}};
    m.target = "us:gdp";
    m.frequency = "Q";
    m.history_end = "2009Q3";
    m.horizon = 8;
    m.levels = {80, 95};
    m.pipeline_hash = run.id;  // distinct bytes per version
    auto bytes = *BuildPackage(m, {{"format", "almanac-model"}});
    auto art = *tracker_->LogArtifact(run.id, "model.json", bytes, "model-package");
    EXPECT_OK(tracker_->FinishRun(run.id, store::RunStatus::kFinished, ""));
    auto v = reg_->CreateVersion({model, run.id, art, "", {{"mase", 0.9}}, ""}, "alice");
    EXPECT_OK(v);
    return v.ok() ? v->version : 0;
  }

  FixedClock clock_{1714564800000000};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::ArtifactStore> artifacts_;
  std::unique_ptr<tracking::Tracker> tracker_;
  std::unique_ptr<Registry> reg_;
};

TEST_F(RegistryTest, FourEyesPromotionNeedsAnotherApprover) {
  ASSERT_OK(reg_->EnsureModel({"gdp", "macro-team", "US GDP growth"}, "alice"));
  const int64_t v1 = NewVersion();
  ASSERT_OK_AND_ASSIGN(PromotionResult p, reg_->Promote("gdp", v1, Stage::kProduction, "alice", "backtest ok"));
  EXPECT_FALSE(p.applied);
  EXPECT_TRUE(p.needs_approval);
  EXPECT_THAT(reg_->Resolve("gdp", "production"), StatusIs(StatusCode::kNotFound));
  // The requester cannot approve; a second request is refused while one is pending.
  EXPECT_THAT(reg_->Approve("gdp", v1, "alice", "self"), StatusIs(StatusCode::kFailedPrecondition, "four-eyes"));
  EXPECT_THAT(reg_->Promote("gdp", v1, Stage::kProduction, "carol", ""), StatusIs(StatusCode::kFailedPrecondition, "waiting"));
  ASSERT_OK_AND_ASSIGN(PromotionResult a, reg_->Approve("gdp", v1, "bob", "reviewed"));
  EXPECT_TRUE(a.applied);
  EXPECT_EQ(reg_->Resolve("gdp", "production")->version, v1);
  // A second version replaces the first, which is archived.
  const int64_t v2 = NewVersion();
  ASSERT_OK(reg_->Promote("gdp", v2, Stage::kProduction, "alice", "better"));
  ASSERT_OK_AND_ASSIGN(PromotionResult a2, reg_->Approve("gdp", v2, "bob", "ok"));
  ASSERT_TRUE(a2.replaced.has_value());
  EXPECT_EQ(a2.replaced->version, v1);
  EXPECT_EQ(reg_->Resolve("gdp", std::to_string(v1))->stage, Stage::kArchived);
  // Rollback requests the previous version, again under four-eyes.
  clock_.Advance(1000000);
  ASSERT_OK_AND_ASSIGN(PromotionResult rb, reg_->Rollback("gdp", "carol", "v2 misbehaves"));
  EXPECT_TRUE(rb.needs_approval);
  EXPECT_EQ(rb.request.version, v1);
  ASSERT_OK(reg_->Approve("gdp", v1, "bob", "agreed"));
  EXPECT_EQ(reg_->Resolve("gdp", "production")->version, v1);
}

TEST_F(RegistryTest, PolicyWithoutFourEyesAppliesAtOnceAndRejectWorks) {
  ASSERT_OK(reg_->EnsureModel({"cpi", "alice", "", {{"four_eyes", false}}}, "alice"));
  const int64_t v1 = NewVersion("cpi");
  ASSERT_OK_AND_ASSIGN(PromotionResult p, reg_->Promote("cpi", v1, Stage::kProduction, "alice", ""));
  EXPECT_TRUE(p.applied);
  ASSERT_OK(reg_->EnsureModel({"gdp", "alice"}, "alice"));
  const int64_t g1 = NewVersion("gdp");
  ASSERT_OK(reg_->Promote("gdp", g1, Stage::kStaging, "alice", ""));  // staging needs no approval
  EXPECT_EQ(reg_->Resolve("gdp", "staging")->version, g1);
  ASSERT_OK(reg_->Promote("gdp", g1, Stage::kProduction, "alice", ""));
  ASSERT_OK(reg_->Reject("gdp", g1, "bob", "not convincing"));
  EXPECT_THAT(reg_->Approve("gdp", g1, "bob", ""), StatusIs(StatusCode::kFailedPrecondition, "no pending"));
  EXPECT_EQ(reg_->Resolve("gdp", std::to_string(g1))->stage, Stage::kStaging);
}

TEST_F(RegistryTest, BadReferencesAndDuplicates) {
  ASSERT_OK(reg_->EnsureModel({"gdp", "alice"}, "alice"));
  EXPECT_THAT(reg_->Promote("gdp", 7, Stage::kProduction, "alice", ""), StatusIs(StatusCode::kNotFound, "no version 7"));
  EXPECT_THAT(reg_->Promote("nope", 1, Stage::kProduction, "alice", ""), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(reg_->Resolve("gdp", "x1"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(reg_->Rollback("gdp", "alice", ""), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(reg_->EnsureModel({"bad/name", "alice"}, "alice"), StatusIs(StatusCode::kInvalidArgument));
  const int64_t v1 = NewVersion();
  auto v = reg_->Resolve("gdp", std::to_string(v1));
  EXPECT_THAT(reg_->CreateVersion({"gdp", v->run_id, {v->artifact_name, v->artifact_sha256, 1, ""}, "", {}, ""}, "alice"),
              StatusIs(StatusCode::kAlreadyExists, "already created"));
  ASSERT_OK(reg_->Promote("gdp", v1, Stage::kStaging, "alice", ""));
  EXPECT_THAT(reg_->Promote("gdp", v1, Stage::kStaging, "alice", ""), StatusIs(StatusCode::kFailedPrecondition, "already in"));
}

TEST_F(RegistryTest, IdenticalPackageFromAnotherRunReusesTheVersionWhenAsked) {
  ASSERT_OK(reg_->EnsureModel({"gdp", "alice"}, "alice"));
  const int64_t v1 = NewVersion();
  auto first = *reg_->Resolve("gdp", std::to_string(v1));
  const store::ArtifactRecord package{first.artifact_name, first.artifact_sha256, 1, ""};
  // Several runs (a task re-run, workers racing) register the same package at once.
  std::vector<std::string> runs;
  for (int i = 0; i < 4; ++i) {
    auto run = *tracker_->StartRun({.pipeline = "p", .user = "alice"});
    ASSERT_OK(tracker_->FinishRun(run.id, store::RunStatus::kFinished, ""));
    runs.push_back(run.id);
  }
  std::vector<Result<ModelVersionRecord>> got(runs.size(), InternalError("not run"));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < runs.size(); ++i)
    threads.emplace_back([&, i] {
      registry::NewVersion nv{"gdp", runs[i], package, "", {}, ""};
      nv.reuse_identical_package = true;
      got[i] = reg_->CreateVersion(nv, "alice");
    });
  for (auto& t : threads) t.join();
  for (const auto& g : got) {
    ASSERT_OK(g);
    EXPECT_EQ(g->version, v1);
    EXPECT_EQ(g->run_id, first.run_id);
  }
  EXPECT_EQ(reg_->ListVersions("gdp")->size(), 1u);
  // Without the flag the same package from a new run is a new version (explicit registration).
  registry::NewVersion again{"gdp", runs[0], package, "", {}, ""};
  auto v2 = reg_->CreateVersion(again, "alice");
  ASSERT_OK(v2);
  EXPECT_EQ(v2->version, v1 + 1);
}

TEST_F(RegistryTest, EveryChangeIsAuditedAndLineageCollectsIt) {
  ASSERT_OK(reg_->EnsureModel({"gdp", "alice"}, "alice"));
  const int64_t v1 = NewVersion();
  ASSERT_OK(reg_->Promote("gdp", v1, Stage::kProduction, "alice", "first"));
  ASSERT_OK(reg_->Approve("gdp", v1, "bob", "ok"));
  ASSERT_OK_AND_ASSIGN(Lineage l, reg_->GetLineage("gdp", v1));
  EXPECT_EQ(l.approvals.size(), 1u);
  EXPECT_EQ(l.approvals[0].decided_by, "bob");
  std::vector<std::string> actions;
  for (const auto& e : l.audit) actions.push_back(e.event.action);
  EXPECT_THAT(actions, ::testing::ElementsAre("model.create", "run.start", "run.finish", "model.register",
                                              "model.promote.request", "model.approve"));
  ASSERT_OK(store::VerifyAuditChain(store_->metadata()));
}

TEST(PackageTest, RoundTripAndRejections) {
  PackageManifest m;
  m.model_type = "auto_ets";
  m.model_spec = {{"type", "auto_ets"}, {"params", Json::object()}};
  m.target = "us:gdp";
  m.horizon = 8;
  m.levels = {80, 95};
  ASSERT_OK_AND_ASSIGN(std::string bytes, BuildPackage(m, {{"format", "almanac-model"}, {"state", 1}}));
  EXPECT_EQ(*BuildPackage(m, {{"format", "almanac-model"}, {"state", 1}}), bytes);  // deterministic
  ASSERT_OK_AND_ASSIGN(ParsedPackage p, ParsePackage(bytes));
  EXPECT_EQ(p.manifest.model_type, "auto_ets");
  EXPECT_EQ(p.model_envelope["state"], 1);
  EXPECT_THAT(ParsePackage("{\"format\":\"other\"}"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParsePackage("not json"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParsePackage("{\"format\":\"almanac-model-package\",\"format_version\":99,\"manifest\":{},\"model\":{}}"),
              StatusIs(StatusCode::kFailedPrecondition, "newer"));
  EXPECT_THAT(ParsePackage("{\"format\":\"almanac-model-package\",\"format_version\":1,\"manifest\":{},\"model\":{}}"),
              StatusIs(StatusCode::kInvalidArgument, "malformed"));
}

// Issue 24: multivariate packages carry their variables; univariate packages are unchanged.
TEST(PackageTest, VariablesRoundTripAndUnivariatePackagesAreUnchanged) {
  PackageManifest uni;
  uni.model_type = "auto_ets";
  uni.model_spec = {{"type", "auto_ets"}, {"params", Json::object()}};
  uni.target = "us:gdp";
  ASSERT_OK_AND_ASSIGN(std::string uni_bytes, BuildPackage(uni, {{"format", "almanac-model"}}));
  EXPECT_EQ(uni_bytes.find("variables"), std::string::npos) << uni_bytes;
  // A package written before the field existed (these exact bytes) still parses, and
  // rebuilding it gives the same bytes.
  const std::string old =
      "{\"format\":\"almanac-model-package\",\"format_version\":1,\"manifest\":{\"almanac_version\":\"0.1\","
      "\"frequency\":\"Q\",\"history_end\":\"2009Q3\",\"horizon\":8,\"levels\":[],\"metrics\":{},"
      "\"model_spec\":{\"params\":{},\"type\":\"naive\"},\"model_type\":\"naive\",\"pipeline_hash\":\"\","
      "\"snapshot_id\":\"\",\"target\":\"us:gdp\",\"transforms\":[]},\"model\":{\"format\":\"almanac-model\"}}";
  ASSERT_OK_AND_ASSIGN(ParsedPackage old_parsed, ParsePackage(old));
  EXPECT_TRUE(old_parsed.manifest.variables.empty());
  EXPECT_EQ(*BuildPackage(old_parsed.manifest, old_parsed.model_envelope), old);

  PackageManifest multi = uni;
  multi.model_type = "var";
  multi.model_spec = {{"type", "var"}, {"params", {{"lags", 2}}}};
  multi.target = "";
  multi.variables = {"us:gdp", "us:cpi", "us:rate"};
  ASSERT_OK_AND_ASSIGN(std::string bytes, BuildPackage(multi, {{"format", "almanac-model"}}));
  ASSERT_OK_AND_ASSIGN(ParsedPackage p, ParsePackage(bytes));
  EXPECT_EQ(p.manifest.variables, multi.variables);  // in model order, not sorted
  EXPECT_EQ(p.manifest.model_type, "var");
  EXPECT_EQ(*BuildPackage(p.manifest, p.model_envelope), bytes);

  auto with_variables = [&](const Json& vars) {
    Json j = *ParseJson(bytes);
    j["manifest"]["variables"] = vars;
    return ParsePackage(j.dump());
  };
  EXPECT_THAT(with_variables("us:gdp"), StatusIs(StatusCode::kInvalidArgument, "variables must be a list"));
  EXPECT_THAT(with_variables(Json::array({"a", 1})), StatusIs(StatusCode::kInvalidArgument, "variables[1]"));
  EXPECT_THAT(with_variables(Json::array({"a", ""})), StatusIs(StatusCode::kInvalidArgument, "variables[1]"));
  EXPECT_THAT(with_variables(Json::array({"a", "b", "a"})), StatusIs(StatusCode::kInvalidArgument, "listed twice"));
  ASSERT_OK_AND_ASSIGN(ParsedPackage empty, with_variables(Json::array()));
  EXPECT_TRUE(empty.manifest.variables.empty());
}

}  // namespace
}  // namespace almanac::registry
