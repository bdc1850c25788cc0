// almanac risk simulate (issue 24): stored macro paths from the command line; the computation
// is risk::SimulateMacroPathsForStorage, shared with the pipeline's simulate step.
#include "cli/commands_simulate.h"

#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "almanac/core/hash.h"
#include "almanac/models.h"
#include "almanac/risk.h"
#include "cli/arguments.h"
#include "cli/commands_risk.h"
#include "cli/multi_data.h"
#include "cli/output.h"

namespace almanac::cli {
namespace {

// The request and the report's inputs; nothing is written here.
Result<risk::StoredMacroPaths> SimulateFromArgs(const GlobalOptions& g, const RiskSimulateArgs& a, Json& inputs) {
  if (a.output.empty()) return InvalidArgumentError("-o/--output: name the file for the paths");
  if (a.seed < 0) return InvalidArgumentError("--seed must be a non-negative integer, got " + std::to_string(a.seed));
  if (a.paths < 1) return InvalidArgumentError("--paths: need at least 1 path, got " + std::to_string(a.paths));
  if (!a.model_file.empty() && (!a.model.model.empty() || !a.model.params.empty() || !a.model.params_json.empty() || a.lags >= 0))
    return InvalidArgumentError("--model-file: give either a fitted model file or a model to fit (-m, --lags, --param), not both");
  risk::MacroSimulationRequest req;
  MultiDataArgs data_args = a.data;
  ModelArgs model_args = a.model;
  std::optional<RegisteredMacro> registered;
  if (model_args.model.find('@') != std::string::npos) {
    ALMANAC_ASSIGN_OR_RETURN(registered, LoadRegisteredMacro(g, model_args, a.lags, a.model_file, data_args));
  }
  ALMANAC_ASSIGN_OR_RETURN(MacroModelChoice choice, ChooseMacroModel(a.scenarios, model_args, a.lags, data_args, inputs));
  req.scenarios = std::move(choice.scenarios);
  req.model = choice.model;
  const std::optional<int> file_horizon = choice.file_horizon;
  if (registered) {
    req.model = registered->model->spec();
    req.fitted_model = registered->model;
    inputs["registered_model"] = {{"version", registered->id}, {"sha256", registered->sha256}};
  } else if (a.model_file.empty()) {
    ALMANAC_RETURN_IF_ERROR(models::ValidateMultivariateSpec(req.model));
  }
  // -H as given (0 or a negative number is an error, not the default), else the file's or 8.
  req.horizon = a.horizon == -1 ? HorizonOrDefault(a.horizon, file_horizon) : a.horizon;
  ALMANAC_RETURN_IF_ERROR(CheckHorizon(req.horizon));
  req.only = SplitList({a.only});
  req.num_paths = a.paths;
  ALMANAC_ASSIGN_OR_RETURN(req.shocks, models::ParseShockDistribution(a.shocks));
  req.shock_dof = a.shock_dof;
  req.model_parameter_uncertainty = a.model_parameter_uncertainty;
  req.seed = static_cast<std::uint64_t>(a.seed);
  req.threads = a.threads;
  if (data_args.series.empty() && data_args.input.empty())
    return InvalidArgumentError("name the macro series (arguments, or the scenario file's 'series' list)");
  ALMANAC_ASSIGN_OR_RETURN(DataSource ds, OpenData(g, data_args));
  ALMANAC_ASSIGN_OR_RETURN(req.data, ReadMulti(*ds.store, ds.keys, ds.as_of, data_args.transform));
  if (!a.model_file.empty()) {
    ALMANAC_ASSIGN_OR_RETURN(req.fitted_model, ReadMacroModelFile(a.model_file, inputs));
  }
  inputs["series"] = ds.keys;
  inputs["as_of"] = ds.as_of ? Json(ds.as_of->ToString()) : Json(nullptr);
  // The same header as the pipeline step's, so the same inputs give the same bytes.
  return risk::SimulateMacroPathsForStorage(req, {{"seed", req.seed}});
}

}  // namespace

int RunRiskSimulate(const GlobalOptions& g, const RiskSimulateArgs& a) {
  Json inputs = Json::object();
  auto stored = SimulateFromArgs(g, a, inputs);
  if (!stored.ok()) return ReportError(stored.status());
  Json summary = stored->summary;
  summary["inputs"] = inputs;
  summary["paths_file"] = {{"file", a.output}, {"sha256", Sha256Hex(stored->bytes)}, {"bytes", stored->bytes.size()}};
  // Files only once everything succeeded.
  {
    std::ofstream out(a.output, std::ios::binary);
    out << stored->bytes;
    if (!out) return ReportError(UnavailableError("cannot write " + a.output));
  }
  if (!a.summary.empty()) {
    std::ofstream out(a.summary, std::ios::binary);
    out << PrettyJson(summary) << "\n";
    if (!out) return ReportError(UnavailableError("cannot write " + a.summary));
  }
  if (g.format == OutputFormat::kJson) {
    std::cout << PrettyJson(summary) << "\n";
    return kExitOk;
  }
  if (!g.quiet)
    std::cerr << summary["model"].get<std::string>() << " on " << summary["sample"].get<std::string>() << "; "
              << summary["scenarios"].size() << " scenario(s) x " << a.paths << " paths; " << stored->bytes.size()
              << " bytes to " << a.output << " (sha256 " << Sha256Hex(stored->bytes).substr(0, 12) << ")\n";
  Table t{{"scenario", "variable", "h", "period", "mean", "p05", "p50", "p95"}, {}};
  for (const auto& s : summary["scenarios"])
    for (const auto& v : s["variables"])
      for (const auto& p : v["periods"]) t.Add({s["scenario"], v["variable"], p["h"], p["period"], p["mean"], p["p05"], p["p50"], p["p95"]});
  Print(std::cout, t, g.format);
  return kExitOk;
}

}  // namespace almanac::cli
