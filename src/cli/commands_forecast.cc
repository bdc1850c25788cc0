// forecast and model-types commands.
#include <iostream>

#include "almanac/data.h"
#include "almanac/models.h"
#include "cli/commands.h"

namespace almanac::cli {
namespace {

Result<Json> BuildParams(const ForecastArgs& a) {
  return MergeModelParams(Json::object(), a.params_json, a.params, R"({"model":"AAN"})");
}

struct Job {
  std::string key;
  TimeSeries series;
};

}  // namespace

int RunForecast(const GlobalOptions& g, const ForecastArgs& a) {
  models::ForecasterRegistry registry;
  models::RegisterBuiltinModels(registry);
  auto params = BuildParams(a);
  if (!params.ok()) return ReportError(params.status());
  const models::ModelSpec spec{a.model, *params};
  if (Status s = registry.Validate(spec); !s.ok()) return ReportError(s);
  if (Status s = CheckHorizon(a.horizon); !s.ok()) return ReportError(s);
  if (Status s = CheckLevels(a.levels); !s.ok()) return ReportError(s);
  auto as_of_option = ParseAsOfOption(a.as_of);
  if (!as_of_option.ok()) return ReportError(as_of_option.status());
  const std::optional<Date> as_of = *as_of_option;

  // The data: from the workspace, or from a file loaded into a throwaway in-memory store.
  std::unique_ptr<Workspace> ws;
  std::unique_ptr<store::Store> mem;
  store::SeriesStore* source = nullptr;
  if (!a.input.empty()) {
    auto m = store::OpenStore("memory:", {});
    if (!m.ok()) return ReportError(m.status());
    mem = std::move(*m);
    data::IngestOptions io;
    io.loader = g.user;
    if (!a.frequency.empty()) {
      auto f = ParseFrequency(a.frequency);
      if (!f.ok()) return ReportError(f.status().WithContext("--frequency"));
      io.defaults.frequency = *f;
    }
    auto r = data::IngestFile(a.input, io, mem->series());
    if (!r.ok()) return ReportError(r.status());
    source = &mem->series();
  } else {
    if (a.series.empty()) return ReportError(InvalidArgumentError("name a series to forecast, or pass --input FILE"));
    auto w = Workspace::Open(g.workspace);
    if (!w.ok()) return ReportError(w.status());
    ws = std::move(*w);
    source = &ws->store().series();
  }
  std::vector<std::string> keys;
  if (!a.series.empty()) {
    keys.push_back(a.series);
  } else {
    auto list = source->ListSeries();
    if (!list.ok()) return ReportError(list.status());
    for (const auto& s : *list) keys.push_back(s.key);
  }
  std::vector<Job> jobs;
  for (const auto& k : keys) {
    auto ts = source->ReadAsOf(k, as_of);
    if (!ts.ok()) return ReportError(ts.status());
    if (ts->empty())
      return ReportError(NotFoundError("series " + k + " has no observations" +
                                       (as_of ? " known on " + as_of->ToString() : std::string())));
    jobs.push_back({k, ts->Trimmed()});
  }

  std::vector<models::FitInput> inputs;
  for (const auto& j : jobs) inputs.push_back(models::ToFitInput(j.series));
  auto fits = models::FitMany(registry, spec, inputs, a.threads);

  Table table{{"series", "period", "h", "mean"}, {}};
  for (double l : a.levels) {
    table.columns.push_back("lo" + FormatDouble(l));
    table.columns.push_back("hi" + FormatDouble(l));
  }
  Json out = Json::array();
  int failures = 0;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const auto& job = jobs[i];
    if (!fits[i].ok()) {
      ++failures;
      std::cerr << "almanac: error: " << job.key << ": " << fits[i].status().message() << "\n";
      continue;
    }
    const auto& model = *fits[i];
    auto fc = model->Predict(a.horizon, a.levels);
    if (!fc.ok()) {
      ++failures;
      std::cerr << "almanac: error: " << job.key << ": " << fc.status().message() << "\n";
      continue;
    }
    const models::ModelDescription d = model->Describe();
    const Period first = job.series.end() + 1;
    Json rows = Json::array();
    for (int h = 0; h < a.horizon; ++h) {
      std::vector<Json> row{job.key, (first + h).ToString(), h + 1, FiniteOrNull(fc->mean[h])};
      Json jr = {{"period", (first + h).ToString()}, {"h", h + 1}, {"mean", FiniteOrNull(fc->mean[h])}};
      for (const auto& iv : fc->intervals) {
        row.push_back(FiniteOrNull(iv.lower[h]));
        row.push_back(FiniteOrNull(iv.upper[h]));
        jr["lower_" + FormatDouble(iv.level)] = FiniteOrNull(iv.lower[h]);
        jr["upper_" + FormatDouble(iv.level)] = FiniteOrNull(iv.upper[h]);
      }
      table.Add(std::move(row));
      rows.push_back(std::move(jr));
    }
    std::vector<std::string> notes = d.notes;
    notes.insert(notes.end(), fc->notes.begin(), fc->notes.end());
    std::sort(notes.begin(), notes.end());
    notes.erase(std::unique(notes.begin(), notes.end()), notes.end());
    if (g.format == OutputFormat::kJson) {
      out.push_back({{"series", job.key},
                     {"model", spec.type},
                     {"method", d.method},
                     {"parameters", d.params},
                     {"loglik", FiniteOrNull(d.loglik)},
                     {"aic", FiniteOrNull(d.aic)},
                     {"aicc", FiniteOrNull(d.aicc)},
                     {"bic", FiniteOrNull(d.bic)},
                     {"sigma2", FiniteOrNull(d.sigma2)},
                     {"nobs", d.nobs},
                     {"as_of", as_of ? Json(as_of->ToString()) : Json(nullptr)},
                     {"history_end", job.series.end().ToString()},
                     {"notes", notes},
                     {"forecasts", rows}});
    } else if (!g.quiet) {
      std::cerr << job.key << ": " << d.method;
      if (std::isfinite(d.aicc)) std::cerr << ", AICc " << FormatFixed(d.aicc, 2);
      std::cerr << ", fitted on " << job.series.start().ToString() << ".." << job.series.end().ToString()
                << (as_of ? " as known on " + as_of->ToString() : std::string()) << "\n";
      for (const auto& n : notes) std::cerr << "  note: " << n << "\n";
    }
  }
  if (g.format == OutputFormat::kJson) {
    std::cout << PrettyJson(out) << "\n";
  } else {
    if (jobs.size() == 1 && g.format == OutputFormat::kTable) {
      table.columns.erase(table.columns.begin());
      for (auto& r : table.rows) r.erase(r.begin());
    }
    Print(std::cout, table, g.format);
  }
  return failures == 0 ? kExitOk : kExitUser;
}

int RunModelTypes(const GlobalOptions& g) {
  models::ForecasterRegistry registry;
  models::RegisterBuiltinModels(registry);
  Table t{{"type", "description", "parameters"}, {}};
  for (const auto& type : registry.types()) {
    if (type.kind != models::ModelKind::kUnivariate) continue;
    std::string ps;
    for (const auto& p : type.params) ps += (ps.empty() ? "" : ", ") + p.name;
    t.Add({type.name, type.description, ps});
  }
  Print(std::cout, t, g.format);
  return kExitOk;
}

}  // namespace almanac::cli
