// VarFamilyModel (shared by VAR and BVAR) and the OLS VAR forecaster.
#include "models/var/var_model.h"

#include <algorithm>
#include <cmath>

#include <boost/math/distributions/fisher_f.hpp>

#include "almanac/core/time_series.h"

#include "models/var/paths.h"

namespace almanac::models::var {
namespace {

// The largest stacked system (horizon x variables) for conditional forecasts: the algebra works
// on dense (HK x HK) matrices.
constexpr int kMaxConditionalSize = 3000;

}  // namespace

// ---- VarFamilyModel --------------------------------------------------------------------------

Status VarFamilyModel::CheckPredict(const MultiPredictRequest& request) const {
  if (!request.conditions.empty() && request.horizon * static_cast<int>(names_.size()) > kMaxConditionalSize)
    return InvalidArgumentError("conditional forecasts support at most " + std::to_string(kMaxConditionalSize) +
                                " (horizon x variables) values; got horizon " + std::to_string(request.horizon) +
                                " with " + std::to_string(names_.size()) + " variables");
  return Status::Ok();
}

Result<VarFamilyModel::Gaussian> VarFamilyModel::GaussianForecast(const MatrixXd& b, const MatrixXd& sigma,
                                                                  const MultiPredictRequest& request) const {
  const int k = static_cast<int>(names_.size());
  const int horizon = request.horizon;
  Gaussian g;
  g.mean = PointForecast(b, p_, trend_, y_, horizon);
  ALMANAC_ASSIGN_OR_RETURN(g.conditions, IndexConditions(request.conditions, names_, horizon));
  const auto phi = MaRep(b, k, p_, NumDeterministic(trend_), horizon);
  ALMANAC_ASSIGN_OR_RETURN(MatrixXd chol, CholeskyLower(sigma, "the residual covariance"));
  g.impact = ImpactMatrix(phi, chol, horizon);
  VectorXd gaps(static_cast<int>(g.conditions.rows.size()));
  for (size_t i = 0; i < g.conditions.rows.size(); ++i) {
    const int row = g.conditions.rows[i];
    gaps(static_cast<int>(i)) = g.conditions.values[i] - g.mean(row / k, row % k);
  }
  ALMANAC_ASSIGN_OR_RETURN(g.shocks, SolveConditions(g.impact, g.conditions.rows, gaps));
  return g;
}

void VarFamilyModel::DrawPath(const Gaussian& g, Rng& rng, int k, MatrixXd* path) {
  const int n = static_cast<int>(g.impact.cols());
  VectorXd z(n);
  for (int i = 0; i < n; ++i) z(i) = rng.Normal();
  const VectorXd eps = g.shocks.eps_star + g.shocks.free_proj * z;
  const VectorXd e = g.impact * eps;
  *path = g.mean;
  for (int i = 0; i < n; ++i) (*path)(i / k, i % k) += e(i);
  // Conditioned values are met exactly (not up to rounding).
  for (size_t c = 0; c < g.conditions.rows.size(); ++c) {
    const int row = g.conditions.rows[c];
    (*path)(row / k, row % k) = g.conditions.values[c];
  }
}

MultiForecast VarFamilyModel::NewForecast(int horizon) const {
  MultiForecast f;
  f.names = names_;
  if (start_) f.first_period = *start_ + y_.rows();
  f.mean.assign(names_.size(), std::vector<double>(static_cast<size_t>(horizon)));
  f.notes = CommonNotes();
  return f;
}

std::vector<std::string> VarFamilyModel::CommonNotes() const { return notes_; }

void VarFamilyModel::Finish() {
  const int k = static_cast<int>(names_.size());
  stability_ = Stability();
  if (check_stability_) {
    stability_ = CheckStability(b_, k, p_, NumDeterministic(trend_), names_);
    if (!stability_.stable) {
      std::string vars;
      for (const auto& v : stability_.explosive_variables) vars += (vars.empty() ? "" : ", ") + v;
      notes_.push_back("the fitted VAR is not stable: the largest companion eigenvalue has modulus " +
                       FormatDouble(stability_.moduli[0]) + " >= 1 (non-stationary or explosive dynamics in " + vars +
                       "); consider differencing those variables");
    }
  }
  set_fitted(true);
}

void VarFamilyModel::FillDescription(MultiDescription* d) const {
  d->type = spec().type;
  d->names = names_;
  d->lags = p_;
  d->trend = std::string(VarTrendName(trend_));
  d->nobs = static_cast<int>(y_.rows()) - p_;
  d->regressors = RegressorNames(names_, p_, trend_);
  d->coefficients = ToNested(b_);
  d->sigma_u = ToNested(sigma_u_);
  d->eigen_moduli = stability_.moduli;
  d->stable = stability_.stable;
  d->notes = notes_;
}

Json VarFamilyModel::SaveCommon() const {
  Json data = Json::array();
  for (int i = 0; i < y_.cols(); ++i) {
    Json col = Json::array();
    for (int t = 0; t < y_.rows(); ++t) col.push_back(y_(t, i));
    data.push_back(std::move(col));
  }
  return Json{{"names", names_},
              {"start", start_ ? Json(start_->ToString()) : Json(nullptr)},
              {"start_frequency", start_ ? Json(std::string(FrequencyCode(start_->frequency()))) : Json(nullptr)},
              {"data", std::move(data)},
              {"lags", p_},
              {"trend", std::string(VarTrendName(trend_))},
              {"coefficients", MatrixToJson(b_)},
              {"sigma_u", MatrixToJson(sigma_u_)},
              {"notes", notes_}};
}

Status VarFamilyModel::LoadCommon(const Json& s) {
  names_ = s.at("names").get<std::vector<std::string>>();
  const int k = static_cast<int>(names_.size());
  if (k == 0) return DataLossError("model state has no variables");
  start_.reset();
  if (!s.at("start").is_null()) {
    ALMANAC_ASSIGN_OR_RETURN(Frequency f, ParseFrequency(s.at("start_frequency").get<std::string>()));
    ALMANAC_ASSIGN_OR_RETURN(Period p, Period::Parse(s.at("start").get<std::string>(), f));
    start_ = p;
  }
  const Json& data = s.at("data");
  if (!data.is_array() || static_cast<int>(data.size()) != k)
    return DataLossError("model state data do not match names");
  const int t_len = static_cast<int>(data[0].size());
  y_ = MatrixXd(t_len, k);
  for (int i = 0; i < k; ++i) {
    const auto col = data[i].get<std::vector<double>>();
    if (static_cast<int>(col.size()) != t_len) return DataLossError("model state data are ragged");
    for (int t = 0; t < t_len; ++t) y_(t, i) = col[t];
  }
  p_ = s.at("lags").get<int>();
  ALMANAC_ASSIGN_OR_RETURN(trend_, ParseVarTrend(s.at("trend").get<std::string>()));
  ALMANAC_ASSIGN_OR_RETURN(b_, MatrixFromJson(s.at("coefficients"), "coefficients"));
  ALMANAC_ASSIGN_OR_RETURN(sigma_u_, MatrixFromJson(s.at("sigma_u"), "sigma_u"));
  if (p_ < 0 || b_.rows() != NumDeterministic(trend_) + k * p_ || b_.cols() != k || sigma_u_.rows() != k ||
      sigma_u_.cols() != k || t_len <= p_)
    return DataLossError("inconsistent VAR model state");
  notes_ = s.at("notes").get<std::vector<std::string>>();
  return Status::Ok();
}

Result<VarianceDecomposition> VarFamilyModel::Fevd(int periods) const {
  ALMANAC_RETURN_IF_ERROR(RequireFitted());
  if (periods < 1 || periods > kMaxHorizon)
    return InvalidArgumentError("FEVD periods must be in 1.." + std::to_string(kMaxHorizon));
  const int k = static_cast<int>(names_.size());
  const auto phi = MaRep(b_, k, p_, NumDeterministic(trend_), periods);
  ALMANAC_ASSIGN_OR_RETURN(MatrixXd chol, CholeskyLower(sigma_u_, "the residual covariance"));
  const auto mse = ForecastMse(phi, sigma_u_, periods);
  VarianceDecomposition out;
  out.names = names_;
  out.share.assign(
      static_cast<size_t>(k),
      std::vector<std::vector<double>>(static_cast<size_t>(periods), std::vector<double>(static_cast<size_t>(k))));
  MatrixXd acc = MatrixXd::Zero(k, k);
  for (int h = 0; h < periods; ++h) {
    acc += (phi[h] * chol).cwiseAbs2();
    for (int i = 0; i < k; ++i)
      for (int j = 0; j < k; ++j) out.share[i][h][j] = acc(i, j) / mse[h](i, i);
  }
  return out;
}

Result<SimulatedPaths> VarFamilyModel::SimulatePaths(const PathSimulationRequest& request) const {
  ALMANAC_RETURN_IF_ERROR(RequireFitted());
  PathModel m;
  m.names = names_;
  if (start_) m.first_period = *start_ + y_.rows();
  m.y = &y_;
  m.b = b_;
  m.p = p_;
  m.trend = trend_;
  m.sigma = sigma_u_;
  if (request.shocks == ShockDistribution::kBootstrap) m.resid = CentredResiduals(y_, b_, p_, trend_);
  m.draw_coefficients = PosteriorSampler();
  m.model_label = (spec().type == "bvar" ? "BVAR(" : "VAR(") + std::to_string(p_) + ")";
  ALMANAC_ASSIGN_OR_RETURN(SimulatedPaths out, SimulateVarPaths(m, request));
  out.notes = CommonNotes();
  return out;
}

// ---- The OLS VAR -------------------------------------------------------------------------------

namespace {

struct VarSettings {
  int lags = 1;
  std::optional<int> max_lags;
  std::optional<InfoCriterion> ic;
  VarTrend trend = VarTrend::kConstant;
  bool check_stability = true;
  int draws = 1000;
  std::uint64_t seed = 42;
};

Result<VarSettings> ParseVarSettings(const Json& params) {
  VarSettings s;
  ALMANAC_ASSIGN_OR_RETURN(s.lags, GetIntParam(params, "lags", 1));
  if (s.lags < 0) return InvalidArgumentError("parameter 'lags' must be at least 0");
  if (params.is_object() && params.contains("max_lags") && !params["max_lags"].is_null()) {
    ALMANAC_ASSIGN_OR_RETURN(int m, GetIntParam(params, "max_lags", 0));
    if (m < 1) return InvalidArgumentError("parameter 'max_lags' must be at least 1");
    s.max_lags = m;
  }
  ALMANAC_ASSIGN_OR_RETURN(std::string ic, GetStringParam(params, "ic", ""));
  if (!ic.empty()) {
    ALMANAC_ASSIGN_OR_RETURN(InfoCriterion c, ParseInfoCriterion(ic));
    s.ic = c;
  } else if (s.max_lags) {
    s.ic = InfoCriterion::kAic;  // max_lags alone selects by AIC
  }
  ALMANAC_ASSIGN_OR_RETURN(std::string trend, GetStringParam(params, "trend", "c"));
  ALMANAC_ASSIGN_OR_RETURN(s.trend, ParseVarTrend(trend));
  ALMANAC_ASSIGN_OR_RETURN(s.check_stability, GetBoolParam(params, "check_stability", true));
  ALMANAC_ASSIGN_OR_RETURN(s.draws, GetIntParam(params, "draws", 1000));
  if (s.draws < 10 || s.draws > 1000000) return InvalidArgumentError("parameter 'draws' must be in 10..1000000");
  ALMANAC_ASSIGN_OR_RETURN(int seed, GetIntParam(params, "seed", 42));
  if (seed < 0) return InvalidArgumentError("parameter 'seed' must be non-negative");
  s.seed = static_cast<std::uint64_t>(seed);
  return s;
}

Json SelectionToJson(const LagOrderSelection& s) {
  return Json{{"max_lags", s.max_lags},
              {"nobs", s.nobs},
              {"lags", s.lags},
              {"aic", s.aic},
              {"bic", s.bic},
              {"hqic", s.hqic},
              {"fpe", s.fpe},
              {"aic_order", s.aic_order},
              {"bic_order", s.bic_order},
              {"hqic_order", s.hqic_order},
              {"fpe_order", s.fpe_order}};
}

LagOrderSelection SelectionFromJson(const Json& j) {
  LagOrderSelection s;
  s.max_lags = j.at("max_lags").get<int>();
  s.nobs = j.at("nobs").get<int>();
  s.lags = j.at("lags").get<std::vector<int>>();
  s.aic = j.at("aic").get<std::vector<double>>();
  s.bic = j.at("bic").get<std::vector<double>>();
  s.hqic = j.at("hqic").get<std::vector<double>>();
  s.fpe = j.at("fpe").get<std::vector<double>>();
  s.aic_order = j.at("aic_order").get<int>();
  s.bic_order = j.at("bic_order").get<int>();
  s.hqic_order = j.at("hqic_order").get<int>();
  s.fpe_order = j.at("fpe_order").get<int>();
  return s;
}

// Information criteria of one fit (statsmodels VARResults.info_criteria and llf).
struct Criteria {
  double loglik = kNaN, aic = kNaN, bic = kNaN, hqic = kNaN, fpe = kNaN;
};

Result<Criteria> ComputeCriteria(const OlsFit& fit, int k, const std::vector<std::string>& names) {
  const int d = NumDeterministic(fit.trend);
  const double n = fit.nobs;
  const double df_model = k * fit.p + d;
  const double df_resid = n - df_model;
  const MatrixXd sigma_mle = fit.sse / n;
  Eigen::LLT<MatrixXd> llt(sigma_mle);
  if (llt.info() != Eigen::Success) {
    std::string list;
    for (const auto& v : names) list += (list.empty() ? "" : ", ") + v;
    return InvalidArgumentError("collinear system: the residual covariance of the VAR(" + std::to_string(fit.p) +
                                ") is singular (variables " + list + " are linearly dependent)");
  }
  double ld = 0;
  for (int i = 0; i < k; ++i) ld += 2 * std::log(llt.matrixL()(i, i));
  const double free_params = fit.p * k * k + k * d;
  Criteria c;
  c.aic = ld + 2.0 / n * free_params;
  c.bic = ld + std::log(n) / n * free_params;
  c.hqic = ld + 2.0 * std::log(std::log(n)) / n * free_params;
  c.fpe = std::pow((n + df_model) / df_resid, k) * std::exp(ld);
  c.loglik = -(n * k / 2) * std::log(2 * M_PI) - (n / 2) * (ld + k);
  return c;
}

// The largest order statsmodels can estimate: (T - K - d) / (1 + K).
int MaxEstimable(int t_len, int k, VarTrend trend) { return (t_len - k - NumDeterministic(trend)) / (1 + k); }

Status CheckSelectable(int t_len, int k, int max_lags, VarTrend trend) {
  if (max_lags < 1) return InvalidArgumentError("max_lags must be at least 1");
  const int max_est = MaxEstimable(t_len, k, trend);
  if (max_lags > max_est)
    return InvalidArgumentError("too few observations to compare VAR orders up to " + std::to_string(max_lags) +
                                " in " + std::to_string(k) + " variables: needs at least " +
                                std::to_string(max_lags * (1 + k) + k + NumDeterministic(trend)) +
                                " observations, got " + std::to_string(t_len) +
                                (max_est >= 1 ? " (max_lags <= " + std::to_string(max_est) + " fits)" : ""));
  return Status::Ok();
}

// Lag selection on cross-products built for the common sample (rows max_lags..T-1).
Result<LagOrderSelection> SelectWith(CrossProducts& cp, int max_lags, VarTrend trend, int k, const MultiInput& meta) {
  LagOrderSelection sel;
  sel.max_lags = max_lags;
  sel.nobs = cp.nobs();
  const int p_min = trend == VarTrend::kNone ? 1 : 0;
  ALMANAC_ASSIGN_OR_RETURN(std::vector<MatrixXd> sse, cp.SsePerOrder(p_min, meta));
  for (int p = p_min; p <= max_lags; ++p) {
    OlsFit fit;
    fit.p = p;
    fit.trend = trend;
    fit.nobs = cp.nobs();
    fit.sse = std::move(sse[static_cast<size_t>(p - p_min)]);
    ALMANAC_ASSIGN_OR_RETURN(Criteria c, ComputeCriteria(fit, k, meta.names));
    sel.lags.push_back(p);
    sel.aic.push_back(c.aic);
    sel.bic.push_back(c.bic);
    sel.hqic.push_back(c.hqic);
    sel.fpe.push_back(c.fpe);
  }
  auto argmin = [&](const std::vector<double>& v) {
    return sel.lags[static_cast<size_t>(std::min_element(v.begin(), v.end()) - v.begin())];
  };
  sel.aic_order = argmin(sel.aic);
  sel.bic_order = argmin(sel.bic);
  sel.hqic_order = argmin(sel.hqic);
  sel.fpe_order = argmin(sel.fpe);
  return sel;
}

Result<LagOrderSelection> SelectOrderMatrix(const MatrixXd& y, int max_lags, VarTrend trend, const MultiInput& meta) {
  const int k = static_cast<int>(y.cols());
  ALMANAC_RETURN_IF_ERROR(CheckSelectable(static_cast<int>(y.rows()), k, max_lags, trend));
  CrossProducts cp(y, max_lags, trend, max_lags);
  return SelectWith(cp, max_lags, trend, k, meta);
}

MultiInput MetaOf(const std::vector<std::string>& names, std::optional<Period> start) {
  MultiInput m;
  m.names = names;
  m.start = start;
  return m;
}

class VarModel : public VarFamilyModel {
 public:
  using VarFamilyModel::VarFamilyModel;

