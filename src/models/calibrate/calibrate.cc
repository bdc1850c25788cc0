#include "models/calibrate/calibrate.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "models/model_base.h"

namespace almanac::models {
namespace {

constexpr double kReferenceLevel = 80.0;

enum class CalibrationMethod { kQuantile, kVariance };

struct Options {
  int origins = 0;  // 0: horizon
  int horizon = 0;  // 0: from the period
  CalibrationMethod method = CalibrationMethod::kVariance;
  int min_errors = 10;
  double min_factor = 1.0;
  double max_factor = 10.0;
};

Json WithoutCalibrateParam(const Json& params) {
  Json p = params.is_object() ? params : Json::object();
  p.erase("calibrate");
  return p;
}

Result<Options> ParseOptions(const Json& params) {
  Options o;
  const Json& c = params.at("calibrate");
  if (c.is_boolean()) return o;  // true (false never gets here)
  if (!c.is_object())
    return InvalidArgumentError("parameter 'calibrate' must be true, false, null or a mapping (origins, horizon, "
                                "method, min_errors, min_factor, max_factor), got " +
                                CompactJson(c));
  const std::vector<std::string> known = {"origins", "horizon", "method", "min_errors", "min_factor", "max_factor"};
  for (auto it = c.begin(); it != c.end(); ++it) {
    if (std::find(known.begin(), known.end(), it.key()) == known.end()) {
      std::string msg = "calibrate has no option '" + it.key() + "'";
      const std::string hint = DidYouMean(it.key(), known);
      if (!hint.empty()) msg += " (did you mean '" + hint + "'?)";
      return InvalidArgumentError(msg);
    }
  }
  ALMANAC_ASSIGN_OR_RETURN(o.origins, GetIntParam(c, "origins", 0));
  if (c.contains("origins") && !c["origins"].is_null() && (o.origins < 1 || o.origins > 500))
    return InvalidArgumentError("calibrate.origins must be in 1..500, got " + std::to_string(o.origins));
  ALMANAC_ASSIGN_OR_RETURN(o.horizon, GetIntParam(c, "horizon", 0));
  if (c.contains("horizon") && !c["horizon"].is_null() && (o.horizon < 1 || o.horizon > 500))
    return InvalidArgumentError("calibrate.horizon must be in 1..500, got " + std::to_string(o.horizon));
  ALMANAC_ASSIGN_OR_RETURN(std::string method, GetStringParam(c, "method", "variance"));
  if (method == "quantile") {
    o.method = CalibrationMethod::kQuantile;
  } else if (method == "variance") {
    o.method = CalibrationMethod::kVariance;
  } else {
    return InvalidArgumentError("calibrate.method must be \"quantile\" or \"variance\", got \"" + method + "\"");
  }
  ALMANAC_ASSIGN_OR_RETURN(o.min_errors, GetIntParam(c, "min_errors", 10));
  if (o.min_errors < 1) return InvalidArgumentError("calibrate.min_errors must be at least 1");
  ALMANAC_ASSIGN_OR_RETURN(o.min_factor, GetNumberParam(c, "min_factor", 1.0));
  ALMANAC_ASSIGN_OR_RETURN(o.max_factor, GetNumberParam(c, "max_factor", 10.0));
  if (!(o.min_factor > 0) || !(o.max_factor >= o.min_factor))
    return InvalidArgumentError("calibrate needs 0 < min_factor <= max_factor, got " + FormatDouble(o.min_factor) +
                                " and " + FormatDouble(o.max_factor));
  return o;
}

int DefaultHorizon(int period) { return period <= 1 ? 6 : std::min(std::max(2 * period, 6), 18); }

// Type-7 quantile (R's default) of sorted values at probability p in [0, 1].
double Quantile(const std::vector<double>& sorted, double p) {
  const double pos = p * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return sorted[lo] + frac * (sorted[hi] - sorted[lo]);
}

class CalibratedForecaster : public ForecasterBase {
 public:
  CalibratedForecaster(ModelSpec spec, Options options, std::unique_ptr<Forecaster> inner,
                       const ForecasterRegistry& registry)
      : ForecasterBase(std::move(spec)),
        inner_spec_{this->spec().type, WithoutCalibrateParam(this->spec().params)},
        options_(options),
        inner_(std::move(inner)),
        registry_(&registry) {}

