#include "models/arima/arima_fit.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <Eigen/Dense>

#include "almanac/core/time_series.h"
#include "models/arima/optim_bfgs.h"

namespace almanac::models::arima {
namespace {

// What R's armafn returns when the state-space model cannot be built.
constexpr double kBadObjective = std::numeric_limits<double>::max();

struct LeastSquaresFit {
  std::vector<double> coef, se;
  int rank = 0;
};

// Least squares of y on the columns of X (no intercept added), dropping rows with a missing
// value, with standard errors as R's summary.lm. Columns are pivoted out below R's
// tolerance 1e-7 (rank-deficient fits report rank < number of columns).
LeastSquaresFit LeastSquares(const std::vector<double>& y, const std::vector<std::vector<double>>& X) {
  LeastSquaresFit out;
  const size_t k = X.size();
  std::vector<size_t> rows;
  for (size_t t = 0; t < y.size(); ++t) {
    bool ok = !std::isnan(y[t]);
    for (const auto& col : X) ok = ok && !std::isnan(col[t]);
    if (ok) rows.push_back(t);
  }
  if (rows.empty() || k == 0) return out;
  Eigen::MatrixXd A(rows.size(), k);
  Eigen::VectorXd b(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    b(i) = y[rows[i]];
    for (size_t j = 0; j < k; ++j) A(i, j) = X[j][rows[i]];
  }
  Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(A);
  qr.setThreshold(1e-7);
  out.rank = static_cast<int>(qr.rank());
  if (out.rank < static_cast<int>(k)) return out;
  Eigen::VectorXd coef = qr.solve(b);
  const double rss = (A * coef - b).squaredNorm();
  const double df = static_cast<double>(rows.size()) - static_cast<double>(k);
  const double s2 = rss / df;
  Eigen::MatrixXd xtx_inv = (A.transpose() * A).inverse();
  out.coef.assign(coef.data(), coef.data() + k);
  for (size_t j = 0; j < k; ++j) out.se.push_back(std::sqrt(xtx_inv(j, j) * s2));
  return out;
}

// The estimation problem of one model: data, regression columns, masks and scratch memory
// for the objective functions (which therefore must not run concurrently).
class Problem {
 public:
  Problem(std::span<const double> y, const ArimaSpec& spec) : y_(y), spec_(spec), o_(spec.orders) {}

