// News decomposition between two vintages (Banbura and Modugno 2014, section 3; the NY Fed
// Staff Nowcast): the change of the smoothed estimate of a target is split into the effect of
// revisions (the old releases with their new values) and, for each new release, its news
// (observed minus its forecast from the revised old data) times its weight.
//
// The weights are the coefficients of the new releases in the smoothed estimate given the new
// data: the smoothed mean is linear in the data for fixed parameters, so the weight of release j
// is the target's response to a unit value at j with every other datum and the initial mean at
// zero (LinearSmoother, gains computed once). With the forecasts of the releases as data the
// target keeps its revised-data value, so sum_j weight_j news_j is exactly new - revised.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "almanac/models/nowcast.h"
#include "models/dfm/dfm_internal.h"
#include "models/dfm/kalman.h"

namespace almanac::models {
Result<NewsDecomposition> DynamicFactorModel::News(const MixedFrequencyData& old_data,
                                                   const MixedFrequencyData& new_data, std::string_view variable,
                                                   Period target) const {
  ALMANAC_ASSIGN_OR_RETURN(auto it, dfm::TargetIndex(*impl_, variable, target));
  const auto [x, tau] = it;
  const int64_t n = std::max({old_data.size(), new_data.size(), tau + 1});
  ALMANAC_ASSIGN_OR_RETURN(Eigen::MatrixXd y_old, impl_->Prepare(old_data, n));
  ALMANAC_ASSIGN_OR_RETURN(Eigen::MatrixXd y_new, impl_->Prepare(new_data, n));
  const int k = static_cast<int>(y_new.rows());
  // Revised data: what the old vintage had, with the new vintage's values.
  Eigen::MatrixXd y_rev = Eigen::MatrixXd::Constant(k, n, kNaN);
  NewsDecomposition out;
  out.variable = std::string(variable);
  out.target = target;
  struct Release {
    int i;
    int64_t t;
  };
  std::vector<Release> releases;
  for (int64_t t = 0; t < n; ++t)
    for (int i = 0; i < k; ++i) {
      const bool had = !std::isnan(y_old(i, t)), has = !std::isnan(y_new(i, t));
      if (had && has) {
        y_rev(i, t) = y_new(i, t);
        if (y_new(i, t) != y_old(i, t))
          out.revised.push_back(impl_->names[static_cast<size_t>(i)] + "@" + (impl_->start + t).ToString());
      } else if (had) {
        out.revised.push_back(impl_->names[static_cast<size_t>(i)] + "@" + (impl_->start + t).ToString() + " (deleted)");
      } else if (has) {
        releases.push_back({i, t});
      }
    }
  const auto ss = impl_->System();
  const double mx = impl_->means[static_cast<size_t>(x)], sx = impl_->stds[static_cast<size_t>(x)];
  auto estimate = [&](const Eigen::MatrixXd& y) -> Result<dfm::SmootherResult> {
    auto sm = dfm::Smooth(ss, y, {.state_cov = false, .lag_cov = false});
    if (!sm.ok) return InternalError("dfm: the Kalman filter broke down in the news decomposition");
    return sm;
  };
  ALMANAC_ASSIGN_OR_RETURN(auto sm_old, estimate(y_old));
  ALMANAC_ASSIGN_OR_RETURN(auto sm_rev, estimate(y_rev));
  ALMANAC_ASSIGN_OR_RETURN(auto sm_new, estimate(y_new));
  const auto zx = ss.Z.row(x);
  out.old_value = mx + sx * zx.dot(sm_old.a.col(tau));
  const double rev_value = mx + sx * zx.dot(sm_rev.a.col(tau));
  out.new_value = mx + sx * zx.dot(sm_new.a.col(tau));
  out.revision_impact = rev_value - out.old_value;

  dfm::LinearSmoother lin(ss, y_new);
  if (!lin.ok()) return InternalError("dfm: the Kalman filter broke down in the news decomposition");
  const Eigen::VectorXd zero = Eigen::VectorXd::Zero(ss.a0.size());
  Eigen::MatrixXd unit = y_new;
  for (int64_t t = 0; t < n; ++t)
    for (int i = 0; i < k; ++i)
      if (!std::isnan(unit(i, t))) unit(i, t) = 0;
  double news_total = 0;
  for (const auto& r : releases) {
    const double si = impl_->stds[static_cast<size_t>(r.i)], mi = impl_->means[static_cast<size_t>(r.i)];
    unit(r.i, r.t) = 1;
    const double w_std = zx.dot(lin.StateAt(unit, zero, static_cast<int>(tau)));
    unit(r.i, r.t) = 0;
    const double forecast_std = ss.Z.row(r.i).dot(sm_rev.a.col(r.t));
    const double news_std = y_new(r.i, r.t) - forecast_std;
    NewsItem item;
    item.variable = impl_->names[static_cast<size_t>(r.i)];
    item.period = impl_->start + r.t;
    item.observed = mi + si * y_new(r.i, r.t);
    item.forecast = mi + si * forecast_std;
    item.news = si * news_std;
    item.weight = sx * w_std / si;
    item.impact = sx * w_std * news_std;
    news_total += item.impact;
    out.items.push_back(std::move(item));
  }
  out.news_impact = news_total;
  return out;
}

}  // namespace almanac::models
