// End-to-end tests of `almanac reconcile` (issue 25): the committed hierarchy files and wide
// CSVs of testdata/models/reconcile/ give R's reconciled forecasts (reconciled.csv, base R),
// labels pass through, and bad input fails naming the file, series or option.
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/core.h"
#include "almanac/core/json.h"

#include "integration/cli_runner.h"

namespace almanac::testing {
namespace {

using ::testing::HasSubstr;

const std::string kDir = ALMANAC_SOURCE_DIR "/testdata/models/reconcile/";

// reconciled.csv rows of one structure and method: node -> values by step.
std::map<std::string, std::vector<double>> Golden(const std::string& structure, const std::string& method) {
  std::ifstream in(kDir + "reconciled.csv");
  std::string line;
  std::getline(in, line);  // header: structure,method,node,shrinkage,h1..h4
  std::map<std::string, std::vector<double>> out;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::vector<std::string> f;
    std::string cell;
    while (std::getline(ss, cell, ',')) f.push_back(cell);
    if (f[0] != structure || f[1] != method) continue;
    for (size_t k = 4; k < f.size(); ++k) out[f[2]].push_back(std::stod(f[k]));
  }
  return out;
}

class ReconcileCliTest : public ::testing::TestWithParam<std::pair<const char*, const char*>> {
 protected:
  TempDir dir_;
};

TEST_P(ReconcileCliTest, MatchesBaseR) {
  const auto [structure, method] = GetParam();
  const std::string s = structure;
  auto r = RunAlmanac({"reconcile", "--hierarchy", kDir + s + ".yaml", "--forecasts", kDir + s + "_base.csv",
                       "--residuals", kDir + s + "_residuals.csv", "--method", method, "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto out = ParseJson(r.out);
  ASSERT_TRUE(out.ok()) << r.out;
  const auto golden = Golden(structure, method);
  ASSERT_FALSE(golden.empty());
  ASSERT_EQ(out->size(), 4u);
  for (size_t k = 0; k < 4; ++k) {
    EXPECT_EQ((*out)[k]["h"], std::to_string(k + 1));  // the label column, unchanged
    for (const auto& [node, values] : golden)
      EXPECT_NEAR((*out)[k][node].get<double>(), values[k], 1e-9 * std::fabs(values[k])) << node << " h=" << k + 1;
  }
  EXPECT_EQ(r.err.find("shrinkage") != std::string::npos, std::string(method) == "mint_shrink") << r.err;
}

INSTANTIATE_TEST_SUITE_P(Issue25, ReconcileCliTest,
                         ::testing::Values(std::pair{"regions", "bottom_up"}, std::pair{"regions", "ols"},
                                           std::pair{"regions", "wls_struct"}, std::pair{"gdp", "wls_var"},
                                           std::pair{"gdp", "mint_shrink"}, std::pair{"regions", "mint_shrink"}));

TEST(ReconcileCliErrorsTest, NamesTheProblem) {
  TempDir dir;
  const std::string yaml = kDir + "regions.yaml", base = kDir + "regions_base.csv";
  // MinT needs residuals.
  auto r = RunAlmanac({"reconcile", "--hierarchy", yaml, "--forecasts", base});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("--residuals"));
  // A series of the hierarchy without a column.
  const std::string partial = std::string(dir / "partial.csv");
  WriteFile(partial, "h,Country,North\n1,10,4\n");
  r = RunAlmanac({"reconcile", "--hierarchy", yaml, "--forecasts", partial, "--method", "ols"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("'South'"));
  // An unknown method; a hierarchy with an unknown part.
  r = RunAlmanac({"reconcile", "--hierarchy", yaml, "--forecasts", base, "--method", "mint"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("mint_shrink"));
  const std::string bad = std::string(dir / "bad.yaml");
  WriteFile(bad, "bottom: [a, b]\naggregates:\n  T: [a, c]\n");
  r = RunAlmanac({"reconcile", "--hierarchy", bad, "--forecasts", base, "--method", "ols"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("unknown part 'c'"));
}

}  // namespace
}  // namespace almanac::testing
