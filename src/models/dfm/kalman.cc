#include "models/dfm/kalman.h"

#include <algorithm>
#include <cmath>


namespace almanac::models::dfm {
namespace {

constexpr double kLog2Pi = 1.8378770664093453;  // log(2 pi)
// An observation whose prediction-error variance is below kSkipVariance is already known
// exactly from the state (e.g. at t = 0 under an initial covariance that is the smoothed
// covariance of the previous EM step, singular in the observed directions): it carries no
// information and is skipped, as statsmodels' univariate filter does. Below -kBreakdown the
// covariance has lost positive semi-definiteness: a numerical breakdown.
constexpr double kSkipVariance = 1e-12;
constexpr double kBreakdown = 1e-8;

struct ObsStep {
  int i;
  double v, f;
};

// The observations used at one time step and their vectors M = P z' (columns of one
// allocation per step rather than one per observation).
struct TimeStep {
  std::vector<ObsStep> obs;
  Eigen::MatrixXd M;  // m x k, the first obs.size() columns used
};

}  // namespace

std::vector<SparseRow> SparseRows(const Eigen::MatrixXd& Z) {
  std::vector<SparseRow> rows(static_cast<size_t>(Z.rows()));
  for (int i = 0; i < Z.rows(); ++i)
    for (int j = 0; j < Z.cols(); ++j)
      if (Z(i, j) != 0) {
        rows[static_cast<size_t>(i)].idx.push_back(j);
        rows[static_cast<size_t>(i)].val.push_back(Z(i, j));
      }
  return rows;
}

namespace {

// M = P z' for a sparse z and a symmetric P of which only the lower triangle is read (the
// filter's rank-one updates within a time step touch only the lower triangle, half the work).
template <typename Vec>
void TimesSparse(const Eigen::MatrixXd& P, const SparseRow& z, Vec&& M) {
  const int m = static_cast<int>(P.rows());
  M.setZero();  // M is sized m by the caller
  for (size_t q = 0; q < z.idx.size(); ++q) {
    const int j = z.idx[q];
    M.tail(m - j).noalias() += P.col(j).tail(m - j) * z.val[q];
    M.head(j).noalias() += P.row(j).head(j).transpose() * z.val[q];
  }
}

// P <- P - M M' / f on the lower triangle.
template <typename Vec>
void DowndateLower(Eigen::MatrixXd& P, const Vec& M, double f) {
  P.selfadjointView<Eigen::Lower>().rankUpdate(M, -1.0 / f);
}

// Copies the lower triangle of P to its upper triangle.
void MirrorLower(Eigen::MatrixXd& P) { P.triangularView<Eigen::StrictlyUpper>() = P.transpose(); }

// The nonzeros of each row of a sparse matrix (T has one or two per row: companion shifts,
// AR coefficients).
using SparseRowsList = std::vector<std::vector<std::pair<int, double>>>;
SparseRowsList RowsOf(const Eigen::SparseMatrix<double>& A) {
  SparseRowsList rows(static_cast<size_t>(A.rows()));
  for (int c = 0; c < A.outerSize(); ++c)
    for (Eigen::SparseMatrix<double>::InnerIterator it(A, c); it; ++it)
      rows[static_cast<size_t>(it.row())].emplace_back(c, it.value());
  return rows;
}

// out = A X A' for a symmetric X, with A given by its rows: entry (r, s) is
// sum over a_rc, a_sd of a_rc a_sd X(c, d). The lower triangle is computed and mirrored, so the
// result is exactly symmetric; O(m^2 nnz_r nnz_s) instead of dense or generic sparse products.
void Sandwich(const SparseRowsList& A, const Eigen::MatrixXd& X, Eigen::MatrixXd& out) {
  const int m = static_cast<int>(A.size());
  out.resize(m, m);
  for (int s = 0; s < m; ++s) {
    const auto& as = A[static_cast<size_t>(s)];
    for (int r = s; r < m; ++r) {
      double sum = 0;
      for (const auto& [c, v] : A[static_cast<size_t>(r)])
        for (const auto& [d, w] : as) sum += v * w * X(c, d);
      out(r, s) = sum;
    }
  }
  MirrorLower(out);
}

// P <- T P T' + RQR, exactly symmetric (RQR is passed symmetrized); TP is scratch.
void Predict(const SparseRowsList& T_rows, const Eigen::MatrixXd& RQR, Eigen::MatrixXd& P, Eigen::MatrixXd& TP) {
  Sandwich(T_rows, P, TP);
  P = TP + RQR;
}

std::vector<int> UniqueSeconds(const std::vector<std::pair<int, int>>& entries) {
  std::vector<int> cols;
  for (const auto& e : entries) cols.push_back(e.second);
  std::sort(cols.begin(), cols.end());
  cols.erase(std::unique(cols.begin(), cols.end()), cols.end());
  return cols;
}

}  // namespace

SmootherResult Smooth(const StateSpace& ss, const Eigen::MatrixXd& y, const SmootherOptions& options) {
  const int m = static_cast<int>(ss.a0.size());
  const int n = static_cast<int>(y.cols());
  const int k = static_cast<int>(y.rows());
  const bool entries = !options.cov_entries.empty();
  const bool state_cov = entries || options.state_cov;
  const bool lag_cov = entries ? !options.lag_entries.empty() : options.lag_cov;
  const auto rows = SparseRows(ss.Z);
  // Entry mode keeps, per step, only the columns T P_{t|t} e_c that the requested lag entries read.
  const std::vector<int> lag_cols = entries ? UniqueSeconds(options.lag_entries) : std::vector<int>{};
  std::vector<int> lag_col_pos(static_cast<size_t>(m), -1);
  for (size_t c = 0; c < lag_cols.size(); ++c) lag_col_pos[static_cast<size_t>(lag_cols[c])] = static_cast<int>(c);
  SmootherResult out;
  std::vector<Eigen::VectorXd> a_pred(static_cast<size_t>(n));
  std::vector<Eigen::MatrixXd> P_pred(static_cast<size_t>(n));
  // Full mode: P_{t|t}; entry mode: (T P_{t|t})[:, lag_cols].
  std::vector<Eigen::MatrixXd> P_filt(lag_cov ? static_cast<size_t>(n) : 0);
  std::vector<TimeStep> steps(static_cast<size_t>(n));
  const Eigen::SparseMatrix<double> Tt = ss.T.transpose();
  const SparseRowsList T_rows = RowsOf(ss.T), Tt_rows = RowsOf(Tt);
  const Eigen::MatrixXd RQR = 0.5 * (ss.RQR + ss.RQR.transpose());

  Eigen::VectorXd a = ss.a0;
  Eigen::MatrixXd P = ss.P0;
  Eigen::MatrixXd TP(m, m);
  double loglik = 0;
  for (int t = 0; t < n; ++t) {
    a_pred[static_cast<size_t>(t)] = a;
    P_pred[static_cast<size_t>(t)] = P;
    auto& st = steps[static_cast<size_t>(t)];
    st.M.resize(m, k);
    for (int i = 0; i < k; ++i) {
      const double yi = y(i, t);
      if (std::isnan(yi)) continue;
      const auto& z = rows[static_cast<size_t>(i)];
      ObsStep s;
      s.i = i;
      auto M = st.M.col(static_cast<int>(st.obs.size()));
      TimesSparse(P, z, M);
      s.f = 0;
      for (size_t q = 0; q < z.idx.size(); ++q) s.f += z.val[q] * M(z.idx[q]);
      if (!(s.f > kSkipVariance)) {
        if (!(s.f > -kBreakdown)) out.ok = false;
        continue;
      }
      s.v = yi - z.Dot(a);
      a.noalias() += M * (s.v / s.f);
      DowndateLower(P, M, s.f);
      loglik -= 0.5 * (kLog2Pi + std::log(s.f) + s.v * s.v / s.f);
      st.obs.push_back(s);
    }
    MirrorLower(P);
    if (lag_cov) {
      auto& pf = P_filt[static_cast<size_t>(t)];
      if (entries) {
        pf.resize(m, static_cast<int>(lag_cols.size()));
        for (size_t c = 0; c < lag_cols.size(); ++c) pf.col(static_cast<int>(c)) = ss.T * P.col(lag_cols[c]);
      } else {
        pf = P;
      }
    }
    a = ss.T * a;
    Predict(T_rows, RQR, P, TP);
  }
  out.loglik = loglik;

  out.a.resize(m, n);
  if (entries) {
    out.V.resize(1);
    out.cov_values.assign(static_cast<size_t>(n), Eigen::VectorXd(static_cast<int>(options.cov_entries.size())));
    if (lag_cov && n > 1)
      out.lag_values.assign(static_cast<size_t>(n - 1), Eigen::VectorXd(static_cast<int>(options.lag_entries.size())));
  } else {
    if (options.state_cov) out.V.resize(static_cast<size_t>(n));
    if (options.lag_cov && n > 1) out.Vlag.resize(static_cast<size_t>(n - 1));
  }
  Eigen::VectorXd r = Eigen::VectorXd::Zero(m);
  Eigen::MatrixXd N = Eigen::MatrixXd::Zero(m, m);
  Eigen::MatrixXd N_next;  // N_{t} in DK notation: the N of time t+1 before stepping back
  Eigen::MatrixXd NP(m, m), NP_next(m, m), NT(m, m);  // NP_next: N P of time t+1 (entry mode)
  Eigen::VectorXd u(m);
  const bool need_N = state_cov || lag_cov;
  for (int t = n - 1; t >= 0; --t) {
    const auto& st = steps[static_cast<size_t>(t)];
    for (int j = static_cast<int>(st.obs.size()) - 1; j >= 0; --j) {
      const ObsStep* it = &st.obs[static_cast<size_t>(j)];
      const auto M = st.M.col(j);
      const auto& z = rows[static_cast<size_t>(it->i)];
      const double Mr = M.dot(r);
      const double c = (it->v - Mr) / it->f;
      for (size_t q = 0; q < z.idx.size(); ++q) r(z.idx[q]) += z.val[q] * c;
      if (need_N) {
        // N <- N - (z u' + u z') / f + z z' (M'u / f^2 + 1 / f), u = N M: z is sparse, so only
        // the rows and columns of its nonzeros change.
        u.noalias() = N * M;
        const double Mu = M.dot(u);
        for (size_t q = 0; q < z.idx.size(); ++q) {
          const double zq = z.val[q] / it->f;
          N.row(z.idx[q]) -= zq * u.transpose();
          N.col(z.idx[q]) -= zq * u;
        }
        const double w = Mu / (it->f * it->f) + 1.0 / it->f;
        for (size_t q = 0; q < z.idx.size(); ++q)
          for (size_t q2 = 0; q2 < z.idx.size(); ++q2) N(z.idx[q], z.idx[q2]) += z.val[q] * z.val[q2] * w;
      }
    }
    const auto& Pt = P_pred[static_cast<size_t>(t)];
    out.a.col(t) = a_pred[static_cast<size_t>(t)] + Pt * r;
    if (need_N) {
      NP.noalias() = N * Pt;
      if (entries) {
        if (t == 0) {
          Eigen::MatrixXd V = Pt - Pt * NP;
          out.V[0] = 0.5 * (V + V.transpose());
        }
        // V = P - P N P. Pt is exactly symmetric (symmetrized after each prediction), so its
        // rows are read as (contiguous) columns.
        auto& cv = out.cov_values[static_cast<size_t>(t)];
        for (size_t j = 0; j < options.cov_entries.size(); ++j) {
          const auto [ri, ci] = options.cov_entries[j];
          cv(static_cast<int>(j)) = Pt(ri, ci) - Pt.col(ri).dot(NP.col(ci));
        }
        if (lag_cov && t < n - 1) {
          // Vlag(r, c) = (T P_{t|t})(r, c) - (P_{t+1} N_t)(r, :) (T P_{t|t})(:, c), and
          // P_{t+1} N_t is the transpose of the N P of the step before (both symmetric): its
          // row r is that product's column r, so no further m x m product is needed.
          const auto& TPf = P_filt[static_cast<size_t>(t)];
          auto& lv = out.lag_values[static_cast<size_t>(t)];
          for (size_t j = 0; j < options.lag_entries.size(); ++j) {
            const auto [ri, ci] = options.lag_entries[j];
            const int c = lag_col_pos[static_cast<size_t>(ci)];
            lv(static_cast<int>(j)) = TPf(ri, c) - NP_next.col(ri).dot(TPf.col(c));
          }
        }
        NP.swap(NP_next);
      } else {
        if (options.state_cov) {
          Eigen::MatrixXd V = Pt - Pt * NP;
          out.V[static_cast<size_t>(t)] = 0.5 * (V + V.transpose());
        }
        if (options.lag_cov && t < n - 1) {
          // Cov(alpha_t, alpha_{t+1}) = P_{t|t} T' (I - N_t P_{t+1}); we store its transpose.
          const auto& P1 = P_pred[static_cast<size_t>(t + 1)];
          Eigen::MatrixXd TPf = ss.T * P_filt[static_cast<size_t>(t)];  // T P_{t|t}
          Eigen::MatrixXd left = Eigen::MatrixXd::Identity(m, m) - P1 * N_next;
          out.Vlag[static_cast<size_t>(t)].noalias() = left * TPf;
        }
      }
      if (!entries && options.lag_cov) N_next = N;
    }
    if (t > 0) {
      r = Tt * r;
      if (need_N) {
        Sandwich(Tt_rows, N, NT);  // T' N T, exactly symmetric
        N.swap(NT);
      }
    }
  }
  return out;
}

LinearSmoother::LinearSmoother(const StateSpace& ss, const Eigen::MatrixXd& pattern)
    : ss_(ss), rows_(SparseRows(ss.Z)) {
  n_ = static_cast<int>(pattern.cols());
  const int k = static_cast<int>(pattern.rows());
  Eigen::MatrixXd P = ss.P0;
  Eigen::MatrixXd TP;
  const SparseRowsList T_rows = RowsOf(ss.T);
  const Eigen::MatrixXd RQR = 0.5 * (ss.RQR + ss.RQR.transpose());
  first_obs_.reserve(static_cast<size_t>(n_) + 1);
  P_.reserve(static_cast<size_t>(n_));
  for (int t = 0; t < n_; ++t) {
    first_obs_.push_back(static_cast<int>(obs_.size()));
    P_.push_back(P);
    for (int i = 0; i < k; ++i) {
      if (std::isnan(pattern(i, t))) continue;
      Obs o{t, i, 0, Eigen::VectorXd(P.rows())};
      TimesSparse(P, rows_[static_cast<size_t>(i)], o.M);
      o.f = rows_[static_cast<size_t>(i)].Dot(o.M);
      if (!(o.f > kSkipVariance)) {
        if (!(o.f > -kBreakdown)) ok_ = false;
        continue;
      }
      DowndateLower(P, o.M, o.f);
      obs_.push_back(std::move(o));
    }
    MirrorLower(P);
    Predict(T_rows, RQR, P, TP);
  }
  first_obs_.push_back(static_cast<int>(obs_.size()));
}

Eigen::VectorXd LinearSmoother::StateAt(const Eigen::MatrixXd& y, const Eigen::VectorXd& a0, int t) const {
  // Forward: the predicted mean at t and the innovations from t on. With a zero initial mean
  // the filter stays exactly zero until the first nonzero datum, so it starts there (or at t):
  // a news weight, a unit vector at a recent release, costs a pass over the last months only.
  Eigen::VectorXd a = a0;
  Eigen::VectorXd a_t;
  std::vector<double> v(obs_.size(), 0.0);
  int from = 0;
  if (a0.isZero(0)) {
    from = std::min(t, n_);
    for (int s = 0; s < from; ++s) {
      bool nonzero = false;
      for (int j = first_obs_[static_cast<size_t>(s)]; j < first_obs_[static_cast<size_t>(s) + 1] && !nonzero; ++j)
        nonzero = y(obs_[static_cast<size_t>(j)].i, s) != 0;
      if (nonzero) {
        from = s;
        break;
      }
    }
  }
  for (int s = from; s < n_; ++s) {
    if (s == t) a_t = a;
    for (int j = first_obs_[static_cast<size_t>(s)]; j < first_obs_[static_cast<size_t>(s) + 1]; ++j) {
      const auto& o = obs_[static_cast<size_t>(j)];
      const double vj = y(o.i, s) - rows_[static_cast<size_t>(o.i)].Dot(a);
      v[static_cast<size_t>(j)] = vj;
      a.noalias() += o.M * (vj / o.f);
    }
    a = ss_.T * a;
  }
  if (t >= n_) return a_t;  // not reached: callers pass t < n
  // Backward to t.
  Eigen::VectorXd r = Eigen::VectorXd::Zero(a.size());
  const Eigen::SparseMatrix<double> Tt = ss_.T.transpose();
  for (int s = n_ - 1; s >= t; --s) {
    for (int j = first_obs_[static_cast<size_t>(s) + 1] - 1; j >= first_obs_[static_cast<size_t>(s)]; --j) {
      const auto& o = obs_[static_cast<size_t>(j)];
      const double Mr = o.M.dot(r);
      const auto& z = rows_[static_cast<size_t>(o.i)];
      const double c = (v[static_cast<size_t>(j)] - Mr) / o.f;
      for (size_t q = 0; q < z.idx.size(); ++q) r(z.idx[q]) += z.val[q] * c;
    }
    if (s > t) r = Tt * r;
  }
  return a_t + P_[static_cast<size_t>(t)] * r;
}

}  // namespace almanac::models::dfm
