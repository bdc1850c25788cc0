// Unit tests of the ETS numerics: Nelder-Mead, the stability test, R's admissibility
// region, initial states and decomposition (values from R 4.2 / forecast 8.20, see the
// comments), quantiles, the normal generator and the analytic variances.
#include "models/ets/ets_core.h"

#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"
#include "models/ets/ets_forecast.h"
#include "models/ets/nelder_mead.h"

namespace almanac::models::ets {
namespace {

using ::almanac::testing::StatusIs;

// R's datasets::AirPassengers.
const std::vector<double> kAirPassengers = {
    112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118, 115, 126, 141, 135, 125, 149, 170, 170, 158,
    133, 114, 140, 145, 150, 178, 163, 172, 178, 199, 199, 184, 162, 146, 166, 171, 180, 193, 181, 183, 218,
    230, 242, 209, 191, 172, 194, 196, 196, 236, 235, 229, 243, 264, 272, 237, 211, 180, 201, 204, 188, 235,
    227, 234, 264, 302, 293, 259, 229, 203, 229, 242, 233, 267, 269, 270, 315, 364, 347, 312, 274, 237, 278,
    284, 277, 317, 313, 318, 374, 413, 405, 355, 306, 271, 306, 315, 301, 356, 348, 355, 422, 465, 467, 404,
    347, 305, 336, 340, 318, 362, 348, 363, 435, 491, 505, 404, 359, 310, 337, 360, 342, 406, 396, 420, 472,
    548, 559, 463, 407, 362, 405, 417, 391, 419, 461, 472, 535, 622, 606, 508, 461, 390, 432};

void ExpectAllNear(const std::vector<double>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol * std::max(1.0, std::fabs(want[i]))) << i;
}

TEST(NelderMead, MinimisesRosenbrock) {
  auto rosen = [](const double* x) { return 100 * std::pow(x[1] - x[0] * x[0], 2) + std::pow(1 - x[0], 2); };
  NelderMeadWorkspace ws;
  NelderMeadOptions opt;
  opt.reltol = 1e-14;
  opt.max_evals = 5000;
  const std::vector<double> x0 = {-1.2, 1.0};
  NelderMeadResult r = NelderMead(rosen, x0, opt, ws);
  EXPECT_EQ(r.fail, 0);
  EXPECT_NEAR(r.x[0], 1.0, 1e-3);
  EXPECT_NEAR(r.x[1], 1.0, 2e-3);
  EXPECT_LT(r.value, 1e-6);
}

TEST(NelderMead, StopsAtTheEvaluationBudget) {
  auto sphere = [](const double* x) { return x[0] * x[0] + x[1] * x[1] + x[2] * x[2]; };
  NelderMeadWorkspace ws;
  NelderMeadOptions opt;
  opt.reltol = 0;
  opt.max_evals = 50;
  const std::vector<double> x0 = {1, 2, 3};
  NelderMeadResult r = NelderMead(sphere, x0, opt, ws);
  EXPECT_EQ(r.fail, 1);
  EXPECT_GT(r.evals, 50);
  EXPECT_LT(r.evals, 60);
}

TEST(NelderMead, ReportsANonFiniteStart) {
  auto bad = [](const double*) { return HUGE_VAL; };
  NelderMeadWorkspace ws;
  const std::vector<double> x0 = {1};
  EXPECT_EQ(NelderMead(bad, x0, NelderMeadOptions{}, ws).fail, -1);
}

// A BatchObjective for NelderMeadSpeculative: Rosenbrock in 4 dimensions, rejected
// (cheaply) where x0 > 1.5, counting the full evaluations and the passes.
struct CountingRosenbrock {
  int lanes = 1;
  int full = 0, passes = 0;
  static double F(const double* x) {
    double s = 0;
    for (int i = 0; i < 3; ++i) s += 100 * std::pow(x[i + 1] - x[i] * x[i], 2) + std::pow(1 - x[i], 2);
    return s;
  }
  bool Cheap(const double* x, double* v) { return Quick(x, v) || Slow(x, v); }
  // The cheap rejection in two parts (x0 > 2; x0 in (1.5, 2]), as ETS's bounds and roots.
  bool Quick(const double* x, double* v) {
    if (x[0] <= 2) return false;
    *v = HUGE_VAL;
    return true;
  }
  bool Slow(const double* x, double* v) {
    if (x[0] <= 1.5) return false;
    *v = HUGE_VAL;
    return true;
  }
  void SlowMany(const double* const* xs, int k, bool* settled, double* v) {
    for (int j = 0; j < k; ++j) settled[j] = Slow(xs[j], &v[j]);
  }
  double Full(const double* x) {
    ++full;
    ++passes;
    return F(x);
  }
  int Lanes() const { return lanes; }
  void FullMany(const double* const* xs, int k, double* v) {
    full += k;
    ++passes;
    for (int j = 0; j < k; ++j) v[j] = F(xs[j]);
  }
  double operator()(const double* x) {
    double v;
    return Cheap(x, &v) ? v : Full(x);
  }
};

TEST(NelderMead, LookAheadFollowsTheSamePath) {
  for (int budget : {40, 300, 5000}) {
    NelderMeadOptions opt;
    opt.max_evals = budget;
    const std::vector<double> x0 = {-1.2, 1.0, 1.4, 0.5};
    CountingRosenbrock plain;
    NelderMeadWorkspace ws;
    const NelderMeadResult a = NelderMead(plain, x0, opt, ws);
    int last_passes = plain.passes;
    for (int lanes : {2, 3, 4}) {
      CountingRosenbrock ahead;
      ahead.lanes = lanes;
      const NelderMeadResult b = NelderMeadSpeculative(ahead, x0, opt, ws);
      EXPECT_EQ(a.x, b.x) << budget << " " << lanes;  // bit for bit
      EXPECT_EQ(a.value, b.value);
      EXPECT_EQ(a.evals, b.evals);
      EXPECT_EQ(a.fail, b.fail);
      // Fewer passes with more lanes, and at most lanes - 1 wasted evaluations per pass.
      EXPECT_LT(ahead.passes, last_passes) << budget << " " << lanes;
      EXPECT_LE(ahead.full, plain.full + (lanes - 1) * ahead.passes);
      last_passes = ahead.passes;
    }
  }
}

TEST(RootsWithin, SchurCohn) {
  // (z - 0.5)(z + 0.9) = z^2 + 0.4 z - 0.45
  EXPECT_TRUE(RootsWithin(std::vector<double>{-0.45, 0.4, 1.0}, 1.0));
  // (z - 1.1)(z + 0.2)
  EXPECT_FALSE(RootsWithin(std::vector<double>{-0.22, -0.9, 1.0}, 1.0));
  // A root exactly on the unit circle counts as inside with R's 1e-10 slack.
  EXPECT_TRUE(RootsWithin(std::vector<double>{-1.0, 1.0}, 1 + 1e-10));
  EXPECT_FALSE(RootsWithin(std::vector<double>{-(1 + 1e-9), 1.0}, 1 + 1e-10));
  // Complex pair of modulus 0.95: z^2 - 2*0.95*cos(1) z + 0.9025
  EXPECT_TRUE(RootsWithin(std::vector<double>{0.9025, -1.9 * std::cos(1.0), 1.0}, 1.0));
  EXPECT_FALSE(RootsWithin(std::vector<double>{1.1025, -2.1 * std::cos(1.0), 1.0}, 1.0));
}

TEST(RootsWithin, ManyAgreeWithOne) {
  // Random polynomials near the stability boundary (roots of modulus 0.9..1.1), 1 to 4 at
  // a time: each answer must be RootsWithin's.
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0, 1);
  int inside = 0, total = 0;
  for (int d : {1, 2, 5, 12, 13}) {
    for (int rep = 0; rep < 300; ++rep) {
      std::vector<std::vector<double>> polys(4);
      for (auto& c : polys) {
        // Coefficients of prod (z - r_i) for real roots r_i of random sign and modulus.
        c = {1.0};
        for (int i = 0; i < d; ++i) {
          const double r = (u(rng) < 0.5 ? -1 : 1) * (0.9 + 0.2 * u(rng));
          std::vector<double> next(c.size() + 1, 0.0);
          for (size_t k = 0; k < c.size(); ++k) {
            next[k + 1] += c[k];
            next[k] -= r * c[k];
          }
          c = next;
        }
      }
      const double* cs[4] = {polys[0].data(), polys[1].data(), polys[2].data(), polys[3].data()};
      for (int k = 1; k <= 4; ++k) {
        bool got[4];
        RootsWithinMany(cs, k, d, kAdmissibleRadius, got);
        for (int j = 0; j < k; ++j) {
          const bool want = RootsWithin(polys[j], kAdmissibleRadius);
          ASSERT_EQ(got[j], want) << "degree " << d << " lane " << j << " of " << k;
          inside += want;
          ++total;
        }
      }
    }
  }
  EXPECT_GT(inside, total / 20);  // both answers occur
  EXPECT_LT(inside, total - total / 20);
}

