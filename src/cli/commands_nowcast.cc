// almanac nowcast: the dynamic factor model on stored vintages (issue 25; docs/nowcasting.md).
#include "cli/commands_nowcast.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "almanac/models/nowcast.h"
#include "almanac/monitor/news_chart.h"
#include "almanac/store.h"
#include "almanac/tracking.h"
#include "cli/commands_pipeline.h"

namespace almanac::cli {

// The YAML file (docs/nowcasting.md, "Run it"). InvalidArgument naming the file, line and key.
Result<NowcastConfig> ReadNowcastConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read nowcast config " + path);
  std::stringstream text;
  text << in.rdbuf();
  NowcastConfig c;
  try {
    const YAML::Node root = YAML::Load(text.str());
    auto where = [&](const YAML::Node& n) { return path + " line " + std::to_string(n.Mark().line + 1); };
    if (!root.IsMap()) return InvalidArgumentError(path + ": expected a mapping with target, indicators, blocks");
    auto keys = [&](const YAML::Node& n, const std::string& what) -> Result<std::vector<std::string>> {
      if (!n.IsSequence() || n.size() == 0)
        return InvalidArgumentError(where(n) + ": " + what + " must be a non-empty list of series keys");
      std::vector<std::string> out;
      for (const auto& k : n) {
        if (!k.IsScalar() || k.Scalar().empty())
          return InvalidArgumentError(where(k) + ": " + what + " must list series keys");
        out.push_back(k.Scalar());
      }
      return out;
    };
    static const std::set<std::string> kTop = {"target",    "indicators",  "blocks",          "max_iterations",
                                               "tolerance", "standardize", "min_observations"};
    for (const auto& kv : root) {
      const std::string k = kv.first.Scalar();
      if (!kTop.count(k))
        return InvalidArgumentError(where(kv.first) + ": unknown key " + QuoteForMessage(k) +
                                    " (expected target, indicators, blocks, max_iterations, tolerance, "
                                    "standardize, min_observations)");
    }
    if (!root["target"] || !root["target"].IsScalar() || root["target"].Scalar().empty())
      return InvalidArgumentError(path + ": 'target' (the key of the quarterly series) is required");
    c.target = root["target"].Scalar();
    if (!root["indicators"]) return InvalidArgumentError(path + ": 'indicators' (monthly series keys) is required");
    ALMANAC_ASSIGN_OR_RETURN(c.indicators, keys(root["indicators"], "indicators"));
    if (root["blocks"]) {
      const YAML::Node blocks = root["blocks"];
      if (!blocks.IsSequence() || blocks.size() == 0)
        return InvalidArgumentError(where(blocks) + ": blocks must be a non-empty list");
      c.options.blocks.clear();
      static const std::set<std::string> kBlock = {"name", "factors", "order", "variables"};
      for (const auto& b : blocks) {
        if (!b.IsMap()) return InvalidArgumentError(where(b) + ": a block is a mapping (name, factors, order, variables)");
        for (const auto& kv : b)
          if (!kBlock.count(kv.first.Scalar()))
            return InvalidArgumentError(where(kv.first) + ": unknown block key " + QuoteForMessage(kv.first.Scalar()) +
                                        " (expected name, factors, order, variables)");
        models::DfmBlock block;
        if (b["name"]) block.name = b["name"].as<std::string>();
        if (b["factors"]) block.factors = b["factors"].as<int>();
        if (b["order"]) block.order = b["order"].as<int>();
        if (b["variables"]) {
          ALMANAC_ASSIGN_OR_RETURN(block.variables, keys(b["variables"], "block variables"));
        }
        c.options.blocks.push_back(std::move(block));
      }
    }
    if (root["max_iterations"]) c.options.max_iterations = root["max_iterations"].as<int>();
    if (root["tolerance"]) c.options.tolerance = root["tolerance"].as<double>();
    if (root["standardize"]) c.options.standardize = root["standardize"].as<bool>();
    if (root["min_observations"]) c.options.min_observations = root["min_observations"].as<int>();
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(path + ": " + e.what());
  }
  std::set<std::string> seen;
  for (const auto& k : c.indicators)
    if (!seen.insert(k).second) return InvalidArgumentError(path + ": series " + k + " is listed twice");
  if (seen.count(c.target)) return InvalidArgumentError(path + ": the target " + c.target + " is also an indicator");
  return c;
}

