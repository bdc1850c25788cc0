#include "models/var/var_core.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numeric>

#include <Eigen/Eigenvalues>

#include "models/random.h"

namespace almanac::models::var {

int NumDeterministic(VarTrend trend) {
  switch (trend) {
    case VarTrend::kNone:
      return 0;
    case VarTrend::kConstant:
      return 1;
    case VarTrend::kConstantTrend:
      return 2;
  }
  return 0;
}

std::vector<std::string> RegressorNames(const std::vector<std::string>& names, int p, VarTrend trend) {
  std::vector<std::string> out;
  if (trend != VarTrend::kNone) out.push_back("const");
  if (trend == VarTrend::kConstantTrend) out.push_back("trend");
  for (int j = 1; j <= p; ++j)
    for (const auto& n : names) out.push_back("L" + std::to_string(j) + "." + n);
  return out;
}

std::string PeriodLabel(const MultiInput& data, int64_t t) {
  if (data.start) return (*data.start + t).ToString();
  return "t=" + std::to_string(t + 1);
}

Result<MatrixXd> ToMatrix(const MultiInput& data) {
  const int k = data.num_vars();
  if (k == 0) return InvalidArgumentError("no variables given");
  if (static_cast<int>(data.values.size()) != k)
    return InvalidArgumentError(std::to_string(k) + " variable names but " + std::to_string(data.values.size()) +
                                " value columns");
  const int64_t t_len = data.size();
  for (int i = 0; i < k; ++i) {
    if (static_cast<int64_t>(data.values[i].size()) != t_len)
      return InvalidArgumentError("variable " + data.names[i] + " has " + std::to_string(data.values[i].size()) +
                                  " observations but " + data.names[0] + " has " + std::to_string(t_len));
    for (int j = 0; j < i; ++j)
      if (data.names[j] == data.names[i]) return InvalidArgumentError("variable " + data.names[i] + " appears twice");
  }
  MatrixXd y(t_len, k);
  for (int i = 0; i < k; ++i) {
    for (int64_t t = 0; t < t_len; ++t) {
      const double v = data.values[i][t];
      if (!std::isfinite(v))
        return InvalidArgumentError("variable " + data.names[i] + " has a missing value at " + PeriodLabel(data, t) +
                                    " (VAR models need complete data; fill or shorten the sample)");
      y(t, i) = v;
    }
  }
  return y;
}

namespace {

// Names the variables behind a singular Gram matrix: the regressors with large loadings on
// the eigenvector of its smallest eigenvalue.
std::string CollinearVariables(const MatrixXd& scaled_gram, const std::vector<int>& regressor_var,
                               const std::vector<std::string>& names, bool* involves_trend) {
  Eigen::SelfAdjointEigenSolver<MatrixXd> es(scaled_gram);
  const VectorXd v = es.eigenvectors().col(0);
  const double vmax = v.cwiseAbs().maxCoeff();
  std::vector<int> vars;
  *involves_trend = false;
  for (int j = 0; j < v.size(); ++j) {
    if (std::fabs(v(j)) < 0.1 * vmax) continue;
    if (regressor_var[j] < 0) {
      *involves_trend = true;
      continue;
    }
    if (std::find(vars.begin(), vars.end(), regressor_var[j]) == vars.end()) vars.push_back(regressor_var[j]);
  }
  std::sort(vars.begin(), vars.end());
  std::string out;
  for (size_t i = 0; i < vars.size(); ++i) {
    if (i > 0) out += (i + 1 == vars.size()) ? " and " : ", ";
    out += names[vars[i]];
  }
  return out;
}

}  // namespace

CrossProducts::CrossProducts(const MatrixXd& y, int max_p, VarTrend trend, int first)
    : k_(static_cast<int>(y.cols())), max_p_(max_p), trend_(trend) {
  const int t_len = static_cast<int>(y.rows());
  n_ = t_len - first;
  const bool has_trend = trend == VarTrend::kConstantTrend;
  const int qt = has_trend ? 1 : 0;
  q_ = qt + k_ * max_p;
  centred_ = trend != VarTrend::kNone;
  // Work on the data minus their global means when there is a constant: the centred
  // cross-products are the same, and removing the window means below then cancels nothing.
  MatrixXd z = y;
  VectorXd mu = VectorXd::Zero(k_);
  if (centred_) {
    mu = y.colwise().mean().transpose();
    z.rowwise() -= mu.transpose();
  }
  // Every column but the trend is a lag a = 0..max_p of the data (lag 0 is Y), so the raw
  // cross-products R(a, b) = sum_{t=first}^{T-1} z_{t-a} z_{t-b}' follow from R(0, b) by
  //   R(a, b) = R(a-1, b-1) + z_{first-a} z_{first-b}' - z_{T-a} z_{T-b}'
  // (shift the window by one period): O(K^2 p n) work instead of O(K^2 p^2 n).
  const int lags = max_p + 1;
  std::vector<std::vector<MatrixXd>> r(static_cast<size_t>(lags), std::vector<MatrixXd>(static_cast<size_t>(lags)));
  std::vector<VectorXd> sum(static_cast<size_t>(lags));
  const auto z0 = z.middleRows(first, n_);
  for (int b = 0; b < lags; ++b) r[0][b].noalias() = z0.transpose() * z.middleRows(first - b, n_);
  sum[0] = z0.colwise().sum().transpose();
  for (int a = 1; a < lags; ++a) {
    sum[a] = sum[a - 1] + z.row(first - a).transpose() - z.row(t_len - a).transpose();
    for (int b = a; b < lags; ++b)
      r[a][b] = r[a - 1][b - 1] + z.row(first - a).transpose() * z.row(first - b) -
                z.row(t_len - a).transpose() * z.row(t_len - b);
  }
  // Column index of lag a (1..max_p) of variable i, and of Y (lag 0).
  auto col = [&](int a) { return a == 0 ? q_ : qt + k_ * (a - 1); };
  gram_ = MatrixXd(q_ + k_, q_ + k_);
  const double inv_n = 1.0 / n_;
  for (int a = 0; a < lags; ++a)
    for (int b = a; b < lags; ++b) {
      MatrixXd g = r[a][b];
      if (centred_) g.noalias() -= inv_n * sum[a] * sum[b].transpose();
      gram_.block(col(a), col(b), k_, k_) = g;
      gram_.block(col(b), col(a), k_, k_) = g.transpose();
    }
  xbar_ = VectorXd::Zero(q_);
  ybar_ = sum[0] * inv_n + mu;
  for (int a = 1; a < lags; ++a) xbar_.segment(qt + k_ * (a - 1), k_) = sum[a] * inv_n + mu;
  if (has_trend) {
    // The trend t + 1 (statsmodels' numbering), centred on its window mean.
    const double tbar = first + 1 + (n_ - 1) / 2.0;
    xbar_(0) = tbar;
    VectorXd c(n_);
    for (int i = 0; i < n_; ++i) c(i) = first + i + 1 - tbar;
    gram_(0, 0) = c.squaredNorm();
    for (int a = 0; a < lags; ++a) {
      const VectorXd g = z.middleRows(first - a, n_).transpose() * c;
      gram_.block(col(a), 0, k_, 1) = g;
      gram_.block(0, col(a), 1, k_) = g.transpose();
    }
  }
}

Result<OlsFit> CrossProducts::FitLeading(int p, bool want_inverse, const MultiInput& data) const {
  ALMANAC_DCHECK(p <= max_p_);
  const bool has_const = trend_ != VarTrend::kNone;
  const int qt = trend_ == VarTrend::kConstantTrend ? 1 : 0;
  const int q = qt + k_ * p;  // regressors used, excluding the constant
  const int d = NumDeterministic(trend_);
  const int m = d + k_ * p;
  OlsFit fit;
  fit.p = p;
  fit.trend = trend_;
  fit.nobs = n_;
  fit.b = MatrixXd::Zero(m, k_);
  const MatrixXd yy = gram_.bottomRightCorner(k_, k_);
  if (q == 0) {
    // Only a constant (or nothing): the residuals are the centred (or raw) data.
    fit.sse = yy;
    if (has_const) fit.b.row(0) = ybar_.transpose();
    if (want_inverse) {
      fit.zz_inv = MatrixXd::Zero(m, m);
      if (has_const) fit.zz_inv(0, 0) = 1.0 / n_;
    }
    return fit;
  }
  // Scale to unit diagonal so the conditioning test sees the collinearity, not the units.
  const MatrixXd g = gram_.topLeftCorner(q, q);
  VectorXd scale(q);
  std::vector<int> regressor_var(q);
  for (int j = 0; j < q; ++j) {
    regressor_var[j] = j < qt ? -1 : (j - qt) % k_;
    if (!(g(j, j) > 0)) {
      if (regressor_var[j] < 0) return InvalidArgumentError("the trend regressor has no variation");
      return InvalidArgumentError("collinear system: variable " + data.names[regressor_var[j]] +
                                  " is constant over the sample" + (has_const ? " (collinear with the constant)" : "") +
                                  "; drop it from the VAR");
    }
    scale(j) = 1.0 / std::sqrt(g(j, j));
  }
  const MatrixXd gs = scale.asDiagonal() * g * scale.asDiagonal();
  Eigen::LLT<MatrixXd> llt(gs);
  fit.rcond = llt.info() == Eigen::Success ? llt.rcond() : 0.0;
  if (llt.info() != Eigen::Success || !(fit.rcond > 1e-13)) {
    bool with_trend = false;
    const std::string vars = CollinearVariables(gs, regressor_var, data.names, &with_trend);
    std::string msg = "collinear system: the VAR(" + std::to_string(p) + ") regressors are (nearly) linearly dependent";
    if (!vars.empty()) msg += "; variables involved: " + vars;
    if (with_trend) msg += " (together with the trend term)";
    msg += ". Drop or transform one of them";
    return InvalidArgumentError(msg);
  }
  const MatrixXd xy = gram_.block(0, q_, q, k_);
  const MatrixXd slopes = scale.asDiagonal() * llt.solve(scale.asDiagonal() * xy);
  fit.b.bottomRows(q) = slopes;
  MatrixXd sse = yy - xy.transpose() * slopes;
  fit.sse = 0.5 * (sse + sse.transpose());
  if (has_const) fit.b.row(0) = (ybar_ - slopes.transpose() * xbar_.head(q)).transpose();
  if (want_inverse) {
    const MatrixXd ginv = scale.asDiagonal() * llt.solve(MatrixXd::Identity(q, q)) * scale.asDiagonal();
    fit.zz_inv = MatrixXd::Zero(m, m);
    if (has_const) {
      const VectorXd xb = xbar_.head(q);
      const VectorXd gx = ginv * xb;
      fit.zz_inv(0, 0) = 1.0 / n_ + xb.dot(gx);
      fit.zz_inv.block(1, 0, q, 1) = -gx;
      fit.zz_inv.block(0, 1, 1, q) = -gx.transpose();
      fit.zz_inv.bottomRightCorner(q, q) = ginv;
    } else {
      fit.zz_inv = ginv;
    }
  }
  return fit;
}

Result<std::vector<MatrixXd>> CrossProducts::SsePerOrder(int p_min, const MultiInput& data) {
  const int qt = trend_ == VarTrend::kConstantTrend ? 1 : 0;
  const int qmax = qt + k_ * max_p_;
  const MatrixXd yy = gram_.bottomRightCorner(k_, k_);
  std::vector<MatrixXd> out;
  auto fallback = [&](int p) -> Status {
    ALMANAC_ASSIGN_OR_RETURN(OlsFit fit, FitLeading(p, false, data));
    out.push_back(std::move(fit.sse));
    return Status::Ok();
  };
  bool usable = qmax > 0;
  VectorXd scale(qmax);
  for (int j = 0; j < qmax && usable; ++j) {
    usable = gram_(j, j) > 0;
    if (usable) scale(j) = 1.0 / std::sqrt(gram_(j, j));
  }
  // Factorised in place (chol_ keeps the factor in its lower triangle): fewer large
  // temporaries, which matters at this size (allocator traffic was a third of the time).
  bool factored = false;
  if (usable) {
    chol_ = scale.asDiagonal() * gram_.topLeftCorner(qmax, qmax) * scale.asDiagonal();
    Eigen::LLT<Eigen::Ref<MatrixXd>> llt(chol_);
    factored = llt.info() == Eigen::Success;
  }
  if (!factored) {
    chol_.resize(0, 0);
    for (int p = p_min; p <= max_p_; ++p) ALMANAC_RETURN_IF_ERROR(fallback(p));
    return out;
  }
  const auto lower = chol_.triangularView<Eigen::Lower>();
  w_ = scale.asDiagonal() * gram_.block(0, q_, qmax, k_);
  lower.solveInPlace(w_);
  const MatrixXd& w = w_;
  // Squared pivots of the unit-diagonal matrix: the share of each regressor not explained by
  // the ones before it (1 / VIF); tiny means (nearly) collinear.
  min_pivot_.assign(static_cast<size_t>(qmax) + 1, 1.0);
  for (int j = 0; j < qmax; ++j) {
    const double l = chol_(j, j);
    min_pivot_[j + 1] = std::min(min_pivot_[j], l * l);
  }
  MatrixXd acc = MatrixXd::Zero(k_, k_);
  int done = 0;  // rows of w accumulated
  for (int p = p_min; p <= max_p_; ++p) {
    const int q = qt + k_ * p;
    for (; done < q; ++done) acc.noalias() += w.row(done).transpose() * w.row(done);
    const double min_pivot = min_pivot_[q];
    if (!(min_pivot > 1e-13)) {
      ALMANAC_RETURN_IF_ERROR(fallback(p));
      continue;
    }
    MatrixXd sse = yy - acc;
    out.push_back(0.5 * (sse + sse.transpose()));
  }
  scale_ = scale;
  return out;
}

Result<OlsFit> CrossProducts::FitFromFactor(int p, const MultiInput& data) const {
  const int qt = trend_ == VarTrend::kConstantTrend ? 1 : 0;
  const int q = qt + k_ * p;
  if (chol_.size() == 0 || q == 0 || q > chol_.rows() || !(min_pivot_[q] > 1e-13)) return FitLeading(p, false, data);
  const int d = NumDeterministic(trend_);
  OlsFit fit;
  fit.p = p;
  fit.trend = trend_;
  fit.nobs = n_;
  fit.rcond = min_pivot_[q];
  const auto wq = w_.topRows(q);
  const MatrixXd slopes =
      scale_.head(q).asDiagonal() * chol_.topLeftCorner(q, q).triangularView<Eigen::Lower>().transpose().solve(wq);
  fit.b = MatrixXd::Zero(d + k_ * p, k_);
  fit.b.bottomRows(q) = slopes;
  if (trend_ != VarTrend::kNone) fit.b.row(0) = (ybar_ - slopes.transpose() * xbar_.head(q)).transpose();
  MatrixXd sse = gram_.bottomRightCorner(k_, k_) - wq.transpose() * wq;
  fit.sse = 0.5 * (sse + sse.transpose());
  return fit;
}

Result<OlsFit> FitVarOls(const MatrixXd& y, int p, VarTrend trend, bool want_inverse, const MultiInput& data) {
  const int k = static_cast<int>(y.cols());
  const int t_len = static_cast<int>(y.rows());
  const int d = NumDeterministic(trend);
  const int need = p + k * p + d + k;
  if (p < 0) return InvalidArgumentError("the number of lags must be at least 0");
  if (t_len < need)
    return InvalidArgumentError("too few observations for a VAR(" + std::to_string(p) + ") in " + std::to_string(k) +
                                " variables with trend '" + std::string(VarTrendName(trend)) + "': needs at least " +
                                std::to_string(need) + " (p + Kp + d + K), got " + std::to_string(t_len));
  CrossProducts cp(y, p, trend, p);
  return cp.FitLeading(p, want_inverse, data);
}

std::vector<MatrixXd> MaRep(const MatrixXd& b, int k, int p, int d, int n) {
  std::vector<MatrixXd> phi;
  phi.reserve(static_cast<size_t>(n));
  std::vector<MatrixXd> a;
  for (int j = 1; j <= p; ++j) a.push_back(b.block(d + k * (j - 1), 0, k, k).transpose());
  for (int i = 0; i < n; ++i) {
    if (i == 0) {
      phi.push_back(MatrixXd::Identity(k, k));
      continue;
    }
    MatrixXd s = MatrixXd::Zero(k, k);
    for (int j = 1; j <= std::min(i, p); ++j) s.noalias() += phi[i - j] * a[j - 1];
    phi.push_back(std::move(s));
  }
  return phi;
}

MatrixXd PointForecast(const MatrixXd& b, int p, VarTrend trend, const MatrixXd& y, int horizon) {
  const int k = static_cast<int>(y.cols());
  const int t_len = static_cast<int>(y.rows());
  const int d = NumDeterministic(trend);
  // Work on a buffer holding the last p observations followed by the forecasts.
  MatrixXd buf(p + horizon, k);
  if (p > 0) buf.topRows(p) = y.bottomRows(p);
  for (int h = 0; h < horizon; ++h) {
    VectorXd f = VectorXd::Zero(k);
    if (d >= 1) f += b.row(0).transpose();
    if (d >= 2) f += static_cast<double>(t_len + h + 1) * b.row(1).transpose();
    for (int j = 1; j <= p; ++j)
      f.noalias() += b.block(d + k * (j - 1), 0, k, k).transpose() * buf.row(p + h - j).transpose();
    buf.row(p + h) = f.transpose();
  }
  return buf.bottomRows(horizon);
}

std::vector<MatrixXd> ForecastMse(const std::vector<MatrixXd>& phi, const MatrixXd& sigma, int horizon) {
  std::vector<MatrixXd> out;
  const int k = static_cast<int>(sigma.rows());
  MatrixXd acc = MatrixXd::Zero(k, k);
  for (int h = 0; h < horizon; ++h) {
    acc.noalias() += phi[h] * sigma * phi[h].transpose();
    out.push_back(acc);
  }
  return out;
}

Stability CheckStability(const MatrixXd& b, int k, int p, int d, const std::vector<std::string>& names) {
  Stability s;
  if (p == 0) return s;
  const int n = k * p;
  MatrixXd comp = MatrixXd::Zero(n, n);
  for (int j = 1; j <= p; ++j) comp.block(0, k * (j - 1), k, k) = b.block(d + k * (j - 1), 0, k, k).transpose();
  if (p > 1) comp.bottomLeftCorner(n - k, n - k).setIdentity();
  Eigen::EigenSolver<MatrixXd> es(comp, /*computeEigenvectors=*/false);
  const Eigen::VectorXcd ev = es.eigenvalues();
  std::vector<int> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int c) { return std::abs(ev(a)) > std::abs(ev(c)); });
  for (int i : order) s.moduli.push_back(std::abs(ev(i)));
  s.stable = s.moduli.empty() || s.moduli[0] < 1.0;
  if (!s.stable) {
    // The variables that load on the explosive (or unit) roots. A companion eigenvector for
    // root z is [z^{p-1} u; ...; z u; u] with u a null vector of the K x K matrix
    // M(z) = z^p I - sum_j A_j z^{p-j}, so u comes from a small SVD, not from the (Kp)^2
    // eigenvector problem.
    std::vector<double> load(static_cast<size_t>(k), 0.0);
    int done = 0;
    for (int i : order) {
      if (std::abs(ev(i)) < 1.0 || done >= 8) break;
      const std::complex<double> z = ev(i);
      Eigen::MatrixXcd m = Eigen::MatrixXcd::Identity(k, k) * std::pow(z, p);
      for (int j = 1; j <= p; ++j)
        m -= b.block(d + k * (j - 1), 0, k, k).transpose().cast<std::complex<double>>() * std::pow(z, p - j);
      Eigen::JacobiSVD<Eigen::MatrixXcd> svd(m, Eigen::ComputeFullV);
      const Eigen::VectorXcd u = svd.matrixV().col(k - 1);
      for (int v = 0; v < k; ++v) load[v] = std::max(load[v], std::abs(u(v)));
      ++done;
    }
    const double mx = *std::max_element(load.begin(), load.end());
    for (int v = 0; v < k; ++v)
      if (load[v] >= 0.1 * mx) s.explosive_variables.push_back(names[v]);
  }
  return s;
}

