#include "models/mstl/mstl.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>

#include "almanac/core/json.h"
#include "almanac/core/time_series.h"
#include "models/arima/stl.h"
#include "models/boxcox/boxcox.h"
#include "models/decompose/decompose.h"
#include "models/model_base.h"

namespace almanac::models::mstl {

Result<MstlResult> Mstl(std::span<const double> y, std::vector<int> periods, const MstlOptions& options) {
  const int n = static_cast<int>(y.size());
  if (n == 0) return InvalidArgumentError("mstl: the series is empty");
  if (periods.empty()) return InvalidArgumentError("mstl: at least one seasonal period is needed");
  if (options.iterate < 1) return InvalidArgumentError("mstl: iterate must be at least 1");
  for (int p : periods)
    if (p < 2) return InvalidArgumentError("mstl: seasonal period " + std::to_string(p) + " is below 2");
  for (double v : y)
    if (!std::isfinite(v)) return InvalidArgumentError("mstl: the series has a missing or infinite value");
  MstlResult r;
  std::vector<std::pair<int, int>> order;  // (period, index into s_windows)
  for (size_t i = 0; i < periods.size(); ++i) order.push_back({periods[i], static_cast<int>(i)});
  std::sort(order.begin(), order.end());
  order.erase(std::unique(order.begin(), order.end(),
                          [](const auto& a, const auto& b) { return a.first == b.first; }),
              order.end());
  std::vector<int> windows;
  for (const auto& [p, i] : order) {
    if (2 * p >= n) {
      r.notes.push_back("mstl: seasonal period " + std::to_string(p) + " dropped: fewer than two full cycles in " +
                        std::to_string(n) + " observations (as R)");
      continue;
    }
    r.periods.push_back(p);
  }
  if (r.periods.empty()) return InvalidArgumentError("mstl: no seasonal period has two full cycles in the series");
  // R recycles one s.window for every period and otherwise takes them in the order of the sorted
  // periods; the default is 7 + 4 * seq(6).
  for (size_t k = 0; k < r.periods.size(); ++k) {
    int w = 7 + 4 * static_cast<int>(k + 1);
    if (options.s_windows.size() == 1) w = options.s_windows[0];
    if (options.s_windows.size() > 1) {
      if (k >= options.s_windows.size())
        return InvalidArgumentError("mstl: " + std::to_string(options.s_windows.size()) + " seasonal windows for " +
                                    std::to_string(r.periods.size()) + " periods");
      w = options.s_windows[k];
    }
    if (w < 3 || w % 2 == 0)
      return InvalidArgumentError("mstl: seasonal window " + std::to_string(w) + " must be odd and at least 3");
    windows.push_back(w);
  }

  std::vector<double> x(y.begin(), y.end());
  if (!std::isnan(options.lambda)) {
    for (double& v : x) {
      if (v <= 0 && options.lambda != 1)
        return InvalidArgumentError("mstl: Box-Cox lambda " + FormatDouble(options.lambda) +
                                    " needs positive data, but the series has the value " + FormatDouble(v));
      v = BoxCox(v, options.lambda);
    }
  }
  const size_t k_periods = r.periods.size();
  r.seasonal.assign(k_periods, std::vector<double>(static_cast<size_t>(n), 0.0));
  std::vector<double> deseas = x;
  arima::StlResult last;
  for (int it = 0; it < options.iterate; ++it) {
    for (size_t i = 0; i < k_periods; ++i) {
      for (int t = 0; t < n; ++t) deseas[t] += r.seasonal[i][t];
      arima::StlOptions so;
      so.s_window = windows[i];
      ALMANAC_ASSIGN_OR_RETURN(last, arima::Stl(deseas, r.periods[i], so));
      r.seasonal[i] = last.seasonal;
      for (int t = 0; t < n; ++t) deseas[t] -= r.seasonal[i][t];
    }
  }
  r.trend = last.trend;
  r.adjusted = deseas;
  r.remainder.resize(static_cast<size_t>(n));
  for (int t = 0; t < n; ++t) r.remainder[t] = deseas[t] - r.trend[t];
  return r;
}

namespace {

struct MstlModelOptions {
  std::vector<int> periods;  // empty: the input's period
  MstlOptions decompose;
  std::string method = "ets";
  std::string ets_model = "ZZN";
};

Result<std::vector<int>> IntList(const Json& params, const std::string& name) {
  std::vector<int> out;
  if (!params.is_object() || !params.contains(name) || params[name].is_null()) return out;
  const Json& v = params[name];
  if (v.is_number_integer()) return std::vector<int>{v.get<int>()};
  if (!v.is_array()) return InvalidArgumentError("mstl: parameter '" + name + "' must be an integer or a list of integers");
  for (const Json& e : v) {
    if (!e.is_number_integer())
      return InvalidArgumentError("mstl: parameter '" + name + "' must list integers, got " + CompactJson(e));
    out.push_back(e.get<int>());
  }
  return out;
}

Result<MstlModelOptions> ParseOptions(const Json& params) {
  MstlModelOptions o;
  ALMANAC_ASSIGN_OR_RETURN(o.periods, IntList(params, "periods"));
  for (int p : o.periods)
    if (p < 2) return InvalidArgumentError("mstl: periods must be at least 2, got " + std::to_string(p));
  ALMANAC_ASSIGN_OR_RETURN(o.decompose.s_windows, IntList(params, "s_window"));
  for (int w : o.decompose.s_windows)
    if (w < 3 || w % 2 == 0)
      return InvalidArgumentError("mstl: s_window must be odd and at least 3, got " + std::to_string(w));
  ALMANAC_ASSIGN_OR_RETURN(o.decompose.iterate, GetIntParam(params, "iterate", 2));
  if (o.decompose.iterate < 1 || o.decompose.iterate > 100)
    return InvalidArgumentError("mstl: iterate must be in 1..100, got " + std::to_string(o.decompose.iterate));
  ALMANAC_ASSIGN_OR_RETURN(o.method, GetStringParam(params, "method", "ets"));
  if (o.method != "ets" && o.method != "arima" && o.method != "naive" && o.method != "rwdrift")
    return InvalidArgumentError("mstl: method must be \"ets\", \"arima\", \"naive\" or \"rwdrift\", got \"" + o.method +
                                "\"");
  ALMANAC_ASSIGN_OR_RETURN(o.ets_model, GetStringParam(params, "etsmodel", "ZZN"));
  if (o.ets_model.empty() || o.ets_model.back() != 'N')
    return InvalidArgumentError("mstl: etsmodel must be non-seasonal (third letter N), got \"" + o.ets_model + "\"");
  return o;
}

// The model of the seasonally adjusted series, as R's forecast.stl() builds it.
ModelSpec InnerSpec(const MstlModelOptions& o) {
  if (o.method == "ets") return ModelSpec{"ets", Json{{"model", o.ets_model}}};
  if (o.method == "arima") return ModelSpec{"auto_arima", Json{{"seasonal", false}}};
  if (o.method == "naive") return ModelSpec{"naive", Json::object()};
  return ModelSpec{"drift", Json::object()};
}

class MstlForecaster : public ForecasterBase {
 public:
  MstlForecaster(ModelSpec spec, MstlModelOptions options, const ForecasterRegistry& registry)
      : ForecasterBase(std::move(spec)), options_(std::move(options)), registry_(&registry) {}

