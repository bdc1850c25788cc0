// runs commands: tracked runs (list, show, compare).
#include <iostream>
#include <map>

#include "almanac/pipeline.h"
#include "almanac/tracking.h"
#include "cli/commands_registry.h"

namespace almanac::cli {

int RunRunsList(const GlobalOptions& g, const RunsListArgs& a) {
  auto env = OpenEnv(g, false);
  if (!env.ok()) return ReportError(env.status());
  store::RunFilter f{a.experiment, a.pipeline, std::nullopt, a.limit};
  if (!a.status.empty()) {
    auto s = store::ParseRunStatus(a.status);
    if (!s.ok()) return ReportError(s.status());
    f.status = *s;
  }
  tracking::Tracker tracker((*env)->ws->store().metadata(), *(*env)->artifacts, SystemClock());
  // Runs whose process died show as killed, not running.
  if (auto reaped = tracker.ReapDeadRuns(); !reaped.ok()) return ReportError(reaped.status());
  auto runs = tracker.ListRuns(f);
  if (!runs.ok()) return ReportError(runs.status());
  // Why each run happened, from its tags: schedule, on_new_data, catchup or backfill (with
  // the as-of date it used), "task N" for a queued run ("backfill DATE (task N)"), "" for `almanac run`.
  auto triggers = (*env)->ws->store().metadata().Transact<std::vector<std::string>>(
      [&](store::MetadataTxn& x) -> Result<std::vector<std::string>> {
        std::vector<std::string> out;
        for (const auto& r : *runs) {
          ALMANAC_ASSIGN_OR_RETURN(auto tags, x.GetTags(r.id));
          std::string trigger, as_of, task;
          for (const auto& [k, v] : tags) {
            if (k == pipeline::kTagTrigger) trigger = v;
            if (k == pipeline::kTagAsOf) as_of = v;
            if (k == "almanac.task") task = v;
          }
          std::string shown = trigger + (as_of.empty() ? "" : " " + as_of);
          if (!task.empty()) shown += shown.empty() ? "task " + task : " (task " + task + ")";
          out.push_back(shown);
        }
        return out;
      });
  if (!triggers.ok()) return ReportError(triggers.status());
  Table t{{"run", "experiment", "pipeline", "status", "start", "seconds", "user", "snapshot", "reproduces", "trigger"}, {}};
  for (size_t i = 0; i < runs->size(); ++i) {
    const auto& r = (*runs)[i];
    t.Add({r.id, r.experiment, r.pipeline, std::string(store::RunStatusName(r.status)), Ts(r.start_time),
           r.end_time ? Json((r.end_time - r.start_time) / 1e6) : Json(nullptr), r.user,
           g.format == OutputFormat::kTable ? ShortId(r.snapshot_id) : r.snapshot_id, r.reproduces, (*triggers)[i]});
  }
  Print(std::cout, t, g.format);
  return kExitOk;
}

int RunRunsShow(const GlobalOptions& g, const std::string& run_id) {
  auto env = OpenEnv(g, false);
  if (!env.ok()) return ReportError(env.status());
  tracking::Tracker tracker((*env)->ws->store().metadata(), *(*env)->artifacts, SystemClock());
  auto d = tracker.GetRun(run_id);
  if (!d.ok()) return ReportError(d.status());
  const auto& r = d->run;
  std::vector<std::pair<std::string, Json>> f = {
      {"run", r.id}, {"experiment", r.experiment}, {"pipeline", r.pipeline}, {"status", std::string(store::RunStatusName(r.status))},
      {"start", Ts(r.start_time)}, {"end", Ts(r.end_time)}, {"user", r.user}, {"host", r.host},
      {"pipeline_sha256", r.pipeline_hash}, {"snapshot", r.snapshot_id}, {"git_commit", r.git_commit},
      {"almanac_version", r.almanac_version}, {"seed", r.seed}};
  if (!r.error.empty()) f.emplace_back("error", r.error);
  if (!r.reproduces.empty()) f.emplace_back("reproduces", r.reproduces);
  if (g.format == OutputFormat::kJson) {
    Json j = Json::object();
    for (auto& [k, v] : f) j[k] = v;
    j["params"] = Json::object();
    for (const auto& [k, v] : d->params) j["params"][k] = v;
    j["metrics"] = Json::object();
    for (const auto& [k, v] : d->latest_metrics) j["metrics"][k] = v;
    j["tags"] = Json::object();
    for (const auto& [k, v] : d->tags) j["tags"][k] = v;
    j["artifacts"] = Json::array();
    for (const auto& a : d->artifacts) j["artifacts"].push_back({{"name", a.name}, {"label", a.kind}, {"sha256", a.sha256}, {"size", a.size}});
    std::cout << PrettyJson(j) << "\n";
    return kExitOk;
  }
  PrintRecord(std::cout, f, g.format);
  Table params{{"param", "value"}, {}};
  for (const auto& [k, v] : d->params) params.Add({k, v});
  Table metrics{{"metric", "value"}, {}};
  for (const auto& [k, v] : d->latest_metrics)
    if (k.find(".by_origin") == std::string::npos) metrics.Add({k, v});
  Table arts{{"artifact", "sha256", "bytes"}, {}};
  for (const auto& a : d->artifacts) arts.Add({a.kind, a.sha256, a.size});
  std::cout << "\n";
  Print(std::cout, params, g.format);
  std::cout << "\n";
  Print(std::cout, metrics, g.format);
  std::cout << "\n";
  Print(std::cout, arts, g.format);
  return kExitOk;
}

int RunRunsCompare(const GlobalOptions& g, const std::vector<std::string>& run_ids) {
  if (run_ids.size() < 2) return ReportError(InvalidArgumentError("runs compare needs at least two run ids"));
  auto env = OpenEnv(g, false);
  if (!env.ok()) return ReportError(env.status());
  tracking::Tracker tracker((*env)->ws->store().metadata(), *(*env)->artifacts, SystemClock());
  std::vector<tracking::RunDetails> runs;
  for (const auto& id : run_ids) {
    auto d = tracker.GetRun(id);
    if (!d.ok()) return ReportError(d.status());
    runs.push_back(std::move(*d));
  }
  Table t{{"kind", "name"}, {}};
  for (const auto& r : runs) t.columns.push_back(r.run.id);
  t.columns.push_back("differs");
  std::map<std::string, std::vector<Json>> params, metrics;
  for (size_t i = 0; i < runs.size(); ++i) {
    for (const auto& [k, v] : runs[i].params) params[k].resize(runs.size()), params[k][i] = v;
    for (const auto& [k, v] : runs[i].latest_metrics)
      if (k.find(".by_origin") == std::string::npos) metrics[k].resize(runs.size()), metrics[k][i] = v;
  }
  auto add = [&](const std::string& kind, const std::map<std::string, std::vector<Json>>& m) {
    for (const auto& [k, vals] : m) {
      std::vector<Json> row{kind, k};
      std::vector<Json> padded = vals;
      padded.resize(runs.size());
      bool differs = false;
      for (const auto& v : padded) {
        row.push_back(v);
        if (v != padded[0]) differs = true;
      }
      row.push_back(differs ? "*" : "");
      t.Add(std::move(row));
    }
  };
  std::map<std::string, std::vector<Json>> info;
  for (size_t i = 0; i < runs.size(); ++i) {
    auto put = [&](const std::string& k, const Json& v) {
      info[k].resize(runs.size());
      info[k][i] = v;
    };
    put("snapshot", runs[i].run.snapshot_id);
    put("pipeline_sha256", runs[i].run.pipeline_hash);
    put("almanac_version", runs[i].run.almanac_version);
    put("status", std::string(store::RunStatusName(runs[i].run.status)));
  }
  add("run", info);
  add("param", params);
  add("metric", metrics);
  Print(std::cout, t, g.format);
  return kExitOk;
}

}  // namespace almanac::cli
