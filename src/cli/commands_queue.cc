// submit, worker and tasks commands.
#include "cli/commands_queue.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <mutex>
#include <thread>

#include "almanac/pipeline.h"
#include "cli/audit_anchoring.h"
#include "cli/commands_pipeline.h"
#include "cli/output.h"
#include "cli/workspace.h"

namespace almanac::cli {
namespace {

std::atomic<bool> g_worker_stop{false};
void OnWorkerStop(int) { g_worker_stop = true; }

Result<int64_t> ParseTaskId(const std::string& text) {
  auto id = ParseInt(text);
  if (!id.ok() || *id <= 0) return InvalidArgumentError("not a task id: '" + text + "' (a positive number, see 'almanac tasks list')");
  return *id;
}

// The result's version (when the run registered one) for listings.
std::string ResultSummary(const store::TaskRecord& t) {
  if (t.result.empty()) return "";
  auto j = ParseJson(t.result);
  if (!j.ok() || !j->is_object()) return t.result;
  std::string out = j->value("run_id", "");
  if (j->contains("version") && (*j)["version"].is_number_integer())
    out += " v" + std::to_string((*j)["version"].get<int64_t>());
  return out;
}

// Changes one task in a transaction after `change` approved it; audits `action` with the reason.
int ChangeTask(const GlobalOptions& g, const std::string& id_text, const std::string& reason, const std::string& action,
               const std::function<Status(store::TaskRecord&)>& change) {
  auto id = ParseTaskId(id_text);
  if (!id.ok()) return ReportError(id.status());
  if (Trim(reason).empty()) return ReportError(InvalidArgumentError("--reason must say why (it goes into the audit log)"));
  auto ws = Workspace::Open(g.workspace);
  if (!ws.ok()) return ReportError(ws.status());
  auto t = (*ws)->store().metadata().Transact<store::TaskRecord>([&](store::MetadataTxn& x) -> Result<store::TaskRecord> {
    ALMANAC_ASSIGN_OR_RETURN(store::TaskRecord task, x.GetTask(*id));
    const std::string before(store::TaskStateName(task.state));
    ALMANAC_RETURN_IF_ERROR(change(task));
    ALMANAC_RETURN_IF_ERROR(x.UpdateTask(task));
    store::AuditEvent ev;
    ev.actor = g.user;
    ev.action = action;
    ev.object_type = "task";
    ev.object_id = std::to_string(task.id);
    ev.details = Json{{"reason", reason}, {"from", before}, {"to", std::string(store::TaskStateName(task.state))}};
    ALMANAC_RETURN_IF_ERROR(x.Audit(ev).status());
    return task;
  });
  if (!t.ok()) return ReportError(t.status());
  PrintRecord(std::cout, {{"task", t->id}, {"name", t->name}, {"state", std::string(store::TaskStateName(t->state))}}, g.format);
  return kExitOk;
}

}  // namespace

int RunSubmit(const GlobalOptions& g, const SubmitArgs& a) {
  if (a.files.empty()) return ReportError(InvalidArgumentError("name at least one pipeline file"));
  auto env = OpenEnv(g, false);
  if (!env.ok()) return ReportError(env.status());
  // Without --key every submit is new work; with it, submitting again is refused (idempotent
  // callers: a CI job id, a schedule's fire time).
  const std::string key = a.key.empty() ? "submit:" + std::to_string(SystemClock().NowMicros()) : a.key;
  // Check every file before queueing any, so a bad file in a batch queues nothing.
  std::vector<std::string> names;
  for (const auto& f : a.files) {
    auto spec = pipeline::LoadPipelineFile(f, (*env)->models);
    if (!spec.ok()) return ReportError(spec.status());
    names.push_back(spec->name);
  }
  Table t{{"task", "pipeline", "file", "state"}, {}};
  for (size_t i = 0; i < a.files.size(); ++i) {
    const std::string& f = a.files[i];
    // A file named twice in one submit is two runs unless the caller gave a key.
    const std::string k = a.key.empty() ? key + ":" + std::to_string(i) : key;
    auto id = pipeline::SubmitPipeline((*env)->ws->store().metadata(), (*env)->models, f, k, g.user, a.max_attempts);
    if (!id.ok()) {
      // What was queued before the failure; nothing (not an empty header) when nothing was.
      if (!t.rows.empty()) Print(std::cout, t, g.format);
      return ReportError(id.status().code() == StatusCode::kAlreadyExists
                             ? AlreadyExistsError(f + " was already submitted with key '" + key + "' (nothing queued for it)")
                             : id.status());
    }
    t.Add({*id, names[i], f, "queued"});
  }
  Print(std::cout, t, g.format);
  return kExitOk;
}

int RunWorkerCommand(const GlobalOptions& g, const WorkerArgs& a) {
  if (a.concurrency < 1 || a.concurrency > 256) return ReportError(InvalidArgumentError("--concurrency must be 1..256"));
  if (!(a.lease_s >= 1)) return ReportError(InvalidArgumentError("--lease-seconds must be at least 1"));
  const double heartbeat_s = a.heartbeat_s > 0 ? a.heartbeat_s : a.lease_s / 3;
  if (heartbeat_s >= a.lease_s) return ReportError(InvalidArgumentError("--heartbeat-seconds must be shorter than the lease"));
  auto env = OpenEnv(g, false);
  if (!env.ok()) return ReportError(env.status());
  store::Store* st = &(*env)->ws->store();
  auto mon = StartProcessMonitoring(g, "almanac-worker", a.metrics, st);
  if (!mon.ok()) return ReportError(mon.status());
  ProcessMonitoring& m = **mon;
  auto anchoring = StartPeriodicAnchoring(g, *st, m.log());
  if (!anchoring.ok()) return ReportError(anchoring.status());
  struct sigaction sa {};
  sa.sa_handler = OnWorkerStop;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  const std::string prefix = std::string(host) + ":" + std::to_string(::getpid()) + ":";
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  pipeline::Environment e = (*env)->env();
  e.threads = a.threads > 0 ? a.threads : std::max(1, static_cast<int>(cores) / a.concurrency);
  m.log().Line("worker " + prefix + "*: " + std::to_string(a.concurrency) + " task(s) at once, " +
               std::to_string(e.threads) + " thread(s) each, lease " + FormatDouble(a.lease_s) + " s");

  std::mutex mu;
  std::vector<store::TaskRecord> done;
  std::vector<Status> errors;
  std::atomic<int> running{a.concurrency};
  std::vector<std::thread> threads;
  for (int i = 0; i < a.concurrency; ++i) {
    threads.emplace_back([&, i] {
      pipeline::WorkerOptions o;
      o.worker_id = prefix + std::to_string(i);
      o.lease_ms = static_cast<int64_t>(a.lease_s * 1000);
      o.heartbeat_ms = std::max<int64_t>(1, static_cast<int64_t>(heartbeat_s * 1000));
      o.retry_base_ms = a.retry_base_ms;
      o.max_tasks = a.max_tasks;
      o.idle_exit_ms = static_cast<int64_t>(a.idle_exit_s * 1000);
      o.poll_ms = a.poll_ms;
      o.stop = [] { return g_worker_stop.load(); };
      if (!g.quiet) o.log = [&m](const std::string& line) { m.log().Line(line); };
      o.on_claim = [&m](const store::TaskRecord& t) { m.pipeline().TaskStarted(t.kind); };
      o.on_task = [&m](const store::TaskRecord& t, std::string_view outcome, double seconds, const pipeline::RunResult* r) {
        m.pipeline().TaskFinished(t.kind, outcome, seconds);
        if (r != nullptr) {
          for (const auto& step : r->steps)
            m.pipeline().StepFinished(t.name, step.step, step.cached ? "cached" : "computed", step.seconds);
          m.pipeline().RunFinished(t.name, "success", seconds, SystemClock().NowMicros());
        } else if (outcome != "lost") {
          m.pipeline().RunFinished(t.name, "failure", seconds, SystemClock().NowMicros());
        }
      };
      auto r = pipeline::RunWorker(e, o);
      std::lock_guard l(mu);
      if (r.ok()) done.insert(done.end(), r->begin(), r->end());
      else errors.push_back(r.status());
      --running;
    });
  }
  // The queue depth for almanac_queue_depth{queue="tasks"}, while the workers run.
  while (running.load() > 0) {
    auto queued = st->metadata().Transact<std::vector<store::TaskRecord>>(
        [](store::MetadataTxn& x) { return x.ListTasks({store::TaskState::kQueued}); });
    if (queued.ok()) m.pipeline().SetQueueDepth("tasks", static_cast<int64_t>(queued->size()));
    for (int k = 0; k < 10 && running.load() > 0; ++k) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (auto& t : threads) t.join();
  if (g.log_format == "json") {  // stdout carries the log lines, which already name every task's outcome
    if (!errors.empty()) return ReportError(errors.front());
    return kExitOk;
  }
  Table t{{"task", "pipeline", "attempt", "state", "result", "error"}, {}};
  std::sort(done.begin(), done.end(), [](const auto& x, const auto& y) { return x.id < y.id; });
  for (const auto& d : done)
    t.Add({d.id, d.name, d.attempts, std::string(store::TaskStateName(d.state)), ResultSummary(d), d.error});
  Print(std::cout, t, g.format);
  if (!errors.empty()) return ReportError(errors.front());
  return kExitOk;
}

int RunTasksList(const GlobalOptions& g, const std::string& state) {
  std::vector<store::TaskState> states;
  if (!state.empty()) {
    auto s = store::ParseTaskState(state);
    if (!s.ok()) return ReportError(s.status());
    states.push_back(*s);
  }
  auto ws = Workspace::Open(g.workspace);
  if (!ws.ok()) return ReportError(ws.status());
  auto tasks = (*ws)->store().metadata().Transact<std::vector<store::TaskRecord>>(
      [&](store::MetadataTxn& x) { return x.ListTasks(states); });
  if (!tasks.ok()) return ReportError(tasks.status());
  Table t{{"task", "kind", "name", "state", "attempts", "created_at", "created_by", "worker", "result", "error"}, {}};
  for (const auto& k : *tasks)
    t.Add({k.id, k.kind, k.name, std::string(store::TaskStateName(k.state)),
           std::to_string(k.attempts) + "/" + std::to_string(k.max_attempts), Ts(k.created_at), k.created_by, k.lease_owner,
           ResultSummary(k), k.error});
  Print(std::cout, t, g.format);
  return kExitOk;
}

int RunTasksShow(const GlobalOptions& g, const std::string& id_text) {
  auto id = ParseTaskId(id_text);
  if (!id.ok()) return ReportError(id.status());
  auto ws = Workspace::Open(g.workspace);
  if (!ws.ok()) return ReportError(ws.status());
  auto t = (*ws)->store().metadata().Transact<store::TaskRecord>([&](store::MetadataTxn& x) { return x.GetTask(*id); });
  if (!t.ok()) return ReportError(t.status());
  Json result = t->result.empty() ? Json() : ParseJson(t->result).value_or(Json(t->result));
  std::string file;
  if (auto p = ParseJson(t->payload); p.ok() && p->is_object()) file = p->value("file", "");
  PrintRecord(std::cout,
              {{"task", t->id},
               {"kind", t->kind},
               {"name", t->name},
               {"file", file},
               {"state", std::string(store::TaskStateName(t->state))},
               {"attempts", t->attempts},
               {"max_attempts", t->max_attempts},
               {"not_before", Ts(t->not_before)},
               {"worker", t->lease_owner},
               {"lease_expires_at", Ts(t->lease_expires_at)},
               {"created_at", Ts(t->created_at)},
               {"created_by", t->created_by},
               {"started_at", Ts(t->started_at)},
               {"finished_at", Ts(t->finished_at)},
               {"dedupe_key", t->dedupe_key},
               {"result", result},
               {"error", t->error}},
              g.format);
  return kExitOk;
}

int RunTasksRetry(const GlobalOptions& g, const std::string& id, const std::string& reason) {
  return ChangeTask(g, id, reason, "task.retry", [](store::TaskRecord& t) -> Status {
    if (t.state != store::TaskState::kFailed)
      return FailedPreconditionError("task " + std::to_string(t.id) + " is " + std::string(store::TaskStateName(t.state)) +
                                     "; only failed tasks can be retried");
    t.state = store::TaskState::kQueued;
    t.attempts = 0;
    t.not_before = 0;
    t.finished_at = 0;
    return Status::Ok();
  });
}

int RunTasksCancel(const GlobalOptions& g, const std::string& id, const std::string& reason) {
  return ChangeTask(g, id, reason, "task.cancel", [&](store::TaskRecord& t) -> Status {
    if (t.state != store::TaskState::kQueued)
      return FailedPreconditionError(
          "task " + std::to_string(t.id) + " is " + std::string(store::TaskStateName(t.state)) +
          (t.state == store::TaskState::kRunning ? " on " + t.lease_owner + "; stop that worker (SIGTERM lets it finish)"
                                                 : "; only queued tasks can be cancelled"));
    t.state = store::TaskState::kFailed;
    t.error = "cancelled by " + g.user + ": " + reason;
    t.finished_at = SystemClock().NowMicros();
    return Status::Ok();
  });
}

}  // namespace almanac::cli
