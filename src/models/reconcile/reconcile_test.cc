// Reconciliation: closed-form properties (coherence, G S = I, bottom-up, OLS as an orthogonal
// projection, MinT with a diagonal W equal to WLS, the GLS G equal to the "U" form of
// Wickramasuriya et al. 2019) and goldens computed with base R by a different formula
// (testdata/models/reconcile/make_goldens.R). Tolerance against R: 1e-9 relative (both are
// direct linear algebra on 4..12 series; observed differences are ~1e-12).
#include "almanac/models/reconcile.h"

#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"
#include "models/reconcile/reconcile_internal.h"
#include "models/testing/golden_csv.h"

namespace almanac::models {
namespace {

using testing::CsvRow;
using testing::Num;
using testing::ReadGoldenCsv;
using ::almanac::testing::IsOk;
using ::almanac::testing::IsOkAndHolds;
using ::almanac::testing::StatusIs;

std::vector<std::string> SplitParts(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string p;
  while (std::getline(ss, p, ';')) out.push_back(p);
  return out;
}

struct GoldenStructure {
  Hierarchy h;
  std::vector<std::vector<double>> base, residuals;
};

std::map<std::string, GoldenStructure> Structures() {
  std::map<std::string, std::vector<std::pair<std::string, std::vector<std::string>>>> aggs;
  for (const CsvRow& row : ReadGoldenCsv("models/reconcile/hierarchies.csv"))
    aggs[row.at("structure")].push_back({row.at("name"), SplitParts(row.at("parts"))});
  std::map<std::string, GoldenStructure> out;
  auto rows_of = [](const std::string& file, const std::string& prefix) {
    std::map<std::string, std::vector<std::vector<double>>> m;
    for (const CsvRow& row : ReadGoldenCsv(file)) {
      std::vector<double> v;
      for (int k = 1; row.count(prefix + std::to_string(k)); ++k) v.push_back(Num(row, prefix + std::to_string(k)));
      m[row.at("structure")].push_back(v);
    }
    return m;
  };
  auto base = rows_of("models/reconcile/base.csv", "h");
  auto res = rows_of("models/reconcile/residuals.csv", "t");
  std::map<std::string, std::vector<std::string>> bottoms;
  for (const CsvRow& row : ReadGoldenCsv("models/reconcile/base.csv")) {
    bool is_agg = false;
    for (const auto& [name, parts] : aggs[row.at("structure")]) is_agg |= name == row.at("node");
    if (!is_agg) bottoms[row.at("structure")].push_back(row.at("node"));
  }
  for (const auto& [name, a] : aggs) {
    auto h = BuildHierarchy(bottoms[name], a);
    EXPECT_THAT(h, IsOk()) << name;
    out[name] = GoldenStructure{*h, base[name], res[name]};
  }
  return out;
}

Eigen::MatrixXd Mat(const std::vector<std::vector<double>>& rows) {
  Eigen::MatrixXd m(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(rows[0].size()));
  for (size_t i = 0; i < rows.size(); ++i)
    for (size_t j = 0; j < rows[0].size(); ++j) m(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = rows[i][j];
  return m;
}

const ReconcileMethod kAll[] = {ReconcileMethod::kBottomUp, ReconcileMethod::kOls, ReconcileMethod::kWlsStructural,
                                ReconcileMethod::kWlsVariance, ReconcileMethod::kMintShrink};

TEST(ReconcileTest, BuildsTheSummingMatrix) {
  auto h = BuildHierarchy({"N1", "N2", "S1"}, {{"Country", {"North", "S1"}}, {"North", {"N1", "N2"}}});
  ASSERT_THAT(h, IsOk());
  EXPECT_EQ(h->nodes, (std::vector<std::string>{"Country", "North", "N1", "N2", "S1"}));
  EXPECT_EQ(h->s, (std::vector<std::vector<double>>{{1, 1, 1}, {1, 1, 0}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1}}));
}

TEST(ReconcileTest, ParsesHierarchyFiles) {
  auto h = ParseHierarchyYaml("bottom: [N1, N2, S1]\naggregates:\n  Country: [North, S1]\n  North: [N1, N2]\n", "h.yaml");
  ASSERT_THAT(h, IsOk());
  EXPECT_EQ(h->nodes, (std::vector<std::string>{"Country", "North", "N1", "N2", "S1"}));
  EXPECT_THAT(ParseHierarchyYaml("bottom: [a, b]\naggregate:\n  T: [a, b]\n", "h.yaml"),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseHierarchyYaml("bottom: [a, b]\naggregates:\n  T: a\n", "h.yaml"),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseHierarchyYaml("bottom: [a, b\n", "h.yaml"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseHierarchyYaml("bottom: [a, b]\naggregates:\n  T: [a, c]\n", "h.yaml"),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(ReconcileTest, RejectsBadHierarchies) {
  EXPECT_THAT(BuildHierarchy({}, {}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(BuildHierarchy({"a", "a"}, {}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(BuildHierarchy({"a", "b"}, {{"T", {"a", "c"}}}), StatusIs(StatusCode::kInvalidArgument));   // unknown
  EXPECT_THAT(BuildHierarchy({"a", "b"}, {{"T", {}}}), StatusIs(StatusCode::kInvalidArgument));           // empty
  EXPECT_THAT(BuildHierarchy({"a", "b"}, {{"T", {"a", "a"}}}), StatusIs(StatusCode::kInvalidArgument));   // twice
  EXPECT_THAT(BuildHierarchy({"a", "b"}, {{"T", {"U"}}, {"U", {"T"}}}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(BuildHierarchy({"a", "b"}, {{"T", {"a", "b"}}, {"U", {"b", "a"}}}),
              StatusIs(StatusCode::kInvalidArgument));  // same sum twice
  EXPECT_THAT(BuildHierarchy({"a", "b"}, {{"a", {"a", "b"}}}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseReconcileMethod("mint"), StatusIs(StatusCode::kInvalidArgument));
  for (ReconcileMethod m : kAll) EXPECT_THAT(ParseReconcileMethod(ReconcileMethodName(m)), IsOkAndHolds(m));
}

TEST(ReconcileTest, RejectsBadInputs) {
  auto h = BuildHierarchy({"a", "b"}, {{"T", {"a", "b"}}});
  ASSERT_THAT(h, IsOk());
  const std::vector<std::vector<double>> base = {{3, 4}, {1, 2}, {1, 1}};
  EXPECT_THAT(Reconcile(*h, ReconcileMethod::kOls, {{3, 4}, {1, 2}}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Reconcile(*h, ReconcileMethod::kOls, {{3, 4}, {1}, {1, 1}}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Reconcile(*h, ReconcileMethod::kOls, {{3, NAN}, {1, 2}, {1, 1}}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Reconcile(*h, ReconcileMethod::kMintShrink, base), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Reconcile(*h, ReconcileMethod::kWlsVariance, base, {{1, 2}, {0, 0}, {1, -1}}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Reconcile(*h, ReconcileMethod::kWlsVariance, base, {{1, 2}, {1, 0}, {1}}),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(ReconcileTest, ClosedForms) {
  for (const auto& [name, st] : Structures()) {
    const Eigen::MatrixXd s = Mat(st.h.s);
    const Eigen::MatrixXd yhat = Mat(st.base);
    const auto nb = s.cols(), nn = s.rows();
    for (ReconcileMethod m : kAll) {
      auto r = Reconcile(st.h, m, st.base, st.residuals);
      ASSERT_THAT(r, IsOk()) << name << " " << ReconcileMethodName(m);
      const Eigen::MatrixXd g = Mat(r->g);
      const Eigen::MatrixXd y = Mat(r->forecasts);
      // G S = I: coherent forecasts are left unchanged.
      EXPECT_LT((g * s - Eigen::MatrixXd::Identity(nb, nb)).norm(), 1e-10) << name << " " << ReconcileMethodName(m);
      // Coherent: y~ = S (its bottom rows).
      EXPECT_LT((y - s * y.bottomRows(nb)).norm(), 1e-9 * yhat.norm()) << name << " " << ReconcileMethodName(m);
      if (m == ReconcileMethod::kBottomUp) {
        EXPECT_LT((y.bottomRows(nb) - yhat.bottomRows(nb)).norm(), 1e-12 * yhat.norm());
      }
      if (m == ReconcileMethod::kOls) {
        // S G is the orthogonal projection onto span(S): symmetric and idempotent, and the
        // adjustment is orthogonal to every column of S.
        const Eigen::MatrixXd p = s * g;
        EXPECT_LT((p - p.transpose()).norm(), 1e-10);
        EXPECT_LT((p * p - p).norm(), 1e-10);
        EXPECT_LT((s.transpose() * (yhat - y)).norm(), 1e-9 * yhat.norm());
        const Eigen::MatrixXd proj = s * (s.transpose() * s).inverse() * s.transpose() * yhat;
        EXPECT_LT((proj - y).norm(), 1e-9 * yhat.norm());
      }
      if (m == ReconcileMethod::kMintShrink) {
        EXPECT_GE(r->shrinkage, 0);
        EXPECT_LE(r->shrinkage, 1);
      } else {
        EXPECT_EQ(r->shrinkage, -1);
      }
    }
    // MinT with a diagonal W is WLS with that diagonal: the GLS G of diag(residual variances)
    // equals wls_var's; and the GLS G equals the U form J - J W U (U'WU)^-1 U' for a full W.
    const Eigen::MatrixXd x = Mat(st.residuals).transpose();
    const Eigen::MatrixXd var = (x.cwiseProduct(x).colwise().sum() / static_cast<double>(x.rows())).transpose().asDiagonal();
    auto g_diag = reconcile::GlsG(s, var);
    ASSERT_THAT(g_diag, IsOk());
    auto wls = Reconcile(st.h, ReconcileMethod::kWlsVariance, st.base, st.residuals);
    ASSERT_THAT(wls, IsOk());
    EXPECT_LT((*g_diag - Mat(wls->g)).norm(), 1e-12);
    double lambda = 0;
    const Eigen::MatrixXd w = reconcile::ShrinkCovariance(x, &lambda);
    auto g_full = reconcile::GlsG(s, w);
    ASSERT_THAT(g_full, IsOk());
    const auto na = nn - nb;
    Eigen::MatrixXd u(nn, na);
    u.topRows(na).setIdentity();
    u.bottomRows(nb) = -s.topRows(na).transpose();
    Eigen::MatrixXd j = Eigen::MatrixXd::Zero(nb, nn);
    j.rightCols(nb).setIdentity();
    const Eigen::MatrixXd g_u = j - j * w * u * (u.transpose() * w * u).inverse() * u.transpose();
    EXPECT_LT((*g_full - g_u).norm(), 1e-10) << name;
  }
}

TEST(ReconcileTest, ShrinkageIsOneForUncorrelatedResidualsAndZeroForNone) {
  // Columns orthogonal over whole cycles: zero sample correlations, so lambda = 1 and
  // mint_shrink equals wls_var.
  auto h = BuildHierarchy({"a", "b"}, {{"T", {"a", "b"}}});
  ASSERT_THAT(h, IsOk());
  std::vector<std::vector<double>> res(3);
  for (int t = 0; t < 24; ++t) {
    res[0].push_back(std::cos(2 * M_PI * t / 24));
    res[1].push_back(2 * std::sin(2 * M_PI * t / 24));
    res[2].push_back(0.5 * std::cos(4 * M_PI * t / 24));
  }
  const std::vector<std::vector<double>> base = {{10, 11}, {4, 5}, {5, 5}};
  auto mint = Reconcile(*h, ReconcileMethod::kMintShrink, base, res);
  auto wls = Reconcile(*h, ReconcileMethod::kWlsVariance, base, res);
  ASSERT_THAT(mint, IsOk());
  ASSERT_THAT(wls, IsOk());
  EXPECT_DOUBLE_EQ(mint->shrinkage, 1.0);
  for (size_t i = 0; i < 3; ++i)
    for (size_t k = 0; k < 2; ++k) EXPECT_NEAR(mint->forecasts[i][k], wls->forecasts[i][k], 1e-10);
}

TEST(ReconcileGoldenTest, MatchesBaseR) {
  const auto structures = Structures();
  ASSERT_EQ(structures.size(), 2u);
  int checked = 0;
  std::map<std::pair<std::string, std::string>, Reconciliation> done;
  for (const CsvRow& row : ReadGoldenCsv("models/reconcile/reconciled.csv")) {
    const GoldenStructure& st = structures.at(row.at("structure"));
    const std::string& method = row.at("method");
    auto key = std::make_pair(row.at("structure"), method);
    if (!done.count(key)) {
      auto m = ParseReconcileMethod(method);
      ASSERT_THAT(m, IsOk());
      auto r = Reconcile(st.h, *m, st.base, st.residuals);
      ASSERT_THAT(r, IsOk()) << key.first << " " << method;
      done[key] = *r;
    }
    const Reconciliation& r = done.at(key);
    const auto it = std::find(st.h.nodes.begin(), st.h.nodes.end(), row.at("node"));
    ASSERT_NE(it, st.h.nodes.end()) << row.at("node");
    const size_t i = static_cast<size_t>(it - st.h.nodes.begin());
    for (size_t k = 0; k < r.forecasts[i].size(); ++k) {
      const double want = Num(row, "h" + std::to_string(k + 1));
      EXPECT_NEAR(r.forecasts[i][k], want, 1e-9 * std::fabs(want)) << key.first << " " << method << " " << row.at("node");
    }
    if (method == "mint_shrink") {
      EXPECT_NEAR(r.shrinkage, Num(row, "shrinkage"), 1e-12);
    }
    ++checked;
  }
  EXPECT_EQ(checked, 5 * (8 + 12));
}

}  // namespace
}  // namespace almanac::models