TEST(Admissible, AgreesWithR) {
  // forecast:::admissible(alpha, beta, gamma, phi, m) in R 4.2 / forecast 8.20.
  struct C {
    double a, b, g, phi;
    int m;
    bool want;
  } cases[] = {{0.5, 0.1, 0.2, 0.98, 12, true}, {0.9, 0.5, 0.09, 0.9, 12, false},  {0.2, 0.01, 0.7, 1, 4, true},
               {0.05, 0.0, 0.9, 0.98, 4, true}, {0.3, 0.29, 0.69, 0.8, 12, false}, {1.5, 0.1, 0.3, 0.95, 4, true},
               {0.2, 0.1, 0.6, 1, 12, true},    {0.7, 0.02, 1e-4, 0.98, 12, true}, {0.01, 0.001, 0.98, 0.99, 24, true}};
  for (const C& c : cases)
    EXPECT_EQ(Admissible(c.a, c.b, true, c.g, true, c.phi, c.m), c.want) << c.a << " " << c.b << " " << c.g;
  // Non-seasonal: alpha in [1 - 1/phi, 1 + 1/phi], beta in [alpha (phi - 1), (1 + phi)(2 - alpha)].
  EXPECT_TRUE(Admissible(1.5, 0, false, 0, false, 1, 1));
  EXPECT_FALSE(Admissible(2.5, 0, false, 0, false, 1, 1));
  EXPECT_FALSE(Admissible(0.5, 3.5, true, 0, false, 1, 1));
  EXPECT_FALSE(Admissible(0.5, 0.1, true, 0, false, 1.2, 1));
}

