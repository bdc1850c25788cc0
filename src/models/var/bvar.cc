// Bayesian VAR with a Litterman (Minnesota) prior. See README.md in this folder for the prior,
// the marginal likelihood and the simulation.
#include <algorithm>
#include <cmath>

#include "models/var/var_model.h"

#include "almanac/core/time_series.h"

namespace almanac::models::var {
namespace {

// Prior standard deviation of deterministic terms, in units of the equation's sigma_i:
// effectively flat (the data dominate) but proper, so the marginal likelihood exists.
constexpr double kDeterministicScale = 100.0;

const std::vector<double> kLambdaGrid = {0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0};
const std::vector<double> kThetaGrid = {0.1, 0.25, 0.5, 0.75, 1.0};
const std::vector<double> kDecayGrid = {0.5, 1.0, 1.5, 2.0};

struct BvarSettings {
  int lags = 4;
  VarTrend trend = VarTrend::kConstant;
  std::vector<double> lambda_grid, theta_grid, decay_grid;  // one entry when fixed
  Json delta = 0.0;
  bool check_stability = true;
  int draws = 2000;
  std::uint64_t seed = 42;
};

Result<std::vector<double>> GridParam(const Json& params, const std::string& fixed_name, const std::string& grid_name,
                                      const std::vector<double>& fallback, double lo, double hi) {
  std::vector<double> grid;
  if (params.is_object() && params.contains(fixed_name) && !params[fixed_name].is_null()) {
    ALMANAC_ASSIGN_OR_RETURN(double v, GetNumberParam(params, fixed_name, 0));
    grid = {v};
  } else if (params.is_object() && params.contains(grid_name) && !params[grid_name].is_null()) {
    const Json& g = params[grid_name];
    if (!g.is_array() || g.empty())
      return InvalidArgumentError("parameter '" + grid_name + "' must be a non-empty list of numbers");
    for (const auto& v : g) {
      if (!v.is_number()) return InvalidArgumentError("parameter '" + grid_name + "' must be a list of numbers");
      grid.push_back(v.get<double>());
    }
  } else {
    grid = fallback;
  }
  for (double v : grid)
    if (!(v > lo && v <= hi))
      return InvalidArgumentError("parameter '" + fixed_name + "' (or its grid) must be in (" + FormatDouble(lo) +
                                  ", " + FormatDouble(hi) + "], got " + FormatDouble(v));
  return grid;
}

Result<BvarSettings> ParseBvarSettings(const Json& params) {
  BvarSettings s;
  ALMANAC_ASSIGN_OR_RETURN(s.lags, GetIntParam(params, "lags", 4));
  if (s.lags < 1) return InvalidArgumentError("parameter 'lags' must be at least 1");
  ALMANAC_ASSIGN_OR_RETURN(std::string trend, GetStringParam(params, "trend", "c"));
  ALMANAC_ASSIGN_OR_RETURN(s.trend, ParseVarTrend(trend));
  ALMANAC_ASSIGN_OR_RETURN(s.lambda_grid, GridParam(params, "lambda", "lambda_grid", kLambdaGrid, 0, 1e6));
  ALMANAC_ASSIGN_OR_RETURN(s.theta_grid, GridParam(params, "theta", "theta_grid", kThetaGrid, 0, 1));
  ALMANAC_ASSIGN_OR_RETURN(s.decay_grid, GridParam(params, "decay", "decay_grid", kDecayGrid, -1e-300, 10));
  if (params.is_object() && params.contains("delta") && !params["delta"].is_null()) {
    const Json& d = params["delta"];
    if (d.is_array()) {
      for (const auto& v : d)
        if (!v.is_number()) return InvalidArgumentError("parameter 'delta' must be a number or a list of numbers");
    } else if (!d.is_number()) {
      return InvalidArgumentError("parameter 'delta' must be a number or a list of numbers");
    }
    s.delta = d;
  }
  ALMANAC_ASSIGN_OR_RETURN(s.check_stability, GetBoolParam(params, "check_stability", true));
  ALMANAC_ASSIGN_OR_RETURN(s.draws, GetIntParam(params, "draws", 2000));
  if (s.draws < 10 || s.draws > 1000000) return InvalidArgumentError("parameter 'draws' must be in 10..1000000");
  ALMANAC_ASSIGN_OR_RETURN(int seed, GetIntParam(params, "seed", 42));
  if (seed < 0) return InvalidArgumentError("parameter 'seed' must be non-negative");
  s.seed = static_cast<std::uint64_t>(seed);
  return s;
}

struct Hyper {
  double lambda = 0.2, theta = 0.5, decay = 1.0;
};

class BvarModel : public VarFamilyModel {
 public:
  using VarFamilyModel::VarFamilyModel;