  Status Fit(const MultiInput& data) override {
    set_fitted(false);
    notes_.clear();
    selection_.reset();
    ALMANAC_ASSIGN_OR_RETURN(VarSettings s, ParseVarSettings(spec().params));
    ALMANAC_ASSIGN_OR_RETURN(y_, ToMatrix(data));
    names_ = data.names;
    start_ = data.start;
    trend_ = s.trend;
    check_stability_ = s.check_stability;
    draws_ = s.draws;
    seed_ = s.seed;
    const int k = data.num_vars();
    const int t_len = static_cast<int>(y_.rows());
    p_ = s.lags;
    std::optional<OlsFit> reuse;
    if (s.ic) {
      int max_lags = s.max_lags ? *s.max_lags
                                : std::min(static_cast<int>(std::lround(12 * std::pow(t_len / 100.0, 0.25))),
                                           MaxEstimable(t_len, k, s.trend));
      ALMANAC_RETURN_IF_ERROR(CheckSelectable(t_len, k, max_lags, s.trend));
      CrossProducts cp(y_, max_lags, s.trend, max_lags);
      ALMANAC_ASSIGN_OR_RETURN(LagOrderSelection sel, SelectWith(cp, max_lags, s.trend, k, data));
      p_ = sel.Selected(*s.ic);
      ic_ = *s.ic;
      selection_ = std::move(sel);
      // The largest order's fit uses the selection's sample: no second pass over the data.
      if (p_ == max_lags) {
        ALMANAC_ASSIGN_OR_RETURN(OlsFit f, cp.FitFromFactor(p_, data));
        reuse = std::move(f);
      }
    }
    OlsFit fit;
    if (reuse) {
      fit = std::move(*reuse);
    } else {
      ALMANAC_ASSIGN_OR_RETURN(fit, FitVarOls(y_, p_, trend_, false, data));
    }
    b_ = std::move(fit.b);
    const double df_resid = fit.nobs - (k * p_ + NumDeterministic(trend_));
    sigma_u_ = fit.sse / df_resid;
    ALMANAC_ASSIGN_OR_RETURN(Criteria c, ComputeCriteria(fit, k, names_));
    criteria_ = c;
    if (fit.rcond < 1e-9)
      notes_.push_back("the regressors are nearly collinear (reciprocal condition " + FormatDouble(fit.rcond) +
                       "); coefficients may be unreliable");
    Finish();
    return Status::Ok();
  }