  Status Fit(const FitInput& input) override {
    set_fitted(false);
    errors_.clear();
    steps_.clear();
    origins_used_ = origins_failed_ = 0;
    ALMANAC_RETURN_IF_ERROR(inner_->Fit(input));
    const int n = static_cast<int>(input.y.size());
    horizon_ = options_.horizon > 0 ? options_.horizon : DefaultHorizon(input.period);
    const int origins = options_.origins > 0 ? options_.origins : horizon_;
    const double z_ref = IntervalZ(kReferenceLevel);
    const double ref_level[] = {kReferenceLevel};
    for (int k = 1; k <= origins; ++k) {
      const int t = n - k;
      if (t < 2 || 2 * t < n) break;
      auto model = registry_->Create(inner_spec_);
      if (!model.ok()) return model.status();  // the same spec worked above: a bug, not data
      const int steps = std::min(horizon_, n - t);
      Result<Forecast> f = (*model)->Fit({input.y.first(static_cast<size_t>(t)), input.period}).ok()
                               ? (*model)->Predict(steps, ref_level)
                               : Result<Forecast>(InvalidArgumentError("fit failed"));
      if (!f.ok()) {
        ++origins_failed_;
        continue;
      }
      ++origins_used_;
      for (int j = 0; j < steps; ++j) {
        const double y = input.y[static_cast<size_t>(t + j)];
        const double m = f->mean[j], lo = f->intervals[0].lower[j], hi = f->intervals[0].upper[j];
        if (!std::isfinite(y) || !std::isfinite(m) || !std::isfinite(lo) || !std::isfinite(hi)) continue;
        const double half = y > m ? hi - m : m - lo;
        if (!(half > 0)) continue;
        steps_.push_back(j + 1);
        errors_.push_back(std::fabs(y - m) * z_ref / half);
      }
    }
    Prepare();
    set_fitted(true);
    return Status::Ok();
  }

  Result<Forecast> PredictFitted(int horizon, std::span<const double> levels) const override {
    ALMANAC_ASSIGN_OR_RETURN(Forecast f, inner_->Predict(horizon, levels));
    if (!Calibrated()) {
      f.notes.push_back(SkipNote());
      return f;
    }
    std::string factors;
    for (auto& iv : f.intervals) {
      for (size_t h = 0; h < iv.lower.size(); ++h) {
        const double c = Factor(iv.level, static_cast<int>(h) + 1);
        iv.lower[h] = f.mean[h] - c * (f.mean[h] - iv.lower[h]);
        iv.upper[h] = f.mean[h] + c * (iv.upper[h] - f.mean[h]);
      }
      factors += (factors.empty() ? "" : ", ") + FormatDouble(iv.level) + "% x" + FormatFixed(Factor(iv.level, 1), 2) +
                 (iv.lower.size() > 1 ? ".." + FormatFixed(Factor(iv.level, static_cast<int>(iv.lower.size())), 2) : "");
    }
    f.notes.push_back(Summary() + (factors.empty() ? "" : "; factors " + factors));
    return f;
  }

  ModelDescription Describe() const override {
    ModelDescription d = inner_->Describe();
    d.type = spec().type;
    Json c = {{"origins", origins_used_},
              {"origins_failed", origins_failed_},
              {"horizon", horizon_},
              {"errors", static_cast<int>(errors_.size())},
              {"method", options_.method == CalibrationMethod::kQuantile ? "quantile" : "variance"}};
    if (Calibrated()) {
      c["factor80_h1"] = Factor(80, 1);
      c["factor95_h1"] = Factor(95, 1);
      c["factor95_hmax"] = Factor(95, horizon_);
    }
    d.params["calibration"] = std::move(c);
    d.notes.push_back(Calibrated() ? Summary() : SkipNote());
    return d;
  }

  std::vector<double> Fitted() const override { return inner_->Fitted(); }

  Result<Json> SaveFitted() const override {
    ALMANAC_ASSIGN_OR_RETURN(Json inner, inner_->SaveState());
    return Json{{"inner", std::move(inner)},
                {"errors", errors_},
                {"steps", steps_},
                {"origins", origins_used_},
                {"origins_failed", origins_failed_},
                {"horizon", horizon_}};
  }

  Status Load(const Json& state) {
    if (!state.is_object() || !state.contains("errors") || !state["errors"].is_array() || !state.contains("inner"))
      return DataLossError("calibrated model state lacks errors or inner state");
    errors_.clear();
    steps_.clear();
    for (const auto& e : state["errors"]) {
      if (!e.is_number() || !(e.get<double>() >= 0))
        return DataLossError("calibrated model state has an invalid error value");
      errors_.push_back(e.get<double>());
    }
    if (!state.contains("steps") || !state["steps"].is_array() || state["steps"].size() != errors_.size())
      return DataLossError("calibrated model state has no step for every error");
    for (const auto& h : state["steps"]) {
      if (!h.is_number_integer() || h.get<int>() < 1) return DataLossError("calibrated model state has an invalid step");
      steps_.push_back(h.get<int>());
    }
    origins_used_ = state.value("origins", 0);
    origins_failed_ = state.value("origins_failed", 0);
    horizon_ = state.value("horizon", 0);
    Prepare();
    set_fitted(true);
    return Status::Ok();
  }

 private:
  bool Calibrated() const { return static_cast<int>(errors_.size()) >= options_.min_errors; }

