// almanac scenario: conditional forecasts of a VAR/BVAR under the named scenarios of a YAML
// file (issue 6).
#include <cmath>
#include <iostream>

#include "almanac/models.h"

#include "cli/commands_multi.h"
#include "cli/multi_data.h"

namespace almanac::cli {

int RunScenario(const GlobalOptions& g, const ScenarioArgs& a) {
  auto set = models::ReadScenarioFile(a.file);
  if (!set.ok()) return ReportError(set.status());
  auto levels = ParseLevelList(a.levels);
  if (!levels.ok()) return ReportError(levels.status());
  MultiDataArgs data_args = a.data;
  if (data_args.series.empty()) data_args.series = set->series;
  if (data_args.series.empty() && data_args.input.empty())
    return ReportError(InvalidArgumentError("name the series (arguments or the file's 'series' list)"));
  std::string type = !a.model.model.empty() ? a.model.model : set->model_type.value_or("var");
  auto params = BuildParams(a.model, type == set->model_type.value_or("") ? set->model_params : Json::object());
  if (!params.ok()) return ReportError(params.status());
  const models::ModelSpec spec{type, *params};
  if (Status s = models::ValidateMultivariateSpec(spec); !s.ok())
    return ReportError(s.WithContext(set->file + ": model"));
  const int horizon = HorizonOrDefault(a.horizon, set->horizon);
  if (Status s = CheckHorizon(horizon); !s.ok()) return ReportError(s);
  const auto only = SplitList(a.only);
  for (const auto& name : only) {
    bool found = false;
    for (const auto& sc : set->scenarios) found = found || sc.name == name;
    if (!found) return ReportError(NotFoundError(set->file + ": no scenario named " + QuoteForMessage(name)));
  }

  auto ds = OpenData(g, data_args);
  if (!ds.ok()) return ReportError(ds.status());
  auto data = ReadMulti(*ds->store, ds->keys, ds->as_of, a.data.transform);
  if (!data.ok()) return ReportError(data.status());
  auto model = models::CreateMultivariate(spec);
  if (!model.ok()) return ReportError(model.status());
  if (Status s = (*model)->Fit(*data); !s.ok()) return ReportError(s);
  auto desc = (*model)->Describe();
  if (!desc.ok()) return ReportError(desc.status());
  const Period first = *data->start + data->size();
  // Resolve every scenario first, so a bad path fails before any output.
  std::vector<std::pair<const models::Scenario*, std::vector<models::PathCondition>>> runs;
  for (const auto& sc : set->scenarios) {
    if (!only.empty() && std::find(only.begin(), only.end(), sc.name) == only.end()) continue;
    auto conds = models::ResolveScenario(*set, sc, ds->keys, first, horizon);
    if (!conds.ok()) return ReportError(conds.status());
    runs.emplace_back(&sc, std::move(*conds));
  }
  if (!g.quiet && g.format != OutputFormat::kJson) {
    std::cerr << desc->method << " on " << Span(*data)
              << (ds->as_of ? " as known on " + ds->as_of->ToString() : std::string()) << "; " << runs.size()
              << " scenario(s) from " << set->file << "\n";
    PrintNotes(g, desc->notes);
  }
  Table t{{"scenario", "variable", "period", "h", "mean"}, {}};
  AddLevelColumns(&t, *levels);
  t.columns.push_back("conditioned");
  Json out = Json::array();
  for (const auto& [sc, conds] : runs) {
    auto fc = (*model)->Predict({.horizon = horizon, .levels = *levels, .conditions = conds});
    if (!fc.ok()) return ReportError(fc.status().WithContext(set->file + ": scenario " + sc->name));
    Json rows = Json::array();
    ForecastRows(*fc, conds, {sc->name}, &t, &rows);
    out.push_back({{"scenario", sc->name},
                   {"description", sc->description},
                   {"model", spec.type},
                   {"method", desc->method},
                   {"sample", Span(*data)},
                   {"interval_method", fc->interval_method},
                   {"notes", fc->notes},
                   {"forecasts", rows}});
  }
  if (g.format == OutputFormat::kJson) {
    std::cout << PrettyJson(out) << "\n";
  } else {
    Print(std::cout, t, g.format);
  }
  return kExitOk;
}

}  // namespace almanac::cli