  Result<MultiForecast> PredictFitted(const MultiPredictRequest& request) const override {
    ALMANAC_RETURN_IF_ERROR(CheckPredict(request));
    const int k = static_cast<int>(names_.size());
    const int horizon = request.horizon;
    MultiForecast f = NewForecast(horizon);
    std::vector<double> sd(static_cast<size_t>(k * horizon));
    MatrixXd mean;
    std::optional<Gaussian> g;
    if (request.conditions.empty()) {
      mean = PointForecast(b_, p_, trend_, y_, horizon);
      const auto phi = MaRep(b_, k, p_, NumDeterministic(trend_), horizon);
      const auto mse = ForecastMse(phi, sigma_u_, horizon);
      for (int h = 0; h < horizon; ++h)
        for (int i = 0; i < k; ++i) sd[h * k + i] = std::sqrt(std::max(0.0, mse[h](i, i)));
      f.interval_method =
          "analytic: Gaussian, forecast MSE without parameter uncertainty (statsmodels forecast_interval)";
    } else {
      ALMANAC_ASSIGN_OR_RETURN(Gaussian gf, GaussianForecast(b_, sigma_u_, request));
      g = std::move(gf);
      const int n = horizon * k;
      const VectorXd shift = g->impact * g->shocks.eps_star;
      const MatrixXd mp = g->impact * g->shocks.free_proj;
      mean = g->mean;
      for (int r = 0; r < n; ++r) {
        mean(r / k, r % k) += shift(r);
        sd[r] = std::sqrt(std::max(0.0, mp.row(r).dot(g->impact.row(r))));
      }
      for (size_t c = 0; c < g->conditions.rows.size(); ++c) {
        const int row = g->conditions.rows[c];
        mean(row / k, row % k) = g->conditions.values[c];
        sd[row] = 0;
      }
      f.interval_method =
          "analytic: Gaussian conditional on the paths (Waggoner-Zha hard conditions), without parameter uncertainty";
    }
    for (int i = 0; i < k; ++i)
      for (int h = 0; h < horizon; ++h) f.mean[i][h] = mean(h, i);
    for (double level : request.levels) {
      const double z = IntervalZ(level);
      MultiInterval iv;
      iv.level = level;
      iv.lower = iv.upper = f.mean;
      for (int i = 0; i < k; ++i)
        for (int h = 0; h < horizon; ++h) {
          iv.lower[i][h] -= z * sd[h * k + i];
          iv.upper[i][h] += z * sd[h * k + i];
        }
      f.intervals.push_back(std::move(iv));
    }
    if (request.keep_samples) {
      if (!g) {
        MultiPredictRequest plain = request;
        plain.conditions.clear();
        ALMANAC_ASSIGN_OR_RETURN(Gaussian gf, GaussianForecast(b_, sigma_u_, plain));
        g = std::move(gf);
      }
      Rng rng(seed_);
      f.samples.assign(static_cast<size_t>(k), std::vector<std::vector<double>>(static_cast<size_t>(horizon)));
      MatrixXd path;
      for (int d = 0; d < draws_; ++d) {
        DrawPath(*g, rng, k, &path);
        for (int i = 0; i < k; ++i)
          for (int h = 0; h < horizon; ++h) f.samples[i][h].push_back(path(h, i));
      }
    }
    return f;
  }