  Status Fit(const FitInput& input) override {
    set_fitted(false);
    notes_.clear();
    std::vector<int> periods = options_.periods;
    if (periods.empty()) {
      if (input.period < 2)
        return InvalidArgumentError("mstl: the series is not seasonal (period " + std::to_string(input.period) +
                                    "); give the seasonal periods with the parameter 'periods'");
      periods = {input.period};
    }
    ALMANAC_ASSIGN_OR_RETURN(std::vector<double> y, FillMissing(input.y, "mstl", &notes_));
    ALMANAC_ASSIGN_OR_RETURN(MstlResult d, Mstl(y, periods, options_.decompose));
    for (auto& note : d.notes) notes_.push_back(std::move(note));
    ALMANAC_ASSIGN_OR_RETURN(auto inner, registry_->Create(InnerSpec(options_)));
    Status s = inner->Fit(FitInput{d.adjusted, 1});
    if (!s.ok()) return s.WithContext("mstl: the model of the seasonally adjusted series");
    inner_ = std::move(inner);
    periods_ = d.periods;
    // The last cycle of each seasonal component, repeated by the forecasts.
    last_cycles_.clear();
    const size_t n = y.size();
    for (size_t i = 0; i < d.periods.size(); ++i) {
      const size_t p = static_cast<size_t>(d.periods[i]);
      last_cycles_.emplace_back(d.seasonal[i].end() - static_cast<std::ptrdiff_t>(p), d.seasonal[i].end());
    }
    // In-sample fits: the adjusted-series model's plus every seasonal component (R's
    // fitted(forecast(mstl(x)))); kept in the state, since not every inner model keeps its own.
    fitted_ = inner_->Fitted();
    if (fitted_.size() != n) fitted_.assign(n, kNaN);
    for (const auto& s_i : d.seasonal)
      for (size_t t = 0; t < n; ++t) fitted_[t] += s_i[t];
    set_fitted(true);
    return Status::Ok();
  }

  ModelDescription Describe() const override {
    ModelDescription d;
    d.type = "mstl";
    if (!is_fitted()) return d;
    ModelDescription in = inner_->Describe();
    std::string ps;
    for (int p : periods_) ps += (ps.empty() ? "" : ",") + std::to_string(p);
    d.method = "MSTL[" + ps + "] + " + in.method;
    d.params = Json{{"periods", periods_}, {"adjusted_model", in.params}};
    d.loglik = in.loglik;
    d.aic = in.aic;
    d.aicc = in.aicc;
    d.bic = in.bic;
    d.sigma2 = in.sigma2;
    d.nobs = in.nobs;
    d.notes = notes_;
    for (const auto& note : in.notes) d.notes.push_back("adjusted series: " + note);
    return d;
  }

  std::vector<double> Fitted() const override { return is_fitted() ? fitted_ : std::vector<double>{}; }

