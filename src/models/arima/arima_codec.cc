#include "models/arima/arima_codec.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "almanac/core/time_series.h"

namespace almanac::models::arima {
Json EncodeNumber(double v) {
  if (std::isfinite(v)) return v;
  if (std::isnan(v)) return nullptr;
  return v > 0 ? "Infinity" : "-Infinity";
}

double DecodeNumber(const Json& j) {
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (s == "Infinity") return std::numeric_limits<double>::infinity();
    if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
    throw Json::type_error::create(302, "unexpected string for a number: " + s, &j);
  }
  return NumberOrNaN(j);
}

Json EncodeNumbers(const std::vector<double>& v) {
  Json a = Json::array();
  for (double x : v) a.push_back(EncodeNumber(x));
  return a;
}

std::vector<double> DecodeNumbers(const Json& j) {
  std::vector<double> out;
  for (const auto& x : j) out.push_back(DecodeNumber(x));
  return out;
}

void EncodeArimaFit(const ArimaFit& fit, Json& s) {
  const Orders& o = fit.orders;
  s["orders"] = {o.p, o.d, o.q, o.P, o.D, o.Q, o.m};
  s["method"] = MethodName(fit.method);
  s["coef_names"] = fit.coef_names;
  s["coef"] = EncodeNumbers(fit.coef);
  std::vector<int> mask;
  for (bool b : fit.mask) mask.push_back(b ? 1 : 0);
  s["mask"] = mask;
  s["has_var"] = fit.has_var;
  s["var_bad"] = fit.var_bad;
  s["var_coef"] = EncodeNumbers(fit.var_coef);
  s["has_intercept"] = fit.has_intercept;
  s["has_drift"] = fit.has_drift;
  if (fit.num_xreg > 0) s["num_xreg"] = fit.num_xreg;
  s["n"] = fit.n;
  s["n_used"] = fit.n_used;
  s["nstar"] = fit.nstar;
  s["npar"] = fit.npar;
  s["sigma2_css"] = EncodeNumber(fit.sigma2_css);
  s["sigma2"] = EncodeNumber(fit.sigma2);
  s["loglik"] = EncodeNumber(fit.loglik);
  s["aic"] = EncodeNumber(fit.aic);
  s["aicc"] = EncodeNumber(fit.aicc);
  s["bic"] = EncodeNumber(fit.bic);
  s["convergence"] = fit.convergence;
  s["phi"] = EncodeNumbers(fit.phi);
  s["theta"] = EncodeNumbers(fit.theta);
  s["delta"] = EncodeNumbers(fit.delta);
  s["state"] = EncodeNumbers(fit.state);
  s["state_cov"] = EncodeNumbers(fit.state_cov);
}

Result<ArimaFit> DecodeArimaFit(const Json& s, std::string_view model) {
  const std::string name(model);
  const auto ord = s.at("orders").get<std::vector<int>>();
  if (ord.size() != 7) return DataLossError(name + " state: 'orders' must have 7 entries");
  const Orders o{ord[0], ord[1], ord[2], ord[3], ord[4], ord[5], ord[6]};
  for (int v : ord)
    if (v < 0) return DataLossError(name + " state: negative order");
  if (o.m < 1) return DataLossError(name + " state: period must be at least 1");
  ArimaFit f;
  f.orders = o;
  const std::string method = s.at("method").get<std::string>();
  f.method = method == "CSS" ? Method::kCss : method == "ML" ? Method::kMl : Method::kCssMl;
  f.coef_names = s.at("coef_names").get<std::vector<std::string>>();
  f.coef = DecodeNumbers(s.at("coef"));
  for (int b : s.at("mask").get<std::vector<int>>()) f.mask.push_back(b != 0);
  f.has_var = s.at("has_var").get<bool>();
  f.var_bad = s.at("var_bad").get<bool>();
  f.var_coef = DecodeNumbers(s.at("var_coef"));
  f.has_intercept = s.at("has_intercept").get<bool>();
  f.has_drift = s.at("has_drift").get<bool>();
  f.num_xreg = s.contains("num_xreg") ? s.at("num_xreg").get<int>() : 0;
  f.n = s.at("n").get<int>();
  f.n_used = s.at("n_used").get<int>();
  f.nstar = s.at("nstar").get<int>();
  f.npar = s.at("npar").get<int>();
  f.sigma2_css = s.contains("sigma2_css") ? DecodeNumber(s.at("sigma2_css")) : kNaN;
  f.sigma2 = DecodeNumber(s.at("sigma2"));
  f.loglik = DecodeNumber(s.at("loglik"));
  f.aic = DecodeNumber(s.at("aic"));
  f.aicc = DecodeNumber(s.at("aicc"));
  f.bic = DecodeNumber(s.at("bic"));
  f.convergence = s.contains("convergence") ? s.at("convergence").get<int>() : 0;
  f.phi = DecodeNumbers(s.at("phi"));
  f.theta = DecodeNumbers(s.at("theta"));
  f.delta = DecodeNumbers(s.at("delta"));
  f.state = DecodeNumbers(s.at("state"));
  f.state_cov = DecodeNumbers(s.at("state_cov"));
  const size_t ncoef = static_cast<size_t>(o.narma()) + (f.has_intercept ? 1 : 0) + (f.has_drift ? 1 : 0) +
                       static_cast<size_t>(f.num_xreg);
  const size_t rd = static_cast<size_t>(o.r()) + static_cast<size_t>(o.nd());
  size_t nfree = 0;
  for (bool b : f.mask) nfree += b;
  if (f.num_xreg < 0 || f.coef.size() != ncoef || f.coef_names.size() != ncoef || f.mask.size() != ncoef ||
      f.phi.size() != static_cast<size_t>(o.p_full()) || f.theta.size() != static_cast<size_t>(o.q_full()) ||
      f.delta.size() != static_cast<size_t>(o.nd()) || f.state.size() != rd || f.state_cov.size() != rd * rd ||
      (f.has_var && f.var_coef.size() != nfree * nfree) || f.n < 1 || static_cast<int>(nfree) + 1 != f.npar)
    return DataLossError("inconsistent " + name + " model state");
  return f;
}

}  // namespace almanac::models::arima
