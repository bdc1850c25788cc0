#include "models/combination/combination.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "models/model_base.h"

namespace almanac::models {
namespace {

const char* const kDefaultModels[] = {"auto_ets", "auto_arima", "theta"};

struct CombinationOptions {
  std::vector<ModelSpec> components;
  std::string intervals = "mean";
};

// Reads `models` (names or {type, params} objects) and `intervals`, validating every component
// spec against the registry so a typo fails at creation, not at fit time.
Result<CombinationOptions> ParseOptions(const Json& params, const ForecasterRegistry& registry) {
  CombinationOptions o;
  ALMANAC_ASSIGN_OR_RETURN(o.intervals, GetStringParam(params, "intervals", "mean"));
  if (o.intervals != "mean" && o.intervals != "envelope")
    return InvalidArgumentError("combination: parameter 'intervals' must be \"mean\" or \"envelope\", got \"" +
                                o.intervals + "\"");
  Json models = Json::array();
  if (params.is_object() && params.contains("models") && !params["models"].is_null()) {
    models = params["models"];
  } else {
    for (const char* name : kDefaultModels) models.push_back(name);
  }
  if (!models.is_array() || models.empty())
    return InvalidArgumentError("combination: parameter 'models' must be a non-empty list of model types");
  for (size_t i = 0; i < models.size(); ++i) {
    const Json& item = models[i];
    const std::string where = "combination: models[" + std::to_string(i) + "]";
    ModelSpec spec;
    if (item.is_string()) {
      spec.type = item.get<std::string>();
    } else if (item.is_object() && item.contains("type") && item["type"].is_string()) {
      spec.type = item["type"].get<std::string>();
      for (auto it = item.begin(); it != item.end(); ++it)
        if (it.key() != "type" && it.key() != "params")
          return InvalidArgumentError(where + " has an unknown key '" + it.key() + "' (expected type, params)");
      if (item.contains("params") && !item["params"].is_null()) {
        if (!item["params"].is_object()) return InvalidArgumentError(where + ".params must be a mapping");
        spec.params = item["params"];
      }
    } else {
      return InvalidArgumentError(where + " must be a model type name or a {type, params} mapping, got " +
                                  CompactJson(item));
    }
    Status s = registry.Validate(spec);
    if (!s.ok()) return s.WithContext(where);
    o.components.push_back(std::move(spec));
  }
  return o;
}

class CombinationForecaster : public ForecasterBase {
 public:
  CombinationForecaster(ModelSpec spec, CombinationOptions options, const ForecasterRegistry& registry)
      : ForecasterBase(std::move(spec)), options_(std::move(options)), registry_(&registry) {}

  Status Fit(const FitInput& input) override {
    set_fitted(false);
    components_.clear();
    notes_.clear();
    std::string errors;
    for (size_t i = 0; i < options_.components.size(); ++i) {
      const ModelSpec& cs = options_.components[i];
      auto model = registry_->Create(cs);
      Status s = model.ok() ? (*model)->Fit(input) : model.status();
      if (!s.ok()) {
        const std::string msg =
            "component " + std::to_string(i + 1) + " (" + cs.type + ") failed to fit: " + s.ToString();
        notes_.push_back(msg + "; dropped from the combination");
        errors += (errors.empty() ? "" : "; ") + msg;
        continue;
      }
      components_.push_back(std::move(*model));
    }
    if (components_.empty()) return InvalidArgumentError("combination: no component could be fitted: " + errors);
    set_fitted(true);
    return Status::Ok();
  }

  Result<Forecast> PredictFitted(int horizon, std::span<const double> levels) const override {
    Forecast out;
    out.notes = notes_;
    std::vector<Forecast> parts;
    std::string errors;
    for (const auto& c : components_) {
      Result<Forecast> f = c->Predict(horizon, levels);
      if (!f.ok()) {
        const std::string msg = "component " + c->spec().type + " failed to forecast: " + f.status().ToString();
        out.notes.push_back(msg + "; left out of this forecast");
        errors += (errors.empty() ? "" : "; ") + msg;
        continue;
      }
      for (const auto& note : f->notes) out.notes.push_back(c->spec().type + ": " + note);
      parts.push_back(std::move(*f));
    }
    if (parts.empty()) return OutOfRangeError("combination: no component could forecast: " + errors);
    const double k = static_cast<double>(parts.size());
    out.mean.assign(static_cast<size_t>(horizon), 0.0);
    for (const auto& p : parts)
      for (int h = 0; h < horizon; ++h) out.mean[h] += p.mean[h] / k;
    for (size_t li = 0; li < levels.size(); ++li) {
      PredictionInterval iv{levels[li], {}, {}};
      const bool envelope = options_.intervals == "envelope";
      const double inf = std::numeric_limits<double>::infinity();
      iv.lower.assign(static_cast<size_t>(horizon), envelope ? inf : 0.0);
      iv.upper.assign(static_cast<size_t>(horizon), envelope ? -inf : 0.0);
      for (const auto& p : parts) {
        const PredictionInterval& pi = p.intervals[li];
        for (int h = 0; h < horizon; ++h) {
          if (envelope) {
            iv.lower[h] = std::min(iv.lower[h], pi.lower[h]);
            iv.upper[h] = std::max(iv.upper[h], pi.upper[h]);
          } else {
            iv.lower[h] += pi.lower[h] / k;
            iv.upper[h] += pi.upper[h] / k;
          }
        }
      }
      out.intervals.push_back(std::move(iv));
    }
    return out;
  }

