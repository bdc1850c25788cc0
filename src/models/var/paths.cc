// Joint path simulation for the VAR family: Philox4x32-10 counters, Gaussian / Student-t /
// bootstrapped shocks, Waggoner-Zha conditional paths, posterior coefficient draws per path.
#include "models/var/paths.h"

#include <cmath>
#include <limits>
#include <numbers>

#include "almanac/core/thread_pool.h"

#include "models/random.h"
#include "models/var/var_core.h"

namespace almanac::models::var {
namespace {

// Paths handed to one thread-pool item: large enough to amortise the dispatch, small enough to
// balance two threads on small runs.
constexpr int kPathsPerChunk = 256;
// The dense conditional algebra works on (horizon x variables)^2 matrices (as Predict).
constexpr int kMaxConditionalPathSize = 3000;

// The recursion y_t = c + trend * t + sum_j A_j y_{t-j} + u_t in flat arrays.
struct PathRecursion {
  int k = 0, p = 0, d = 0;
  std::vector<double> a;  // a[(j * k + e) * k + v]: lag j + 1 of variable v in equation e
  std::vector<double> c, tr;

  PathRecursion(const MatrixXd& b, int k_in, int p_in, VarTrend trend) : k(k_in), p(p_in), d(NumDeterministic(trend)) {
    a.assign(static_cast<size_t>(p) * static_cast<size_t>(k) * static_cast<size_t>(k), 0.0);
    c.assign(static_cast<size_t>(k), 0.0);
    tr.assign(static_cast<size_t>(k), 0.0);
    for (int e = 0; e < k; ++e) {
      if (d >= 1) c[e] = b(0, e);
      if (d >= 2) tr[e] = b(1, e);
      for (int j = 0; j < p; ++j)
        for (int v = 0; v < k; ++v) a[(static_cast<size_t>(j) * k + e) * k + v] = b(d + k * j + v, e);
    }
  }
};

// Offset and loading of the conditional path: path = offset + loading z, z ~ N(0, I_HK).
struct ConditionalPath {
  VectorXd offset;   // HK, index h * K + i
  MatrixXd loading;  // HK x HK
};

Result<ConditionalPath> SetupConditional(const PathModel& m, const MatrixXd& b, const MatrixXd& chol,
                                         const IndexedConditions& conds, int horizon) {
  const int k = static_cast<int>(m.names.size());
  const MatrixXd mean = PointForecast(b, m.p, m.trend, *m.y, horizon);
  const auto phi = MaRep(b, k, m.p, NumDeterministic(m.trend), horizon);
  const MatrixXd impact = ImpactMatrix(phi, chol, horizon);
  VectorXd gaps(static_cast<int>(conds.rows.size()));
  for (size_t i = 0; i < conds.rows.size(); ++i) {
    const int row = conds.rows[i];
    gaps(static_cast<int>(i)) = conds.values[i] - mean(row / k, row % k);
  }
  ALMANAC_ASSIGN_OR_RETURN(ConditionalShocks cs, SolveConditions(impact, conds.rows, gaps));
  ConditionalPath out;
  out.offset = impact * cs.eps_star;
  for (int r = 0; r < horizon * k; ++r) out.offset(r) += mean(r / k, r % k);
  out.loading = impact * cs.free_proj;
  return out;
}

std::string ShockLabel(const PathSimulationRequest& r) {
  switch (r.shocks) {
    case ShockDistribution::kGaussian:
      return "Gaussian shocks (Cholesky factor of sigma_u)";
    case ShockDistribution::kStudentT:
      return "multivariate Student-t shocks (" + FormatDouble(r.t_dof) + " dof, covariance sigma_u)";
    case ShockDistribution::kBootstrap:
      return "bootstrapped residual vectors";
  }
  return "";
}

}  // namespace

std::array<std::uint32_t, 4> Philox4x32(std::array<std::uint32_t, 4> c, std::array<std::uint32_t, 2> key) {
  constexpr std::uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;  // round multipliers
  constexpr std::uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;  // Weyl key increments
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key[0] += kW0;
      key[1] += kW1;
    }
    const std::uint64_t p0 = std::uint64_t{kM0} * c[0];
    const std::uint64_t p1 = std::uint64_t{kM1} * c[2];
    c = {static_cast<std::uint32_t>(p1 >> 32) ^ c[1] ^ key[0], static_cast<std::uint32_t>(p1),
         static_cast<std::uint32_t>(p0 >> 32) ^ c[3] ^ key[1], static_cast<std::uint32_t>(p0)};
  }
  return c;
}