  Status Init() {
    n_ = static_cast<int>(y_.size());
    narma_ = o_.narma();
    delta_ = DifferencingPolynomial(o_.d, o_.D, o_.m);
    int nvalid = 0;
    for (double v : y_) nvalid += !std::isnan(v);
    any_nan_ = nvalid < n_;
    n_used_ = nvalid - static_cast<int>(delta_.size());
    // Regression columns: intercept (only without differencing) and drift.
    if (spec_.include_mean && o_.d + o_.D == 0) {
      X_.emplace_back(n_, 1.0);
      names_.push_back("intercept");
      has_intercept_ = true;
    }
    if (spec_.include_drift) {
      std::vector<double> drift(n_);
      for (int t = 0; t < n_; ++t) drift[t] = t + 1.0;
      X_.push_back(std::move(drift));
      names_.push_back("drift");
      has_drift_ = true;
    }
    for (size_t k = 0; k < spec_.xreg.size(); ++k) {
      const std::string name = k < spec_.xreg_names.size() ? spec_.xreg_names[k] : "xreg" + std::to_string(k + 1);
      if (static_cast<int>(spec_.xreg[k].size()) != n_)
        return InvalidArgumentError("regressor " + name + " has " + std::to_string(spec_.xreg[k].size()) +
                                    " values for " + std::to_string(n_) + " observations");
      for (int t = 0; t < n_; ++t)
        if (!std::isfinite(spec_.xreg[k][t]))
          return InvalidArgumentError("regressor " + name + " has a missing or infinite value at observation " +
                                      std::to_string(t + 1));
      X_.push_back(spec_.xreg[k]);
      names_.push_back(name);
    }
    ncxreg_ = static_cast<int>(X_.size());
    const int ntot = narma_ + ncxreg_;
    method_ = spec_.method;
    if (method_ == Method::kCssMl && any_nan_) method_ = Method::kMl;
    ncond_ = (method_ == Method::kMl) ? 0 : o_.d + o_.D * o_.m + o_.p + o_.m * o_.P;
    if (spec_.fixed.empty()) {
      fixed_.assign(ntot, kNaN);
    } else if (static_cast<int>(spec_.fixed.size()) != ntot) {
      return InvalidArgumentError("'fixed' has " + std::to_string(spec_.fixed.size()) + " values but the model has " +
                                  std::to_string(ntot) + " coefficients");
    } else {
      fixed_ = spec_.fixed;
    }
    mask_.resize(ntot);
    for (int i = 0; i < ntot; ++i) {
      mask_[i] = std::isnan(fixed_[i]);
      if (mask_[i]) free_.push_back(i);
    }
    no_optim_ = free_.empty();
    transform_ = spec_.transform_pars && !no_optim_;
    if (transform_) {
      for (int i = 0; i < o_.p; ++i) transform_ = transform_ && mask_[i];
      for (int i = 0; i < o_.P; ++i) transform_ = transform_ && mask_[o_.p + o_.q + i];
    }
    // Fixed AR blocks must be stationary: the likelihood is not defined otherwise.
    auto check_fixed_block = [&](int start, int len, const char* what) -> Status {
      if (len == 0) return Status::Ok();
      bool all_fixed = true;
      for (int i = 0; i < len; ++i) all_fixed = all_fixed && !mask_[start + i];
      if (!all_fixed) return Status::Ok();
      std::span<const double> block(fixed_.data() + start, len);
      if (!ArIsStationary(block))
        return InvalidArgumentError(std::string("the fixed ") + what + " coefficients are not stationary");
      return Status::Ok();
    };
    ALMANAC_RETURN_IF_ERROR(check_fixed_block(0, o_.p, "AR"));
    ALMANAC_RETURN_IF_ERROR(check_fixed_block(o_.p + o_.q, o_.P, "seasonal AR"));
    init_.assign(narma_, 0.0);
    parscale_.assign(narma_, 1.0);
    if (ncxreg_ > 0) {
      orig_xreg_ = ncxreg_ == 1;
      for (int i = 0; i < ncxreg_; ++i) orig_xreg_ = orig_xreg_ || !mask_[narma_ + i];
      if (!orig_xreg_) Rotate();
      std::vector<double> dx = Difference(y_, o_.d, o_.D, o_.m);
      std::vector<std::vector<double>> dX;
      for (const auto& col : X_) dX.push_back(Difference(col, o_.d, o_.D, o_.m));
      LeastSquaresFit lm;
      if (static_cast<int>(dx.size()) > ncxreg_) lm = LeastSquares(dx, dX);
      if (lm.rank == 0) lm = LeastSquares(std::vector<double>(y_.begin(), y_.end()), X_);
      bool any_free = false;
      for (int i = 0; i < ncxreg_; ++i) any_free = any_free || mask_[narma_ + i];
      if (lm.rank < ncxreg_ && any_free)
        return FailedPreconditionError(spec_.xreg.empty()
                                           ? "the regression terms (intercept/drift) are collinear for this series"
                                           : "the regression terms (intercept, drift, regressors) are collinear");
      int used = 0;
      for (double v : y_) used += !std::isnan(v);
      n_used_ = used - static_cast<int>(delta_.size());
      for (int i = 0; i < ncxreg_; ++i) {
        const bool have = static_cast<int>(lm.coef.size()) == ncxreg_;
        init_.push_back(have ? lm.coef[i] : 0.0);
        parscale_.push_back(have ? 10 * lm.se[i] : 1.0);
        // Only the scales of estimated coefficients are used (R passes parscale[mask]).
        if (mask_[narma_ + i] && !(std::isfinite(parscale_.back()) && parscale_.back() > 0))
          return FailedPreconditionError(
              "cannot scale the regression coefficients: their least-squares standard error is zero or undefined "
              "(the differenced series is constant or too short)");
      }
    }
    if (n_used_ <= 0) return InvalidArgumentError("too few non-missing observations for this model");
    // Precomputed differenced data for the fast likelihood.
    if (!any_nan_) {
      dx_ = Difference(y_, o_.d, o_.D, o_.m);
      for (const auto& col : X_) dX_.push_back(Difference(col, o_.d, o_.D, o_.m));
    }
    phi_.resize(o_.p_full());
    theta_.resize(o_.q_full());
    full_.resize(ntot);
    tpar_.resize(ntot);
    return Status::Ok();
  }

