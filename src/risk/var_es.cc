// VaR and expected shortfall: historical simulation, normal and Student-t closed forms, and
// their Euler contributions by position (docs/risk.md).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>

#include "almanac/risk.h"

namespace almanac::risk {
namespace {

Status CheckLevel(double level) {
  if (!(level > 0 && level < 1))
    return InvalidArgumentError("level must be in (0, 1) (e.g. 0.99), got " + FormatDouble(level));
  return Status::Ok();
}

Status CheckFinite(std::span<const double> x, std::string_view what) {
  if (x.empty()) return InvalidArgumentError(std::string(what) + " is empty");
  for (size_t i = 0; i < x.size(); ++i)
    if (!std::isfinite(x[i]))
      return InvalidArgumentError(std::string(what) + "[" + std::to_string(i) + "] is " + FormatDouble(x[i]) +
                                  ": NaN and infinite values are not accepted");
  return Status::Ok();
}

Status CheckPositions(const PositionPnl& d) {
  if (d.scenarios <= 0 || d.positions <= 0)
    return InvalidArgumentError("position P&L needs at least one scenario and one position, got " +
                                std::to_string(d.scenarios) + " x " + std::to_string(d.positions));
  if (static_cast<int64_t>(d.pnl.size()) != d.scenarios * d.positions)
    return InvalidArgumentError("position P&L has " + std::to_string(d.pnl.size()) + " values, expected scenarios x positions = " +
                                std::to_string(d.scenarios) + " x " + std::to_string(d.positions));
  for (size_t i = 0; i < d.pnl.size(); ++i)
    if (!std::isfinite(d.pnl[i]))
      return InvalidArgumentError("position P&L of scenario " + std::to_string(i / d.positions) + ", position " +
                                  std::to_string(i % d.positions) + " is " + FormatDouble(d.pnl[i]) +
                                  ": NaN and infinite values are not accepted");
  return Status::Ok();
}

std::vector<double> PortfolioPnl(const PositionPnl& d) {
  std::vector<double> total(d.scenarios, 0.0);
  for (int64_t s = 0; s < d.scenarios; ++s)
    for (int64_t j = 0; j < d.positions; ++j) total[s] += d.pnl[s * d.positions + j];
  return total;
}

// Scenario indices ordered by P&L ascending, ties by index (so the tail set is deterministic).
std::vector<int64_t> WorstFirst(std::span<const double> pnl, int64_t k) {
  std::vector<int64_t> idx(pnl.size());
  std::iota(idx.begin(), idx.end(), 0);
  auto less = [&](int64_t a, int64_t b) { return pnl[a] < pnl[b] || (pnl[a] == pnl[b] && a < b); };
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), less);
  idx.resize(k);
  return idx;
}

// Mean and sample standard deviation (n - 1).
std::pair<double, double> MeanSd(std::span<const double> x) {
  const double n = static_cast<double>(x.size());
  double mean = 0;
  for (double v : x) mean += v;
  mean /= n;
  double ss = 0;
  for (double v : x) ss += (v - mean) * (v - mean);
  return {mean, std::sqrt(ss / (n - 1))};
}

// The scale to use for the sample's standard deviation `sd`.
Result<double> ScaleFromSd(double sd, const ParametricOptions& o) {
  if (o.distribution == Distribution::kNormal) return sd;
  if (!(o.dof > 2) || !std::isfinite(o.dof))
    return InvalidArgumentError("Student-t degrees of freedom must be > 2 to match the sample variance, got " +
                                FormatDouble(o.dof));
  return sd * std::sqrt((o.dof - 2) / o.dof);
}

}  // namespace

Result<int64_t> TailCount(int64_t n, double level) {
  if (n <= 0) return InvalidArgumentError("the P&L sample is empty");
  if (Status s = CheckLevel(level); !s.ok()) return s;
  const double t = static_cast<double>(n) * (1 - level);
  const double r = std::round(t);
  int64_t k = std::fabs(t - r) <= 1e-9 * std::max(1.0, t) ? static_cast<int64_t>(r) : static_cast<int64_t>(std::ceil(t));
  return std::clamp<int64_t>(k, 1, n);
}

Result<VaREs> HistoricalVaREs(std::span<const double> pnl, double level) {
  if (Status s = CheckFinite(pnl, "pnl"); !s.ok()) return s;
  ALMANAC_ASSIGN_OR_RETURN(int64_t k, TailCount(static_cast<int64_t>(pnl.size()), level));
  const std::vector<int64_t> tail = WorstFirst(pnl, k);
  double sum = 0;
  for (int64_t i : tail) sum += pnl[i];
  return VaREs{.level = level, .var = -pnl[tail.back()], .es = -sum / static_cast<double>(k)};
}

