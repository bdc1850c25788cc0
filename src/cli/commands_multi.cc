// var, scenario and backtest commands (issue 6).
#include "cli/commands_multi.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>

#include "almanac/data.h"
#include "almanac/eval.h"
#include "almanac/models.h"

namespace almanac::cli {
namespace {

Result<std::vector<double>> ParseLevels(const std::string& text) {
  std::vector<double> out;
  for (const auto& part : SplitList({text})) {
    auto v = ParseFiniteDouble(part);
    if (!v.ok()) return v.status().WithContext("--level");
    out.push_back(*v);
  }
  return out;
}

Result<Json> BuildParams(const ModelArgs& a, Json base = Json::object()) {
  Json params = base.is_object() ? base : Json::object();
  if (!a.params_json.empty()) {
    ALMANAC_ASSIGN_OR_RETURN(Json p, ParseJson(a.params_json));
    if (!p.is_object()) return InvalidArgumentError("--params must be a JSON object, e.g. '{\"lags\":2}'");
    for (auto it = p.begin(); it != p.end(); ++it) params[it.key()] = it.value();
  }
  for (const auto& kv : a.params) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return InvalidArgumentError("--param " + QuoteForMessage(kv) + ": expected KEY=VALUE");
    const std::string key = kv.substr(0, eq), text = kv.substr(eq + 1);
    auto parsed = ParseJson(text);
    params[key] = parsed.ok() ? *parsed : Json(text);
  }
  return params;
}

bool IsMultivariateType(const std::string& type) {
  for (const auto& t : models::MultivariateModelTypes())
    if (t.name == type) return true;
  return false;
}

// ---- Data ---------------------------------------------------------------------------------------

// The series store to read from: the workspace, or a throwaway in-memory store holding --input.
struct DataSource {
  std::unique_ptr<Workspace> ws;
  std::unique_ptr<store::Store> mem;
  store::SeriesStore* store = nullptr;
  std::vector<std::string> keys;
  std::optional<Date> as_of;
};

Result<DataSource> OpenData(const GlobalOptions& g, const MultiDataArgs& a) {
  DataSource ds;
  ALMANAC_ASSIGN_OR_RETURN(ds.as_of, OptionalDate(a.as_of, "--as-of"));
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

// Applies --transform. Missing values stay missing; log of a non-positive value is an error
// naming the series and period.
Result<TimeSeries> Transform(const TimeSeries& ts, const std::string& how, const std::string& key) {
  if (how == "none" || how.empty()) return ts;
  const bool uses_log = how == "log" || how == "dlog";
  if (!uses_log && how != "diff" && how != "pct")
    return InvalidArgumentError("unknown --transform " + QuoteForMessage(how) + ": use none, log, diff, dlog or pct");
  std::vector<double> v(ts.values().begin(), ts.values().end());
  if (uses_log) {
    for (size_t i = 0; i < v.size(); ++i) {
      if (std::isnan(v[i])) continue;
      if (!(v[i] > 0))
        return InvalidArgumentError("--transform " + how + ": series " + key + " has a non-positive value at " +
                                    ts.PeriodAt(static_cast<int64_t>(i)).ToString());
      v[i] = std::log(v[i]);
    }
    if (how == "log") return TimeSeries::FromValues(ts.start(), std::move(v));
  }
  if (v.size() < 2) return InvalidArgumentError("--transform " + how + ": series " + key + " has fewer than 2 values");
  std::vector<double> d;
  for (size_t i = 1; i < v.size(); ++i) {
    if (how == "pct") {
      d.push_back(v[i - 1] == 0 ? kNaN : 100 * (v[i] / v[i - 1] - 1));
    } else {
      d.push_back(v[i] - v[i - 1]);
    }
  }
  return TimeSeries::FromValues(ts.start() + 1, std::move(d));
}

Result<TimeSeries> ReadOne(store::SeriesStore& store, const std::string& key, std::optional<Date> as_of,
                           const std::string& transform) {
  ALMANAC_ASSIGN_OR_RETURN(TimeSeries ts, store.ReadAsOf(key, as_of));
  ts = ts.Trimmed();
  if (ts.empty())
    return NotFoundError("series " + key + " has no observations" +
                         (as_of ? " known on " + as_of->ToString() : std::string()));
  ALMANAC_ASSIGN_OR_RETURN(TimeSeries t, Transform(ts, transform, key));
  return t.Trimmed();
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

// Rows of a multivariate forecast: [prefix...], variable, period, h, mean, bounds, conditioned;
// and the same as JSON objects appended to `json`.
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

Json DescriptionJson(const models::MultiDescription& d) {
  return {{"type", d.type},
          {"method", d.method},
          {"variables", d.names},
          {"lags", d.lags},
          {"trend", d.trend},
          {"nobs", d.nobs},
          {"regressors", d.regressors},
          {"coefficients", d.coefficients},
          {"std_errors", d.std_errors},
          {"sigma_u", d.sigma_u},
          {"loglik", FiniteOrNull(d.loglik)},
          {"aic", FiniteOrNull(d.aic)},
          {"bic", FiniteOrNull(d.bic)},
          {"hqic", FiniteOrNull(d.hqic)},
          {"fpe", FiniteOrNull(d.fpe)},
          {"eigen_moduli", d.eigen_moduli},
          {"stable", d.stable},
          {"params", d.params},
          {"notes", d.notes}};
}

Json SelectionJson(const models::LagOrderSelection& s) {
  return {{"max_lags", s.max_lags},
          {"nobs", s.nobs},
          {"lags", s.lags},
          {"aic", s.aic},
          {"bic", s.bic},
          {"hqic", s.hqic},
          {"fpe", s.fpe},
          {"selected", {{"aic", s.aic_order}, {"bic", s.bic_order}, {"hqic", s.hqic_order}, {"fpe", s.fpe_order}}}};
}

}  // namespace

// ---- var ----------------------------------------------------------------------------------------

int RunVar(const GlobalOptions& g, const VarArgs& a) {
  static const std::vector<std::string> kActions = {"forecast", "coef",    "select",   "irf",
                                                    "fevd",     "granger", "stability"};
  if (std::find(kActions.begin(), kActions.end(), a.action) == kActions.end()) {
    std::string msg = "unknown var action " + QuoteForMessage(a.action);
    const std::string hint = DidYouMean(a.action, kActions);
    if (!hint.empty()) msg += " (did you mean '" + hint + "'?)";
    return ReportError(
        InvalidArgumentError(msg + "; expected forecast, coef, select, irf, fevd, granger or stability"));
  }
  auto levels = ParseLevels(a.levels);
  if (!levels.ok()) return ReportError(levels.status());
  auto params = BuildParams(a.model);
  if (!params.ok()) return ReportError(params.status());
  if (a.lags >= 0) (*params)["lags"] = a.lags;
  if (a.max_lags >= 0) (*params)["max_lags"] = a.max_lags;
  if (!a.ic.empty()) (*params)["ic"] = a.ic;
  if (!a.trend.empty()) (*params)["trend"] = a.trend;
  const models::ModelSpec spec{a.model.model, *params};
  if (Status s = models::ValidateMultivariateSpec(spec); !s.ok()) return ReportError(s);
  if (a.action == "forecast")
    if (Status s = models::ValidatePredictArgs(a.horizon, *levels); !s.ok()) return ReportError(s);

  auto ds = OpenData(g, a.data);
  if (!ds.ok()) return ReportError(ds.status());
  auto data = ReadMulti(*ds->store, ds->keys, ds->as_of, a.data.transform);
  if (!data.ok()) return ReportError(data.status());

  if (a.action == "select") {
    int max_lags = a.max_lags >= 0 ? a.max_lags : params->value("max_lags", 8);
    auto trend = models::ParseVarTrend(params->value("trend", std::string("c")));
    if (!trend.ok()) return ReportError(trend.status());
    auto sel = models::SelectVarOrder(*data, max_lags, *trend);
    if (!sel.ok()) return ReportError(sel.status());
    Table t{{"lags", "aic", "bic", "hqic", "fpe"}, {}};
    for (size_t i = 0; i < sel->lags.size(); ++i) {
      auto mark = [&](double v, int chosen) {
        return g.format == OutputFormat::kTable && chosen == sel->lags[i] ? Json(FormatDouble(v) + " *") : FiniteOrNull(v);
      };
      t.Add({sel->lags[i], mark(sel->aic[i], sel->aic_order), mark(sel->bic[i], sel->bic_order),
             mark(sel->hqic[i], sel->hqic_order), mark(sel->fpe[i], sel->fpe_order)});
    }
    if (g.format == OutputFormat::kJson) {
      Json out = SelectionJson(*sel);
      out["variables"] = ds->keys;
      out["sample"] = Span(*data);
      std::cout << PrettyJson(out) << "\n";
      return kExitOk;
    }
    if (!g.quiet)
      std::cerr << "lag order selection on " << Span(*data) << ", common sample of " << sel->nobs
                << " obs; selected: aic " << sel->aic_order << ", bic " << sel->bic_order << ", hqic "
                << sel->hqic_order << ", fpe " << sel->fpe_order << "\n";
    Print(std::cout, t, g.format);
    return kExitOk;
  }

  auto model = models::CreateMultivariate(spec);
  if (!model.ok()) return ReportError(model.status());
  if (Status s = (*model)->Fit(*data); !s.ok()) return ReportError(s);
  auto desc = (*model)->Describe();
  if (!desc.ok()) return ReportError(desc.status());
  if (!a.save.empty()) {
    auto bytes = models::SerializeMultivariate(**model);
    if (!bytes.ok()) return ReportError(bytes.status());
    std::ofstream out(a.save, std::ios::binary);
    out << *bytes;
    if (!out) return ReportError(UnavailableError("cannot write " + a.save));
  }
  if (!g.quiet && g.format != OutputFormat::kJson) {
    std::cerr << desc->method << " on " << Span(*data)
              << (ds->as_of ? " as known on " + ds->as_of->ToString() : std::string()) << "\n";
    PrintNotes(g, desc->notes);
  }
  Json out = {{"model", spec.type},
              {"method", desc->method},
              {"variables", ds->keys},
              {"sample", Span(*data)},
              {"as_of", ds->as_of ? Json(ds->as_of->ToString()) : Json(nullptr)},
              {"notes", desc->notes}};
  Table t;
  if (a.action == "forecast") {
    auto fc = (*model)->Predict({.horizon = a.horizon, .levels = *levels});
    if (!fc.ok()) return ReportError(fc.status());
    t.columns = {"variable", "period", "h", "mean"};
    AddLevelColumns(&t, *levels);
    Json rows = Json::array();
    ForecastRows(*fc, {}, {}, &t, &rows);
    out["interval_method"] = fc->interval_method;
    out["forecasts"] = rows;
  } else if (a.action == "coef") {
    t.columns = {"regressor", "equation", "coefficient", "std_error"};
    for (size_t r = 0; r < desc->regressors.size(); ++r)
      for (size_t e = 0; e < desc->names.size(); ++e)
        t.Add({desc->regressors[r], desc->names[e], FiniteOrNull(desc->coefficients[r][e]), FiniteOrNull(desc->std_errors[r][e])});
    out["description"] = DescriptionJson(*desc);
    if (desc->selection) out["selection"] = SelectionJson(*desc->selection);
    if (!g.quiet && g.format == OutputFormat::kTable) {
      std::cerr << "log-likelihood " << FormatDouble(desc->loglik) << ", aic " << FormatDouble(desc->aic) << ", bic "
                << FormatDouble(desc->bic) << ", hqic " << FormatDouble(desc->hqic) << ", fpe "
                << FormatDouble(desc->fpe) << "\n";
    }
  } else if (a.action == "irf") {
    models::IrfOptions o{.periods = a.periods,
                         .orthogonal = !a.plain_irf,
                         .replications = a.replications,
                         .level = a.band_level,
                         .seed = static_cast<std::uint64_t>(std::max(0, a.seed))};
    auto irf = (*model)->ImpulseResponses(o);
    if (!irf.ok()) return ReportError(irf.status());
    t.columns = {"h", "response", "impulse", "value"};
    const bool bands = !irf->lower.empty();
    if (bands) {
      t.columns.push_back("lower");
      t.columns.push_back("upper");
    }
    Json rows = Json::array();
    for (size_t h = 0; h < irf->response.size(); ++h)
      for (size_t i = 0; i < irf->names.size(); ++i)
        for (size_t j = 0; j < irf->names.size(); ++j) {
          std::vector<Json> row{static_cast<int>(h), irf->names[i], irf->names[j], FiniteOrNull(irf->response[h][i][j])};
          Json jr = {{"h", h},
                     {"response", irf->names[i]},
                     {"impulse", irf->names[j]},
                     {"value", FiniteOrNull(irf->response[h][i][j])}};
          if (bands) {
            row.push_back(FiniteOrNull(irf->lower[h][i][j]));
            row.push_back(FiniteOrNull(irf->upper[h][i][j]));
            jr["lower"] = FiniteOrNull(irf->lower[h][i][j]);
            jr["upper"] = FiniteOrNull(irf->upper[h][i][j]);
          }
          t.Add(std::move(row));
          rows.push_back(std::move(jr));
        }
    out["orthogonal"] = irf->orthogonal;
    out["band_level"] = bands ? Json(irf->level) : Json(nullptr);
    out["band_method"] = irf->band_method;
    out["responses"] = rows;
    if (!g.quiet && g.format == OutputFormat::kTable && bands)
      std::cerr << FormatDouble(irf->level) << "% bands: " << irf->band_method << "\n";
  } else if (a.action == "fevd") {
    auto fevd = (*model)->Fevd(a.periods);
    if (!fevd.ok()) return ReportError(fevd.status());
    t.columns = {"variable", "h", "shock", "share"};
    for (size_t i = 0; i < fevd->names.size(); ++i)
      for (size_t h = 0; h < fevd->share[i].size(); ++h)
        for (size_t j = 0; j < fevd->names.size(); ++j)
          t.Add({fevd->names[i], static_cast<int>(h + 1), fevd->names[j], FiniteOrNull(fevd->share[i][h][j])});
  } else if (a.action == "granger") {
    t.columns = {"caused", "causing", "F", "df_num", "df_den", "p_value", "crit_5pct"};
    std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> tests;
    const auto caused = SplitList(a.caused), causing = SplitList(a.causing);
    if (!caused.empty()) {
      tests.emplace_back(caused, causing);
    } else {
      for (const auto& x : desc->names)
        for (const auto& y : desc->names)
          if (x != y) tests.push_back({{x}, {y}});
    }
    for (const auto& [ed, ing] : tests) {
      auto r = (*model)->Granger(ed, ing);
      if (!r.ok()) return ReportError(r.status());
      auto join = [](const std::vector<std::string>& v) {
        std::string s;
        for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
        return s;
      };
      t.Add({join(r->caused), join(r->causing), FiniteOrNull(r->statistic), r->df_num, r->df_den, FiniteOrNull(r->pvalue),
             FiniteOrNull(r->crit_value)});
    }
  } else if (a.action == "stability") {
    t.columns = {"root", "modulus"};
    for (size_t i = 0; i < desc->eigen_moduli.size(); ++i) t.Add({static_cast<int>(i + 1), FiniteOrNull(desc->eigen_moduli[i])});
    out["stable"] = desc->stable;
    if (!g.quiet && g.format == OutputFormat::kTable)
      std::cerr << (desc->stable ? "stable: every companion eigenvalue is inside the unit circle"
                                 : "NOT stable: a companion eigenvalue is on or outside the unit circle")
                << "\n";
  }
  if (g.format == OutputFormat::kJson) {
    if (!out.contains("forecasts") && !out.contains("responses")) {
      Json rows = Json::array();
      for (const auto& row : t.rows) {
        Json obj = Json::object();
        for (size_t i = 0; i < t.columns.size(); ++i) obj[t.columns[i]] = row[i];
        rows.push_back(std::move(obj));
      }
      out[a.action == "coef" ? "coefficients" : a.action] = rows;
    }
    std::cout << PrettyJson(out) << "\n";
  } else {
    Print(std::cout, t, g.format);
  }
  return kExitOk;
}

// ---- scenario -----------------------------------------------------------------------------------

int RunScenario(const GlobalOptions& g, const ScenarioArgs& a) {
  auto set = models::ReadScenarioFile(a.file);
  if (!set.ok()) return ReportError(set.status());
  auto levels = ParseLevels(a.levels);
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
  const int horizon = a.horizon > 0 ? a.horizon : set->horizon.value_or(8);
  if (Status s = models::ValidatePredictArgs(horizon, *levels); !s.ok()) return ReportError(s);
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

// ---- backtest -----------------------------------------------------------------------------------

namespace {

struct Labeled {
  std::string series;
  std::string model;
  eval::BacktestResult result;
};

void SummaryRow(const Labeled& l, const std::vector<double>& levels, Table* t) {
  const auto& a = l.result.overall;
  std::vector<Json> row{l.series,          l.model,     static_cast<int>(l.result.origins.size()),
                        l.result.failures, a.n,         FiniteOrNull(a.mae),
                        FiniteOrNull(a.rmse),       FiniteOrNull(a.mape), FiniteOrNull(a.smape),
                        FiniteOrNull(a.mase)};
  for (size_t i = 0; i < levels.size(); ++i) {
    const bool have = i < a.intervals.size();
    row.push_back(have ? FiniteOrNull(a.intervals[i].coverage) : Json(nullptr));
    row.push_back(have ? FiniteOrNull(a.intervals[i].score) : Json(nullptr));
  }
  row.push_back(FiniteOrNull(l.result.crps));
  t->Add(std::move(row));
}

Json AccuracyJson(const eval::Accuracy& a) {
  Json iv = Json::array();
  for (const auto& i : a.intervals)
    iv.push_back({{"level", i.level}, {"coverage", FiniteOrNull(i.coverage)}, {"score", FiniteOrNull(i.score)}, {"n", i.n}});
  return {{"n", a.n},
          {"mae", FiniteOrNull(a.mae)},
          {"rmse", FiniteOrNull(a.rmse)},
          {"mape", FiniteOrNull(a.mape)},
          {"smape", FiniteOrNull(a.smape)},
          {"mase", FiniteOrNull(a.mase)},
          {"intervals", iv},
          {"notes", a.notes}};
}

Json ResultJson(const Labeled& l) {
  const auto& r = l.result;
  Json origins = Json::array();
  for (const auto& o : r.origins) {
    Json iv = Json::array();
    for (const auto& p : o.intervals) {
      Json lo = Json::array(), hi = Json::array();
      for (double v : p.lower) lo.push_back(FiniteOrNull(v));
      for (double v : p.upper) hi.push_back(FiniteOrNull(v));
      iv.push_back({{"level", p.level}, {"lower", lo}, {"upper", hi}});
    }
    Json mean = Json::array(), actual = Json::array(), crps = Json::array();
    for (double v : o.mean) mean.push_back(FiniteOrNull(v));
    for (double v : o.actual) actual.push_back(FiniteOrNull(v));
    for (double v : o.crps) crps.push_back(FiniteOrNull(v));
    origins.push_back({{"origin", o.origin.ToString()},
                       {"as_of", o.as_of ? Json(o.as_of->ToString()) : Json(nullptr)},
                       {"train_start", o.train_start ? Json(o.train_start->ToString()) : Json(nullptr)},
                       {"train_size", o.train_size},
                       {"gap", o.gap},
                       {"status", o.status.ok() ? Json("ok") : Json(o.status.message())},
                       {"mean", mean},
                       {"actual", actual},
                       {"intervals", iv},
                       {"crps", crps},
                       {"notes", o.notes}});
  }
  Json by_h = Json::array();
  for (size_t h = 0; h < r.by_horizon.size(); ++h) {
    Json a = AccuracyJson(r.by_horizon[h]);
    a["h"] = h + 1;
    a["crps"] = h < r.crps_by_horizon.size() ? FiniteOrNull(r.crps_by_horizon[h]) : Json(nullptr);
    by_h.push_back(std::move(a));
  }
  return {{"series", l.series},  {"model", l.model},   {"failures", r.failures}, {"overall", AccuracyJson(r.overall)},
          {"crps", FiniteOrNull(r.crps)}, {"by_horizon", by_h}, {"origins", origins},     {"notes", r.notes}};
}

// Runs one model over every series: univariate (one backtest per series) or multivariate (one
// system). In real time the store's as-of reads supply each origin's data.
Result<std::vector<Labeled>> RunModel(const GlobalOptions& g, const BacktestArgs& a, const ModelArgs& m, DataSource& ds,
                                      const eval::BacktestSettings& settings) {
  ALMANAC_ASSIGN_OR_RETURN(Json params, BuildParams(m));
  const models::ModelSpec spec{m.model, params};
  const std::string label = m.model + (params.empty() ? std::string() : CompactJson(params));
  std::vector<Labeled> out;
  const eval::RealTimeSettings rt{a.publication_lag};
  store::SeriesStore& store = *ds.store;
  const std::optional<Date> latest = ds.as_of;
  const std::string transform = a.data.transform;
  if (IsMultivariateType(m.model)) {
    const std::vector<std::string> keys = ds.keys;
    eval::BacktestSettings ms = settings;
    ms.known_future = SplitList(a.known_future);
    if (ms.known_future.empty() && m.model == "arimax") {
      const std::string target = params.value("target", keys.front());
      for (const auto& k : keys)
        if (k != target) ms.known_future.push_back(k);
    }
    Result<eval::MultiBacktestResult> r = InternalError("not run");
    if (a.real_time) {
      eval::MultiVintageSource source = [&](std::optional<Date> d) {
        return ReadMulti(store, keys, d ? d : latest, transform);
      };
      r = eval::BacktestMultivariateRealTime(spec, source, rt, ms);
    } else {
      ALMANAC_ASSIGN_OR_RETURN(models::MultiInput data, ReadMulti(store, keys, latest, transform));
      r = eval::BacktestMultivariate(spec, data, ms);
    }
    if (!r.ok()) return r.status();
    for (size_t i = 0; i < r->names.size(); ++i) out.push_back({r->names[i], label, std::move(r->variables[i])});
    return out;
  }
  models::ForecasterRegistry registry;
  models::RegisterBuiltinModels(registry);
  if (a.real_time) {
    for (const auto& key : ds.keys) {
      eval::VintageSource source = [&](std::optional<Date> d) {
        return ReadOne(store, key, d ? d : latest, transform);
      };
      auto r = eval::BacktestRealTime(registry, spec, source, rt, settings);
      if (!r.ok()) return r.status().WithContext("series " + key);
      out.push_back({key, label, std::move(*r)});
    }
    return out;
  }
  std::vector<TimeSeries> series;
  for (const auto& key : ds.keys) {
    ALMANAC_ASSIGN_OR_RETURN(TimeSeries ts, ReadOne(store, key, latest, transform));
    series.push_back(std::move(ts));
  }
  auto results = eval::BacktestMany(registry, spec, series, settings);
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i].ok()) return results[i].status().WithContext("series " + ds.keys[i]);
    out.push_back({ds.keys[i], label, std::move(*results[i])});
  }
  (void)g;
  return out;
}

}  // namespace