  // R's armaCSS: 0.5 log of the conditional residual variance.
  double Css(const double* free) {
    Fill(free, full_.data());
    ExpandArma(o_, full_.data(), phi_.data(), theta_.data());
    Regress(full_.data(), y_, X_, xr_);
    const double s = ConditionalSumOfSquares(xr_, o_, phi_, theta_, ncond_, css_work_, nullptr);
    return 0.5 * std::log(s);
  }

  // R's armafn: the concentrated negative log-likelihood per observation.
  double Ml(const double* free, bool trans) {
    Fill(free, full_.data());
    const double* par = full_.data();
    if (trans) {
      TransformArBlocks(o_, full_, tpar_);
      par = tpar_.data();
    }
    ExpandArma(o_, par, phi_.data(), theta_.data());
    LikelihoodSums s;
    if (!any_nan_ && !spec_.full_state_likelihood) {
      Regress(full_.data(), dx_, dX_, xr_);
      s = ArmaLikelihood(xr_, phi_, theta_, ws_);
    } else {
      Regress(full_.data(), y_, X_, xr_);
      FullStateFilter f(phi_, theta_, delta_, spec_.kappa);
      s = f.Run(xr_, nullptr);
    }
    if (!s.ok) return kBadObjective;
    return s.Objective();
  }

  std::vector<double> FreeOf(const std::vector<double>& full) const {
    std::vector<double> out;
    for (int i : free_) out.push_back(full[i]);
    return out;
  }

  BfgsOptions Options() const {
    BfgsOptions opt;
    for (int i : free_) opt.parscale.push_back(parscale_[i]);
    return opt;
  }

  // Hessian of the objective used at the optimum, times n.used, inverted, mapped through the
  // Jacobian of the AR transform (when used) and the regression rotation.
  Status Variance(ArimaFit& fit) {
    const size_t nf = free_.size();
    fit.has_var = false;
    fit.var_bad = false;
    fit.var_coef.clear();
    if (nf == 0) {
      fit.has_var = true;
      return Status::Ok();
    }
    ObjectiveFn fn;
    if (fit.method == Method::kCss)
      fn = [this](const double* p) { return Css(p); };
    else
      fn = [this, t = fit.opt_transformed](const double* p) { return Ml(p, t); };
    auto hess = NumericHessian(fn, fit.opt_par, Options());
    if (!hess.ok()) return hess.status();
    Eigen::MatrixXd H(nf, nf);
    for (size_t i = 0; i < nf; ++i)
      for (size_t j = 0; j < nf; ++j) H(i, j) = (*hess)[i * nf + j] * n_used_;
    Eigen::PartialPivLU<Eigen::MatrixXd> lu(H);
    const double rc = lu.rcond();
    if (!(rc >= std::numeric_limits<double>::epsilon()))
      return FailedPreconditionError("the Hessian of the likelihood is singular at the optimum");
    Eigen::MatrixXd A = Eigen::MatrixXd::Identity(nf, nf);
    if (fit.opt_transformed) {
      const size_t ntot = fit.opt_full.size();
      std::vector<double> J = TransformJacobian(o_, fit.opt_full);
      for (size_t i = 0; i < nf; ++i)
        for (size_t j = 0; j < nf; ++j) A(i, j) = J[free_[i] * ntot + free_[j]];
    }
    Eigen::MatrixXd var = A.transpose() * lu.solve(A);
    if (!orig_xreg_) {
      // var <- B var B' with B the identity except the rotation on the regression block.
      Eigen::MatrixXd B = Eigen::MatrixXd::Identity(nf, nf);
      for (size_t i = 0; i < nf; ++i)
        for (size_t j = 0; j < nf; ++j) {
          const int gi = free_[i] - narma_, gj = free_[j] - narma_;
          if (gi >= 0 && gj >= 0) B(i, j) = V_[gi * ncxreg_ + gj];
        }
      var = B * var * B.transpose();
    }
    fit.var_coef.resize(nf * nf);
    for (size_t i = 0; i < nf; ++i)
      for (size_t j = 0; j < nf; ++j) fit.var_coef[i * nf + j] = var(i, j);
    for (size_t i = 0; i < nf; ++i)
      if (!(var(i, i) >= 0)) fit.var_bad = true;
    fit.has_var = true;
    return Status::Ok();
  }

