// Helpers shared by the var, scenario and backtest commands (cli-internal): model parameters
// from the command line, the series to read (the workspace or an --input file) and the rows
// of multivariate forecast tables.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "almanac/core/json.h"
#include "almanac/models.h"
#include "almanac/store.h"

#include "cli/commands_multi.h"

namespace almanac::cli {

// --params (a JSON object) and --param KEY=VALUE (VALUE as JSON, else text) merged over `base`.
// InvalidArgument for a --params that is not a JSON object or a --param without '='.
Result<Json> BuildParams(const ModelArgs& a, Json base = Json::object());

// Whether `type` names a multivariate model (var, bvar, arimax).
bool IsMultivariateType(const std::string& type);

// The series store to read from: the workspace, or a throwaway in-memory store holding --input.
struct DataSource {
  std::unique_ptr<Workspace> ws;
  std::unique_ptr<store::Store> mem;
  store::SeriesStore* store = nullptr;
  std::vector<std::string> keys;
  std::optional<Date> as_of;
};
// Opens the workspace or ingests --input, and resolves the series keys (default with --input:
// every series of the file). InvalidArgument without keys on a workspace.
Result<DataSource> OpenData(const GlobalOptions& g, const MultiDataArgs& a);

// One series as known `as_of`, trimmed and transformed (--transform: a name of
// data::TransformOps, e.g. none, log, diff, dlog, pct). NotFound when it has no observations then.
Result<TimeSeries> ReadOne(store::SeriesStore& store, const std::string& key, std::optional<Date> as_of,
                           const std::string& transform);
// Several series, each as ReadOne, aligned on their common sample.
Result<models::MultiInput> ReadMulti(store::SeriesStore& store, const std::vector<std::string>& keys,
                                     std::optional<Date> as_of, const std::string& transform);

// "1960Q1..2009Q3 (199 obs)".
std::string Span(const models::MultiInput& d);
// Prints "  note: ..." lines on stderr unless --quiet.
void PrintNotes(const GlobalOptions& g, const std::vector<std::string>& notes);
// Adds loXX/hiXX columns for each level.
void AddLevelColumns(Table* t, const std::vector<double>& levels);
// Rows of a multivariate forecast: [prefix...], variable, period, h, mean, bounds, conditioned;
// and the same as JSON objects appended to `json`.
void ForecastRows(const models::MultiForecast& f, const std::vector<models::PathCondition>& conditions,
                  const std::vector<Json>& prefix, Table* t, Json* json);

}  // namespace almanac::cli