TEST(Admissible, NoTrendShortcutAgreesWithTheRootTest) {
  // Admissible() accepts seasonal forms without trend and damping in R's usual region
  // (alpha, gamma >= 1e-4, alpha + gamma <= 1) without the root test (proof in
  // ets_core.cc); the floating-point root test must agree there, including the corners.
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  auto log_uniform = [&] { return std::exp(std::log(1e-4) * u(rng)); };
  int tested = 0;
  for (int m : {2, 3, 4, 7, 12, 13, 24}) {
    for (int i = 0; i < 4000; ++i) {
      double a = log_uniform(), g = log_uniform();
      if (i % 5 == 1) a = 1e-4;
      if (i % 5 == 2) g = 1e-4;
      if (i % 5 == 3) g = 1 - a;
      if (i % 5 == 4) a = 1 - g;
      if (a + g > 1 || a < 1e-4 || g < 1e-4) continue;
      std::vector<double> q(static_cast<size_t>(m + 1), a);
      q[0] = a + g - 1;
      q[m] = 1;
      ASSERT_TRUE(RootsWithin(q, 1 + 1e-10)) << "m " << m << " alpha " << a << " gamma " << g;
      ASSERT_TRUE(Admissible(a, 0, false, g, true, 1.0, m));
      ++tested;
    }
  }
  EXPECT_GT(tested, 20000);
}

