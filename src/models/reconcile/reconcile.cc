// Reconciliation (almanac/models/reconcile.h). Every method but bottom-up is the GLS
// projection G = (S' W^-1 S)^-1 S' W^-1 with its own W; bottom-up is G = [0 | I].
#include "almanac/models/reconcile.h"


#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>

#include <Eigen/Dense>
#include <yaml-cpp/yaml.h>

#include "models/reconcile/reconcile_internal.h"

namespace almanac::models {
namespace {


Eigen::MatrixXd ReconcileMatrix(const std::vector<std::vector<double>>& rows, size_t cols) {
  Eigen::MatrixXd m(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(cols));
  for (size_t i = 0; i < rows.size(); ++i)
    for (size_t j = 0; j < cols; ++j) m(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = rows[i][j];
  return m;
}

std::vector<std::vector<double>> ReconcileRows(const Eigen::MatrixXd& m) {
  std::vector<std::vector<double>> out(static_cast<size_t>(m.rows()), std::vector<double>(static_cast<size_t>(m.cols())));
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j) out[static_cast<size_t>(i)][static_cast<size_t>(j)] = m(i, j);
  return out;
}

}  // namespace

namespace reconcile {

Eigen::MatrixXd ShrinkCovariance(const Eigen::MatrixXd& x, double* lambda) {
  const double n = static_cast<double>(x.rows());
  const Eigen::MatrixXd cov = x.transpose() * x / n;
  const Eigen::VectorXd sd = cov.diagonal().cwiseSqrt();
  const Eigen::MatrixXd xs = x * sd.cwiseInverse().asDiagonal();
  const Eigen::MatrixXd cor = sd.cwiseInverse().asDiagonal() * cov * sd.cwiseInverse().asDiagonal();
  const Eigen::MatrixXd xs2 = xs.cwiseProduct(xs);
  const Eigen::MatrixXd xtx = xs.transpose() * xs;
  Eigen::MatrixXd v = (xs2.transpose() * xs2 - xtx.cwiseProduct(xtx) / n) / (n * (n - 1));
  v.diagonal().setZero();
  Eigen::MatrixXd d = cor;  // minus the target's correlation (the identity), squared
  d.diagonal().setZero();
  const double denom = d.cwiseProduct(d).sum();
  double l = denom > 0 ? v.sum() / denom : 1.0;
  l = std::clamp(l, 0.0, 1.0);
  *lambda = l;
  Eigen::MatrixXd target = Eigen::MatrixXd::Zero(cov.rows(), cov.cols());
  target.diagonal() = cov.diagonal();
  return l * target + (1 - l) * cov;
}

Result<Eigen::MatrixXd> GlsG(const Eigen::MatrixXd& s, const Eigen::MatrixXd& w) {
  Eigen::LDLT<Eigen::MatrixXd> wf(w);
  if (wf.info() != Eigen::Success || !(wf.vectorD().minCoeff() > 0))
    return InvalidArgumentError("reconcile: the weight matrix W is not positive definite");
  const Eigen::MatrixXd winv_s = wf.solve(s);  // W^-1 S
  const Eigen::MatrixXd a = s.transpose() * winv_s;
  Eigen::LDLT<Eigen::MatrixXd> af(a);
  if (af.info() != Eigen::Success || !(af.vectorD().minCoeff() > 1e-12 * af.vectorD().maxCoeff()))
    return InvalidArgumentError("reconcile: S' W^-1 S is singular");
  return Eigen::MatrixXd(af.solve(winv_s.transpose()));
}

}  // namespace reconcile

Result<Hierarchy> BuildHierarchy(std::vector<std::string> bottom,
                                 const std::vector<std::pair<std::string, std::vector<std::string>>>& aggregates) {
  if (bottom.empty()) return InvalidArgumentError("hierarchy: no bottom-level series");
  std::map<std::string, size_t> bottom_index;
  std::map<std::string, const std::vector<std::string>*> agg;
  for (size_t j = 0; j < bottom.size(); ++j) {
    if (bottom[j].empty()) return InvalidArgumentError("hierarchy: a bottom-level series has an empty name");
    if (!bottom_index.emplace(bottom[j], j).second)
      return InvalidArgumentError("hierarchy: bottom-level series '" + bottom[j] + "' is listed twice");
  }
  for (const auto& [name, parts] : aggregates) {
    if (name.empty()) return InvalidArgumentError("hierarchy: an aggregate has an empty name");
    if (bottom_index.count(name) || !agg.emplace(name, &parts).second)
      return InvalidArgumentError("hierarchy: series '" + name + "' is defined twice");
    if (parts.empty()) return InvalidArgumentError("hierarchy: aggregate '" + name + "' has no parts");
  }
  Hierarchy h;
  const size_t nb = bottom.size();
  // Expands an aggregate into its bottom series (depth-first; `path` detects cycles).
  std::map<std::string, std::vector<double>> rows;
  std::function<Result<std::vector<double>>(const std::string&, std::set<std::string>&)> expand;
  expand = [&](const std::string& name, std::set<std::string>& path) -> Result<std::vector<double>> {
    if (auto it = rows.find(name); it != rows.end()) return it->second;
    if (!path.insert(name).second) return InvalidArgumentError("hierarchy: aggregate '" + name + "' contains itself");
    std::vector<double> row(nb, 0.0);
    for (const std::string& part : *agg.at(name)) {
      if (auto b = bottom_index.find(part); b != bottom_index.end()) {
        row[b->second] += 1;
      } else if (agg.count(part)) {
        ALMANAC_ASSIGN_OR_RETURN(std::vector<double> sub, expand(part, path));
        for (size_t j = 0; j < nb; ++j) row[j] += sub[j];
      } else {
        return InvalidArgumentError("hierarchy: aggregate '" + name + "' has an unknown part '" + part + "'");
      }
    }
    for (size_t j = 0; j < nb; ++j)
      if (row[j] > 1)
        return InvalidArgumentError("hierarchy: aggregate '" + name + "' counts '" + bottom[j] +
                                    "' more than once");
    path.erase(name);
    rows[name] = row;
    return row;
  };
  std::map<std::vector<double>, std::string> seen;
  for (size_t j = 0; j < nb; ++j) {
    std::vector<double> unit(nb, 0.0);
    unit[j] = 1;
    seen[unit] = bottom[j];
  }
  for (const auto& [name, parts] : aggregates) {
    std::set<std::string> path;
    ALMANAC_ASSIGN_OR_RETURN(std::vector<double> row, expand(name, path));
    if (auto [it, fresh] = seen.emplace(row, name); !fresh)
      return InvalidArgumentError("hierarchy: '" + name + "' and '" + it->second +
                                  "' are sums of the same series (S would repeat a row)");
    h.nodes.push_back(name);
    h.s.push_back(std::move(row));
  }
  for (size_t j = 0; j < nb; ++j) {
    h.nodes.push_back(bottom[j]);
    std::vector<double> unit(nb, 0.0);
    unit[j] = 1;
    h.s.push_back(std::move(unit));
  }
  h.bottom = std::move(bottom);
  return h;
}

Result<Hierarchy> ParseHierarchyYaml(std::string_view text, const std::string& file) {
  std::vector<std::string> bottom;
  std::vector<std::pair<std::string, std::vector<std::string>>> aggregates;
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    auto where = [&](const YAML::Node& n) { return file + " line " + std::to_string(n.Mark().line + 1); };
    auto names = [&](const YAML::Node& n, const std::string& what) -> Result<std::vector<std::string>> {
      if (!n.IsSequence()) return InvalidArgumentError(where(n) + ": " + what + " must be a list of series names");
      std::vector<std::string> out;
      for (const auto& e : n) {
        if (!e.IsScalar()) return InvalidArgumentError(where(e) + ": " + what + " must list series names");
        out.push_back(e.as<std::string>());
      }
      return out;
    };
    if (!root.IsMap()) return InvalidArgumentError(file + ": expected a mapping with 'bottom' and 'aggregates'");
    for (const auto& kv : root) {
      const std::string key = kv.first.as<std::string>();
      if (key != "bottom" && key != "aggregates")
        return InvalidArgumentError(where(kv.first) + ": unknown key '" + key + "' (expected bottom, aggregates)");
    }
    if (!root["bottom"]) return InvalidArgumentError(file + ": 'bottom' (the bottom-level series) is missing");
    if (!root["aggregates"] || !root["aggregates"].IsMap())
      return InvalidArgumentError(file + ": 'aggregates' must map each aggregate to its parts");
    ALMANAC_ASSIGN_OR_RETURN(bottom, names(root["bottom"], "bottom"));
    for (const auto& kv : root["aggregates"]) {
      const std::string name = kv.first.as<std::string>();
      ALMANAC_ASSIGN_OR_RETURN(std::vector<std::string> parts, names(kv.second, "aggregate '" + name + "'"));
      aggregates.push_back({name, std::move(parts)});
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(file + ": not valid YAML: " + e.what());
  }
  auto h = BuildHierarchy(std::move(bottom), aggregates);
  if (!h.ok()) return h.status().WithContext(file);
  return h;
}

Result<ReconcileMethod> ParseReconcileMethod(std::string_view name) {
  if (name == "bottom_up") return ReconcileMethod::kBottomUp;
  if (name == "ols") return ReconcileMethod::kOls;
  if (name == "wls_struct") return ReconcileMethod::kWlsStructural;
  if (name == "wls_var") return ReconcileMethod::kWlsVariance;
  if (name == "mint_shrink") return ReconcileMethod::kMintShrink;
  return InvalidArgumentError("reconciliation method must be bottom_up, ols, wls_struct, wls_var or mint_shrink, got '" +
                              std::string(name) + "'");
}

const char* ReconcileMethodName(ReconcileMethod method) {
  switch (method) {
    case ReconcileMethod::kBottomUp: return "bottom_up";
    case ReconcileMethod::kOls: return "ols";
    case ReconcileMethod::kWlsStructural: return "wls_struct";
    case ReconcileMethod::kWlsVariance: return "wls_var";
    case ReconcileMethod::kMintShrink: return "mint_shrink";
  }
  return "?";
}

Result<Reconciliation> Reconcile(const Hierarchy& h, ReconcileMethod method,
                                 const std::vector<std::vector<double>>& base,
                                 const std::vector<std::vector<double>>& residuals) {
  const size_t nn = h.nodes.size(), nb = h.bottom.size();
  if (h.s.size() != nn || nb == 0) return InvalidArgumentError("reconcile: the hierarchy is malformed");
  if (base.size() != nn)
    return InvalidArgumentError("reconcile: " + std::to_string(base.size()) + " base forecasts for " +
                                std::to_string(nn) + " series of the hierarchy");
  const size_t horizon = base[0].size();
  if (horizon == 0) return InvalidArgumentError("reconcile: the base forecasts are empty");
  for (size_t i = 0; i < nn; ++i) {
    if (base[i].size() != horizon)
      return InvalidArgumentError("reconcile: the base forecast of '" + h.nodes[i] + "' has " +
                                  std::to_string(base[i].size()) + " steps, expected " + std::to_string(horizon));
    for (double v : base[i])
      if (!std::isfinite(v)) return InvalidArgumentError("reconcile: the base forecast of '" + h.nodes[i] + "' has a missing value");
  }
  const Eigen::MatrixXd s = ReconcileMatrix(h.s, nb);
  const Eigen::MatrixXd yhat = ReconcileMatrix(base, horizon);
  Reconciliation out;
  Eigen::MatrixXd g;
  if (method == ReconcileMethod::kBottomUp) {
    g = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(nb), static_cast<Eigen::Index>(nn));
    g.rightCols(static_cast<Eigen::Index>(nb)).setIdentity();
  } else {
    Eigen::MatrixXd w;
    if (method == ReconcileMethod::kOls) {
      w = Eigen::MatrixXd::Identity(static_cast<Eigen::Index>(nn), static_cast<Eigen::Index>(nn));
    } else if (method == ReconcileMethod::kWlsStructural) {
      w = Eigen::MatrixXd((s * Eigen::VectorXd::Ones(static_cast<Eigen::Index>(nb))).asDiagonal());
    } else {
      if (residuals.size() != nn)
        return InvalidArgumentError(std::string("reconcile: method ") + ReconcileMethodName(method) +
                                    " needs in-sample residuals of every series (" + std::to_string(nn) + "), got " +
                                    std::to_string(residuals.size()));
      const size_t t_len = residuals[0].size();
      if (t_len < 2) return InvalidArgumentError("reconcile: at least two residuals per series are needed");
      for (size_t i = 0; i < nn; ++i) {
        if (residuals[i].size() != t_len)
          return InvalidArgumentError("reconcile: the residuals of '" + h.nodes[i] + "' have " +
                                      std::to_string(residuals[i].size()) + " values, expected " + std::to_string(t_len));
        double ss = 0;
        for (double v : residuals[i]) {
          if (!std::isfinite(v)) return InvalidArgumentError("reconcile: the residuals of '" + h.nodes[i] + "' have a missing value");
          ss += v * v;
        }
        if (!(ss > 0)) return InvalidArgumentError("reconcile: the residuals of '" + h.nodes[i] + "' are all zero");
      }
      const Eigen::MatrixXd x = ReconcileMatrix(residuals, t_len).transpose();  // T x nodes
      if (method == ReconcileMethod::kWlsVariance) {
        w = Eigen::MatrixXd((x.cwiseProduct(x).colwise().sum() / static_cast<double>(t_len)).transpose().asDiagonal());
      } else {
        w = reconcile::ShrinkCovariance(x, &out.shrinkage);
      }
    }
    auto gls = reconcile::GlsG(s, w);
    if (!gls.ok()) return gls.status().WithContext(ReconcileMethodName(method));
    g = std::move(*gls);
  }
  out.g = ReconcileRows(g);
  out.forecasts = ReconcileRows(s * (g * yhat));
  return out;
}

}  // namespace almanac::models