  Result<MultiDescription> DescribeFitted() const override {
    MultiDescription d;
    FillDescription(&d);
    d.method = "VAR(" + std::to_string(p_) + ")";
    switch (trend_) {
      case VarTrend::kNone:
        d.method += ", no deterministic terms";
        break;
      case VarTrend::kConstant:
        d.method += ", constant";
        break;
      case VarTrend::kConstantTrend:
        d.method += ", constant and trend";
        break;
    }
    if (selection_)
      d.method +=
          ", order by " + std::string(InfoCriterionName(ic_)) + " (max " + std::to_string(selection_->max_lags) + ")";
    d.loglik = criteria_.loglik;
    d.aic = criteria_.aic;
    d.bic = criteria_.bic;
    d.hqic = criteria_.hqic;
    d.fpe = criteria_.fpe;
    d.selection = selection_;
    ALMANAC_ASSIGN_OR_RETURN(OlsFit fit, FitVarOls(y_, p_, trend_, true, MetaOf(names_, start_)));
    const int m = static_cast<int>(b_.rows());
    const int k = static_cast<int>(names_.size());
    d.std_errors.assign(static_cast<size_t>(m), std::vector<double>(static_cast<size_t>(k)));
    for (int r = 0; r < m; ++r)
      for (int e = 0; e < k; ++e) d.std_errors[r][e] = std::sqrt(fit.zz_inv(r, r) * sigma_u_(e, e));
    return d;
  }