Result<VaREs> ClosedFormVaREs(double mean, double scale, double level, const ParametricOptions& o) {
  if (Status s = CheckLevel(level); !s.ok()) return s;
  if (!std::isfinite(mean)) return InvalidArgumentError("mean must be finite, got " + FormatDouble(mean));
  if (!(scale > 0) || !std::isfinite(scale))
    return InvalidArgumentError("scale must be positive and finite, got " + FormatDouble(scale));
  const double tail = 1 - level;
  if (o.distribution == Distribution::kNormal) {
    const boost::math::normal z;
    const double q = boost::math::quantile(z, level);
    return VaREs{.level = level, .var = -mean + scale * q, .es = -mean + scale * boost::math::pdf(z, q) / tail};
  }
  if (!(o.dof > 1) || !std::isfinite(o.dof))
    return InvalidArgumentError("Student-t degrees of freedom must be > 1 (finite expected shortfall), got " +
                                FormatDouble(o.dof));
  const boost::math::students_t t(o.dof);
  const double q = boost::math::quantile(t, level);
  const double es = boost::math::pdf(t, q) / tail * (o.dof + q * q) / (o.dof - 1);
  return VaREs{.level = level, .var = -mean + scale * q, .es = -mean + scale * es};
}

Result<VaREs> ParametricVaREs(std::span<const double> pnl, double level, const ParametricOptions& o) {
  if (Status s = CheckFinite(pnl, "pnl"); !s.ok()) return s;
  if (pnl.size() < 2) return InvalidArgumentError("parametric VaR needs at least 2 P&Ls to estimate a variance");
  const auto [mean, sd] = MeanSd(pnl);
  if (!(sd > 0)) return InvalidArgumentError("the P&L sample has zero variance: no parametric VaR");
  ALMANAC_ASSIGN_OR_RETURN(double scale, ScaleFromSd(sd, o));
  return ClosedFormVaREs(mean, scale, level, o);
}

Result<Contributions> HistoricalContributions(const PositionPnl& d, double level) {
  if (Status s = CheckPositions(d); !s.ok()) return s;
  const std::vector<double> total = PortfolioPnl(d);
  ALMANAC_ASSIGN_OR_RETURN(int64_t k, TailCount(d.scenarios, level));
  const std::vector<int64_t> tail = WorstFirst(total, k);
  Contributions c;
  c.var.assign(d.positions, 0.0);
  c.es.assign(d.positions, 0.0);
  double sum = 0;
  for (int64_t s : tail) {
    sum += total[s];
    for (int64_t j = 0; j < d.positions; ++j) c.es[j] += d.pnl[s * d.positions + j];
  }
  for (double& v : c.es) v = -v / static_cast<double>(k);
  const int64_t star = tail.back();
  for (int64_t j = 0; j < d.positions; ++j) c.var[j] = -d.pnl[star * d.positions + j];
  c.total = {.level = level, .var = -total[star], .es = -sum / static_cast<double>(k)};
  return c;
}

Result<Contributions> ParametricContributions(const PositionPnl& d, double level, const ParametricOptions& o) {
  if (Status s = CheckPositions(d); !s.ok()) return s;
  if (d.scenarios < 2) return InvalidArgumentError("parametric VaR needs at least 2 scenarios to estimate a variance");
  const std::vector<double> total = PortfolioPnl(d);
  ALMANAC_ASSIGN_OR_RETURN(VaREs t, ParametricVaREs(total, level, o));
  const auto [mean, sd] = MeanSd(total);
  Contributions c;
  c.total = t;
  c.var.assign(d.positions, 0.0);
  c.es.assign(d.positions, 0.0);
  const double n = static_cast<double>(d.scenarios);
  const double kv = (t.var + mean) / sd, ke = (t.es + mean) / sd;
  for (int64_t j = 0; j < d.positions; ++j) {
    double mj = 0;
    for (int64_t s = 0; s < d.scenarios; ++s) mj += d.pnl[s * d.positions + j];
    mj /= n;
    double cov = 0;
    for (int64_t s = 0; s < d.scenarios; ++s) cov += (d.pnl[s * d.positions + j] - mj) * (total[s] - mean);
    cov /= n - 1;
    c.var[j] = -mj + cov / sd * kv;
    c.es[j] = -mj + cov / sd * ke;
  }
  return c;
}

}  // namespace almanac::risk
