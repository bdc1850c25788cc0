// Mixed-frequency dynamic factor model: layout, validation, starting values, EM (Banbura and
// Modugno 2014, with statsmodels DynamicFactorMQ's M step and EM initialization), smoothing and
// nowcasts. The news decomposition is in news.cc; docs/nowcasting.md explains the model.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Dense>
#include <Eigen/Eigenvalues>

#include "almanac/models/nowcast.h"
#include "models/dfm/dfm_internal.h"
#include "models/dfm/kalman.h"

namespace almanac::models {
namespace dfm {
namespace {

std::string Num(double v) { return FormatDouble(v); }

bool IsQuarterEnd(Period monthly) { return monthly.SeasonIndex() % 3 == 2; }

// Stationary covariance of x_{t+1} = T x_t + e, Var e = RQR, by doubling. Empty when T is not
// stable (the iteration does not settle).
std::optional<Eigen::MatrixXd> StationaryCov(const Eigen::MatrixXd& T, const Eigen::MatrixXd& RQR) {
  Eigen::MatrixXd P = RQR;
  Eigen::MatrixXd A = T;
  for (int it = 0; it < 200; ++it) {
    Eigen::MatrixXd AP = A * P;
    P += AP * A.transpose();
    A = (A * A).eval();
    const double norm = A.cwiseAbs().maxCoeff();
    if (!std::isfinite(norm) || !P.allFinite()) return std::nullopt;
    if (norm < 1e-16) return 0.5 * (P + P.transpose());
  }
  return std::nullopt;
}

double SpectralRadius(const Eigen::MatrixXd& A) {
  if (A.size() == 0) return 0;
  Eigen::EigenSolver<Eigen::MatrixXd> es(A, false);
  return es.eigenvalues().cwiseAbs().maxCoeff();
}

Eigen::MatrixXd Companion(const Eigen::MatrixXd& A, int k, int p) {
  Eigen::MatrixXd C = Eigen::MatrixXd::Zero(k * p, k * p);
  C.topRows(k) = A;
  if (p > 1) C.bottomLeftCorner(k * (p - 1), k * (p - 1)).setIdentity();
  return C;
}

std::vector<std::vector<double>> ToRows(const Eigen::MatrixXd& M) {
  std::vector<std::vector<double>> out(static_cast<size_t>(M.rows()));
  for (int i = 0; i < M.rows(); ++i)
    for (int j = 0; j < M.cols(); ++j) out[static_cast<size_t>(i)].push_back(M(i, j));
  return out;
}

Result<Eigen::MatrixXd> FromRows(const std::vector<std::vector<double>>& rows, int r, int c, const std::string& what) {
  if (static_cast<int>(rows.size()) != r) return InvalidArgumentError(what + ": expected " + std::to_string(r) + " rows");
  Eigen::MatrixXd M(r, c);
  for (int i = 0; i < r; ++i) {
    if (static_cast<int>(rows[static_cast<size_t>(i)].size()) != c)
      return InvalidArgumentError(what + ": expected " + std::to_string(c) + " columns");
    for (int j = 0; j < c; ++j) M(i, j) = rows[static_cast<size_t>(i)][static_cast<size_t>(j)];
  }
  if (!M.allFinite()) return InvalidArgumentError(what + ": values must be finite");
  return M;
}

// Linear interpolation of the observed values, the ends filled with the nearest value
// (pandas' interpolate().fillna(method="backfill"), as statsmodels' starting values).
Eigen::VectorXd Interpolated(const Eigen::VectorXd& y) {
  Eigen::VectorXd out = y;
  const int n = static_cast<int>(y.size());
  int prev = -1;
  for (int t = 0; t < n; ++t) {
    if (std::isnan(y(t))) continue;
    if (prev < 0) {
      for (int s = 0; s < t; ++s) out(s) = y(t);
    } else {
      for (int s = prev + 1; s < t; ++s) out(s) = y(prev) + (y(t) - y(prev)) * (s - prev) / double(t - prev);
    }
    prev = t;
  }
  if (prev >= 0)
    for (int s = prev + 1; s < n; ++s) out(s) = y(prev);
  return out;
}

}  // namespace

StateSpace BuildStateSpace(const Layout& L, const Params& p, const Eigen::VectorXd& a0, const Eigen::MatrixXd& P0) {
  const int m = L.num_states;
  StateSpace ss;
  ss.Z = Eigen::MatrixXd::Zero(L.num_vars, m);
  for (int i = 0; i < L.num_vars; ++i) {
    const bool q = L.quarterly[static_cast<size_t>(i)];
    for (int f : L.var_factors[static_cast<size_t>(i)]) {
      if (q) {
        for (int l = 0; l < 5; ++l) ss.Z(i, L.FactorState(f, l)) = kTent[l] * p.loadings(i, f);
      } else {
        ss.Z(i, L.FactorState(f, 0)) = p.loadings(i, f);
      }
    }
    const int e = L.idio_state[static_cast<size_t>(i)];
    if (q) {
      for (int l = 0; l < 5; ++l) ss.Z(i, e + l) = kTent[l];
    } else {
      ss.Z(i, e) = 1;
    }
  }
  std::vector<Eigen::Triplet<double>> trip;
  ss.RQR = Eigen::MatrixXd::Zero(m, m);
  for (size_t b = 0; b < L.blocks.size(); ++b) {
    const auto& B = L.blocks[b];
    for (int i = 0; i < B.k; ++i)
      for (int j = 0; j < B.k * B.p; ++j) {
        const double v = p.factor_ar[b](i, j);
        if (v != 0) trip.emplace_back(B.offset + i, B.offset + j, v);
      }
    for (int j = B.k; j < B.k * B.lags; ++j) trip.emplace_back(B.offset + j, B.offset + j - B.k, 1.0);
    ss.RQR.block(B.offset, B.offset, B.k, B.k) = p.factor_cov[b];
  }
  for (int i = 0; i < L.num_vars; ++i) {
    const int e = L.idio_state[static_cast<size_t>(i)];
    if (p.idio_ar(i) != 0) trip.emplace_back(e, e, p.idio_ar(i));
    ss.RQR(e, e) = p.idio_var(i);
    if (L.quarterly[static_cast<size_t>(i)])
      for (int l = 1; l < 5; ++l) trip.emplace_back(e + l, e + l - 1, 1.0);
  }
  ss.T.resize(m, m);
  ss.T.setFromTriplets(trip.begin(), trip.end());
  ss.a0 = a0;
  ss.P0 = P0;
  return ss;
}

Result<Layout> MakeLayout(const std::vector<std::string>& names, const std::vector<bool>& quarterly,
                          const DfmOptions& options) {
  Layout L;
  L.num_vars = static_cast<int>(names.size());
  L.quarterly = quarterly;
  L.var_factors.resize(names.size());
  std::map<std::string, int> index;
  for (size_t i = 0; i < names.size(); ++i) index[names[i]] = static_cast<int>(i);
  const bool any_q = std::any_of(quarterly.begin(), quarterly.end(), [](bool q) { return q; });
  if (options.blocks.empty()) return InvalidArgumentError("dfm: at least one factor block is needed");
  std::set<std::string> seen;
  int offset = 0;
  for (const auto& block : options.blocks) {
    if (block.name.empty()) return InvalidArgumentError("dfm: a factor block has an empty name");
    if (!seen.insert(block.name).second) return InvalidArgumentError("dfm: factor block '" + block.name + "' is repeated");
    if (block.factors < 1 || block.factors > 20)
      return InvalidArgumentError("dfm: block '" + block.name + "': factors must be in 1..20, got " +
                                  std::to_string(block.factors));
    if (block.order < 1 || block.order > 12)
      return InvalidArgumentError("dfm: block '" + block.name + "': order must be in 1..12, got " +
                                  std::to_string(block.order));
    Layout::Block B;
    B.name = block.name;
    B.k = block.factors;
    B.p = block.order;
    B.lags = any_q ? std::max(B.p, 5) : B.p;
    B.offset = offset;
    offset += B.k * B.lags;
    const int b = static_cast<int>(L.blocks.size());
    for (int j = 0; j < B.k; ++j) {
      const int f = L.num_factors++;
      B.factors.push_back(f);
      L.factor_block.push_back(b);
      L.factor_pos.push_back(j);
      L.factor_names.push_back(B.k == 1 ? block.name : block.name + "." + std::to_string(j + 1));
    }
    std::vector<int> members;
    if (block.variables.empty()) {
      for (int i = 0; i < L.num_vars; ++i) members.push_back(i);
    } else {
      for (const auto& v : block.variables) {
        auto it = index.find(v);
        if (it == index.end())
          return InvalidArgumentError("dfm: block '" + block.name + "' names unknown variable '" + v + "'");
        members.push_back(it->second);
      }
    }
    for (int i : members)
      for (int f : B.factors) {
        auto& vf = L.var_factors[static_cast<size_t>(i)];
        if (std::find(vf.begin(), vf.end(), f) == vf.end()) vf.push_back(f);
      }
    L.blocks.push_back(std::move(B));
  }
  for (int i = 0; i < L.num_vars; ++i) {
    auto& vf = L.var_factors[static_cast<size_t>(i)];
    if (vf.empty()) return InvalidArgumentError("dfm: variable '" + names[static_cast<size_t>(i)] + "' loads on no factor block");
    std::sort(vf.begin(), vf.end());
  }
  int num_monthly = 0;
  L.idio_state.resize(names.size());
  for (int i = 0; i < L.num_vars; ++i)
    if (!quarterly[static_cast<size_t>(i)]) L.idio_state[static_cast<size_t>(i)] = offset + num_monthly++;
  offset += num_monthly;
  for (int i = 0; i < L.num_vars; ++i)
    if (quarterly[static_cast<size_t>(i)]) {
      L.idio_state[static_cast<size_t>(i)] = offset;
      offset += 5;
    }
  L.num_states = offset;
  if (num_monthly == 0) return InvalidArgumentError("dfm: at least one monthly variable is needed");
  if (L.num_factors > num_monthly)
    return InvalidArgumentError("dfm: " + std::to_string(L.num_factors) + " factors cannot be identified from " +
                                std::to_string(num_monthly) + " monthly variables");
  return L;
}

Status ValidateData(const MixedFrequencyData& data) {
  if (data.names.empty()) return InvalidArgumentError("dfm: no variables");
  if (data.quarterly.size() != data.names.size() || data.values.size() != data.names.size())
    return InvalidArgumentError("dfm: names, quarterly flags and values differ in number");
  if (data.start.frequency() != Frequency::kMonthly)
    return InvalidArgumentError("dfm: the grid must start at a monthly period, got " + data.start.ToString());
  std::set<std::string> seen;
  for (size_t i = 0; i < data.names.size(); ++i) {
    const auto& name = data.names[i];
    if (!seen.insert(name).second) return InvalidArgumentError("dfm: variable '" + name + "' is repeated");
    if (data.values[i].size() != data.values[0].size())
      return InvalidArgumentError("dfm: variable '" + name + "' has " + std::to_string(data.values[i].size()) +
                                  " months, expected " + std::to_string(data.values[0].size()));
    for (size_t t = 0; t < data.values[i].size(); ++t) {
      const double v = data.values[i][t];
      const Period p = data.start + static_cast<int64_t>(t);
      if (std::isinf(v)) return InvalidArgumentError("dfm: variable '" + name + "' is infinite in " + p.ToString());
      if (data.quarterly[i] && !std::isnan(v) && !IsQuarterEnd(p))
        return InvalidArgumentError("dfm: quarterly variable '" + name + "' has a value in " + p.ToString() +
                                    ", which is not the last month of a quarter");
    }
  }
  return Status::Ok();
}

Params FromPublic(const Layout& L, const DfmParameters& pp) {
  Params p;
  p.loadings = Eigen::MatrixXd::Zero(L.num_vars, L.num_factors);
  for (int i = 0; i < L.num_vars; ++i)
    for (int f = 0; f < L.num_factors; ++f) p.loadings(i, f) = pp.loadings[static_cast<size_t>(i)][static_cast<size_t>(f)];
  for (size_t b = 0; b < L.blocks.size(); ++b) {
    const auto& B = L.blocks[b];
    p.factor_ar.push_back(*FromRows(pp.factor_ar[b], B.k, B.k * B.p, "factor_ar"));
    p.factor_cov.push_back(*FromRows(pp.factor_cov[b], B.k, B.k, "factor_cov"));
  }
  p.idio_ar = Eigen::Map<const Eigen::VectorXd>(pp.idio_ar.data(), L.num_vars);
  p.idio_var = Eigen::Map<const Eigen::VectorXd>(pp.idio_var.data(), L.num_vars);
  return p;
}

DfmParameters ToPublic(const Layout& L, const std::vector<std::string>& names, const Params& p) {
  DfmParameters pp;
  pp.variables = names;
  pp.factors = L.factor_names;
  pp.loadings = ToRows(p.loadings);
  for (size_t b = 0; b < L.blocks.size(); ++b) {
    pp.factor_ar.push_back(ToRows(p.factor_ar[b]));
    pp.factor_cov.push_back(ToRows(p.factor_cov[b]));
  }
  pp.idio_ar.assign(p.idio_ar.data(), p.idio_ar.data() + p.idio_ar.size());
  pp.idio_var.assign(p.idio_var.data(), p.idio_var.data() + p.idio_var.size());
  return pp;
}

Status CheckPublic(const Layout& L, const DfmParameters& pp) {
  auto bad = [](const std::string& what) { return InvalidArgumentError("dfm: start parameters: " + what); };
  if (static_cast<int>(pp.loadings.size()) != L.num_vars) return bad("loadings need one row per variable");
  for (const auto& row : pp.loadings)
    if (static_cast<int>(row.size()) != L.num_factors) return bad("loadings need one column per factor");
  if (pp.factor_ar.size() != L.blocks.size() || pp.factor_cov.size() != L.blocks.size())
    return bad("factor_ar and factor_cov need one entry per block");
  for (size_t b = 0; b < L.blocks.size(); ++b) {
    const auto& B = L.blocks[b];
    ALMANAC_RETURN_IF_ERROR(FromRows(pp.factor_ar[b], B.k, B.k * B.p, "dfm: start parameters: factor_ar of block " + B.name).status());
    ALMANAC_RETURN_IF_ERROR(FromRows(pp.factor_cov[b], B.k, B.k, "dfm: start parameters: factor_cov of block " + B.name).status());
  }
  if (static_cast<int>(pp.idio_ar.size()) != L.num_vars || static_cast<int>(pp.idio_var.size()) != L.num_vars)
    return bad("idio_ar and idio_var need one value per variable");
  for (int i = 0; i < L.num_vars; ++i) {
    if (!std::isfinite(pp.idio_ar[static_cast<size_t>(i)]) || !(pp.idio_var[static_cast<size_t>(i)] > 0))
      return bad("idiosyncratic AR coefficients must be finite and variances positive");
    for (double v : pp.loadings[static_cast<size_t>(i)])
      if (!std::isfinite(v)) return bad("loadings must be finite");
  }
  return Status::Ok();
}

namespace {

// Principal components, OLS loadings, VAR and AR(1) regressions (the recipe of statsmodels'
// start_params, with plain OLS in place of its SARIMAX start values).
Params StartValues(const Layout& L, const Eigen::MatrixXd& y) {
  const int k = L.num_vars, n = static_cast<int>(y.cols());
  Eigen::MatrixXd X(n, k);
  for (int i = 0; i < k; ++i) X.col(i) = Interpolated(y.row(i).transpose());
  Eigen::MatrixXd F(n, L.num_factors);
  for (int f = 0; f < L.num_factors; ++f) {
    std::vector<int> cols;
    for (int i = 0; i < k; ++i) {
      const auto& vf = L.var_factors[static_cast<size_t>(i)];
      if (!L.quarterly[static_cast<size_t>(i)] && std::find(vf.begin(), vf.end(), f) != vf.end()) cols.push_back(i);
    }
    if (cols.empty())
      for (int i = 0; i < k; ++i) {
        const auto& vf = L.var_factors[static_cast<size_t>(i)];
        if (std::find(vf.begin(), vf.end(), f) != vf.end()) cols.push_back(i);
      }
    Eigen::MatrixXd Xs(n, static_cast<int>(cols.size()));
    for (size_t c = 0; c < cols.size(); ++c) Xs.col(static_cast<int>(c)) = X.col(cols[c]);
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(Xs.transpose() * Xs);
    Eigen::VectorXd v = es.eigenvectors().col(Xs.cols() - 1);
    Eigen::VectorXd fac = Xs * v;
    F.col(f) = fac;
    for (size_t c = 0; c < cols.size(); ++c) X.col(cols[c]) -= fac * v(static_cast<int>(c));
  }
  Params p;
  p.loadings = Eigen::MatrixXd::Zero(k, L.num_factors);
  p.idio_ar = Eigen::VectorXd::Zero(k);
  p.idio_var = Eigen::VectorXd::Ones(k);
  for (int i = 0; i < k; ++i) {
    const auto& vf = L.var_factors[static_cast<size_t>(i)];
    const bool q = L.quarterly[static_cast<size_t>(i)];
    std::vector<int> rows;
    for (int t = q ? 4 : 0; t < n; ++t)
      if (!std::isnan(y(i, t))) rows.push_back(t);
    const int nf = static_cast<int>(vf.size());
    Eigen::MatrixXd R(static_cast<int>(rows.size()), nf);
    Eigen::VectorXd b(static_cast<int>(rows.size()));
    for (size_t r = 0; r < rows.size(); ++r) {
      const int t = rows[r];
      b(static_cast<int>(r)) = y(i, t);
      for (int j = 0; j < nf; ++j) {
        double g = 0;
        if (q) {
          for (int l = 0; l < 5; ++l) g += kTent[l] * F(t - l, vf[static_cast<size_t>(j)]);
        } else {
          g = F(t, vf[static_cast<size_t>(j)]);
        }
        R(static_cast<int>(r), j) = g;
      }
    }
    if (rows.size() > static_cast<size_t>(nf)) {
      Eigen::VectorXd coef = R.colPivHouseholderQr().solve(b);
      for (int j = 0; j < nf; ++j) p.loadings(i, vf[static_cast<size_t>(j)]) = coef(j);
      Eigen::VectorXd res = b - R * coef;
      // AR(1) of the residuals over consecutive observations.
      double sxy = 0, sxx = 0;
      for (size_t r = 1; r < rows.size(); ++r)
        if (rows[r] == rows[r - 1] + (q ? 3 : 1)) {
          sxy += res(static_cast<int>(r)) * res(static_cast<int>(r) - 1);
          sxx += res(static_cast<int>(r) - 1) * res(static_cast<int>(r) - 1);
        }
      const double var = res.squaredNorm() / static_cast<double>(res.size());
      if (q) {
        p.idio_ar(i) = 0;
        p.idio_var(i) = std::max(var / 19.0, 1e-5);  // Var of sum w_l e_{t-l}, e white: 19 sigma^2
      } else {
        const double phi = sxx > 0 ? std::clamp(sxy / sxx, -0.99, 0.99) : 0.0;
        p.idio_ar(i) = phi;
        p.idio_var(i) = std::max(var * (1 - phi * phi), 1e-5);
      }
    }
  }
  for (const auto& B : L.blocks) {
    const int kk = B.k, pp = B.p;
    Eigen::MatrixXd Yf(n - pp, kk), Xf(n - pp, kk * pp);
    for (int t = pp; t < n; ++t) {
      for (int j = 0; j < kk; ++j) {
        Yf(t - pp, j) = F(t, B.factors[static_cast<size_t>(j)]);
        for (int l = 0; l < pp; ++l) Xf(t - pp, l * kk + j) = F(t - 1 - l, B.factors[static_cast<size_t>(j)]);
      }
    }
    Eigen::MatrixXd A = Xf.colPivHouseholderQr().solve(Yf).transpose();  // k x kp
    Eigen::MatrixXd res = Yf - Xf * A.transpose();
    Eigen::MatrixXd Q = res.transpose() * res / static_cast<double>(res.rows());
    if (SpectralRadius(Companion(A, kk, pp)) >= 1 - 1e-6 || !A.allFinite()) {
      A.setZero();
      Eigen::MatrixXd Fb(n, kk);
      for (int j = 0; j < kk; ++j) Fb.col(j) = F.col(B.factors[static_cast<size_t>(j)]);
      Eigen::RowVectorXd mean = Fb.colwise().mean();
      Q = ((Fb.rowwise() - mean).transpose() * (Fb.rowwise() - mean) / static_cast<double>(n)).diagonal().asDiagonal();
    }
    p.factor_ar.push_back(A);
    p.factor_cov.push_back(0.5 * (Q + Q.transpose()));
  }
  return p;
}

// The entries of V_t and Vlag_t that the M step reads (the smoother computes only these): per
// variable, the covariances among the states it loads on (its factors, or their five lags, and
// its idiosyncratic state or states); the factor blocks' VAR moments; the idiosyncratic
// AR(1) moments.
struct EmEntries {
  std::vector<std::pair<int, int>> cov, lag;
  Eigen::MatrixXi cov_index, lag_index;  // m x m: the position in cov / lag, or -1