std::array<std::uint32_t, 4> PathRandom::Block(PathStream stream, std::uint32_t index, std::uint32_t j) const {
  ALMANAC_DCHECK(j < (1u << 28));
  return Philox4x32({path_lo_, path_hi_, index, (static_cast<std::uint32_t>(stream) << 28) | j}, key_);
}

std::uint64_t PathRandom::Bits(PathStream stream, std::uint32_t index, std::uint32_t j) const {
  const auto b = Block(stream, index, j / 2);
  const size_t half = 2 * (j % 2);
  return (static_cast<std::uint64_t>(b[half + 1]) << 32) | b[half];
}

double PathRandom::Uniform(PathStream stream, std::uint32_t index, std::uint32_t j) const {
  return UniformFromBits(Bits(stream, index, j));
}

void PathRandom::Normals(PathStream stream, std::uint32_t index, int n, double* out) const {
  for (int m = 0; 2 * m < n; ++m) {
    const auto b = Block(stream, index, static_cast<std::uint32_t>(m));
    const double u1 = UniformFromBits((static_cast<std::uint64_t>(b[1]) << 32) | b[0]);
    const double u2 = UniformFromBits((static_cast<std::uint64_t>(b[3]) << 32) | b[2]);
    const double r = std::sqrt(-2 * std::log(u1));
    const double angle = 2 * std::numbers::pi * u2;
    out[2 * m] = r * std::cos(angle);
    if (2 * m + 1 < n) out[2 * m + 1] = r * std::sin(angle);
  }
}

double PathRandom::ChiSquare(double nu, std::uint32_t index) const {
  // Marsaglia & Tsang (2000), "A simple method for generating gamma variables", shape a >= 1.
  const double d = nu / 2 - 1.0 / 3;
  const double c = 1 / std::sqrt(9 * d);
  for (std::uint32_t attempt = 0;; ++attempt) {
    // Attempt a uses block 2a for its normal (Box-Muller, cosine) and block 2a + 1 for its
    // uniform.
    const auto b = Block(PathStream::kChiSquare, index, 2 * attempt);
    const double u1 = UniformFromBits((static_cast<std::uint64_t>(b[1]) << 32) | b[0]);
    const double u2 = UniformFromBits((static_cast<std::uint64_t>(b[3]) << 32) | b[2]);
    const double x = std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
    double v = 1 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    const double u = Uniform(PathStream::kChiSquare, index, 2 * (2 * attempt + 1));
    if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return 2 * d * v;
  }
}

std::uint64_t PathRandom::Index(std::uint64_t n, std::uint32_t index) const {
  const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % n;
  for (std::uint32_t j = 0;; ++j) {
    const std::uint64_t x = Bits(PathStream::kBootstrap, index, j);
    if (x < limit) return x % n;
  }
}

MatrixXd CentredResiduals(const MatrixXd& y, const MatrixXd& b, int p, VarTrend trend) {
  const int k = static_cast<int>(y.cols());
  const int d = NumDeterministic(trend);
  const int t_len = static_cast<int>(y.rows());
  MatrixXd resid(t_len - p, k);
  for (int t = p; t < t_len; ++t) {
    VectorXd f = VectorXd::Zero(k);
    if (d >= 1) f += b.row(0).transpose();
    if (d >= 2) f += static_cast<double>(t + 1) * b.row(1).transpose();
    for (int j = 1; j <= p; ++j) f += b.block(d + k * (j - 1), 0, k, k).transpose() * y.row(t - j).transpose();
    resid.row(t - p) = y.row(t) - f.transpose();
  }
  resid.rowwise() -= resid.colwise().mean();
  return resid;
}