  Status Fit(const MultiInput& data) override {
    set_fitted(false);
    notes_.clear();
    ALMANAC_ASSIGN_OR_RETURN(BvarSettings s, ParseBvarSettings(spec().params));
    ALMANAC_ASSIGN_OR_RETURN(y_, ToMatrix(data));
    names_ = data.names;
    start_ = data.start;
    p_ = s.lags;
    trend_ = s.trend;
    check_stability_ = s.check_stability;
    draws_ = s.draws;
    seed_ = s.seed;
    const int k = data.num_vars();
    const int d = NumDeterministic(trend_);
    const int t_len = static_cast<int>(y_.rows());
    const int need = p_ + std::max(p_ + d + 2, k + 2);
    if (t_len < need)
      return InvalidArgumentError("too few observations for a BVAR(" + std::to_string(p_) + ") in " +
                                  std::to_string(k) + " variables: needs at least " + std::to_string(need) + ", got " +
                                  std::to_string(t_len));
    ALMANAC_RETURN_IF_ERROR(SetDelta(s.delta));
    BuildCrossProducts();
    ALMANAC_RETURN_IF_ERROR(ArScales(data));
    // Grid search, in grid order; ties keep the first.
    grid_.clear();
    double best = -std::numeric_limits<double>::infinity();
    for (double l : s.lambda_grid)
      for (double th : s.theta_grid)
        for (double dc : s.decay_grid) {
          const Hyper h{l, th, dc};
          ALMANAC_ASSIGN_OR_RETURN(double ml, LogMarginalLikelihood(h));
          grid_.push_back({l, th, dc, ml});
          if (ml > best) {
            best = ml;
            hyper_ = h;
          }
        }
    if (!std::isfinite(best)) return InvalidArgumentError("BVAR: the marginal likelihood is not finite on the grid");
    log_ml_ = best;
    auto edge = [&](const std::vector<double>& g, double v, const char* name) {
      if (g.size() > 1 && (v == *std::min_element(g.begin(), g.end()) || v == *std::max_element(g.begin(), g.end())))
        notes_.push_back(std::string("the marginal likelihood is highest at the edge of the ") + name + " grid (" +
                         FormatDouble(v) + "); consider widening it");
    };
    edge(s.lambda_grid, hyper_.lambda, "lambda");
    edge(s.theta_grid, hyper_.theta, "theta");
    edge(s.decay_grid, hyper_.decay, "decay");
    ALMANAC_RETURN_IF_ERROR(Posterior());
    // Shock covariance: residuals of the posterior-mean VAR.
    const MatrixXd resid = y_sample_ - x_ * b_;
    sigma_u_ = resid.transpose() * resid / static_cast<double>(resid.rows());
    if (Eigen::LLT<MatrixXd>(sigma_u_).info() != Eigen::Success) {
      std::string list;
      for (const auto& v : names_) list += (list.empty() ? "" : ", ") + v;
      return InvalidArgumentError("collinear system: the BVAR residual covariance is singular (variables " + list +
                                  " are linearly dependent)");
    }
    Finish();
    return Status::Ok();
  }

