// runs, models and lineage commands: tracked runs, the registry with its four-eyes
// promotions and the lineage of a version (the audit log: commands_audit.cc).
#include "cli/commands_registry.h"

#include <fstream>
#include <iostream>
#include <map>

#include "almanac/registry.h"
#include "almanac/tracking.h"

namespace almanac::cli {
namespace {

// "gdp@3" or ("gdp", "3").
Result<std::pair<std::string, int64_t>> ParseRef(const std::string& ref, const std::string& version) {
  std::string name = ref, v = version;
  const size_t at = ref.find('@');
  if (at != std::string::npos) {
    name = ref.substr(0, at);
    v = ref.substr(at + 1);
  }
  if (v.empty()) return InvalidArgumentError("name a version: MODEL@VERSION (e.g. gdp@3)");
  auto n = ParseInt(v);
  if (!n.ok() || *n < 1) return InvalidArgumentError("version " + QuoteForMessage(v) + " is not a positive number");
  return std::make_pair(name, *n);
}

void PrintPromotion(const GlobalOptions& g, const registry::PromotionResult& p, const std::string& model) {
  std::vector<std::pair<std::string, Json>> f = {
      {"model", model},
      {"version", p.version.version},
      {"stage", std::string(store::StageName(p.version.stage))},
      {"applied", p.applied},
      {"needs_approval", p.needs_approval}};
  if (p.request.id != 0) {
    f.emplace_back("request", p.request.id);
    f.emplace_back("request_status", std::string(store::RequestStatusName(p.request.status)));
    f.emplace_back("requested_by", p.request.requested_by);
    if (!p.request.decided_by.empty()) f.emplace_back("decided_by", p.request.decided_by);
  }
  if (p.replaced) f.emplace_back("archived_version", p.replaced->version);
  PrintRecord(std::cout, f, g.format);
}

}  // namespace

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

int RunModelsList(const GlobalOptions& g) {
  auto env = OpenEnv(g, false);
  if (!env.ok()) return ReportError(env.status());
  registry::Registry reg((*env)->ws->store(), SystemClock());
  auto models = reg.ListModels();
  if (!models.ok()) return ReportError(models.status());
  Table t{{"model", "owner", "production", "staging", "versions", "four_eyes", "description"}, {}};
  for (const auto& m : *models) {
    auto versions = reg.ListVersions(m.name);
    Json prod = nullptr, staging = nullptr;
    size_t n = 0;
    if (versions.ok()) {
      n = versions->size();
      for (const auto& v : *versions) {
        if (v.stage == store::Stage::kProduction) prod = v.version;
        if (v.stage == store::Stage::kStaging) staging = v.version;
      }
    }
    t.Add({m.name, m.owner, prod, staging, n, m.policy.value("four_eyes", true), m.description});
  }
  Print(std::cout, t, g.format);
  return kExitOk;
}

int RunModelsShow(const GlobalOptions& g, const std::string& name) {
  auto env = OpenEnv(g, false);
  if (!env.ok()) return ReportError(env.status());
  registry::Registry reg((*env)->ws->store(), SystemClock());
  auto m = reg.GetModel(name);
  if (!m.ok()) return ReportError(m.status());
  PrintRecord(std::cout, {{"model", m->name}, {"owner", m->owner}, {"description", m->description}, {"policy", m->policy},
                          {"card", m->card}, {"created_at", Ts(m->created_at)}, {"created_by", m->created_by}},
              g.format);
  return kExitOk;
}

int RunModelsVersions(const GlobalOptions& g, const std::string& name) {
  auto env = OpenEnv(g, false);
  if (!env.ok()) return ReportError(env.status());
  registry::Registry reg((*env)->ws->store(), SystemClock());
  auto versions = reg.ListVersions(name);
  if (!versions.ok()) return ReportError(versions.status());
  Table t{{"version", "stage", "run", "snapshot", "metrics", "created_at", "created_by", "package_sha256"}, {}};
  for (const auto& v : *versions)
    t.Add({v.version, std::string(store::StageName(v.stage)), v.run_id,
           g.format == OutputFormat::kTable ? ShortId(v.snapshot_id) : v.snapshot_id, CompactJson(v.metrics), Ts(v.created_at),
           v.created_by, g.format == OutputFormat::kTable ? ShortId(v.artifact_sha256) : v.artifact_sha256});
  Print(std::cout, t, g.format);
  return kExitOk;
}

int RunModelsPromote(const GlobalOptions& g, const PromoteArgs& a) {
  auto ref = ParseRef(a.ref, a.version);
  if (!ref.ok()) return ReportError(ref.status());
  auto stage = store::ParseStage(a.to);
  if (!stage.ok()) return ReportError(stage.status().WithContext("--to"));
  auto env = OpenEnv(g, true);
  if (!env.ok()) return ReportError(env.status());
  registry::Registry reg((*env)->ws->store(), SystemClock());
  auto p = reg.Promote(ref->first, ref->second, *stage, g.user, a.reason);
  if (!p.ok()) return ReportError(p.status());
  PrintPromotion(g, *p, ref->first);
  if (p->needs_approval && !g.quiet)
    std::cerr << "promotion of " << ref->first << "@" << ref->second
              << " to production waits for approval by someone other than " << g.user << " (almanac models approve "
              << ref->first << "@" << ref->second << ")\n";
  return kExitOk;
}

int RunModelsApprove(const GlobalOptions& g, const PromoteArgs& a, bool approve) {
  auto ref = ParseRef(a.ref, a.version);
  if (!ref.ok()) return ReportError(ref.status());
  auto env = OpenEnv(g, true);
  if (!env.ok()) return ReportError(env.status());
  registry::Registry reg((*env)->ws->store(), SystemClock());
  auto p = approve ? reg.Approve(ref->first, ref->second, g.user, a.reason) : reg.Reject(ref->first, ref->second, g.user, a.reason);
  if (!p.ok()) return ReportError(p.status());
  PrintPromotion(g, *p, ref->first);
  return kExitOk;
}

int RunModelsRollback(const GlobalOptions& g, const std::string& name, const std::string& reason) {
  auto env = OpenEnv(g, true);
  if (!env.ok()) return ReportError(env.status());
  registry::Registry reg((*env)->ws->store(), SystemClock());
  auto p = reg.Rollback(name, g.user, reason);
  if (!p.ok()) return ReportError(p.status());
  PrintPromotion(g, *p, name);
  return kExitOk;
}

int RunModelsCard(const GlobalOptions& g, const std::string& name, const std::vector<std::string>& fields) {
  Json card = Json::object();
  for (const auto& f : fields) {
    const size_t eq = f.find('=');
    if (eq == std::string::npos || eq == 0) return ReportError(InvalidArgumentError("--set " + QuoteForMessage(f) + ": expected FIELD=TEXT"));
    card[f.substr(0, eq)] = f.substr(eq + 1);
  }
  auto env = OpenEnv(g, !card.empty());
  if (!env.ok()) return ReportError(env.status());
  registry::Registry reg((*env)->ws->store(), SystemClock());
  auto m = card.empty() ? reg.GetModel(name) : reg.UpdateCard(name, card, g.user);
  if (!m.ok()) return ReportError(m.status());
  std::vector<std::pair<std::string, Json>> out;
  for (auto it = m->card.begin(); it != m->card.end(); ++it) out.emplace_back(it.key(), it.value());
  PrintRecord(std::cout, out, g.format);
  return kExitOk;
}

int RunModelsExport(const GlobalOptions& g, const std::string& ref_text, const std::string& output) {
  const size_t at = ref_text.find('@');
  const std::string name = ref_text.substr(0, at);
  const std::string which = at == std::string::npos ? "production" : ref_text.substr(at + 1);
  auto env = OpenEnv(g, false);
  if (!env.ok()) return ReportError(env.status());
  registry::Registry reg((*env)->ws->store(), SystemClock());
  auto v = reg.Resolve(name, which);
  if (!v.ok()) return ReportError(v.status());
  // Read through the artifact store: the bytes are checked against the registered SHA-256.
  auto bytes = (*env)->artifacts->Get(v->artifact_name, v->artifact_sha256);
  if (!bytes.ok()) return ReportError(bytes.status());
  auto package = registry::ParsePackage(*bytes);
  if (!package.ok()) return ReportError(package.status());
  if (output.empty() || output == "-") {
    std::cout << *bytes << "\n";
  } else {
    std::ofstream out(output, std::ios::binary);
    out << *bytes;
    if (!out) return ReportError(PermissionDeniedError("cannot write " + output));
    if (!g.quiet)
      std::cerr << "wrote " << name << "@" << v->version << " (" << package->manifest.model_type << ", sha256 "
                << v->artifact_sha256 << ") to " << output << "\n";
  }
  return kExitOk;
}

int RunLineage(const GlobalOptions& g, const std::string& ref_text) {
  auto ref = ParseRef(ref_text, "");
  if (!ref.ok()) return ReportError(ref.status());
  auto env = OpenEnv(g, false);
  if (!env.ok()) return ReportError(env.status());
  registry::Registry reg((*env)->ws->store(), SystemClock());
  auto l = reg.GetLineage(ref->first, ref->second);
  if (!l.ok()) return ReportError(l.status());
  if (g.format == OutputFormat::kJson) {
    Json vintages = Json::array();
    for (const auto& v : l->vintages)
      vintages.push_back({{"series", v.series_key}, {"vintage", v.id}, {"realtime_start", v.realtime_start.ToString()},
                          {"loaded_at", Ts(v.loaded_at)}, {"source", v.source}, {"source_sha256", v.source_hash}});
    Json approvals = Json::array();
    for (const auto& a : l->approvals)
      approvals.push_back({{"request", a.id}, {"target", std::string(store::StageName(a.target))}, {"requested_by", a.requested_by},
                           {"requested_at", Ts(a.requested_at)}, {"reason", a.reason},
                           {"status", std::string(store::RequestStatusName(a.status))}, {"decided_by", a.decided_by},
                           {"decided_at", Ts(a.decided_at)}, {"decision_reason", a.decision_reason}});
    Json artifacts = Json::array();
    for (const auto& a : l->artifacts) artifacts.push_back({{"label", a.kind}, {"name", a.name}, {"sha256", a.sha256}});
    Json audit = Json::array();
    for (const auto& e : l->audit)
      audit.push_back({{"seq", e.seq}, {"time", Ts(e.timestamp)}, {"actor", e.event.actor}, {"action", e.event.action},
                       {"object", e.event.object_type + ":" + e.event.object_id}, {"hash", e.hash}});
    std::cout << PrettyJson({{"model", l->model.name},
                             {"version", l->version.version},
                             {"stage", std::string(store::StageName(l->version.stage))},
                             {"package", {{"name", l->version.artifact_name}, {"sha256", l->version.artifact_sha256}}},
                             {"run", {{"id", l->run.id}, {"pipeline", l->run.pipeline}, {"pipeline_sha256", l->run.pipeline_hash},
                                      {"git_commit", l->run.git_commit}, {"almanac_version", l->run.almanac_version},
                                      {"user", l->run.user}, {"host", l->run.host}, {"start", Ts(l->run.start_time)}}},
                             {"snapshot", l->snapshot ? Json({{"id", l->snapshot->id}, {"name", l->snapshot->name},
                                                              {"as_of", l->snapshot->as_of ? Json(l->snapshot->as_of->ToString()) : Json(nullptr)}})
                                                      : Json(nullptr)},
                             {"vintages", vintages}, {"artifacts", artifacts}, {"approvals", approvals}, {"audit", audit}})
              << "\n";
    return kExitOk;
  }
  std::cout << "lineage of " << l->model.name << "@" << l->version.version << " (" << store::StageName(l->version.stage) << ")\n\n";
  std::cout << "1. data vintages\n";
  for (const auto& v : l->vintages)
    std::cout << "   " << v.series_key << " vintage " << v.id << ": known from " << v.realtime_start.ToString() << ", loaded "
              << FormatTimestamp(v.loaded_at) << " from " << v.source << " (sha256 " << ShortId(v.source_hash) << ")\n";
  std::cout << "2. snapshot\n";
  if (l->snapshot)
    std::cout << "   " << l->snapshot->name << " " << l->snapshot->id << " as of "
              << (l->snapshot->as_of ? l->snapshot->as_of->ToString() : std::string("latest")) << "\n";
  else
    std::cout << "   " << l->version.snapshot_id << "\n";
  std::cout << "3. run\n   " << l->run.id << " of pipeline " << l->run.pipeline << " by " << l->run.user << " on " << l->run.host
            << " at " << FormatTimestamp(l->run.start_time) << "\n   pipeline sha256 " << l->run.pipeline_hash << ", git "
            << (l->run.git_commit.empty() ? "-" : l->run.git_commit) << ", almanac " << l->run.almanac_version << ", seed "
            << l->run.seed << "\n";
  std::cout << "4. artifacts\n";
  for (const auto& a : l->artifacts) std::cout << "   " << a.kind << " sha256 " << a.sha256 << "\n";
  std::cout << "5. version\n   " << l->model.name << "@" << l->version.version << " package " << l->version.artifact_name
            << " (sha256 " << l->version.artifact_sha256 << "), registered by " << l->version.created_by << " at "
            << FormatTimestamp(l->version.created_at) << "\n";
  std::cout << "6. approvals\n";
  if (l->approvals.empty()) std::cout << "   none\n";
  for (const auto& a : l->approvals)
    std::cout << "   request " << a.id << ": " << store::StageName(a.target) << " requested by " << a.requested_by << " ("
              << a.reason << "), " << store::RequestStatusName(a.status)
              << (a.decided_by.empty() ? "" : " by " + a.decided_by + " (" + a.decision_reason + ")") << "\n";
  std::cout << "7. audit entries\n";
  for (const auto& e : l->audit)
    std::cout << "   #" << e.seq << " " << FormatTimestamp(e.timestamp) << " " << e.event.actor << " " << e.event.action << " "
              << e.event.object_id << "\n";
  return kExitOk;
}

}  // namespace almanac::cli
