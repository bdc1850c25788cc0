#include "models/arima/arima_kernels.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <Eigen/Dense>

#include "almanac/core/time_series.h"

namespace almanac::models::arima {
namespace {

// Observations whose one-step prediction variance reaches this value (the diffuse start of
// a differenced model) are left out of the likelihood, as in R's ARIMA_Like.
constexpr double kDiffuseGain = 1e4;
// Longest AR/MA polynomial for which the CSS loops use stack index lists.
constexpr int kMaxSparse = 256;

// Solves the dense n x n system A x = b (row-major A, overwritten) by Gaussian elimination
// with partial pivoting; x replaces b. False when a pivot is exactly zero or not finite.
bool SolveDense(int n, double* A, double* b) {
  for (int k = 0; k < n; ++k) {
    int piv = k;
    double best = std::abs(A[k * n + k]);
    for (int i = k + 1; i < n; ++i) {
      const double v = std::abs(A[i * n + k]);
      if (v > best) {
        best = v;
        piv = i;
      }
    }
    if (!(best > 0) || !std::isfinite(best)) return false;
    if (piv != k) {
      for (int j = 0; j < n; ++j) std::swap(A[k * n + j], A[piv * n + j]);
      std::swap(b[k], b[piv]);
    }
    const double inv = 1.0 / A[k * n + k];
    for (int i = k + 1; i < n; ++i) {
      const double f = A[i * n + k] * inv;
      if (f == 0) continue;
      for (int j = k + 1; j < n; ++j) A[i * n + j] -= f * A[k * n + j];
      b[i] -= f * b[k];
    }
  }
  for (int k = n - 1; k >= 0; --k) {
    double s = b[k];
    for (int j = k + 1; j < n; ++j) s -= A[k * n + j] * b[j];
    b[k] = s / A[k * n + k];
  }
  return true;
}

// a <- T a + K g for the ARMA transition T (phi in the first column, ones above the
// diagonal). `nz` lists the indices of the nonzero phi (expanded seasonal polynomials are
// mostly zeros; adding phi_i a0 = 0 changes nothing, so skipping them gives the same numbers).
inline void StepState(double* a, const double* phi, const int* nz, int nnz, int r, const double* K, double g) {
  const double a0 = a[0];
  for (int i = 0; i + 1 < r; ++i) a[i] = a[i + 1] + K[i] * g;
  a[r - 1] = K[r - 1] * g;
  for (int t = 0; t < nnz; ++t) a[nz[t]] += phi[nz[t]] * a0;
}

// The indices of the nonzero entries of c, in increasing order.
void NonZeros(std::span<const double> c, std::vector<int>& out) {
  out.clear();
  for (size_t i = 0; i < c.size(); ++i)
    if (c[i] != 0) out.push_back(static_cast<int>(i));
}

}  // namespace

void ExpandArma(const Orders& o, const double* par, double* phi, double* theta) {
  const int pf = o.p_full(), qf = o.q_full();
  std::fill(phi, phi + pf, 0.0);
  std::fill(theta, theta + qf, 0.0);
  const double* ar = par;
  const double* ma = par + o.p;
  const double* sar = ma + o.q;
  const double* sma = sar + o.P;
  for (int i = 0; i < o.p; ++i) phi[i] = ar[i];
  for (int i = 0; i < o.q; ++i) theta[i] = ma[i];
  for (int j = 0; j < o.P; ++j) {
    phi[(j + 1) * o.m - 1] += sar[j];
    for (int i = 0; i < o.p; ++i) phi[(j + 1) * o.m + i] -= ar[i] * sar[j];
  }
  for (int j = 0; j < o.Q; ++j) {
    theta[(j + 1) * o.m - 1] += sma[j];
    for (int i = 0; i < o.q; ++i) theta[(j + 1) * o.m + i] += ma[i] * sma[j];
  }
}

std::vector<double> DifferencingPolynomial(int d, int D, int m) {
  std::vector<double> poly = {1.0};
  auto multiply = [&poly](int lag) {
    std::vector<double> out(poly.size() + lag, 0.0);
    for (size_t i = 0; i < poly.size(); ++i) {
      out[i] += poly[i];
      out[i + lag] -= poly[i];
    }
    poly = std::move(out);
  };
  for (int i = 0; i < d; ++i) multiply(1);
  for (int i = 0; i < D; ++i) multiply(m);
  std::vector<double> delta(poly.size() - 1);
  for (size_t i = 1; i < poly.size(); ++i) delta[i - 1] = -poly[i];
  return delta;
}

void PacfToAr(int p, const double* in, double* out) {
  if (p <= 0) return;
  // Durbin-Levinson: the AR(j+1) coefficients from the AR(j) ones and the (j+1)-th partial
  // autocorrelation.
  double work[512];
  std::vector<double> heap;
  double* tmp = work;
  if (p > 512) {
    heap.resize(static_cast<size_t>(p));
    tmp = heap.data();
  }
  for (int j = 0; j < p; ++j) out[j] = std::tanh(in[j]);
  for (int j = 1; j < p; ++j) {
    const double a = out[j];
    for (int k = 0; k < j; ++k) tmp[k] = out[k] - a * out[j - k - 1];
    for (int k = 0; k < j; ++k) out[k] = tmp[k];
  }
}

void ArToPacf(int p, const double* in, double* out) {
  if (p <= 0) return;
  std::vector<double> tmp(static_cast<size_t>(p));
  for (int j = 0; j < p; ++j) out[j] = in[j];
  // Runs the Durbin-Levinson recursion backwards to recover the partial autocorrelations.
  for (int j = p - 1; j > 0; --j) {
    const double a = out[j];
    for (int k = 0; k < j; ++k) tmp[k] = (out[k] + a * out[j - k - 1]) / (1 - a * a);
    for (int k = 0; k < j; ++k) out[k] = tmp[k];
  }
  for (int j = 0; j < p; ++j) out[j] = std::atanh(out[j]);
}

void TransformArBlocks(const Orders& o, std::span<const double> in, std::span<double> out) {
  std::copy(in.begin(), in.end(), out.begin());
  if (o.p > 0) PacfToAr(o.p, in.data(), out.data());
  if (o.P > 0) PacfToAr(o.P, in.data() + o.p + o.q, out.data() + o.p + o.q);
}

void InverseTransformArBlocks(const Orders& o, std::span<const double> in, std::span<double> out) {
  std::copy(in.begin(), in.end(), out.begin());
  if (o.p > 0) ArToPacf(o.p, in.data(), out.data());
  if (o.P > 0) ArToPacf(o.P, in.data() + o.p + o.q, out.data() + o.p + o.q);
}

std::vector<double> TransformJacobian(const Orders& o, std::span<const double> in) {
  const size_t n = in.size();
  std::vector<double> A(n * n, 0.0);
  for (size_t i = 0; i < n; ++i) A[i * n + i] = 1.0;
  constexpr double kEps = 1e-3;
  auto block = [&](int start, int len) {
    if (len <= 0) return;
    std::vector<double> w1(in.begin() + start, in.begin() + start + len), w2(len), w3(len);
    PacfToAr(len, w1.data(), w2.data());
    for (int i = 0; i < len; ++i) {
      w1[i] += kEps;
      PacfToAr(len, w1.data(), w3.data());
      for (int j = 0; j < len; ++j) A[(start + i) * n + start + j] = (w3[j] - w2[j]) / kEps;
      w1[i] -= kEps;
    }
  };
  block(0, o.p);
  block(o.p + o.q, o.P);
  return A;
}

std::vector<std::complex<double>> PolyRoots(std::span<const double> c) {
  const int k = static_cast<int>(c.size()) - 1;
  if (k <= 0) return {};
  if (k == 1) return {std::complex<double>(-c[0] / c[1], 0.0)};
  Eigen::MatrixXd comp = Eigen::MatrixXd::Zero(k, k);
  for (int j = 0; j < k; ++j) comp(0, j) = -c[k - 1 - j] / c[k];
  for (int i = 1; i < k; ++i) comp(i, i - 1) = 1.0;
  Eigen::EigenSolver<Eigen::MatrixXd> es(comp, /*computeEigenvectors=*/false);
  std::vector<std::complex<double>> roots(static_cast<size_t>(k));
  for (int i = 0; i < k; ++i) roots[i] = es.eigenvalues()[i];
  return roots;
}

bool ArIsStationary(std::span<const double> ar) {
  int p = 0;
  for (int i = 0; i < static_cast<int>(ar.size()); ++i)
    if (ar[i] != 0) p = i + 1;
  if (p == 0) return true;
  std::vector<double> c(static_cast<size_t>(p) + 1);
  c[0] = 1;
  for (int i = 0; i < p; ++i) c[i + 1] = -ar[i];
  for (const auto& z : PolyRoots(c))
    if (!(std::abs(z) > 1)) return false;
  return true;
}

std::vector<double> InvertMa(std::span<const double> ma) {
  const int q = static_cast<int>(ma.size());
  int q0 = 0;
  for (int i = 0; i < q; ++i)
    if (ma[i] != 0) q0 = i + 1;
  std::vector<double> out(ma.begin(), ma.end());
  if (q0 == 0) return out;
  std::vector<double> c(static_cast<size_t>(q0) + 1);
  c[0] = 1;
  for (int i = 0; i < q0; ++i) c[i + 1] = ma[i];
  auto roots = PolyRoots(c);
  bool any_inside = false;
  for (const auto& z : roots) any_inside |= std::abs(z) < 1;
  if (!any_inside) return out;
  if (q0 == 1) {
    std::fill(out.begin(), out.end(), 0.0);
    out[0] = 1 / ma[0];
    return out;
  }
  for (auto& z : roots)
    if (std::abs(z) < 1) z = 1.0 / z;
  // Rebuilds prod (1 - z / root) from the reflected roots.
  std::vector<std::complex<double>> poly = {1.0};
  for (const auto& z : roots) {
    std::vector<std::complex<double>> next(poly.size() + 1, 0.0);
    for (size_t i = 0; i < poly.size(); ++i) {
      next[i] += poly[i];
      next[i + 1] -= poly[i] / z;
    }
    poly = std::move(next);
  }
  std::fill(out.begin(), out.end(), 0.0);
  for (int i = 0; i < q0; ++i) out[i] = poly[i + 1].real();
  return out;
}

bool ArmaAutocovariance(std::span<const double> phi, std::span<const double> theta, int nlags, ArmaWorkspace& ws) {
  const int p = static_cast<int>(phi.size()), q = static_cast<int>(theta.size());
  const int npsi = std::max(nlags, q) + 1;
  const int ngam = std::max(nlags, p) + 1;
  ws.psi.resize(static_cast<size_t>(npsi));
  ws.gamma.resize(static_cast<size_t>(ngam));
  double* psi = ws.psi.data();
  NonZeros(phi, ws.nz_phi);
  const int* nz = ws.nz_phi.data();
  const int nnz = static_cast<int>(ws.nz_phi.size());
  psi[0] = 1;
  for (int j = 1; j < npsi; ++j) {
    double s = j <= q ? theta[j - 1] : 0.0;
    // sum over i = 1..min(j, p) of phi_i psi_{j-i}, skipping phi_i = 0 (same sum).
    for (int t = 0; t < nnz && nz[t] < j; ++t) s += phi[nz[t]] * psi[j - 1 - nz[t]];
    psi[j] = s;
  }
  // c_k = sum_{j=k}^{q} theta_j psi_{j-k}, theta_0 = 1: the covariance of the MA side with
  // the process k steps later.
  auto c = [&](int k) {
    if (k > q) return 0.0;
    double s = k == 0 ? 1.0 : theta[k - 1];  // j = k term: theta_k * psi_0
    for (int j = k + 1; j <= q; ++j) s += theta[j - 1] * psi[j - k];
    return s;
  };
  double* gamma = ws.gamma.data();
  if (p == 0) {
    for (int k = 0; k < ngam; ++k) gamma[k] = c(k);
    return true;
  }
  const int n = p + 1;
  ws.sys.assign(static_cast<size_t>(n * n), 0.0);
  ws.rhs.resize(static_cast<size_t>(n));
  double* A = ws.sys.data();
  for (int k = 0; k < n; ++k) {
    A[k * n + k] += 1.0;
    for (int j = 1; j <= p; ++j) A[k * n + std::abs(k - j)] -= phi[j - 1];
    ws.rhs[k] = c(k);
  }
  if (!SolveDense(n, A, ws.rhs.data())) return false;
  for (int k = 0; k < n; ++k) gamma[k] = ws.rhs[k];
  for (int k = n; k < ngam; ++k) {
    double s = c(k);
    for (int t = 0; t < nnz; ++t) s += phi[nz[t]] * gamma[k - 1 - nz[t]];
    gamma[k] = s;
  }
  for (int k = 0; k < ngam; ++k)
    if (!std::isfinite(gamma[k])) return false;
  // A non-stationary AR part can still give a solvable system; its "variance" is not positive.
  return gamma[0] > 0;
}

bool StationaryFirstColumn(std::span<const double> phi, std::span<const double> theta, ArmaWorkspace& ws,
                           double* col) {
  const int p = static_cast<int>(phi.size()), q = static_cast<int>(theta.size());
  const int r = std::max(p, q + 1);
  if (!ArmaAutocovariance(phi, theta, r - 1, ws)) return false;
  const double* gamma = ws.gamma.data();
  const double* psi = ws.psi.data();
  col[0] = gamma[0];
  // Cov(y_t, a_t[k]) with a_t[k] = sum_{m=0}^{r-1-k} (phi_{k+1+m} y_{t-1-m} + theta_{k+m} e_{t-m}).
  for (int k = 1; k < r; ++k) {
    double s = 0;
    for (int m = 0; m <= r - 1 - k; ++m) {
      const int ip = k + 1 + m, it = k + m;
      if (ip <= p) s += phi[ip - 1] * gamma[m + 1];
      if (it <= q) s += theta[it - 1] * psi[m];
    }
    col[k] = s;
  }
  return true;
}

bool StationaryCovariance(std::span<const double> phi, std::span<const double> theta, ArmaWorkspace& ws,
                          std::vector<double>& out) {
  const int p = static_cast<int>(phi.size()), q = static_cast<int>(theta.size());
  const int r = std::max(p, q + 1);
  ws.col.resize(static_cast<size_t>(r));
  if (!StationaryFirstColumn(phi, theta, ws, ws.col.data())) return false;
  out.assign(static_cast<size_t>(r * r), 0.0);
  const double* col = ws.col.data();
  auto ph = [&](int j) { return j <= p ? phi[j - 1] : 0.0; };   // phi_j, 1-based
  auto rr = [&](int i) { return i == 0 ? 1.0 : (i <= q ? theta[i - 1] : 0.0); };
  auto at = [&](int i, int j) { return (i >= r || j >= r) ? 0.0 : out[i * r + j]; };
  for (int k = 0; k < r; ++k) out[k * r] = out[k] = col[k];
  // Stationarity P = T P T' + R R', solved from the last row backwards given the first column.
  for (int i = r - 1; i >= 1; --i) {
    for (int j = r - 1; j >= i; --j) {
      const double v = ph(i + 1) * ph(j + 1) * col[0] + ph(i + 1) * (j + 1 < r ? col[j + 1] : 0.0) +
                       ph(j + 1) * (i + 1 < r ? col[i + 1] : 0.0) + at(i + 1, j + 1) + rr(i) * rr(j);
      out[i * r + j] = out[j * r + i] = v;
    }
  }
  return true;
}

double LikelihoodSums::Objective() const {
  const double s2 = ssq / nu;
  return 0.5 * (std::log(s2) + sumlog / nu);
}

LikelihoodSums ArmaLikelihood(std::span<const double> w, std::span<const double> phi, std::span<const double> theta,
                              ArmaWorkspace& ws) {
  LikelihoodSums out;
  const int p = static_cast<int>(phi.size()), q = static_cast<int>(theta.size());
  const int r = std::max(p, q + 1);
  ws.col.resize(static_cast<size_t>(r));
  if (!StationaryFirstColumn(phi, theta, ws, ws.col.data())) {
    out.ok = false;
    return out;
  }
  ws.a.assign(static_cast<size_t>(r), 0.0);
  ws.k.resize(static_cast<size_t>(r));
  ws.w.resize(static_cast<size_t>(r));
  ws.tw.resize(static_cast<size_t>(r));
  double* a = ws.a.data();
  double* K = ws.k.data();
  double* W = ws.w.data();
  double* tw = ws.tw.data();
  const double* col = ws.col.data();
  const double* ph = phi.data();
  NonZeros(phi, ws.nz_phi);
  const int* nz = ws.nz_phi.data();
  const int nnz = static_cast<int>(ws.nz_phi.size());
  // P_1 = Q0, so F_1 = Q0[0][0], K_1 = T Q0 e_1 and P_2 - P_1 = -K_1 K_1' / F_1 (rank one).
  double F = col[0];
  for (int i = 0; i < r; ++i) K[i] = (i < p ? ph[i] * col[0] : 0.0) + (i + 1 < r ? col[i + 1] : 0.0);
  for (int i = 0; i < r; ++i) W[i] = K[i];
  double M = -1.0 / F;
  const int n = static_cast<int>(w.size());
  double ssq = 0, sumlog = 0;
  int nu = 0;
  // log F is accumulated as a product, folded into sumlog every few steps (one log call
  // per 16 observations instead of one each).
  double prod = 1;
  int nprod = 0;
  int t = 0;
  for (; t < n; ++t) {
    const double v = w[t] - a[0];
    if (F < kDiffuseGain) {
      ++nu;
      ssq += v * v / F;
      prod *= F;
      if (++nprod == 16) {
        sumlog += std::log(prod);
        prod = 1;
        nprod = 0;
      }
    }
    // a_{t+1} = T a_t + K_t v_t / F_t
    StepState(a, ph, nz, nnz, r, K, v / F);
    // Chandrasekhar step: F_{t+1} = F_t + M w0^2, K_{t+1} = K_t + M w0 T W,
    // W_{t+1} = T W - (w0 / F_t) K_t, M_{t+1} = M F_t / F_{t+1}.
    const double w0 = W[0];
    for (int i = 0; i + 1 < r; ++i) tw[i] = W[i + 1];
    tw[r - 1] = 0;
    for (int t2 = 0; t2 < nnz; ++t2) tw[nz[t2]] += ph[nz[t2]] * w0;
    const double Fnew = F + M * w0 * w0;
    const double cw = w0 / F, ck = M * w0;
    double norm = 0;
    for (int i = 0; i < r; ++i) {
      const double kold = K[i];
      W[i] = tw[i] - cw * kold;
      K[i] = kold + ck * tw[i];
      norm += W[i] * W[i];
    }
    M = M * F / Fnew;
    F = Fnew;
    // Once the covariance has stopped moving the gain is constant: finish with the plain
    // recursion below.
    if (std::abs(M) * norm < 1e-15 * F) {
      ++t;
      break;
    }
  }
  if (t < n) {
    double ss = 0;
    const int count = n - t;
    const double invF = 1.0 / F;
    for (; t < n; ++t) {
      const double v = w[t] - a[0];
      ss += v * v;
      StepState(a, ph, nz, nnz, r, K, v * invF);
    }
    if (F < kDiffuseGain) {
      nu += count;
      ssq += ss * invF;
      sumlog += count * std::log(F);
    }
  }
  sumlog += std::log(prod);
  out.ssq = ssq;
  out.sumlog = sumlog;
  out.nu = nu;
  return out;
}

FullStateFilter::FullStateFilter(std::span<const double> phi, std::span<const double> theta,
                                 std::span<const double> delta, double kappa)
    : p_(static_cast<int>(phi.size())),
      q_(static_cast<int>(theta.size())),
      r_(std::max(p_, q_ + 1)),
      nd_(static_cast<int>(delta.size())),
      rd_(r_ + nd_),
      phi_(phi.begin(), phi.end()),
      theta_(theta.begin(), theta.end()),
      delta_(delta.begin(), delta.end()) {
  rvec_.assign(static_cast<size_t>(r_), 0.0);
  rvec_[0] = 1;
  for (int i = 1; i < r_; ++i) rvec_[i] = i <= q_ ? theta_[i - 1] : 0.0;
  ArmaWorkspace ws;
  std::vector<double> q0;
  ok_ = StationaryCovariance(phi_, theta_, ws, q0);
  Pn_.assign(static_cast<size_t>(rd_ * rd_), 0.0);
  if (ok_) {
    for (int i = 0; i < r_; ++i)
      for (int j = 0; j < r_; ++j) Pn_[i * rd_ + j] = q0[i * r_ + j];
  }
  for (int i = 0; i < nd_; ++i) Pn_[(r_ + i) * rd_ + r_ + i] = kappa;
  a_.assign(static_cast<size_t>(rd_), 0.0);
  P_.assign(static_cast<size_t>(rd_ * rd_), 0.0);
}

void FullStateFilter::ApplyT(const double* in, double* out) const {
  for (int i = 0; i < r_; ++i) out[i] = (i < p_ ? phi_[i] * in[0] : 0.0) + (i + 1 < r_ ? in[i + 1] : 0.0);
  if (nd_ > 0) {
    double s = in[0];
    for (int k = 0; k < nd_; ++k) s += delta_[k] * in[r_ + k];
    // The lag states shift: new y_{t-1} is the observation, older lags move down.
    for (int k = nd_ - 1; k >= 1; --k) out[r_ + k] = in[r_ + k - 1];
    out[r_] = s;
  }
}

void FullStateFilter::Propagate(const std::vector<double>& P, std::vector<double>& Pnew,
                                std::vector<double>& tmp) const {
  const int rd = rd_;
  tmp.resize(static_cast<size_t>(rd * rd));
  Pnew.resize(static_cast<size_t>(rd * rd));
  // tmp = T P, row by row.
  for (int i = 0; i < rd; ++i) {
    double* out = &tmp[i * rd];
    if (i < r_) {
      const double f = i < p_ ? phi_[i] : 0.0;
      const double* next = i + 1 < r_ ? &P[(i + 1) * rd] : nullptr;
      for (int j = 0; j < rd; ++j) out[j] = f * P[j] + (next ? next[j] : 0.0);
    } else if (i == r_) {
      for (int j = 0; j < rd; ++j) {
        double s = P[j];
        for (int k = 0; k < nd_; ++k) s += delta_[k] * P[(r_ + k) * rd + j];
        out[j] = s;
      }
    } else {
      for (int j = 0; j < rd; ++j) out[j] = P[(i - 1) * rd + j];
    }
  }
  // Pnew = tmp T' + V: row i of Pnew is T applied to row i of tmp. Pnew is symmetric, so
  // only the upper triangle is computed and then mirrored.
  for (int i = 0; i < rd; ++i) {
    const double* row = &tmp[i * rd];
    double* out = &Pnew[i * rd];
    for (int j = i; j < r_; ++j) out[j] = (j < p_ ? phi_[j] * row[0] : 0.0) + (j + 1 < r_ ? row[j + 1] : 0.0);
    if (nd_ > 0) {
      if (i <= r_) {
        double s = row[0];
        for (int k = 0; k < nd_; ++k) s += delta_[k] * row[r_ + k];
        out[r_] = s;
      }
      for (int k = std::max(1, i - r_); k < nd_; ++k) out[r_ + k] = row[r_ + k - 1];
    }
  }
  for (int i = 0; i < r_; ++i)
    for (int j = i; j < r_; ++j) Pnew[i * rd + j] += rvec_[i] * rvec_[j];
  for (int i = 0; i < rd; ++i)
    for (int j = 0; j < i; ++j) Pnew[i * rd + j] = Pnew[j * rd + i];
}

LikelihoodSums FullStateFilter::Run(std::span<const double> y, std::vector<double>* residuals) {
  LikelihoodSums out;
  if (!ok_) {
    out.ok = false;
    return out;
  }
  const int rd = rd_, r = r_;
  const int n = static_cast<int>(y.size());
  if (residuals) residuals->assign(static_cast<size_t>(n), kNaN);
  auto accumulate = [&](int t, double v, double F) {
    if (F < kDiffuseGain) {
      ++out.nu;
      out.ssq += v * v / F;
      out.sumlog += std::log(F);
    }
    if (residuals) (*residuals)[t] = v / std::sqrt(F);
  };
  // Full state (ARMA block + nd lags) and the reduced ARMA-only state. Once the last nd
  // observations are all present, the lag states are known exactly (zero variance), so the
  // filter continues on the ARMA block of dimension r with w_t = y_t - sum Delta_k y_{t-1-k};
  // a missing value switches back to the full state until nd observations follow it. The
  // numbers are those of the full filter (up to rounding) at a fraction of the work.
  std::vector<double> a(static_cast<size_t>(rd), 0.0), anew(static_cast<size_t>(rd)), M(static_cast<size_t>(rd));
  std::vector<double> P = P_, Pnew = Pn_, tmp;
  std::vector<double> ar(static_cast<size_t>(r)), anr(static_cast<size_t>(r)), Pr(static_cast<size_t>(r * r)),
      Pnr(static_cast<size_t>(r * r)), Mr(static_cast<size_t>(r));
  bool reduced = false;
  int observed_run = 0;  // consecutive observed values ending at t - 1
  auto ph = [&](int i) { return i < p_ ? phi_[i] : 0.0; };
  for (int t = 0; t < n; ++t) {
    const bool missing = std::isnan(y[t]);
    if (!reduced && nd_ > 0 && t >= nd_ && observed_run >= nd_ && !missing) {
      for (int i = 0; i < r; ++i) {
        ar[i] = a[i];
        for (int j = 0; j < r; ++j) Pr[i * r + j] = P[i * rd + j];
      }
      reduced = true;
    } else if (reduced && missing) {
      // Back to the full state: the filtered lags hold y_{t-2}, ..., y_{t-1-nd}.
      std::fill(a.begin(), a.end(), 0.0);
      std::fill(P.begin(), P.end(), 0.0);
      for (int i = 0; i < r; ++i) {
        a[i] = ar[i];
        for (int j = 0; j < r; ++j) P[i * rd + j] = Pr[i * r + j];
      }
      for (int k = 0; k < nd_; ++k) a[r + k] = y[t - 2 - k];
      reduced = false;
    }
    if (reduced) {
      double w = y[t];
      for (int k = 0; k < nd_; ++k) w -= delta_[k] * y[t - 1 - k];
      for (int i = 0; i < r; ++i) anr[i] = ph(i) * ar[0] + (i + 1 < r ? ar[i + 1] : 0.0);
      // Pnew = T P T' + R R' for the ARMA transition (symmetric: upper triangle, mirrored).
      for (int i = 0; i < r; ++i) {
        const double fi = ph(i);
        for (int j = i; j < r; ++j) {
          const double fj = ph(j);
          double v = fi * fj * Pr[0] + rvec_[i] * rvec_[j];
          if (j + 1 < r) v += fi * Pr[j + 1];
          if (i + 1 < r) v += fj * Pr[(i + 1) * r];
          if (j + 1 < r) v += Pr[(i + 1) * r + j + 1];  // i < j, so i + 1 < r here
          Pnr[i * r + j] = Pnr[j * r + i] = v;
        }
      }
      const double v = w - anr[0];
      for (int i = 0; i < r; ++i) Mr[i] = Pnr[i * r];
      const double F = Mr[0];
      accumulate(t, v, F);
      const double g = v / F;
      for (int i = 0; i < r; ++i) ar[i] = anr[i] + Mr[i] * g;
      for (int i = 0; i < r; ++i) {
        const double mi = Mr[i] / F;
        for (int j = i; j < r; ++j) Pr[i * r + j] = Pr[j * r + i] = Pnr[i * r + j] - mi * Mr[j];
      }
    } else {
      ApplyT(a.data(), anew.data());
      if (t > 0) Propagate(P, Pnew, tmp);
      if (!missing) {
        double v = y[t] - anew[0];
        for (int k = 0; k < nd_; ++k) v -= delta_[k] * anew[r + k];
        for (int i = 0; i < rd; ++i) {
          double s = Pnew[i * rd];
          for (int k = 0; k < nd_; ++k) s += Pnew[i * rd + r + k] * delta_[k];
          M[i] = s;
        }
        double F = M[0];
        for (int k = 0; k < nd_; ++k) F += delta_[k] * M[r + k];
        accumulate(t, v, F);
        for (int i = 0; i < rd; ++i) a[i] = anew[i] + M[i] * v / F;
        for (int i = 0; i < rd; ++i) {
          const double mi = M[i] / F;
          for (int j = i; j < rd; ++j) P[i * rd + j] = P[j * rd + i] = Pnew[i * rd + j] - mi * M[j];
        }
      } else {
        a = anew;
        P = Pnew;
      }
    }
    observed_run = missing ? 0 : observed_run + 1;
  }
  if (reduced) {
    // The full state: ARMA block, then the lags y_{n-2}, ..., y_{n-1-nd}, known exactly.
    a_.assign(static_cast<size_t>(rd), 0.0);
    P_.assign(static_cast<size_t>(rd * rd), 0.0);
    for (int i = 0; i < r; ++i) {
      a_[i] = ar[i];
      for (int j = 0; j < r; ++j) P_[i * rd + j] = Pr[i * r + j];
    }
    for (int k = 0; k < nd_; ++k) a_[r + k] = y[n - 2 - k];
  } else {
    a_ = std::move(a);
    P_ = std::move(P);
  }
  return out;
}

void FullStateFilter::SetState(std::vector<double> a, std::vector<double> P) {
  a_ = std::move(a);
  P_ = std::move(P);
}

void FullStateFilter::Forecast(int horizon, std::vector<double>& mean, std::vector<double>& var) const {
  const int rd = rd_;
  mean.assign(static_cast<size_t>(horizon), 0.0);
  var.assign(static_cast<size_t>(horizon), 0.0);
  std::vector<double> a = a_, anew(static_cast<size_t>(rd)), P = P_, Pnew, tmp;
  for (int h = 0; h < horizon; ++h) {
    ApplyT(a.data(), anew.data());
    std::swap(a, anew);
    Propagate(P, Pnew, tmp);
    std::swap(P, Pnew);
    double fc = a[0];
    for (int k = 0; k < nd_; ++k) fc += delta_[k] * a[r_ + k];
    // Z P Z'
    double v = 0;
    for (int i = 0; i < rd; ++i) {
      const double zi = i == 0 ? 1.0 : (i >= r_ ? delta_[i - r_] : 0.0);
      if (zi == 0) continue;
      double s = P[i * rd];
      for (int k = 0; k < nd_; ++k) s += P[i * rd + r_ + k] * delta_[k];
      v += zi * s;
    }
    mean[h] = fc;
    var[h] = v;
  }
}

double ConditionalSumOfSquares(std::span<const double> x, const Orders& o, std::span<const double> phi,
                               std::span<const double> theta, int ncond, std::vector<double>& work,
                               std::vector<double>* residuals) {
  const int n = static_cast<int>(x.size());
  const int p = static_cast<int>(phi.size()), q = static_cast<int>(theta.size());
  // work holds the differenced series (first n entries) and the residuals (next n).
  work.resize(static_cast<size_t>(2 * n));
  double* w = work.data();
  double* res = w + n;
  std::copy(x.begin(), x.end(), w);
  for (int i = 0; i < o.d; ++i)
    for (int l = n - 1; l > 0; --l) w[l] -= w[l - 1];
  for (int i = 0; i < o.D; ++i)
    for (int l = n - 1; l >= o.m; --l) w[l] -= w[l - o.m];
  for (int l = 0; l < std::min(ncond, n); ++l) res[l] = 0;
  double ssq = 0;
  int nu = 0;
  // Expanded seasonal polynomials are mostly zeros. With finite data, subtracting 0 * w
  // changes nothing, so only the nonzero coefficients are visited (same numbers, in the
  // same order); with missing values 0 * NaN matters and the dense loops run.
  bool finite = p <= kMaxSparse && q <= kMaxSparse;
  for (int l = 0; l < n && finite; ++l) finite = std::isfinite(w[l]);
  if (finite) {
    int nzp[kMaxSparse], nzq[kMaxSparse];
    int np = 0, nq = 0;
    for (int j = 0; j < p; ++j)
      if (phi[j] != 0) nzp[np++] = j;
    for (int j = 0; j < q; ++j)
      if (theta[j] != 0) nzq[nq++] = j;
    for (int l = ncond; l < n; ++l) {
      double tmp = w[l];
      for (int t = 0; t < np; ++t) tmp -= phi[nzp[t]] * w[l - nzp[t] - 1];
      const int jmax = std::min(l - ncond, q);
      for (int t = 0; t < nq && nzq[t] < jmax; ++t) tmp -= theta[nzq[t]] * res[l - nzq[t] - 1];
      res[l] = tmp;
      if (!std::isnan(tmp)) {
        ++nu;
        ssq += tmp * tmp;
      }
    }
  } else {
    for (int l = ncond; l < n; ++l) {
      double tmp = w[l];
      for (int j = 0; j < p; ++j) tmp -= phi[j] * w[l - j - 1];
      const int jmax = std::min(l - ncond, q);
      for (int j = 0; j < jmax; ++j) tmp -= theta[j] * res[l - j - 1];
      res[l] = tmp;
      if (!std::isnan(tmp)) {
        ++nu;
        ssq += tmp * tmp;
      }
    }
  }
  if (residuals) residuals->assign(res, res + n);
  return nu > 0 ? ssq / nu : kNaN;
}

std::vector<double> Difference(std::span<const double> x, int d, int D, int m) {
  std::vector<double> w(x.begin(), x.end());
  for (int i = 0; i < d; ++i) {
    if (w.size() <= 1) return {};
    for (size_t l = 0; l + 1 < w.size(); ++l) w[l] = w[l + 1] - w[l];
    w.pop_back();
  }
  for (int i = 0; i < D; ++i) {
    if (static_cast<int>(w.size()) <= m) return {};
    for (size_t l = 0; l + m < w.size(); ++l) w[l] = w[l + m] - w[l];
    w.resize(w.size() - m);
  }
  return w;
}

}  // namespace almanac::models::arima