  Result<ArimaFit> Fit() {
    ArimaFit fit;
    fit.orders = o_;
    fit.method = method_;
    fit.n = n_;
    fit.n_used = n_used_;
    fit.has_intercept = has_intercept_;
    fit.has_drift = has_drift_;
    fit.num_xreg = static_cast<int>(spec_.xreg.size());
    fit.mask = mask_;
    fit.delta = delta_;
    std::vector<double> coef = fixed_;
    std::vector<double> init = init_;
    for (int i = 0; i < narma_ + ncxreg_; ++i)
      if (!mask_[i]) init[i] = fixed_[i];  // unused by the objectives; keeps init finite
    BfgsOptions opt = Options();
    // The optimisers' objective values are not reported: FinalPass() evaluates R's
    // likelihood at the optimum.
    if (method_ == Method::kCss) {
      ObjectiveFn css = [this](const double* p) { return Css(p); };
      std::vector<double> start = FreeOf(init_);
      if (!no_optim_) {
        ALMANAC_ASSIGN_OR_RETURN(BfgsResult res, Minimise(css, start, opt));
        fit.convergence = res.convergence;
        fit.opt_par = res.par;
        for (size_t k = 0; k < free_.size(); ++k) coef[free_[k]] = res.par[k];
      }
      fit.opt_full = coef;
      fit.opt_transformed = false;
      ALMANAC_RETURN_IF_ERROR(FinalPass(coef, fit, /*css=*/true));
    } else {
      if (method_ == Method::kCssMl && !no_optim_) {
        ObjectiveFn css = [this](const double* p) { return Css(p); };
        ALMANAC_ASSIGN_OR_RETURN(BfgsResult res, Minimise(css, FreeOf(init_), opt));
        if (res.convergence == 0)
          for (size_t k = 0; k < free_.size(); ++k) init[free_[k]] = res.par[k];
        if (o_.p > 0 && !ArIsStationary(std::span<const double>(init.data(), o_.p)))
          return InvalidArgumentError("non-stationary AR part from CSS");
        if (o_.P > 0 && !ArIsStationary(std::span<const double>(init.data() + o_.p + o_.q, o_.P)))
          return InvalidArgumentError("non-stationary seasonal AR part from CSS");
      }
      ncond_ = 0;
      if (transform_) {
        std::vector<double> tmp(init.size());
        InverseTransformArBlocks(o_, init, tmp);
        init = tmp;
        InvertMaBlock(init, o_.p, o_.q, /*only_if_free=*/false);
        InvertMaBlock(init, o_.p + o_.q + o_.P, o_.Q, /*only_if_free=*/false);
      }
      const bool trans = transform_;
      ObjectiveFn ml = [this, trans](const double* p) { return Ml(p, trans); };
      std::vector<double> par;
      if (!no_optim_) {
        ALMANAC_ASSIGN_OR_RETURN(BfgsResult res, Minimise(ml, FreeOf(init), opt));
        fit.convergence = res.convergence;
        par = res.par;
        for (size_t k = 0; k < free_.size(); ++k) coef[free_[k]] = par[k];
      }
      if (transform_) {
        InvertMaBlock(coef, o_.p, o_.q, /*only_if_free=*/true);
        InvertMaBlock(coef, o_.p + o_.q + o_.P, o_.Q, /*only_if_free=*/true);
        par = FreeOf(coef);  // the Hessian is taken at the reflected point, as R re-runs optim there
      }
      fit.opt_par = par;
      fit.opt_full = coef;
      fit.opt_transformed = transform_;
      if (transform_) {
        std::vector<double> tmp(coef.size());
        TransformArBlocks(o_, coef, tmp);
        coef = tmp;
      }
      ALMANAC_RETURN_IF_ERROR(FinalPass(coef, fit, /*css=*/false));
      // A partly fixed AR block may have ended up non-stationary without the transform.
      if (!transform_) {
        if (o_.p > 0 && !ArIsStationary(std::span<const double>(coef.data(), o_.p)))
          return InvalidArgumentError("the estimated AR part is not stationary (some AR coefficients were fixed)");
        if (o_.P > 0 && !ArIsStationary(std::span<const double>(coef.data() + o_.p + o_.q, o_.P)))
          return InvalidArgumentError("the estimated seasonal AR part is not stationary");
      }
    }
    // Back from the rotated regression coordinates.
    if (!orig_xreg_) {
      std::vector<double> b(coef.begin() + narma_, coef.end());
      for (int i = 0; i < ncxreg_; ++i) {
        double s = 0;
        for (int j = 0; j < ncxreg_; ++j) s += V_[i * ncxreg_ + j] * b[j];
        coef[narma_ + i] = s;
      }
      fit.xreg_rotation = V_;
    }
    fit.coef = coef;
    for (int i = 1; i <= o_.p; ++i) fit.coef_names.push_back("ar" + std::to_string(i));
    for (int i = 1; i <= o_.q; ++i) fit.coef_names.push_back("ma" + std::to_string(i));
    for (int i = 1; i <= o_.P; ++i) fit.coef_names.push_back("sar" + std::to_string(i));
    for (int i = 1; i <= o_.Q; ++i) fit.coef_names.push_back("sma" + std::to_string(i));
    for (const auto& nm : names_) fit.coef_names.push_back(nm);
    if (spec_.compute_hessian) ALMANAC_RETURN_IF_ERROR(Variance(fit));
    // forecast::Arima's information criteria and sigma2.
    fit.npar = static_cast<int>(free_.size()) + 1;
    int first = -1, last = -1;
    for (int t = 0; t < n_; ++t)
      if (!std::isnan(fit.residuals[t])) {
        if (first < 0) first = t;
        last = t;
      }
    int nres = 0;
    for (int t = first; t >= 0 && t <= last; ++t) nres += !std::isnan(fit.residuals[t]);
    fit.nstar = nres - o_.d - o_.D * o_.m;
    const double nstar = fit.nstar, npar = fit.npar;
    fit.aicc = fit.aic + 2 * npar * (nstar / (nstar - npar - 1) - 1);
    fit.bic = fit.aic + npar * (std::log(nstar) - 2);
    double ss = 0;
    for (double r : fit.residuals)
      if (!std::isnan(r)) ss += r * r;
    fit.sigma2 = ss / (nstar - npar + 1);
    return fit;
  }