// The configured series as known `as_of`: indicators (monthly) then the target (quarterly),
// on one monthly grid through `through`.
Result<models::MixedFrequencyData> ReadNowcastVintage(store::SeriesStore& store, const NowcastConfig& c,
                                                      std::optional<Date> as_of, Period through) {
  const std::string known = as_of ? " known on " + as_of->ToString() : std::string();
  std::vector<std::string> names = c.indicators;
  names.push_back(c.target);
  std::vector<TimeSeries> series;
  for (size_t i = 0; i < names.size(); ++i) {
    const bool is_target = i + 1 == names.size();
    auto ts = store.ReadAsOf(names[i], as_of);
    if (!ts.ok()) {
      if (ts.status().code() == StatusCode::kNotFound)
        return NotFoundError("unknown series " + names[i] + " (" + (is_target ? "target" : "indicator") +
                             " of the nowcast config); 'almanac series list' shows the stored ones");
      return ts.status();
    }
    TimeSeries t = ts->Trimmed();
    if (t.empty()) return NotFoundError("series " + names[i] + " has no observations" + known);
    const Frequency want = is_target ? Frequency::kQuarterly : Frequency::kMonthly;
    if (t.frequency() != want)
      return InvalidArgumentError("series " + names[i] + " has frequency " + std::string(FrequencyCode(t.frequency())) +
                                  "; the " + (is_target ? "target must be quarterly (Q)" : "indicators must be monthly (M)"));
    series.push_back(std::move(t));
  }
  return models::AlignMixedFrequency(names, series, through);
}

namespace {

// `d` on the monthly grid of `size` months from `start` (missing months added; d must fit).
models::MixedFrequencyData Regrid(const models::MixedFrequencyData& d, Period start, int64_t size) {
  models::MixedFrequencyData out = d;
  out.start = start;
  const int64_t offset = d.start.ordinal() - start.ordinal();
  for (size_t i = 0; i < d.values.size(); ++i) {
    std::vector<double> v(static_cast<size_t>(size), std::numeric_limits<double>::quiet_NaN());
    for (int64_t t = 0; t < d.size(); ++t) v[static_cast<size_t>(offset + t)] = d.values[i][static_cast<size_t>(t)];
    out.values[i] = std::move(v);
  }
  return out;
}

std::string Signed(double v) { return (v >= 0 ? "+" : "") + FormatDouble(v); }

// A news item's period in its variable's frequency (a quarterly release: its quarter).
std::string ReleasePeriod(const models::MixedFrequencyData& d, const models::NewsItem& item) {
  for (int i = 0; i < d.num_vars(); ++i)
    if (d.names[static_cast<size_t>(i)] == item.variable && d.quarterly[static_cast<size_t>(i)])
      return item.period.Convert(Frequency::kQuarterly).ToString();
  return item.period.ToString();
}

// A "variable@period" of NewsDecomposition::revised with a quarterly variable's month shown as
// its quarter ("gdp@2023-09" -> "gdp@2023Q3").
std::string Revised(const models::MixedFrequencyData& d, const std::string& text) {
  const size_t at = text.rfind('@');
  if (at == std::string::npos) return text;
  const std::string name = text.substr(0, at);
  for (int i = 0; i < d.num_vars(); ++i)
    if (d.names[static_cast<size_t>(i)] == name && d.quarterly[static_cast<size_t>(i)]) {
      auto p = Period::Parse(text.substr(at + 1));
      if (p.ok()) return name + "@" + p->Convert(Frequency::kQuarterly).ToString();
    }
  return text;
}

int Fail(const Status& s, const std::string& context) { return ReportError(s.WithContext(context)); }

// A tracked run of the nowcast (--experiment): the settings as params, the nowcast (and the
// news totals) as metrics, the fitted model as the artifact "model.json". Returns the run id.
Result<std::string> TrackRun(const GlobalOptions& g, Env& env, const NowcastArgs& a, const NowcastConfig& c,
                             const std::string& quarter, const models::DynamicFactorModel& model,
                             const models::Nowcast& now, const models::NewsDecomposition* news) {
  tracking::Tracker tracker(env.ws->store().metadata(), *env.artifacts, SystemClock());
  ALMANAC_ASSIGN_OR_RETURN(store::RunRecord run, tracker.StartRun({.experiment = a.experiment, .user = g.user}));
  auto record = [&]() -> Status {
    std::string indicators;
    for (const auto& k : c.indicators) indicators += (indicators.empty() ? "" : ",") + k;
    Json blocks = Json::array();
    for (const auto& b : c.options.blocks)
      blocks.push_back({{"name", b.name}, {"factors", b.factors}, {"order", b.order}, {"variables", b.variables}});
    ALMANAC_RETURN_IF_ERROR(tracker.LogParams(
        run.id, {{"command", "nowcast"},
                 {"config", a.config},
                 {"target", c.target},
                 {"indicators", indicators},
                 {"blocks", blocks.dump()},
                 {"max_iterations", std::to_string(c.options.max_iterations)},
                 {"tolerance", FormatDouble(c.options.tolerance)},
                 {"standardize", c.options.standardize ? "true" : "false"},
                 {"quarter", quarter},
                 {"as_of", a.as_of},
                 {"compare_as_of", a.compare_as_of}}));
    std::vector<store::MetricPoint> m = {{"nowcast", 0, now.value, 0},
                                         {"nowcast_std_error", 0, now.std_error, 0},
                                         {"loglik", 0, model.report().loglik, 0},
                                         {"em_iterations", 0, static_cast<double>(model.report().iterations), 0}};
    if (news != nullptr) {
      m.push_back({"news_old_value", 0, news->old_value, 0});
      m.push_back({"news_revision_impact", 0, news->revision_impact, 0});
      m.push_back({"news_news_impact", 0, news->news_impact, 0});
    }
    ALMANAC_RETURN_IF_ERROR(tracker.LogMetrics(run.id, std::move(m)));
    return tracker.LogArtifact(run.id, "model.json", model.ToJson().dump(), "model").status();
  };
  if (Status s = record(); !s.ok()) {
    (void)tracker.FinishRun(run.id, store::RunStatus::kFailed, s.message());
    return s;
  }
  ALMANAC_RETURN_IF_ERROR(tracker.FinishRun(run.id, store::RunStatus::kFinished, ""));
  return run.id;
}

}  // namespace

