// The VAR-family forecasters (internal). VarFamilyModel holds what VAR and BVAR share: the
// data, the reduced-form coefficients used for point forecasts and analysis, the residual
// covariance, and the conditional-forecast algebra; the subclasses supply estimation,
// intervals, IRF bands and serialization of their own state.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "almanac/models.h"

#include "models/model_base.h"
#include "models/random.h"
#include "models/var/var_core.h"

namespace almanac::models::var {

class VarFamilyModel : public MultivariateBase {
 public:
  explicit VarFamilyModel(ModelSpec spec) : MultivariateBase(std::move(spec)) {}

  Result<VarianceDecomposition> Fevd(int periods) const override;
  // Joint paths (paths.cc); parameter uncertainty through PosteriorSampler().
  Result<SimulatedPaths> SimulatePaths(const PathSimulationRequest& request) const override;

 protected:
  // The checks of a predict request beyond the base's (fitted, horizon, levels): the size of a
  // conditional forecast.
  Status CheckPredict(const MultiPredictRequest& request) const;
  // The analytic Gaussian forecast (unconditional or conditional) for coefficients `b` and
  // shock covariance `sigma`: mean (H x K) and the stacked forecast-error covariance.
  struct Gaussian {
    MatrixXd mean;    // H x K
    MatrixXd impact;  // HK x HK
    ConditionalShocks shocks;
    IndexedConditions conditions;
  };
  Result<Gaussian> GaussianForecast(const MatrixXd& b, const MatrixXd& sigma, const MultiPredictRequest& request) const;
  // A draw of the forecast path from a Gaussian forecast (adds to out[var][h]).
  static void DrawPath(const Gaussian& g, Rng& rng, int k, MatrixXd* path);
  MultiForecast NewForecast(int horizon) const;
  // Notes common to every output (explosive roots, near collinearity).
  std::vector<std::string> CommonNotes() const;
  void FillDescription(MultiDescription* d) const;
  Json SaveCommon() const;
  Status LoadCommon(const Json& state);
  // Stability and notes after a fit.
  void Finish();
  // A posterior draw of the m x K coefficients from m * K standard normals (equation by
  // equation), or empty when the model has no posterior (the OLS VAR).
  virtual std::function<void(const double* z, MatrixXd* b)> PosteriorSampler() const { return {}; }

  std::vector<std::string> names_;
  std::optional<Period> start_;
  MatrixXd y_;  // T x K data
  int p_ = 1;
  VarTrend trend_ = VarTrend::kConstant;
  MatrixXd b_;        // m x K coefficients (point estimates)
  MatrixXd sigma_u_;  // K x K shock covariance used for forecasts and IRFs
  Stability stability_;
  std::vector<std::string> notes_;
  bool check_stability_ = true;
  int draws_ = 1000;
  std::uint64_t seed_ = 42;
};

std::unique_ptr<MultivariateForecaster> NewVarModel(const ModelSpec& spec);
std::unique_ptr<MultivariateForecaster> NewBvarModel(const ModelSpec& spec);
// Rebuild fitted models from their saved state (DataLoss for malformed state).
Result<std::unique_ptr<MultivariateForecaster>> LoadVarModel(const ModelSpec& spec, const Json& state);
Result<std::unique_ptr<MultivariateForecaster>> LoadBvarModel(const ModelSpec& spec, const Json& state);

// Shared helpers.
using Responses3 = std::vector<std::vector<std::vector<double>>>;
// Impulse responses for h = 0..periods: Phi_h, or Phi_h P with P the Cholesky factor of sigma.
Result<Responses3> ComputeResponses(const MatrixXd& b, const MatrixXd& sigma, int k, int p, VarTrend trend,
                                    const IrfOptions& o);
Status CheckIrfOptions(const IrfOptions& o);
// Percentile bands from draws[h][i][j] (reordered in place) into out->lower/upper.
void FillBands(std::vector<std::vector<std::vector<std::vector<double>>>>& draws, const IrfOptions& o,
               ImpulseResponse* out);
Result<LagOrderSelection> SelectOrder(const MultiInput& data, int max_lags, VarTrend trend);

// The rows of the model-type table (ModelKind::kMultivariate; listed in src/models/builtin.cc).
ModelType VarModelType();
ModelType BvarModelType();

// The ParamSpecs of each type (for validation and help).
std::vector<ParamSpec> VarParams();
std::vector<ParamSpec> BvarParams();
// Value checks of the parameters (InvalidArgument naming the parameter).
Status CheckVarParams(const Json& params);
Status CheckBvarParams(const Json& params);

}  // namespace almanac::models::var