// FitForm with and without the look-ahead (likelihood passes side by side) must give
// the same fit bit for bit: same path, same evaluations, same optimum.
TEST(FitForm, LookAheadGivesIdenticalFits) {
  const std::vector<double> y(kAirPassengers.begin(), kAirPassengers.begin() + 96);
  for (Comp e : {Comp::kA, Comp::kM})
    for (Comp t : {Comp::kN, Comp::kA})
      for (bool damped : {false, true})
        for (Comp s : {Comp::kN, Comp::kA, Comp::kM})
          for (Bounds bounds : {Bounds::kBoth, Bounds::kUsual, Bounds::kAdmissible}) {
            if (t == Comp::kN && damped) continue;
            if (bounds != Bounds::kBoth && s != Comp::kA) continue;
            Form f;
            f.error = e;
            f.trend = t;
            f.season = s;
            f.damped = damped;
            f.m = s != Comp::kN ? 12 : 1;
            FitControl off;
            off.bounds = bounds;
            off.lanes = 1;
            NelderMeadWorkspace ws;
            auto b = FitForm(y, f, off, ws);
            // 2 lanes (SSE2 vectors), 4 (AVX, where the processor has it, else 2 again).
            for (int lanes : {2, 4}) {
              FitControl on = off;
              on.lanes = lanes;
              auto a = FitForm(y, f, on, ws);
              ASSERT_EQ(a.ok(), b.ok()) << f.Name();
              if (!a.ok()) continue;
              const std::string what =
                  f.Name() + " bounds " + std::to_string(static_cast<int>(bounds)) + " lanes " + std::to_string(lanes);
              EXPECT_EQ(a->lik, b->lik) << what;
              EXPECT_EQ(a->x0, b->x0) << what;
              EXPECT_EQ(a->par.alpha, b->par.alpha) << what;
              EXPECT_EQ(a->par.beta, b->par.beta) << what;
              EXPECT_EQ(a->par.gamma, b->par.gamma) << what;
              EXPECT_EQ(a->par.phi, b->par.phi) << what;
              EXPECT_EQ(a->evals, b->evals) << what;
              EXPECT_EQ(a->nm_fail, b->nm_fail) << what;
            }
          }
}

