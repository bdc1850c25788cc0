// The scheduler: fires pipelines on their cron schedules with retries and no overlapping runs.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <thread>

#include "almanac/pipeline.h"

namespace almanac::pipeline {
namespace {

// An exclusive, non-blocking lock on lock_dir/<pipeline>.lock (released when destroyed).
class PipelineLock {
 public:
  PipelineLock(const std::string& dir, const std::string& name) {
    if (dir.empty()) {
      held_ = true;
      return;
    }
    fd_ = ::open((dir + "/" + name + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    held_ = fd_ >= 0 && ::flock(fd_, LOCK_EX | LOCK_NB) == 0;
  }
  ~PipelineLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool held() const { return held_; }

 private:
  int fd_ = -1;
  bool held_ = false;
};

}  // namespace

Result<std::vector<ScheduledRun>> RunScheduler(Environment env, const SchedulerOptions& opts) {
  if (env.clock == nullptr) env.clock = &SystemClock();
  const Clock& clock = *env.clock;
  auto log = [&](const std::string& line) {
    if (opts.log) opts.log(line);
  };
  auto sleep_until = [&](int64_t t) {
    if (opts.sleep_until) {
      opts.sleep_until(t);
      return;
    }
    const int64_t now = clock.NowMicros();
    if (t > now) std::this_thread::sleep_for(std::chrono::microseconds(t - now));
  };
  struct Entry {
    PipelineSpec spec;
    int64_t next = 0;
  };
  std::vector<Entry> entries;
  for (const auto& f : opts.pipeline_files) {
    ALMANAC_ASSIGN_OR_RETURN(PipelineSpec spec, LoadPipelineFile(f, *env.models));
    if (!spec.schedule) {
      log("pipeline " + spec.name + " (" + f + ") has no schedule; skipped");
      continue;
    }
    for (const auto& e : entries)
      if (e.spec.name == spec.name) return InvalidArgumentError("two pipeline files are named " + spec.name);
    ALMANAC_ASSIGN_OR_RETURN(int64_t next, spec.schedule->Next(clock.NowMicros()));
    log("pipeline " + spec.name + ": schedule '" + spec.schedule->text() + "', next run at " + FormatTimestamp(next));
    entries.push_back({std::move(spec), next});
  }
  if (entries.empty()) return FailedPreconditionError("no scheduled pipelines (add 'schedule:' to a pipeline file)");
  const int64_t start = clock.NowMicros();
  std::vector<ScheduledRun> history;
  Runner runner(env);
  for (;;) {
    if (opts.max_runs > 0 && static_cast<int>(history.size()) >= opts.max_runs) break;
    Entry* due = &entries[0];
    for (auto& e : entries)
      if (e.next < due->next) due = &e;
    if (opts.run_for_ms > 0 && due->next > start + opts.run_for_ms * 1000) {
      // Stay up until the end (the process serves /metrics meanwhile).
      sleep_until(start + opts.run_for_ms * 1000);
      break;
    }
    sleep_until(due->next);
    if (opts.on_queue) {
      int64_t waiting = 0;
      const int64_t now = clock.NowMicros();
      for (const auto& e : entries) waiting += (&e != due && e.next <= now) ? 1 : 0;
      opts.on_queue(waiting);
    }
    const int64_t began = clock.NowMicros();
    std::optional<RunResult> last_ok;
    ScheduledRun sr;
    sr.pipeline = due->spec.name;
    sr.fired_at = due->next;
    PipelineLock lock(opts.lock ? std::string() : opts.lock_dir, due->spec.name);
    std::unique_ptr<store::StoreLock> store_lock;
    bool held = lock.held();
    if (opts.lock) {
      auto l = opts.lock(due->spec.name);
      held = l.ok();
      if (held) store_lock = std::move(*l);
      else if (l.status().code() != StatusCode::kUnavailable) log("pipeline " + sr.pipeline + ": " + l.status().message());
    }
    bool claimed = true;
    if (held && opts.claim) {
      auto c = opts.claim(due->spec.name, due->next);
      claimed = c.ok() && *c;
      if (!c.ok()) sr.error = "cannot claim the run: " + c.status().message();
      else if (!*c) sr.error = "another scheduler already ran this fire";
    }
    if (!held) {
      sr.skipped = true;
      sr.error = "the previous run of " + due->spec.name + " is still going";
      log("pipeline " + sr.pipeline + ": skipped at " + FormatTimestamp(sr.fired_at) + ": " + sr.error);
    } else if (!claimed) {
      sr.skipped = true;
      log("pipeline " + sr.pipeline + ": skipped at " + FormatTimestamp(sr.fired_at) + ": " + sr.error);
    } else {
      for (int attempt = 0; attempt <= due->spec.max_retries; ++attempt) {
        if (attempt > 0) {
          const int64_t delay = opts.retry_base_ms * 1000 * (int64_t{1} << (attempt - 1));
          log("pipeline " + sr.pipeline + ": retry " + std::to_string(attempt) + " of " +
              std::to_string(due->spec.max_retries) + " in " + FormatFixed(delay / 1e6, 1) + " s");
          sleep_until(clock.NowMicros() + delay);
        }
        ++sr.attempts;
        RunOptions ro;
        ro.user = opts.user;
        auto r = runner.Run(due->spec, ro);
        if (r.ok()) {
          last_ok = *r;
          sr.run_id = r->run_id;
          sr.status = store::RunStatus::kFinished;
          sr.error.clear();
          log("pipeline " + sr.pipeline + ": run " + r->run_id + " finished" + (r->message.empty() ? "" : " (" + r->message + ")"));
          break;
        }
        sr.status = store::RunStatus::kFailed;
        sr.error = r.status().message();
        log("pipeline " + sr.pipeline + ": attempt " + std::to_string(sr.attempts) + " failed: " + sr.error);
      }
    }
    if (opts.on_run) opts.on_run(sr, static_cast<double>(clock.NowMicros() - began) / 1e6, last_ok ? &*last_ok : nullptr);
    history.push_back(sr);
    // Fires missed while the run was going are not made up: the next is after now.
    ALMANAC_ASSIGN_OR_RETURN(due->next, due->spec.schedule->Next(std::max(clock.NowMicros(), sr.fired_at)));
  }
  return history;
}

}  // namespace almanac::pipeline