  Result<MultiForecast> PredictFitted(const MultiPredictRequest& request) const override {
    ALMANAC_RETURN_IF_ERROR(CheckPredict(request));
    const int k = static_cast<int>(names_.size());
    const int horizon = request.horizon;
    ALMANAC_ASSIGN_OR_RETURN(IndexedConditions conds, IndexConditions(request.conditions, names_, horizon));
    ALMANAC_ASSIGN_OR_RETURN(MatrixXd chol, CholeskyLower(sigma_u_, "the residual covariance"));
    MultiForecast f = NewForecast(horizon);
    std::vector<std::vector<std::vector<double>>> samples(
        static_cast<size_t>(k), std::vector<std::vector<double>>(static_cast<size_t>(horizon)));
    for (auto& v : samples)
      for (auto& h : v) h.reserve(static_cast<size_t>(draws_));
    Rng rng(seed_);
    MatrixXd b(b_.rows(), k), path;
    for (int dr = 0; dr < draws_; ++dr) {
      DrawCoefficients(rng, &b);
      if (request.conditions.empty()) {
        SimulateRecursive(b, chol, horizon, rng, &path);
      } else {
        ALMANAC_ASSIGN_OR_RETURN(Gaussian g, GaussianForecast(b, sigma_u_, request));
        DrawPath(g, rng, k, &path);
      }
      for (int i = 0; i < k; ++i)
        for (int h = 0; h < horizon; ++h) samples[i][h].push_back(path(h, i));
    }
    for (int i = 0; i < k; ++i)
      for (int h = 0; h < horizon; ++h) {
        double s = 0;
        for (double v : samples[i][h]) s += v;
        f.mean[i][h] = s / draws_;
      }
    for (size_t c = 0; c < conds.rows.size(); ++c) f.mean[conds.rows[c] % k][conds.rows[c] / k] = conds.values[c];
    if (request.keep_samples) f.samples = samples;
    BandsFromDraws(samples, request.levels, f.intervals);
    f.interval_method =
        "simulated: posterior predictive, " + std::to_string(draws_) + " draws, seed " + std::to_string(seed_) +
        ", type-7 quantiles" +
        (request.conditions.empty() ? std::string() : "; paths conditioned by Waggoner-Zha hard conditions");
    return f;
  }

  Result<MultiDescription> DescribeFitted() const override {
    MultiDescription d;
    FillDescription(&d);
    d.method = "BVAR(" + std::to_string(p_) + "), Minnesota prior (lambda " + FormatDouble(hyper_.lambda) + ", theta " +
               FormatDouble(hyper_.theta) + ", decay " + FormatDouble(hyper_.decay) + ")";
    d.method += trend_ == VarTrend::kNone       ? ", no deterministic terms"
                : trend_ == VarTrend::kConstant ? ", constant"
                                                : ", constant and trend";
    d.loglik = d.aic = d.bic = d.hqic = d.fpe = kNaN;
    const int m = static_cast<int>(b_.rows());
    const int k = static_cast<int>(names_.size());
    d.std_errors.assign(static_cast<size_t>(m), std::vector<double>(static_cast<size_t>(k)));
    for (int e = 0; e < k; ++e) {
      const MatrixXd inv = factors_[e].solve(MatrixXd::Identity(m, m));
      for (int r = 0; r < m; ++r) d.std_errors[r][e] = std::sqrt(inv(r, r));
    }
    Json grid = Json::array();
    for (const auto& g : grid_) grid.push_back({g[0], g[1], g[2], g[3]});
    d.params = {{"lambda", hyper_.lambda},
                {"theta", hyper_.theta},
                {"decay", hyper_.decay},
                {"delta", delta_},
                {"ar_sigma", ar_sigma_},
                {"log_marginal_likelihood", log_ml_},
                {"grid", grid}};
    return d;
  }

  Result<ImpulseResponse> ImpulseResponses(const IrfOptions& o) const override {
    ALMANAC_RETURN_IF_ERROR(RequireFitted());
    ALMANAC_RETURN_IF_ERROR(CheckIrfOptions(o));
    const int k = static_cast<int>(names_.size());
    ImpulseResponse out;
    out.names = names_;
    out.orthogonal = o.orthogonal;
    ALMANAC_ASSIGN_OR_RETURN(out.response, ComputeResponses(b_, sigma_u_, k, p_, trend_, o));
    if (o.replications == 0) return out;
    std::vector<std::vector<std::vector<std::vector<double>>>> draws(
        static_cast<size_t>(o.periods + 1),
        std::vector<std::vector<std::vector<double>>>(static_cast<size_t>(k),
                                                      std::vector<std::vector<double>>(static_cast<size_t>(k))));
    Rng rng(o.seed);
    MatrixXd b(b_.rows(), k);
    for (int r = 0; r < o.replications; ++r) {
      DrawCoefficients(rng, &b);
      ALMANAC_ASSIGN_OR_RETURN(Responses3 resp, ComputeResponses(b, sigma_u_, k, p_, trend_, o));
      for (int h = 0; h <= o.periods; ++h)
        for (int i = 0; i < k; ++i)
          for (int j = 0; j < k; ++j) draws[h][i][j].push_back(resp[h][i][j]);
    }
    FillBands(draws, o, &out);
    out.replications = o.replications;
    out.band_method = "posterior draws of the coefficients (shock covariance fixed), " +
                      std::to_string(o.replications) + " draws, seed " + std::to_string(o.seed) + ", percentile bands";
    return out;
  }

