// Macro scenario paths on their own (issue 24): the fit-resolve-simulate part of the stress
// test (shared by RunStressTest, the pipeline's `simulate` step and `almanac risk simulate`),
// the stored form of the paths (float32 after a JSON header) and their per-period summary.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "almanac/risk.h"

namespace almanac::risk {
namespace {

void PutU32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

std::uint32_t GetU32(std::string_view b, size_t at) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + i])) << (8 * i);
  return v;
}

// IEEE-754 binary32 in little-endian byte order, whatever the host's order.
void PutF32(std::string& out, float f) {
  std::uint32_t u = 0;
  std::memcpy(&u, &f, sizeof u);
  PutU32(out, u);
}

constexpr double kQuantileLevels[] = {0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99};
constexpr const char* kQuantileNames[] = {"p01", "p05", "p25", "p50", "p75", "p95", "p99"};

}  // namespace

Result<MacroScenarioSimulator> MacroScenarioSimulator::Create(const MacroSimulationRequest& req) {
  const models::MultiInput& data = req.data;
  if (!data.start) return InvalidArgumentError("macro data: no periods (the paths need a start period)");
  if (data.size() < 2) return InvalidArgumentError("macro data: fewer than 2 observations");
  MacroScenarioSimulator out;
  out.variables_ = data.names;
  out.sample_ = data.start->ToString() + ".." + (*data.start + (data.size() - 1)).ToString() + " (" +
                std::to_string(data.size()) + " obs)";
  out.first_ = *data.start + data.size();
  // Scenarios: resolve them all before fitting or simulating, so a bad one fails before any work.
  if (req.scenarios) {
    for (const auto& name : req.only) {
      bool found = false;
      for (const auto& sc : req.scenarios->scenarios) found = found || sc.name == name;
      if (!found) return NotFoundError(req.scenarios->file + ": no scenario named " + QuoteForMessage(name));
    }
    for (const auto& sc : req.scenarios->scenarios) {
      if (!req.only.empty() && std::find(req.only.begin(), req.only.end(), sc.name) == req.only.end()) continue;
      ALMANAC_ASSIGN_OR_RETURN(auto conds, models::ResolveScenario(*req.scenarios, sc, data.names, out.first_, req.horizon));
      out.names_.push_back(sc.name);
      out.descriptions_.push_back(sc.description);
      out.conditions_.push_back(std::move(conds));
    }
  } else {
    out.names_.push_back("unconditional");
    out.descriptions_.push_back("no conditions");
    out.conditions_.emplace_back();
  }
  if (req.fitted_model != nullptr) {
    out.model_ = req.fitted_model;
  } else {
    ALMANAC_ASSIGN_OR_RETURN(std::unique_ptr<models::MultivariateForecaster> fitted, models::CreateMultivariate(req.model));
    ALMANAC_RETURN_IF_ERROR(fitted->Fit(data));
    out.model_ = std::move(fitted);
  }
  ALMANAC_ASSIGN_OR_RETURN(auto desc, out.model_->Describe());
  if (req.fitted_model != nullptr && desc.names != data.names)
    return InvalidArgumentError("stress test: the fitted " + desc.method + " has the variables (" + JoinList(desc.names) +
                                ") but the macro data have (" + JoinList(data.names) +
                                "); give the model's series in its order");
  out.model_method_ = desc.method;
  out.settings_ = req;
  out.settings_.data = {};
  out.settings_.fitted_model = nullptr;
  out.settings_.scenarios.reset();
  return out;
}

