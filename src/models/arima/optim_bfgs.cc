#include "models/arima/optim_bfgs.h"

#include <cmath>

namespace almanac::models::arima {
namespace {

constexpr double kStepReduction = 0.2;
constexpr double kAcceptTol = 1e-4;
constexpr double kRelTest = 10.0;

// The objective and its finite-difference gradient on the scaled parameters.
class Scaled {
 public:
  Scaled(const ObjectiveFn& fn, const BfgsOptions& opt, size_t n) : fn_(fn), ndeps_(opt.ndeps), x_(n) {
    scale_ = opt.parscale.empty() ? std::vector<double>(n, 1.0) : opt.parscale;
  }
  double Value(const std::vector<double>& p) {
    for (size_t i = 0; i < p.size(); ++i) x_[i] = p[i] * scale_[i];
    return fn_(x_.data());
  }
  Status Gradient(std::vector<double> p, std::vector<double>& g) {
    g.resize(p.size());
    for (size_t i = 0; i < p.size(); ++i) {
      const double keep = p[i];
      p[i] = keep + ndeps_;
      const double up = Value(p);
      p[i] = keep - ndeps_;
      const double down = Value(p);
      p[i] = keep;
      g[i] = (up - down) / (2 * ndeps_);
      if (!std::isfinite(g[i]))
        return FailedPreconditionError("non-finite finite-difference gradient for parameter " + std::to_string(i + 1));
    }
    return Status::Ok();
  }
  const std::vector<double>& scale() const { return scale_; }
  double ndeps() const { return ndeps_; }

 private:
  const ObjectiveFn& fn_;
  double ndeps_;
  std::vector<double> scale_;
  std::vector<double> x_;
};

}  // namespace

Result<BfgsResult> MinimiseBfgs(const ObjectiveFn& fn, std::vector<double> start, const BfgsOptions& opt) {
  const size_t n = start.size();
  Scaled obj(fn, opt, n);
  std::vector<double> b(n);
  for (size_t i = 0; i < n; ++i) b[i] = start[i] / obj.scale()[i];
  BfgsResult res;
  auto finish = [&](double fmin) {
    res.par.resize(n);
    for (size_t i = 0; i < n; ++i) res.par[i] = b[i] * obj.scale()[i];
    res.value = fmin;
    return res;
  };
  if (opt.maxit <= 0 || n == 0) {
    const double f = obj.Value(b);
    res.fncount = res.grcount = 0;
    return finish(f);
  }
  double f = obj.Value(b);
  if (!std::isfinite(f)) return InvalidArgumentError("initial value of the objective is not finite");
  double fmin = f;
  int funcount = 1, gradcount = 1, iter = 1;
  std::vector<double> g;
  ALMANAC_RETURN_IF_ERROR(obj.Gradient(b, g));
  int ilast = gradcount;
  // H approximates the inverse Hessian (full symmetric storage).
  std::vector<double> H(n * n), t(n), X(n), c(n);
  size_t count = 0;
  do {
    if (ilast == gradcount) {
      std::fill(H.begin(), H.end(), 0.0);
      for (size_t i = 0; i < n; ++i) H[i * n + i] = 1.0;
    }
    for (size_t i = 0; i < n; ++i) {
      X[i] = b[i];
      c[i] = g[i];
    }
    double gradproj = 0;
    for (size_t i = 0; i < n; ++i) {
      double s = 0;
      for (size_t j = 0; j < n; ++j) s -= H[i * n + j] * g[j];
      t[i] = s;
      gradproj += s * g[i];
    }
    if (gradproj < 0) {
      // Backtracking line search along t.
      double step = 1.0;
      bool accepted = false;
      do {
        count = 0;
        for (size_t i = 0; i < n; ++i) {
          b[i] = X[i] + step * t[i];
          if (kRelTest + X[i] == kRelTest + b[i]) ++count;
        }
        if (count < n) {
          f = obj.Value(b);
          ++funcount;
          accepted = std::isfinite(f) && f <= fmin + gradproj * step * kAcceptTol;
          if (!accepted) step *= kStepReduction;
        }
      } while (!(count == n || accepted));
      const bool enough = f > opt.abstol && std::abs(f - fmin) > opt.reltol * (std::abs(fmin) + opt.reltol);
      if (!enough) {
        count = n;
        fmin = f;
      }
      if (count < n) {
        fmin = f;
        ALMANAC_RETURN_IF_ERROR(obj.Gradient(b, g));
        ++gradcount;
        ++iter;
        double d1 = 0;
        for (size_t i = 0; i < n; ++i) {
          t[i] *= step;
          c[i] = g[i] - c[i];
          d1 += t[i] * c[i];
        }
        if (d1 > 0) {
          double d2 = 0;
          for (size_t i = 0; i < n; ++i) {
            double s = 0;
            for (size_t j = 0; j < n; ++j) s += H[i * n + j] * c[j];
            X[i] = s;
            d2 += s * c[i];
          }
          d2 = 1.0 + d2 / d1;
          for (size_t i = 0; i < n; ++i)
            for (size_t j = 0; j < n; ++j) H[i * n + j] += (d2 * t[i] * t[j] - X[i] * t[j] - t[i] * X[j]) / d1;
        } else {
          ilast = gradcount;  // the update would lose positive definiteness: restart
        }
      } else if (ilast < gradcount) {
        // No progress along a quasi-Newton direction: retry once from steepest descent.
        count = 0;
        ilast = gradcount;
      }
    } else {
      // Uphill direction: reset to steepest descent unless that was just done.
      count = 0;
      if (ilast == gradcount)
        count = n;
      else
        ilast = gradcount;
    }
    if (iter >= opt.maxit) break;
    if (gradcount - ilast > 2 * static_cast<int>(n)) ilast = gradcount;  // periodic restart
  } while (count != n || ilast != gradcount);
  res.fncount = funcount;
  res.grcount = gradcount;
  res.convergence = iter < opt.maxit ? 0 : 1;
  return finish(fmin);
}

Result<std::vector<double>> NumericHessian(const ObjectiveFn& fn, const std::vector<double>& par,
                                           const BfgsOptions& opt) {
  const size_t n = par.size();
  Scaled obj(fn, opt, n);
  const auto& scale = obj.scale();
  std::vector<double> dpar(n);
  for (size_t i = 0; i < n; ++i) dpar[i] = par[i] / scale[i];
  std::vector<double> H(n * n), g1, g2;
  for (size_t i = 0; i < n; ++i) {
    // optimHess steps the outer parameter by ndeps on the natural scale.
    const double eps = obj.ndeps() / scale[i];
    dpar[i] += eps;
    ALMANAC_RETURN_IF_ERROR(obj.Gradient(dpar, g1));
    dpar[i] -= 2 * eps;
    ALMANAC_RETURN_IF_ERROR(obj.Gradient(dpar, g2));
    for (size_t j = 0; j < n; ++j) H[i * n + j] = (g1[j] - g2[j]) / (2 * eps * scale[i] * scale[j]);
    dpar[i] += eps;
  }
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < i; ++j) {
      const double v = 0.5 * (H[i * n + j] + H[j * n + i]);
      H[i * n + j] = H[j * n + i] = v;
    }
  return H;
}

}  // namespace almanac::models::arima
