// The bases of every built-in model (models-internal): they own the spec, whether the model is
// fitted, and the checks every Predict, Describe and SaveState starts with, so those checks and
// their messages are written once ("model is not fitted"; ValidatePredictArgs' horizon and
// level messages).
//
// A model derives from ForecasterBase (univariate) or MultivariateBase and implements the
// *Fitted methods, which run only on a fitted model with valid arguments; it calls
// set_fitted(true) when Fit or Load succeeds (and set_fitted(false) where a refit starts).
// Predict, SaveState (and for multivariate models Describe) are final here: checks first, then
// the model's code, in that order for every model.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "almanac/models.h"

namespace almanac::models {

// FailedPrecondition "model is not fitted": the one message of every model used before Fit.
Status NotFittedError();

// The spec and whether the model is fitted, for either interface (ForecasterBase and
// MultivariateBase below; a model derives from those).
template <typename Interface>
class FittedModel : public Interface {
 public:
  explicit FittedModel(ModelSpec spec) : spec_(std::move(spec)) {}

  const ModelSpec& spec() const final { return spec_; }

 protected:
  bool is_fitted() const { return fitted_; }
  void set_fitted(bool fitted) { fitted_ = fitted; }
  // OK when fitted, else NotFittedError().
  Status RequireFitted() const { return fitted_ ? Status::Ok() : NotFittedError(); }

 private:
  ModelSpec spec_;
  bool fitted_ = false;
};

class ForecasterBase : public FittedModel<Forecaster> {
 public:
  using FittedModel::FittedModel;

  // FailedPrecondition before Fit; ValidatePredictArgs' errors; then PredictFitted().
  Result<Forecast> Predict(int horizon, std::span<const double> levels) const final;
  // FailedPrecondition before Fit; then SaveFitted().
  Result<Json> SaveState() const final;

 protected:
  virtual Result<Forecast> PredictFitted(int horizon, std::span<const double> levels) const = 0;
  virtual Result<Json> SaveFitted() const = 0;
};

// RequireFitted() also serves the analyses (IRF, FEVD, Granger, paths).
class MultivariateBase : public FittedModel<MultivariateForecaster> {
 public:
  using FittedModel::FittedModel;

  // FailedPrecondition before Fit; ValidatePredictArgs' errors (horizon, levels); then
  // PredictFitted().
  Result<MultiForecast> Predict(const MultiPredictRequest& request) const final;
  // FailedPrecondition before Fit; then DescribeFitted() / SaveFitted().
  Result<MultiDescription> Describe() const final;
  Result<Json> SaveState() const final;

 protected:
  virtual Result<MultiForecast> PredictFitted(const MultiPredictRequest& request) const = 0;
  virtual Result<MultiDescription> DescribeFitted() const = 0;
  virtual Result<Json> SaveFitted() const = 0;
};

// The row of a multivariate (or exogenous) model type for the model-type table.
ModelType MultivariateRow(std::string name, std::string description, ModelKind kind, std::vector<ParamSpec> params,
                          std::unique_ptr<MultivariateForecaster> (*create)(const ModelSpec&),
                          Result<std::unique_ptr<MultivariateForecaster>> (*load)(const ModelSpec&, const Json&),
                          Status (*check_params)(const Json&));

}  // namespace almanac::models