  Result<ImpulseResponse> ImpulseResponses(const IrfOptions& o) const override {
    ALMANAC_RETURN_IF_ERROR(RequireFitted());
    ALMANAC_RETURN_IF_ERROR(CheckIrfOptions(o));
    const int k = static_cast<int>(names_.size());
    const int d = NumDeterministic(trend_);
    ImpulseResponse out;
    out.names = names_;
    out.orthogonal = o.orthogonal;
    ALMANAC_ASSIGN_OR_RETURN(auto point, ComputeResponses(b_, sigma_u_, k, p_, trend_, o));
    out.response = point;
    if (o.replications == 0) return out;
    // Residual bootstrap (Efron): resample centred residuals with replacement, rebuild the data
    // recursively from the first p observations, refit the VAR(p), recompute the responses.
    const int t_len = static_cast<int>(y_.rows());
    const int n = t_len - p_;
    MatrixXd resid(n, k);
    for (int t = p_; t < t_len; ++t) {
      VectorXd f = VectorXd::Zero(k);
      if (d >= 1) f += b_.row(0).transpose();
      if (d >= 2) f += static_cast<double>(t + 1) * b_.row(1).transpose();
      for (int j = 1; j <= p_; ++j) f += b_.block(d + k * (j - 1), 0, k, k).transpose() * y_.row(t - j).transpose();
      resid.row(t - p_) = y_.row(t) - f.transpose();
    }
    resid.rowwise() -= resid.colwise().mean();
    Rng rng(o.seed);
    std::vector<std::vector<std::vector<std::vector<double>>>> draws(
        static_cast<size_t>(o.periods + 1),
        std::vector<std::vector<std::vector<double>>>(static_cast<size_t>(k),
                                                      std::vector<std::vector<double>>(static_cast<size_t>(k))));
    const MultiInput meta = MetaOf(names_, start_);
    int failed = 0;
    MatrixXd ys(t_len, k);
    for (int r = 0; r < o.replications; ++r) {
      ys.topRows(p_) = y_.topRows(p_);
      for (int t = p_; t < t_len; ++t) {
        VectorXd f = VectorXd::Zero(k);
        if (d >= 1) f += b_.row(0).transpose();
        if (d >= 2) f += static_cast<double>(t + 1) * b_.row(1).transpose();
        for (int j = 1; j <= p_; ++j) f += b_.block(d + k * (j - 1), 0, k, k).transpose() * ys.row(t - j).transpose();
        ys.row(t) = f.transpose() + resid.row(static_cast<int>(rng.Index(static_cast<std::uint64_t>(n))));
      }
      auto fit = FitVarOls(ys, p_, trend_, false, meta);
      if (!fit.ok()) {
        ++failed;
        continue;
      }
      const MatrixXd sig = fit->sse / (fit->nobs - (k * p_ + d));
      auto resp = ComputeResponses(fit->b, sig, k, p_, trend_, o);
      if (!resp.ok()) {
        ++failed;
        continue;
      }
      for (int h = 0; h <= o.periods; ++h)
        for (int i = 0; i < k; ++i)
          for (int j = 0; j < k; ++j) draws[h][i][j].push_back((*resp)[h][i][j]);
    }
    if (o.replications - failed < 10)
      return FailedPreconditionError("IRF bootstrap: too few successful replications (" +
                                     std::to_string(o.replications - failed) + " of " + std::to_string(o.replications) +
                                     ")");
    FillBands(draws, o, &out);
    out.replications = o.replications - failed;
    out.band_method = "residual bootstrap, " + std::to_string(out.replications) + " replications, seed " +
                      std::to_string(o.seed) + ", percentile bands";
    return out;
  }