Result<MatrixXd> CholeskyLower(const MatrixXd& sigma, std::string_view what) {
  Eigen::LLT<MatrixXd> llt(sigma);
  if (llt.info() != Eigen::Success)
    return InvalidArgumentError(std::string(what) + " is not positive definite (collinear variables?)");
  return MatrixXd(llt.matrixL());
}

MatrixXd ImpactMatrix(const std::vector<MatrixXd>& phi, const MatrixXd& chol, int horizon) {
  const int k = static_cast<int>(chol.rows());
  MatrixXd m = MatrixXd::Zero(horizon * k, horizon * k);
  std::vector<MatrixXd> theta;
  for (int i = 0; i < horizon; ++i) theta.push_back(phi[i] * chol);
  for (int h = 0; h < horizon; ++h)
    for (int s = 0; s <= h; ++s) m.block(h * k, s * k, k, k) = theta[h - s];
  return m;
}

Result<ConditionalShocks> SolveConditions(const MatrixXd& impact, const std::vector<int>& rows, const VectorXd& gaps) {
  const int n = static_cast<int>(impact.cols());
  const int q = static_cast<int>(rows.size());
  ConditionalShocks out;
  if (q == 0) {
    out.eps_star = VectorXd::Zero(n);
    out.free_proj = MatrixXd::Identity(n, n);
    return out;
  }
  MatrixXd r(q, n);
  for (int i = 0; i < q; ++i) r.row(i) = impact.row(rows[i]);
  const MatrixXd rrt = r * r.transpose();
  Eigen::LDLT<MatrixXd> ldlt(rrt);
  if (ldlt.info() != Eigen::Success || !(ldlt.rcond() > 1e-12))
    return InvalidArgumentError("the conditions cannot all be met: they are linearly dependent given the model");
  out.eps_star = r.transpose() * ldlt.solve(gaps);
  out.free_proj = MatrixXd::Identity(n, n) - r.transpose() * ldlt.solve(r);
  return out;
}