int RunNowcast(const GlobalOptions& g, const NowcastArgs& a) {
  auto config = ReadNowcastConfig(a.config);
  if (!config.ok()) return ReportError(config.status());
  auto as_of = ParseAsOfOption(a.as_of);
  if (!as_of.ok()) return ReportError(as_of.status());
  std::optional<Date> compare;
  if (!a.compare_as_of.empty()) {
    auto d = ParseAsOfDate(a.compare_as_of, SystemClock(), "--compare-as-of");
    if (!d.ok()) return ReportError(d.status());
    const Date newer = as_of->value_or(SystemClock().Today());
    if (!(*d < newer))
      return ReportError(InvalidArgumentError("--compare-as-of " + d->ToString() +
                                              " must be before the vintage of the nowcast (" + newer.ToString() + ")"));
    compare = *d;
  }
  if (!a.chart.empty() && !compare) {
    return ReportError(InvalidArgumentError("--chart draws the news of an update: it needs --compare-as-of DATE"));
  }
  Period quarter{Frequency::kQuarterly, 0};
  if (!a.quarter.empty()) {
    auto q = Period::Parse(a.quarter);
    if (!q.ok()) return ReportError(q.status().WithContext("--quarter"));
    if (q->frequency() != Frequency::kQuarterly)
      return ReportError(InvalidArgumentError("--quarter " + QuoteForMessage(a.quarter) + " is not a quarter (e.g. 2024Q1)"));
    quarter = *q;
  } else {
    auto q = Period::FromDate(as_of->value_or(SystemClock().Today()), Frequency::kQuarterly);
    if (!q.ok()) return ReportError(q.status());
    quarter = *q;
  }
  const Period through = quarter.Convert(Frequency::kMonthly, Anchor::kEnd);

  // With --experiment the run is recorded, which needs the artifact store (and the write lock).
  std::unique_ptr<Env> env;
  if (!a.experiment.empty()) {
    auto e = OpenEnv(g, true);
    if (!e.ok()) return ReportError(e.status());
    env = std::move(*e);
  } else {
    auto ws = Workspace::Open(g.workspace);
    if (!ws.ok()) return ReportError(ws.status());
    env = std::make_unique<Env>();
    env->ws = std::move(*ws);
  }
  store::SeriesStore& series = env->ws->store().series();
  auto data = ReadNowcastVintage(series, *config, *as_of, through);
  if (!data.ok()) return ReportError(data.status());
  std::optional<models::MixedFrequencyData> old_data;
  if (compare) {
    auto d = ReadNowcastVintage(series, *config, compare, through);
    if (!d.ok()) return Fail(d.status(), "--compare-as-of " + compare->ToString());
    // One grid for both vintages: from the earlier start to the later end.
    const Period start = std::min(d->start, data->start);
    const Period end = std::max(d->start + (d->size() - 1), data->start + (data->size() - 1));
    const int64_t size = end.ordinal() - start.ordinal() + 1;
    *data = Regrid(*data, start, size);
    old_data = Regrid(*d, start, size);
  }

  auto model = models::DynamicFactorModel::Fit(*data, config->options);
  if (!model.ok()) return Fail(model.status(), "nowcast config " + a.config);
  auto now = model->NowcastOf(*data, config->target, quarter);
  if (!now.ok()) return ReportError(now.status());
  std::optional<models::NewsDecomposition> news;
  if (old_data) {
    auto n = model->News(*old_data, *data, config->target, quarter);
    if (!n.ok()) return ReportError(n.status());
    news = std::move(*n);
  }

  Json news_json;
  if (news) {
    Json revised = Json::array();
    for (const auto& r : news->revised) revised.push_back(Revised(*data, r));
    Json releases = Json::array();
    for (const auto& it : news->items)
      releases.push_back({{"series", it.variable},
                          {"period", ReleasePeriod(*data, it)},
                          {"actual", it.observed},
                          {"forecast", it.forecast},
                          {"news", it.news},
                          {"weight", it.weight},
                          {"impact", it.impact}});
    news_json = {{"compare_as_of", compare->ToString()},
                 {"old_value", news->old_value},
                 {"new_value", news->new_value},
                 {"change", news->new_value - news->old_value},
                 {"revision_impact", news->revision_impact},
                 {"news_impact", news->news_impact},
                 {"revised", revised},
                 {"releases", releases}};
  }
  if (!a.chart.empty()) {  // the news chart of this update (include/almanac/monitor/news_chart.h)
    auto svg = monitor::NewsChartSvg(news_json, config->target + " " + quarter.ToString() + ": news since " +
                                                    compare->ToString() + " (data as known on " +
                                                    (*as_of ? (*as_of)->ToString() : std::string("latest")) + ")");
    if (!svg.ok()) return ReportError(svg.status());
    std::ofstream chart(a.chart, std::ios::binary);
    chart << *svg;
    if (!chart.flush()) return ReportError(UnavailableError("--chart: cannot write " + a.chart));
  }

  // Recorded after everything that can fail, so a failed command stores nothing.
  std::string run_id;
  if (env->artifacts) {
    auto id = TrackRun(g, *env, a, *config, quarter.ToString(), *model, *now, news ? &*news : nullptr);
    if (!id.ok()) return Fail(id.status(), "recording the run in experiment " + a.experiment);
    run_id = *id;
  }

  const auto& report = model->report();
  if (!g.quiet)
    for (const auto& note : report.notes) std::cerr << "  note: " << note << "\n";
  const std::string vintage = *as_of ? (*as_of)->ToString() : std::string("latest");
  const std::string span = data->start.ToString() + ".." + (data->start + (data->size() - 1)).ToString();
  if (g.format == OutputFormat::kJson) {
    Json out = {{"target", config->target},
                {"quarter", quarter.ToString()},
                {"as_of", *as_of ? Json((*as_of)->ToString()) : Json(nullptr)},
                {"nowcast", {{"value", now->value}, {"std_error", now->std_error}}},
                {"model",
                 {{"variables", data->names},
                  {"factors", model->params().factors},
                  {"sample", span},
                  {"iterations", report.iterations},
                  {"converged", report.converged},
                  {"loglik", report.loglik},
                  {"notes", report.notes}}}};
    if (!run_id.empty()) out["run_id"] = run_id;
    if (news) out["news"] = news_json;
    std::cout << PrettyJson(out) << "\n";
    return kExitOk;
  }
  std::cout << "nowcast of " << config->target << " " << quarter.ToString() << " (data as known on " << vintage
            << "): " << FormatDouble(now->value) << "  std error " << FormatDouble(now->std_error) << "\n";
  std::cout << "model: " << data->num_vars() << " series, " << span << ", factors "
            << model->params().factors.size() << ", EM " << report.iterations << " iterations ("
            << (report.converged ? "converged" : "not converged") << "), loglik " << FormatDouble(report.loglik)
            << "\n";
  if (!run_id.empty()) std::cout << "run: " << run_id << " (experiment " << a.experiment << ")\n";
  if (news) {
    std::cout << "\nchange since " << compare->ToString() << ": " << FormatDouble(news->old_value) << " -> "
              << FormatDouble(news->new_value) << " (" << Signed(news->new_value - news->old_value)
              << ") = revisions " << Signed(news->revision_impact) << " + news " << Signed(news->news_impact) << "\n";
    if (!news->revised.empty()) {
      std::cout << "revised:";
      for (const auto& r : news->revised) std::cout << " " << Revised(*data, r);
      std::cout << "\n";
    }
    std::cout << "\n";
    Table t;
    t.columns = {"series", "period", "actual", "forecast", "news", "weight", "impact"};
    for (const auto& it : news->items)
      t.Add({it.variable, ReleasePeriod(*data, it), it.observed, it.forecast, it.news, it.weight, it.impact});
    Print(std::cout, t, g.format);
  }
  return kExitOk;
}

}  // namespace almanac::cli
