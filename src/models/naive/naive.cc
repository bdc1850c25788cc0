#include "models/naive/naive.h"

#include <cmath>

#include <boost/math/distributions/students_t.hpp>

#include "models/model_base.h"

namespace almanac::models {
namespace {

enum class Kind { kNaive, kSeasonalNaive, kDrift, kMean };

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kNaive: return "naive";
    case Kind::kSeasonalNaive: return "snaive";
    case Kind::kDrift: return "drift";
    case Kind::kMean: return "mean";
  }
  return "?";
}

// State of all four methods: the values the forecast repeats (`future`, `lag` of them), a
// per-step drift `b` with its standard error, and the residual standard deviation.
class BenchmarkForecaster : public ForecasterBase {
 public:
  BenchmarkForecaster(ModelSpec spec, Kind kind) : ForecasterBase(std::move(spec)), kind_(kind) {}

  Status Fit(const FitInput& in) override {
    const auto& y = in.y;
    const int n = static_cast<int>(y.size());
    int nvalid = 0;
    for (double v : y) nvalid += !std::isnan(v);
    if (nvalid == 0) return InvalidArgumentError(std::string(KindName(kind_)) + ": the series has no observations");
    notes_.clear();
    lag_ = 1;
    if (kind_ == Kind::kSeasonalNaive) {
      lag_ = std::max(1, in.period);
      if (in.period <= 1) notes_.push_back("snaive on non-seasonal data (period 1) is the naive method");
      if (n <= lag_)
        return InvalidArgumentError("snaive needs more than one seasonal period of data (" + std::to_string(lag_) +
                                    " observations), got " + std::to_string(n));
    }
    if (kind_ == Kind::kMean) return FitMean(y);
    if (nvalid < 2 && kind_ != Kind::kNaive)
      return InvalidArgumentError(std::string(KindName(kind_)) + " needs at least two observations");
    // Fitted values carry the last observation forward over missing values (R's lagwalk).
    fitted_.assign(static_cast<size_t>(n), std::nan(""));
    std::vector<double> filled(y.begin(), y.end());
    for (int i = lag_; i < n; ++i)
      if (std::isnan(filled[i])) filled[i] = filled[i - lag_];
    for (int i = lag_; i < n; ++i) fitted_[i] = filled[i - lag_];
    std::vector<double> res;
    for (int i = lag_; i < n; ++i)
      if (!std::isnan(y[i]) && !std::isnan(fitted_[i])) res.push_back(y[i] - fitted_[i]);
    b_ = b_se_ = 0;
    if (kind_ == Kind::kDrift) {
      if (res.size() < 2) return InvalidArgumentError("drift needs at least three observations");
      double s = 0;
      for (double r : res) s += r;
      b_ = s / static_cast<double>(res.size());
      double ss = 0;
      for (double r : res) ss += (r - b_) * (r - b_);
      sigma_ = std::sqrt(ss / static_cast<double>(res.size() - 1));
      b_se_ = sigma_ / std::sqrt(static_cast<double>(res.size()));
      for (auto& f : fitted_) f += b_;
    } else {
      double ss = 0;
      for (double r : res) ss += r * r;
      sigma_ = res.empty() ? std::nan("") : std::sqrt(ss / static_cast<double>(res.size()));
    }
    // The values to repeat: the last `lag` of the filled series.
    future_.assign(filled.end() - lag_, filled.end());
    for (double v : future_)
      if (std::isnan(v)) return InvalidArgumentError(std::string(KindName(kind_)) + ": the last season has no observations");
    nobs_ = nvalid;
    set_fitted(true);
    return Status::Ok();
  }

  Result<Forecast> PredictFitted(int horizon, std::span<const double> levels) const override {
    Forecast f;
    f.notes = notes_;
    std::vector<double> se(static_cast<size_t>(horizon));
    for (int h = 1; h <= horizon; ++h) {
      if (kind_ == Kind::kMean) {
        f.mean.push_back(future_[0]);
        se[h - 1] = sigma_ * std::sqrt(1.0 + 1.0 / nobs_);
      } else {
        f.mean.push_back(future_[(h - 1) % lag_] + h * b_);
        const double full = std::trunc((h - 1.0) / lag_) + 1;
        se[h - 1] = std::sqrt(sigma_ * sigma_ * full + h * h * b_se_ * b_se_);
      }
    }
    for (double level : levels) {
      double z;
      if (kind_ == Kind::kMean && nobs_ > 1) {
        boost::math::students_t t(nobs_ - 1);
        z = boost::math::quantile(t, 0.5 + level / 200.0);
      } else {
        z = IntervalZ(level);
      }
      PredictionInterval iv{level, {}, {}};
      for (int h = 0; h < horizon; ++h) {
        // One observation gives no variance estimate: the interval is unbounded.
        const double w = std::isnan(se[h]) ? std::numeric_limits<double>::infinity() : z * se[h];
        iv.lower.push_back(f.mean[h] - w);
        iv.upper.push_back(f.mean[h] + w);
      }
      f.intervals.push_back(std::move(iv));
    }
    return f;
  }