  const std::vector<int>& free() const { return free_; }

 private:
  Result<BfgsResult> Minimise(const ObjectiveFn& fn, const std::vector<double>& start, const BfgsOptions& opt) {
    auto res = MinimiseBfgs(fn, start, opt);
    if (!res.ok()) return FailedPreconditionError("optimisation failed: " + res.status().message());
    return res;
  }

  // Runs R's full-state filter with the final coefficients (natural parameterisation):
  // residuals, sigma2, the log-likelihood R reports and the state for forecasting.
  Status FinalPass(const std::vector<double>& coef, ArimaFit& fit, bool css) {
    std::vector<double> phi(o_.p_full()), theta(o_.q_full());
    ExpandArma(o_, coef.data(), phi.data(), theta.data());
    std::vector<double> xr;
    Regress(coef.data(), y_, X_, xr);
    FullStateFilter filter(phi, theta, delta_, spec_.kappa);
    if (!filter.ok())
      return InvalidArgumentError("the AR part of the model is not stationary; the likelihood is undefined");
    std::vector<double> resid;
    LikelihoodSums sums = filter.Run(xr, css ? nullptr : &resid);
    fit.phi = phi;
    fit.theta = theta;
    fit.state = filter.state();
    fit.state_cov = filter.covariance();
    const double log2pi = std::log(2 * M_PI);
    if (css) {
      std::vector<double> work;
      fit.sigma2_css = ConditionalSumOfSquares(xr, o_, phi, theta, ncond_, work, &fit.residuals);
      // R's CSS log-likelihood uses the minimised objective 0.5 log(sigma2).
      const double value = 2 * n_used_ * 0.5 * std::log(fit.sigma2_css) + n_used_ + n_used_ * log2pi;
      fit.loglik = -0.5 * value;
      fit.aic = kNaN;
    } else {
      if (sums.nu == 0) return FailedPreconditionError("no observation contributes to the likelihood");
      fit.residuals = std::move(resid);
      fit.sigma2_css = sums.ssq / n_used_;
      const double value = 2 * n_used_ * sums.Objective() + n_used_ + n_used_ * log2pi;
      fit.loglik = -0.5 * value;
      fit.aic = value + 2 * static_cast<double>(free_.size()) + 2;
    }
    if (!std::isfinite(fit.sigma2_css) && !(fit.sigma2_css == 0))
      return FailedPreconditionError("the residual variance is not finite");
    return Status::Ok();
  }