Result<SimulatedPaths> SimulateVarPaths(const PathModel& m, const PathSimulationRequest& r) {
  const int k = static_cast<int>(m.names.size());
  const int horizon = r.horizon;
  const int n_paths = r.num_paths;
  if (n_paths < 1) return InvalidArgumentError("num_paths must be at least 1, got " + std::to_string(n_paths));
  if (horizon < 1 || horizon > kMaxHorizon)
    return InvalidArgumentError("horizon must be in 1.." + std::to_string(kMaxHorizon) + ", got " +
                                std::to_string(horizon));
  const std::int64_t total = std::int64_t{n_paths} * horizon * k;
  if (total > kMaxPathValues)
    return InvalidArgumentError("too many path values: " + std::to_string(n_paths) + " paths x " +
                                std::to_string(horizon) + " steps x " + std::to_string(k) +
                                " variables = " + std::to_string(total) + " > " + std::to_string(kMaxPathValues) +
                                " (1 GiB); simulate in batches");
  if (r.shocks == ShockDistribution::kStudentT && !(std::isfinite(r.t_dof) && r.t_dof > 2))
    return InvalidArgumentError("Student-t shocks need t_dof > 2 (a finite covariance), got " + FormatDouble(r.t_dof));
  if (r.shocks == ShockDistribution::kBootstrap && m.resid.rows() < 2)
    return InvalidArgumentError("bootstrapped shocks need at least 2 residuals, the model has " +
                                std::to_string(m.resid.rows()));
  if (r.parameter_uncertainty && !m.draw_coefficients)
    return InvalidArgumentError(m.model_label +
                                " has no posterior to draw coefficients from; parameter uncertainty needs model "
                                "type 'bvar'");
  ALMANAC_ASSIGN_OR_RETURN(MatrixXd chol, CholeskyLower(m.sigma, "the residual covariance"));
  ALMANAC_ASSIGN_OR_RETURN(IndexedConditions conds, IndexConditions(r.conditions, m.names, horizon));
  const bool conditional = !conds.rows.empty();
  if (conditional) {
    if (r.shocks != ShockDistribution::kGaussian)
      return InvalidArgumentError("conditional paths (Waggoner-Zha) need Gaussian shocks, got '" +
                                  std::string(ShockDistributionName(r.shocks)) + "'");
    if (horizon * k > kMaxConditionalPathSize)
      return InvalidArgumentError("conditional paths support at most " + std::to_string(kMaxConditionalPathSize) +
                                  " (horizon x variables) values; got horizon " + std::to_string(horizon) + " with " +
                                  std::to_string(k) + " variables");
  }

  // Shared set-up for the point coefficients (per path with parameter uncertainty).
  std::optional<ConditionalPath> fixed_cond;
  if (conditional) {
    ALMANAC_ASSIGN_OR_RETURN(ConditionalPath cp, SetupConditional(m, m.b, chol, conds, horizon));
    fixed_cond = std::move(cp);
  }
  const PathRecursion fixed_rec(m.b, k, m.p, m.trend);
  std::vector<double> lower(static_cast<size_t>(k) * k, 0.0);  // row-major Cholesky factor
  for (int i = 0; i < k; ++i)
    for (int j = 0; j <= i; ++j) lower[static_cast<size_t>(i) * k + j] = chol(i, j);
  const int t_len = static_cast<int>(m.y->rows());
  const int n_coef = static_cast<int>(m.b.rows()) * k;

  SimulatedPaths out;
  out.names = m.names;
  out.first_period = m.first_period;
  out.num_paths = n_paths;
  out.horizon = horizon;
  out.num_vars = k;
  out.values.resize(static_cast<size_t>(total));

  const size_t n_chunks = (static_cast<size_t>(n_paths) + kPathsPerChunk - 1) / kPathsPerChunk;
  std::vector<Status> chunk_status(n_chunks, Status::Ok());
  ParallelFor(n_chunks, r.threads, [&](size_t chunk) {
    const int first = static_cast<int>(chunk) * kPathsPerChunk;
    const int last = std::min(n_paths, first + kPathsPerChunk);
    const size_t ku = static_cast<size_t>(k);
    std::vector<double> hist(static_cast<size_t>(m.p + horizon) * ku), z(ku), shock(ku);
    VectorXd zc(conditional ? horizon * k : 0);
    std::vector<double> zcoef(static_cast<size_t>(n_coef));
    MatrixXd b_draw(m.b.rows(), k);
    for (int path = first; path < last; ++path) {
      const PathRandom rng(r.seed, static_cast<std::uint64_t>(path));
      double* dst = out.values.data() + static_cast<size_t>(path) * horizon * ku;
      std::optional<PathRecursion> drawn_rec;
      std::optional<ConditionalPath> drawn_cond;
      if (r.parameter_uncertainty) {
        rng.Normals(PathStream::kCoefficients, 0, n_coef, zcoef.data());
        m.draw_coefficients(zcoef.data(), &b_draw);
        if (conditional) {
          auto cp = SetupConditional(m, b_draw, chol, conds, horizon);
          if (!cp.ok()) {
            chunk_status[chunk] = cp.status();
            return;
          }
          drawn_cond = std::move(*cp);
        } else {
          drawn_rec.emplace(b_draw, k, m.p, m.trend);
        }
      }
      if (conditional) {
        const ConditionalPath& cp = drawn_cond ? *drawn_cond : *fixed_cond;
        for (int h = 0; h < horizon; ++h)
          rng.Normals(PathStream::kShock, static_cast<std::uint32_t>(h), k, zc.data() + static_cast<size_t>(h) * ku);
        const VectorXd v = cp.offset + cp.loading * zc;
        for (int i = 0; i < horizon * k; ++i) dst[i] = v(i);
        // Conditioned values are met exactly (not up to rounding).
        for (size_t c = 0; c < conds.rows.size(); ++c) dst[conds.rows[c]] = conds.values[c];
        continue;
      }
      const PathRecursion& rec = drawn_rec ? *drawn_rec : fixed_rec;
      for (int lag = 0; lag < m.p; ++lag)
        for (int i = 0; i < k; ++i) hist[static_cast<size_t>(lag) * ku + i] = (*m.y)(t_len - m.p + lag, i);
      for (int h = 0; h < horizon; ++h) {
        const auto step = static_cast<std::uint32_t>(h);
        switch (r.shocks) {
          case ShockDistribution::kGaussian:
          case ShockDistribution::kStudentT: {
            rng.Normals(PathStream::kShock, step, k, z.data());
            const double scale = r.shocks == ShockDistribution::kStudentT
                                     ? std::sqrt((r.t_dof - 2) / rng.ChiSquare(r.t_dof, step))
                                     : 1.0;
            for (int i = 0; i < k; ++i) {
              const double* row = lower.data() + static_cast<size_t>(i) * ku;
              double s = 0;
              for (int j = 0; j <= i; ++j) s += row[j] * z[j];
              shock[i] = scale * s;
            }
            break;
          }
          case ShockDistribution::kBootstrap: {
            const auto t = static_cast<int>(rng.Index(static_cast<std::uint64_t>(m.resid.rows()), step));
            for (int i = 0; i < k; ++i) shock[i] = m.resid(t, i);
            break;
          }
        }
        const double time = static_cast<double>(t_len + h + 1);
        double* now = hist.data() + static_cast<size_t>(m.p + h) * ku;
        for (int e = 0; e < k; ++e) {
          double f = rec.c[e] + rec.tr[e] * time + shock[e];
          for (int j = 0; j < m.p; ++j) {
            const double* a = rec.a.data() + (static_cast<size_t>(j) * ku + e) * ku;
            const double* lagged = now - static_cast<size_t>(j + 1) * ku;
            for (int v = 0; v < k; ++v) f += a[v] * lagged[v];
          }
          now[e] = f;
        }
        for (int e = 0; e < k; ++e) dst[static_cast<size_t>(h) * ku + e] = now[e];
      }
    }
  });
  for (const Status& s : chunk_status) ALMANAC_RETURN_IF_ERROR(s);

  out.method = m.model_label + ": " + std::to_string(n_paths) + " paths x " + std::to_string(horizon) + " steps, " +
               ShockLabel(r) + ", seed " + std::to_string(r.seed) +
               ", Philox4x32-10 counter-based random numbers (per path, step and variable)";
  if (conditional)
    out.method += "; conditional on " + std::to_string(conds.rows.size()) +
                  " fixed values (Waggoner-Zha hard conditions, met exactly)";
  if (r.parameter_uncertainty) out.method += "; coefficients drawn from the posterior once per path";
  return out;
}

}  // namespace almanac::models::var