  // Derived from errors_/steps_ after Fit or Load: the sorted errors (quantile method) and the
  // line c^2(h) = a + b (h - 1) fitted to z^2 by least squares (variance method; b >= 0, else
  // the pooled mean of z^2).
  void Prepare() {
    sorted_ = errors_;
    std::sort(sorted_.begin(), sorted_.end());
    const double n = static_cast<double>(errors_.size());
    var_a_ = var_b_ = 0;
    if (errors_.empty()) return;
    double sh = 0, sz = 0;
    for (size_t i = 0; i < errors_.size(); ++i) {
      sh += steps_[i] - 1;
      sz += errors_[i] * errors_[i];
    }
    const double mh = sh / n, mz = sz / n;
    double sxx = 0, sxy = 0;
    for (size_t i = 0; i < errors_.size(); ++i) {
      const double dx = steps_[i] - 1 - mh;
      sxx += dx * dx;
      sxy += dx * (errors_[i] * errors_[i] - mz);
    }
    var_b_ = sxx > 0 ? sxy / sxx : 0.0;
    if (!(var_b_ > 0) || mz - var_b_ * mh < 0) var_b_ = 0;
    var_a_ = mz - var_b_ * mh;
  }

  // The factor applied to the bounds at `level` for step h (beyond the calibration horizon
  // the factor of its last step).
  double Factor(double level, int h) const {
    double c;
    if (options_.method == CalibrationMethod::kVariance) {
      const int hh = std::min(h, std::max(horizon_, 1));
      c = std::sqrt(std::max(0.0, var_a_ + var_b_ * (hh - 1)));
    } else {
      const double n = static_cast<double>(sorted_.size());
      const double p = std::min(level / 100.0, 1.0 - 1.0 / n);
      c = Quantile(sorted_, p) / NormalQuantile(0.5 + p / 2);
    }
    if (!std::isfinite(c)) c = options_.max_factor;
    return std::clamp(c, options_.min_factor, options_.max_factor);
  }

  std::string Summary() const {
    return "intervals calibrated on " + std::to_string(errors_.size()) + " out-of-sample errors from " +
           std::to_string(origins_used_) + " forecast origin(s) (" +
           (options_.method == CalibrationMethod::kQuantile ? "quantile" : "variance") + " method)";
  }

  std::string SkipNote() const {
    return "interval calibration skipped: only " + std::to_string(errors_.size()) + " out-of-sample errors from " +
           std::to_string(origins_used_) + " forecast origin(s) (" + std::to_string(origins_failed_) +
           " failed; need " + std::to_string(options_.min_errors) + "); the model's own intervals are used";
  }

  ModelSpec inner_spec_;
  Options options_;
  std::unique_ptr<Forecaster> inner_;
  // The registry outlives the model (see the header).
  const ForecasterRegistry* registry_;
  std::vector<double> errors_;  // standardised absolute errors, in origin then step order
  std::vector<int> steps_;      // the forecast step (1-based) of each error
  std::vector<double> sorted_;  // errors_ sorted
  double var_a_ = 0, var_b_ = 0;
  int origins_used_ = 0, origins_failed_ = 0, horizon_ = 0;
};

}  // namespace

bool CalibrationRequested(const Json& params) {
  if (!params.is_object() || !params.contains("calibrate")) return false;
  const Json& c = params.at("calibrate");
  return !c.is_null() && !(c.is_boolean() && !c.get<bool>());
}

Result<std::unique_ptr<Forecaster>> CreateCalibrated(const ModelSpec& spec, const ForecasterRegistry& registry) {
  ALMANAC_ASSIGN_OR_RETURN(Options o, ParseOptions(spec.params));
  ALMANAC_ASSIGN_OR_RETURN(auto inner, registry.Create(ModelSpec{spec.type, WithoutCalibrateParam(spec.params)}));
  return std::unique_ptr<Forecaster>(std::make_unique<CalibratedForecaster>(spec, o, std::move(inner), registry));
}

Result<std::unique_ptr<Forecaster>> LoadCalibrated(const ModelSpec& spec, const Json& state,
                                                   const ForecasterRegistry& registry) {
  ALMANAC_ASSIGN_OR_RETURN(Options o, ParseOptions(spec.params));
  if (!state.is_object() || !state.contains("inner")) return DataLossError("calibrated model state lacks inner state");
  Json env = {{"format", "almanac-model"},
              {"format_version", kModelFormatVersion},
              {"spec", {{"type", spec.type}, {"params", WithoutCalibrateParam(spec.params)}}},
              {"state", state["inner"]}};
  ALMANAC_ASSIGN_OR_RETURN(auto inner, registry.Load(env));
  auto m = std::make_unique<CalibratedForecaster>(spec, o, std::move(inner), registry);
  ALMANAC_RETURN_IF_ERROR(m->Load(state));
  return std::unique_ptr<Forecaster>(std::move(m));
}

}  // namespace almanac::models