  Result<CausalityTest> Granger(std::span<const std::string>, std::span<const std::string>) const override {
    return UnimplementedError("the Granger causality F test is an OLS test; fit model type 'var' for it");
  }

  Result<Json> SaveFitted() const override {
    Json s = SaveCommon();
    Json grid = Json::array();
    for (const auto& g : grid_) grid.push_back({g[0], g[1], g[2], g[3]});
    s["lambda"] = hyper_.lambda;
    s["theta"] = hyper_.theta;
    s["decay"] = hyper_.decay;
    s["delta"] = delta_;
    s["ar_sigma"] = ar_sigma_;
    s["log_marginal_likelihood"] = log_ml_;
    s["grid"] = grid;
    return s;
  }

  Status Load(const Json& s) {
    ALMANAC_ASSIGN_OR_RETURN(BvarSettings settings, ParseBvarSettings(spec().params));
    check_stability_ = settings.check_stability;
    draws_ = settings.draws;
    seed_ = settings.seed;
    ALMANAC_RETURN_IF_ERROR(LoadCommon(s));
    hyper_ = {s.at("lambda").get<double>(), s.at("theta").get<double>(), s.at("decay").get<double>()};
    delta_ = s.at("delta").get<std::vector<double>>();
    ar_sigma_ = s.at("ar_sigma").get<std::vector<double>>();
    log_ml_ = s.at("log_marginal_likelihood").get<double>();
    grid_.clear();
    for (const auto& g : s.at("grid")) grid_.push_back(g.get<std::vector<double>>());
    if (delta_.size() != names_.size() || ar_sigma_.size() != names_.size())
      return DataLossError("inconsistent BVAR model state");
    BuildCrossProducts();
    // The posterior factors are recomputed from the data; the coefficients stay as saved.
    const MatrixXd saved = b_;
    ALMANAC_RETURN_IF_ERROR(Posterior());
    b_ = saved;
    std::vector<std::string> notes = notes_;
    Finish();
    notes_ = std::move(notes);
    return Status::Ok();
  }

 private:
  Status SetDelta(const Json& delta) {
    const size_t k = names_.size();
    delta_.assign(k, 0.0);
    if (delta.is_number()) {
      delta_.assign(k, delta.get<double>());
    } else {
      if (delta.size() != k)
        return InvalidArgumentError("parameter 'delta' has " + std::to_string(delta.size()) + " values for " +
                                    std::to_string(k) + " variables");
      for (size_t i = 0; i < k; ++i) delta_[i] = delta[i].get<double>();
    }
    return Status::Ok();
  }

  void BuildCrossProducts() {
    const int k = static_cast<int>(names_.size());
    const int d = NumDeterministic(trend_);
    const int t_len = static_cast<int>(y_.rows());
    const int n = t_len - p_;
    const int m = d + k * p_;
    x_ = MatrixXd(n, m);
    for (int r = 0; r < n; ++r) {
      const int t = p_ + r;
      int c = 0;
      if (d >= 1) x_(r, c++) = 1;
      if (d >= 2) x_(r, c++) = t + 1;
      for (int j = 1; j <= p_; ++j) x_.row(r).segment(d + k * (j - 1), k) = y_.row(t - j);
    }
    y_sample_ = y_.bottomRows(n);
    xtx_ = x_.transpose() * x_;
    xty_ = x_.transpose() * y_sample_;
    yty_ = y_sample_.colwise().squaredNorm().transpose();
  }

  // sigma_i: residual standard deviation of a univariate AR(p) (with the same deterministic
  // terms) for each variable, on the same sample (Litterman's scale factors).
  Status ArScales(const MultiInput& data) {
    const int k = static_cast<int>(names_.size());
    const int d = NumDeterministic(trend_);
    const int n = static_cast<int>(x_.rows());
    ar_sigma_.assign(static_cast<size_t>(k), 0.0);
    for (int i = 0; i < k; ++i) {
      MatrixXd xi(n, d + p_);
      if (d > 0) xi.leftCols(d) = x_.leftCols(d);
      for (int j = 1; j <= p_; ++j) xi.col(d + j - 1) = x_.col(d + k * (j - 1) + i);
      Eigen::ColPivHouseholderQR<MatrixXd> qr(xi);
      const VectorXd coef = qr.solve(y_sample_.col(i));
      const double sse = (y_sample_.col(i) - xi * coef).squaredNorm();
      const double s2 = sse / (n - d - p_);
      if (!(s2 > 0) || qr.rank() < xi.cols() || !(s2 > 1e-20 * (yty_(i) / n)))
        return InvalidArgumentError(
            "variable " + data.names[i] +
            " is constant or perfectly predicted by its own lags over the sample; the Minnesota "
            "prior cannot be scaled (drop or transform it)");
      ar_sigma_[i] = std::sqrt(s2);
    }
    return Status::Ok();
  }