  ModelDescription Describe() const override {
    ModelDescription d;
    d.type = spec().type;
    d.nobs = nobs_;
    d.notes = notes_;
    switch (kind_) {
      case Kind::kNaive: d.method = "Naive method"; break;
      case Kind::kSeasonalNaive: d.method = "Seasonal naive method"; break;
      case Kind::kDrift: d.method = "Random walk with drift"; break;
      case Kind::kMean: d.method = "Mean"; break;
    }
    d.sigma2 = sigma_ * sigma_;
    if (kind_ == Kind::kDrift) d.params = {{"drift", b_}, {"drift_se", b_se_}};
    if (kind_ == Kind::kMean) d.params = {{"mean", future_.empty() ? 0.0 : future_[0]}};
    return d;
  }

  std::vector<double> Fitted() const override { return fitted_; }

  Result<Json> SaveFitted() const override {
    return Json{{"lag", lag_}, {"future", future_}, {"b", b_}, {"b_se", b_se_}, {"sigma", sigma_},
                {"nobs", nobs_}, {"notes", notes_}};
  }

  Status Load(const Json& s) {
    lag_ = s.at("lag").get<int>();
    future_ = s.at("future").get<std::vector<double>>();
    b_ = s.at("b").get<double>();
    b_se_ = s.at("b_se").get<double>();
    sigma_ = s.at("sigma").is_null() ? std::nan("") : s.at("sigma").get<double>();
    nobs_ = s.at("nobs").get<int>();
    notes_ = s.at("notes").get<std::vector<std::string>>();
    if (lag_ < 1 || static_cast<int>(future_.size()) != lag_ || nobs_ < 1)
      return DataLossError("inconsistent " + std::string(KindName(kind_)) + " model state");
    set_fitted(true);
    return Status::Ok();
  }

 private:
  Status FitMean(std::span<const double> y) {
    double s = 0;
    int n = 0;
    for (double v : y)
      if (!std::isnan(v)) { s += v; ++n; }
    const double m = s / n;
    double ss = 0;
    for (double v : y)
      if (!std::isnan(v)) ss += (v - m) * (v - m);
    sigma_ = n > 1 ? std::sqrt(ss / (n - 1)) : std::nan("");
    future_ = {m};
    lag_ = 1;
    nobs_ = n;
    fitted_.assign(y.size(), m);
    set_fitted(true);
    return Status::Ok();
  }

  Kind kind_;
  int lag_ = 1;
  std::vector<double> future_;
  double b_ = 0, b_se_ = 0, sigma_ = 0;
  int nobs_ = 0;
  std::vector<double> fitted_;
  std::vector<std::string> notes_;
};

ModelType MakeNaiveType(Kind kind, std::string description) {
  ModelType t;
  t.name = KindName(kind);
  t.description = std::move(description);
  t.create = [kind](const ModelSpec& spec, const ForecasterRegistry&) -> Result<std::unique_ptr<Forecaster>> {
    return std::unique_ptr<Forecaster>(std::make_unique<BenchmarkForecaster>(spec, kind));
  };
  t.load = [kind](const ModelSpec& spec, const Json& state,
                  const ForecasterRegistry&) -> Result<std::unique_ptr<Forecaster>> {
    auto m = std::make_unique<BenchmarkForecaster>(spec, kind);
    ALMANAC_RETURN_IF_ERROR(m->Load(state));
    return std::unique_ptr<Forecaster>(std::move(m));
  };
  return t;
}

}  // namespace

ModelType NaiveModelType() { return MakeNaiveType(Kind::kNaive, "last observation carried forward (R: naive)"); }
ModelType SeasonalNaiveModelType() {
  return MakeNaiveType(Kind::kSeasonalNaive, "value of the same season one period earlier (R: snaive)");
}
ModelType DriftModelType() { return MakeNaiveType(Kind::kDrift, "random walk with drift (R: rwf(drift = TRUE))"); }
ModelType MeanModelType() { return MakeNaiveType(Kind::kMean, "historical mean with t intervals (R: meanf)"); }

}  // namespace almanac::models