  explicit EmEntries(const Layout& L) {
    const int m = L.num_states;
    cov_index = Eigen::MatrixXi::Constant(m, m, -1);
    lag_index = Eigen::MatrixXi::Constant(m, m, -1);
    auto add_cov = [&](int i, int j) {
      if (cov_index(i, j) >= 0) return;
      cov_index(i, j) = cov_index(j, i) = static_cast<int>(cov.size());
      cov.emplace_back(i, j);
    };
    auto add_lag = [&](int i, int j) {
      if (lag_index(i, j) >= 0) return;
      lag_index(i, j) = static_cast<int>(lag.size());
      lag.emplace_back(i, j);
    };
    for (int i = 0; i < L.num_vars; ++i) {
      const std::vector<int> idx = VarStates(L, i);
      for (int a : idx)
        for (int b : idx) add_cov(a, b);
      const int e = L.idio_state[static_cast<size_t>(i)];
      add_cov(e, e);
      add_lag(e, e);
    }
    for (const auto& B : L.blocks) {
      const int kp = B.k * B.p;
      for (int a = 0; a < kp; ++a)
        for (int b = 0; b < kp; ++b) add_cov(B.offset + a, B.offset + b);
      for (int a = 0; a < B.k; ++a)
        for (int b = 0; b < kp; ++b) add_lag(B.offset + a, B.offset + b);
    }
  }

