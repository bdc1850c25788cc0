// Nelder-Mead simplex minimiser in the variant of J. C. Nash, "Compact Numerical Methods for
// Computers" (2nd ed., 1990), Algorithm 19 -- the variant R's optim(method = "Nelder-Mead")
// documents and R forecast's ets() uses. Implemented from the published description so that
// ETS fits follow the same search path as R's and land on the same optima (including when
// the search stops at the evaluation limit, which happens for many seasonal fits).
//
// The variant's traits that matter for reproducing R:
//   * one scalar initial step for every coordinate: 0.1 * max_i |x0_i| (0.1 when x0 = 0),
//     multiplied by 10 until it changes the coordinate;
//   * reflection 1, contraction 0.5, expansion 2; a shrink towards the best vertex only when
//     both the reflected and the contracted points fail to beat the worst vertex;
//   * convergence when f(worst) <= f(best) + reltol * (|f(x0)| + reltol);
//   * non-finite values count as 1e35;
//   * the evaluation budget is checked once per iteration, and the vertex returned is the one
//     that was best at the start of the last iteration.
#pragma once

#include <cmath>
#include <span>
#include <vector>

namespace almanac::models::ets {

struct NelderMeadOptions {
  double reltol = 1.4901161193847656e-08;  // sqrt(DBL_EPSILON), as R passes
  double abstol = -HUGE_VAL;
  double reflect = 1.0;
  double contract = 0.5;
  double expand = 2.0;
  int max_evals = 2000;
};

struct NelderMeadResult {
  std::vector<double> x;
  double value = HUGE_VAL;
  int evals = 0;
  // 0 converged, 1 evaluation limit reached, 10 the simplex stopped shrinking,
  // -1 the objective is not finite at the starting point (x holds the start).
  int fail = 0;
};

// Reusable memory for NelderMead(): one simplex of (n + 1) vertices of n + 1 numbers
// (coordinates and value), plus scratch vectors. Keep one per thread to avoid allocations.
struct NelderMeadWorkspace {
  std::vector<double> simplex;
  std::vector<double> trial, centroid;
};

namespace internal {
inline constexpr double kBig = 1.0e35;
}

// Minimises f over R^n starting at x0. `f` is any callable double(const double*), called
// with a pointer to n coordinates. Deterministic: the same f and x0 give the same result.
template <typename F>
NelderMeadResult NelderMead(F&& f, std::span<const double> x0, const NelderMeadOptions& opt, NelderMeadWorkspace& ws) {
  const int n = static_cast<int>(x0.size());
  NelderMeadResult res;
  res.x.assign(x0.begin(), x0.end());
  if (opt.max_evals <= 0) {
    res.value = f(res.x.data());
    return res;
  }
  const int stride = n + 1;                                        // coordinates then the value
  const int nv = n + 1;                                            // vertices
  ws.simplex.assign(static_cast<size_t>(stride) * (nv + 1), 0.0);  // last slot: centroid/reflected
  ws.trial.assign(static_cast<size_t>(n), 0.0);
  double* const simplex = ws.simplex.data();
  double* const trial = ws.trial.data();
  auto vertex = [&](int j) { return simplex + static_cast<size_t>(j) * stride; };
  auto value = [&](int j) -> double& { return simplex[static_cast<size_t>(j) * stride + n]; };
  double* const centre = vertex(nv);  // centroid, later the reflected point

  auto eval = [&](const double* x) {
    const double v = f(x);
    return std::isfinite(v) ? v : internal::kBig;
  };

  const double f0 = f(res.x.data());
  int evals = 1;
  if (!std::isfinite(f0)) {
    res.value = f0;
    res.evals = evals;
    res.fail = -1;
    return res;
  }
  const double tol = opt.reltol * (std::fabs(f0) + opt.reltol);

  // Vertex 0 is the start; vertex j moves coordinate j-1 by the common step.
  double step = 0.0;
  for (int i = 0; i < n; ++i) step = std::max(step, 0.1 * std::fabs(x0[i]));
  if (step == 0.0) step = 0.1;
  double size = 0.0;
  for (int j = 0; j < nv; ++j) {
    double* v = vertex(j);
    for (int i = 0; i < n; ++i) v[i] = x0[i];
    if (j == 0) continue;
    double s = step;
    while (v[j - 1] == x0[j - 1]) {
      v[j - 1] = x0[j - 1] + s;
      s *= 10.0;
    }
    size += s;
  }
  value(0) = f0;
  double old_size = size;
  bool recompute = true;  // vertices other than the best need values
  int best = 0;
  int fail = 0;

  do {
    if (recompute) {
      for (int j = 0; j < nv; ++j) {
        if (j == best) continue;
        value(j) = eval(vertex(j));
        ++evals;
      }
      recompute = false;
    }
    // Best and worst; ties keep the earlier choice (the previous best stays best).
    double v_lo = value(best), v_hi = v_lo;
    int worst = best;
    for (int j = 0; j < nv; ++j) {
      if (j == best) continue;
      const double v = value(j);
      if (v < v_lo) {
        best = j;
        v_lo = v;
      }
      if (v > v_hi) {
        worst = j;
        v_hi = v;
      }
    }
    if (v_hi <= v_lo + tol || v_lo <= opt.abstol) break;

    // Centroid of all vertices but the worst.
    const double* w = vertex(worst);
    for (int i = 0; i < n; ++i) {
      double s = -w[i];
      for (int j = 0; j < nv; ++j) s += vertex(j)[i];
      centre[i] = s / n;
    }
    for (int i = 0; i < n; ++i) trial[i] = (1.0 + opt.reflect) * centre[i] - opt.reflect * w[i];
    const double v_refl = eval(trial);
    ++evals;

    if (v_refl < v_lo) {
      // Try to expand further; keep the reflected point in the centre slot meanwhile.
      centre[n] = v_refl;
      for (int i = 0; i < n; ++i) {
        const double e = opt.expand * trial[i] + (1.0 - opt.expand) * centre[i];
        centre[i] = trial[i];
        trial[i] = e;
      }
      const double v_exp = eval(trial);
      ++evals;
      double* wv = vertex(worst);
      if (v_exp < v_refl) {
        for (int i = 0; i < n; ++i) wv[i] = trial[i];
        value(worst) = v_exp;
      } else {
        for (int i = 0; i < n; ++i) wv[i] = centre[i];
        value(worst) = v_refl;
      }
    } else {
      double* wv = vertex(worst);
      if (v_refl < v_hi) {
        for (int i = 0; i < n; ++i) wv[i] = trial[i];
        value(worst) = v_refl;
      }
      // Contract between the (possibly replaced) worst vertex and the centroid.
      for (int i = 0; i < n; ++i) trial[i] = (1.0 - opt.contract) * wv[i] + opt.contract * centre[i];
      const double v_con = eval(trial);
      ++evals;
      if (v_con < value(worst)) {
        for (int i = 0; i < n; ++i) wv[i] = trial[i];
        value(worst) = v_con;
      } else if (v_refl >= v_hi) {
        // Shrink every vertex towards the best one.
        recompute = true;
        size = 0.0;
        const double* b = vertex(best);
        for (int j = 0; j < nv; ++j) {
          if (j == best) continue;
          double* v = vertex(j);
          for (int i = 0; i < n; ++i) {
            v[i] = opt.contract * (v[i] - b[i]) + b[i];
            size += std::fabs(v[i] - b[i]);
          }
        }
        if (size < old_size) {
          old_size = size;
        } else {
          fail = 10;
          break;
        }
      }
    }
  } while (evals <= opt.max_evals);

  if (evals > opt.max_evals && fail == 0) fail = 1;
  const double* b = vertex(best);
  res.x.assign(b, b + n);
  res.value = value(best);
  res.evals = evals;
  res.fail = fail;
  return res;
}

}  // namespace almanac::models::ets