  ModelDescription Describe() const override {
    ModelDescription d;
    d.type = spec().type;
    d.params = Json{{"components", Json::array()}, {"intervals", options_.intervals}};
    std::string methods;
    for (const auto& c : components_) {
      ModelDescription cd = c->Describe();
      methods += (methods.empty() ? "" : ", ") + cd.method;
      d.params["components"].push_back(Json{{"type", cd.type}, {"method", cd.method}, {"params", cd.params}});
      d.nobs = std::max(d.nobs, cd.nobs);
    }
    d.method = "Combination(" + methods + ")";
    d.notes = notes_;
    return d;
  }

  // The mean of the components' fitted values; NaN where any component has none.
  std::vector<double> Fitted() const override {
    std::vector<double> out;
    for (const auto& c : components_) {
      std::vector<double> f = c->Fitted();
      if (out.empty()) {
        out.assign(f.size(), 0.0);
      } else if (f.size() != out.size()) {
        return std::vector<double>(out.size(), std::nan(""));
      }
      for (size_t t = 0; t < f.size(); ++t) out[t] += f[t] / static_cast<double>(components_.size());
    }
    return out;
  }

  Result<Json> SaveFitted() const override {
    Json comps = Json::array();
    for (const auto& c : components_) {
      ALMANAC_ASSIGN_OR_RETURN(Json env, ModelEnvelope(*c));
      comps.push_back(std::move(env));
    }
    return Json{{"components", std::move(comps)}, {"notes", notes_}};
  }

  Status Load(const Json& state) {
    if (!state.is_object() || !state.contains("components") || !state["components"].is_array() ||
        state["components"].empty())
      return DataLossError("combination state has no components");
    components_.clear();
    for (size_t i = 0; i < state["components"].size(); ++i) {
      auto m = registry_->Load(state["components"][i]);
      if (!m.ok()) return m.status().WithContext("combination component " + std::to_string(i + 1));
      components_.push_back(std::move(*m));
    }
    notes_ = state.value("notes", std::vector<std::string>{});
    set_fitted(true);
    return Status::Ok();
  }

 private:
  CombinationOptions options_;
  // The registry outlives the model: models are created from and loaded through it.
  const ForecasterRegistry* registry_;
  std::vector<std::unique_ptr<Forecaster>> components_;
  std::vector<std::string> notes_;
};

}  // namespace

ModelType CombinationModelType() {
  ModelType t;
  t.name = "combination";
  t.description = "equal-weight mean of component models (default auto_ets, auto_arima, theta)";
  t.params = {
      {"models", "list", Json::array({"auto_ets", "auto_arima", "theta"}),
       "component models: type names or {type, params} mappings"},
      {"intervals", "string", "mean",
       "interval rule: \"mean\" (mean of the component bounds) or \"envelope\" (widest bounds)"},
  };
  t.create = [](const ModelSpec& spec, const ForecasterRegistry& registry) -> Result<std::unique_ptr<Forecaster>> {
    ALMANAC_ASSIGN_OR_RETURN(CombinationOptions o, ParseOptions(spec.params, registry));
    return std::unique_ptr<Forecaster>(std::make_unique<CombinationForecaster>(spec, std::move(o), registry));
  };
  t.load = [](const ModelSpec& spec, const Json& state,
              const ForecasterRegistry& registry) -> Result<std::unique_ptr<Forecaster>> {
    ALMANAC_ASSIGN_OR_RETURN(CombinationOptions o, ParseOptions(spec.params, registry));
    auto m = std::make_unique<CombinationForecaster>(spec, std::move(o), registry);
    ALMANAC_RETURN_IF_ERROR(m->Load(state));
    return std::unique_ptr<Forecaster>(std::move(m));
  };
  return t;
}

}  // namespace almanac::models
