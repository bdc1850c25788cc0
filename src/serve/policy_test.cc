// The version policy as state tables: registry rows in, aspired versions out.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/serve.h"
#include "core/testing/status_matchers.h"

namespace almanac::serve {
namespace {

using ::almanac::testing::StatusIs;
using store::Stage;

RegistryVersion V(const std::string& model, int64_t version, Stage stage, int64_t changed = 0) {
  return {model, version, stage, changed, "pkg/" + model + std::to_string(version), "sha" + std::to_string(version)};
}

// "model@version[label,label]" per aspired version, for compact expectations.
std::vector<std::string> Show(const std::vector<AspiredVersion>& as) {
  std::vector<std::string> out;
  for (const auto& a : as) {
    std::string s = a.model + "@" + std::to_string(a.version) + "[";
    for (size_t i = 0; i < a.labels.size(); ++i) s += (i ? "," : "") + a.labels[i];
    out.push_back(s + "]");
  }
  return out;
}

struct PolicyCase {
  std::string name;
  std::string policy;
  std::vector<RegistryVersion> registry;
  std::vector<std::string> want;
};

class PolicyTable : public ::testing::TestWithParam<PolicyCase> {};

TEST_P(PolicyTable, AspiredVersions) {
  const PolicyCase& c = GetParam();
  auto policy = ParseVersionPolicy(c.policy);
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_EQ(Show(AspiredVersions(*policy, c.registry)), c.want);
}

INSTANTIATE_TEST_SUITE_P(
    States, PolicyTable,
    ::testing::Values(
        PolicyCase{"EmptyRegistry", "production", {}, {}},
        PolicyCase{"NoProductionVersion", "production", {V("gdp", 1, Stage::kNone), V("gdp", 2, Stage::kStaging)}, {}},
        PolicyCase{"ProductionOnly",
                   "production",
                   {V("gdp", 1, Stage::kArchived), V("gdp", 2, Stage::kProduction), V("gdp", 3, Stage::kStaging)},
                   {"gdp@2[production]"}},
        PolicyCase{"ProductionAndStaging",
                   "production,staging",
                   {V("gdp", 2, Stage::kProduction), V("gdp", 3, Stage::kStaging), V("cpi", 1, Stage::kStaging)},
                   {"cpi@1[staging]", "gdp@2[production]", "gdp@3[staging]"}},
        PolicyCase{"StagingOnly", "staging", {V("gdp", 2, Stage::kProduction), V("gdp", 3, Stage::kStaging)}, {"gdp@3[staging]"}},
        PolicyCase{"LatestStagingEntrantWins",
                   "staging",
                   {V("gdp", 3, Stage::kStaging, 20), V("gdp", 4, Stage::kStaging, 10)},
                   {"gdp@3[staging]"}},
        PolicyCase{"PinnedArchivedVersion",
                   "production,gdp@1",
                   {V("gdp", 1, Stage::kArchived), V("gdp", 2, Stage::kProduction)},
                   {"gdp@1[pinned]", "gdp@2[production]"}},
        PolicyCase{"PinnedProductionVersionHasBothLabels",
                   "production,gdp@2",
                   {V("gdp", 2, Stage::kProduction)},
                   {"gdp@2[pinned,production]"}},
        PolicyCase{"PinnedUnknownVersionIsLeftOut", "gdp@9", {V("gdp", 2, Stage::kProduction)}, {}},
        PolicyCase{"PinnedOnlyServesNoAliases", "cpi@1", {V("gdp", 2, Stage::kProduction), V("cpi", 1, Stage::kNone)},
                   {"cpi@1[pinned]"}},
        PolicyCase{"ManyModels",
                   "production",
                   {V("a", 1, Stage::kProduction), V("b", 1, Stage::kNone), V("b", 2, Stage::kProduction),
                    V("c", 5, Stage::kProduction)},
                   {"a@1[production]", "b@2[production]", "c@5[production]"}}),
    [](const ::testing::TestParamInfo<PolicyCase>& info) { return info.param.name; });

TEST(PolicyParse, AcceptsAndRefuses) {
  auto p = ParseVersionPolicy("production, staging, gdp@3, gdp@3");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->production);
  EXPECT_TRUE(p->staging);
  ASSERT_EQ(p->pinned.size(), 1u);
  EXPECT_EQ(FormatVersionPolicy(*p), "production,staging,gdp@3");
  auto pinned_only = ParseVersionPolicy("gdp@3");
  ASSERT_TRUE(pinned_only.ok());
  EXPECT_FALSE(pinned_only->production);
  EXPECT_THAT(ParseVersionPolicy(""), StatusIs(StatusCode::kInvalidArgument, "empty item"));
  EXPECT_THAT(ParseVersionPolicy("production,"), StatusIs(StatusCode::kInvalidArgument, "empty item"));
  EXPECT_THAT(ParseVersionPolicy("latest"), StatusIs(StatusCode::kInvalidArgument, "unknown item"));
  EXPECT_THAT(ParseVersionPolicy("gdp@0"), StatusIs(StatusCode::kInvalidArgument, "positive version"));
  EXPECT_THAT(ParseVersionPolicy("gdp@x"), StatusIs(StatusCode::kInvalidArgument, "positive version"));
  EXPECT_THAT(ParseVersionPolicy("../x@1"), StatusIs(StatusCode::kInvalidArgument));
}

TEST(HttpStatusForTest, OneMappingForEveryCode) {
  EXPECT_EQ(HttpStatusFor(Status::Ok()), 200);
  EXPECT_EQ(HttpStatusFor(InvalidArgumentError("x")), 400);
  EXPECT_EQ(HttpStatusFor(OutOfRangeError("x")), 400);
  EXPECT_EQ(HttpStatusFor(UnauthenticatedError("x")), 401);
  EXPECT_EQ(HttpStatusFor(PermissionDeniedError("x")), 403);
  EXPECT_EQ(HttpStatusFor(NotFoundError("x")), 404);
  EXPECT_EQ(HttpStatusFor(FailedPreconditionError("x")), 409);
  EXPECT_EQ(HttpStatusFor(AlreadyExistsError("x")), 409);
  EXPECT_EQ(HttpStatusFor(ResourceExhaustedError("x")), 429);
  EXPECT_EQ(HttpStatusFor(ResourceExhaustedError("x"), /*request_too_large=*/true), 413);
  EXPECT_EQ(HttpStatusFor(UnimplementedError("x")), 501);
  EXPECT_EQ(HttpStatusFor(UnavailableError("x")), 503);
  EXPECT_EQ(HttpStatusFor(DeadlineExceededError("x")), 504);
  EXPECT_EQ(HttpStatusFor(InternalError("x")), 500);
  EXPECT_EQ(HttpStatusFor(DataLossError("x")), 500);
}

TEST(RolesTest, Matrix) {
  struct Row {
    Role role;
    bool read, forecast, predict, promote, decide;
  };
  const Row rows[] = {
      {Role::kViewer, true, true, false, false, false},   {Role::kAnalyst, true, true, true, false, false},
      {Role::kModeler, true, true, true, true, false},    {Role::kApprover, true, true, true, false, true},
      {Role::kAdmin, true, true, true, true, true},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(std::string(RoleName(r.role)));
    EXPECT_TRUE(RoleAllows(r.role, Permission::kPublic));
    EXPECT_EQ(RoleAllows(r.role, Permission::kRead), r.read);
    EXPECT_EQ(RoleAllows(r.role, Permission::kForecast), r.forecast);
    EXPECT_EQ(RoleAllows(r.role, Permission::kPredict), r.predict);
    EXPECT_EQ(RoleAllows(r.role, Permission::kPromote), r.promote);
    EXPECT_EQ(RoleAllows(r.role, Permission::kDecide), r.decide);
    EXPECT_EQ(*ParseRole(RoleName(r.role)), r.role);
  }
  EXPECT_THAT(ParseRole("root"), StatusIs(StatusCode::kInvalidArgument, "viewer, analyst"));
}

}  // namespace
}  // namespace almanac::serve