Result<IndexedConditions> IndexConditions(const std::vector<PathCondition>& conditions,
                                          const std::vector<std::string>& names, int horizon) {
  IndexedConditions out;
  const int k = static_cast<int>(names.size());
  std::vector<std::pair<int, double>> pairs;
  for (size_t c = 0; c < conditions.size(); ++c) {
    const auto& pc = conditions[c];
    auto it = std::find(names.begin(), names.end(), pc.variable);
    if (it == names.end()) {
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      return InvalidArgumentError("condition on unknown variable '" + pc.variable +
                                  "' (the model's variables: " + list + ")");
    }
    for (size_t c2 = 0; c2 < c; ++c2)
      if (conditions[c2].variable == pc.variable)
        return InvalidArgumentError("two conditions on variable '" + pc.variable + "'");
    if (static_cast<int>(pc.values.size()) != horizon)
      return InvalidArgumentError("the path for '" + pc.variable + "' has " + std::to_string(pc.values.size()) +
                                  " values but the horizon is " + std::to_string(horizon) +
                                  " (one value per step; null/NaN leaves a step free)");
    const int i = static_cast<int>(it - names.begin());
    for (int h = 0; h < horizon; ++h) {
      const double v = pc.values[h];
      if (std::isnan(v)) continue;
      if (!std::isfinite(v))
        return InvalidArgumentError("the path for '" + pc.variable + "' has an infinite value at step " +
                                    std::to_string(h + 1));
      pairs.emplace_back(h * k + i, v);
    }
  }
  std::sort(pairs.begin(), pairs.end());
  for (const auto& [row, v] : pairs) {
    out.rows.push_back(row);
    out.values.push_back(v);
  }
  return out;
}