Result<models::SimulatedPaths> MacroScenarioSimulator::Simulate(size_t s) const {
  if (s >= names_.size())
    return OutOfRangeError("scenario index " + std::to_string(s) + " of " + std::to_string(names_.size()));
  const MacroSimulationRequest& r = settings_;
  models::PathSimulationRequest sim{.num_paths = r.num_paths,
                                    .horizon = r.horizon,
                                    .shocks = r.shocks,
                                    .t_dof = r.shock_dof,
                                    .seed = r.seed,
                                    .conditions = conditions_[s],
                                    .parameter_uncertainty = r.model_parameter_uncertainty,
                                    .threads = r.threads};
  auto paths = model_->SimulatePaths(sim);
  if (!paths.ok()) return paths.status().WithContext("scenario " + names_[s]);
  if (paths->first_period && *paths->first_period != first_)
    return InvalidArgumentError("stress test: the fitted " + model_method_ + " simulates from " +
                                paths->first_period->ToString() + " but the macro data end before " +
                                first_.ToString() + "; give the data the model was fitted on");
  return paths;
}

Status MacroPathsSizeCheck(int64_t scenarios, int64_t paths, int64_t horizon, int64_t variables) {
  if (scenarios < 1 || paths < 1 || horizon < 1 || variables < 1)
    return InvalidArgumentError("stored paths: scenarios, paths, horizon and variables must each be at least 1");
  // In long double: the product of four int64 may overflow int64 before the comparison.
  const long double per_path = static_cast<long double>(scenarios) * horizon * variables;
  const long double n = per_path * paths;
  if (n > static_cast<long double>(kMaxStoredPathValues)) {
    const auto count = [](long double v) {
      return v < 1e18L ? std::to_string(static_cast<long long>(v)) : FormatDouble(static_cast<double>(v));
    };
    return InvalidArgumentError("stored paths: " + std::to_string(scenarios) + " scenario(s) x " + std::to_string(paths) +
                                " paths x " + std::to_string(horizon) + " periods x " + std::to_string(variables) +
                                " variables = " + count(n) + " values (" +
                                FormatFixed(static_cast<double>(n) * 4 / (1 << 20), 1) + " MiB as float32) exceed the cap of " +
                                std::to_string(kMaxStoredPathValues) + " values (128 MiB); at most " +
                                count(std::floor(static_cast<long double>(kMaxStoredPathValues) / per_path)) +
                                " paths for this horizon, variables and scenarios");
  }
  return Status::Ok();
}

