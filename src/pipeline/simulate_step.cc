// The simulate step (issue 24): the `simulate:` section of a pipeline file and the plan the
// runner executes with risk::SimulateMacroPathsForStorage (the same code as `almanac risk
// simulate` and, for fitting and scenarios, the risk step's stress test).
#include "pipeline/simulate_step.h"

#include <algorithm>
#include <cstdint>

#include "pipeline/section_parser.h"

namespace almanac::pipeline {
namespace {

class SimulateSection : public SectionParser {
 public:
  using SectionParser::SectionParser;

  Status Parse(const YAML::Node& n, PipelineSpec& spec) const {
    ALMANAC_RETURN_IF_ERROR(Keys(n, "simulate",
                                 {"series", "model", "params", "model_file", "scenarios", "only", "paths", "horizon",
                                  "shocks", "shock_dof", "parameter_uncertainty", "seed"}));
    SimulateStepSpec& ss = spec.simulate;
    ss.enabled = true;
    if (n["scenarios"]) {
      ALMANAC_ASSIGN_OR_RETURN(ss.scenarios, FileName(n["scenarios"], "simulate.scenarios"));
    }
    const bool registered =
        n["model"] && n["model"].IsScalar() && n["model"].as<std::string>().find('@') != std::string::npos;
    if (n["series"]) {
      ALMANAC_ASSIGN_OR_RETURN(ss.series, Names(n["series"], "simulate.series", /*must_be_known=*/true));
    } else if (ss.scenarios.empty() && !registered) {
      return Error(n, "simulate.series",
                   "required without a scenarios file or a registered model (the macro variables, in model order)");
    }
    if (n["model_file"]) {
      if (n["model"] || n["params"])
        return Error(n["model_file"], "simulate.model_file",
                     "give either a fitted model file or model/params to fit, not both");
      ALMANAC_ASSIGN_OR_RETURN(ss.model_file, FileName(n["model_file"], "simulate.model_file"));
    }
    if (registered) {
      ALMANAC_ASSIGN_OR_RETURN(ss.registered_model, Text(n["model"], "simulate.model"));
      if (auto ref = registry::SplitVersionRef(ss.registered_model); !ref.ok())
        return Error(n["model"], "simulate.model", ref.status().message());
      if (n["params"])
        return Error(n["params"], "simulate.params",
                     "does not apply to the registered model " + ss.registered_model + " (it is simulated as it was fitted)");
    } else if (n["model"]) {
      ALMANAC_ASSIGN_OR_RETURN(ss.model_type, Text(n["model"], "simulate.model"));
      if (ss.model_type != "var" && ss.model_type != "bvar") {
        const std::string hint = DidYouMean(ss.model_type, {"var", "bvar"});
        return Error(n["model"], "simulate.model",
                     "unknown macro model '" + ss.model_type + "'" +
                         (hint.empty() ? std::string(" (use var or bvar)") : " (did you mean '" + hint + "'?)"));
      }
    }
    if (n["params"]) {
      ALMANAC_ASSIGN_OR_RETURN(ss.model_params, Params(n["params"], "simulate.params"));
      Status v = models::ValidateMultivariateSpec({ss.model_type.empty() ? "var" : ss.model_type, ss.model_params});
      if (!v.ok()) return Error(n["params"], "simulate.params", v.message());
    }
    if (n["only"]) {
      ALMANAC_ASSIGN_OR_RETURN(ss.only, Names(n["only"], "simulate.only", false));
      if (ss.scenarios.empty()) return Error(n["only"], "simulate.only", "needs a scenarios file");
    }
    if (n["paths"]) {
      ALMANAC_ASSIGN_OR_RETURN(int64_t v, Int(n["paths"], "simulate.paths", 1, 1000000));
      ss.paths = static_cast<int>(v);
    }
    if (n["horizon"]) {
      ALMANAC_ASSIGN_OR_RETURN(int64_t v, Int(n["horizon"], "simulate.horizon", 1, models::kMaxHorizon));
      ss.horizon = static_cast<int>(v);
    }
    if (n["shocks"]) {
      ALMANAC_ASSIGN_OR_RETURN(ss.shocks, Text(n["shocks"], "simulate.shocks"));
      if (auto s = models::ParseShockDistribution(ss.shocks); !s.ok())
        return Error(n["shocks"], "simulate.shocks", s.status().message());
    }
    if (n["shock_dof"]) {
      ALMANAC_ASSIGN_OR_RETURN(ss.shock_dof, Number(n["shock_dof"], "simulate.shock_dof", 2, 1000, true));
    }
    if (n["parameter_uncertainty"]) {
      ALMANAC_ASSIGN_OR_RETURN(ss.parameter_uncertainty, Bool(n["parameter_uncertainty"], "simulate.parameter_uncertainty"));
    }
    if (n["seed"]) {
      ALMANAC_ASSIGN_OR_RETURN(ss.seed, Int(n["seed"], "simulate.seed", 0, INT64_MAX));
    }
    return Status::Ok();
  }
};

const RiskInputFile* FindSimulateInput(const std::vector<RiskInputFile>& files, const std::string& label) {
  for (const auto& f : files)
    if (f.label == label) return &f;
  return nullptr;
}

}  // namespace

Status ParseSimulateSection(const YAML::Node& root, const std::string& file, const std::set<std::string>& available,
                            PipelineSpec& spec) {
  if (!root["simulate"]) return Status::Ok();
  return SimulateSection(file, available).Parse(root["simulate"], spec);
}

Result<std::vector<RiskInputFile>> ReadSimulateInputs(const PipelineSpec& spec, const RunOptions& options,
                                                      const VersionPackageReader& read_package) {
  std::vector<RiskInputFile> out;
  for (const auto& [label, key, name] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"input.simulate.scenarios", "simulate.scenarios", spec.simulate.scenarios},
           {"input.simulate.model_file", "simulate.model_file", spec.simulate.model_file}}) {
    if (name.empty()) continue;
    RiskInputFile f{label, name, ""};
    ALMANAC_ASSIGN_OR_RETURN(f.bytes, ReadSectionInputFile(spec, options, label, key, name));
    out.push_back(std::move(f));
  }
  if (!spec.simulate.registered_model.empty()) {
    ALMANAC_ASSIGN_OR_RETURN(RiskInputFile f,
                             ReadRegisteredModelInput("input.simulate.model", "simulate.model",
                                                      spec.simulate.registered_model, options, read_package));
    out.push_back(std::move(f));
  }
  return out;
}