  // Prior variances of equation i's coefficients (diagonal).
  VectorXd PriorVariance(const Hyper& h, int i) const {
    const int k = static_cast<int>(names_.size());
    const int d = NumDeterministic(trend_);
    VectorXd v(d + k * p_);
    for (int r = 0; r < d; ++r) v(r) = std::pow(kDeterministicScale * ar_sigma_[i], 2);
    for (int l = 1; l <= p_; ++l) {
      const double shrink = h.lambda / std::pow(static_cast<double>(l), h.decay);
      for (int j = 0; j < k; ++j) {
        const double sd = (i == j) ? shrink : shrink * h.theta * ar_sigma_[i] / ar_sigma_[j];
        v(d + k * (l - 1) + j) = sd * sd;
      }
    }
    return v;
  }

  VectorXd PriorMean(int i) const {
    const int k = static_cast<int>(names_.size());
    const int d = NumDeterministic(trend_);
    VectorXd b0 = VectorXd::Zero(d + k * p_);
    b0(d + i) = delta_[i];
    return b0;
  }

  // log p(Y | lambda, theta, decay) = sum_i log N(y_i; X b0_i, s_i^2 I + X V_i X').
  Result<double> LogMarginalLikelihood(const Hyper& h) const {
    const int k = static_cast<int>(names_.size());
    const double n = static_cast<double>(x_.rows());
    double total = 0;
    for (int i = 0; i < k; ++i) {
      const double s2 = ar_sigma_[i] * ar_sigma_[i];
      const VectorXd v = PriorVariance(h, i);
      const VectorXd b0 = PriorMean(i);
      MatrixXd a = xtx_ / s2;
      a.diagonal() += v.cwiseInverse();
      Eigen::LLT<MatrixXd> llt(a);
      if (llt.info() != Eigen::Success) return InternalError("BVAR: posterior precision is not positive definite");
      const VectorXd xtr = xty_.col(i) - xtx_ * b0;
      const double rtr = yty_(i) - 2 * b0.dot(xty_.col(i)) + b0.dot(xtx_ * b0);
      const VectorXd c = xtr / s2;
      const double quad = rtr / s2 - c.dot(llt.solve(c));
      double logdet_a = 0;
      for (int r = 0; r < a.rows(); ++r) logdet_a += 2 * std::log(llt.matrixL()(r, r));
      const double logdet_v = v.array().log().sum();
      total += -0.5 * n * std::log(2 * M_PI * s2) - 0.5 * logdet_v - 0.5 * logdet_a - 0.5 * quad;
    }
    return total;
  }

  // Posterior of each equation given the chosen hyperparameters: precision factors and means.
  Status Posterior() {
    const int k = static_cast<int>(names_.size());
    factors_.clear();
    b_ = MatrixXd(xtx_.rows(), k);
    for (int i = 0; i < k; ++i) {
      const double s2 = ar_sigma_[i] * ar_sigma_[i];
      const VectorXd v = PriorVariance(hyper_, i);
      MatrixXd a = xtx_ / s2;
      a.diagonal() += v.cwiseInverse();
      Eigen::LLT<MatrixXd> llt(a);
      if (llt.info() != Eigen::Success) return InternalError("BVAR: posterior precision is not positive definite");
      const VectorXd rhs = PriorMean(i).cwiseQuotient(v) + xty_.col(i) / s2;
      b_.col(i) = llt.solve(rhs);
      factors_.push_back(std::move(llt));
    }
    return Status::Ok();
  }

  // Posterior draws for SimulatePaths: the same transform as DrawCoefficients, from given
  // normals (equation i uses z[i m .. i m + m - 1]).
  std::function<void(const double* z, MatrixXd* b)> PosteriorSampler() const override {
    return [this](const double* z, MatrixXd* b) {
      const int m = static_cast<int>(b_.rows());
      for (int i = 0; i < b_.cols(); ++i) {
        const Eigen::Map<const VectorXd> zi(z + static_cast<size_t>(i) * m, m);
        b->col(i) = b_.col(i) + factors_[i].matrixU().solve(zi);
      }
    };
  }