  Result<CausalityTest> Granger(std::span<const std::string> caused,
                                std::span<const std::string> causing) const override {
    ALMANAC_RETURN_IF_ERROR(RequireFitted());
    if (p_ == 0) return FailedPreconditionError("cannot test Granger causality in a VAR with 0 lags");
    ALMANAC_ASSIGN_OR_RETURN(std::vector<int> ed, Indices(caused, "caused"));
    std::vector<int> ing;
    if (causing.empty()) {
      for (int i = 0; i < static_cast<int>(names_.size()); ++i)
        if (std::find(ed.begin(), ed.end(), i) == ed.end()) ing.push_back(i);
    } else {
      ALMANAC_ASSIGN_OR_RETURN(ing, Indices(causing, "causing"));
    }
    for (int i : ing)
      if (std::find(ed.begin(), ed.end(), i) != ed.end())
        return InvalidArgumentError("variable " + names_[i] + " is both caused and causing");
    if (ing.empty()) return InvalidArgumentError("no causing variables");
    const int k = static_cast<int>(names_.size());
    const int d = NumDeterministic(trend_);
    ALMANAC_ASSIGN_OR_RETURN(OlsFit fit, FitVarOls(y_, p_, trend_, true, MetaOf(names_, start_)));
    std::vector<std::pair<int, int>> restricted;  // (regressor row, equation)
    for (int j = 0; j < p_; ++j)
      for (int a : ing)
        for (int e : ed) restricted.emplace_back(d + k * j + a, e);
    const int q = static_cast<int>(restricted.size());
    VectorXd cb(q);
    MatrixXd cov(q, q);
    for (int a = 0; a < q; ++a) {
      cb(a) = b_(restricted[a].first, restricted[a].second);
      for (int c = 0; c < q; ++c)
        cov(a, c) =
            fit.zz_inv(restricted[a].first, restricted[c].first) * sigma_u_(restricted[a].second, restricted[c].second);
    }
    Eigen::LDLT<MatrixXd> ldlt(cov);
    if (ldlt.info() != Eigen::Success) return InternalError("Granger test: singular restriction covariance");
    const double wald = cb.dot(ldlt.solve(cb));
    CausalityTest t;
    for (int e : ed) t.caused.push_back(names_[e]);
    for (int a : ing) t.causing.push_back(names_[a]);
    t.statistic = wald / q;
    t.df_num = q;
    t.df_den = k * (fit.nobs - (k * p_ + d));
    try {
      boost::math::fisher_f dist(t.df_num, t.df_den);
      t.pvalue = boost::math::cdf(boost::math::complement(dist, t.statistic));
      t.crit_value = boost::math::quantile(dist, 0.95);
    } catch (const std::exception& e) {
      return InternalError(std::string("Granger test: F distribution: ") + e.what());
    }
    return t;
  }