  Status Load(const Json& state) {
    if (!state.is_object() || !state.contains("inner") || !state.contains("periods") ||
        !state.contains("last_cycles") || !state.contains("fitted"))
      return DataLossError("mstl state lacks inner, periods, last_cycles or fitted");
    auto inner = registry_->Load(state["inner"]);
    if (!inner.ok()) return inner.status().WithContext("mstl: the model of the seasonally adjusted series");
    try {
      periods_ = state["periods"].get<std::vector<int>>();
      last_cycles_ = state["last_cycles"].get<std::vector<std::vector<double>>>();
      fitted_.clear();
      for (const Json& v : state["fitted"]) fitted_.push_back(v.is_null() ? kNaN : v.get<double>());
      notes_ = state.value("notes", std::vector<std::string>{});
    } catch (const std::exception& e) {
      return DataLossError(std::string("mstl state is malformed: ") + e.what());
    }
    if (periods_.size() != last_cycles_.size()) return DataLossError("mstl state: periods and cycles differ in number");
    for (size_t i = 0; i < periods_.size(); ++i)
      if (periods_[i] < 2 || last_cycles_[i].size() != static_cast<size_t>(periods_[i]))
        return DataLossError("mstl state: the last cycle of period " + std::to_string(periods_[i]) +
                             " has the wrong length");
    inner_ = std::move(*inner);
    set_fitted(true);
    return Status::Ok();
  }

 protected:
  Result<Forecast> PredictFitted(int horizon, std::span<const double> levels) const override {
    ALMANAC_ASSIGN_OR_RETURN(Forecast f, inner_->Predict(horizon, levels));
    for (int h = 0; h < horizon; ++h) {
      double s = 0;
      for (size_t i = 0; i < periods_.size(); ++i)
        s += last_cycles_[i][static_cast<size_t>(h % periods_[i])];
      f.mean[h] += s;
      for (auto& pi : f.intervals) {
        pi.lower[h] += s;
        pi.upper[h] += s;
      }
    }
    for (const auto& note : notes_) f.notes.push_back(note);
    return f;
  }

  Result<Json> SaveFitted() const override {
    ALMANAC_ASSIGN_OR_RETURN(Json inner, ModelEnvelope(*inner_));
    Json fitted_json = Json::array();  // NaN (undefined first fits) as null: canonical JSON has no NaN
    for (double v : fitted_) fitted_json.push_back(std::isfinite(v) ? Json(v) : Json(nullptr));
    return Json{{"inner", std::move(inner)},
                {"periods", periods_},
                {"last_cycles", last_cycles_},
                {"fitted", fitted_json},
                {"notes", notes_}};
  }

 private:
  MstlModelOptions options_;
  const ForecasterRegistry* registry_;  // outlives the model
  std::unique_ptr<Forecaster> inner_;
  std::vector<int> periods_;
  std::vector<std::vector<double>> last_cycles_;
  std::vector<double> fitted_;  // in-sample one-step fits, seasonal components included
  std::vector<std::string> notes_;
};

}  // namespace
}  // namespace almanac::models::mstl

namespace almanac::models {

ModelType MstlModelType() {
  ModelType t;
  t.name = "mstl";
  t.description =
      "MSTL decomposition with one or several seasonal periods; forecasts = seasonal naive of each seasonal "
      "component + a model of the seasonally adjusted series (as R forecast's mstl/stlf)";
  t.params = {
      {"periods", "any", nullptr, "seasonal periods, an integer or a list (null: the series' period)"},
      {"iterate", "int", 2, "STL passes over the periods (R: 2; 1 matches R's mstl on a plain ts)"},
      {"s_window", "any", nullptr, "seasonal loess window(s), odd (null: 11, 15, 19, ... by increasing period)"},
      {"method", "string", "ets", "model of the adjusted series: \"ets\", \"arima\", \"naive\" or \"rwdrift\""},
      {"etsmodel", "string", "ZZN", "ETS model of the adjusted series when method is \"ets\" (non-seasonal)"},
  };
  t.check_params = [](const Json& params) { return mstl::ParseOptions(params).status(); };
  t.create = [](const ModelSpec& spec, const ForecasterRegistry& registry) -> Result<std::unique_ptr<Forecaster>> {
    ALMANAC_ASSIGN_OR_RETURN(mstl::MstlModelOptions o, mstl::ParseOptions(spec.params));
    return std::unique_ptr<Forecaster>(std::make_unique<mstl::MstlForecaster>(spec, std::move(o), registry));
  };
  t.load = [](const ModelSpec& spec, const Json& state,
              const ForecasterRegistry& registry) -> Result<std::unique_ptr<Forecaster>> {
    ALMANAC_ASSIGN_OR_RETURN(mstl::MstlModelOptions o, mstl::ParseOptions(spec.params));
    auto m = std::make_unique<mstl::MstlForecaster>(spec, std::move(o), registry);
    ALMANAC_RETURN_IF_ERROR(m->Load(state));
    return std::unique_ptr<Forecaster>(std::move(m));
  };
  return t;
}

}  // namespace almanac::models