void BandsFromDraws(std::vector<std::vector<std::vector<double>>>& draws, std::span<const double> levels,
                    std::vector<MultiInterval>& out) {
  for (double level : levels) {
    MultiInterval iv;
    iv.level = level;
    const double a = (1 - level / 100) / 2;
    for (auto& var_draws : draws) {
      std::vector<double> lo, hi;
      for (auto& d : var_draws) {
        lo.push_back(Quantile7(d, a));
        hi.push_back(Quantile7(d, 1 - a));
      }
      iv.lower.push_back(std::move(lo));
      iv.upper.push_back(std::move(hi));
    }
    out.push_back(std::move(iv));
  }
}

Json MatrixToJson(const MatrixXd& m) {
  Json rows = Json::array();
  for (int i = 0; i < m.rows(); ++i) {
    Json r = Json::array();
    for (int j = 0; j < m.cols(); ++j) r.push_back(m(i, j));
    rows.push_back(std::move(r));
  }
  return rows;
}

Result<MatrixXd> MatrixFromJson(const Json& j, std::string_view what) {
  if (!j.is_array()) return DataLossError(std::string(what) + " is not a matrix");
  const int rows = static_cast<int>(j.size());
  const int cols = rows == 0 ? 0 : static_cast<int>(j[0].size());
  MatrixXd m(rows, cols);
  for (int i = 0; i < rows; ++i) {
    if (!j[i].is_array() || static_cast<int>(j[i].size()) != cols)
      return DataLossError(std::string(what) + " is ragged");
    for (int c = 0; c < cols; ++c) {
      if (!j[i][c].is_number()) return DataLossError(std::string(what) + " has a non-number");
      m(i, c) = j[i][c].get<double>();
    }
  }
  return m;
}

std::vector<std::vector<double>> ToNested(const MatrixXd& m) {
  std::vector<std::vector<double>> out(static_cast<size_t>(m.rows()),
                                       std::vector<double>(static_cast<size_t>(m.cols())));
  for (int i = 0; i < m.rows(); ++i)
    for (int j = 0; j < m.cols(); ++j) out[i][j] = m(i, j);
  return out;
}

}  // namespace almanac::models::var
