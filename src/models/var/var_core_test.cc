// The least-squares core against a direct QR solution on explicitly built regressors, for
// every trend option, on level data with large means (where normal equations are fragile).
#include "models/var/var_core.h"

#include <cmath>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace almanac::models::var {
namespace {

MatrixXd LevelData(int n, int k) {
  MatrixXd y(n, k);
  uint64_t s = 99;
  auto uni = [&] {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(s >> 11) * 0x1.0p-53 - 0.5;
  };
  VectorXd prev = VectorXd::Zero(k);
  for (int t = 0; t < n; ++t) {
    for (int i = 0; i < k; ++i) prev(i) = 0.6 * prev(i) + 0.2 * prev((i + 1) % k) + uni();
    for (int i = 0; i < k; ++i) y(t, i) = 1e4 * (i + 1) + 3.0 * t + 50 * prev(i);
  }
  return y;
}

TEST(VarCoreTest, CrossProductFitsMatchQr) {
  const MatrixXd y = LevelData(120, 4);
  MultiInput meta;
  meta.names = {"a", "b", "c", "d"};
  for (VarTrend trend : {VarTrend::kNone, VarTrend::kConstant, VarTrend::kConstantTrend}) {
    for (int p : {1, 3}) {
      SCOPED_TRACE(std::string(VarTrendName(trend)) + " p=" + std::to_string(p));
      auto fit = FitVarOls(y, p, trend, true, meta);
      ASSERT_TRUE(fit.ok()) << fit.status().ToString();
      const int d = NumDeterministic(trend), k = 4, n = 120 - p;
      MatrixXd z(n, d + k * p), yy = y.bottomRows(n);
      for (int r = 0; r < n; ++r) {
        const int t = p + r;
        int c = 0;
        if (d >= 1) z(r, c++) = 1;
        if (d >= 2) z(r, c++) = t + 1;
        for (int j = 1; j <= p; ++j)
          for (int i = 0; i < k; ++i) z(r, c++) = y(t - j, i);
      }
      const MatrixXd b = z.colPivHouseholderQr().solve(yy);
      const MatrixXd resid = yy - z * b;
      // Without a constant the level data make the normal equations ill-conditioned (~1e8).
      EXPECT_LT((fit->b - b).cwiseAbs().maxCoeff() / b.cwiseAbs().maxCoeff(), trend == VarTrend::kNone ? 1e-7 : 1e-9);
      const MatrixXd sse = resid.transpose() * resid;
      EXPECT_LT((fit->sse - sse).cwiseAbs().maxCoeff() / sse.cwiseAbs().maxCoeff(), 1e-7);
      const MatrixXd inv = (z.transpose() * z).inverse();
      EXPECT_LT((fit->zz_inv - inv).cwiseAbs().maxCoeff() / inv.cwiseAbs().maxCoeff(), 1e-5);
    }
  }
}

TEST(VarCoreTest, NestedOrdersShareOneFactor) {
  const MatrixXd y = LevelData(150, 3);
  MultiInput meta;
  meta.names = {"a", "b", "c"};
  CrossProducts cp(y, 5, VarTrend::kConstantTrend, 5);
  auto all = cp.SsePerOrder(0, meta);
  ASSERT_TRUE(all.ok());
  for (int p = 0; p <= 5; ++p) {
    auto one = cp.FitLeading(p, false, meta);
    ASSERT_TRUE(one.ok());
    EXPECT_LT(((*all)[p] - one->sse).cwiseAbs().maxCoeff() / one->sse.cwiseAbs().maxCoeff(), 1e-9) << p;
  }
}

}  // namespace
}  // namespace almanac::models::var
