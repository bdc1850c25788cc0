// almanac backtest: rolling-origin backtests, optionally in real time, with accuracy metrics
// and the Diebold-Mariano test (issue 6).
#include <algorithm>
#include <cmath>
#include <iostream>

#include "almanac/eval.h"
#include "almanac/models.h"

#include "cli/commands_multi.h"
#include "cli/multi_data.h"

namespace almanac::cli {

namespace {

struct Labeled {
  std::string series;
  std::string model;
  eval::BacktestResult result;
};

void SummaryRow(const Labeled& l, const std::vector<double>& levels, Table* t) {
  const auto& a = l.result.overall;
  std::vector<Json> row{l.series,
                        l.model,
                        static_cast<int>(l.result.origins.size()),
                        l.result.failures,
                        a.n,
                        FiniteOrNull(a.mae),
                        FiniteOrNull(a.rmse),
                        FiniteOrNull(a.mape),
                        FiniteOrNull(a.smape),
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
    iv.push_back(
        {{"level", i.level}, {"coverage", FiniteOrNull(i.coverage)}, {"score", FiniteOrNull(i.score)}, {"n", i.n}});
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
  return {{"series", l.series},           {"model", l.model},
          {"failures", r.failures},       {"overall", AccuracyJson(r.overall)},
          {"crps", FiniteOrNull(r.crps)}, {"by_horizon", by_h},
          {"origins", origins},           {"notes", r.notes}};
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
  auto levels = ParseLevelList(a.levels);
  if (!levels.ok()) return ReportError(levels.status());
  if (Status s = CheckHorizon(a.horizon); !s.ok()) return ReportError(s);
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
        std::vector<Json> row{l.series,
                              l.model,
                              static_cast<int>(h + 1),
                              acc.n,
                              FiniteOrNull(acc.mae),
                              FiniteOrNull(acc.rmse),
                              FiniteOrNull(acc.smape),
                              FiniteOrNull(acc.mase)};
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