  // out[t] = data[t] - sum_k cols[k][t] * beta_k with beta taken from par[narma..].
  void Regress(const double* par, std::span<const double> data, const std::vector<std::vector<double>>& cols,
               std::vector<double>& out) const {
    out.assign(data.begin(), data.end());
    for (int k = 0; k < ncxreg_; ++k) {
      const double b = par[narma_ + k];
      const auto& c = cols[k];
      for (size_t t = 0; t < out.size(); ++t) out[t] -= c[t] * b;
    }
  }

  void Fill(const double* free, double* full) const {
    std::copy(fixed_.begin(), fixed_.end(), full);
    for (size_t k = 0; k < free_.size(); ++k) full[free_[k]] = free[k];
  }

  void InvertMaBlock(std::vector<double>& v, int start, int len, bool only_if_free) const {
    if (len == 0) return;
    if (only_if_free)
      for (int i = 0; i < len; ++i)
        if (!mask_[start + i]) return;
    std::vector<double> inv = InvertMa(std::span<const double>(v.data() + start, len));
    for (int i = 0; i < len; ++i) v[start + i] = inv[i];
  }

  // R rotates several free regression columns onto their right singular vectors, which
  // decorrelates the coefficients for the optimiser.
  void Rotate() {
    Eigen::MatrixXd A(n_, ncxreg_);
    for (int t = 0; t < n_; ++t)
      for (int k = 0; k < ncxreg_; ++k) A(t, k) = X_[k][t];
    Eigen::JacobiSVD<Eigen::MatrixXd> svd(A, Eigen::ComputeThinV);
    const Eigen::MatrixXd& V = svd.matrixV();
    V_.resize(ncxreg_ * ncxreg_);
    for (int i = 0; i < ncxreg_; ++i)
      for (int j = 0; j < ncxreg_; ++j) V_[i * ncxreg_ + j] = V(i, j);
    Eigen::MatrixXd R = A * V;
    for (int t = 0; t < n_; ++t)
      for (int k = 0; k < ncxreg_; ++k) X_[k][t] = R(t, k);
  }

