// JSON form of a fitted dynamic factor model and the alignment of mixed-frequency series.
#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "almanac/models/nowcast.h"
#include "models/dfm/dfm_internal.h"

namespace almanac::models {
namespace {

Json Matrix(const Eigen::MatrixXd& M) {
  Json rows = Json::array();
  for (int i = 0; i < M.rows(); ++i) {
    Json row = Json::array();
    for (int j = 0; j < M.cols(); ++j) row.push_back(M(i, j));
    rows.push_back(row);
  }
  return rows;
}

Result<Eigen::MatrixXd> MatrixFrom(const Json& j, int r, int c, const char* what) {
  if (!j.is_array() || static_cast<int>(j.size()) != r) return DataLossError(std::string("dfm model: bad ") + what);
  Eigen::MatrixXd M(r, c);
  for (int i = 0; i < r; ++i) {
    const Json& row = j[static_cast<size_t>(i)];
    if (!row.is_array() || static_cast<int>(row.size()) != c) return DataLossError(std::string("dfm model: bad ") + what);
    for (int k = 0; k < c; ++k) {
      if (!row[static_cast<size_t>(k)].is_number()) return DataLossError(std::string("dfm model: bad ") + what);
      M(i, k) = row[static_cast<size_t>(k)].get<double>();
    }
  }
  return M;
}

Json ParamsJson(const DfmParameters& p) {
  return Json{{"variables", p.variables}, {"factors", p.factors},     {"loadings", p.loadings},
              {"factor_ar", p.factor_ar}, {"factor_cov", p.factor_cov}, {"idio_ar", p.idio_ar},
              {"idio_var", p.idio_var}};
}

}  // namespace

Json DynamicFactorModel::ToJson() const {
  const Impl& m = *impl_;
  Json blocks = Json::array();
  for (const auto& b : m.options.blocks)
    blocks.push_back(Json{{"name", b.name}, {"factors", b.factors}, {"order", b.order}, {"variables", b.variables}});
  Json quarterly = Json::array();
  for (bool q : m.layout.quarterly) quarterly.push_back(q);
  return Json{
      {"options",
       {{"blocks", blocks},
        {"standardize", m.options.standardize},
        {"max_iterations", m.options.max_iterations},
        {"tolerance", m.options.tolerance},
        {"min_observations", m.options.min_observations}}},
      {"names", m.names},
      {"quarterly", quarterly},
      {"start", m.start.ToString()},
      {"means", m.means},
      {"stds", m.stds},
      {"params", ParamsJson(m.public_params)},
      {"initial_state", {{"mean", Matrix(m.a0)}, {"cov", Matrix(m.P0)}}},
      {"report",
       {{"iterations", m.report.iterations},
        {"converged", m.report.converged},
        {"loglik", m.report.loglik},
        {"criterion", FiniteOrNull(m.report.criterion)},
        {"notes", m.report.notes}}},
  };
}

Result<DynamicFactorModel> DynamicFactorModel::FromJson(const Json& json) {
  try {
    auto impl = std::make_unique<Impl>();
    const Json& o = json.at("options");
    impl->options.blocks.clear();
    for (const auto& b : o.at("blocks"))
      impl->options.blocks.push_back(DfmBlock{b.at("name").get<std::string>(), b.at("factors").get<int>(),
                                              b.at("order").get<int>(), b.at("variables").get<std::vector<std::string>>()});
    impl->options.standardize = o.at("standardize").get<bool>();
    impl->options.max_iterations = o.at("max_iterations").get<int>();
    impl->options.tolerance = o.at("tolerance").get<double>();
    impl->options.min_observations = o.at("min_observations").get<int>();
    impl->names = json.at("names").get<std::vector<std::string>>();
    const auto quarterly = json.at("quarterly").get<std::vector<bool>>();
    auto start = Period::Parse(json.at("start").get<std::string>(), Frequency::kMonthly);
    if (!start.ok()) return DataLossError("dfm model: bad start: " + start.status().message());
    impl->start = *start;
    impl->means = json.at("means").get<std::vector<double>>();
    impl->stds = json.at("stds").get<std::vector<double>>();
    auto layout = dfm::MakeLayout(impl->names, quarterly, impl->options);
    if (!layout.ok()) return DataLossError("dfm model: " + layout.status().message());
    impl->layout = std::move(*layout);
    const auto& L = impl->layout;
    if (impl->means.size() != impl->names.size() || impl->stds.size() != impl->names.size())
      return DataLossError("dfm model: means and stds need one value per variable");
    const Json& p = json.at("params");
    DfmParameters pp;
    pp.variables = impl->names;
    pp.factors = L.factor_names;
    pp.loadings = p.at("loadings").get<std::vector<std::vector<double>>>();
    pp.factor_ar = p.at("factor_ar").get<std::vector<std::vector<std::vector<double>>>>();
    pp.factor_cov = p.at("factor_cov").get<std::vector<std::vector<std::vector<double>>>>();
    pp.idio_ar = p.at("idio_ar").get<std::vector<double>>();
    pp.idio_var = p.at("idio_var").get<std::vector<double>>();
    if (Status s = dfm::CheckPublic(L, pp); !s.ok()) return DataLossError("dfm model: " + s.message());
    impl->params = dfm::FromPublic(L, pp);
    impl->public_params = std::move(pp);
    const int m = L.num_states;
    ALMANAC_ASSIGN_OR_RETURN(Eigen::MatrixXd a0, MatrixFrom(json.at("initial_state").at("mean"), m, 1, "initial mean"));
    impl->a0 = a0.col(0);
    ALMANAC_ASSIGN_OR_RETURN(impl->P0, MatrixFrom(json.at("initial_state").at("cov"), m, m, "initial covariance"));
    const Json& r = json.at("report");
    impl->report.iterations = r.at("iterations").get<int>();
    impl->report.converged = r.at("converged").get<bool>();
    impl->report.loglik = r.at("loglik").get<double>();
    impl->report.criterion = NumberOrNaN(r.at("criterion"));
    impl->report.notes = r.at("notes").get<std::vector<std::string>>();
    return DynamicFactorModel(std::move(impl));
  } catch (const std::exception& e) {
    return DataLossError(std::string("dfm model: malformed JSON: ") + e.what());
  }
}

Result<MixedFrequencyData> AlignMixedFrequency(const std::vector<std::string>& names,
                                               const std::vector<TimeSeries>& series, std::optional<Period> through) {
  if (names.size() != series.size()) return InvalidArgumentError("dfm: names and series differ in number");
  if (names.empty()) return InvalidArgumentError("dfm: no series");
  std::set<std::string> seen;
  std::optional<Period> first, last;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!seen.insert(names[i]).second) return InvalidArgumentError("dfm: series '" + names[i] + "' is repeated");
    const Frequency f = series[i].frequency();
    if (f != Frequency::kMonthly && f != Frequency::kQuarterly)
      return InvalidArgumentError("dfm: series '" + names[i] + "' is " + std::string(FrequencyCode(f)) +
                                  "; only monthly and quarterly series can enter the model");
    if (series[i].empty()) return InvalidArgumentError("dfm: series '" + names[i] + "' is empty");
    const Period s = series[i].start().Convert(Frequency::kMonthly, Anchor::kStart);
    const Period e = series[i].end().Convert(Frequency::kMonthly, Anchor::kEnd);
    if (!first || s < *first) first = s;
    if (!last || e > *last) last = e;
  }
  if (through) {
    const Period t = through->Convert(Frequency::kMonthly, Anchor::kEnd);
    if (t > *last) last = t;
  }
  MixedFrequencyData out;
  out.names = names;
  out.start = *first;
  ALMANAC_ASSIGN_OR_RETURN(int64_t span, last->Diff(*first));
  const size_t n = static_cast<size_t>(span + 1);
  for (size_t i = 0; i < names.size(); ++i) {
    const bool q = series[i].frequency() == Frequency::kQuarterly;
    out.quarterly.push_back(q);
    std::vector<double> v(n, kNaN);
    for (int64_t j = 0; j < series[i].size(); ++j) {
      const Period p = series[i].PeriodAt(j).Convert(Frequency::kMonthly, Anchor::kEnd);
      ALMANAC_ASSIGN_OR_RETURN(int64_t t, p.Diff(*first));
      v[static_cast<size_t>(t)] = series[i].values()[static_cast<size_t>(j)];
    }
    out.values.push_back(std::move(v));
  }
  return out;
}

}  // namespace almanac::models