Result<SimulatePlan> BuildSimulatePlan(const PipelineSpec& spec, const std::vector<RiskInputFile>& files,
                                       const std::map<std::string, TimeSeries>& series, int threads) {
  const SimulateStepSpec& ss = spec.simulate;
  SimulatePlan plan;
  risk::MacroSimulationRequest& req = plan.request;
  auto sha = [](const RiskInputFile& f) { return Json{{"file", f.name}, {"sha256", Sha256Hex(f.bytes)}}; };
  std::string type = ss.model_type;
  Json params = Json::object();
  std::optional<int> file_horizon;
  plan.series = ss.series;
  if (const RiskInputFile* sc = FindSimulateInput(files, "input.simulate.scenarios")) {
    ALMANAC_ASSIGN_OR_RETURN(req.scenarios, models::ParseScenarios(sc->bytes, sc->name));
    plan.inputs["scenarios"] = sha(*sc);
    if (plan.series.empty()) plan.series = req.scenarios->series;
    // The scenario file's model, unless the section names another type.
    if (type.empty() || type == req.scenarios->model_type.value_or("")) {
      type = req.scenarios->model_type.value_or("var");
      params = req.scenarios->model_params.is_object() ? req.scenarios->model_params : Json::object();
    }
    file_horizon = req.scenarios->horizon;
  }
  if (type.empty()) type = "var";
  for (auto it = ss.model_params.begin(); it != ss.model_params.end(); ++it) params[it.key()] = it.value();
  req.model = {type, params};
  if (const RiskInputFile* mf = FindSimulateInput(files, "input.simulate.model_file")) {
    auto saved = models::DeserializeMultivariate(mf->bytes);
    if (!saved.ok())
      return Status(saved.status().code(), "simulate.model_file " + mf->name + ": " + saved.status().message() +
                                               " (expected a var or bvar saved by almanac var --save)");
    req.fitted_model = std::move(*saved);
    req.model = req.fitted_model->spec();
    plan.inputs["model_file"] = sha(*mf);
  } else if (const RiskInputFile* pkg = FindSimulateInput(files, "input.simulate.model")) {
    // A registered var/bvar: simulated as it was fitted; the series default to its variables
    // and must be them, in its order (the simulator checks).
    ALMANAC_ASSIGN_OR_RETURN(RegisteredMacroModel reg, LoadRegisteredMacroModel(*pkg, "simulate.model"));
    req.fitted_model = reg.model;
    req.model = req.fitted_model->spec();
    if (ss.series.empty()) plan.series = reg.variables;
    plan.inputs["registered_model"] = reg.input;
  } else {
    ALMANAC_RETURN_IF_ERROR(models::ValidateMultivariateSpec(req.model).WithContext("simulate.params"));
  }
  if (plan.series.empty())
    return InvalidArgumentError("simulate.series: no macro variable (name them, or list them in the scenarios file)");
  std::vector<TimeSeries> macro;
  for (const auto& name : plan.series) {
    auto it = series.find(name);
    if (it == series.end())
      return InvalidArgumentError("simulate.series: '" + name + "' (from " +
                                  (ss.series.empty() ? "the scenarios file" : "simulate.series") +
                                  ") is neither a data series nor a transform of this pipeline");
    TimeSeries t = it->second.Trimmed();
    if (t.empty()) return InvalidArgumentError("simulate.series: '" + name + "' has no observations");
    macro.push_back(std::move(t));
  }
  ALMANAC_ASSIGN_OR_RETURN(req.data, models::AlignSeries(plan.series, macro));
  req.horizon = ss.horizon > 0 ? ss.horizon : file_horizon.value_or(models::kDefaultHorizon);
  if (req.horizon < 1 || req.horizon > models::kMaxHorizon)
    return InvalidArgumentError("simulate.horizon: " + std::to_string(req.horizon) + " is outside 1.." +
                                std::to_string(models::kMaxHorizon));
  req.only = ss.only;
  req.num_paths = ss.paths;
  ALMANAC_ASSIGN_OR_RETURN(req.shocks, models::ParseShockDistribution(ss.shocks));
  req.shock_dof = ss.shock_dof;
  req.model_parameter_uncertainty = ss.parameter_uncertainty;
  req.seed = static_cast<std::uint64_t>(ss.seed.value_or(spec.seed));
  req.threads = threads;  // the paths do not depend on it
  plan.inputs["series"] = plan.series;
  plan.settings = {{"model", {{"type", req.model.type}, {"params", req.model.params}}},
                   {"paths", req.num_paths},
                   {"horizon", req.horizon},
                   {"seed", req.seed},
                   {"shocks", std::string(models::ShockDistributionName(req.shocks))},
                   {"shock_dof", req.shock_dof},
                   {"parameter_uncertainty", req.model_parameter_uncertainty},
                   {"only", req.only}};
  return plan;
}

std::vector<store::MetricPoint> SimulateMetrics(const Json& summary) {
  std::vector<store::MetricPoint> points;
  if (!summary.contains("scenarios") || !summary["scenarios"].is_array()) return points;
  for (const auto& s : summary["scenarios"])
    for (const auto& v : s["variables"]) {
      const std::string base = "simulate." + s["scenario"].get<std::string>() + "." + v["variable"].get<std::string>() + ".";
      for (const auto& p : v["periods"])
        for (const char* stat : {"mean", "p05", "p50", "p95"})
          if (p.contains(stat) && p[stat].is_number())
            points.push_back({base + stat, p["h"].get<int64_t>(), p[stat].get<double>(), 0});
    }
  return points;
}

}  // namespace almanac::pipeline