  Result<Json> SaveFitted() const override {
    Json s = SaveCommon();
    s["loglik"] = FiniteOrNull(criteria_.loglik);
    s["aic"] = FiniteOrNull(criteria_.aic);
    s["bic"] = FiniteOrNull(criteria_.bic);
    s["hqic"] = FiniteOrNull(criteria_.hqic);
    s["fpe"] = FiniteOrNull(criteria_.fpe);
    s["selection"] = selection_ ? SelectionToJson(*selection_) : Json(nullptr);
    s["ic"] = selection_ ? Json(std::string(InfoCriterionName(ic_))) : Json(nullptr);
    return s;
  }

  Status Load(const Json& s) {
    ALMANAC_ASSIGN_OR_RETURN(VarSettings settings, ParseVarSettings(spec().params));
    check_stability_ = settings.check_stability;
    draws_ = settings.draws;
    seed_ = settings.seed;
    ALMANAC_RETURN_IF_ERROR(LoadCommon(s));
    criteria_.loglik = NumberOrNaN(s.at("loglik"));
    criteria_.aic = NumberOrNaN(s.at("aic"));
    criteria_.bic = NumberOrNaN(s.at("bic"));
    criteria_.hqic = NumberOrNaN(s.at("hqic"));
    criteria_.fpe = NumberOrNaN(s.at("fpe"));
    selection_.reset();
    if (!s.at("selection").is_null()) {
      selection_ = SelectionFromJson(s.at("selection"));
      ALMANAC_ASSIGN_OR_RETURN(ic_, ParseInfoCriterion(s.at("ic").get<std::string>()));
    }
    // Notes were saved with the state; recompute stability without adding them again.
    std::vector<std::string> notes = notes_;
    Finish();
    notes_ = std::move(notes);
    return Status::Ok();
  }

