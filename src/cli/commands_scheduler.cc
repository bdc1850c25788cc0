// scheduler command: pipelines and source loads on their cron schedules (pipeline::RunScheduler),
// with the process's metrics endpoint and audit anchoring.
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "almanac/monitor.h"
#include "almanac/pipeline.h"
#include "cli/audit_anchoring.h"
#include "cli/commands_pipeline.h"

namespace almanac::cli {

int RunSchedulerCommand(const GlobalOptions& g, const SchedulerArgs& a) {
  auto env = OpenEnv(g, false);
  if (!env.ok()) return ReportError(env.status());
  pipeline::SchedulerOptions so;
  so.pipeline_files = a.files;
  so.load_files = a.sources;
  so.load_max_retries = a.load_retries;
  so.fire_now = a.now;
  {
    store::Store* st = &(*env)->ws->store();
    char host[256] = {0};
    ::gethostname(host, sizeof host - 1);
    const std::string holder = std::string(host) + ":" + std::to_string(::getpid());
    so.claim = [st, holder](const std::string& name, int64_t fired_at) {
      return st->metadata().Transact<bool>(
          [&](store::MetadataTxn& t) { return t.ClaimScheduledRun(name, fired_at, holder); });
    };
  }
  if ((*env)->ws->shared()) {
    store::Store* st = &(*env)->ws->store();
    // Loads arrive as "load:SOURCE" and keep that lock name; pipelines share `almanac run`'s.
    so.lock = [st](const std::string& name) { return st->TryLock(name.rfind("load:", 0) == 0 ? name : "pipeline:" + name); };
  } else {
    so.lock_dir = (*env)->ws->path() + "/locks";
    std::filesystem::create_directories(so.lock_dir);
  }
  so.max_runs = a.max_runs;
  so.run_for_ms = static_cast<int64_t>(a.run_for_s * 1000);
  so.retry_base_ms = a.retry_base_ms;
  so.user = g.user;
  store::Store* st = &(*env)->ws->store();
  store::ArtifactStore* arts = (*env)->artifacts.get();
  auto mon = StartProcessMonitoring(g, "almanac-scheduler", a.metrics, st,
                                    [st, arts] { return monitor::EvaluateProductionAccuracy(*st, *arts, ""); });
  if (!mon.ok()) return ReportError(mon.status());
  ProcessMonitoring& m = **mon;
  auto anchoring = StartPeriodicAnchoring(g, *st, m.log());
  if (!anchoring.ok()) return ReportError(anchoring.status());
  so.log = [&m](const std::string& line) { m.log().Line(line); };
  so.on_queue = [&m](int64_t waiting) { m.pipeline().SetQueueDepth("scheduled", waiting); };
  so.on_load = [&m](const pipeline::ScheduledRun& load, double seconds, const data::SourceLoadResult*) {
    m.pipeline().LoadFinished(load.source, load.outcome, seconds, SystemClock().NowMicros());
  };
  so.on_run = [&m](const pipeline::ScheduledRun& run, double seconds, const pipeline::RunResult* result) {
    const char* outcome = run.skipped ? "skipped" : run.status == store::RunStatus::kFinished ? "success" : "failure";
    if (result != nullptr)
      for (const auto& step : result->steps)
        m.pipeline().StepFinished(run.pipeline, step.step, step.cached ? "cached" : "computed", step.seconds);
    m.pipeline().RunFinished(run.pipeline, outcome, seconds, SystemClock().NowMicros());
  };
  auto history = pipeline::RunScheduler((*env)->env(), so);
  if (!history.ok()) return ReportError(history.status());
  // Loads show their outcome and load id; triggered runs name the load that triggered them.
  Table t{{"job", "fired_at", "attempts", "run", "status", "error", "triggered_by"}, {}};
  for (const auto& h : *history) {
    if (h.kind == "load") {
      t.Add({"load:" + h.source, Ts(h.fired_at), h.attempts, h.load_id > 0 ? "load " + std::to_string(h.load_id) : std::string(),
             h.outcome, h.error, std::string()});
    } else {
      t.Add({h.pipeline, Ts(h.fired_at), h.attempts, h.run_id,
             h.skipped ? "skipped" : std::string(store::RunStatusName(h.status)), h.error, h.triggered_by});
    }
  }
  Print(std::cout, t, g.format);
  return kExitOk;
}

}  // namespace almanac::cli
