// `almanac report MODEL@VERSION`: one self-contained HTML file for model-risk review (SR 11-7,
// SS1/23): model card, fan chart of the forecast with history (inline SVG), backtest against
// naive and the current production version, Diebold-Mariano tests, lineage, approvals, audit
// entries and monitoring history. No scripts, fonts or images from the network.
#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "almanac/data/transforms.h"
#include "almanac/eval.h"
#include "almanac/models.h"
#include "almanac/monitor.h"
#include "almanac/monitor/risk_report.h"
#include "almanac/registry.h"
#include "monitor/package_target.h"

namespace almanac::monitor {
namespace {

std::string Esc(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string HtmlNum(double v, int digits = 3) { return std::isfinite(v) ? FormatFixed(v, digits) : std::string("&ndash;"); }
std::string TsText(int64_t micros) { return micros == 0 ? std::string() : FormatTimestamp(micros).substr(0, 19) + "Z"; }
std::string JsonText(const Json& j) { return j.is_string() ? j.get<std::string>() : CompactJson(j); }

// The target as the version was trained on it (its snapshot, transforms applied) and as known now.
struct TargetData {
  TimeSeries trained;
  TimeSeries now;
  std::string note;  // when something could not be read
};

TargetData ReadTarget(store::Store& store, const registry::PackageManifest& m) {
  TargetData d;
  auto snap = store.series().GetSnapshot(m.snapshot_id);
  if (!snap.ok()) {
    d.note = "the training snapshot is not in this store: " + snap.status().message();
    return d;
  }
  // As trained: the snapshot's series; as known now: the same recipe read with everything loaded.
  data::TargetRecipe recipe{m.target, m.transforms, {}};
  std::map<std::string, TimeSeries> trained;
  for (const auto& s : snap->series) {
    trained[s.key] = s.values;
    recipe.inputs.push_back(s.key);
  }
  auto t = data::DeriveTarget(recipe, std::move(trained));
  if (t.ok()) d.trained = std::move(*t);
  else d.note = t.status().message();
  auto n = data::TargetAsOf(store.series(), recipe, std::nullopt);
  if (n.ok()) d.now = std::move(n->target);
  return d;
}

// The fan chart: history, the mean forecast, one band per level (widest lightest) and the
// actuals that arrived after the origin.
std::string FanChart(const TimeSeries& history, const TimeSeries& now, const models::Forecast& fc, const std::string& title) {
  constexpr double kW = 860, kH = 340, kL = 60, kR = 20, kT = 30, kB = 40;
  const int64_t shown_hist = std::min<int64_t>(history.size(), 40);
  const Period first = history.end() - (shown_hist - 1);
  const int64_t horizon = static_cast<int64_t>(fc.mean.size());
  const int64_t n = shown_hist + horizon;
  double lo = INFINITY, hi = -INFINITY;
  auto see = [&](double v) {
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  };
  for (int64_t i = 0; i < shown_hist; ++i) see(history.at(first + i).value_or(NAN));
  for (double v : fc.mean) see(v);
  for (const auto& pi : fc.intervals) {
    for (double v : pi.lower) see(v);
    for (double v : pi.upper) see(v);
  }
  for (int64_t h = 1; h <= horizon && !now.empty(); ++h) see(now.at(history.end() + h).value_or(NAN));
  if (!(hi > lo)) hi = lo + 1;
  const double pad = (hi - lo) * 0.05;
  lo -= pad;
  hi += pad;
  auto x = [&](int64_t i) { return kL + (kW - kL - kR) * (n <= 1 ? 0.5 : static_cast<double>(i) / static_cast<double>(n - 1)); };
  auto y = [&](double v) { return kT + (kH - kT - kB) * (1 - (v - lo) / (hi - lo)); };
  auto pt = [&](int64_t i, double v) { return FormatFixed(x(i), 1) + "," + FormatFixed(y(v), 1) + " "; };
  std::string svg = "<svg id=\"fan-chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + FormatFixed(kW, 0) + " " +
                    FormatFixed(kH, 0) + "\" width=\"" + FormatFixed(kW, 0) + "\" height=\"" + FormatFixed(kH, 0) +
                    "\" role=\"img\" aria-label=\"" + Esc(title) + "\">\n";
  svg += "<title>" + Esc(title) + "</title>\n";
  svg += "<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n";
  // Axes and a few y ticks.
  svg += "<line x1=\"" + FormatFixed(kL, 0) + "\" y1=\"" + FormatFixed(kH - kB, 0) + "\" x2=\"" + FormatFixed(kW - kR, 0) +
         "\" y2=\"" + FormatFixed(kH - kB, 0) + "\" stroke=\"#888\"/>\n";
  for (int k = 0; k <= 4; ++k) {
    const double v = lo + (hi - lo) * k / 4;
    svg += "<text x=\"" + FormatFixed(kL - 6, 0) + "\" y=\"" + FormatFixed(y(v) + 4, 1) +
           "\" font-size=\"11\" text-anchor=\"end\" fill=\"#444\">" + Esc(FormatFixed(v, 2)) + "</text>\n";
    svg += "<line x1=\"" + FormatFixed(kL, 0) + "\" y1=\"" + FormatFixed(y(v), 1) + "\" x2=\"" + FormatFixed(kW - kR, 0) +
           "\" y2=\"" + FormatFixed(y(v), 1) + "\" stroke=\"#eee\"/>\n";
  }
  for (int64_t i : {int64_t{0}, shown_hist - 1, n - 1})
    svg += "<text x=\"" + FormatFixed(x(i), 1) + "\" y=\"" + FormatFixed(kH - kB + 16, 0) +
           "\" font-size=\"11\" text-anchor=\"middle\" fill=\"#444\">" + Esc((first + i).ToString()) + "</text>\n";
  // Bands, widest first; each band starts at the last observation.
  std::vector<const models::PredictionInterval*> bands;
  for (const auto& pi : fc.intervals) bands.push_back(&pi);
  std::sort(bands.begin(), bands.end(), [](auto* a, auto* b) { return a->level > b->level; });
  const double last = history.at(history.end()).value_or(fc.mean.empty() ? 0 : fc.mean[0]);
  for (size_t b = 0; b < bands.size(); ++b) {
    std::string pts = pt(shown_hist - 1, last);
    for (int64_t h = 0; h < horizon; ++h) pts += pt(shown_hist + h, bands[b]->upper[static_cast<size_t>(h)]);
    for (int64_t h = horizon - 1; h >= 0; --h) pts += pt(shown_hist + h, bands[b]->lower[static_cast<size_t>(h)]);
    const double opacity = 0.18 + 0.2 * static_cast<double>(b);
    svg += "<polygon class=\"band\" data-level=\"" + FormatDouble(bands[b]->level) + "\" points=\"" + pts +
           "\" fill=\"#2b6cb0\" fill-opacity=\"" + FormatFixed(opacity, 2) + "\" stroke=\"none\"><title>" +
           FormatDouble(bands[b]->level) + "% interval</title></polygon>\n";
  }
  std::string hist;
  for (int64_t i = 0; i < shown_hist; ++i)
    if (auto v = history.at(first + i)) hist += pt(i, *v);
  svg += "<polyline class=\"history\" points=\"" + hist + "\" fill=\"none\" stroke=\"#222\" stroke-width=\"1.6\"/>\n";
  std::string mean = pt(shown_hist - 1, last);
  for (int64_t h = 0; h < horizon; ++h) mean += pt(shown_hist + h, fc.mean[static_cast<size_t>(h)]);
  svg += "<polyline class=\"forecast\" points=\"" + mean + "\" fill=\"none\" stroke=\"#2b6cb0\" stroke-width=\"2\"/>\n";
  for (int64_t h = 1; h <= horizon && !now.empty(); ++h)
    if (auto v = now.at(history.end() + h))
      svg += "<circle class=\"actual\" cx=\"" + FormatFixed(x(shown_hist - 1 + h), 1) + "\" cy=\"" + FormatFixed(y(*v), 1) +
             "\" r=\"3.5\" fill=\"#c53030\"><title>actual " + Esc((history.end() + h).ToString()) + ": " + FormatDouble(*v) +
             "</title></circle>\n";
  svg += "</svg>\n";
  return svg;
}

struct BacktestRow {
  std::string name;
  eval::Accuracy acc;
  std::string note;
};

void AccuracyCells(std::string& html, const eval::Accuracy& a) {
  html += "<td class=\"num\">" + HtmlNum(a.mase) + "</td><td class=\"num\">" + HtmlNum(a.mae) + "</td><td class=\"num\">" +
          HtmlNum(a.rmse) + "</td>";
  for (double level : {80.0, 95.0}) {
    double cov = NAN;
    for (const auto& iv : a.intervals)
      if (iv.level == level) cov = iv.coverage;
    html += "<td class=\"num\">" + HtmlNum(cov, 2) + "</td>";
  }
}

}  // namespace

Result<ModelRiskReport> BuildModelRiskReport(store::Store& st, store::ArtifactStore& artifacts,
                                             const models::ForecasterRegistry& models, const std::string& name,
                                             const std::string& which, const Clock& clock) {
  return BuildModelRiskReport(st, artifacts, models, name, which, clock, ModelRiskReportOptions{});
}

Result<ModelRiskReport> BuildModelRiskReport(store::Store& st, store::ArtifactStore& artifacts,
                                             const models::ForecasterRegistry& models, const std::string& name,
                                             const std::string& which, const Clock& clock,
                                             const ModelRiskReportOptions& options) {
  // The risk section first: a bad risk report fails before any work.
  std::string risk_section;
  if (options.risk) {
    ALMANAC_ASSIGN_OR_RETURN(risk_section, RiskSectionHtml(*options.risk, options.risk_source));
  }
  if (options.var_backtest) {
    ALMANAC_ASSIGN_OR_RETURN(std::string section,
                             VarBacktestSectionHtml(*options.var_backtest, options.var_backtest_source));
    risk_section += section;
  }
  registry::Registry reg(st, clock);
  ALMANAC_ASSIGN_OR_RETURN(const store::ModelVersionRecord v, reg.Resolve(name, which));
  ALMANAC_ASSIGN_OR_RETURN(const store::RegisteredModelRecord model, reg.GetModel(name));
  ALMANAC_ASSIGN_OR_RETURN(const registry::Lineage lineage, reg.GetLineage(name, v.version));
  ALMANAC_ASSIGN_OR_RETURN(const std::string bytes, artifacts.Get(v.artifact_name, v.artifact_sha256));
  ALMANAC_ASSIGN_OR_RETURN(const registry::ParsedPackage pkg, registry::ParsePackage(bytes));
  const registry::PackageManifest& man = pkg.manifest;
  const std::string id = name + "@" + std::to_string(v.version);

  // The forecast of the version as served (its own fit, from the end of its training data).
  std::vector<double> levels = man.levels.empty() ? std::vector<double>{80, 95} : man.levels;
  const int horizon = man.horizon > 0 ? man.horizon : models::kDefaultHorizon;
  std::optional<models::Forecast> fc;
  std::string fc_note;
  if (auto fm = models.Load(pkg.model_envelope); fm.ok()) {
    auto f = (*fm)->Predict(horizon, levels);
    if (f.ok()) fc = *f;
    else fc_note = f.status().message();
  } else {
    fc_note = fm.status().message();
  }
  TargetData target = ReadTarget(st, man);

  // Backtests on the training data with the run's evaluation settings: this version, naive and
  // the current production version (when another one).
  Json evaluation;
  if (auto params = st.metadata().Transact<std::vector<std::pair<std::string, std::string>>>(
          [&](store::MetadataTxn& t) { return t.GetParams(v.run_id); });
      params.ok())
    for (const auto& [k, val] : *params)
      if (k == "evaluation") {
        auto j = ParseJson(val);
        if (j.ok()) evaluation = *j;
      }
  const int origins = evaluation.is_object() ? evaluation.value("origins", 0) : 0;
  std::vector<BacktestRow> rows;
  std::string no_backtest;
  std::optional<eval::BacktestResult> ours, naive;
  std::optional<store::ModelVersionRecord> production;
  if (auto p = reg.Resolve(name, "production"); p.ok()) production = *p;
  if (origins <= 0 || !v.metrics.is_object() || v.metrics.empty()) {
    no_backtest = "This version has no backtest: its pipeline did not evaluate it (evaluation.origins is 0 or absent).";
  } else if (target.trained.empty()) {
    no_backtest = "The backtest cannot be recomputed: " + target.note;
  } else {
    eval::BacktestSettings bs;
    bs.horizon = evaluation.value("horizon", 0) > 0 ? evaluation.value("horizon", 0) : horizon;
    bs.origins = origins;
    bs.step = std::max(1, evaluation.value("step", 1));
    bs.window = evaluation.value("window", std::string("expanding")) == "sliding" ? eval::WindowType::kSliding
                                                                                   : eval::WindowType::kExpanding;
    bs.window_size = evaluation.value("window_size", 0);
    auto run = [&](const std::string& label, const models::ModelSpec& spec) -> std::optional<eval::BacktestResult> {
      auto r = eval::Backtest(models, spec, target.trained, bs);
      if (!r.ok()) {
        rows.push_back({label, {}, r.status().message()});
        return std::nullopt;
      }
      rows.push_back({label, r->overall, r->failures > 0 ? std::to_string(r->failures) + " origin(s) failed" : ""});
      return *r;
    };
    models::ModelSpec spec{man.model_spec.value("type", man.model_type), man.model_spec.value("params", Json::object())};
    ours = run(id + " (this version)", spec);
    naive = run("naive", models::ModelSpec{"naive", Json::object()});
    if (production && production->version != v.version) {
      auto pb = artifacts.Get(production->artifact_name, production->artifact_sha256);
      auto pp = pb.ok() ? registry::ParsePackage(*pb) : Result<registry::ParsedPackage>(pb.status());
      if (pp.ok()) {
        run(name + "@" + std::to_string(production->version) + " (production)",
            {pp->manifest.model_spec.value("type", pp->manifest.model_type), pp->manifest.model_spec.value("params", Json::object())});
      }
    }
  }

  // Audit entries about the model or its versions, and the monitoring verdicts among them.
  std::vector<store::AuditEntry> audit;
  if (auto all = st.metadata().ReadAudit(1, 0); all.ok())
    for (const auto& e : *all)
      if (e.event.object_id == name || e.event.object_id.rfind(name + "@", 0) == 0) audit.push_back(e);

  std::vector<store::IssuedForecastRecord> issued;
  (void)st.metadata().Run([&](store::MetadataTxn& t) -> Status {
    auto f = t.ListForecasts(name, v.version);
    if (f.ok()) issued = *f;
    return Status::Ok();
  });
  std::optional<monitor::VersionAccuracy> accuracy;
  if (auto rule = monitor::ParseAccuracyRule(model.policy); rule.ok()) {
    auto acc = monitor::EvaluateAccuracy(name, v.version, v.metrics, issued, target.now, *rule);
    if (acc.ok()) accuracy = *acc;
  }

  // ---------------------------------------------------------------- HTML
  std::string h;
  h.reserve(64 * 1024);
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<title>Model-risk report: " + Esc(id) + "</title>\n";
  h += "<style>\nbody{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:960px;color:#1a202c}"
       "h1{font-size:1.6em}h2{font-size:1.2em;border-bottom:1px solid #cbd5e0;padding-bottom:.2em;margin-top:1.8em}"
       "table{border-collapse:collapse;margin:.6em 0;font-size:.92em}th,td{border:1px solid #cbd5e0;padding:.3em .6em;"
       "text-align:left;vertical-align:top}th{background:#edf2f7}td.num{text-align:right}.muted{color:#718096}"
       ".flag{color:#c53030;font-weight:bold}.ok{color:#2f855a;font-weight:bold}code{font-size:.9em}"
       "@media print{body{margin:0;max-width:none}h2{break-after:avoid}table,svg{break-inside:avoid}}\n</style>\n";
  h += "</head>\n<body>\n";
  h += "<h1>Model-risk report: " + Esc(id) + "</h1>\n";
  h += "<p class=\"muted\">Generated " + Esc(TsText(clock.NowMicros())) + " by almanac " + Esc(man.almanac_version) +
       " from " + Esc(st.uri()) + ". Stage: <b>" + Esc(std::string(store::StageName(v.stage))) + "</b>" +
       (production ? "; current production version: " + std::to_string(production->version) : "; no production version") +
       ".</p>\n";

  // Model card.
  h += "<h2 id=\"card\">Model card</h2>\n<table id=\"model-card\">\n";
  auto card_row = [&](const std::string& k, const std::string& val) {
    h += "<tr><th>" + Esc(k) + "</th><td>" + (val.empty() ? "<span class=\"muted\">not entered</span>" : Esc(val)) + "</td></tr>\n";
  };
  const Json& card = model.card;
  auto card_field = [&](const char* key) { return card.is_object() && card.contains(key) ? JsonText(card[key]) : std::string(); };
  card_row("Purpose", card_field("purpose"));
  card_row("Owner", model.owner.empty() ? card_field("owner") : model.owner);
  card_row("Description", model.description);
  card_row("Target", man.target + " (" + man.frequency + ")");
  std::string sources;
  if (lineage.snapshot) {
    sources = "snapshot " + lineage.snapshot->name + " (" + lineage.snapshot->id.substr(0, 12) + "), as of " +
              (lineage.snapshot->as_of ? lineage.snapshot->as_of->ToString() : std::string("load time"));
  } else {
    sources = "snapshot " + man.snapshot_id.substr(0, 12) + " (not in this store)";
  }
  card_row("Data sources and snapshot", (card_field("data_sources").empty() ? "" : card_field("data_sources") + "; ") + sources);
  card_row("Method", man.model_type + " " + CompactJson(man.model_spec.value("params", Json::object())));
  card_row("Assumptions", card_field("assumptions"));
  card_row("Limitations", card_field("limitations"));
  if (card.is_object())
    for (auto it = card.begin(); it != card.end(); ++it) {
      static const char* kShown[] = {"purpose", "owner", "data_sources", "assumptions", "limitations"};
      if (std::find(std::begin(kShown), std::end(kShown), it.key()) == std::end(kShown)) card_row(it.key(), JsonText(it.value()));
    }
  h += "</table>\n";

  // Forecast.
  h += "<h2 id=\"forecast\">Forecast with history</h2>\n";
  if (fc && !target.trained.empty()) {
    h += FanChart(target.trained, target.now, *fc, id + ": " + man.target + " forecast from " + man.history_end);
    h += "<p class=\"muted\">History: the training data (up to " + Esc(man.history_end) +
         "). Bands: the prediction intervals; red dots: actuals that arrived later.</p>\n";
    h += "<table id=\"forecast-table\"><tr><th>period</th><th>mean</th>";
    for (const auto& pi : fc->intervals)
      h += "<th>" + FormatDouble(pi.level) + "% lower</th><th>" + FormatDouble(pi.level) + "% upper</th>";
    h += "<th>actual</th></tr>\n";
    for (size_t i = 0; i < fc->mean.size(); ++i) {
      const Period p = target.trained.end() + static_cast<int64_t>(i + 1);
      h += "<tr><td>" + Esc(p.ToString()) + "</td><td class=\"num\">" + HtmlNum(fc->mean[i]) + "</td>";
      for (const auto& pi : fc->intervals) h += "<td class=\"num\">" + HtmlNum(pi.lower[i]) + "</td><td class=\"num\">" + HtmlNum(pi.upper[i]) + "</td>";
      auto act = target.now.empty() ? std::nullopt : target.now.at(p);
      h += "<td class=\"num\">" + (act ? HtmlNum(*act) : std::string("<span class=\"muted\">not yet</span>")) + "</td></tr>\n";
    }
    h += "</table>\n";
  } else {
    h += "<p class=\"flag\">No chart: " + Esc(fc_note.empty() ? target.note : fc_note) + "</p>\n";
  }

  // Backtest.
  h += "<h2 id=\"backtest\">Backtest against naive and the production version</h2>\n";
  if (!no_backtest.empty()) {
    h += "<p id=\"no-backtest\" class=\"flag\">" + Esc(no_backtest) + "</p>\n";
  } else {
    h += "<p class=\"muted\">Rolling-origin backtest on the training data with the run's settings (" + Esc(CompactJson(evaluation)) +
         "), recomputed for every row so that they share origins.</p>\n";
    h += "<table id=\"backtest-table\"><tr><th>model</th><th>MASE</th><th>MAE</th><th>RMSE</th><th>coverage 80%</th>"
         "<th>coverage 95%</th><th>note</th></tr>\n";
    for (const auto& r : rows) {
      h += "<tr><td>" + Esc(r.name) + "</td>";
      AccuracyCells(h, r.acc);
      h += "<td>" + Esc(r.note) + "</td></tr>\n";
    }
    h += "<tr><td>" + Esc(id) + " as registered</td><td class=\"num\">" +
         HtmlNum(v.metrics.value("mase", NAN)) + "</td><td class=\"num\">" + HtmlNum(v.metrics.value("mae", NAN)) +
         "</td><td class=\"num\">" + HtmlNum(v.metrics.value("rmse", NAN)) + "</td><td class=\"num\">" +
         HtmlNum(v.metrics.value("coverage80", NAN), 2) + "</td><td class=\"num\">" + HtmlNum(v.metrics.value("coverage95", NAN), 2) +
         "</td><td>the run's recorded metrics</td></tr>\n</table>\n";
  }
  // Diebold-Mariano: this version against naive, squared-error loss, per horizon.
  h += "<h2 id=\"dm\">Diebold&ndash;Mariano test against naive</h2>\n";
  if (ours && naive) {
    h += "<table id=\"dm-table\"><tr><th>h</th><th>n</th><th>DM statistic</th><th>p-value</th><th>mean loss difference</th>"
         "<th>note</th></tr>\n";
    for (int hh = 1; hh <= static_cast<int>(ours->by_horizon.size()); ++hh) {
      auto r = eval::DieboldMariano(eval::ErrorsAtHorizon(*ours, hh), eval::ErrorsAtHorizon(*naive, hh), hh, 2);
      if (r.ok())
        h += "<tr><td>" + std::to_string(hh) + "</td><td>" + std::to_string(r->n) + "</td><td class=\"num\">" + HtmlNum(r->statistic) +
             "</td><td class=\"num\">" + HtmlNum(r->pvalue) + "</td><td class=\"num\">" + HtmlNum(r->mean_loss_difference) + "</td><td>" +
             Esc(r->notes.empty() ? "" : r->notes[0]) + "</td></tr>\n";
      else
        h += "<tr><td>" + std::to_string(hh) + "</td><td colspan=\"5\" class=\"muted\">" + Esc(r.status().message()) + "</td></tr>\n";
    }
    h += "</table>\n<p class=\"muted\">Negative statistics favour " + Esc(id) + "; HLN small-sample correction.</p>\n";
  } else {
    h += "<p class=\"muted\">Not available (no backtest of this version and naive).</p>\n";
  }

  // Lineage.
  h += "<h2 id=\"lineage\">Lineage</h2>\n<table id=\"lineage-table\">\n";
  h += "<tr><th>run</th><td>" + Esc(lineage.run.id) + " (" + Esc(lineage.run.pipeline) + ", by " + Esc(lineage.run.user) + ", " +
       Esc(TsText(lineage.run.start_time)) + ")</td></tr>\n";
  h += "<tr><th>package</th><td><code>" + Esc(v.artifact_name) + "</code> sha256 <code>" + Esc(v.artifact_sha256) + "</code></td></tr>\n";
  h += "<tr><th>snapshot</th><td><code>" + Esc(man.snapshot_id) + "</code></td></tr>\n";
  h += "<tr><th>transforms</th><td><code>" + Esc(CompactJson(man.transforms)) + "</code></td></tr>\n";
  std::map<std::string, int> vintages_per_series;
  for (const auto& vi : lineage.vintages) ++vintages_per_series[vi.series_key];
  for (const auto& [key, count] : vintages_per_series)
    h += "<tr><th>series " + Esc(key) + "</th><td>" + std::to_string(count) + " vintage(s) known at the snapshot</td></tr>\n";
  h += "</table>\n";

  // Approvals.
  h += "<h2 id=\"approvals\">Approvals</h2>\n";
  if (lineage.approvals.empty()) {
    h += "<p class=\"muted\">No promotion requests for this version.</p>\n";
  } else {
    h += "<table id=\"approvals-table\"><tr><th>to</th><th>requested by</th><th>at</th><th>reason</th><th>status</th>"
         "<th>decided by</th><th>at</th><th>reason</th></tr>\n";
    for (const auto& r : lineage.approvals)
      h += "<tr><td>" + Esc(std::string(store::StageName(r.target))) + "</td><td>" + Esc(r.requested_by) + "</td><td>" +
           Esc(TsText(r.requested_at)) + "</td><td>" + Esc(r.reason) + "</td><td>" +
           Esc(std::string(store::RequestStatusName(r.status))) + "</td><td>" + Esc(r.decided_by) + "</td><td>" +
           Esc(TsText(r.decided_at)) + "</td><td>" + Esc(r.decision_reason) + "</td></tr>\n";
    h += "</table>\n";
  }

  // Monitoring.
  h += "<h2 id=\"monitoring\">Monitoring</h2>\n";
  if (accuracy) {
    const bool degraded = accuracy->verdict == monitor::AccuracyVerdict::kDegraded;
    h += "<p>Verdict: <span class=\"" + std::string(degraded ? "flag" : "ok") + "\">" +
         Esc(std::string(monitor::AccuracyVerdictName(accuracy->verdict))) + "</span> &mdash; " + Esc(accuracy->reason) + "</p>\n";
    h += "<table id=\"monitoring-table\"><tr><th>stored forecasts</th><th>errors</th><th>realized MASE</th><th>backtest MASE</th>";
    for (const auto& c : accuracy->coverage) h += "<th>coverage " + FormatDouble(c.level) + "% (backtest)</th>";
    h += "</tr>\n<tr><td>" + std::to_string(accuracy->forecasts) + "</td><td>" + std::to_string(accuracy->evaluated) +
         "</td><td class=\"num\">" + HtmlNum(accuracy->realized_mase) + "</td><td class=\"num\">" + HtmlNum(accuracy->backtest_mase) + "</td>";
    for (const auto& c : accuracy->coverage) h += "<td class=\"num\">" + HtmlNum(c.realized, 2) + " (" + HtmlNum(c.backtest, 2) + ")</td>";
    h += "</tr>\n</table>\n";
  }
  std::string history;
  for (const auto& e : audit)
    if (e.event.action == "monitor.verdict" && e.event.object_id == id)
      history += "<tr><td>" + Esc(TsText(e.timestamp)) + "</td><td>" + Esc(e.event.details.value("verdict", "")) + "</td><td>" +
                 Esc(e.event.details.value("reason", "")) + "</td></tr>\n";
  if (history.empty()) {
    h += "<p class=\"muted\">No monitoring verdicts recorded yet (run <code>almanac monitor</code>).</p>\n";
  } else {
    h += "<table id=\"monitoring-history\"><tr><th>at</th><th>verdict</th><th>reason</th></tr>\n" + history + "</table>\n";
  }

  // Portfolio risk (issue 24), when a risk report was given.
  h += risk_section;

  // Audit.
  h += "<h2 id=\"audit\">Audit entries for " + Esc(name) + "</h2>\n<table id=\"audit-table\"><tr><th>seq</th><th>at</th>"
       "<th>actor</th><th>action</th><th>object</th><th>hash</th></tr>\n";
  for (const auto& e : audit)
    h += "<tr><td>" + std::to_string(e.seq) + "</td><td>" + Esc(TsText(e.timestamp)) + "</td><td>" + Esc(e.event.actor) + "</td><td>" +
         Esc(e.event.action) + "</td><td>" + Esc(e.event.object_id) + "</td><td><code>" + Esc(e.hash.substr(0, 16)) +
         "</code></td></tr>\n";
  h += "</table>\n</body>\n</html>\n";

  return ModelRiskReport{name, v.version, std::move(h)};
}

// ------------------------------------------------------------ risk section (issue 24)

namespace {

double RiskNum(const Json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<double>() : NAN;
}
std::string RiskStr(const Json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

// A bar chart of one horizon's P&L histogram (edges, counts) as inline SVG.
std::string RiskHistogramSvg(const Json& hist, const std::string& title, const std::string& id) {
  if (!hist.is_object() || !hist.contains("edges") || !hist.contains("counts")) return "";
  const Json& e = hist["edges"];
  const Json& c = hist["counts"];
  if (!e.is_array() || !c.is_array() || c.empty() || e.size() != c.size() + 1) return "";
  double top = 0;
  for (const auto& n : c) top = std::max(top, n.is_number() ? n.get<double>() : 0.0);
  if (top <= 0) return "";
  const double w = 560, h = 180, left = 50, bottom = 30;
  const double bar = (w - left - 10) / static_cast<double>(c.size());
  std::string s = "<svg id=\"" + Esc(id) + "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + FormatDouble(w) +
                  "\" height=\"" + FormatDouble(h + bottom) + "\" role=\"img\" aria-label=\"" + Esc(title) + "\">\n";
  s += "<title>" + Esc(title) + "</title>\n";
  for (size_t i = 0; i < c.size(); ++i) {
    const double n = c[i].is_number() ? c[i].get<double>() : 0.0;
    const double bh = (h - 10) * n / top;
    const double lo = e[i].is_number() ? e[i].get<double>() : NAN;
    s += "<rect x=\"" + FormatFixed(left + bar * static_cast<double>(i), 1) + "\" y=\"" + FormatFixed(h - bh, 1) +
         "\" width=\"" + FormatFixed(std::max(1.0, bar - 1), 1) + "\" height=\"" + FormatFixed(bh, 1) + "\" fill=\"" +
         (std::isfinite(lo) && lo < 0 ? "#c53030" : "#3182ce") + "\"/>\n";
  }
  auto label = [&](size_t i, const char* anchor) {
    const double x = left + bar * static_cast<double>(i);
    s += "<text x=\"" + FormatFixed(x, 1) + "\" y=\"" + FormatDouble(h + 18) + "\" font-size=\"11\" text-anchor=\"" +
         anchor + "\">" + HtmlNum(e[i].is_number() ? e[i].get<double>() : NAN, 1) + "</text>\n";
  };
  label(0, "start");
  label(c.size(), "end");
  s += "<line x1=\"" + FormatDouble(left) + "\" y1=\"" + FormatDouble(h) + "\" x2=\"" + FormatDouble(w - 10) +
       "\" y2=\"" + FormatDouble(h) + "\" stroke=\"#4a5568\"/>\n</svg>\n";
  return s;
}

// ---- Euler contribution charts (issue 24) ----
//
// One chart per scenario and kind (position, component): the Monte Carlo ES contributions at
// the highest level of the scenario's last horizon as horizontal bars from zero (a
// contribution that adds to the loss goes right in red, one that offsets it left in blue),
// largest |ES contribution| first, at most kContributionBars bars and the rest summed in one
// "others" bar, so the bars still add up to the total, drawn last. Each bar carries its numbers
// as data-* attributes (full precision) and a tooltip.

constexpr size_t kContributionBars = 15;

struct ContributionBar {
  std::string name;
  double var = 0, es = 0;
  size_t members = 1;  // > 1: the "others" bar
};

// Checks the contributions of one figure (`key` "positions" or "components", each entry
// {NAME_KEY, var, es}). Absent: fine (no chart). Present: an array of such objects.
Status CheckContributionList(const Json& figure, const char* key, const char* name_key, const std::string& where) {
  if (!figure.is_object() || !figure.contains(key)) return Status::Ok();
  const Json& list = figure[key];
  if (!list.is_array()) return InvalidArgumentError(where + "." + key + " must be an array of contributions");
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& c = list[i];
    const std::string at = where + "." + key + "[" + std::to_string(i) + "]";
    if (!c.is_object() || RiskStr(c, name_key).empty())
      return InvalidArgumentError(at + " needs a '" + name_key + "' name");
    if (!std::isfinite(RiskNum(c, "var")) || !std::isfinite(RiskNum(c, "es")))
      return InvalidArgumentError(at + " ('" + RiskStr(c, name_key) + "') needs finite 'var' and 'es'");
  }
  return Status::Ok();
}

// The index of the figure whose contributions are charted: Monte Carlo at the highest level.
std::optional<size_t> ChartedFigure(const Json& horizon) {
  std::optional<size_t> best;
  if (!horizon.is_object() || !horizon.contains("figures") || !horizon["figures"].is_array()) return best;
  const Json& figs = horizon["figures"];
  for (size_t i = 0; i < figs.size(); ++i)
    if (RiskStr(figs[i], "method") == "monte_carlo" && std::isfinite(RiskNum(figs[i], "level")) &&
        (!best || RiskNum(figs[i], "level") > RiskNum(figs[*best], "level")))
      best = i;
  return best;
}

// The contributions must add up to the figure's VaR and ES (Euler allocation); a file where
// they do not would draw a chart that lies. Tolerance: 1e-6 of the largest magnitude involved.
Status CheckContributionSums(const Json& figure, const char* key, const std::string& where) {
  const Json& list = figure[key];
  for (const char* measure : {"var", "es"}) {
    const double total = RiskNum(figure, measure);
    if (!std::isfinite(total))
      return InvalidArgumentError(where + " has contributions but no finite '" + measure + "'");
    double sum = 0, scale = std::max(1.0, std::abs(total));
    for (const auto& c : list) {
      sum += RiskNum(c, measure);
      scale = std::max(scale, std::abs(RiskNum(c, measure)));
    }
    if (std::abs(sum - total) > 1e-6 * scale)
      return InvalidArgumentError(where + "." + key + ": the " + (std::string_view(measure) == "es" ? "ES" : "VaR") +
                                  " contributions add up to " + FormatDouble(sum) + ", not the figure's " + measure +
                                  " " + FormatDouble(total));
  }
  return Status::Ok();
}

// The bars: sorted by |ES contribution| (stable), the tail beyond kContributionBars summed.
std::vector<ContributionBar> ContributionBars(const Json& list, const char* name_key) {
  std::vector<ContributionBar> bars;
  for (const auto& c : list) bars.push_back({RiskStr(c, name_key), RiskNum(c, "var"), RiskNum(c, "es"), 1});
  std::stable_sort(bars.begin(), bars.end(),
                   [](const ContributionBar& a, const ContributionBar& b) { return std::abs(a.es) > std::abs(b.es); });
  if (bars.size() > kContributionBars) {
    ContributionBar others{"others", 0, 0, bars.size() - kContributionBars};
    for (size_t i = kContributionBars; i < bars.size(); ++i) {
      others.var += bars[i].var;
      others.es += bars[i].es;
    }
    bars.resize(kContributionBars);
    bars.push_back(std::move(others));
  }
  return bars;
}

std::string ContributionChartSvg(const std::vector<ContributionBar>& bars, double total_var, double total_es,
                                 const std::string& noun, const std::string& measure, const std::string& title,
                                 const std::string& id) {
  const double w = 640, label_right = 150, plot_left = 160, plot_right = 540, value_right = 606;
  const double row = 20, bar_h = 13, top = 8, axis_h = 24;
  double lo = std::min(0.0, total_es), hi = std::max(0.0, total_es);
  for (const auto& b : bars) {
    lo = std::min(lo, b.es);
    hi = std::max(hi, b.es);
  }
  if (hi - lo <= 0) hi = lo + 1;
  auto x = [&](double v) { return plot_left + (plot_right - plot_left) * (v - lo) / (hi - lo); };
  const double rows = static_cast<double>(bars.size()) + 1.4;  // the bars, a gap, the total
  const double ht = top + rows * row + axis_h;
  std::string s = "<svg id=\"" + Esc(id) + "\" class=\"contributions\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                  FormatDouble(w) + "\" height=\"" + FormatFixed(ht, 0) + "\" role=\"img\" aria-label=\"" + Esc(title) +
                  "\">\n<title>" + Esc(title) + "</title>\n";
  auto bar = [&](double y, const std::string& cls, const std::string& name, const std::string& label, double var,
                 double es, const std::string& fill, const std::string& tip) {
    const double x0 = x(std::min(0.0, es)), x1 = x(std::max(0.0, es));
    std::string shown = label.size() > 24 ? label.substr(0, 22) + "\xE2\x80\xA6" : label;
    s += "<g class=\"" + cls + "\"><title>" + Esc(tip) + "</title>";
    s += "<text x=\"" + FormatDouble(label_right) + "\" y=\"" + FormatFixed(y + bar_h - 2, 1) +
         "\" font-size=\"11\" text-anchor=\"end\">" + Esc(shown) + "</text>";
    s += "<rect x=\"" + FormatFixed(x0, 2) + "\" y=\"" + FormatFixed(y, 1) + "\" width=\"" +
         FormatFixed(std::max(0.5, x1 - x0), 2) + "\" height=\"" + FormatDouble(bar_h) + "\" fill=\"" + fill +
         "\" data-name=\"" + Esc(name) + "\" data-es=\"" + FormatDouble(es) + "\" data-var=\"" + FormatDouble(var) + "\"/>";
    s += "<text x=\"" + FormatDouble(value_right) + "\" y=\"" + FormatFixed(y + bar_h - 2, 1) +
         "\" font-size=\"11\" text-anchor=\"end\">" + HtmlNum(es, 2) + "</text></g>\n";
  };
  auto share = [&](double es) {
    return total_es != 0 ? " (" + FormatFixed(100 * es / total_es, 1) + "% of the " + measure + " " + FormatFixed(total_es, 2) + ")"
                         : std::string();
  };
  for (size_t i = 0; i < bars.size(); ++i) {
    const ContributionBar& b = bars[i];
    const double y = top + static_cast<double>(i) * row;
    const bool others = b.members > 1;
    const std::string label = others ? "others (" + std::to_string(b.members) + " " + noun + "s)" : b.name;
    const std::string fill = b.es >= 0 ? (others ? "#e69a9a" : "#c53030") : (others ? "#90bde6" : "#3182ce");
    bar(y, others ? "bar others" : "bar", b.name, label, b.var, b.es, fill,
        label + ": " + measure + " contribution " + FormatFixed(b.es, 2) + share(b.es) + "; VaR contribution " +
            FormatFixed(b.var, 2));
  }
  const double ty = top + (static_cast<double>(bars.size()) + 0.4) * row;
  s += "<line x1=\"" + FormatDouble(plot_left) + "\" y1=\"" + FormatFixed(ty - 0.2 * row, 1) + "\" x2=\"" +
       FormatDouble(value_right) + "\" y2=\"" + FormatFixed(ty - 0.2 * row, 1) + "\" stroke=\"#cbd5e0\"/>\n";
  bar(ty, "total", "total", "total", total_var, total_es, "#2d3748",
      "total: " + measure + " " + FormatFixed(total_es, 2) + ", VaR " + FormatFixed(total_var, 2));
  // Zero line and the axis: the domain's ends and zero.
  const double axis_y = top + rows * row;
  s += "<line class=\"zero\" x1=\"" + FormatFixed(x(0), 2) + "\" y1=\"" + FormatDouble(top - 4) + "\" x2=\"" +
       FormatFixed(x(0), 2) + "\" y2=\"" + FormatFixed(axis_y, 1) + "\" stroke=\"#4a5568\"/>\n";
  s += "<line x1=\"" + FormatDouble(plot_left) + "\" y1=\"" + FormatFixed(axis_y, 1) + "\" x2=\"" +
       FormatDouble(plot_right) + "\" y2=\"" + FormatFixed(axis_y, 1) + "\" stroke=\"#a0aec0\"/>\n";
  auto tick = [&](double v, const char* anchor) {
    s += "<text x=\"" + FormatFixed(x(v), 1) + "\" y=\"" + FormatFixed(axis_y + 15, 1) +
         "\" font-size=\"11\" fill=\"#4a5568\" text-anchor=\"" + anchor + "\">" + HtmlNum(v, 1) + "</text>\n";
  };
  if (lo < 0) tick(lo, "start");
  // Zero's label unless an end's label is too close to it.
  if ((lo == 0 || x(0) - x(lo) > 60) && (hi == 0 || x(hi) - x(0) > 60)) tick(0, lo == 0 ? "start" : hi == 0 ? "end" : "middle");
  if (hi > 0) tick(hi, "end");
  s += "</svg>\n";
  return s;
}

}  // namespace

Result<std::string> RiskSectionHtml(const Json& r, std::string_view source) {
  const std::string src(source);
  if (!r.is_object() || !r.contains("scenarios") || !r["scenarios"].is_array())
    return InvalidArgumentError(src + ": not a risk report (expected the JSON of `almanac risk portfolio -o` or "
                                      "POST /v1/risk/portfolio, with a 'scenarios' array)");
  for (size_t s = 0; s < r["scenarios"].size(); ++s) {
    const Json& sc = r["scenarios"][s];
    if (!sc.is_object() || !sc.contains("horizons") || !sc["horizons"].is_array() || RiskStr(sc, "scenario").empty())
      return InvalidArgumentError(src + ": scenarios[" + std::to_string(s) +
                                  "] needs a 'scenario' name and a 'horizons' array");
    // Contributions (optional): well-formed wherever they are, and adding up where charted.
    for (size_t k = 0; k < sc["horizons"].size(); ++k) {
      const Json& hz = sc["horizons"][k];
      if (!hz.is_object() || !hz.contains("figures")) continue;
      if (!hz["figures"].is_array())
        return InvalidArgumentError(src + ": scenarios[" + std::to_string(s) + "].horizons[" + std::to_string(k) +
                                    "].figures must be an array");
      for (size_t f = 0; f < hz["figures"].size(); ++f) {
        const std::string where = src + ": scenarios[" + std::to_string(s) + "].horizons[" + std::to_string(k) +
                                  "].figures[" + std::to_string(f) + "]";
        ALMANAC_RETURN_IF_ERROR(CheckContributionList(hz["figures"][f], "positions", "position", where));
        ALMANAC_RETURN_IF_ERROR(CheckContributionList(hz["figures"][f], "components", "component", where));
      }
    }
    const size_t k = sc["horizons"].empty() ? 0 : sc["horizons"].size() - 1;
    if (const auto f = sc["horizons"].empty() ? std::nullopt : ChartedFigure(sc["horizons"][k])) {
      const Json* fig = &sc["horizons"][k]["figures"][*f];
      const std::string where = src + ": scenarios[" + std::to_string(s) + "].horizons[" + std::to_string(k) +
                                "].figures[" + std::to_string(*f) + "]";
      for (const char* key : {"positions", "components"})
        if (fig->contains(key) && !(*fig)[key].empty()) ALMANAC_RETURN_IF_ERROR(CheckContributionSums(*fig, key, where));
    }
  }
  std::vector<double> levels;
  if (r.contains("settings") && r["settings"].is_object() && r["settings"].contains("levels") &&
      r["settings"]["levels"].is_array())
    for (const auto& l : r["settings"]["levels"])
      if (l.is_number()) levels.push_back(l.get<double>());
  if (levels.empty()) levels = {0.95, 0.99};
  const std::string currency = RiskStr(r, "currency");

  std::string h = "<h2 id=\"risk\">Portfolio risk under the scenarios</h2>\n";
  const Json mm = r.contains("macro_model") ? r["macro_model"] : Json::object();
  h += "<p class=\"muted\">From " + Esc(src) + ": " + Esc(RiskStr(mm, "method")) + " on " + Esc(RiskStr(mm, "sample"));
  if (r.contains("settings") && r["settings"].is_object())
    h += "; " + HtmlNum(RiskNum(r["settings"], "paths"), 0) + " paths per scenario, seed " +
         HtmlNum(RiskNum(r["settings"], "seed"), 0);
  h += ". P&amp;L in " + Esc(currency.empty() ? std::string("the reporting currency") : currency) +
       "; VaR and ES are losses (Monte Carlo, docs/risk.md).</p>\n";
  if (r.contains("inputs") && r["inputs"].is_object()) {
    h += "<table id=\"risk-inputs\"><tr><th>input</th><th>SHA-256</th></tr>\n";
    for (auto it = r["inputs"].begin(); it != r["inputs"].end(); ++it)
      if (it.value().is_object() && it.value().contains("sha256"))
        h += "<tr><td>" + Esc(it.key()) + "</td><td><code>" + Esc(RiskStr(it.value(), "sha256")) + "</code></td></tr>\n";
    h += "</table>\n";
  }

  // Scenario table: per scenario and horizon, mean, point and the Monte Carlo VaR/ES.
  h += "<table id=\"risk-scenarios\"><tr><th>scenario</th><th>h</th><th>period</th><th>mean</th><th>point</th>";
  for (double l : levels)
    h += "<th>VaR " + FormatDouble(l * 100) + "%</th><th>ES " + FormatDouble(l * 100) + "%</th>";
  h += "</tr>\n";
  for (const auto& sc : r["scenarios"])
    for (const auto& hz : sc["horizons"]) {
      h += "<tr><td>" + Esc(RiskStr(sc, "scenario")) + "</td><td class=\"num\">" + HtmlNum(RiskNum(hz, "h"), 0) +
           "</td><td>" + Esc(RiskStr(hz, "period")) + "</td><td class=\"num\">" + HtmlNum(RiskNum(hz, "mean")) +
           "</td><td class=\"num\">" + HtmlNum(RiskNum(hz, "point")) + "</td>";
      for (double l : levels) {
        double var = NAN, es = NAN;
        if (hz.contains("figures") && hz["figures"].is_array())
          for (const auto& f : hz["figures"])
            if (RiskStr(f, "method") == "monte_carlo" && RiskNum(f, "level") == l) {
              var = RiskNum(f, "var");
              es = RiskNum(f, "es");
            }
        h += "<td class=\"num\">" + HtmlNum(var) + "</td><td class=\"num\">" + HtmlNum(es) + "</td>";
      }
      h += "</tr>\n";
    }
  h += "</table>\n";

  // The P&L distribution of each scenario at its last horizon.
  for (size_t s = 0; s < r["scenarios"].size(); ++s) {
    const Json& sc = r["scenarios"][s];
    if (sc["horizons"].empty()) continue;
    const Json& last = sc["horizons"].back();
    const std::string title = RiskStr(sc, "scenario") + ": P&L to " + RiskStr(last, "period") + " (h = " +
                              HtmlNum(RiskNum(last, "h"), 0) + ")";
    const std::string svg =
        RiskHistogramSvg(last.contains("histogram") ? last["histogram"] : Json(), title, "risk-hist-" + std::to_string(s));
    if (!svg.empty()) h += "<h3>" + Esc(title) + "</h3>\n" + svg;
    // Where the tail comes from: Euler contributions by position and by component.
    const auto charted = ChartedFigure(last);
    if (!charted) continue;
    const Json* fig = &last["figures"][*charted];
    const std::string measure = "ES " + FormatDouble(RiskNum(*fig, "level") * 100) + "%";
    for (const auto& [key, name_key, noun, id] :
         {std::tuple{"positions", "position", "position", "risk-contrib-pos-"},
          std::tuple{"components", "component", "component", "risk-contrib-factor-"}}) {
      if (!fig->contains(key) || (*fig)[key].empty()) continue;
      const std::string chart_title = RiskStr(sc, "scenario") + ": contributions to the " + measure + " to " +
                                      RiskStr(last, "period") + " by " +
                                      (std::string_view(noun) == "position" ? "position" : "factor (drift, factors, specific)");
      h += "<h3>" + Esc(chart_title) + "</h3>\n" +
           ContributionChartSvg(ContributionBars((*fig)[key], name_key), RiskNum(*fig, "var"), RiskNum(*fig, "es"), noun,
                                measure, chart_title, id + std::to_string(s));
    }
  }

  // Historical revaluation.
  if (r.contains("historical") && r["historical"].is_array() && !r["historical"].empty()) {
    h += "<table id=\"risk-historical\"><tr><th>historical method</th><th>level</th><th>VaR</th><th>ES</th></tr>\n";
    for (const auto& f : r["historical"])
      h += "<tr><td>" + Esc(RiskStr(f, "method")) + "</td><td class=\"num\">" + HtmlNum(RiskNum(f, "level"), 3) +
           "</td><td class=\"num\">" + HtmlNum(RiskNum(f, "var")) + "</td><td class=\"num\">" + HtmlNum(RiskNum(f, "es")) +
           "</td></tr>\n";
    h += "</table>\n";
  }
  return h;
}

// ------------------------------------------------------------ VaR backtest section (issue 24)

Result<std::string> VarBacktestSectionHtml(const Json& r, std::string_view source) {
  const std::string src(source);
  if (!r.is_object() || !r.contains("backtest") || !r["backtest"].is_object() || !r.contains("points") ||
      !r["points"].is_array())
    return InvalidArgumentError(src + ": not a VaR backtest (expected the JSON of `almanac risk var-backtest "
                                      "--format json`, with a 'backtest' object and a 'points' array)");
  const Json& pts = r["points"];
  std::vector<double> var(pts.size()), pnl(pts.size());
  std::vector<bool> exception(pts.size());
  for (size_t i = 0; i < pts.size(); ++i) {
    var[i] = RiskNum(pts[i], "var");
    pnl[i] = RiskNum(pts[i], "pnl");
    if (!std::isfinite(var[i]) || !std::isfinite(pnl[i]))
      return InvalidArgumentError(src + ": points[" + std::to_string(i) + "] needs finite 'var' and 'pnl'");
    exception[i] = pts[i].contains("exception") && pts[i]["exception"].is_boolean() ? pts[i]["exception"].get<bool>()
                                                                                    : pnl[i] < -var[i];
  }
  const Json& b = r["backtest"];
  const std::string zone = RiskStr(b, "zone");
  std::string h = "<h2 id=\"var-backtest\">VaR backtest</h2>\n";
  h += "<p class=\"muted\">From " + Esc(src) + ": the one-step VaR at " + HtmlNum(RiskNum(b, "level") * 100, 1) +
       "% computed at each origin from the data as then known, against the realised P&amp;L of the next period.</p>\n";
  h += "<table id=\"var-backtest-summary\"><tr><th>observations</th><th>exceptions</th><th>expected</th>"
       "<th>Kupiec LR (p)</th><th>independence LR (p)</th><th>conditional coverage LR (p)</th><th>Basel zone</th></tr>\n";
  auto lr = [&](const char* stat, const char* p) {
    return HtmlNum(RiskNum(b, stat), 3) + " (" + HtmlNum(RiskNum(b, p), 3) + ")";
  };
  const char* zone_colour = zone == "green" ? "#2f855a" : zone == "yellow" ? "#b7791f" : zone == "red" ? "#c53030" : "#444";
  h += "<tr><td class=\"num\">" + HtmlNum(RiskNum(b, "observations"), 0) + "</td><td class=\"num\">" +
       HtmlNum(RiskNum(b, "exceptions"), 0) + "</td><td class=\"num\">" + HtmlNum(RiskNum(b, "expected_exceptions"), 2) +
       "</td><td class=\"num\">" + lr("kupiec_lr", "kupiec_p") + "</td><td class=\"num\">" +
       lr("independence_lr", "independence_p") + "</td><td class=\"num\">" +
       lr("conditional_coverage_lr", "conditional_coverage_p") + "</td><td><b style=\"color:" + zone_colour + "\">" +
       Esc(zone.empty() ? std::string("-") : zone) + "</b></td></tr>\n</table>\n";
  if (pts.empty()) return h;
  // The chart: P&L points and the -VaR line over the origins.
  double lo = 0, hi = 0;
  for (size_t i = 0; i < pts.size(); ++i) {
    lo = std::min({lo, pnl[i], -var[i]});
    hi = std::max({hi, pnl[i], -var[i]});
  }
  if (hi - lo <= 0) hi = lo + 1;
  const double w = 640, ht = 220, left = 56, right = 10, top = 10, bottom = 28;
  const double n = static_cast<double>(pts.size());
  auto x = [&](size_t i) { return left + (w - left - right) * (n == 1 ? 0.5 : static_cast<double>(i) / (n - 1)); };
  auto y = [&](double v) { return top + (ht - top - bottom) * (hi - v) / (hi - lo); };
  h += "<svg id=\"var-backtest-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + FormatDouble(w) +
       "\" height=\"" + FormatDouble(ht) + "\" role=\"img\" aria-label=\"Realised P&amp;L against minus the VaR\">\n";
  h += "<title>Realised P&amp;L against minus the VaR</title>\n";
  h += "<line x1=\"" + FormatDouble(left) + "\" y1=\"" + FormatFixed(y(0), 1) + "\" x2=\"" + FormatDouble(w - right) +
       "\" y2=\"" + FormatFixed(y(0), 1) + "\" stroke=\"#a0aec0\"/>\n";
  for (double v : {lo, hi})
    h += "<text x=\"" + FormatDouble(left - 6) + "\" y=\"" + FormatFixed(y(v) + 4, 1) +
         "\" font-size=\"11\" text-anchor=\"end\">" + HtmlNum(v, 1) + "</text>\n";
  std::string line;
  for (size_t i = 0; i < pts.size(); ++i) line += FormatFixed(x(i), 1) + "," + FormatFixed(y(-var[i]), 1) + " ";
  h += "<polyline class=\"minus-var\" points=\"" + line + "\" fill=\"none\" stroke=\"#2d3748\" stroke-width=\"1.5\"/>\n";
  for (size_t i = 0; i < pts.size(); ++i)
    h += "<circle class=\"" + std::string(exception[i] ? "exception" : "pnl") + "\" cx=\"" + FormatFixed(x(i), 1) +
         "\" cy=\"" + FormatFixed(y(pnl[i]), 1) + "\" r=\"3\" fill=\"" + (exception[i] ? "#c53030" : "#3182ce") +
         "\"><title>" + Esc(RiskStr(pts[i], "target")) + ": P&amp;L " + HtmlNum(pnl[i], 2) + ", VaR " +
         HtmlNum(var[i], 2) + "</title></circle>\n";
  const std::string first = RiskStr(pts[0], "target"), last = RiskStr(pts[pts.size() - 1], "target");
  h += "<text x=\"" + FormatDouble(left) + "\" y=\"" + FormatDouble(ht - 8) + "\" font-size=\"11\">" + Esc(first) +
       "</text><text x=\"" + FormatDouble(w - right) + "\" y=\"" + FormatDouble(ht - 8) +
       "\" font-size=\"11\" text-anchor=\"end\">" + Esc(last) + "</text>\n</svg>\n";
  return h;
}

}  // namespace almanac::monitor