  std::span<const double> y_;
  ArimaSpec spec_;
  Orders o_;
  int n_ = 0, narma_ = 0, ncxreg_ = 0, n_used_ = 0, ncond_ = 0;
  bool any_nan_ = false, has_intercept_ = false, has_drift_ = false;
  bool orig_xreg_ = true, no_optim_ = false, transform_ = false;
  Method method_ = Method::kCssMl;
  std::vector<double> delta_;
  std::vector<std::vector<double>> X_, dX_;
  std::vector<std::string> names_;
  std::vector<double> V_;
  std::vector<double> fixed_, init_, parscale_;
  std::vector<bool> mask_;
  std::vector<int> free_;
  std::vector<double> dx_;
  // Scratch for the objectives.
  std::vector<double> full_, tpar_, phi_, theta_, xr_, css_work_;
  ArmaWorkspace ws_;
};

}  // namespace

const char* MethodName(Method m) {
  switch (m) {
    case Method::kCssMl: return "CSS-ML";
    case Method::kMl: return "ML";
    case Method::kCss: return "CSS";
  }
  return "?";
}

std::string ArimaFit::Description() const {
  const Orders& o = orders;
  std::string s = "ARIMA(" + std::to_string(o.p) + "," + std::to_string(o.d) + "," + std::to_string(o.q) + ")";
  if (o.m > 1 && o.P + o.D + o.Q > 0)
    s += "(" + std::to_string(o.P) + "," + std::to_string(o.D) + "," + std::to_string(o.Q) + ")[" +
         std::to_string(o.m) + "]";
  // forecast's arima.string: any regressor besides drift makes it a regression.
  if (num_xreg > 0) return "Regression with " + s + " errors";
  if (has_drift)
    s += " with drift";
  else if (has_intercept)
    s += " with non-zero mean";
  else if (o.d == 0 && o.D == 0)
    s += " with zero mean";
  return s;
}

Result<ArimaFit> FitArima(std::span<const double> y, const ArimaSpec& spec) {
  Problem problem(y, spec);
  ALMANAC_RETURN_IF_ERROR(problem.Init());
  return problem.Fit();
}

Status ComputeVariance(std::span<const double> y, const ArimaSpec& spec, ArimaFit& fit) {
  Problem problem(y, spec);
  ALMANAC_RETURN_IF_ERROR(problem.Init());
  return problem.Variance(fit);
}

void ForecastArima(const ArimaFit& fit, int horizon, std::vector<double>& mean, std::vector<double>& se,
                   std::span<const std::vector<double>> future_xreg) {
  FullStateFilter filter(fit.phi, fit.theta, fit.delta);
  filter.SetState(fit.state, fit.state_cov);
  std::vector<double> var;
  filter.Forecast(horizon, mean, var);
  const int narma = fit.orders.narma();
  int k = narma;
  double intercept = 0, drift = 0;
  if (fit.has_intercept) intercept = fit.coef[k++];
  if (fit.has_drift) drift = fit.coef[k++];
  ALMANAC_DCHECK(static_cast<int>(future_xreg.size()) >= fit.num_xreg);
  for (int j = 0; j < fit.num_xreg; ++j) {
    const double b = fit.coef[k++];
    for (int h = 0; h < horizon; ++h) mean[h] += b * future_xreg[j][h];
  }
  se.resize(static_cast<size_t>(horizon));
  for (int h = 0; h < horizon; ++h) {
    mean[h] += intercept + drift * (fit.n + h + 1);
    se[h] = std::sqrt(var[h] * fit.sigma2);
  }
}

std::vector<double> FittedValues(std::span<const double> y, const ArimaFit& fit) {
  std::vector<double> out(y.size(), kNaN);
  for (size_t t = 0; t < y.size() && t < fit.residuals.size(); ++t) out[t] = y[t] - fit.residuals[t];
  return out;
}

double MinRootModulus(const ArimaFit& fit) {
  double minroot = 2;
  auto check = [&](const std::vector<double>& v, double sign) {
    int last = 0;
    for (int i = 0; i < static_cast<int>(v.size()); ++i)
      if (std::abs(v[i]) > 1e-8) last = i + 1;
    if (last == 0) return;
    std::vector<double> c(static_cast<size_t>(last) + 1);
    c[0] = 1;
    for (int i = 0; i < last; ++i) c[i + 1] = sign * v[i];
    for (const auto& z : PolyRoots(c)) minroot = std::min(minroot, std::abs(z));
  };
  const Orders& o = fit.orders;
  if (o.p + o.P > 0) check(fit.phi, -1.0);
  if (o.q + o.Q > 0) check(fit.theta, 1.0);
  return minroot;
}

}  // namespace almanac::models::arima
