// Shared by the var, scenario and backtest commands: model parameters from the command line,
// the series to read (workspace or --input) and multivariate forecast tables.
#include "cli/multi_data.h"

#include <cmath>
#include <iostream>

#include "almanac/data.h"
#include "almanac/data/transforms.h"

namespace almanac::cli {

Result<Json> BuildParams(const ModelArgs& a, Json base) {
  return MergeModelParams(std::move(base), a.params_json, a.params, R"({"lags":2})");
}

bool IsMultivariateType(const std::string& type) {
  for (const auto& t : models::MultivariateModelTypes())
    if (t.name == type) return true;
  return false;
}

Result<DataSource> OpenData(const GlobalOptions& g, const MultiDataArgs& a) {
  DataSource ds;
  ALMANAC_ASSIGN_OR_RETURN(ds.as_of, ParseAsOfOption(a.as_of));
  ALMANAC_RETURN_IF_ERROR(ParseTransformOption(a.transform).status());
  if (!a.input.empty()) {
    ALMANAC_ASSIGN_OR_RETURN(ds.mem, store::OpenStore("memory:", {}));
    data::IngestOptions io;
    io.loader = g.user;
    if (!a.frequency.empty()) {
      auto f = ParseFrequency(a.frequency);
      if (!f.ok()) return f.status().WithContext("--frequency");
      io.defaults.frequency = *f;
    }
    auto ingested = data::IngestFile(a.input, io, ds.mem->series());
    if (!ingested.ok()) return ingested.status();
    ds.store = &ds.mem->series();
  } else {
    ALMANAC_ASSIGN_OR_RETURN(ds.ws, Workspace::Open(g.workspace));
    ds.store = &ds.ws->store().series();
  }
  ds.keys = SplitList(a.series);
  if (ds.keys.empty()) {
    if (a.input.empty()) return InvalidArgumentError("name the series to use (e.g. us:realgdp,us:realcons)");
    ALMANAC_ASSIGN_OR_RETURN(auto list, ds.store->ListSeries());
    for (const auto& s : list) ds.keys.push_back(s.key);
  }
  return ds;
}

Result<TimeSeries> ReadOne(store::SeriesStore& store, const std::string& key, std::optional<Date> as_of,
                           const std::string& transform) {
  ALMANAC_ASSIGN_OR_RETURN(TimeSeries ts, store.ReadAsOf(key, as_of));
  ts = ts.Trimmed();
  if (ts.empty())
    return NotFoundError("series " + key + " has no observations" +
                         (as_of ? " known on " + as_of->ToString() : std::string()));
  auto t = data::TransformSeries(ts, transform, key);
  if (!t.ok()) return t.status().WithContext("--transform");
  return *t;
}

Result<models::MultiInput> ReadMulti(store::SeriesStore& store, const std::vector<std::string>& keys,
                                     std::optional<Date> as_of, const std::string& transform) {
  std::vector<TimeSeries> series;
  for (const auto& k : keys) {
    ALMANAC_ASSIGN_OR_RETURN(TimeSeries t, ReadOne(store, k, as_of, transform));
    series.push_back(std::move(t));
  }
  return models::AlignSeries(keys, series);
}

std::string Span(const models::MultiInput& d) {
  return d.start->ToString() + ".." + (*d.start + (d.size() - 1)).ToString() + " (" + std::to_string(d.size()) +
         " obs)";
}

void PrintNotes(const GlobalOptions& g, const std::vector<std::string>& notes) {
  if (g.quiet) return;
  for (const auto& n : notes) std::cerr << "  note: " << n << "\n";
}

void AddLevelColumns(Table* t, const std::vector<double>& levels) {
  for (double l : levels) {
    t->columns.push_back("lo" + FormatDouble(l));
    t->columns.push_back("hi" + FormatDouble(l));
  }
}

void ForecastRows(const models::MultiForecast& f, const std::vector<models::PathCondition>& conditions,
                  const std::vector<Json>& prefix, Table* t, Json* json) {
  for (size_t i = 0; i < f.names.size(); ++i) {
    const models::PathCondition* cond = nullptr;
    for (const auto& c : conditions)
      if (c.variable == f.names[i]) cond = &c;
    for (size_t h = 0; h < f.mean[i].size(); ++h) {
      const std::string period = f.first_period ? (*f.first_period + static_cast<int64_t>(h)).ToString() : "";
      const bool conditioned = cond != nullptr && !std::isnan(cond->values[h]);
      std::vector<Json> row = prefix;
      row.insert(row.end(), {f.names[i], period, static_cast<int>(h + 1), FiniteOrNull(f.mean[i][h])});
      Json jr = {{"variable", f.names[i]}, {"period", period}, {"h", h + 1}, {"mean", FiniteOrNull(f.mean[i][h])}};
      for (const auto& iv : f.intervals) {
        row.push_back(FiniteOrNull(iv.lower[i][h]));
        row.push_back(FiniteOrNull(iv.upper[i][h]));
        jr["lower_" + FormatDouble(iv.level)] = FiniteOrNull(iv.lower[i][h]);
        jr["upper_" + FormatDouble(iv.level)] = FiniteOrNull(iv.upper[i][h]);
      }
      if (!conditions.empty() || t->columns.back() == "conditioned") {
        row.push_back(conditioned);
        jr["conditioned"] = conditioned;
      }
      t->Add(std::move(row));
      json->push_back(std::move(jr));
    }
  }
}

}  // namespace almanac::cli
