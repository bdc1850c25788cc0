// VaR/ES, contributions and backtests against an independent implementation (numpy/scipy):
// testdata/risk/reference.json, written by testdata/risk/make_reference.py. Checked to 1e-8
// (relative for large values).
#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/core.h"
#include "almanac/core/json.h"
#include "almanac/risk.h"

namespace almanac::risk {
namespace {

Json LoadReference() {
  const std::string path = std::string(ALMANAC_SOURCE_DIR) + "/testdata/risk/reference.json";
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = ParseJson(ss.str());
  EXPECT_TRUE(j.ok()) << path;
  return j.ok() ? *j : Json::object();
}

const Json& Reference() {
  static const Json* ref = new Json(LoadReference());
  return *ref;
}

double Tol(double want) { return 1e-8 * std::max(1.0, std::fabs(want)); }

TEST(RiskReferenceTest, HistoricalVaREsMatchesNumpy) {
  ASSERT_FALSE(Reference()["historical"].empty());
  for (const auto& c : Reference()["historical"]) {
    const auto pnl = c["pnl"].get<std::vector<double>>();
    for (const auto& r : c["results"]) {
      const double level = r["level"].get<double>();
      EXPECT_EQ(TailCount(static_cast<int64_t>(pnl.size()), level).value(), r["k"].get<int64_t>());
      auto got = HistoricalVaREs(pnl, level);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      const double var = r["var"].get<double>(), es = r["es"].get<double>();
      EXPECT_NEAR(got->var, var, Tol(var)) << pnl.size() << " @ " << level;
      EXPECT_NEAR(got->es, es, Tol(es)) << pnl.size() << " @ " << level;
    }
  }
}

TEST(RiskReferenceTest, HistoricalContributionsMatchNumpy) {
  ASSERT_FALSE(Reference()["contributions"].empty());
  for (const auto& c : Reference()["contributions"]) {
    const auto rows = c["pnl"].get<std::vector<std::vector<double>>>();
    PositionPnl d{.scenarios = static_cast<int64_t>(rows.size()), .positions = static_cast<int64_t>(rows[0].size())};
    for (const auto& row : rows) d.pnl.insert(d.pnl.end(), row.begin(), row.end());
    for (const auto& r : c["results"]) {
      auto got = HistoricalContributions(d, r["level"].get<double>());
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      EXPECT_NEAR(got->total.var, r["var"].get<double>(), Tol(r["var"].get<double>()));
      EXPECT_NEAR(got->total.es, r["es"].get<double>(), Tol(r["es"].get<double>()));
      const auto var_j = r["var_by_position"].get<std::vector<double>>();
      const auto es_j = r["es_by_position"].get<std::vector<double>>();
      double sv = 0, se = 0;
      for (size_t j = 0; j < var_j.size(); ++j) {
        EXPECT_NEAR(got->var[j], var_j[j], Tol(var_j[j])) << j;
        EXPECT_NEAR(got->es[j], es_j[j], Tol(es_j[j])) << j;
        sv += got->var[j];
        se += got->es[j];
      }
      EXPECT_NEAR(sv, got->total.var, 1e-9);
      EXPECT_NEAR(se, got->total.es, 1e-9);
    }
  }
}

TEST(RiskReferenceTest, ClosedFormsMatchScipyTailIntegrals) {
  ASSERT_FALSE(Reference()["parametric"].empty());
  for (const auto& c : Reference()["parametric"]) {
    const bool normal = c["distribution"] == "normal";
    const ParametricOptions o{.distribution = normal ? Distribution::kNormal : Distribution::kStudentT,
                              .dof = normal ? 5.0 : c["dof"].get<double>()};
    auto got = ClosedFormVaREs(c["mean"].get<double>(), c["scale"].get<double>(), c["level"].get<double>(), o);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    const double var = c["var"].get<double>(), es = c["es"].get<double>();
    EXPECT_NEAR(got->var, var, Tol(var)) << c.dump();
    EXPECT_NEAR(got->es, es, Tol(es)) << c.dump();
  }
}

TEST(RiskReferenceTest, BacktestsMatchScipy) {
  ASSERT_FALSE(Reference()["backtests"].empty());
  for (const auto& c : Reference()["backtests"]) {
    std::vector<bool> e;
    for (const auto& v : c["exceptions_indicators"]) e.push_back(v.get<int>() != 0);
    auto got = BacktestExceptions(e, c["level"].get<double>());
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    const std::string where = std::to_string(e.size()) + " days, " + std::to_string(c["exceptions"].get<int>()) + " exceptions";
    EXPECT_EQ(got->exceptions, c["exceptions"].get<int64_t>()) << where;
    EXPECT_EQ(got->n00, c["n00"].get<int64_t>()) << where;
    EXPECT_EQ(got->n01, c["n01"].get<int64_t>()) << where;
    EXPECT_EQ(got->n10, c["n10"].get<int64_t>()) << where;
    EXPECT_EQ(got->n11, c["n11"].get<int64_t>()) << where;
    for (const auto& [name, test] : {std::pair{"kupiec", &got->kupiec}, std::pair{"independence", &got->independence},
                                     std::pair{"conditional_coverage", &got->conditional_coverage}}) {
      const double stat = c[name].get<double>(), p = c[std::string(name) + "_p"].get<double>();
      EXPECT_NEAR(test->statistic, stat, Tol(stat)) << where << " " << name;
      EXPECT_NEAR(test->p_value, p, 1e-8) << where << " " << name;
    }
    EXPECT_NEAR(got->binomial_cdf, c["binomial_cdf"].get<double>(), 1e-8) << where;
    EXPECT_EQ(TrafficLightName(got->zone), c["zone"].get<std::string>()) << where;
  }
}

}  // namespace
}  // namespace almanac::risk