TEST(InitialState, AgreesWithRInitstate) {
  const std::vector<double> ap = kAirPassengers;
  // forecast:::initstate(AirPassengers, "A", "M"): decomposition path (n >= 3m).
  ASSERT_OK_AND_ASSIGN(auto s1, InitialState(ap, Comp::kA, Comp::kM, 12));
  ExpectAllNear(s1,
                {120.9557981387554, 0.99896498433581649, 0.89882438998501135, 0.80117808241347432, 0.92175724041049767,
                 1.0604919326468183, 1.2199109694456249, 1.2265555429312014, 1.1127758266792729, 0.98137802749512937,
                 0.97590601232284724, 1.0073662876035454, 0.88362532069437572},
                1e-12);
  // initstate(ts(AirPassengers[1:30], frequency = 12), "A", "A"): Fourier regression path.
  const std::vector<double> ap30(ap.begin(), ap.begin() + 30);
  ASSERT_OK_AND_ASSIGN(auto s2, InitialState(ap30, Comp::kA, Comp::kA, 12));
  ExpectAllNear(s2,
                {115.8424539243636, 1.4946185023084142, -15.777875952064534, -28.283257449756121, -11.788638947447708,
                 6.705979554860706, 20.20059805716912, 21.695216559477537, 10.189835061785949, -2.3155464359056381,
                 7.1790720664027763, 11.673690568711191, -0.83169092898039576},
                1e-10);
  // initstate(ts(AirPassengers[1:30], frequency = 12), "M", "M"): multiplicative trend.
  ASSERT_OK_AND_ASSIGN(auto s3, InitialState(ap30, Comp::kM, Comp::kM, 12));
  ExpectAllNear(s3,
                {115.86125265094888, 1.0127378199523638, 0.88205915335568574, 0.78619170713649322, 0.9098649619544974,
                 1.0518661229016861, 1.1580648872379351, 1.1717687641631871, 1.0816426696241472, 0.98122259112634136,
                 1.0589313526680406, 1.0970169418798417, 0.99300110162130528},
                1e-10);
  EXPECT_THAT(InitialState(std::vector<double>{1, 2, 3}, Comp::kN, Comp::kA, 2),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(DecomposeFigure, AgreesWithRDecompose) {
  ExpectAllNear(DecomposeFigure(kAirPassengers, 12, true),
                {0.91023036737220087, 0.88362532069437572, 1.0073662876035454, 0.97590601232284724, 0.98137802749512937,
                 1.1127758266792729, 1.2265555429312014, 1.2199109694456249, 1.0604919326468183, 0.92175724041049767,
                 0.80117808241347432, 0.89882438998501135},
                1e-13);
}

TEST(Quantile8, AgreesWithR) {
  // quantile(x, p, type = 8) in R.
  const std::vector<double> x = {5.5, 1.25, 3, 10, -2, 7, 7, 0.5, 4.25, 6};
  const double p[] = {0.025, 0.1, 0.5, 0.9, 0.975, 0.999, 0.001};
  const double want[] = {-2, -1.0833333333333339, 4.8749999999999982, 8.8999999999999986, 10, 10, -2};
  for (int i = 0; i < 7; ++i) {
    std::vector<double> v = x;
    EXPECT_NEAR(Quantile8(v, p[i]), want[i], 1e-12) << p[i];
  }
}

TEST(NormalSource, IsDeterministicAndStandard) {
  NormalSource a(42), b(42), c(43);
  EXPECT_EQ(a.Next(), b.Next());
  EXPECT_NE(b.Next(), c.Next());
  NormalSource g(7);
  const int n = 200000;
  double s = 0, ss = 0, s3 = 0;
  int tail = 0;
  for (int i = 0; i < n; ++i) {
    const double z = g.Next();
    s += z;
    ss += z * z;
    s3 += z * z * z;
    tail += std::fabs(z) > 1.959963984540054;
  }
  EXPECT_NEAR(s / n, 0, 0.01);
  EXPECT_NEAR(ss / n, 1, 0.01);
  EXPECT_NEAR(s3 / n, 0, 0.03);
  EXPECT_NEAR(tail / static_cast<double>(n), 0.05, 0.002);
}

// The analytic variances against the simulated quantiles of the same model: for each
// class the 95% bounds must agree within Monte Carlo error. ETS(A,N,A) with a large gamma
// also checks where gamma enters (R 8.20's class-1 matrices put it on s2).
TEST(AnalyticIntervals, AgreeWithSimulation) {
  struct C {
    Form form;
    Smoothing par;
    std::vector<double> x;
    double sigma2;
  };
  auto form = [](Comp e, Comp t, bool d, Comp s, int m) {
    Form f;
    f.error = e;
    f.trend = t;
    f.damped = d;
    f.season = s;
    f.m = s == Comp::kN ? 1 : m;
    return f;
  };
  const std::vector<C> cases = {
      {form(Comp::kA, Comp::kN, false, Comp::kA, 4), {0.3, 0, 0.6, 1}, {100, 5, -3, 2, -4}, 4.0},
      {form(Comp::kA, Comp::kA, true, Comp::kA, 4), {0.4, 0.1, 0.3, 0.9}, {100, 1, 5, -3, 2, -4}, 4.0},
      {form(Comp::kM, Comp::kA, true, Comp::kN, 1), {0.5, 0.1, 0, 0.95}, {100, 2}, 0.01},
      {form(Comp::kM, Comp::kN, false, Comp::kA, 4), {0.3, 0, 0.5, 1}, {100, 5, -3, 2, -4}, 0.005},
      {form(Comp::kM, Comp::kA, false, Comp::kM, 4), {0.3, 0.05, 0.3, 1}, {100, 1, 1.1, 0.9, 1.05, 0.95}, 0.004},
      {form(Comp::kM, Comp::kN, false, Comp::kM, 4), {0.6, 0, 0.3, 1}, {100, 1.1, 0.9, 1.05, 0.95}, 0.004},
  };
  const int h = 10;
  const double levels[] = {95};
  for (const C& c : cases) {
    ASSERT_NE(ClassOf(c.form), IntervalClass::kSimulated);
    MeanVar mv = AnalyticForecast(c.form, c.par, c.x, c.sigma2, h);
    SimBounds sb = SimulateBounds(c.form, c.par, c.x, c.sigma2, h, levels, 50000, 1);
    for (int i = 0; i < h; ++i) {
      const double half = 1.959963984540054 * std::sqrt(mv.var[i]);
      const double sim_half = 0.5 * (sb.upper[0][i] - sb.lower[0][i]);
      EXPECT_NEAR(sim_half, half, 0.025 * half) << c.form.Name() << " h=" << i + 1;
    }
  }
}

}  // namespace
}  // namespace almanac::models::ets