 private:
  Result<std::vector<int>> Indices(std::span<const std::string> vars, std::string_view role) const {
    std::vector<int> out;
    if (vars.empty()) return InvalidArgumentError(std::string("no ") + std::string(role) + " variables given");
    for (const auto& v : vars) {
      auto it = std::find(names_.begin(), names_.end(), v);
      if (it == names_.end()) {
        std::string list;
        for (const auto& n : names_) list += (list.empty() ? "" : ", ") + n;
        return NotFoundError("unknown variable '" + v + "' (the model's variables: " + list + ")");
      }
      const int i = static_cast<int>(it - names_.begin());
      if (std::find(out.begin(), out.end(), i) == out.end()) out.push_back(i);
    }
    return out;
  }

  std::optional<LagOrderSelection> selection_;
  InfoCriterion ic_ = InfoCriterion::kAic;
  Criteria criteria_;
};

}  // namespace

Result<Responses3> ComputeResponses(const MatrixXd& b, const MatrixXd& sigma, int k, int p, VarTrend trend,
                                    const IrfOptions& o) {
  const auto phi = MaRep(b, k, p, NumDeterministic(trend), o.periods + 1);
  MatrixXd chol = MatrixXd::Identity(k, k);
  if (o.orthogonal) {
    ALMANAC_ASSIGN_OR_RETURN(chol, CholeskyLower(sigma, "the residual covariance"));
  }
  Responses3 out;
  for (int h = 0; h <= o.periods; ++h) out.push_back(ToNested(phi[h] * chol));
  return out;
}

Status CheckIrfOptions(const IrfOptions& o) {
  if (o.periods < 0 || o.periods > kMaxHorizon)
    return InvalidArgumentError("IRF periods must be in 0.." + std::to_string(kMaxHorizon));
  if (o.replications < 0 || o.replications > 100000)
    return InvalidArgumentError("IRF replications must be in 0..100000");
  if (o.replications > 0 && !(o.level > 0 && o.level < 100))
    return InvalidArgumentError("IRF band level must be in (0, 100)");
  return Status::Ok();
}

void FillBands(std::vector<std::vector<std::vector<std::vector<double>>>>& draws, const IrfOptions& o,
               ImpulseResponse* out) {
  out->level = o.level;
  const double a = (1 - o.level / 100) / 2;
  out->lower = out->upper = out->response;
  for (size_t h = 0; h < draws.size(); ++h)
    for (size_t i = 0; i < draws[h].size(); ++i)
      for (size_t j = 0; j < draws[h][i].size(); ++j) {
        out->lower[h][i][j] = Quantile7(draws[h][i][j], a);
        out->upper[h][i][j] = Quantile7(draws[h][i][j], 1 - a);
      }
}

Result<LagOrderSelection> SelectOrder(const MultiInput& data, int max_lags, VarTrend trend) {
  ALMANAC_ASSIGN_OR_RETURN(MatrixXd y, ToMatrix(data));
  return SelectOrderMatrix(y, max_lags, trend, data);
}

std::unique_ptr<MultivariateForecaster> NewVarModel(const ModelSpec& spec) { return std::make_unique<VarModel>(spec); }

Result<std::unique_ptr<MultivariateForecaster>> LoadVarModel(const ModelSpec& spec, const Json& state) {
  auto m = std::make_unique<VarModel>(spec);
  ALMANAC_RETURN_IF_ERROR(m->Load(state));
  return std::unique_ptr<MultivariateForecaster>(std::move(m));
}

Status CheckVarParams(const Json& params) { return ParseVarSettings(params).status(); }

ModelType VarModelType() {
  return MultivariateRow(
      "var", "vector autoregression VAR(p) by OLS, lag selection by AIC/BIC/HQ/FPE (statsmodels conventions)",
      ModelKind::kMultivariate, VarParams(), NewVarModel, LoadVarModel, CheckVarParams);
}

std::vector<ParamSpec> VarParams() {
  return {
      {"lags", "int", 1, "lag order p (used when 'ic' is not set)"},
      {"max_lags", "int", nullptr, "largest order compared by 'ic' (default 12 (T/100)^(1/4), statsmodels' rule)"},
      {"ic", "string", nullptr, "select the order by aic, bic, hqic or fpe (statsmodels select_order)"},
      {"trend", "string", "c", "deterministic terms: n (none), c (constant), ct (constant and linear trend)"},
      {"check_stability", "bool", true, "compute companion eigenvalues at fit and note explosive roots"},
      {"draws", "int", 1000, "simulated paths when samples are requested"},
      {"seed", "int", 42, "seed of the simulation"},
  };
}

}  // namespace almanac::models::var