  // b_i = mean_i + L_i^{-T} z with A_i = L_i L_i' the posterior precision.
  void DrawCoefficients(Rng& rng, MatrixXd* b) const {
    const int m = static_cast<int>(b_.rows());
    VectorXd z(m);
    for (int i = 0; i < b_.cols(); ++i) {
      for (int r = 0; r < m; ++r) z(r) = rng.Normal();
      b->col(i) = b_.col(i) + factors_[i].matrixU().solve(z);
    }
  }

  void SimulateRecursive(const MatrixXd& b, const MatrixXd& chol, int horizon, Rng& rng, MatrixXd* path) const {
    const int k = static_cast<int>(names_.size());
    const int d = NumDeterministic(trend_);
    const int t_len = static_cast<int>(y_.rows());
    MatrixXd buf(p_ + horizon, k);
    buf.topRows(p_) = y_.bottomRows(p_);
    VectorXd z(k);
    for (int h = 0; h < horizon; ++h) {
      VectorXd f = VectorXd::Zero(k);
      if (d >= 1) f += b.row(0).transpose();
      if (d >= 2) f += static_cast<double>(t_len + h + 1) * b.row(1).transpose();
      for (int j = 1; j <= p_; ++j)
        f.noalias() += b.block(d + k * (j - 1), 0, k, k).transpose() * buf.row(p_ + h - j).transpose();
      for (int i = 0; i < k; ++i) z(i) = rng.Normal();
      buf.row(p_ + h) = (f + chol * z).transpose();
    }
    *path = buf.bottomRows(horizon);
  }

  Hyper hyper_;
  std::vector<double> delta_, ar_sigma_;
  double log_ml_ = kNaN;
  std::vector<std::vector<double>> grid_;  // lambda, theta, decay, log ML
  MatrixXd x_, y_sample_, xtx_, xty_;
  VectorXd yty_;
  std::vector<Eigen::LLT<MatrixXd>> factors_;
};

}  // namespace

std::unique_ptr<MultivariateForecaster> NewBvarModel(const ModelSpec& spec) {
  return std::make_unique<BvarModel>(spec);
}

Result<std::unique_ptr<MultivariateForecaster>> LoadBvarModel(const ModelSpec& spec, const Json& state) {
  auto m = std::make_unique<BvarModel>(spec);
  ALMANAC_RETURN_IF_ERROR(m->Load(state));
  return std::unique_ptr<MultivariateForecaster>(std::move(m));
}

Status CheckBvarParams(const Json& params) { return ParseBvarSettings(params).status(); }

ModelType BvarModelType() {
  return MultivariateRow(
      "bvar", "Bayesian VAR, Minnesota prior with hyperparameters by marginal likelihood; simulated intervals",
      ModelKind::kMultivariate, BvarParams(), NewBvarModel, LoadBvarModel, CheckBvarParams);
}

std::vector<ParamSpec> BvarParams() {
  return {
      {"lags", "int", 4, "lag order p"},
      {"trend", "string", "c", "deterministic terms: n, c or ct"},
      {"lambda", "number", nullptr, "overall tightness (null: chosen on lambda_grid by marginal likelihood)"},
      {"theta", "number", nullptr, "cross-variable weight in (0, 1] (null: chosen on theta_grid)"},
      {"decay", "number", nullptr, "lag decay: prior sd shrinks as 1/l^decay (null: chosen on decay_grid)"},
      {"delta", "any", 0.0,
       "prior mean of each variable's own first lag: a number or one per variable (1: random walk)"},
      {"lambda_grid", "list", nullptr, "candidate lambdas (default 0.01 .. 2)"},
      {"theta_grid", "list", nullptr, "candidate thetas (default 0.1, 0.25, 0.5, 0.75, 1)"},
      {"decay_grid", "list", nullptr, "candidate decays (default 0.5, 1, 1.5, 2)"},
      {"check_stability", "bool", true, "compute companion eigenvalues of the posterior mean"},
      {"draws", "int", 2000, "posterior predictive draws for intervals"},
      {"seed", "int", 42, "seed of the simulation"},
  };
}

}  // namespace almanac::models::var