  // The states whose moments the loading regression of variable i reads, ascending.
  static std::vector<int> VarStates(const Layout& L, int i) {
    std::vector<int> idx;
    const bool q = L.quarterly[static_cast<size_t>(i)];
    const int e = L.idio_state[static_cast<size_t>(i)];
    for (int f : L.var_factors[static_cast<size_t>(i)]) {
      if (q) {
        for (int l = 0; l < 5; ++l) idx.push_back(L.FactorState(f, l));
      } else {
        idx.push_back(L.FactorState(f, 0));
      }
    }
    for (int l = 0; l < (q ? 5 : 1); ++l) idx.push_back(e + l);
    std::sort(idx.begin(), idx.end());
    idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
    return idx;
  }
};

struct Moments {
  const SmootherResult& s;
  const EmEntries& en;
  // E[alpha_t(i) alpha_t(j)]
  double E(int t, int i, int j) const {
    const int c = en.cov_index(i, j);
    ALMANAC_DCHECK(c >= 0);
    return s.cov_values[static_cast<size_t>(t)](c) + s.a(i, t) * s.a(j, t);
  }
  // E[alpha_{t+1}(i) alpha_t(j)]
  double E1(int t, int i, int j) const {
    const int c = en.lag_index(i, j);
    ALMANAC_DCHECK(c >= 0);
    return s.lag_values[static_cast<size_t>(t)](c) + s.a(i, t + 1) * s.a(j, t);
  }
};

// The M step of statsmodels' DynamicFactorMQ._em_maximization_step (missing-data version, with
// idiosyncratic AR(1) states): loadings by (restricted, for quarterly variables) least squares
// over the observed months, factor VARs and idiosyncratic AR(1)s from the smoothed moments.
Params MStep(const Layout& L, const EmEntries& en, const Eigen::MatrixXd& y, const SmootherResult& s,
             const Params& old) {
  const Moments mo{s, en};
  const int n = static_cast<int>(y.cols());
  Params p = old;
  for (int i = 0; i < L.num_vars; ++i) {
    const auto& vf = L.var_factors[static_cast<size_t>(i)];
    const int nf = static_cast<int>(vf.size());
    const bool q = L.quarterly[static_cast<size_t>(i)];
    const int e = L.idio_state[static_cast<size_t>(i)];
    // g = W alpha: the regressors (factor, or its tent-weighted lags) as rows of a selector.
    Eigen::MatrixXd W = Eigen::MatrixXd::Zero(nf, L.num_states);
    Eigen::RowVectorXd we = Eigen::RowVectorXd::Zero(L.num_states);  // the idiosyncratic part
    for (int j = 0; j < nf; ++j) {
      if (q) {
        for (int l = 0; l < 5; ++l) W(j, L.FactorState(vf[static_cast<size_t>(j)], l)) = kTent[l];
      } else {
        W(j, L.FactorState(vf[static_cast<size_t>(j)], 0)) = 1;
      }
    }
    if (q) {
      for (int l = 0; l < 5; ++l) we(e + l) = kTent[l];
    } else {
      we(e) = 1;
    }
    std::vector<int> idx;
    for (int c = 0; c < L.num_states; ++c)
      if (W.col(c).any() || we(c) != 0) idx.push_back(c);
    Eigen::MatrixXd Ws(nf, static_cast<int>(idx.size()));
    Eigen::RowVectorXd wes(static_cast<int>(idx.size()));
    for (size_t c = 0; c < idx.size(); ++c) {
      Ws.col(static_cast<int>(c)) = W.col(idx[c]);
      wes(static_cast<int>(c)) = we(idx[c]);
    }
    Eigen::MatrixXd A = Eigen::MatrixXd::Zero(nf, nf);
    Eigen::VectorXd B = Eigen::VectorXd::Zero(nf);
    Eigen::MatrixXd Es(static_cast<int>(idx.size()), static_cast<int>(idx.size()));
    Eigen::VectorXd as(static_cast<int>(idx.size()));
    bool any = false;
    for (int t = 0; t < n; ++t) {
      if (std::isnan(y(i, t))) continue;
      any = true;
      for (size_t a = 0; a < idx.size(); ++a) {
        as(static_cast<int>(a)) = s.a(idx[a], t);
        for (size_t b = 0; b < idx.size(); ++b) Es(static_cast<int>(a), static_cast<int>(b)) = mo.E(t, idx[a], idx[b]);
      }
      A.noalias() += Ws * Es * Ws.transpose();
      B.noalias() += y(i, t) * (Ws * as) - Ws * (Es * wes.transpose());
    }
    if (!any) continue;
    Eigen::VectorXd lam = A.ldlt().solve(B);
    for (int j = 0; j < nf; ++j) p.loadings(i, vf[static_cast<size_t>(j)]) = lam(j);
  }
  const double nobs = n - 1;
  for (size_t b = 0; b < L.blocks.size(); ++b) {
    const auto& Bk = L.blocks[b];
    const int kk = Bk.k, kp = Bk.k * Bk.p;
    Eigen::MatrixXd A = Eigen::MatrixXd::Zero(kp, kp), B = Eigen::MatrixXd::Zero(kk, kp), C = Eigen::MatrixXd::Zero(kk, kk);
    for (int t = 0; t + 1 < n; ++t) {
      const int o = Bk.offset;
      for (int a = 0; a < kp; ++a)
        for (int b = 0; b < kp; ++b) A(a, b) += mo.E(t, o + a, o + b);
      for (int a = 0; a < kk; ++a)
        for (int b = 0; b < kp; ++b) B(a, b) += mo.E1(t, o + a, o + b);
      for (int a = 0; a < kk; ++a)
        for (int b = 0; b < kk; ++b) C(a, b) += mo.E(t + 1, o + a, o + b);
    }
    Eigen::MatrixXd fA = A.ldlt().solve(B.transpose()).transpose();
    Eigen::MatrixXd fQ = (C - fA * B.transpose()) / nobs;
    p.factor_ar[b] = fA;
    p.factor_cov[b] = 0.5 * (fQ + fQ.transpose());
  }
  for (int i = 0; i < L.num_vars; ++i) {
    const int e = L.idio_state[static_cast<size_t>(i)];
    double Ad = 0, Bd = 0, Cd = 0;
    for (int t = 0; t + 1 < n; ++t) {
      Ad += mo.E(t, e, e);
      Bd += mo.E1(t, e, e);
      Cd += mo.E(t + 1, e, e);
    }
    const double alpha = Bd / Ad;
    p.idio_ar(i) = alpha;
    p.idio_var(i) = (Cd - alpha * Bd) / nobs;
  }
  return p;
}

}  // namespace

Result<Eigen::MatrixXd> StandardizedData(const MixedFrequencyData& data, const std::vector<double>& means,
                                         const std::vector<double>& stds, int64_t min_months) {
  const int64_t n = std::max<int64_t>(data.size(), min_months);
  Eigen::MatrixXd y = Eigen::MatrixXd::Constant(data.num_vars(), n, kNaN);
  for (int i = 0; i < data.num_vars(); ++i)
    for (int64_t t = 0; t < data.size(); ++t) {
      const double v = data.values[static_cast<size_t>(i)][static_cast<size_t>(t)];
      if (!std::isnan(v)) y(i, t) = (v - means[static_cast<size_t>(i)]) / stds[static_cast<size_t>(i)];
    }
  return y;
}

}  // namespace dfm

// ---- DynamicFactorModel --------------------------------------------------------------------

DynamicFactorModel::DynamicFactorModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DynamicFactorModel::DynamicFactorModel(DynamicFactorModel&&) noexcept = default;
DynamicFactorModel& DynamicFactorModel::operator=(DynamicFactorModel&&) noexcept = default;
DynamicFactorModel::~DynamicFactorModel() = default;

const DfmParameters& DynamicFactorModel::params() const { return impl_->public_params; }
const DfmFitReport& DynamicFactorModel::report() const { return impl_->report; }
const DfmOptions& DynamicFactorModel::options() const { return impl_->options; }
const std::vector<double>& DynamicFactorModel::means() const { return impl_->means; }
const std::vector<double>& DynamicFactorModel::stds() const { return impl_->stds; }
Period DynamicFactorModel::start() const { return impl_->start; }

Result<Eigen::MatrixXd> DynamicFactorModel::Impl::Prepare(const MixedFrequencyData& data, int64_t min_months) const {
  ALMANAC_RETURN_IF_ERROR(dfm::ValidateData(data));
  if (data.names != names || data.quarterly != layout.quarterly)
    return InvalidArgumentError("dfm: the data must have the model's variables in the same order and frequencies");
  if (data.start != start)
    return InvalidArgumentError("dfm: the data start in " + data.start.ToString() + ", the model's grid in " +
                                start.ToString());
  return dfm::StandardizedData(data, means, stds, min_months);
}

Result<DynamicFactorModel> DynamicFactorModel::Fit(const MixedFrequencyData& data, const DfmOptions& options,
                                                   const DfmParameters* start) {
  ALMANAC_RETURN_IF_ERROR(dfm::ValidateData(data));
  if (options.max_iterations < 1) return InvalidArgumentError("dfm: max_iterations must be >= 1");
  if (!(options.tolerance >= 0) || !std::isfinite(options.tolerance))
    return InvalidArgumentError("dfm: tolerance must be finite and >= 0");
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->names = data.names;
  impl->start = data.start;
  ALMANAC_ASSIGN_OR_RETURN(impl->layout, dfm::MakeLayout(data.names, data.quarterly, options));
  const auto& L = impl->layout;
  const int k = data.num_vars();
  const int64_t n = data.size();
  // Standardization: mean and ddof-1 standard deviation of the observed values (pandas).
  for (int i = 0; i < k; ++i) {
    double sum = 0, count = 0;
    for (double v : data.values[static_cast<size_t>(i)])
      if (!std::isnan(v)) sum += v, count += 1;
    if (count == 0) return InvalidArgumentError("dfm: variable '" + data.names[static_cast<size_t>(i)] + "' has no observations");
    const double mean = sum / count;
    double ss = 0;
    for (double v : data.values[static_cast<size_t>(i)])
      if (!std::isnan(v)) ss += (v - mean) * (v - mean);
    const double sd = count > 1 ? std::sqrt(ss / (count - 1)) : 0.0;
    if (sd < 1e-10)
      return InvalidArgumentError("dfm: variable '" + data.names[static_cast<size_t>(i)] +
                                  "' is constant (or has one observation); it cannot load on a factor");
    impl->means.push_back(options.standardize ? mean : 0.0);
    impl->stds.push_back(options.standardize ? sd : 1.0);
  }
  int observed_months = 0;
  for (int64_t t = 0; t < n; ++t)
    for (int i = 0; i < k; ++i)
      if (!std::isnan(data.values[static_cast<size_t>(i)][static_cast<size_t>(t)])) {
        ++observed_months;
        break;
      }
  int max_lags = 0;
  for (const auto& B : L.blocks) max_lags = std::max(max_lags, B.lags);
  const int needed = std::max(options.min_observations, 2 * max_lags + 2);
  if (observed_months < needed)
    return InvalidArgumentError("dfm: " + std::to_string(observed_months) + " months with observations, at least " +
                                std::to_string(needed) + " are needed");
  ALMANAC_ASSIGN_OR_RETURN(Eigen::MatrixXd y, dfm::StandardizedData(data, impl->means, impl->stds, n));

  dfm::Params params;
  if (start != nullptr) {
    ALMANAC_RETURN_IF_ERROR(dfm::CheckPublic(L, *start));
    params = dfm::FromPublic(L, *start);
  } else {
    params = dfm::StartValues(L, y);
  }
  // Stationary initialization from the starting parameters (statsmodels' default).
  const int m = L.num_states;
  {
    auto ss = dfm::BuildStateSpace(L, params, Eigen::VectorXd::Zero(m), Eigen::MatrixXd::Zero(m, m));
    auto P0 = dfm::StationaryCov(Eigen::MatrixXd(ss.T), ss.RQR);
    if (!P0) return InvalidArgumentError("dfm: the starting parameters are not stationary");
    impl->a0 = Eigen::VectorXd::Zero(m);
    impl->P0 = *P0;
  }
  auto& rep = impl->report;
  std::vector<dfm::Params> history{params};
  int i = 0;
  double delta = 0;
  bool terminate = false;
  Eigen::VectorXd a0 = impl->a0;
  Eigen::MatrixXd P0 = impl->P0;
  const dfm::EmEntries entries(L);
  dfm::SmootherOptions em_options;
  em_options.cov_entries = entries.cov;
  em_options.lag_entries = entries.lag;
  while (i < options.max_iterations && !terminate && (i < 1 || delta > options.tolerance)) {
    const auto ss = dfm::BuildStateSpace(L, history.back(), a0, P0);
    const auto sm = dfm::Smooth(ss, y, em_options);
    if (!sm.ok || !std::isfinite(sm.loglik))
      return InternalError("dfm: the Kalman filter broke down at EM iteration " + std::to_string(i + 1) +
                           " (a prediction-error variance is not positive)");
    const double llf = sm.loglik;
    if (i > 0 && llf - rep.loglik_path.back() < -1e-4) {
      rep.notes.push_back("the log-likelihood decreased at EM iteration " + std::to_string(i + 1) +
                          "; the parameters of iteration " + std::to_string(i) + " are kept");
      --i;
      terminate = true;
    } else {
      dfm::Params next = dfm::MStep(L, entries, y, sm, history.back());
      bool finite = next.loadings.allFinite() && next.idio_ar.allFinite() && next.idio_var.allFinite();
      for (size_t b = 0; b < next.factor_ar.size(); ++b)
        finite = finite && next.factor_ar[b].allFinite() && next.factor_cov[b].allFinite();
      if (!finite) return InternalError("dfm: EM produced non-finite parameters at iteration " + std::to_string(i + 1));
      rep.loglik_path.push_back(llf);
      history.push_back(std::move(next));
      a0 = sm.a.col(0);
      P0 = sm.V[0];
      if (i > 0) {
        const double l1 = rep.loglik_path.back(), l0 = rep.loglik_path[rep.loglik_path.size() - 2];
        delta = 2 * std::fabs(l1 - l0) / (std::fabs(l1) + std::fabs(l0));
      } else {
        delta = std::numeric_limits<double>::infinity();
      }
    }
    ++i;
  }
  rep.iterations = i;
  rep.criterion = delta;
  rep.converged = !(i == options.max_iterations && delta > options.tolerance);
  if (!rep.converged)
    rep.notes.push_back("EM did not converge in " + std::to_string(i) + " iterations (criterion " +
                        dfm::Num(delta) + " > tolerance " + dfm::Num(options.tolerance) + ")");
  impl->params = history.back();
  impl->a0 = a0;
  impl->P0 = P0;
  const auto final_sm = dfm::Smooth(impl->System(), y, {.state_cov = false, .lag_cov = false});
  if (!final_sm.ok) return InternalError("dfm: the Kalman filter broke down at the final parameters");
  rep.loglik = final_sm.loglik;
  for (size_t b = 0; b < L.blocks.size(); ++b) {
    const auto& B = L.blocks[b];
    if (dfm::SpectralRadius(dfm::Companion(impl->params.factor_ar[b], B.k, B.p)) >= 1)
      rep.notes.push_back("factor block '" + B.name + "' is not stationary at the estimates");
  }
  impl->public_params = dfm::ToPublic(L, impl->names, impl->params);
  return DynamicFactorModel(std::move(impl));
}

Result<DfmSmoothed> DynamicFactorModel::Smooth(const MixedFrequencyData& data) const {
  ALMANAC_ASSIGN_OR_RETURN(Eigen::MatrixXd y, impl_->Prepare(data, data.size()));
  const auto ss = impl_->System();
  const auto sm = dfm::Smooth(ss, y, {.state_cov = false, .lag_cov = false});
  if (!sm.ok) return InternalError("dfm: the Kalman filter broke down");
  const auto& L = impl_->layout;
  DfmSmoothed out;
  out.start = impl_->start;
  out.loglik = sm.loglik;
  const int n = static_cast<int>(y.cols());
  out.factors.assign(static_cast<size_t>(L.num_factors), std::vector<double>(static_cast<size_t>(n)));
  out.signal.assign(static_cast<size_t>(L.num_vars), std::vector<double>(static_cast<size_t>(n)));
  for (int t = 0; t < n; ++t) {
    for (int f = 0; f < L.num_factors; ++f) out.factors[static_cast<size_t>(f)][static_cast<size_t>(t)] = sm.a(L.FactorState(f, 0), t);
    for (int i = 0; i < L.num_vars; ++i)
      out.signal[static_cast<size_t>(i)][static_cast<size_t>(t)] =
          impl_->means[static_cast<size_t>(i)] + impl_->stds[static_cast<size_t>(i)] * ss.Z.row(i).dot(sm.a.col(t));
  }
  return out;
}

namespace dfm {

Result<std::pair<int, int64_t>> TargetIndex(const DynamicFactorModel::Impl& impl, std::string_view variable,
                                           Period target) {
  auto it = std::find(impl.names.begin(), impl.names.end(), variable);
  if (it == impl.names.end()) return NotFoundError("dfm: unknown variable '" + std::string(variable) + "'");
  const int i = static_cast<int>(it - impl.names.begin());
  const bool q = impl.layout.quarterly[static_cast<size_t>(i)];
  const Frequency want = q ? Frequency::kQuarterly : Frequency::kMonthly;
  if (target.frequency() != want)
    return InvalidArgumentError("dfm: the target of '" + std::string(variable) + "' must be a " +
                                (q ? std::string("quarter") : std::string("month")) + ", got " + target.ToString());
  const Period month = q ? target.Convert(Frequency::kMonthly, Anchor::kEnd) : target;
  ALMANAC_ASSIGN_OR_RETURN(int64_t t, month.Diff(impl.start));
  if (t < 0) return InvalidArgumentError("dfm: target " + target.ToString() + " is before the model's start");
  if (t > 1200) return InvalidArgumentError("dfm: target " + target.ToString() + " is more than 100 years ahead");
  return std::make_pair(i, t);
}

}  // namespace dfm

Result<Nowcast> DynamicFactorModel::NowcastOf(const MixedFrequencyData& data, std::string_view variable,
                                              Period target) const {
  ALMANAC_ASSIGN_OR_RETURN(auto it, dfm::TargetIndex(*impl_, variable, target));
  const auto [i, t] = it;
  ALMANAC_ASSIGN_OR_RETURN(Eigen::MatrixXd y, impl_->Prepare(data, t + 1));
  const auto ss = impl_->System();
  const auto sm = dfm::Smooth(ss, y, {.state_cov = true, .lag_cov = false});
  if (!sm.ok) return InternalError("dfm: the Kalman filter broke down");
  Nowcast out;
  out.variable = std::string(variable);
  out.target = target;
  const auto z = ss.Z.row(i);
  out.value = impl_->means[static_cast<size_t>(i)] + impl_->stds[static_cast<size_t>(i)] * z.dot(sm.a.col(t));
  const double var = z * sm.V[static_cast<size_t>(t)] * z.transpose();
  out.std_error = impl_->stds[static_cast<size_t>(i)] * std::sqrt(std::max(var, 0.0));
  return out;
}

}  // namespace almanac::models