namespace {

// The magic, the header length and the header of a file of `scenarios` x paths shaped like `p`.
Result<std::string> EncodeMacroPathsHeader(const std::vector<std::string>& scenarios, const models::SimulatedPaths& p,
                                           Json header) {
  if (!header.is_object()) header = Json::object();
  header["format"] = "almanac.macro_paths";
  header["version"] = 1;
  header["dtype"] = "float32";
  header["byte_order"] = "little";
  header["layout"] = "scenario,path,step,variable";
  header["scenarios"] = scenarios;
  header["variables"] = p.names;
  header["num_paths"] = p.num_paths;
  header["horizon"] = p.horizon;
  header["first_period"] = p.first_period ? Json(p.first_period->ToString()) : Json(nullptr);
  ALMANAC_ASSIGN_OR_RETURN(std::string head, CanonicalJson(header));
  std::string out;
  out.reserve(kMacroPathsMagic.size() + 4 + head.size() +
              4 * scenarios.size() * static_cast<size_t>(p.num_paths) * static_cast<size_t>(p.horizon) *
                  static_cast<size_t>(p.num_vars));
  out += kMacroPathsMagic;
  PutU32(out, static_cast<std::uint32_t>(head.size()));
  out += head;
  return out;
}

// Appends one scenario's values as float32; a value beyond float32's range is named.
Status AppendMacroPathValues(std::string& out, const std::string& scenario, const models::SimulatedPaths& p) {
  constexpr double kFloatMax = std::numeric_limits<float>::max();
  const size_t k = static_cast<size_t>(p.num_vars), h = static_cast<size_t>(p.horizon);
  for (size_t i = 0; i < p.values.size(); ++i) {
    if (!(std::abs(p.values[i]) <= kFloatMax))
      return InvalidArgumentError("stored paths: scenario " + scenario + ", path " + std::to_string(i / (h * k)) +
                                  ", step " + std::to_string(i / k % h + 1) + ", " + p.names[i % k] + ": " +
                                  FormatDouble(p.values[i]) + " does not fit a float32 (an explosive model?)");
    PutF32(out, static_cast<float>(p.values[i]));
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> EncodeMacroPaths(const std::vector<std::string>& scenario_names,
                                     const std::vector<models::SimulatedPaths>& paths, Json header) {
  if (paths.empty() || paths.size() != scenario_names.size())
    return InvalidArgumentError("stored paths: need one set of paths per scenario");
  const models::SimulatedPaths& p0 = paths.front();
  for (size_t s = 1; s < paths.size(); ++s)
    if (paths[s].num_paths != p0.num_paths || paths[s].horizon != p0.horizon || paths[s].names != p0.names)
      return InvalidArgumentError("stored paths: scenario " + scenario_names[s] + " has another shape or variables than " +
                                  scenario_names[0]);
  ALMANAC_RETURN_IF_ERROR(MacroPathsSizeCheck(static_cast<int64_t>(paths.size()), p0.num_paths, p0.horizon, p0.num_vars));
  ALMANAC_ASSIGN_OR_RETURN(std::string out, EncodeMacroPathsHeader(scenario_names, p0, std::move(header)));
  for (size_t s = 0; s < paths.size(); ++s) ALMANAC_RETURN_IF_ERROR(AppendMacroPathValues(out, scenario_names[s], paths[s]));
  return out;
}

Result<StoredMacroPaths> SimulateMacroPathsForStorage(const MacroSimulationRequest& request, Json header) {
  ALMANAC_ASSIGN_OR_RETURN(MacroScenarioSimulator sim, MacroScenarioSimulator::Create(request));
  const auto& names = sim.scenario_names();
  // The cap first: nothing is simulated for a request that could not be stored.
  ALMANAC_RETURN_IF_ERROR(MacroPathsSizeCheck(static_cast<int64_t>(names.size()), request.num_paths, request.horizon,
                                              static_cast<int64_t>(sim.variables().size())));
  StoredMacroPaths out;
  out.summary = {{"model", sim.model_method()},
                 {"sample", sim.sample()},
                 {"variables", sim.variables()},
                 {"first_period", sim.first_period().ToString()},
                 {"scenarios", Json::array()}};
  for (size_t s = 0; s < names.size(); ++s) {
    // One scenario's doubles at a time: memory is the float32 file plus one scenario in double.
    ALMANAC_ASSIGN_OR_RETURN(models::SimulatedPaths paths, sim.Simulate(s));
    if (s == 0) {
      header["model"] = sim.model_method();
      header["sample"] = sim.sample();
      ALMANAC_ASSIGN_OR_RETURN(out.bytes, EncodeMacroPathsHeader(names, paths, std::move(header)));
    }
    ALMANAC_RETURN_IF_ERROR(AppendMacroPathValues(out.bytes, names[s], paths));
    Json summary = MacroPathsSummary(names[s], paths);
    summary["description"] = sim.scenario_descriptions()[s];
    out.summary["scenarios"].push_back(std::move(summary));
  }
  return out;
}

Result<DecodedMacroPaths> DecodeMacroPaths(std::string_view bytes) {
  const size_t m = kMacroPathsMagic.size();
  if (bytes.size() < m + 4 || bytes.substr(0, m) != kMacroPathsMagic)
    return DataLossError("stored paths: not an almanac paths file (no ALMPATH1 magic)");
  const size_t len = GetU32(bytes, m);
  if (bytes.size() < m + 4 + len) return DataLossError("stored paths: truncated header");
  DecodedMacroPaths out;
  auto header = ParseJson(bytes.substr(m + 4, len));
  if (!header.ok() || !header->is_object()) return DataLossError("stored paths: the header is not a JSON object");
  out.header = std::move(*header);
  const Json& h = out.header;
  try {
    out.scenarios = h.at("scenarios").get<std::vector<std::string>>();
    out.variables = h.at("variables").get<std::vector<std::string>>();
    const Json& n = h.at("num_paths");
    const Json& hz = h.at("horizon");
    if (!n.is_number_integer() || !hz.is_number_integer() || n.get<int64_t>() < 1 || hz.get<int64_t>() < 1 ||
        n.get<int64_t>() > kMaxStoredPathValues || hz.get<int64_t>() > kMaxStoredPathValues)
      return DataLossError("stored paths: num_paths and horizon must be positive integers");
    out.num_paths = static_cast<int>(n.get<int64_t>());
    out.horizon = static_cast<int>(hz.get<int64_t>());
  } catch (const std::exception& e) {
    return DataLossError(std::string("stored paths: header: ") + e.what());
  }
  if (h.value("dtype", "") != "float32" || h.value("byte_order", "") != "little")
    return DataLossError("stored paths: expected float32 little-endian values");
  if (out.num_paths < 1 || out.horizon < 1 || out.variables.empty() || out.scenarios.empty())
    return DataLossError("stored paths: the header has an empty dimension");
  const long double n = static_cast<long double>(out.scenarios.size()) * out.num_paths * out.horizon *
                        static_cast<long double>(out.variables.size());
  const size_t body = bytes.size() - (m + 4 + len);
  if (n > static_cast<long double>(kMaxStoredPathValues) || body != static_cast<size_t>(n) * 4)
    return DataLossError("stored paths: " + std::to_string(body) + " bytes of values, expected " +
                         FormatDouble(static_cast<double>(n) * 4));
  out.values.resize(static_cast<size_t>(n));
  const size_t at = m + 4 + len;
  for (size_t i = 0; i < out.values.size(); ++i) {
    const std::uint32_t u = GetU32(bytes, at + 4 * i);
    std::memcpy(&out.values[i], &u, sizeof u);
  }
  return out;
}

Json MacroPathsSummary(const std::string& scenario, const models::SimulatedPaths& p) {
  Json vars = Json::array();
  const size_t n = static_cast<size_t>(p.num_paths);
  std::vector<double> column(n);
  for (int k = 0; k < p.num_vars; ++k) {
    Json periods = Json::array();
    for (int h = 0; h < p.horizon; ++h) {
      double sum = 0;
      for (size_t i = 0; i < n; ++i) {
        column[i] = p.at(static_cast<int>(i), h, k);
        sum += column[i];
      }
      const double mean = sum / static_cast<double>(n);
      double ss = 0;
      for (double v : column) ss += (v - mean) * (v - mean);
      std::sort(column.begin(), column.end());
      Json row = {{"h", h + 1},
                  {"period", p.first_period ? Json((*p.first_period + h).ToString()) : Json(nullptr)},
                  {"mean", mean},
                  {"sd", n > 1 ? std::sqrt(ss / static_cast<double>(n - 1)) : 0.0}};
      for (size_t q = 0; q < std::size(kQuantileLevels); ++q) {
        // x(ceil(n p)), 1-based, with n p within 1e-9 of an integer counted as that integer.
        const double np = static_cast<double>(n) * kQuantileLevels[q];
        const double r = std::round(np);
        const size_t k1 = std::abs(np - r) <= 1e-9 * std::max(1.0, np) ? static_cast<size_t>(r)
                                                                       : static_cast<size_t>(std::ceil(np));
        row[kQuantileNames[q]] = column[std::min(n, std::max<size_t>(1, k1)) - 1];
      }
      periods.push_back(std::move(row));
    }
    vars.push_back({{"variable", p.names[static_cast<size_t>(k)]}, {"periods", std::move(periods)}});
  }
  return {{"scenario", scenario}, {"paths", p.num_paths}, {"variables", std::move(vars)}};
}

}  // namespace almanac::risk