int RunBacktest(const GlobalOptions& g, const BacktestArgs& a) {
  static const std::vector<std::string> kOutputs = {"summary", "horizons", "origins", "dm"};
  if (std::find(kOutputs.begin(), kOutputs.end(), a.output) == kOutputs.end())
    return ReportError(InvalidArgumentError("unknown --output " + QuoteForMessage(a.output) +
                                            ": expected summary, horizons, origins or dm"));
  if (a.output == "dm" && a.compare.model.empty())
    return ReportError(InvalidArgumentError("--output dm needs a second model (--compare MODEL)"));
  if (a.window != "expanding" && a.window != "sliding")
    return ReportError(
        InvalidArgumentError("unknown --window " + QuoteForMessage(a.window) + ": expected expanding or sliding"));
  auto levels = ParseLevels(a.levels);
  if (!levels.ok()) return ReportError(levels.status());
  eval::BacktestSettings settings;
  settings.horizon = a.horizon;
  settings.origins = a.origins;
  settings.step = a.step;
  settings.window = a.window == "sliding" ? eval::WindowType::kSliding : eval::WindowType::kExpanding;
  settings.window_size = a.window_size;
  settings.levels = *levels;
  settings.period = a.period;
  settings.threads = a.threads;
  auto ds = OpenData(g, a.data);
  if (!ds.ok()) return ReportError(ds.status());
  auto first = RunModel(g, a, a.model, *ds, settings);
  if (!first.ok()) return ReportError(first.status());
  std::vector<Labeled> all = std::move(*first);
  const size_t n_first = all.size();
  if (!a.compare.model.empty()) {
    auto second = RunModel(g, a, a.compare, *ds, settings);
    if (!second.ok()) return ReportError(second.status());
    for (auto& l : *second) all.push_back(std::move(l));
  }
  // Diebold-Mariano per series and horizon (model 1 vs model 2; alternative two-sided).
  Table dm{{"series", "h", "model_1", "model_2", "n", "dm_statistic", "p_value", "mean_loss_diff", "note"}, {}};
  Json dm_json = Json::array();
  if (!a.compare.model.empty()) {
    for (size_t i = 0; i < n_first; ++i) {
      const Labeled* other = nullptr;
      for (size_t j = n_first; j < all.size(); ++j)
        if (all[j].series == all[i].series) other = &all[j];
      if (other == nullptr) continue;
      for (int h = 1; h <= a.horizon; ++h) {
        const auto e1 = eval::ErrorsAtHorizon(all[i].result, h), e2 = eval::ErrorsAtHorizon(other->result, h);
        auto r = eval::DieboldMariano(e1, e2, h, a.power);
        std::string note = r.ok() ? (r->notes.empty() ? "" : r->notes[0]) : r.status().message();
        dm.Add({all[i].series, h, all[i].model, other->model, r.ok() ? Json(r->n) : Json(nullptr),
                r.ok() ? FiniteOrNull(r->statistic) : Json(nullptr), r.ok() ? FiniteOrNull(r->pvalue) : Json(nullptr),
                r.ok() ? FiniteOrNull(r->mean_loss_difference) : Json(nullptr), note});
        dm_json.push_back({{"series", all[i].series},
                           {"h", h},
                           {"model_1", all[i].model},
                           {"model_2", other->model},
                           {"n", r.ok() ? Json(r->n) : Json(nullptr)},
                           {"statistic", r.ok() ? FiniteOrNull(r->statistic) : Json(nullptr)},
                           {"p_value", r.ok() ? FiniteOrNull(r->pvalue) : Json(nullptr)},
                           {"mean_loss_difference", r.ok() ? FiniteOrNull(r->mean_loss_difference) : Json(nullptr)},
                           {"power", a.power},
                           {"note", note}});
      }
    }
  }
  if (g.format == OutputFormat::kJson) {
    Json results = Json::array();
    for (const auto& l : all) results.push_back(ResultJson(l));
    Json out = {{"settings",
                 {{"horizon", a.horizon},
                  {"origins", a.origins},
                  {"step", a.step},
                  {"window", a.window},
                  {"window_size", a.window_size},
                  {"levels", *levels},
                  {"real_time", a.real_time},
                  {"publication_lag_days", a.publication_lag},
                  {"transform", a.data.transform},
                  {"as_of", ds->as_of ? Json(ds->as_of->ToString()) : Json(nullptr)}}},
                {"results", results}};
    if (!a.compare.model.empty()) out["diebold_mariano"] = dm_json;
    std::cout << PrettyJson(out) << "\n";
    return kExitOk;
  }
  if (!g.quiet) {
    std::cerr << "backtest: " << a.origins << " origins, " << a.step << " apart, horizon " << a.horizon << ", "
              << a.window << " window"
              << (a.real_time ? ", real time (publication lag " + std::to_string(a.publication_lag) + " days)" : "")
              << "\n";
    for (const auto& l : all)
      for (const auto& n : l.result.notes) std::cerr << "  note: " << l.series << " " << l.model << ": " << n << "\n";
  }
  if (a.output == "summary") {
    Table t{{"series", "model", "origins", "failed", "n", "mae", "rmse", "mape", "smape", "mase"}, {}};
    for (double l : *levels) {
      t.columns.push_back("cov" + FormatDouble(l));
      t.columns.push_back("score" + FormatDouble(l));
    }
    t.columns.push_back("crps");
    for (const auto& l : all) SummaryRow(l, *levels, &t);
    Print(std::cout, t, g.format);
    if (!a.compare.model.empty() && g.format == OutputFormat::kTable) {
      std::cout << "\nDiebold-Mariano (HLN), loss |e|^" << FormatDouble(a.power) << ", two-sided:\n";
      Print(std::cout, dm, g.format);
    }
  } else if (a.output == "horizons") {
    Table t{{"series", "model", "h", "n", "mae", "rmse", "smape", "mase"}, {}};
    for (double l : *levels) t.columns.push_back("cov" + FormatDouble(l));
    t.columns.push_back("crps");
    for (const auto& l : all)
      for (size_t h = 0; h < l.result.by_horizon.size(); ++h) {
        const auto& acc = l.result.by_horizon[h];
        std::vector<Json> row{l.series,     l.model,       static_cast<int>(h + 1), acc.n,
                              FiniteOrNull(acc.mae), FiniteOrNull(acc.rmse), FiniteOrNull(acc.smape),          FiniteOrNull(acc.mase)};
        for (size_t i = 0; i < levels->size(); ++i)
          row.push_back(i < acc.intervals.size() ? FiniteOrNull(acc.intervals[i].coverage) : Json(nullptr));
        row.push_back(FiniteOrNull(l.result.crps_by_horizon[h]));
        t.Add(std::move(row));
      }
    Print(std::cout, t, g.format);
  } else if (a.output == "origins") {
    Table t{{"series", "model", "origin", "as_of", "gap", "h", "period", "actual", "mean", "error"}, {}};
    AddLevelColumns(&t, *levels);
    t.columns.push_back("status");
    for (const auto& l : all)
      for (const auto& o : l.result.origins) {
        const int steps = static_cast<int>(o.actual.size());
        for (int h = 0; h < steps; ++h) {
          const bool ok = o.status.ok();
          const double mean = ok ? o.mean[h] : kNaN;
          std::vector<Json> row{l.series,
                                l.model,
                                o.origin.ToString(),
                                o.as_of ? Json(o.as_of->ToString()) : Json(nullptr),
                                o.gap,
                                h + 1,
                                (o.origin + (h + 1)).ToString(),
                                FiniteOrNull(o.actual[h]),
                                FiniteOrNull(mean),
                                FiniteOrNull(o.actual[h] - mean)};
          for (size_t i = 0; i < levels->size(); ++i) {
            row.push_back(ok && i < o.intervals.size() ? FiniteOrNull(o.intervals[i].lower[h]) : Json(nullptr));
            row.push_back(ok && i < o.intervals.size() ? FiniteOrNull(o.intervals[i].upper[h]) : Json(nullptr));
          }
          row.push_back(ok ? "ok" : o.status.message());
          t.Add(std::move(row));
        }
      }
    Print(std::cout, t, g.format);
  } else {
    Print(std::cout, dm, g.format);
  }
  return kExitOk;
}

}  // namespace almanac::cli
