// almanac worker: runs pipeline tasks from the store's queue with leases and heartbeats.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "almanac/core/hash.h"
#include "almanac/pipeline.h"
#include "almanac/tracking.h"

namespace almanac::pipeline {

Result<int64_t> SubmitPipeline(store::MetadataStore& metadata, const models::ForecasterRegistry& models,
                               const std::string& path, const std::string& key, const std::string& user, int max_attempts) {
  if (max_attempts < 1) return InvalidArgumentError("max attempts must be at least 1");
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read pipeline file " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  ALMANAC_ASSIGN_OR_RETURN(PipelineSpec spec, ParsePipeline(ss.str(), path, models));
  return SubmitPipelineSpec(metadata, spec, key, user, max_attempts, TaskOverrides{});
}

Result<int64_t> SubmitPipelineSpec(store::MetadataStore& metadata, const PipelineSpec& spec, const std::string& key,
                                   const std::string& user, int max_attempts, const TaskOverrides& overrides) {
  if (max_attempts < 1) return InvalidArgumentError("max attempts must be at least 1");
  const std::string& text = spec.source_bytes;
  Json payload = {{"file", spec.file}, {"yaml", text}};
  if (overrides.as_of) payload["as_of"] = overrides.as_of->ToString();
  if (!overrides.tags.empty()) {
    payload["tags"] = Json::object();
    for (const auto& [k, v] : overrides.tags) payload["tags"][k] = v;
  }
  if (!overrides.publish) payload["publish"] = false;
  store::TaskRecord t;
  t.kind = "pipeline";
  t.name = spec.name;
  t.payload = CompactJson(payload);
  t.dedupe_key = "pipeline:" + Sha256Hex(text) + ":" + key;
  t.max_attempts = max_attempts;
  t.created_by = user;
  return metadata.Transact<int64_t>([&](store::MetadataTxn& x) -> Result<int64_t> {
    t.created_at = x.clock().NowMicros();
    ALMANAC_ASSIGN_OR_RETURN(int64_t id, x.InsertTask(t));
    store::AuditEvent ev;
    ev.actor = user;
    ev.action = "task.submit";
    ev.object_type = "task";
    ev.object_id = std::to_string(id);
    ev.details = Json{{"kind", t.kind}, {"name", t.name}, {"dedupe_key", t.dedupe_key}};
    if (overrides.as_of) ev.details["as_of"] = overrides.as_of->ToString();
    ALMANAC_RETURN_IF_ERROR(x.Audit(ev).status());
    return id;
  });
}

namespace {

// The payload's overrides (SubmitPipelineSpec): as_of, tags, publish. DataLoss when malformed.
Status ApplyOverrides(const Json& payload, PipelineSpec& spec, RunOptions& ro) {
  if (payload.contains("as_of")) {
    if (!payload["as_of"].is_string()) return DataLossError("malformed payload: as_of");
    auto d = Date::Parse(payload["as_of"].get<std::string>());
    if (!d.ok()) return DataLossError("malformed payload: as_of: " + d.status().message());
    spec.as_of = *d;
  }
  if (payload.contains("tags")) {
    if (!payload["tags"].is_object()) return DataLossError("malformed payload: tags");
    for (auto it = payload["tags"].begin(); it != payload["tags"].end(); ++it) {
      if (!it.value().is_string()) return DataLossError("malformed payload: tag " + it.key());
      ro.tags.emplace_back(it.key(), it.value().get<std::string>());
    }
  }
  if (payload.contains("publish")) {
    if (!payload["publish"].is_boolean()) return DataLossError("malformed payload: publish");
    ro.publish = payload["publish"].get<bool>();
  }
  return Status::Ok();
}

// Renews a task's lease every heartbeat_ms until destroyed; `lost` turns true when the task
// is no longer ours (another worker took it over after our lease expired).
class Heartbeat {
 public:
  Heartbeat(store::MetadataStore& md, const Clock& clock, int64_t id, std::string owner, const WorkerOptions& o)
      : md_(md), clock_(clock), id_(id), owner_(std::move(owner)), opts_(o), thread_([this] { Loop(); }) {}
  ~Heartbeat() {
    {
      std::lock_guard l(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  bool lost() const { return lost_; }

 private:
  void Loop() {
    std::unique_lock l(mu_);
    while (!done_) {
      cv_.wait_for(l, std::chrono::milliseconds(opts_.heartbeat_ms), [this] { return done_; });
      if (done_) break;
      Status s = md_.Run([&](store::MetadataTxn& x) -> Status {
        ALMANAC_ASSIGN_OR_RETURN(store::TaskRecord t, x.GetTask(id_));
        if (t.state != store::TaskState::kRunning || t.lease_owner != owner_) {
          lost_ = true;
          return Status::Ok();
        }
        t.lease_expires_at = clock_.NowMicros() + opts_.lease_ms * 1000;
        return x.UpdateTask(t);
      });
      (void)s;  // a failed renewal is retried at the next beat; the lease margin covers it
    }
  }

  store::MetadataStore& md_;
  const Clock& clock_;
  int64_t id_;
  std::string owner_;
  const WorkerOptions& opts_;
  std::atomic<bool> lost_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace

Result<std::vector<store::TaskRecord>> RunWorker(Environment env, const WorkerOptions& o) {
  if (env.clock == nullptr) env.clock = &SystemClock();
  if (env.store == nullptr || env.models == nullptr) return InvalidArgumentError("a worker needs a store and models");
  if (o.worker_id.empty()) return InvalidArgumentError("a worker needs an id");
  if (o.heartbeat_ms <= 0 || o.lease_ms <= o.heartbeat_ms)
    return InvalidArgumentError("the lease must be longer than the heartbeat interval");
  const Clock& clock = *env.clock;
  store::MetadataStore& md = env.store->metadata();
  auto log = [&](const std::string& line) {
    if (o.log) o.log(line);
  };
  std::vector<store::TaskRecord> finished;
  Runner runner(env);
  // Idle time is real time (the store's clock may be a test's fixed clock).
  auto idle_since = std::chrono::steady_clock::now();
  int claim_failures = 0;
  while (!(o.stop && o.stop())) {
    if (o.max_tasks > 0 && static_cast<int>(finished.size()) >= o.max_tasks) break;
    const int64_t now = clock.NowMicros();
    auto claim = md.Transact<std::optional<store::TaskRecord>>([&](store::MetadataTxn& x) {
      return x.ClaimTask(o.worker_id, now, now + o.lease_ms * 1000, {"pipeline"});
    });
    if (!claim.ok()) {
      // The store went away (a restart, a network cut): back off and try again; a worker is a
      // long-running process and should outlive a database restart.
      if (++claim_failures >= o.max_claim_failures) return claim.status().WithContext("claiming a task");
      const int64_t wait_ms = std::min<int64_t>(30000, 500 * (int64_t{1} << std::min(claim_failures - 1, 6)));
      log("claiming a task failed (" + std::to_string(claim_failures) + " in a row): " + claim.status().message() +
          "; retrying in " + std::to_string(wait_ms) + " ms");
      std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
      continue;
    }
    claim_failures = 0;
    std::optional<store::TaskRecord>& claimed = *claim;
    if (!claimed) {
      if (o.idle_exit_ms > 0 && std::chrono::steady_clock::now() - idle_since >= std::chrono::milliseconds(o.idle_exit_ms)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(o.poll_ms));
      continue;
    }
    store::TaskRecord task = std::move(*claimed);
    const std::string tag = "task " + std::to_string(task.id);
    log(tag + " (" + task.name + "): attempt " + std::to_string(task.attempts) + " of " + std::to_string(task.max_attempts) +
        " on " + o.worker_id);
    if (o.on_claim) o.on_claim(task);
    const auto began = std::chrono::steady_clock::now();
    Status outcome;
    std::string result;
    std::optional<RunResult> run;
    bool lost = false;
    {
      Heartbeat hb(md, clock, task.id, o.worker_id, o);
      if (task.attempts > 1) {
        // An earlier attempt's worker died (its lease expired): its run stays "running" unless
        // someone ends it, and it may have been on another host.
        tracking::Tracker tracker(md, *env.artifacts, clock);
        auto killed = tracker.KillRunsTagged("almanac.task", std::to_string(task.id),
                                             "its worker stopped renewing the lease of " + tag + "; the task was re-run",
                                             Json{{"task", task.id}, {"attempt", task.attempts}, {"worker", o.worker_id}});
        if (killed.ok() && *killed > 0) log(tag + ": marked " + std::to_string(*killed) + " run(s) of an earlier attempt as killed");
      }
      auto payload = ParseJson(task.payload);
      if (!payload.ok() || !payload->contains("yaml") || !(*payload)["yaml"].is_string()) {
        outcome = DataLossError(tag + ": malformed payload");
      } else {
        const std::string file = payload->value("file", task.name);
        auto spec = ParsePipeline((*payload)["yaml"].get<std::string>(), file, *env.models);
        RunOptions ro;
        if (spec.ok()) outcome = ApplyOverrides(*payload, *spec, ro);
        if (!spec.ok()) {
          outcome = spec.status();
        } else if (outcome.ok()) {
          ro.user = task.created_by;
          ro.tags.insert(ro.tags.begin(), {{"almanac.task", std::to_string(task.id)},
                                           {"almanac.task_attempt", std::to_string(task.attempts)},
                                           {"almanac.worker", o.worker_id}});
          ro.progress = [&](const std::string& line) { log(tag + ": " + line); };
          auto r = runner.Run(*spec, ro);
          if (r.ok()) {
            Json j = {{"run_id", r->run_id}, {"snapshot", r->snapshot_id}, {"message", r->message}};
            if (r->registered) j["version"] = r->registered->version;
            result = CompactJson(j);
            run = std::move(*r);
          } else {
            outcome = r.status();
          }
        }
      }
      lost = hb.lost();
    }
    // Fencing: only the lease owner marks the task; a worker that lost it leaves it alone.
    std::string verdict;
    Result<store::TaskRecord> marked = md.Transact<store::TaskRecord>([&](store::MetadataTxn& x) -> Result<store::TaskRecord> {
      ALMANAC_ASSIGN_OR_RETURN(store::TaskRecord t, x.GetTask(task.id));
      if (t.state != store::TaskState::kRunning || t.lease_owner != o.worker_id)
        return FailedPreconditionError(tag + ": the lease was lost to " + (t.lease_owner.empty() ? "another worker" : t.lease_owner));
      const int64_t end = x.clock().NowMicros();
      t.lease_owner.clear();
      t.lease_expires_at = 0;
      if (outcome.ok()) {
        t.state = store::TaskState::kDone;
        t.finished_at = end;
        t.result = result;
        t.error.clear();
        verdict = "done";
      } else if (t.attempts < t.max_attempts) {
        t.state = store::TaskState::kQueued;
        t.not_before = end + o.retry_base_ms * 1000 * (int64_t{1} << std::min<int64_t>(t.attempts - 1, 20));
        t.error = outcome.message();
        verdict = "retry";
      } else {
        t.state = store::TaskState::kFailed;
        t.finished_at = end;
        t.error = outcome.message();
        verdict = "failed";
      }
      ALMANAC_RETURN_IF_ERROR(x.UpdateTask(t));
      return t;
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    idle_since = std::chrono::steady_clock::now();
    if (!marked.ok()) {
      log(tag + ": " + marked.status().message() + (lost ? " (the heartbeat saw it)" : ""));
      if (o.on_task) o.on_task(task, "lost", seconds, run ? &*run : nullptr);
      continue;
    }
    log(tag + ": " + verdict + (marked->error.empty() ? "" : ": " + marked->error));
    if (o.on_task) o.on_task(*marked, verdict, seconds, run ? &*run : nullptr);
    finished.push_back(*marked);
  }
  return finished;
}

}  // namespace almanac::pipeline
